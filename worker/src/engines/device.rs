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

/// The execution profile of `device` running models in `dtype`: GPU name, memory and driver
/// from `nvidia-smi` for a CUDA device; `cpu`, its instruction-set level (the kernels libtorch
/// picks, and so the bits, follow it) and the system memory otherwise.
pub fn detect_profile(device: Device, dtype: Dtype) -> Result<ExecutionProfile> {
	let (gpu_model, vram_mib, driver, cuda) = match device {
		Device::Cuda(n) => {
			let (name, mib, driver) = nvidia_smi(n)?;
			(name, mib, driver, LIBTORCH_CUDA.to_string())
		},
		_ => (format!("cpu {}", cpu_isa_level()), system_memory_mib(), String::new(), String::new()),
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

fn nvidia_smi(index: usize) -> Result<(String, u32, String)> {
	let failed = |reason: String| EngineError::Device { requested: format!("cuda:{index}"), reason };
	let output = std::process::Command::new("nvidia-smi")
		.args(["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits", "-i"])
		.arg(index.to_string())
		.output()
		.map_err(|e| failed(format!("nvidia-smi: {e}")))?;
	let text = String::from_utf8_lossy(&output.stdout);
	let fields: Vec<&str> = text.trim().split(", ").collect();
	match fields.as_slice() {
		[name, mib, driver] => Ok((
			name.to_string(),
			mib.parse().map_err(|_| failed(format!("nvidia-smi printed `{text}`")))?,
			driver.to_string(),
		)),
		_ => Err(failed(format!("nvidia-smi printed `{text}`"))),
	}
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
		assert_eq!(name, format!("cpu {}", cpu_isa_level()));
		let mut other_machine = profile.clone();
		other_machine.vram_mib += 1024;
		assert_eq!(profile.profile_id(), other_machine.profile_id(), "same CPU level, other memory: one group");
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
