//! The task pipeline's device side: one job at a time, executed with the engines, its files
//! written, its result sealed and stored durably before the chain side may commit it.

use crate::{
	chain::runtime::runtime_types::pallet_tasks::types::{Decoding as ChainDecoding, TaskParams},
	engines::{
		image::{png, ImageEngine, ImageRequest},
		training::{latents_from_bytes, Checkpoint, SegmentRun, Trainer},
		text::{Decoding, TextEngine, TextOutput},
		EngineError,
	},
	hashing::ImageHasher,
	metrics::Metrics,
	models::{LocalKind, LocalModel},
	store::{Outcome, Phase, SealedResult, Store},
};
use anyhow::Context;
use replica_primitives::{CannotExecute, HashAlgs, ImageResult, ResultPayload};
use std::{
	collections::HashMap,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
	time::Instant,
};
use tch::Device;

/// What the device thread is asked to do.
pub enum Work {
	/// Execute an assigned task.
	Execute(Job),
	/// Load a model and warm it up, before the worker declares it on chain; `done` says
	/// whether it worked (a model that fails to load is not declared).
	Load { id: u32, model: LocalModel, done: tokio::sync::oneshot::Sender<anyhow::Result<()>> },
	/// Answer or judge for a swarm query, on a loaded text model.
	Swarm(SwarmWork),
	/// Train, or re-run a segment, for a training task, on a loaded image model.
	Training(TrainingWork),
}

/// Training work on a loaded image model (see [`crate::training`]); `data` is the training
/// data file ([`crate::engines::training::latents_from_bytes`]).
pub enum TrainingWork {
	/// The whole run: every checkpoint (the initial one first) and every segment's probe.
	Train {
		model: u32,
		spec: crate::engines::training::TrainingSpec,
		data: Vec<u8>,
		done: tokio::sync::oneshot::Sender<anyhow::Result<(Vec<Checkpoint>, Vec<Checkpoint>)>>,
	},
	/// One segment, from the checkpoint that starts it.
	Segment {
		model: u32,
		spec: crate::engines::training::TrainingSpec,
		data: Vec<u8>,
		start: Checkpoint,
		done: tokio::sync::oneshot::Sender<anyhow::Result<SegmentRun>>,
	},
}

/// Swarm work on a loaded text model (see [`crate::swarm`]).
pub enum SwarmWork {
	/// Sample an answer to `prompt` (at `temperature`, draws seeded with `seed`).
	Answer {
		model: u32,
		prompt: String,
		max_tokens: u32,
		temperature: f64,
		seed: u64,
		done: tokio::sync::oneshot::Sender<anyhow::Result<TextOutput>>,
	},
	/// Judge each of `answers`: its mean log-likelihood given `prompt`.
	Judge { model: u32, prompt: String, answers: Vec<String>, done: tokio::sync::oneshot::Sender<anyhow::Result<Vec<f64>>> },
}

/// Executions of one task, retry included, before it is given up.
pub const MAX_ATTEMPTS: u32 = 2;

/// One assigned task to execute.
#[derive(Debug)]
pub struct Job {
	pub task: u64,
	pub round: u32,
	pub model: u32,
	pub params: TaskParams,
	pub commit_deadline: u64,
}

enum Engine {
	Image(ImageEngine),
	Text(TextEngine),
}

impl Engine {
	fn load(model: &LocalModel, device: Device) -> anyhow::Result<Self> {
		Ok(match model.kind {
			LocalKind::Image => Engine::Image(ImageEngine::load(&model.dir, device)?),
			LocalKind::Text => Engine::Text(TextEngine::load(&model.dir, device)?),
		})
	}
}

/// A fault injected into the next executions, for the fault-injection tests: set
/// `REPLICA_WORKER_INJECT_FAULT` to `panic:N` (the engine panics) or `oom:N` (it panics as tch
/// does when CUDA runs out of memory) for the next N executions. Never set it in production.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InjectedFault {
	Panic { times: u32 },
	OutOfMemory { times: u32 },
}

impl InjectedFault {
	pub const ENV: &'static str = "REPLICA_WORKER_INJECT_FAULT";

	/// The fault `REPLICA_WORKER_INJECT_FAULT` asks for, if any.
	pub fn from_env() -> anyhow::Result<Option<Self>> {
		let Ok(value) = std::env::var(Self::ENV) else { return Ok(None) };
		let (kind, times) = value.split_once(':').unwrap_or((value.as_str(), "1"));
		let times: u32 = times.parse().with_context(|| format!("{}={value}: a count after ':'", Self::ENV))?;
		match kind {
			"panic" => Ok(Some(Self::Panic { times })),
			"oom" => Ok(Some(Self::OutOfMemory { times })),
			_ => anyhow::bail!("{}={value}: expected panic:N or oom:N", Self::ENV),
		}
	}

	fn strike(fault: &mut Option<Self>) {
		let Some(current) = fault.as_mut() else { return };
		let (times, message) = match current {
			Self::Panic { times } => (times, "injected engine panic"),
			Self::OutOfMemory { times } => (
				times,
				"CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; injected by REPLICA_WORKER_INJECT_FAULT)",
			),
		};
		if *times == 0 {
			return;
		}
		*times -= 1;
		panic!("{message}");
	}
}

/// The served models by chain id, loaded (and warmed up) by [`Runner::load`] and kept.
pub struct Runner {
	models: HashMap<u32, LocalModel>,
	loaded: HashMap<u32, Engine>,
	device: Device,
	hasher: ImageHasher,
	fault: Option<InjectedFault>,
}

impl Runner {
	/// A runner serving no model yet (see [`Runner::load`]).
	pub fn new(device: Device) -> Self {
		Self { models: HashMap::new(), loaded: HashMap::new(), device, hasher: ImageHasher::new(), fault: None }
	}

	/// Injects `fault` into the next executions (fault-injection tests only).
	pub fn with_fault(mut self, fault: Option<InjectedFault>) -> Self {
		self.fault = fault;
		self
	}

	/// Does swarm work and sends back what came of it (a panic in the engine included).
	pub fn swarm(&mut self, work: SwarmWork) {
		let caught = |f: &mut dyn FnMut() -> anyhow::Result<()>| match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
			Ok(outcome) => outcome,
			Err(_) => Err(anyhow::anyhow!("the text engine panicked")),
		};
		match work {
			SwarmWork::Answer { model, prompt, max_tokens, temperature, seed, done } => {
				let mut output = None;
				let outcome = caught(&mut || {
					output = Some(self.text_engine(model)?.sample(&prompt, max_tokens, temperature, seed)?);
					Ok(())
				});
				let _ = done.send(outcome.and_then(|()| output.take().context("no answer")));
			},
			SwarmWork::Judge { model, prompt, answers, done } => {
				let mut scores = Vec::with_capacity(answers.len());
				let outcome = caught(&mut || {
					let engine = self.text_engine(model)?;
					scores.clear();
					for answer in &answers {
						scores.push(engine.log_likelihood(&prompt, answer)?);
					}
					Ok(())
				});
				let _ = done.send(outcome.map(|()| std::mem::take(&mut scores)));
			},
		}
	}

	/// Does training work and sends back what came of it (a panic in the engine included).
	pub fn training(&mut self, work: TrainingWork) {
		let caught = |f: &mut dyn FnMut() -> anyhow::Result<()>| match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
			Ok(outcome) => outcome,
			Err(_) => Err(anyhow::anyhow!("the image engine panicked while training")),
		};
		match work {
			TrainingWork::Train { model, spec, data, done } => {
				let mut output = None;
				let outcome = caught(&mut || {
					let engine = self.image_engine(model)?;
					let latents = latents_from_bytes(&data, engine.device())?;
					output = Some(Trainer::new(engine, spec.clone(), &latents)?.run_with_probes()?);
					Ok(())
				});
				let _ = done.send(outcome.and_then(|()| output.take().context("no run")));
			},
			TrainingWork::Segment { model, spec, data, start, done } => {
				let mut output = None;
				let outcome = caught(&mut || {
					let engine = self.image_engine(model)?;
					let latents = latents_from_bytes(&data, engine.device())?;
					output = Some(Trainer::new(engine, spec.clone(), &latents)?.segment(&start)?);
					Ok(())
				});
				let _ = done.send(outcome.and_then(|()| output.take().context("no segment run")));
			},
		}
	}

	fn image_engine(&self, model: u32) -> anyhow::Result<&ImageEngine> {
		match self.loaded.get(&model) {
			Some(Engine::Image(engine)) => Ok(engine),
			_ => anyhow::bail!("model {model} is not an image model loaded here"),
		}
	}

	fn text_engine(&self, model: u32) -> anyhow::Result<&TextEngine> {
		match self.loaded.get(&model) {
			Some(Engine::Text(engine)) => Ok(engine),
			_ => anyhow::bail!("model {model} is not a text model loaded here"),
		}
	}

	/// Loads model `id` from `model` and runs it once on a minimal input, so that the first
	/// task does not pay the load against its deadline and a model that cannot run here is
	/// known before it is declared. On failure the model is not served.
	pub fn load(&mut self, id: u32, model: LocalModel) -> anyhow::Result<()> {
		self.models.insert(id, model.clone());
		let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.load_and_warm_up(id, &model)))
			.unwrap_or_else(|_| Err(anyhow::anyhow!("the engine panicked while loading")));
		if outcome.is_err() {
			self.models.remove(&id);
			self.loaded.remove(&id);
		}
		outcome
	}

	fn load_and_warm_up(&mut self, id: u32, model: &LocalModel) -> anyhow::Result<()> {
		let started = Instant::now();
		let engine = Engine::load(model, self.device)?;
		match &engine {
			Engine::Image(engine) => {
				let side = engine.native_size();
				engine.generate(&ImageRequest {
					prompt: "warm-up".into(),
					negative_prompt: String::new(),
					seed: 0,
					steps: 1,
					// Above 1: the guided batch of two, the shapes tasks run.
					guidance: 7.5,
					width: side,
					height: side,
					count: 1,
				})?;
			},
			Engine::Text(engine) => {
				engine.generate("warm-up", 1, Decoding::Greedy)?;
			},
		}
		tracing::info!("model {id} loaded and warmed up from {} in {:.1} s", model.dir.display(), started.elapsed().as_secs_f64());
		self.loaded.insert(id, engine);
		Ok(())
	}

	/// Runs `job`, catching a panicking engine (tch's panicking API, a CUDA out-of-memory):
	/// the error names it and the model is unloaded, so the next try starts clean.
	pub fn execute_caught(&mut self, job: &Job) -> anyhow::Result<(ResultPayload, Vec<(String, Vec<u8>)>)> {
		match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.execute(job))) {
			Ok(result) => result,
			Err(panic) => {
				self.loaded.remove(&job.model);
				let message = panic
					.downcast_ref::<String>()
					.map(String::as_str)
					.or_else(|| panic.downcast_ref::<&str>().copied())
					.unwrap_or("a non-string panic");
				anyhow::bail!("the engine panicked: {message}")
			},
		}
	}

	/// Runs `job`: its on-chain payload and the files to serve (name, bytes).
	pub fn execute(&mut self, job: &Job) -> anyhow::Result<(ResultPayload, Vec<(String, Vec<u8>)>)> {
		InjectedFault::strike(&mut self.fault);
		let model = self.models.get(&job.model).with_context(|| format!("model {} is not served here", job.model))?;
		if !self.loaded.contains_key(&job.model) {
			// Unloaded after a panic: load it again.
			let started = Instant::now();
			tracing::info!("loading model {} from {}", job.model, model.dir.display());
			let engine = Engine::load(model, self.device)?;
			tracing::info!("model {} loaded in {:.1} s", job.model, started.elapsed().as_secs_f64());
			self.loaded.insert(job.model, engine);
		}
		let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
		match (self.loaded.get(&job.model), &job.params) {
			(Some(Engine::Image(engine)), TaskParams::Image(p)) => {
				let request = ImageRequest {
					prompt: text(&p.prompt.0),
					negative_prompt: text(&p.negative_prompt.0),
					seed: p.seed,
					steps: p.steps as usize,
					guidance: p.guidance_milli as f64 / 1000.0,
					width: p.width,
					height: p.height,
					count: p.count,
				};
				let images = engine.generate(&request)?;
				let mut results = Vec::new();
				let mut files = Vec::new();
				for (i, image) in images.iter().enumerate() {
					let bytes = png(image);
					let hashes = self.hasher.hash(image, HashAlgs::ALL)?;
					results.push(ImageResult { hashes, png_digest: sp_crypto_hashing::blake2_256(&bytes) });
					files.push((format!("image-{i}.png"), bytes));
				}
				let results = results.try_into().map_err(|_| anyhow::anyhow!("more images than a result holds"))?;
				Ok((ResultPayload::Image(results), files))
			},
			(Some(Engine::Text(engine)), TaskParams::Text(p)) => {
				let decoding = match p.decoding {
					ChainDecoding::Greedy => Decoding::Greedy,
					ChainDecoding::Beam { width } => Decoding::Beam { width },
					ChainDecoding::Sampling => anyhow::bail!("sampling cannot be verified"),
				};
				let output = match engine.generate(&text(&p.prompt.0), p.max_tokens, decoding) {
					// Deterministic: every honest worker refuses alike, and a quorum of refusals
					// fails the task with a refund instead of slashing everyone as a no-show.
					Err(EngineError::ContextExceeded { .. }) => {
						tracing::info!("the prompt and max_tokens exceed the context; committing a refusal");
						return Ok((ResultPayload::CannotExecute(CannotExecute::ContextExceeded), Vec::new()));
					},
					other => other?,
				};
				let result = output.to_result();
				let files = vec![("text.txt".to_string(), result.text.to_vec())];
				Ok((ResultPayload::Text(result), files))
			},
			_ => anyhow::bail!("the task asks model {} for the other kind of output", job.model),
		}
	}
}

/// The device thread's next piece of work. Swarm and training work wait while tasks (or
/// model loads) are queued: a task's stake is at risk against its commit deadline measured in
/// seconds, swarm and training work have windows of many blocks. Such work that arrives is
/// set aside in `deferred`, in order, and taken only when nothing else is queued. `None` once
/// the sending side is closed and nothing is left.
pub fn next_work(work: &mut tokio::sync::mpsc::Receiver<Work>, deferred: &mut std::collections::VecDeque<Work>) -> Option<Work> {
	use tokio::sync::mpsc::error::TryRecvError;
	loop {
		let next = match work.try_recv() {
			Ok(next) => next,
			Err(TryRecvError::Empty) => match deferred.pop_front() {
				Some(waited) => return Some(waited),
				None => work.blocking_recv()?,
			},
			Err(TryRecvError::Disconnected) => return deferred.pop_front(),
		};
		match next {
			Work::Swarm(_) | Work::Training(_) => deferred.push_back(next),
			other => return Some(other),
		}
	}
}

/// Everything the device thread needs.
pub struct Executor {
	pub runner: Runner,
	pub store: Arc<Store>,
	pub metrics: Metrics,
	/// This worker's account id (part of every commitment's context).
	pub account: [u8; 32],
	/// The latest finalized block the chain side has seen.
	pub latest_block: Arc<AtomicU64>,
	/// Tells the chain side that a task is sealed and can be committed.
	pub sealed: tokio::sync::mpsc::UnboundedSender<u64>,
	/// The tasks handed to this thread; each leaves the set once done here.
	pub queued: crate::daemon::Queued,
	/// True while this thread takes jobs (for `/health`).
	pub alive: Arc<std::sync::atomic::AtomicBool>,
}

impl Executor {
	/// Takes jobs until the sending side closes. Runs on its own thread: the engines block. A
	/// failing or panicking job never ends the thread.
	pub fn run(mut self, mut work: tokio::sync::mpsc::Receiver<Work>) {
		self.alive.store(true, Ordering::Relaxed);
		/// Clears `alive` however the thread ends.
		struct Stopped(Arc<std::sync::atomic::AtomicBool>);
		impl Drop for Stopped {
			fn drop(&mut self) {
				self.0.store(false, Ordering::Relaxed);
			}
		}
		let _stopped = Stopped(self.alive.clone());
		// ATen hands the pinned count to each new thread lazily; MKL's count is per thread.
		tch::set_num_threads(crate::engines::determinism::CPU_THREADS);
		let mut swarm = std::collections::VecDeque::new();
		while let Some(next) = next_work(&mut work, &mut swarm) {
			let job = match next {
				Work::Execute(job) => job,
				Work::Load { id, model, done } => {
					let _ = done.send(self.runner.load(id, model));
					continue;
				},
				Work::Swarm(work) => {
					self.runner.swarm(work);
					continue;
				},
				Work::Training(work) => {
					self.runner.training(work);
					continue;
				},
			};
			self.metrics.queue_length.dec();
			let _span = crate::task_span(job.task).entered();
			match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.one(&job))) {
				Ok(Ok(())) => {},
				Ok(Err(e)) => tracing::error!("{e:#}"),
				Err(_) => tracing::error!("panicked outside the engine; the device thread goes on"),
			}
			self.queued.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&job.task);
		}
	}

	fn one(&mut self, job: &Job) -> anyhow::Result<()> {
		// Never execute (and so never seal) a task twice: only a task still `Assigned` runs.
		match self.store.get(job.task)? {
			Some(record) if record.phase == Phase::Assigned => {},
			_ => return Ok(()),
		}
		let now = self.latest_block.load(Ordering::Relaxed);
		if now >= job.commit_deadline {
			tracing::warn!("commit deadline #{} passed (now #{now}); skipped", job.commit_deadline);
			self.metrics.skipped.inc();
			return self.finish(job.task, Outcome::Skipped { reason: format!("commit deadline #{} passed", job.commit_deadline) });
		}
		// A job that took the whole process down (an abort inside libtorch, the OOM killer)
		// twice is not tried a third time: every restart would die on it again.
		let attempts = self.store.update(job.task, |r| r.attempts += 1)?.map_or(1, |r| r.attempts);
		if attempts > MAX_ATTEMPTS {
			tracing::error!("killed the worker during {MAX_ATTEMPTS} executions; not trying again");
			self.metrics.skipped.inc();
			return self.finish(
				job.task,
				Outcome::ExecutionFailed { error: format!("the worker died during {MAX_ATTEMPTS} executions of it") },
			);
		}
		let started = Instant::now();
		tracing::info!("executing (model {})", job.model);
		// One retry: an out-of-memory error or a panic is often transient (fragmentation,
		// another process on the GPU), and a missed task costs the operator stake.
		let outcome = match self.runner.execute_caught(job) {
			Err(e) if attempts < MAX_ATTEMPTS => {
				tracing::warn!("{e:#}; retrying once");
				self.store.update(job.task, |r| r.attempts += 1)?;
				self.runner.execute_caught(job)
			},
			other => other,
		};
		let (payload, files) = match outcome {
			Ok(done) => done,
			Err(e) => {
				tracing::error!("{e:#}; not committed");
				self.metrics.skipped.inc();
				return self.finish(job.task, Outcome::ExecutionFailed { error: format!("{e:#}") });
			},
		};
		let dir = self.store.results_dir(job.task);
		std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
		for (name, bytes) in &files {
			std::fs::write(dir.join(name), bytes).with_context(|| format!("writing {}", dir.join(name).display()))?;
		}
		let mut key = [0u8; 32];
		getrandom::getrandom(&mut key).context("no randomness from the OS for the sealing key")?;
		let sealed = replica_primitives::seal(&payload, job.task, job.round, &self.account, &key);
		let record = SealedResult {
			key,
			commitment: sealed.commitment,
			ciphertext: sealed.ciphertext,
			payload: codec::Encode::encode(&payload),
		};
		// Durable before anything goes to the chain: a restart can then always reveal.
		self.store.update(job.task, |r| {
			r.phase = Phase::Sealed;
			r.sealed = Some(record);
			r.outputs = files.iter().map(|(name, _)| name.clone()).collect();
		})?;
		let seconds = started.elapsed().as_secs_f64();
		self.metrics.executed.inc();
		self.metrics.execution_seconds.observe(seconds);
		tracing::info!("executed and sealed in {seconds:.2} s");
		let _ = self.sealed.send(job.task);
		Ok(())
	}

	fn finish(&self, task: u64, outcome: Outcome) -> anyhow::Result<()> {
		self.store.update(task, |r| {
			r.phase = Phase::Done;
			r.outcome = Some(outcome);
		})?;
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		chain::runtime::runtime_types::{bounded_collections::bounded_vec::BoundedVec, pallet_tasks::types::TextParams},
		store::TaskRecord,
	};

	fn executor(store: Arc<Store>, fault: Option<InjectedFault>) -> Executor {
		let (sealed, _) = tokio::sync::mpsc::unbounded_channel();
		Executor {
			runner: Runner::new(Device::Cpu).with_fault(fault),
			store,
			metrics: Metrics::new().unwrap(),
			account: [1; 32],
			latest_block: Arc::new(AtomicU64::new(5)),
			sealed,
			queued: Default::default(),
			alive: Default::default(),
		}
	}

	fn job(task: u64) -> Job {
		let params = TaskParams::Text(TextParams {
			prompt: BoundedVec(b"Love is".to_vec()),
			max_tokens: 4,
			decoding: ChainDecoding::Greedy,
		});
		Job { task, round: 0, model: 1, params, commit_deadline: 1_000 }
	}

	fn failure(store: &Store, task: u64) -> (u32, String) {
		let record = store.get(task).unwrap().unwrap();
		assert_eq!(record.phase, Phase::Done);
		match record.outcome {
			Some(Outcome::ExecutionFailed { error }) => (record.attempts, error),
			other => panic!("{other:?}"),
		}
	}

	fn judge(prompt: &str) -> Work {
		let (done, _) = tokio::sync::oneshot::channel();
		Work::Swarm(SwarmWork::Judge { model: 1, prompt: prompt.into(), answers: vec![], done })
	}

	fn describe(work: Option<Work>) -> String {
		match work {
			Some(Work::Execute(job)) => format!("task {}", job.task),
			Some(Work::Swarm(SwarmWork::Judge { prompt, .. })) => format!("swarm {prompt}"),
			Some(_) => "other".into(),
			None => "closed".into(),
		}
	}

	/// Swarm work never goes before a queued task: tasks that arrive while swarm work waits
	/// are taken first, and the swarm work keeps its order and is not lost when the sending
	/// side closes.
	#[test]
	fn tasks_go_before_swarm_work() {
		let (sender, mut receiver) = tokio::sync::mpsc::channel(8);
		let mut swarm = std::collections::VecDeque::new();
		for work in [judge("a"), Work::Execute(job(1)), judge("b"), Work::Execute(job(2))] {
			sender.try_send(work).unwrap();
		}
		let mut order = vec![describe(next_work(&mut receiver, &mut swarm)), describe(next_work(&mut receiver, &mut swarm))];
		// A task that comes while swarm work is set aside is still taken before it.
		sender.try_send(Work::Execute(job(3))).unwrap();
		order.push(describe(next_work(&mut receiver, &mut swarm)));
		order.push(describe(next_work(&mut receiver, &mut swarm)));
		drop(sender);
		order.push(describe(next_work(&mut receiver, &mut swarm)));
		order.push(describe(next_work(&mut receiver, &mut swarm)));
		assert_eq!(order, ["task 1", "task 2", "task 3", "swarm a", "swarm b", "closed"]);
	}

	/// A panicking engine is caught and the task tried once more; the thread goes on.
	#[test]
	fn a_panic_is_caught_and_retried_once() {
		let dir = tempfile::tempdir().unwrap();
		let store = Arc::new(Store::open(dir.path()).unwrap());
		store.put(&TaskRecord::assigned(1, 0, 1, 1_000, 1)).unwrap();
		store.put(&TaskRecord::assigned(2, 0, 1, 1_000, 1)).unwrap();
		// One panic: the retry runs (and fails only because this test serves no model).
		executor(store.clone(), Some(InjectedFault::OutOfMemory { times: 1 })).one(&job(1)).unwrap();
		let (attempts, error) = failure(&store, 1);
		assert_eq!(attempts, 2);
		assert!(error.contains("model 1 is not served here"), "{error}");
		// Two panics: given up after the retry, with the panic's message.
		executor(store.clone(), Some(InjectedFault::Panic { times: 2 })).one(&job(2)).unwrap();
		let (attempts, error) = failure(&store, 2);
		assert_eq!(attempts, 2);
		assert!(error.contains("the engine panicked: injected engine panic"), "{error}");
	}

	/// A task during which the process died twice (the attempts were recorded, the outcome
	/// never) is not executed a third time.
	#[test]
	fn a_task_that_killed_the_worker_twice_is_not_tried_again() {
		let dir = tempfile::tempdir().unwrap();
		let store = Arc::new(Store::open(dir.path()).unwrap());
		let mut record = TaskRecord::assigned(3, 0, 1, 1_000, 1);
		record.attempts = MAX_ATTEMPTS;
		store.put(&record).unwrap();
		// A fault that would panic shows the engine is never reached.
		executor(store.clone(), Some(InjectedFault::Panic { times: 5 })).one(&job(3)).unwrap();
		let (attempts, error) = failure(&store, 3);
		assert_eq!(attempts, MAX_ATTEMPTS + 1);
		assert!(error.contains("the worker died during 2 executions"), "{error}");
	}

	#[test]
	fn injected_faults_parse() {
		std::env::set_var(InjectedFault::ENV, "oom:3");
		assert_eq!(InjectedFault::from_env().unwrap(), Some(InjectedFault::OutOfMemory { times: 3 }));
		std::env::set_var(InjectedFault::ENV, "sneeze:1");
		assert!(InjectedFault::from_env().is_err());
		std::env::remove_var(InjectedFault::ENV);
		assert_eq!(InjectedFault::from_env().unwrap(), None);
	}
}
