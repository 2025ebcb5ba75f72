//! `replica-worker`: Replica's off-chain GPU worker.

use anyhow::Context;
use clap::Parser;
use replica_primitives::{HashAlg, HashAlgs};
use replica_worker::{
	engines::{
		determinism,
		device::{detect_profile, DeviceChoice},
		image::{png, ImageEngine, ImageRequest},
		text::{Decoding, TextEngine},
	},
	hashing::ImageHasher,
};
use std::{path::PathBuf, time::Instant};

/// Replica's off-chain GPU worker. Runs deterministic inference (libtorch) for Replica tasks,
/// hashes generated images exactly as the chain compares them, and talks to a Replica node.
/// (The daemon that follows the chain, commits and reveals lands with the worker issue.)
#[derive(Parser, Debug)]
#[command(name = "replica-worker", version)]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
	/// Connects to a node and prints its chain and best block.
	Ping {
		/// WebSocket or HTTP RPC endpoint of a Replica node.
		#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
		node: String,
	},
	/// Prints the perceptual hashes of PNG files, as a worker reports them to the chain.
	Hash {
		/// PNG files to hash.
		#[arg(required = true)]
		pngs: Vec<PathBuf>,
		/// Hash algorithms, comma separated: average, perceptual, difference, colour.
		#[arg(long, value_delimiter = ',', default_value = "average,perceptual,difference,colour", value_parser = parse_alg)]
		algs: Vec<HashAlg>,
	},
	/// Runs one text task locally and prints the output, its on-chain digest and the time.
	Generate {
		#[command(flatten)]
		text: TextArgs,
		/// Also write the generated text to this file.
		#[arg(long)]
		out: Option<PathBuf>,
	},
	/// Runs one image task locally (a Stable Diffusion 1.x directory in the diffusers layout),
	/// writes the PNGs and prints their perceptual hashes and blake2-256 digests.
	GenerateImage {
		/// Model directory: text_encoder/, tokenizer/tokenizer.json, unet/, vae/ (diffusers layout);
		/// by default the embedded digits model of this repository (worker/models/digits-sd).
		#[arg(long, env = "REPLICA_IMAGE_MODEL_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits-sd"))]
		model_dir: PathBuf,
		/// The prompt.
		#[arg(long)]
		prompt: String,
		/// What the image should not show (classifier-free guidance's unconditional prompt).
		#[arg(long, default_value = "")]
		negative_prompt: String,
		/// The task seed: the initial latents are drawn from it.
		#[arg(long, default_value_t = 0)]
		seed: u64,
		/// DDIM steps.
		#[arg(long, default_value_t = 30)]
		steps: usize,
		/// Classifier-free guidance scale (1 or less: no guidance).
		#[arg(long, default_value_t = 7.5)]
		guidance: f64,
		/// Image width in pixels (a multiple of the VAE's downscale, 8 for SD); default: the
		/// size the model was trained at.
		#[arg(long)]
		width: Option<u32>,
		/// Image height in pixels; default: the size the model was trained at.
		#[arg(long)]
		height: Option<u32>,
		/// Number of images.
		#[arg(long, default_value_t = 1)]
		count: u32,
		/// Directory the PNGs are written to (image-0.png, …).
		#[arg(long, default_value = ".")]
		out_dir: PathBuf,
		/// Where to run: auto (first CUDA device, else CPU), cpu, cuda or cuda:N.
		#[arg(long, env = "REPLICA_DEVICE", default_value = "auto")]
		device: DeviceChoice,
	},
	/// Checks determinism here: runs one text task several times (on the CPU and on CUDA when
	/// there is a GPU) and reports whether every run gave the same tokens, and the timings.
	Doctor {
		#[command(flatten)]
		text: TextArgs,
		/// How many runs per device.
		#[arg(long, default_value_t = 3)]
		runs: u32,
	},
	/// Checks image determinism here: runs one image task several times (on the CPU and on
	/// CUDA when there is a GPU) and reports the Hamming distances of every hash to run 1's,
	/// whether runs agree at tolerance 0, 1 and 2, and the timings.
	DoctorImage {
		/// Model directory (diffusers layout); by default the embedded digits model.
		#[arg(long, env = "REPLICA_IMAGE_MODEL_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits-sd"))]
		model_dir: PathBuf,
		/// The prompt.
		#[arg(long, default_value = "a photo of the digit 7")]
		prompt: String,
		/// The task seed.
		#[arg(long, default_value_t = 0)]
		seed: u64,
		/// DDIM steps.
		#[arg(long, default_value_t = 30)]
		steps: usize,
		/// Classifier-free guidance scale.
		#[arg(long, default_value_t = 4.0)]
		guidance: f64,
		/// How many runs per device.
		#[arg(long, default_value_t = 3)]
		runs: u32,
		/// Where to run besides the CPU: auto (a CUDA device if any), cpu, cuda or cuda:N.
		#[arg(long, env = "REPLICA_DEVICE", default_value = "auto")]
		device: DeviceChoice,
	},
}

/// What to run: a text model directory, a prompt, decoding and the device.
#[derive(clap::Args, Debug)]
struct TextArgs {
	/// Model directory with config.json, model.safetensors and tokenizer.json (GPT-2 layout);
	/// by default the embedded text model of this repository (worker/models/fortunes-gpt).
	#[arg(long, env = "REPLICA_MODEL_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/models/fortunes-gpt"))]
	model_dir: PathBuf,
	/// The prompt.
	#[arg(long)]
	prompt: String,
	/// Most tokens to generate.
	#[arg(long, default_value_t = 64)]
	max_tokens: u32,
	/// Beam search with this many beams (1..=10); greedy decoding when absent.
	#[arg(long)]
	beams: Option<u8>,
	/// Where to run: auto (first CUDA device, else CPU), cpu, cuda or cuda:N.
	#[arg(long, env = "REPLICA_DEVICE", default_value = "auto")]
	device: DeviceChoice,
}

impl TextArgs {
	fn decoding(&self) -> Decoding {
		self.beams.map_or(Decoding::Greedy, |width| Decoding::Beam { width })
	}
}

fn parse_alg(s: &str) -> Result<HashAlg, String> {
	match s {
		"average" | "ahash" => Ok(HashAlg::Average),
		"perceptual" | "phash" => Ok(HashAlg::Perceptual),
		"difference" | "dhash" => Ok(HashAlg::Difference),
		"colour" | "color" => Ok(HashAlg::Colour),
		other => Err(format!("`{other}` is not a hash algorithm: average, perceptual, difference, colour")),
	}
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| "info".into()),
		)
		.init();
	match run(Cli::parse()).await {
		Ok(()) => std::process::ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("replica-worker: {e:#}");
			std::process::ExitCode::FAILURE
		},
	}
}

async fn run(cli: Cli) -> anyhow::Result<()> {
	match cli.command {
		Command::Ping { node } => {
			let client = replica_worker::chain::connect(&node).await?;
			let block = client.at_current_block().await?;
			println!(
				"connected to {node}: spec version {}, finalized block #{}",
				block.spec_version(),
				block.block_number()
			);
			Ok(())
		},
		Command::Hash { pngs, algs } => {
			let hasher = ImageHasher::new();
			let algs = HashAlgs::of(&algs);
			for path in pngs {
				let png = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
				let hashes = hasher.hash_png(&png, algs).with_context(|| format!("hashing {}", path.display()))?;
				let line: Vec<String> =
					algs.iter().map(|alg| format!("{alg:?}={:016x}", hashes.get(alg).unwrap_or_default())).collect();
				println!("{} {}", path.display(), line.join(" "));
			}
			Ok(())
		},
		Command::Generate { text, out } => {
			determinism::enable()?;
			let device = text.device.resolve()?;
			let started = Instant::now();
			let engine = TextEngine::load(&text.model_dir, device)?;
			let loaded = started.elapsed();
			let started = Instant::now();
			let output = engine.generate(&text.prompt, text.max_tokens, text.decoding())?;
			let generated = started.elapsed();
			let result = output.to_result();
			println!("{}", output.text);
			eprintln!(
				"{} tokens on {device:?} in {:.2} s (model loaded in {:.2} s); tokens digest 0x{}",
				output.token_ids.len(),
				generated.as_secs_f64(),
				loaded.as_secs_f64(),
				hex(&result.tokens_digest)
			);
			if let Some(out) = out {
				std::fs::write(&out, &output.text).with_context(|| format!("writing {}", out.display()))?;
			}
			Ok(())
		},
		Command::GenerateImage {
			model_dir,
			prompt,
			negative_prompt,
			seed,
			steps,
			guidance,
			width,
			height,
			count,
			out_dir,
			device,
		} => {
			determinism::enable()?;
			let device = device.resolve()?;
			let started = Instant::now();
			let engine = ImageEngine::load(&model_dir, device)?;
			let loaded = started.elapsed();
			let (width, height) = (width.unwrap_or(engine.native_size()), height.unwrap_or(engine.native_size()));
			let request = ImageRequest { prompt, negative_prompt, seed, steps, guidance, width, height, count };
			let started = Instant::now();
			let images = engine.generate(&request)?;
			let generated = started.elapsed();
			std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
			let hasher = ImageHasher::new();
			for (i, image) in images.iter().enumerate() {
				let bytes = png(image);
				let path = out_dir.join(format!("image-{i}.png"));
				std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
				let hashes = hasher.hash(image, HashAlgs::ALL)?;
				let line: Vec<String> =
					HashAlg::ALL.iter().map(|alg| format!("{alg:?}={:016x}", hashes.get(*alg).unwrap_or_default())).collect();
				println!("{} digest 0x{} {}", path.display(), hex(&sp_crypto_hashing::blake2_256(&bytes)), line.join(" "));
			}
			eprintln!(
				"{} image(s) of {width}x{height} in {steps} steps on {device:?} in {:.2} s (model loaded in {:.2} s)",
				images.len(),
				generated.as_secs_f64(),
				loaded.as_secs_f64()
			);
			Ok(())
		},
		Command::Doctor { text, runs } => doctor(text, runs),
		Command::DoctorImage { model_dir, prompt, seed, steps, guidance, runs, device } => {
			determinism::enable()?;
			let mut devices = vec![tch::Device::Cpu];
			if let Ok(cuda @ tch::Device::Cuda(_)) = device.resolve() {
				devices.push(cuda);
			}
			let hasher = ImageHasher::new();
			let mut reference: Option<replica_primitives::ImageHashes> = None;
			for device in devices {
				let engine = ImageEngine::load(&model_dir, device)?;
				let size = engine.native_size();
				let request = ImageRequest {
					prompt: prompt.clone(),
					negative_prompt: String::new(),
					seed,
					steps,
					guidance,
					width: size,
					height: size,
					count: 1,
				};
				println!("{device:?}: {size}x{size}, {steps} steps");
				for run in 1..=runs {
					let started = Instant::now();
					let image = engine.generate(&request)?.remove(0);
					let elapsed = started.elapsed();
					let hashes = hasher.hash(&image, HashAlgs::ALL)?;
					let first = *reference.get_or_insert(hashes);
					let distances: Vec<u32> = HashAlg::ALL
						.iter()
						.map(|alg| replica_primitives::hamming(first.get(*alg).unwrap_or_default(), hashes.get(*alg).unwrap_or_default()))
						.collect();
					let worst = distances.iter().copied().max().unwrap_or_default();
					let agree: Vec<String> = (0..=2).map(|t| format!("t={t}: {}", if worst <= t { "agree" } else { "DISAGREE" })).collect();
					println!(
						"  run {run}: {:.3} s, Hamming distances to the first run (aHash, pHash, dHash, colour) {distances:?}, {}",
						elapsed.as_secs_f64(),
						agree.join(", ")
					);
				}
			}
			Ok(())
		},
	}
}

fn doctor(args: TextArgs, runs: u32) -> anyhow::Result<()> {
	determinism::enable()?;
	println!("libtorch {}, determinism switches {:?}", replica_worker::engines::device::LIBTORCH_VERSION, determinism::state());
	let mut devices = vec![tch::Device::Cpu];
	if let Ok(cuda @ tch::Device::Cuda(_)) = args.device.resolve() {
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

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
	use super::*;
	use clap::CommandFactory;

	#[test]
	fn help_explains_every_subcommand_and_flag() {
		let cli = Cli::command();
		cli.clone().debug_assert();
		for sub in cli.get_subcommands() {
			assert!(sub.get_about().is_some(), "`{}` has no help", sub.get_name());
			for arg in sub.get_arguments() {
				assert!(arg.get_help().is_some(), "`{} {}` has no help", sub.get_name(), arg.get_id());
			}
		}
	}
}
