//! `replica-worker`: Replica's off-chain GPU worker.

mod bench_chain;
mod dapp;
mod doctor;
mod gov;
mod train_dapp;

use anyhow::Context;
use clap::Parser;
use replica_primitives::{HashAlg, HashAlgs};
use replica_worker::{
	engines::{
		determinism,
		device::DeviceChoice,
		image::{png, ImageEngine, ImageRequest},
		text::{Decoding, TextEngine},
	},
	config::RunArgs,
	hashing::ImageHasher,
	hex,
};
use dapp::{AskArgs, RegisterModelArgs, ShowArgs, ShowQueryArgs, SubmitArgs};
use std::{path::PathBuf, time::Instant};

/// Replica's off-chain GPU worker. `run` is the daemon: it registers the worker, executes the
/// tasks the chain assigns to it with deterministic inference (libtorch), commits and reveals
/// the results and serves them over HTTP. `task` submits and inspects tasks (for dapps),
/// `gov` and `model` change parameters and register models (for governance); the rest run
/// engines and checks locally.
#[derive(Parser, Debug)]
#[command(name = "replica-worker", version)]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
	/// Runs the worker daemon: registers (or updates) the worker and goes online, follows the
	/// chain, executes assigned tasks, commits and reveals their results, serves them over
	/// HTTP, and resumes where it stopped after a restart. Stops on SIGINT/SIGTERM.
	Run(RunArgs),
	/// Submits a task and follows it to its verified result, or shows one (for dapps).
	Task {
		#[command(subcommand)]
		command: TaskCommand,
	},
	/// Asks the swarm an open-ended question and follows it to the answer the agents' rankings
	/// chose, or shows a query with its answers, rankings and the agents' ratings (for dapps).
	Query {
		#[command(subcommand)]
		command: QueryCommand,
	},
	/// Verified fine-tuning (for dapps): writes a training data file, creates a training task
	/// and follows it to its verdict.
	Train {
		#[command(subcommand)]
		command: train_dapp::TrainCommand,
	},
	/// Governance: changes pallet-tasks and pallet-workers parameters, registers and retires
	/// models and changes their tolerances, through sudo (dev chain) or a Council motion
	/// (propose, vote, close), printing the events; `gov show` prints the current state.
	Gov {
		#[command(subcommand)]
		command: gov::GovCommand,
	},
	/// Registers a model on chain, or prints a model directory's weights digest (governance).
	Model {
		#[command(subcommand)]
		command: ModelCommand,
	},
	/// Measures how many verified tasks the chain settles per block: simulated workers (no
	/// model runs) commit and reveal through the real calls on a dev chain while new tasks keep
	/// coming; prints per-block figures and the ceilings derived from the cost per task.
	/// `scripts/bench-chain.sh` starts a node for it.
	BenchChain(bench_chain::BenchChainArgs),
	/// Connects to a node and prints its chain and best block.
	Ping {
		/// WebSocket or HTTP RPC endpoint of a Replica node.
		#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
		node: String,
	},
	/// Asks a running daemon on this machine how it is: device thread, latest block, queue and
	/// open tasks (its `/status` on the results server). Exits non-zero when it is unhealthy.
	Status {
		/// The daemon's results server (its `--listen`).
		#[arg(long, env = "REPLICA_LISTEN", default_value = "127.0.0.1:8080")]
		listen: String,
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
	/// CUDA when there is a GPU) and reports the Hamming distances of every hash to the
	/// device's first run and to the CPU's, whether runs agree at tolerance 0, 1 and 2, and the
	/// timings; on CUDA it also times PyTorch's default settings in a fresh process and prints
	/// what determinism costs.
	DoctorImage(doctor::DoctorImageArgs),
	/// Measures how an image model verifies here and calibrates its tolerances: replicas of K
	/// prompts x J seeds on every execution variant (CPU with one and with every thread, each
	/// CUDA device) give the consensus table (agreement at tolerance 0/1/2, outliers, time per
	/// hash); pairs of different seeds give the Type II (collision) rate; the measured
	/// agreement gives the Type I probability for 3/5/7 and 4/7/10 verifiers. Writes Markdown,
	/// JSON and three PNG plots; --recommend also writes the model's tolerances.toml.
	Stats(replica_worker::stats::StatsArgs),
	/// Simulates the swarm's peer ranking with the chain's rules (replica_primitives::swarm):
	/// agents of known ranking ability rank each other's answers round after round, and the
	/// table shows how closely their ratings (1 - sigma of their score deviations) order them
	/// by ability after each round count (Spearman's correlation), and how often the
	/// rating-weighted selection picks the best answer.
	SwarmSim(replica_worker::swarm_sim::SwarmSimArgs),
	/// Reproduces the paper's fine-tuning determinism experiment on the image model: textual
	/// inversion with every source of randomness fixed (three runs, bit-identical), with each
	/// source freed in turn, and a drifting device with and without resyncing to the trainer's
	/// checkpoints; prints a distance table and writes a PCA plot of the checkpoints (PNG).
	TrainSim(replica_worker::train_sim::TrainSimArgs),
}

#[derive(clap::Subcommand, Debug)]
enum TaskCommand {
	/// Creates a task (paying its fee); with --wait follows it to its verdict, downloads the
	/// result from a winner and checks it against the on-chain digest.
	Submit(SubmitArgs),
	/// Prints a task's status, parameters and workers as the chain has them.
	Show(ShowArgs),
}

#[derive(clap::Subcommand, Debug)]
enum QueryCommand {
	/// Creates a swarm query (paying its fee); with --wait follows it to the chosen answer.
	Ask(AskArgs),
	/// Prints a swarm query as the chain has it: its phase, answers, rankings and ratings.
	Show(ShowQueryArgs),
}

#[derive(clap::Subcommand, Debug)]
enum ModelCommand {
	/// Registers a model directory on chain through sudo (the dev chain's governance) or a
	/// Council motion; the same as `gov register-model`.
	Register(RegisterModelArgs),
	/// Prints the weights digest of a model directory, as workers match it on chain.
	Digest {
		/// The model directory.
		dir: PathBuf,
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

fn main() -> std::process::ExitCode {
	// Logs go to stderr (stdout carries results), coloured only on a terminal.
	tracing_subscriber::fmt()
		.with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
		.with_writer(std::io::stderr)
		.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
		.init();
	let cli = Cli::parse();
	// Commands that run the engines deterministically switch determinism on before the async
	// runtime starts any thread: `enable` sets the environment CUDA reads.
	let deterministic = matches!(
		cli.command,
		Command::Run(_) |
			Command::Generate { .. } |
			Command::GenerateImage { .. } |
			Command::Doctor { .. } |
			Command::Stats(_) |
			Command::Train { command: train_dapp::TrainCommand::MakeData(_) } |
			Command::DoctorImage(doctor::DoctorImageArgs { settings: doctor::Settings::Deterministic, .. })
	);
	let result = (|| {
		if deterministic {
			determinism::enable()?;
		}
		let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
		runtime.block_on(run(cli))
	})();
	match result {
		Ok(()) => std::process::ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("replica-worker: {e:#}");
			std::process::ExitCode::FAILURE
		},
	}
}

async fn run(cli: Cli) -> anyhow::Result<()> {
	match cli.command {
		Command::Run(args) => {
			let config = args.resolve()?;
			tracing::debug!("{config:?}");
			replica_worker::daemon::run(config, replica_worker::daemon::cancel_on_signals()).await
		},
		Command::BenchChain(args) => bench_chain::run(args).await,
		Command::Task { command: TaskCommand::Submit(args) } => dapp::submit(args).await,
		Command::Task { command: TaskCommand::Show(args) } => dapp::show(args).await,
		Command::Query { command: QueryCommand::Ask(args) } => dapp::ask(args).await,
		Command::Query { command: QueryCommand::Show(args) } => dapp::show_query(args).await,
		Command::Gov { command } => gov::run(command).await,
		Command::Train { command } => train_dapp::run(command).await,
		Command::Model { command: ModelCommand::Register(args) } => dapp::register_model(args).await,
		Command::Model { command: ModelCommand::Digest { dir } } => {
			anyhow::ensure!(
				replica_worker::models::kind_of(&dir).is_some(),
				"{} is not a model directory (a diffusers image pipeline or a GPT-2 text model)",
				dir.display()
			);
			println!("0x{}", hex(&replica_worker::models::digest(&dir)?));
			Ok(())
		},
		Command::Status { listen } => {
			let url = if listen.contains("://") { format!("{listen}/status") } else { format!("http://{listen}/status") };
			let body = replica_worker::http::get(&url).await.with_context(|| format!("is a worker running with --listen {listen}?"))?;
			let status: serde_json::Value = serde_json::from_slice(&body).context("the /status answer is not JSON")?;
			println!("device thread: {}", if status["device_thread_alive"] == true { "running" } else { "STOPPED" });
			println!(
				"latest block: #{} ({} s ago)",
				status["latest_block"],
				status["seconds_since_block"].as_u64().map_or("never".to_string(), |s| s.to_string())
			);
			println!("queued for the device: {}", status["queued"]);
			let open = status["open_tasks"].as_array().cloned().unwrap_or_default();
			println!("open tasks: {}", open.len());
			for task in open {
				println!("  task {} round {}: {} (commit by #{})", task["task"], task["round"], task["phase"], task["commit_deadline"]);
			}
			match status["problem"].as_str() {
				Some(problem) => anyhow::bail!("unhealthy: {problem}"),
				None => Ok(()),
			}
		},
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
			if replica_worker::models::kind_of(&text.model_dir) == Some(replica_worker::models::LocalKind::Image) {
				anyhow::bail!("{} is an image model: use `replica-worker generate-image`", text.model_dir.display());
			}
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
		Command::Doctor { text, runs } => doctor::text(text, runs),
		Command::DoctorImage(args) => doctor::image(args),
		Command::Stats(args) => replica_worker::stats::run(args),
		Command::SwarmSim(args) => replica_worker::swarm_sim::run(args),
		Command::TrainSim(args) => replica_worker::train_sim::run(args),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use clap::CommandFactory;

	#[test]
	fn help_explains_every_subcommand_and_flag() {
		fn check(command: &clap::Command, path: &str) {
			for sub in command.get_subcommands() {
				let path = format!("{path} {}", sub.get_name());
				assert!(sub.get_about().is_some(), "`{path}` has no help");
				for arg in sub.get_arguments() {
					assert!(arg.get_help().is_some(), "`{path} {}` has no help", arg.get_id());
				}
				check(sub, &path);
			}
		}
		let cli = Cli::command();
		cli.clone().debug_assert();
		check(&cli, "replica-worker");
	}
}
