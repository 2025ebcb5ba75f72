//! `replica-worker stats`: the verification statistics of an image model on this machine, the
//! data governance sets tolerances from.
//!
//! 1. **Table 1** (the source paper's, for our models): K prompts x J seeds are jobs; each job
//!    runs R times on every execution variant here (the CPU with one thread, as workers run,
//!    and with every thread; each CUDA device). Per variant set and hash: the share of jobs
//!    whose replicas all agree at tolerance 0, 1 and 2 (consensus), the replicas that differ
//!    from their job's reference at all (outliers), their mean distance, and the time per hash.
//! 2. **Type II**: the images of N different seeds per prompt, every pair of the same prompt
//!    compared; the share of pairs within each tolerance is the rate at which a guesser who
//!    submits another seed's image would pass.
//! 3. **Type I**: from the measured per-replica agreement (and the lower end of its 95%
//!    interval), the probability that 3/5/7 verifiers (majority) or 4/7/10 (two thirds) fail
//!    to reach quorum on an honest result.
//! 4. **Calibration** (`--recommend`): per hash, the smallest tolerance that keeps honest
//!    agreement at 3 verifiers at or above 99.9% with at most 0.01% collisions, written to the
//!    model directory's `tolerances.toml`, which `model register` registers.
//!
//! It writes `<model>.md` and `<model>.json` and three PNG plots into `--out-dir`
//! (`scripts/stats.sh` writes them under `docs/verification/`).

pub mod analysis;
pub mod plots;
pub mod tolerances;

use crate::{
	engines::{
		device::{self, DeviceChoice},
		image::{ImageEngine, ImageRequest},
	},
	hashing::ImageHasher,
};
use analysis::{Calibration, Collisions, Consensus, Job, Outcome, MAX_TOLERANCE, VERIFIER_SETS};
use anyhow::Context;
use replica_primitives::{HashAlg, HashAlgs, ImageHashes, Quorum, Tolerances};
use std::{
	fmt::Write as _,
	path::PathBuf,
	time::{Duration, Instant},
};

/// `replica-worker stats`' model, sizes and outputs.
#[derive(clap::Args, Debug, Clone)]
pub struct StatsArgs {
	/// Image model directory (diffusers layout); by default the embedded digits model.
	#[arg(long, env = "REPLICA_IMAGE_MODEL_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits-sd"))]
	pub model_dir: PathBuf,
	/// A prompt (repeat the flag for several); by default "a photo of the digit N" for N in
	/// 0..=9, the embedded model's ten classes.
	#[arg(long = "prompt")]
	pub prompts: Vec<String>,
	/// Seeds per prompt whose replicas are compared (Table 1's jobs).
	#[arg(long, default_value_t = 16)]
	pub jobs: u32,
	/// Runs of each job on each execution variant.
	#[arg(long, default_value_t = 2)]
	pub replicas: u32,
	/// Different seeds per prompt whose images are compared pairwise (Type II): K prompts
	/// give K * N * (N - 1) / 2 pairs; 10 prompts of 450 seeds, 1,010,250.
	#[arg(long, default_value_t = 450)]
	pub type2_seeds: u32,
	/// DDIM steps of every image.
	#[arg(long, default_value_t = 30)]
	pub steps: usize,
	/// Classifier-free guidance scale of every image.
	#[arg(long, default_value_t = 4.0)]
	pub guidance: f64,
	/// Where to run besides the CPU: auto (every CUDA device, if any), cpu (the CPU only), or
	/// cuda:N (that device).
	#[arg(long, env = "REPLICA_DEVICE", default_value = "auto")]
	pub device: DeviceChoice,
	/// Directory the tables (<model>.md, <model>.json) and plots (<model>-*.png) are written to.
	#[arg(long, default_value = "verification-stats")]
	pub out_dir: PathBuf,
	/// Also print the recommended tolerance of each hash and write them to the model
	/// directory's tolerances.toml, which `model register` registers for the model.
	#[arg(long)]
	pub recommend: bool,
}

/// One way this machine runs the model: a device and, on the CPU, libtorch's thread count.
#[derive(Clone, Debug)]
pub struct Variant {
	pub name: String,
	pub device: tch::Device,
	pub threads: i32,
}

/// The execution variants available here.
fn variants(choice: DeviceChoice) -> anyhow::Result<Vec<Variant>> {
	let all_threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
	let cpu = |threads: i32| Variant {
		name: format!("cpu, {threads} thread{}", if threads == 1 { "" } else { "s" }),
		device: tch::Device::Cpu,
		threads,
	};
	let mut variants = vec![cpu(1)];
	if all_threads > 1 {
		variants.push(cpu(all_threads));
	}
	let cuda_devices: Vec<usize> = match choice {
		DeviceChoice::Cpu => vec![],
		DeviceChoice::Cuda(n) => {
			choice.resolve()?;
			vec![n]
		},
		DeviceChoice::Auto if tch::Cuda::is_available() => (0..tch::Cuda::device_count() as usize).collect(),
		DeviceChoice::Auto => vec![],
	};
	for n in cuda_devices {
		let profile = device::detect_profile(tch::Device::Cuda(n), replica_primitives::Dtype::F32)?;
		variants.push(Variant {
			name: format!("cuda:{n} ({})", String::from_utf8_lossy(&profile.gpu_model)),
			device: tch::Device::Cuda(n),
			threads: device_threads(),
		});
	}
	Ok(variants)
}

fn device_threads() -> i32 {
	crate::engines::determinism::CPU_THREADS
}

/// Everything measured, ready to be written.
pub struct Report {
	pub model: String,
	pub machine: String,
	pub date: String,
	pub args: StatsArgs,
	pub prompts: Vec<String>,
	pub size: (u32, u32),
	pub variants: Vec<Variant>,
	/// (variant set's name, the variants in it).
	pub variant_sets: Vec<(String, Vec<usize>)>,
	/// Per variant set, per algorithm (in [`HashAlg::ALL`] order).
	pub consensus: Vec<Vec<Consensus>>,
	pub hash_time: [Duration; 4],
	pub hashes_timed: u64,
	pub collisions: Collisions,
	pub jobs: Vec<Job>,
	pub type2_groups: Vec<Vec<ImageHashes>>,
	pub calibration: Calibration,
	pub evaluated: Evaluated,
	pub generation_time: Duration,
	pub images: u64,
}

impl Report {
	/// The consensus rows over every variant (the last set).
	pub fn overall(&self) -> &[Consensus] {
		self.consensus.last().map(Vec::as_slice).unwrap_or_default()
	}
}

/// The tolerance set the Type I figures are for — the recommended one, else every default hash
/// at the tolerance `model register` uses before calibration — and how the sample fares under
/// it, computed once for the tables, the JSON and the plot.
pub struct Evaluated {
	pub tolerances: Tolerances,
	pub name: &'static str,
	/// Replicas that agree with their job's reference under the set, of all replicas.
	pub agreeing: u64,
	pub replicas: u64,
	/// Different-seed pairs that pass under the set.
	pub collided: u64,
}

impl Evaluated {
	fn of(recommended: Option<Tolerances>, jobs: &[Job], groups: &[Vec<ImageHashes>]) -> Self {
		let (tolerances, name) = match recommended {
			Some(set) => (set, "the recommended tolerances"),
			None => (
				Tolerances::of(&analysis::DEFAULT_ALGS.map(|alg| (alg, tolerances::UNCALIBRATED_TOLERANCE))),
				"aHash, pHash and dHash at the uncalibrated default tolerance",
			),
		};
		let (agreeing, replicas) = analysis::agreement_under(jobs, &tolerances);
		let collided = analysis::collisions_under(groups, &tolerances);
		Self { tolerances, name, agreeing, replicas, collided }
	}

	/// The measured per-replica agreement.
	pub fn p(&self) -> f64 {
		self.agreeing as f64 / self.replicas.max(1) as f64
	}

	/// The lower end of its 95% interval.
	pub fn p_lower_bound(&self) -> f64 {
		analysis::wilson_lower_bound(self.agreeing, self.replicas)
	}
}

pub fn run(args: StatsArgs) -> anyhow::Result<()> {
	anyhow::ensure!(args.jobs > 0 && args.replicas > 0, "--jobs and --replicas must be at least 1");
	anyhow::ensure!(args.type2_seeds >= 2, "--type2-seeds must be at least 2 (a pair)");
	let prompts = if args.prompts.is_empty() {
		(0..10).map(|digit| format!("a photo of the digit {digit}")).collect()
	} else {
		args.prompts.clone()
	};
	let model = args
		.model_dir
		.canonicalize()
		.ok()
		.and_then(|dir| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
		.context("the model directory has no name")?;
	let variants = variants(args.device)?;
	let hasher = ImageHasher::new();
	let started = Instant::now();
	let mut images = 0u64;

	// Table 1: every job on every variant, `replicas` times.
	let mut engines: Vec<(tch::Device, ImageEngine)> = Vec::new();
	let mut jobs: Vec<Job> = vec![Job::default(); prompts.len() * args.jobs as usize];
	let mut hash_time = [Duration::ZERO; 4];
	let mut hashes_timed = 0u64;
	let mut size = (0, 0);
	let mut last_log = Instant::now();
	for (v, variant) in variants.iter().enumerate() {
		if !engines.iter().any(|(device, _)| *device == variant.device) {
			engines.push((variant.device, ImageEngine::load(&args.model_dir, variant.device)?));
		}
		let engine = &engines.iter().find(|(device, _)| *device == variant.device).expect("loaded above").1;
		size = (engine.native_size(), engine.native_size());
		tch::set_num_threads(variant.threads);
		tracing::info!("Table 1: {} jobs x {} replicas on {}", jobs.len(), args.replicas, variant.name);
		for (k, prompt) in prompts.iter().enumerate() {
			for j in 0..args.jobs {
				let request = request(&args, prompt, j as u64, size);
				for _ in 0..args.replicas {
					let image = engine.generate(&request)?.remove(0);
					images += 1;
					let mut hashes = ImageHashes::default();
					for alg in HashAlg::ALL {
						let t = Instant::now();
						hashes.set(alg, hasher.hash_one(&image, alg));
						hash_time[alg.index()] += t.elapsed();
					}
					hashes_timed += 1;
					jobs[k * args.jobs as usize + j as usize].replicas.push((v, hashes));
				}
				if last_log.elapsed() >= Duration::from_secs(15) {
					last_log = Instant::now();
					tracing::info!("{images} images so far ({:.0} s)", started.elapsed().as_secs_f64());
				}
			}
		}
	}
	tch::set_num_threads(device_threads());

	// Type II: different seeds of each prompt, on the fastest variant (CUDA if any, else the CPU
	// with every thread): which variant makes them does not matter, they are never replicas.
	let fastest = variants.iter().find(|v| v.device.is_cuda()).unwrap_or(variants.last().expect("the CPU is always a variant"));
	let engine = &engines.iter().find(|(device, _)| *device == fastest.device).expect("loaded for Table 1").1;
	tch::set_num_threads(fastest.threads.max(1));
	tracing::info!("Type II: {} prompts x {} seeds on {}", prompts.len(), args.type2_seeds, fastest.name);
	let mut type2_groups = Vec::new();
	for prompt in &prompts {
		let mut group = Vec::new();
		for i in 0..args.type2_seeds {
			// Seeds apart from Table 1's.
			let image = engine.generate(&request(&args, prompt, 1_000_000 + i as u64, size))?.remove(0);
			images += 1;
			group.push(hasher.hash(&image, HashAlgs::ALL)?);
			if last_log.elapsed() >= Duration::from_secs(15) {
				last_log = Instant::now();
				tracing::info!("{images} images so far ({:.0} s)", started.elapsed().as_secs_f64());
			}
		}
		type2_groups.push(group);
	}
	tch::set_num_threads(device_threads());
	let generation_time = started.elapsed();

	let mut variant_sets: Vec<(String, Vec<usize>)> = if args.replicas > 1 {
		variants.iter().enumerate().map(|(v, variant)| (variant.name.clone(), vec![v])).collect()
	} else {
		Vec::new()
	};
	if variants.len() > 1 {
		variant_sets.push(("all of the above (mixed)".into(), (0..variants.len()).collect()));
	}
	if variant_sets.is_empty() {
		variant_sets.push((variants[0].name.clone(), vec![0]));
	}
	let consensus: Vec<Vec<Consensus>> = variant_sets
		.iter()
		.map(|(_, set)| HashAlg::ALL.iter().map(|alg| analysis::consensus(&jobs, *alg, set)).collect())
		.collect();
	let collisions = Collisions::of(&type2_groups);
	let overall = consensus.last().expect("at least one variant set");
	let calibration = analysis::calibrate(overall, &collisions, &jobs, &type2_groups);

	let evaluated = Evaluated::of(calibration.recommended(), &jobs, &type2_groups);
	let report = Report {
		model,
		machine: machine(&variants),
		date: today(),
		args: args.clone(),
		prompts,
		size,
		variants,
		variant_sets,
		consensus,
		hash_time,
		hashes_timed,
		collisions,
		jobs,
		type2_groups,
		calibration,
		evaluated,
		generation_time,
		images,
	};
	std::fs::create_dir_all(&args.out_dir).with_context(|| format!("creating {}", args.out_dir.display()))?;
	let markdown = report.markdown();
	let md_path = args.out_dir.join(format!("{}.md", report.model));
	std::fs::write(&md_path, &markdown).with_context(|| format!("writing {}", md_path.display()))?;
	let json_path = args.out_dir.join(format!("{}.json", report.model));
	std::fs::write(&json_path, serde_json::to_string_pretty(&report.json())?)
		.with_context(|| format!("writing {}", json_path.display()))?;
	let plots = plots::write_all(&report, &args.out_dir)?;
	print!("{markdown}");
	println!();
	println!("wrote {}, {} and {}", md_path.display(), json_path.display(), plots.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
	if args.recommend {
		let path = tolerances::path_in(&args.model_dir);
		match &report.calibration.outcome {
			Outcome::Recommended { tolerances: set, .. } => {
				tolerances::write(&path, set, &report.provenance())?;
				println!("recommended tolerances written to {} (model register uses them)", path.display());
			},
			Outcome::TooManyCollisions { tolerances: set, collided } => anyhow::bail!(
				"no hash reaches the targets: {} together still let {collided} of {} different-seed pairs pass; nothing \
				 written to {}",
				describe(set),
				report.collisions.pairs,
				path.display()
			),
			Outcome::NoHonestHash => anyhow::bail!(
				"no hash reaches the targets: no hash shows honest replicas agreeing often enough (more --jobs or \
				 --replicas?); nothing written to {}",
				path.display()
			),
		}
	}
	Ok(())
}

fn request(args: &StatsArgs, prompt: &str, seed: u64, (width, height): (u32, u32)) -> ImageRequest {
	ImageRequest {
		prompt: prompt.to_string(),
		negative_prompt: String::new(),
		seed,
		steps: args.steps,
		guidance: args.guidance,
		width,
		height,
		count: 1,
	}
}

/// The CPU's name and threads, and each GPU's.
fn machine(variants: &[Variant]) -> String {
	let cpu = std::fs::read_to_string("/proc/cpuinfo")
		.ok()
		.and_then(|info| info.lines().find(|l| l.starts_with("model name"))?.split(':').nth(1).map(|s| s.trim().to_string()))
		.unwrap_or_else(|| std::env::consts::ARCH.to_string());
	let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
	let mut machine = format!("{cpu} ({threads} threads, {})", device::cpu_isa_level());
	for variant in variants.iter().filter(|v| v.device.is_cuda()) {
		machine.push_str(&format!(", {}", variant.name));
	}
	machine
}

/// Today's date (UTC), as YYYY-MM-DD.
fn today() -> String {
	let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
	// Howard Hinnant's civil_from_days.
	let z = days + 719_468;
	let era = z.div_euclid(146_097);
	let doe = z - era * 146_097;
	let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
	let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	let mp = (5 * doy + 2) / 153;
	let day = doy - (153 * mp + 2) / 5 + 1;
	let month = if mp < 10 { mp + 3 } else { mp - 9 };
	let year = yoe + era * 400 + i64::from(month <= 2);
	format!("{year:04}-{month:02}-{day:02}")
}

/// A hash's name as the paper writes it.
pub fn alg_name(alg: HashAlg) -> &'static str {
	match alg {
		HashAlg::Average => "aHash",
		HashAlg::Perceptual => "pHash",
		HashAlg::Difference => "dHash",
		HashAlg::Colour => "colour",
	}
}

fn percent(x: f64) -> String {
	if x == 0.0 {
		"0".into()
	} else if x >= 1e-5 {
		format!("{:.4}%", x * 100.0)
	} else {
		format!("{:.2e}%", x * 100.0)
	}
}

impl Report {
	fn pairs_per_prompt(&self) -> u64 {
		let n = self.args.type2_seeds as u64;
		n * (n - 1) / 2
	}

	/// One line saying where the figures come from (the tolerances file's header).
	pub fn provenance(&self) -> String {
		let replicas: usize = self.overall().first().map_or(0, |row| row.replicas);
		format!(
			"measured by `replica-worker stats` on {}, {}: {replicas} honest replicas, {} different-seed pairs",
			self.date, self.machine, self.collisions.pairs
		)
	}

	pub fn markdown(&self) -> String {
		let mut md = String::new();
		let a = &self.args;
		let _ = writeln!(md, "## {} ({}x{}), measured {} on {}", self.model, self.size.0, self.size.1, self.date, self.machine);
		let _ = writeln!(md);
		let _ = writeln!(
			md,
			"libtorch {}; {} steps, guidance {}; {} prompts (\"{}\" …); {} images in {:.0} s.",
			device::LIBTORCH_VERSION,
			a.steps,
			a.guidance,
			self.prompts.len(),
			self.prompts[0],
			self.images,
			self.generation_time.as_secs_f64()
		);
		let _ = writeln!(md);
		let _ = writeln!(md, "### Table 1: consensus of honest replicas");
		let _ = writeln!(md);
		let _ = writeln!(
			md,
			"{} prompts x {} seeds = {} jobs, each run {} times on each variant. A job's reference is its most frequent hash; \
			 consensus at t: every replica within t of it; outliers: replicas that differ from it at all.",
			self.prompts.len(),
			a.jobs,
			self.jobs.len(),
			a.replicas
		);
		let _ = writeln!(md);
		let _ = writeln!(md, "| variants | hash | replicas | consensus t=0 | t=1 | t=2 | outliers | mean outlier distance | time per hash |");
		let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
		for ((name, _), rows) in self.variant_sets.iter().zip(&self.consensus) {
			for alg in HashAlg::ALL {
				let row = &rows[alg.index()];
				let time = self.hash_time[alg.index()].as_secs_f64() * 1e6 / self.hashes_timed.max(1) as f64;
				let _ = writeln!(
					md,
					"| {name} | {} | {} | {} | {} | {} | {} | {} | {time:.1} µs |",
					alg_name(alg),
					row.replicas,
					percent(row.consensus(0)),
					percent(row.consensus(1)),
					percent(row.consensus(2)),
					row.outliers,
					row.mean_outlier_distance().map_or("–".into(), |d| format!("{d:.2}")),
				);
			}
		}
		let _ = writeln!(md);
		let _ = writeln!(md, "### Type II: different seeds of the same prompt");
		let _ = writeln!(md);
		let _ = writeln!(
			md,
			"{} prompts x {} seeds: {} pairs ({} per prompt). The share of pairs within t, i.e. the rate at which another \
			 seed's image passes as this one (counts in brackets).",
			self.prompts.len(),
			a.type2_seeds,
			self.collisions.pairs,
			self.pairs_per_prompt()
		);
		let _ = writeln!(md);
		let _ = writeln!(md, "| hash | t=0 | t=1 | t=2 | t=3 | t=4 |");
		let _ = writeln!(md, "|---|---|---|---|---|---|");
		let c = &self.collisions;
		for alg in HashAlg::ALL {
			let cells: Vec<String> =
				(0..=4).map(|t| format!("{} ({})", percent(c.rate(alg, t)), c.count(alg, t))).collect();
			let _ = writeln!(md, "| {} | {} |", alg_name(alg), cells.join(" | "));
		}
		let cells: Vec<String> = (0..=4).map(|t| percent(c.rate_of_three(t))).collect();
		let _ = writeln!(md, "| aHash, pHash and dHash all within t | {} |", cells.join(" | "));
		let _ = writeln!(md);

		let Evaluated { tolerances: set, name: set_name, agreeing, replicas, collided } = self.evaluated;
		let (p, p_low) = (self.evaluated.p(), self.evaluated.p_lower_bound());
		let _ = writeln!(md, "### Type I: an honest result missing its quorum");
		let _ = writeln!(md);
		let _ = writeln!(
			md,
			"Under {set_name} ({}), {agreeing} of {replicas} replicas agree with their job's reference: p = {:.5}, \
			 95% lower bound {:.5}. The same set lets {} of {} different-seed pairs pass ({}).",
			describe(&set),
			p,
			p_low,
			collided,
			c.pairs,
			percent(collided as f64 / c.pairs.max(1) as f64)
		);
		let _ = writeln!(md);
		let _ = writeln!(md, "| verifiers | quorum | P(no quorum) at p | at the lower bound |");
		let _ = writeln!(md, "|---|---|---|---|");
		for (n, quorum) in VERIFIER_SETS {
			let _ = writeln!(
				md,
				"| {n} | {} | {:.3e} | {:.3e} |",
				quorum_name(quorum),
				analysis::type_one(p, n, quorum),
				analysis::type_one(p_low, n, quorum)
			);
		}
		let _ = writeln!(md);
		let _ = writeln!(md, "### Recommended tolerances");
		let _ = writeln!(md);
		let _ = writeln!(
			md,
			"Per hash, the smallest tolerance at which 3 verifiers reach a majority on an honest result with probability \
			 >= {:.1}% (on the lower bound of the measured agreement), and the share of different-seed pairs within it. \
			 The chain compares a model's hashes together (two images agree when every compared hash is within its \
			 tolerance), so the recommendation is the fewest hashes, taken in order of their own collision rate, that \
			 together let at most {} of different-seed pairs pass.",
			analysis::TARGET_SUCCESS_AT_3 * 100.0,
			percent(analysis::TARGET_COLLISION_RATE)
		);
		let _ = writeln!(md);
		let _ = writeln!(md, "| hash | smallest honest tolerance | different seeds within it | recommended |");
		let _ = writeln!(md, "|---|---|---|---|");
		let recommended = self.calibration.recommended();
		for (alg, honest) in &self.calibration.per_hash {
			let (t, rate) = match honest {
				Some((t, rate)) => (t.to_string(), percent(*rate)),
				None => (format!("none up to {MAX_TOLERANCE}"), "–".into()),
			};
			let chosen = recommended.filter(|set| set.algs.contains(*alg)).map_or("no".to_string(), |set| format!("**{}**", set.of_alg(*alg)));
			let _ = writeln!(md, "| {} | {t} | {rate} | {chosen} |", alg_name(*alg));
		}
		let _ = writeln!(md);
		let pairs = self.collisions.pairs;
		let _ = match &self.calibration.outcome {
			Outcome::Recommended { tolerances: set, collided } => writeln!(
				md,
				"**Recommended: {}.** Together they let {collided} of {pairs} different-seed pairs pass ({}).",
				describe(set),
				percent(*collided as f64 / pairs.max(1) as f64)
			),
			Outcome::TooManyCollisions { tolerances: set, collided } => writeln!(
				md,
				"**No recommendation:** every honest hash together ({}) still lets {collided} of {pairs} different-seed \
				 pairs pass ({}).",
				describe(set),
				percent(*collided as f64 / pairs.max(1) as f64)
			),
			Outcome::NoHonestHash => writeln!(
				md,
				"**No recommendation:** under no hash do honest replicas agree often enough (or the sample is too small to \
				 show it)."
			),
		};
		md
	}

	pub fn json(&self) -> serde_json::Value {
		use serde_json::json;
		let a = &self.args;
		let alg_key = |alg: HashAlg| alg_name(alg).to_string();
		let table1: Vec<serde_json::Value> = self
			.variant_sets
			.iter()
			.zip(&self.consensus)
			.flat_map(|((name, _), rows)| {
				HashAlg::ALL.iter().map(move |alg| {
					let row = &rows[alg.index()];
					json!({
						"variants": name,
						"hash": alg_key(*alg),
						"jobs": row.jobs,
						"replicas": row.replicas,
						"consensus": [row.consensus(0), row.consensus(1), row.consensus(2)],
						"agreeing_by_tolerance": row.agreeing.to_vec(),
						"outliers": row.outliers,
						"mean_outlier_distance": row.mean_outlier_distance(),
					})
				})
			})
			.collect();
		let type2: serde_json::Map<String, serde_json::Value> = HashAlg::ALL
			.iter()
			.map(|alg| (alg_key(*alg), json!({ "histogram": self.collisions.histogram[alg.index()].to_vec() })))
			.collect();
		let Evaluated { tolerances: set, agreeing, replicas, .. } = self.evaluated;
		let (p, p_low) = (self.evaluated.p(), self.evaluated.p_lower_bound());
		let type1: Vec<serde_json::Value> = VERIFIER_SETS
			.iter()
			.map(|(n, quorum)| {
				json!({
					"verifiers": n,
					"quorum": quorum_name(*quorum),
					"no_quorum": analysis::type_one(p, *n, *quorum),
					"no_quorum_at_lower_bound": analysis::type_one(p_low, *n, *quorum),
				})
			})
			.collect();
		let recommended_set = self.calibration.recommended();
		let recommended: serde_json::Map<String, serde_json::Value> = HashAlg::ALL
			.iter()
			.map(|alg| {
				let tolerance = recommended_set.filter(|set| set.algs.contains(*alg)).map(|set| set.of_alg(*alg));
				(alg_key(*alg), json!(tolerance))
			})
			.collect();
		let smallest_honest: serde_json::Map<String, serde_json::Value> = self
			.calibration
			.per_hash
			.iter()
			.map(|(alg, honest)| (alg_key(*alg), json!(honest.map(|(t, rate)| json!({ "tolerance": t, "collision_rate": rate })))))
			.collect();
		let (outcome, collided) = match &self.calibration.outcome {
			Outcome::Recommended { collided, .. } => ("recommended", Some(*collided)),
			Outcome::TooManyCollisions { collided, .. } => ("too many collisions", Some(*collided)),
			Outcome::NoHonestHash => ("no honest hash", None),
		};
		let hash_time_us: serde_json::Map<String, serde_json::Value> = HashAlg::ALL
			.iter()
			.map(|alg| {
				(alg_key(*alg), json!(self.hash_time[alg.index()].as_secs_f64() * 1e6 / self.hashes_timed.max(1) as f64))
			})
			.collect();
		json!({
			"model": self.model,
			"date": self.date,
			"machine": self.machine,
			"libtorch": device::LIBTORCH_VERSION,
			"size": [self.size.0, self.size.1],
			"steps": a.steps,
			"guidance": a.guidance,
			"prompts": self.prompts,
			"jobs_per_prompt": a.jobs,
			"replicas_per_variant": a.replicas,
			"variants": self.variants.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
			"table1": table1,
			"hash_time_us": hash_time_us,
			"type2": {
				"seeds_per_prompt": a.type2_seeds,
				"pairs": self.collisions.pairs,
				"per_hash": type2,
				"max_of_three_histogram": self.collisions.histogram_max_of_three.to_vec(),
			},
			"type1": { "tolerances": describe(&set), "agreeing": agreeing, "replicas": replicas, "p": p, "p_lower_bound": p_low, "rows": type1 },
			"recommended": recommended,
			"calibration": { "smallest_honest": smallest_honest, "outcome": outcome, "collided_pairs": collided },
			"images": self.images,
			"seconds": self.generation_time.as_secs_f64(),
		})
	}
}

fn quorum_name(quorum: Quorum) -> &'static str {
	match quorum {
		Quorum::Majority => "majority",
		Quorum::Supermajority => "two thirds",
	}
}

/// "aHash 0, pHash 0, dHash 1".
pub fn describe(set: &Tolerances) -> String {
	set.algs.iter().map(|alg| format!("{} {}", alg_name(alg), set.of_alg(alg))).collect::<Vec<_>>().join(", ")
}

