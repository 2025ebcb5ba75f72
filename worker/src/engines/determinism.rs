//! Everything that makes two runs of one task produce the same numbers.
//!
//! [`enable`] must run before CUDA initialises and before the first tensor operation: it sets
//! `NVIDIA_TF32_OVERRIDE=0` and `CUDA_DEVICE_ORDER=PCI_BUS_ID`, pins libtorch's CPU threads
//! ([`CPU_THREADS`]), then, through the C++ shim in `worker/csrc/determinism.cpp` (tch does not expose these),
//! turns off cuDNN autotuning, turns on deterministic cuDNN and deterministic algorithms
//! (libtorch raises an error rather than run a nondeterministic kernel), turns off TF32 in
//! cuBLAS and cuDNN, and sets float32 matmul precision to full IEEE ("highest"). It leaves off
//! the NaN-filling of new allocations that PyTorch pairs with deterministic algorithms: a
//! debugging aid that changes no result and, measured on an H100, doubled the time of small
//! models (docs/determinism.md).
//!
//! It does not set `CUBLAS_WORKSPACE_CONFIG`: libtorch gives every cuBLAS handle and stream
//! its own fixed workspace (`cublasSetWorkspace`), which NVIDIA documents as equivalent for
//! reproducibility, and libtorch >= 2.11 no longer asks for the variable. Setting it made
//! cuBLAS choose kernels that doubled the image pipeline's time on an H100, whatever the
//! size given; an operator's own value is left alone.
//!
//! Every random draw (initial latents, noise) comes from [`seeded_normal`]: ChaCha20 seeded by
//! the task, Box–Muller with the pure-Rust `libm` (the same bits on every CPU), generated on
//! the CPU and then moved to the device, so the CPU and every GPU start from the same numbers.

use super::{EngineError, Result};
use rand_chacha::{rand_core::RngCore, rand_core::SeedableRng, ChaCha20Rng};
use std::ffi::{c_char, c_int, CStr};
use tch::{Device, Kind, Tensor};

/// libtorch's determinism-related switches (each 0 or 1, as the C++ shim takes them).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeterminismState {
	pub benchmark_cudnn: c_int,
	pub deterministic_cudnn: c_int,
	pub deterministic_algorithms: c_int,
	/// Fill fresh allocations with NaN. PyTorch turns this on with deterministic algorithms
	/// to expose reads of uninitialised memory; it changes no result of an op that writes its
	/// whole output and costs a kernel per allocation, so a worker leaves it off.
	pub fill_uninitialized_memory: c_int,
	pub allow_tf32_cublas: c_int,
	pub allow_tf32_cudnn: c_int,
	pub float32_matmul_ieee: c_int,
}

impl DeterminismState {
	/// What a worker runs with: no autotuning, deterministic kernels only, no TF32.
	pub const DETERMINISTIC: Self = Self {
		benchmark_cudnn: 0,
		deterministic_cudnn: 1,
		deterministic_algorithms: 1,
		fill_uninitialized_memory: 0,
		allow_tf32_cublas: 0,
		allow_tf32_cudnn: 0,
		float32_matmul_ieee: 1,
	};
	/// PyTorch's defaults (TF32 convolutions, any cuDNN algorithm), for measuring what
	/// determinism costs.
	pub const PYTORCH_DEFAULTS: Self = Self {
		benchmark_cudnn: 0,
		deterministic_cudnn: 0,
		deterministic_algorithms: 0,
		fill_uninitialized_memory: 1,
		allow_tf32_cublas: 0,
		allow_tf32_cudnn: 1,
		float32_matmul_ieee: 1,
	};
	/// PyTorch's defaults with TF32 off: full float32 precision, any algorithm. Between the
	/// two above, it separates what precision costs from what deterministic kernels cost.
	pub const PYTORCH_DEFAULTS_WITHOUT_TF32: Self = Self { allow_tf32_cudnn: 0, ..Self::PYTORCH_DEFAULTS };

	/// Whether every switch is in its deterministic position.
	pub fn is_deterministic(&self) -> bool {
		*self == Self::DETERMINISTIC
	}
}

extern "C" {
	fn replica_apply_determinism(wanted: *const DeterminismState, error: *mut c_char, error_len: usize) -> c_int;
	fn replica_determinism_state(out: *mut DeterminismState);
}

/// The environment CUDA reads when it initialises: no TF32, whatever the libraries ask for;
/// devices numbered in PCI bus order, as NVML numbers them, so `cuda:N` and the GPU the
/// profile describes are the same card.
pub const CUDA_ENV: [(&str, &str); 2] = [("NVIDIA_TF32_OVERRIDE", "0"), ("CUDA_DEVICE_ORDER", "PCI_BUS_ID")];

/// libtorch's CPU threads for one operation. A CPU kernel that splits a reduction (a matrix
/// product, a sum) among threads adds the parts in an order that depends on how many there
/// are, so the thread count decides the bits of a CPU result; the worker pins it and declares
/// it in its CPU profile. One thread: the same on every machine, and no spinning threads
/// fighting over cores when several workers share a machine.
pub const CPU_THREADS: i32 = 1;

/// Sets libtorch's switches to `wanted` (CUDA's environment is [`enable`]'s business).
pub fn apply(wanted: DeterminismState) -> Result<()> {
	let mut error = [0 as c_char; 512];
	// SAFETY: the shim reads `wanted`, writes at most `error.len()` bytes, NUL-terminated, and
	// catches every C++ exception.
	let status = unsafe { replica_apply_determinism(&wanted, error.as_mut_ptr(), error.len()) };
	if status == 0 {
		return Ok(());
	}
	// SAFETY: NUL-terminated by the shim (or all zeros).
	let message = unsafe { CStr::from_ptr(error.as_ptr()) }.to_string_lossy().into_owned();
	Err(EngineError::Device { requested: "determinism".into(), reason: message })
}

/// Turns every determinism switch on (see the module docs). Call it first thing, before any
/// thread is started: it sets environment variables.
pub fn enable() -> Result<()> {
	for (key, value) in CUDA_ENV {
		std::env::set_var(key, value);
	}
	tch::set_num_threads(CPU_THREADS);
	apply(DeterminismState::DETERMINISTIC)
}

/// Fails unless [`enable`] ran: every switch deterministic and CUDA's environment set. The
/// daemon checks this before it executes anything, so a caller that forgot [`enable`] cannot
/// commit results that differ from its profile group's.
pub fn ensure_enabled() -> Result<()> {
	let switches = state();
	let env_set = CUDA_ENV.iter().all(|(key, value)| std::env::var(key).is_ok_and(|v| v == *value));
	let threads = tch::get_num_threads();
	if switches.is_deterministic() && env_set && threads == CPU_THREADS {
		return Ok(());
	}
	Err(EngineError::Device {
		requested: "determinism".into(),
		reason: format!(
			"determinism is not enabled (switches {switches:?}, CUDA environment set: {env_set}, CPU threads {threads} \
			 instead of {CPU_THREADS}); call determinism::enable() before any thread starts"
		),
	})
}

/// The switches as libtorch has them now.
pub fn state() -> DeterminismState {
	let mut state = DeterminismState::default();
	// SAFETY: the shim only writes the struct it is given.
	unsafe { replica_determinism_state(&mut state) };
	state
}

/// The 32-byte ChaCha20 seed of a task seed and a purpose ("latents", …).
pub fn seed_bytes(seed: u64, purpose: &str) -> [u8; 32] {
	let mut input = Vec::with_capacity(8 + purpose.len());
	input.extend_from_slice(&seed.to_le_bytes());
	input.extend_from_slice(purpose.as_bytes());
	sp_crypto_hashing::blake2_256(&input)
}

/// `count` standard-normal `f32`s from ChaCha20 (Box–Muller on 53-bit uniforms, `libm`).
pub fn normal_values(seed: [u8; 32], count: usize) -> Vec<f32> {
	let mut rng = ChaCha20Rng::from_seed(seed);
	let mut uniform = || {
		// (0, 1]: never 0, so the logarithm is finite.
		((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
	};
	let mut out = Vec::with_capacity(count + 1);
	while out.len() < count {
		let (u1, u2) = (uniform(), uniform());
		let radius = libm::sqrt(-2.0 * libm::log(u1));
		let angle = 2.0 * core::f64::consts::PI * u2;
		out.push((radius * libm::cos(angle)) as f32);
		out.push((radius * libm::sin(angle)) as f32);
	}
	out.truncate(count);
	out
}

/// A tensor of `shape` of standard-normal noise from `seed`, made on the CPU, then moved to
/// `device` and cast to `kind`.
pub fn seeded_normal(seed: [u8; 32], shape: &[i64], kind: Kind, device: Device) -> Tensor {
	let count = shape.iter().product::<i64>().max(0) as usize;
	Tensor::from_slice(&normal_values(seed, count)).reshape(shape).to_kind(kind).to_device(device)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn noise_is_reproducible_and_standard_normal() {
		let seed = seed_bytes(42, "latents");
		let a = normal_values(seed, 100_001);
		assert_eq!(a, normal_values(seed, 100_001));
		assert_ne!(a[..16], normal_values(seed_bytes(43, "latents"), 16)[..]);
		let mean = a.iter().map(|&x| x as f64).sum::<f64>() / a.len() as f64;
		let var = a.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / a.len() as f64;
		assert!(mean.abs() < 0.01, "mean {mean}");
		assert!((var - 1.0).abs() < 0.02, "variance {var}");
		// Golden values, computed independently (pycryptodome's ChaCha20 keystream, glibc's
		// log/cos/sin): the same bits on every CPU.
		let first: Vec<u32> = a[..4].iter().map(|x| x.to_bits()).collect();
		assert_eq!(first, [0xbf5cce59, 0xbf9ca451, 0x3e486e63, 0x3fb95bb3]);
	}

	#[test]
	fn the_shim_turns_determinism_on_and_off() {
		enable().unwrap();
		assert!(state().is_deterministic(), "{:?}", state());
		assert_eq!(std::env::var("NVIDIA_TF32_OVERRIDE").unwrap(), "0");
		ensure_enabled().unwrap();
		apply(DeterminismState::PYTORCH_DEFAULTS).unwrap();
		assert_eq!(state(), DeterminismState::PYTORCH_DEFAULTS);
		assert!(ensure_enabled().is_err(), "a switch off is caught");
		enable().unwrap();
		assert!(state().is_deterministic());
		assert_eq!(tch::get_num_threads(), CPU_THREADS);
		// Why the count is pinned: libtorch adds a long sum up in one part per thread, so the
		// last bits depend on the count (for these values, at four threads).
		let values = seeded_normal(seed_bytes(1, "threads"), &[1 << 22], Kind::Float, Device::Cpu);
		let pinned = values.sum(Kind::Float);
		let differs = (CPU_THREADS + 1..=4).filter(|&threads| {
			tch::set_num_threads(threads);
			!pinned.equal(&values.sum(Kind::Float))
		});
		assert!(differs.count() > 0, "some other thread count changes the sum's bits");
		assert!(ensure_enabled().is_err(), "another thread count is caught");
		enable().unwrap();
		ensure_enabled().unwrap();
		assert!(pinned.equal(&values.sum(Kind::Float)));
	}

	#[test]
	fn seeded_tensors_match_their_values() {
		let seed = seed_bytes(7, "x");
		let t = seeded_normal(seed, &[2, 3, 4], Kind::Float, Device::Cpu);
		assert_eq!(t.size(), [2, 3, 4]);
		let values = Vec::<f32>::try_from(t.flatten(0, -1)).unwrap();
		assert_eq!(values, normal_values(seed, 24));
	}
}
