//! Where the engines run, and the execution profile the chain groups workers by.

use super::{EngineError, Result};
use replica_primitives::{Dtype, ExecutionProfile};
use std::str::FromStr;
use tch::Device;

/// `--device`: `auto` (the first CUDA device if there is one, else the CPU), `cpu`, `cuda`
/// (= `cuda:0`) or `cuda:N`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
	#[default]
	Auto,
	Cpu,
	Cuda(usize),
}

impl FromStr for DeviceChoice {
	type Err = String;
	fn from_str(s: &str) -> core::result::Result<Self, String> {
		match s {
			"auto" => Ok(Self::Auto),
			"cpu" => Ok(Self::Cpu),
			"cuda" => Ok(Self::Cuda(0)),
			other => other
				.strip_prefix("cuda:")
				.and_then(|n| n.parse().ok())
				.map(Self::Cuda)
				.ok_or_else(|| format!("`{other}` is not a device: use auto, cpu, cuda or cuda:N")),
		}
	}
}

impl std::fmt::Display for DeviceChoice {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::Auto => write!(f, "auto"),
			Self::Cpu => write!(f, "cpu"),
			Self::Cuda(n) => write!(f, "cuda:{n}"),
		}
	}
}

impl DeviceChoice {
	/// The device to run on; an error for a CUDA device this machine does not have.
	pub fn resolve(self) -> Result<Device> {
		match self {
			Self::Auto if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
			Self::Auto | Self::Cpu => Ok(Device::Cpu),
			Self::Cuda(n) => {
				let count = if tch::Cuda::is_available() { tch::Cuda::device_count() as usize } else { 0 };
				if n < count {
					Ok(Device::Cuda(n))
				} else {
					Err(EngineError::Device {
						requested: self.to_string(),
						reason: format!("this machine has {count} CUDA device(s)"),
					})
				}
			},
		}
	}
}

/// The libtorch the worker was built against (from torch's `version.py`).
pub const LIBTORCH_VERSION: &str = env!("REPLICA_LIBTORCH_VERSION");
/// The CUDA version that libtorch was built for; empty for a CPU-only build.
pub const LIBTORCH_CUDA: &str = env!("REPLICA_LIBTORCH_CUDA");

/// The execution profile of `device` running models in `dtype`: for a CUDA device the GPU's
/// name and compute capability, memory and driver from NVML, and the CUDA libtorch was built
/// for; for the CPU, its instruction-set level (the kernels libtorch picks, and so the bits,
/// follow it), the pinned thread count and the system memory. The libtorch version names its
/// build, and with it the BLAS and cuDNN it bundles. Memory is declared but is not part of
/// the profile's identity (`profile_id`).
pub fn detect_profile(device: Device, dtype: Dtype) -> Result<ExecutionProfile> {
	let (gpu_model, vram_mib, driver, cuda) = match device {
		Device::Cuda(n) => {
			let (name, mib, driver) = nvml_identity(n)?;
			(name, mib, driver, LIBTORCH_CUDA.to_string())
		},
		_ => (cpu_model(), system_memory_mib(), String::new(), String::new()),
	};
	let field = |s: String| s.into_bytes().try_into().unwrap_or_default();
	let profile = ExecutionProfile {
		gpu_model: field(gpu_model),
		vram_mib,
		driver: field(driver),
		cuda: field(cuda),
		libtorch: field(LIBTORCH_VERSION.to_string()),
		dtype,
		worker_version: field(env!("CARGO_PKG_VERSION").to_string()),
	};
	profile
		.validate()
		.map_err(|e| EngineError::Device { requested: format!("{device:?}"), reason: format!("{e:?}") })?;
	Ok(profile)
}

/// The GPU libtorch calls `cuda:index`, as NVML describes it: its name and compute capability
/// (which kernels run), total memory, and the driver's version. CUDA numbers only the devices
/// `CUDA_VISIBLE_DEVICES` lets it see, in PCI bus order (`CUDA_DEVICE_ORDER`, set by
/// `determinism::enable`), so the index is translated before NVML, which sees them all.
fn nvml_identity(index: usize) -> Result<(String, u32, String)> {
	let failed = |reason: String| EngineError::Device { requested: format!("cuda:{index}"), reason };
	let visible = std::env::var("CUDA_VISIBLE_DEVICES").ok();
	let nvml = nvml_wrapper::Nvml::init().map_err(|e| failed(format!("NVML (libnvidia-ml): {e}")))?;
	let device = match visible_device(index, visible.as_deref()).map_err(failed)? {
		VisibleDevice::Index(physical) => nvml.device_by_index(physical),
		VisibleDevice::Uuid(uuid) => nvml.device_by_uuid(uuid),
	}
	.map_err(|e| failed(format!("NVML has no such device (CUDA_VISIBLE_DEVICES={visible:?}): {e}")))?;
	let nvml_error = |what: &str, e: nvml_wrapper::error::NvmlError| failed(format!("NVML {what}: {e}"));
	let name = device.name().map_err(|e| nvml_error("name", e))?;
	let capability = device.cuda_compute_capability().map_err(|e| nvml_error("compute capability", e))?;
	let mib = device.memory_info().map_err(|e| nvml_error("memory", e))?.total / (1 << 20);
	let driver = nvml.sys_driver_version().map_err(|e| nvml_error("driver version", e))?;
	Ok((format!("{name}, sm_{}{}", capability.major, capability.minor), u32::try_from(mib).unwrap_or(u32::MAX), driver))
}

/// A CUDA device as NVML finds it.
#[derive(Debug, PartialEq, Eq)]
enum VisibleDevice<'a> {
	/// NVML's index (PCI bus order).
	Index(u32),
	/// A `GPU-…` or `MIG-…` UUID.
	Uuid(&'a str),
}

/// Which device CUDA's `index` is under `CUDA_VISIBLE_DEVICES` (`None`: every device). As CUDA
/// reads it: comma-separated indices or UUIDs, and an entry it cannot read ends the list.
fn visible_device(index: usize, visible: Option<&str>) -> std::result::Result<VisibleDevice<'_>, String> {
	let Some(visible) = visible else {
		return u32::try_from(index).map(VisibleDevice::Index).map_err(|_| format!("no CUDA device {index}"));
	};
	let mut seen = 0;
	for entry in visible.split(',').map(str::trim) {
		let device = if let Ok(physical) = entry.parse::<u32>() {
			VisibleDevice::Index(physical)
		} else if entry.starts_with("GPU-") || entry.starts_with("MIG-") {
			VisibleDevice::Uuid(entry)
		} else {
			break;
		};
		if seen == index {
			return Ok(device);
		}
		seen += 1;
	}
	Err(format!("CUDA_VISIBLE_DEVICES={visible:?} makes {seen} device(s) visible; there is no cuda:{index}"))
}

/// What decides a CPU result's bits besides libtorch: the instruction set level its kernels
/// dispatch on and the pinned thread count.
fn cpu_model() -> String {
	let threads = super::determinism::CPU_THREADS;
	format!("cpu {}, {threads} thread{}", cpu_isa_level(), if threads == 1 { "" } else { "s" })
}

/// The x86-64 micro-architecture level (`x86-64-v4`: AVX-512; `-v3`: AVX2 and FMA; `-v2`:
/// SSE4.2; else `x86-64`), or the architecture's name elsewhere. libtorch dispatches its CPU
/// kernels on these features, so machines of one level compute alike and others may not.
pub fn cpu_isa_level() -> &'static str {
	#[cfg(target_arch = "x86_64")]
	{
		use std::arch::is_x86_feature_detected as has;
		if has!("avx512f") && has!("avx512bw") && has!("avx512cd") && has!("avx512dq") && has!("avx512vl") {
			return "x86-64-v4";
		}
		if has!("avx2") && has!("fma") && has!("bmi1") && has!("bmi2") && has!("f16c") && has!("lzcnt") && has!("movbe") {
			return "x86-64-v3";
		}
		if has!("sse4.2") && has!("popcnt") && has!("ssse3") && has!("cmpxchg16b") {
			return "x86-64-v2";
		}
		"x86-64"
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		std::env::consts::ARCH
	}
}

fn system_memory_mib() -> u32 {
	std::fs::read_to_string("/proc/meminfo")
		.ok()
		.and_then(|info| {
			let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
			let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
			Some((kib / 1024) as u32)
		})
		.unwrap_or(1)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn device_flags_parse_and_print() {
		for (text, choice) in [("auto", DeviceChoice::Auto), ("cpu", DeviceChoice::Cpu), ("cuda:1", DeviceChoice::Cuda(1))] {
			assert_eq!(text.parse::<DeviceChoice>().unwrap(), choice);
			assert_eq!(choice.to_string(), text);
		}
		assert_eq!("cuda".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cuda(0));
		assert!("gpu".parse::<DeviceChoice>().unwrap_err().contains("not a device"));
		assert_eq!(DeviceChoice::Cpu.resolve().unwrap(), Device::Cpu);
		assert!(matches!(DeviceChoice::Cuda(99).resolve(), Err(EngineError::Device { .. })));
	}

	#[test]
	fn a_cpu_profile_names_the_instruction_set_not_the_memory() {
		let profile = detect_profile(Device::Cpu, Dtype::F32).unwrap();
		let name = String::from_utf8(profile.gpu_model.to_vec()).unwrap();
		assert_eq!(name, format!("cpu {}, 1 thread", cpu_isa_level()));
		let mut other_machine = profile.clone();
		other_machine.vram_mib += 1024;
		assert_eq!(profile.profile_id(), other_machine.profile_id(), "same CPU level, other memory: one group");
	}

	#[test]
	fn cuda_indices_follow_cuda_visible_devices() {
		use VisibleDevice::{Index, Uuid};
		assert_eq!(visible_device(1, None), Ok(Index(1)));
		assert_eq!(visible_device(0, Some("2,0")), Ok(Index(2)));
		assert_eq!(visible_device(1, Some("2, 0")), Ok(Index(0)));
		let uuid = "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6";
		assert_eq!(visible_device(0, Some(uuid)), Ok(Uuid(uuid)));
		assert_eq!(visible_device(1, Some(&format!("3,{uuid}"))), Ok(Uuid(uuid)));
		assert_eq!(visible_device(0, Some("MIG-1a2b")), Ok(Uuid("MIG-1a2b")));
		// CUDA stops at the first entry it cannot read; an empty list hides every device.
		assert!(visible_device(1, Some("1,x,2")).unwrap_err().contains("1 device(s) visible"));
		assert!(visible_device(0, Some("")).is_err());
		assert!(visible_device(2, Some("0,1")).is_err());
	}

	#[test]
	fn the_cpu_profile_names_libtorch_and_the_worker() {
		let profile = detect_profile(Device::Cpu, Dtype::F32).unwrap();
		assert!(profile.gpu_model.starts_with(b"cpu "));
		assert!(profile.vram_mib > 0);
		assert_eq!(&profile.libtorch[..], LIBTORCH_VERSION.as_bytes());
		assert!(LIBTORCH_VERSION.starts_with("2."), "{LIBTORCH_VERSION}");
	}
}
