//! Verifiable fine-tuning: textual inversion — learning one new token's embedding through the
//! frozen text encoder and UNet of the image model — made deterministic, checkpointed every
//! `checkpoint_interval` steps, and checkable one segment at a time.
//!
//! A training step draws, for each example of its batch, from six sources of randomness:
//! the example (the data order, [`Source::Shuffle`]), a horizontal flip ([`Source::Flip`]), the
//! prompt template ([`Source::Template`]), the noise of sampling the example's latent
//! ([`Source::LatentSample`], the VAE posterior's sample), the diffusion timestep
//! ([`Source::Timestep`]) and the noise the scheduler adds at it ([`Source::Noise`]). Each is
//! ChaCha20 seeded by the task seed, the source and the step alone (the order by the epoch), so
//! anyone holding checkpoint `i` replays steps `i..i + k` without the steps before: that is
//! what lets a verifier re-run one segment. The optimiser (Adam) runs on the CPU in `f64`, and
//! its moments are part of the [`Checkpoint`].
//!
//! What a verifier compares is a [`Lsh`] of the learned embedding: 64 parity bits of randomly
//! offset, quantised random projections. A drift far below the bucket width (another device's
//! rounding) flips a bit rarely; a step skipped or noise injected moves the projections by
//! about a learning rate each and flips about half the bits.
//!
//! A verifier checks two states of its segment: the checkpoint that ends it and a *probe*
//! halfway through ([`SegmentRun`]). The trainer serves checkpoints (a verifier needs the one
//! its segment starts from), never probes, and commits every probe's hash before any verifier
//! is drawn: a verifier that copies the next checkpoint instead of training cannot produce the
//! probe (an interpolation of the two checkpoints is about as far from it as a guess).

use super::{determinism, image::ImageEngine, scheduler, EngineError, Result};
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};
use std::collections::{BTreeMap, BTreeSet};
use tch::{Device, Kind, Tensor};

/// A source of randomness in a training step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
	Flip,
	Template,
	Shuffle,
	LatentSample,
	Timestep,
	Noise,
}

impl Source {
	pub const ALL: [Source; 6] =
		[Source::Flip, Source::Template, Source::Shuffle, Source::LatentSample, Source::Timestep, Source::Noise];

	pub fn name(self) -> &'static str {
		match self {
			Source::Flip => "flip",
			Source::Template => "template",
			Source::Shuffle => "shuffle",
			Source::LatentSample => "latent",
			Source::Timestep => "timestep",
			Source::Noise => "noise",
		}
	}
}

/// A training task's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingSpec {
	pub seed: u64,
	pub learning_rate: f64,
	pub steps: u32,
	pub batch_size: u32,
	/// Steps between checkpoints (`k`): a verifier re-runs one such segment.
	pub checkpoint_interval: u32,
	/// The token (one of the model's vocabulary) whose embedding the new token starts from.
	pub init_token: String,
	/// Prompt templates, `{}` marking the new token; each example draws one.
	pub templates: Vec<String>,
	/// Standard deviation of the noise added to a target latent (sampling the VAE posterior).
	pub latent_noise: f64,
}

const ADAM_BETA1: f64 = 0.9;
const ADAM_BETA2: f64 = 0.999;
const ADAM_EPSILON: f64 = 1e-8;
const TRAIN_TIMESTEPS: usize = 1000;

impl TrainingSpec {
	fn check(&self) -> Result<()> {
		let bad = |reason: &str| Err(EngineError::Params(format!("training: {reason}")));
		if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
			return bad("the learning rate must be positive");
		}
		if self.steps == 0 || self.batch_size == 0 || self.checkpoint_interval < 2 {
			return bad("steps and batch size must be positive, the checkpoint interval at least 2");
		}
		if self.steps % self.checkpoint_interval != 0 {
			return bad("the steps must be a multiple of the checkpoint interval");
		}
		if self.templates.is_empty() || self.templates.iter().any(|t| t.matches("{}").count() != 1) {
			return bad("every template must hold `{}` exactly once");
		}
		if !(self.latent_noise.is_finite() && self.latent_noise >= 0.0) {
			return bad("the latent noise must be a standard deviation");
		}
		Ok(())
	}

	/// The step at which the segment starting at `step` ends.
	pub fn segment_end(&self, step: u32) -> u32 {
		(step + self.checkpoint_interval).min(self.steps)
	}

	/// The step of the probe inside the segment starting at `step`.
	pub fn probe_step(&self, step: u32) -> u32 {
		step + (self.segment_end(step) - step) / 2
	}
}

/// The training state after `step` steps: the learned embedding and Adam's moments.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
	pub step: u32,
	pub embedding: Vec<f32>,
	pub first_moment: Vec<f32>,
	pub second_moment: Vec<f32>,
}

const CHECKPOINT_MAGIC: &[u8; 8] = b"RPLCKPT1";

impl Checkpoint {
	/// The bytes a trainer serves and whose blake2-256 it commits: magic, step and dimension
	/// (u32 LE), then the embedding and both moments (f32 LE).
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(16 + 12 * self.embedding.len());
		out.extend_from_slice(CHECKPOINT_MAGIC);
		out.extend_from_slice(&self.step.to_le_bytes());
		out.extend_from_slice(&(self.embedding.len() as u32).to_le_bytes());
		for values in [&self.embedding, &self.first_moment, &self.second_moment] {
			values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
		}
		out
	}

	/// Parses [`Self::to_bytes`]; a malformed checkpoint is a `Params` error.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
		let bad = |reason: &str| EngineError::Params(format!("checkpoint: {reason}"));
		if bytes.len() < 16 || &bytes[..8] != CHECKPOINT_MAGIC {
			return Err(bad("not a checkpoint"));
		}
		let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
		let (step, dim) = (word(8), word(12) as usize);
		if bytes.len() != 16 + 12 * dim {
			return Err(bad("length does not match its dimension"));
		}
		let floats = |part: usize| -> Vec<f32> {
			let start = 16 + 4 * dim * part;
			bytes[start..start + 4 * dim].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect()
		};
		Ok(Self { step, embedding: floats(0), first_moment: floats(1), second_moment: floats(2) })
	}

	pub fn digest(&self) -> [u8; 32] {
		sp_crypto_hashing::blake2_256(&self.to_bytes())
	}

	/// Euclidean distance between two checkpoints' embeddings.
	pub fn distance(&self, other: &Checkpoint) -> f64 {
		self.embedding.iter().zip(&other.embedding).map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2)).sum::<f64>().sqrt()
	}
}

const LATENTS_MAGIC: &[u8; 8] = b"RPLLATS1";

/// Training data (latents `[n, c, h, w]`) as the file a task names by URL and digest: magic,
/// the four dimensions (u32 LE), then the values (f32 LE).
pub fn latents_to_bytes(latents: &Tensor) -> Result<Vec<u8>> {
	let size = latents.size();
	if size.len() != 4 {
		return Err(EngineError::Params(format!("training data: latents [n, c, h, w], got {size:?}")));
	}
	let values = Vec::<f32>::try_from(latents.to_device(Device::Cpu).to_kind(Kind::Float).flatten(0, -1))?;
	let mut out = Vec::with_capacity(24 + 4 * values.len());
	out.extend_from_slice(LATENTS_MAGIC);
	size.iter().for_each(|d| out.extend_from_slice(&(*d as u32).to_le_bytes()));
	values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
	Ok(out)
}

/// Parses [`latents_to_bytes`] onto `device`; a malformed file is a `Params` error.
pub fn latents_from_bytes(bytes: &[u8], device: Device) -> Result<Tensor> {
	let bad = |reason: &str| EngineError::Params(format!("training data: {reason}"));
	if bytes.len() < 24 || &bytes[..8] != LATENTS_MAGIC {
		return Err(bad("not a latents file"));
	}
	let dims: Vec<i64> =
		bytes[8..24].chunks_exact(4).map(|c| i64::from(u32::from_le_bytes(c.try_into().expect("4 bytes")))).collect();
	let count = dims.iter().try_fold(1usize, |n, d| n.checked_mul(*d as usize)).ok_or_else(|| bad("too large"))?;
	if bytes.len() != 24 + 4 * count {
		return Err(bad("length does not match its dimensions"));
	}
	let values: Vec<f32> = bytes[24..].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
	Ok(Tensor::from_slice(&values).reshape(dims.as_slice()).to_device(device))
}

/// A locality-sensitive hash of embeddings: bit `i` is the parity of
/// `floor((a_i · e + b_i) / width)`, `a_i` standard normal and `b_i` uniform in `[0, width)`,
/// both from the task seed. Two embeddings whose projections differ by `d` disagree on a bit
/// with probability about `min(d / width, 1/2)`.
#[derive(Clone, Debug)]
pub struct Lsh {
	planes: Vec<f32>,
	offsets: Vec<f64>,
	width: f64,
	dim: usize,
}

pub const LSH_BITS: usize = 64;

impl Lsh {
	pub fn new(seed: u64, dim: usize, width: f64) -> Self {
		let planes = determinism::normal_values(determinism::seed_bytes(seed, "train/lsh/planes"), LSH_BITS * dim);
		let mut rng = ChaCha20Rng::from_seed(determinism::seed_bytes(seed, "train/lsh/offsets"));
		let offsets = (0..LSH_BITS).map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * width).collect();
		Self { planes, offsets, width, dim }
	}

	/// The hash of a task: planes and offsets from the task seed, buckets half a learning
	/// rate wide (a skipped step moves a projection by about a learning rate). Trainer and
	/// verifiers must use exactly this one.
	pub fn for_spec(spec: &TrainingSpec, dim: usize) -> Self {
		Self::new(spec.seed, dim, spec.learning_rate / 2.0)
	}

	pub fn hash(&self, embedding: &[f32]) -> u64 {
		assert_eq!(embedding.len(), self.dim, "an embedding of the hash's dimension");
		(0..LSH_BITS).fold(0u64, |bits, i| {
			let plane = &self.planes[i * self.dim..(i + 1) * self.dim];
			let projection: f64 = plane.iter().zip(embedding).map(|(a, e)| f64::from(*a) * f64::from(*e)).sum();
			let bucket = ((projection + self.offsets[i]) / self.width).floor() as i64;
			bits | (((bucket & 1) as u64) << i)
		})
	}
}

pub fn hamming(a: u64, b: u64) -> u32 {
	(a ^ b).count_ones()
}

/// One template as token embeddings `[1, t, hidden]`, with the new token's position.
struct Prompt {
	tokens: Tensor,
	position: i64,
}

/// Runs textual inversion for one [`TrainingSpec`] on target latents.
pub struct Trainer<'a> {
	engine: &'a ImageEngine,
	spec: TrainingSpec,
	/// Target latents `[n, 4, h, w]` on the engine's device.
	data: Tensor,
	prompts: Vec<Prompt>,
	alphas_cumprod: Vec<f64>,
	init: Vec<f32>,
	/// Sources drawn from fresh entropy instead of the seed (the reproduction's ablations).
	freed: BTreeSet<Source>,
	entropy: ChaCha20Rng,
	permutations: BTreeMap<u64, Vec<usize>>,
	/// Relative noise added to every gradient: simulates another device's rounding.
	gradient_drift: f64,
}

impl<'a> Trainer<'a> {
	pub fn new(engine: &'a ImageEngine, spec: TrainingSpec, data: &Tensor) -> Result<Self> {
		spec.check()?;
		let size = data.size();
		if size.len() != 4 || size[0] == 0 {
			return Err(EngineError::Params(format!("training data: latents [n, c, h, w], got {size:?}")));
		}
		if engine.token_count(&spec.init_token)? != 1 {
			return Err(EngineError::Params(format!("init token `{}` is not one token of the model", spec.init_token)));
		}
		let encoder = engine.text_encoder();
		let init_ids = engine.ids(&spec.init_token)?;
		let init = Vec::<f32>::try_from(encoder.embed_tokens(&init_ids)?.get(0).get(1).to_device(Device::Cpu))?;
		let prompts = spec
			.templates
			.iter()
			.map(|template| {
				let prefix = template.split("{}").next().unwrap_or_default();
				let position = 1 + engine.token_count(prefix)? as i64;
				let text = template.replace("{}", &spec.init_token);
				if position >= encoder.config().max_position_embeddings - 1 {
					return Err(EngineError::Params(format!("template `{template}` is too long for the model")));
				}
				Ok(Prompt { tokens: encoder.embed_tokens(&engine.ids(&text)?)?, position })
			})
			.collect::<Result<Vec<_>>>()?;
		let schedule = scheduler::Ddim::new(&scheduler::DdimConfig::default(), 1)?;
		let alphas_cumprod = (0..TRAIN_TIMESTEPS).map(|t| schedule.alpha_cumprod(t)).collect();
		Ok(Self {
			engine,
			spec,
			data: data.to_device(engine.device()).to_kind(Kind::Float),
			prompts,
			alphas_cumprod,
			init,
			freed: BTreeSet::new(),
			entropy: ChaCha20Rng::from_seed(os_seed()?),
			permutations: BTreeMap::new(),
			gradient_drift: 0.0,
		})
	}

	/// Draws `sources` from fresh entropy instead of the task seed.
	pub fn free(mut self, sources: impl IntoIterator<Item = Source>) -> Self {
		self.freed.extend(sources);
		self.permutations.clear();
		self
	}

	/// Adds relative noise of `relative` to every gradient (another device's rounding).
	pub fn with_gradient_drift(mut self, relative: f64) -> Self {
		self.gradient_drift = relative;
		self
	}

	pub fn spec(&self) -> &TrainingSpec {
		&self.spec
	}

	/// Step 0: the init token's embedding and zero moments.
	pub fn initial(&self) -> Checkpoint {
		let zeros = vec![0.0; self.init.len()];
		Checkpoint { step: 0, embedding: self.init.clone(), first_moment: zeros.clone(), second_moment: zeros }
	}

	/// Every checkpoint of a whole run, step 0 and the last step included.
	pub fn run(&mut self) -> Result<Vec<Checkpoint>> {
		Ok(self.run_with_probes()?.0)
	}

	/// A whole run as a trainer does it: the checkpoints (step 0 and the last step included)
	/// and each segment's probe (`probes[i]` lies inside segment `[i, i + 1]`).
	pub fn run_with_probes(&mut self) -> Result<(Vec<Checkpoint>, Vec<Checkpoint>)> {
		let (mut checkpoints, mut probes) = (vec![self.initial()], Vec::new());
		while checkpoints.last().expect("not empty").step < self.spec.steps {
			let from = checkpoints.last().expect("not empty").clone();
			let segment = self.segment(&from)?;
			checkpoints.push(segment.end);
			probes.push(segment.probe);
		}
		Ok((checkpoints, probes))
	}

	/// The segment from `from` to the next checkpoint: what a verifier re-runs.
	pub fn segment(&mut self, from: &Checkpoint) -> Result<SegmentRun> {
		if from.step >= self.spec.steps || from.embedding.len() != self.init.len() {
			return Err(EngineError::Params(format!("no segment starts at step {} of {}", from.step, self.spec.steps)));
		}
		let probe = self.train(from, self.spec.probe_step(from.step) - from.step)?;
		let end = self.train(&probe, self.spec.segment_end(from.step) - probe.step)?;
		Ok(SegmentRun { probe, end })
	}

	/// `steps` training steps from `from`.
	pub fn train(&mut self, from: &Checkpoint, steps: u32) -> Result<Checkpoint> {
		let mut state = from.clone();
		for _ in 0..steps {
			state = self.step(&state)?;
		}
		Ok(state)
	}

	fn seed(&mut self, source: Source, index: u64) -> [u8; 32] {
		if self.freed.contains(&source) {
			let mut seed = [0u8; 32];
			self.entropy.fill_bytes(&mut seed);
			seed
		} else {
			determinism::seed_bytes(self.spec.seed, &format!("train/{}/{index}", source.name()))
		}
	}

	/// The `global`-th example drawn since step 0: its place in the data order of its epoch,
	/// a Fisher–Yates shuffle drawn once per epoch.
	fn example(&mut self, global: u64) -> usize {
		let n = self.data.size()[0] as usize;
		let epoch = global / n as u64;
		if !self.permutations.contains_key(&epoch) {
			let mut rng = ChaCha20Rng::from_seed(self.seed(Source::Shuffle, epoch));
			let mut order: Vec<usize> = (0..n).collect();
			for i in (1..n).rev() {
				order.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
			}
			self.permutations.insert(epoch, order);
		}
		self.permutations[&epoch][(global % n as u64) as usize]
	}

	fn step(&mut self, state: &Checkpoint) -> Result<Checkpoint> {
		let step = u64::from(state.step);
		let batch = self.spec.batch_size as usize;
		let device = self.engine.device();
		let shape = self.data.get(0).size();
		let per_example = shape.iter().product::<i64>() as usize;
		let mut flips = ChaCha20Rng::from_seed(self.seed(Source::Flip, step));
		let mut templates = ChaCha20Rng::from_seed(self.seed(Source::Template, step));
		let mut timesteps = ChaCha20Rng::from_seed(self.seed(Source::Timestep, step));
		let latent_noise = determinism::normal_values(self.seed(Source::LatentSample, step), batch * per_example);
		let noise = determinism::normal_values(self.seed(Source::Noise, step), batch * per_example);
		let examples: Vec<usize> = (0..batch as u64).map(|j| self.example(step * batch as u64 + j)).collect();

		let learned = Tensor::from_slice(&state.embedding).to_device(device).set_requires_grad(true);
		let mut losses = Vec::with_capacity(batch);
		for (j, &example) in examples.iter().enumerate() {
			let slice = |values: &[f32]| {
				Tensor::from_slice(&values[j * per_example..(j + 1) * per_example]).reshape(shape.as_slice()).to_device(device)
			};
			let mut target = self.data.get(example as i64) + slice(&latent_noise) * self.spec.latent_noise;
			if flips.next_u32() & 1 == 1 {
				target = target.flip([2]);
			}
			let t = (timesteps.next_u64() % TRAIN_TIMESTEPS as u64) as usize;
			let alpha = self.alphas_cumprod[t];
			let epsilon = slice(&noise);
			let noisy = &target * alpha.sqrt() + &epsilon * (1.0 - alpha).sqrt();
			let prompt = &self.prompts[(templates.next_u64() % self.prompts.len() as u64) as usize];
			let length = prompt.tokens.size()[1];
			let mask = Tensor::zeros([1, length, 1], (Kind::Float, device));
			let _ = mask.narrow(1, prompt.position, 1).fill_(1.0);
			let tokens = &prompt.tokens * (&mask * -1.0 + 1.0) + &mask * learned.view([1, 1, -1]);
			let context = self.engine.text_encoder().encode_embedded(&tokens);
			let predicted = self.engine.unet().forward_differentiable(&noisy.unsqueeze(0), t as f64, &context);
			losses.push((predicted - epsilon.unsqueeze(0)).square().mean(Kind::Float));
		}
		Tensor::stack(&losses, 0).mean(Kind::Float).backward();
		let mut gradient = Vec::<f32>::try_from(learned.grad().to_device(Device::Cpu))?;
		if self.gradient_drift > 0.0 {
			let mut seed = [0u8; 32];
			self.entropy.fill_bytes(&mut seed);
			let jitter = determinism::normal_values(seed, gradient.len());
			for (g, e) in gradient.iter_mut().zip(jitter) {
				*g += *g * e * self.gradient_drift as f32;
			}
		}
		Ok(adam(state, &gradient, self.spec.learning_rate))
	}
}

/// 32 bytes of the operating system's entropy (the freed sources' seeds).
fn os_seed() -> Result<[u8; 32]> {
	let mut seed = [0u8; 32];
	getrandom::getrandom(&mut seed).map_err(|e| EngineError::Params(format!("no entropy: {e}")))?;
	Ok(seed)
}

/// One Adam step on the CPU in `f64` (the same bits on every device).
fn adam(state: &Checkpoint, gradient: &[f32], learning_rate: f64) -> Checkpoint {
	let t = f64::from(state.step + 1);
	let (correction1, correction2) = (1.0 - ADAM_BETA1.powf(t), 1.0 - ADAM_BETA2.powf(t));
	let mut next = Checkpoint {
		step: state.step + 1,
		embedding: Vec::with_capacity(gradient.len()),
		first_moment: Vec::with_capacity(gradient.len()),
		second_moment: Vec::with_capacity(gradient.len()),
	};
	for (i, g) in gradient.iter().map(|g| f64::from(*g)).enumerate() {
		let m = ADAM_BETA1 * f64::from(state.first_moment[i]) + (1.0 - ADAM_BETA1) * g;
		let v = ADAM_BETA2 * f64::from(state.second_moment[i]) + (1.0 - ADAM_BETA2) * g * g;
		let update = learning_rate * (m / correction1) / ((v / correction2).sqrt() + ADAM_EPSILON);
		next.embedding.push((f64::from(state.embedding[i]) - update) as f32);
		next.first_moment.push(m as f32);
		next.second_moment.push(v as f32);
	}
	next
}

/// One segment's run: the probe halfway through it and the checkpoint that ends it.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentRun {
	pub probe: Checkpoint,
	pub end: Checkpoint,
}

/// The hashes of a segment's probe and end: what a trainer commits for each segment and what a
/// verifier commits for its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHashes {
	pub probe: u64,
	pub end: u64,
}

impl SegmentHashes {
	pub fn of(lsh: &Lsh, run: &SegmentRun) -> Self {
		Self { probe: lsh.hash(&run.probe.embedding), end: lsh.hash(&run.end.embedding) }
	}
}

/// A verifier's check of one segment: it re-ran the segment from the trainer's checkpoint at
/// its start and compares its hashes with the trainer's.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentCheck {
	/// The verifier's own hashes (what it commits).
	pub hashes: SegmentHashes,
	/// Bits in which its probe and its end differ from the trainer's claim.
	pub probe_distance: u32,
	pub end_distance: u32,
	/// Both within the tolerance.
	pub passed: bool,
}

/// Re-runs the segment starting at `start` and compares with `claimed` (the trainer's hashes
/// of its probe and of the checkpoint that ends it), each within `tolerance` bits.
pub fn check_segment(
	trainer: &mut Trainer,
	lsh: &Lsh,
	start: &Checkpoint,
	claimed: SegmentHashes,
	tolerance: u32,
) -> Result<SegmentCheck> {
	let hashes = SegmentHashes::of(lsh, &trainer.segment(start)?);
	let (probe_distance, end_distance) = (hamming(hashes.probe, claimed.probe), hamming(hashes.end, claimed.end));
	Ok(SegmentCheck { hashes, probe_distance, end_distance, passed: probe_distance <= tolerance && end_distance <= tolerance })
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::engines::image::ImageRequest;
	use std::path::Path;

	fn engine() -> ImageEngine {
		determinism::enable().unwrap();
		ImageEngine::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/digits-sd"), Device::Cpu).unwrap()
	}

	/// Latents of the digit seven, as the model generates them.
	fn sevens(engine: &ImageEngine, count: u32) -> Tensor {
		let size = engine.native_size();
		let request = ImageRequest {
			prompt: "a photo of the digit seven".into(),
			negative_prompt: String::new(),
			seed: 3,
			steps: 10,
			guidance: 4.0,
			width: size,
			height: size,
			count,
		};
		engine.denoise_latents(&request, engine.initial_latents(&request)).unwrap()
	}

	fn spec() -> TrainingSpec {
		TrainingSpec {
			seed: 11,
			learning_rate: 0.02,
			steps: 12,
			batch_size: 2,
			checkpoint_interval: 4,
			init_token: "digit".into(),
			templates: vec!["a photo of the digit {}".into(), "the digit {}".into(), "{}".into()],
			latent_noise: 0.1,
		}
	}

	/// The segment checks' tolerance in bits.
	const TOLERANCE: u32 = 8;

	/// A trainer's whole run with its probes, and the LSH the checks use.
	struct Trained {
		engine: ImageEngine,
		data: Tensor,
		spec: TrainingSpec,
		run: Vec<Checkpoint>,
		probes: Vec<Checkpoint>,
		lsh: Lsh,
	}

	fn trained() -> Trained {
		let engine = engine();
		let data = sevens(&engine, 4);
		let spec = spec();
		let (run, probes) = Trainer::new(&engine, spec.clone(), &data).unwrap().run_with_probes().unwrap();
		let lsh = Lsh::new(spec.seed, run[0].embedding.len(), spec.learning_rate / 2.0);
		Trained { engine, data, spec, run, probes, lsh }
	}

	#[test]
	fn runs_are_bit_identical_and_every_segment_replays_from_its_checkpoint_alone() {
		let engine = engine();
		let data = sevens(&engine, 4);
		let (run, probes) = Trainer::new(&engine, spec(), &data).unwrap().run_with_probes().unwrap();
		assert_eq!(run.iter().map(|c| c.step).collect::<Vec<_>>(), [0, 4, 8, 12]);
		assert_eq!(probes.iter().map(|c| c.step).collect::<Vec<_>>(), [2, 6, 10]);
		assert_ne!(run[0].embedding, run[3].embedding, "training moved the embedding");
		assert_eq!((run.clone(), probes.clone()), Trainer::new(&engine, spec(), &data).unwrap().run_with_probes().unwrap());
		// A fresh trainer (a verifier) given only checkpoint i reaches probe i and checkpoint
		// i + 1 exactly.
		for i in [2, 0, 1] {
			let mut verifier = Trainer::new(&engine, spec(), &data).unwrap();
			assert_eq!(verifier.segment(&run[i]).unwrap(), SegmentRun { probe: probes[i].clone(), end: run[i + 1].clone() }, "segment {i}");
		}
		// Every source of randomness matters: freeing any one changes the run.
		for source in Source::ALL {
			let freed = Trainer::new(&engine, spec(), &data).unwrap().free([source]).run().unwrap();
			assert_ne!(freed.last(), run.last(), "{source:?} freed");
		}
	}

	#[test]
	fn checkpoints_round_trip_and_their_digest_covers_every_byte() {
		let checkpoint =
			Checkpoint { step: 7, embedding: vec![0.5, -1.0], first_moment: vec![0.25, 0.0], second_moment: vec![1e-3, 2.0] };
		let bytes = checkpoint.to_bytes();
		assert_eq!(Checkpoint::from_bytes(&bytes).unwrap(), checkpoint);
		for at in [0, 8, 12, 16, bytes.len() - 1] {
			let mut changed = bytes.clone();
			changed[at] ^= 1;
			assert_ne!(sp_crypto_hashing::blake2_256(&changed), checkpoint.digest(), "byte {at}");
		}
		assert!(Checkpoint::from_bytes(&bytes[..bytes.len() - 1]).is_err());
		assert!(Checkpoint::from_bytes(b"RPLCKPT0\0\0\0\0\0\0\0\0").is_err());
	}

	#[test]
	fn a_segment_check_passes_an_honest_trainer_and_fails_one_that_skips_steps_or_adds_noise() {
		let Trained { engine, data, spec, run, probes, lsh } = trained();
		let tolerance = TOLERANCE;
		let claim = |probe: &Checkpoint, end: &Checkpoint| SegmentHashes { probe: lsh.hash(&probe.embedding), end: lsh.hash(&end.embedding) };
		let mut verifier = Trainer::new(&engine, spec.clone(), &data).unwrap();
		let honest = check_segment(&mut verifier, &lsh, &run[1], claim(&probes[1], &run[2]), tolerance).unwrap();
		assert_eq!((honest.probe_distance, honest.end_distance), (0, 0));
		assert!(honest.passed);
		// A trainer that skipped the segment's last step.
		let skipped = Trainer::new(&engine, spec.clone(), &data).unwrap().train(&probes[1], 1).unwrap();
		let verdict = check_segment(&mut verifier, &lsh, &run[1], claim(&probes[1], &skipped), tolerance).unwrap();
		assert!(!verdict.passed && verdict.end_distance > tolerance, "skipping one step of four: {verdict:?}");
		// A trainer that added noise of a learning rate's size to its result.
		let mut noisy = run[2].clone();
		let jitter = determinism::normal_values(determinism::seed_bytes(5, "test"), noisy.embedding.len());
		noisy.embedding.iter_mut().zip(jitter).for_each(|(e, j)| *e += j * spec.learning_rate as f32);
		let verdict = check_segment(&mut verifier, &lsh, &run[1], claim(&probes[1], &noisy), tolerance).unwrap();
		assert!(!verdict.passed && verdict.end_distance > tolerance, "noise injected: {verdict:?}");
		// Another device's rounding (relative 1e-6 on every gradient) stays within tolerance.
		let mut device = Trainer::new(&engine, spec.clone(), &data).unwrap().with_gradient_drift(1e-6);
		let verdict = check_segment(&mut device, &lsh, &run[1], claim(&probes[1], &run[2]), tolerance).unwrap();
		assert!(verdict.passed, "rounding drift: {verdict:?}");
	}

	#[test]
	fn a_verifier_that_copies_the_next_checkpoint_cannot_produce_the_probe() {
		let Trained { run, probes, lsh, .. } = trained();
		let tolerance = TOLERANCE;
		// The copier holds checkpoints 1 (served to it) and 2 (copied from the trainer's server
		// or another verifier), never probe 1: its best guess is the midpoint of the two.
		let midpoint: Vec<f32> = run[1].embedding.iter().zip(&run[2].embedding).map(|(a, b)| (a + b) / 2.0).collect();
		let copied = SegmentHashes { probe: lsh.hash(&midpoint), end: lsh.hash(&run[2].embedding) };
		let truth = SegmentHashes { probe: lsh.hash(&probes[1].embedding), end: lsh.hash(&run[2].embedding) };
		assert_eq!(copied.end, truth.end, "the copied end is right");
		assert!(hamming(copied.probe, truth.probe) > tolerance, "the guessed probe is {} bits off", hamming(copied.probe, truth.probe));
		// Guessing the probe from the start instead fares no better.
		assert!(hamming(lsh.hash(&run[1].embedding), truth.probe) > tolerance);
	}

	#[test]
	fn training_data_round_trips_and_malformed_files_are_refused() {
		let latents = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.0, 1.5, -0.25]).reshape([1, 2, 3, 1]);
		let bytes = latents_to_bytes(&latents).unwrap();
		assert_eq!(latents_from_bytes(&bytes, Device::Cpu).unwrap(), latents);
		assert!(latents_from_bytes(&bytes[..bytes.len() - 1], Device::Cpu).is_err());
		assert!(latents_from_bytes(b"RPLCKPT1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", Device::Cpu).is_err());
		assert!(latents_to_bytes(&Tensor::zeros([2, 2], (Kind::Float, Device::Cpu))).is_err());
	}

	#[test]
	fn bad_specs_and_data_are_refused() {
		let engine = engine();
		let data = sevens(&engine, 2);
		let refused = |spec: TrainingSpec| matches!(Trainer::new(&engine, spec, &data), Err(EngineError::Params(_)));
		assert!(refused(TrainingSpec { learning_rate: 0.0, ..spec() }));
		assert!(refused(TrainingSpec { checkpoint_interval: 1, ..spec() }));
		assert!(refused(TrainingSpec { steps: 10, ..spec() }), "not a multiple of the interval");
		assert!(refused(TrainingSpec { templates: vec!["no placeholder".into()], ..spec() }));
		assert!(refused(TrainingSpec { init_token: "not a token".into(), ..spec() }));
		assert!(matches!(Trainer::new(&engine, spec(), &Tensor::zeros([0, 4, 8, 8], (Kind::Float, Device::Cpu))), Err(EngineError::Params(_))));
		let mut trainer = Trainer::new(&engine, spec(), &data).unwrap();
		let end = Checkpoint { step: 12, ..trainer.initial() };
		assert!(trainer.segment(&end).is_err(), "no segment starts at the last step");
	}
}
