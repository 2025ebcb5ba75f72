//! The doctors: `doctor` and `doctor-image` check determinism on this machine (repeated runs on
//! the CPU and on CUDA, their agreement and timings, and what determinism costs on CUDA).

use crate::TextArgs;
use anyhow::Context;
use replica_primitives::{HashAlg, HashAlgs};
use replica_worker::{
	engines::{
		determinism::{self, DeterminismState},
		device::{detect_profile, DeviceChoice},
		image::{ImageEngine, ImageRequest},
		text::TextEngine,
	},
	hashing::ImageHasher,
};
use std::{path::PathBuf, time::Instant};

/// `doctor-image`'s task and devices.
#[derive(clap::Args, Debug)]
pub struct DoctorImageArgs {
	/// Model directory (diffusers layout); by default the embedded digits model.
	#[arg(long, env = "REPLICA_IMAGE_MODEL_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits-sd"))]
	pub model_dir: PathBuf,
	/// The prompt.
	#[arg(long, default_value = "a photo of the digit 7")]
	pub prompt: String,
	/// The task seed.
	#[arg(long, default_value_t = 0)]
	pub seed: u64,
	/// DDIM steps.
	#[arg(long, default_value_t = 30)]
	pub steps: usize,
	/// Classifier-free guidance scale.
	#[arg(long, default_value_t = 4.0)]
	pub guidance: f64,
	/// Image width in pixels; default: the size the model was trained at.
	#[arg(long)]
	pub width: Option<u32>,
	/// Image height in pixels; default: the size the model was trained at.
	#[arg(long)]
	pub height: Option<u32>,
	/// How many runs per device; the first run warms up, so timings are the median of the
	/// others.
	#[arg(long, default_value_t = 3)]
	pub runs: u32,
	/// How many runs on the CPU (default: --runs; 0 skips the CPU).
	#[arg(long)]
	pub cpu_runs: Option<u32>,
	/// Where to run besides the CPU: auto (a CUDA device if any), cpu, cuda or cuda:N.
	#[arg(long, env = "REPLICA_DEVICE", default_value = "auto")]
	pub device: DeviceChoice,
	/// deterministic: the switches a worker runs with. pytorch-defaults: PyTorch's defaults
	/// (TF32 convolutions, any cuDNN algorithm); pytorch-defaults-without-tf32: the same in
	/// full float32 precision. The other two run on CUDA only and measure what determinism
	/// costs; the deterministic doctor runs them itself, each in a fresh process.
	#[arg(long, value_enum, default_value_t = Settings::Deterministic)]
	pub settings: Settings,
	/// Do not time PyTorch's default settings on CUDA.
	#[arg(long)]
	pub skip_defaults: bool,
}

/// Which libtorch settings `doctor-image` runs with.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settings {
	Deterministic,
	PytorchDefaults,
	PytorchDefaultsWithoutTf32,
}

pub fn text(args: TextArgs, runs: u32) -> anyhow::Result<()> {
	println!("libtorch {}, determinism switches {:?}", replica_worker::engines::device::LIBTORCH_VERSION, determinism::state());
	let mut devices = vec![tch::Device::Cpu];
	if let Some(cuda) = cuda_to_check(args.device)? {
		devices.push(cuda);
	}
	let mut reference: Option<(tch::Device, Vec<u32>)> = None;
	for device in devices {
		let profile = detect_profile(device, replica_primitives::Dtype::F32)?;
		println!("{device:?}: {}", String::from_utf8_lossy(&profile.gpu_model));
		let engine = TextEngine::load(&args.model_dir, device)?;
		let mut first: Option<Vec<u32>> = None;
		for run in 1..=runs {
			let started = Instant::now();
			let output = engine.generate(&args.prompt, args.max_tokens, args.decoding())?;
			let same = first.get_or_insert_with(|| output.token_ids.clone()) == &output.token_ids;
			println!(
				"  run {run}: {} tokens in {:.3} s, {}",
				output.token_ids.len(),
				started.elapsed().as_secs_f64(),
				if same { "identical to run 1" } else { "DIFFERENT from run 1" }
			);
		}
		let tokens = first.unwrap_or_default();
		match &reference {
			None => reference = Some((device, tokens)),
			Some((other, expected)) => println!(
				"  {device:?} vs {other:?}: {}",
				if *expected == tokens { "identical tokens" } else { "different tokens (profiles differ: not compared on chain)" }
			),
		}
	}
	Ok(())
}

pub fn image(args: DoctorImageArgs) -> anyhow::Result<()> {
	match args.settings {
		// Switched on by `main`, before any thread started.
		Settings::Deterministic => {},
		Settings::PytorchDefaults => determinism::apply(DeterminismState::PYTORCH_DEFAULTS)?,
		Settings::PytorchDefaultsWithoutTf32 => determinism::apply(DeterminismState::PYTORCH_DEFAULTS_WITHOUT_TF32)?,
	}
	println!("libtorch {}, determinism switches {:?}", replica_worker::engines::device::LIBTORCH_VERSION, determinism::state());
	let mut devices = Vec::new();
	let cpu_runs = match args.settings {
		Settings::Deterministic => args.cpu_runs.unwrap_or(args.runs),
		Settings::PytorchDefaults | Settings::PytorchDefaultsWithoutTf32 => 0,
	};
	if cpu_runs > 0 {
		devices.push((tch::Device::Cpu, cpu_runs));
	}
	if let Some(cuda) = cuda_to_check(args.device)? {
		devices.push((cuda, args.runs));
	}
	let hasher = ImageHasher::new();
	let mut cpu_first: Option<replica_primitives::ImageHashes> = None;
	for (device, runs) in devices {
		let profile = detect_profile(device, replica_primitives::Dtype::F32)?;
		let started = Instant::now();
		let engine = ImageEngine::load(&args.model_dir, device)?;
		let (width, height) =
			(args.width.unwrap_or(engine.native_size()), args.height.unwrap_or(engine.native_size()));
		let request = ImageRequest {
			prompt: args.prompt.clone(),
			negative_prompt: String::new(),
			seed: args.seed,
			steps: args.steps,
			guidance: args.guidance,
			width,
			height,
			count: 1,
		};
		println!(
			"{device:?} ({}): {width}x{height}, {} steps, guidance {}, model loaded in {:.2} s",
			String::from_utf8_lossy(&profile.gpu_model),
			args.steps,
			args.guidance,
			started.elapsed().as_secs_f64()
		);
		let mut first = None;
		let mut times = Vec::new();
		for run in 1..=runs {
			let started = Instant::now();
			let image = engine.generate(&request)?.remove(0);
			times.push(started.elapsed().as_secs_f64());
			let hashes = hasher.hash(&image, HashAlgs::ALL)?;
			let first = *first.get_or_insert(hashes);
			let mut line = format!("  run {run}: {:.3} s, to run 1 {}", times[times.len() - 1], compare(&first, &hashes));
			if device.is_cuda() {
				if let Some(cpu) = &cpu_first {
					line.push_str(&format!("; to the CPU's run 1 {}", compare(cpu, &hashes)));
				}
			}
			if run == 1 {
				let (mean, std) = pixel_stats(&image);
				let hex: Vec<String> =
					HashAlg::ALL.iter().map(|alg| format!("{:016x}", hashes.get(*alg).unwrap_or_default())).collect();
				line.push_str(&format!("; pixels mean {mean:.1} std {std:.1}; hashes {}", hex.join(" ")));
			}
			println!("{line}");
		}
		if device == tch::Device::Cpu {
			cpu_first = first;
		}
		let median = median_after_warm_up(&times);
		println!("  median time per image: {median:.3} s");
		if let tch::Device::Cuda(index) = device {
			if args.settings == Settings::Deterministic && !args.skip_defaults {
				for settings in [Settings::PytorchDefaults, Settings::PytorchDefaultsWithoutTf32] {
					let name = clap::ValueEnum::to_possible_value(&settings).expect("no variant is skipped");
					let other = time_in_fresh_process(&args, name.get_name(), index, width, height)?;
					println!(
						"  {settings:?} (fresh process): median {other:.3} s per image; determinism costs {:+.1}%",
						(median / other - 1.0) * 100.0
					);
				}
			}
		}
	}
	Ok(())
}

/// The CUDA device a doctor checks besides the CPU: with `auto` the first one if there is one;
/// a CUDA device asked for by name must exist.
fn cuda_to_check(choice: DeviceChoice) -> anyhow::Result<Option<tch::Device>> {
	Ok(match choice {
		DeviceChoice::Cpu => None,
		DeviceChoice::Auto => Some(choice.resolve()?).filter(|device| device.is_cuda()),
		DeviceChoice::Cuda(_) => Some(choice.resolve()?),
	})
}

/// Hamming distances (aHash, pHash, dHash, colour) of `hashes` to `reference`, and whether they
/// agree at tolerance 0, 1 and 2.
fn compare(reference: &replica_primitives::ImageHashes, hashes: &replica_primitives::ImageHashes) -> String {
	let distances: Vec<u32> = HashAlg::ALL
		.iter()
		.map(|alg| replica_primitives::hamming(reference.get(*alg).unwrap_or_default(), hashes.get(*alg).unwrap_or_default()))
		.collect();
	let worst = distances.iter().copied().max().unwrap_or_default();
	let agree: Vec<String> = (0..=2).map(|t| format!("t={t} {}", if worst <= t { "agree" } else { "DISAGREE" })).collect();
	format!("{distances:?} ({})", agree.join(", "))
}

/// Mean and standard deviation of every channel value: a saturated or flat image would make a
/// determinism check meaningless.
fn pixel_stats(image: &image::RgbImage) -> (f64, f64) {
	let values = image.as_raw();
	let n = values.len().max(1) as f64;
	let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
	let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
	(mean, var.sqrt())
}

/// The median of every run but the first (which warms up kernels and caches).
fn median_after_warm_up(times: &[f64]) -> f64 {
	let mut timed: Vec<f64> = times.iter().skip(usize::from(times.len() > 1)).copied().collect();
	timed.sort_by(f64::total_cmp);
	timed.get(timed.len() / 2).copied().unwrap_or_default()
}

/// Runs this doctor again with `settings` on CUDA device `index`, in a fresh process without
/// `NVIDIA_TF32_OVERRIDE` (CUDA reads it once, when it starts), and returns its median time
/// per image.
fn time_in_fresh_process(args: &DoctorImageArgs, settings: &str, index: usize, width: u32, height: u32) -> anyhow::Result<f64> {
	let exe = std::env::current_exe().context("finding this executable")?;
	let output = std::process::Command::new(exe)
		.arg("doctor-image")
		.arg("--model-dir")
		.arg(&args.model_dir)
		.args(["--prompt", &args.prompt])
		.args(["--seed", &args.seed.to_string(), "--steps", &args.steps.to_string()])
		.args(["--guidance", &args.guidance.to_string(), "--runs", &args.runs.to_string()])
		.args(["--width", &width.to_string(), "--height", &height.to_string()])
		.args(["--device", &format!("cuda:{index}"), "--settings", settings])
		.env_remove("NVIDIA_TF32_OVERRIDE")
		.output()
		.with_context(|| format!("running doctor-image --settings {settings}"))?;
	let stdout = String::from_utf8_lossy(&output.stdout);
	for line in stdout.lines() {
		println!("  | {line}");
	}
	anyhow::ensure!(
		output.status.success(),
		"doctor-image --settings {settings} failed: {}",
		String::from_utf8_lossy(&output.stderr).trim()
	);
	stdout
		.lines()
		.find_map(|line| line.trim().strip_prefix("median time per image: ")?.strip_suffix(" s")?.parse().ok())
		.with_context(|| format!("doctor-image --settings {settings} printed no median time"))
}
