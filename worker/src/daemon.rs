//! `replica-worker run`: the daemon. It registers the worker (or updates its declaration) and
//! goes online, follows finalized blocks, queues the tasks it is drawn for, has the device
//! thread ([`crate::pipeline`]) execute and seal them, commits each sealed result, reveals when
//! the reveal phase starts, and records how every task ended. It also answers and ranks the
//! swarm queries of the text models it serves ([`crate::swarm`]), and trains or checks the
//! training tasks it is drawn into ([`crate::training`]).
//!
//! The store is the source of truth: after a crash, a restart or a lost connection the daemon
//! reconciles every unfinished record (and every open assignment the chain lists for it) with
//! the chain before following blocks again, so it resumes pending commits and reveals and
//! never commits or reveals twice.

use crate::{
	hex, task_span,
	chain::{self, runtime, to_runtime, AccountId, Client, SubmitError, Submitter, TaskStatus, WorkerStatus},
	config::{format_amount, RunConfig},
	http::Health,
	engines::device::detect_profile,
	metrics::Metrics,
	models::{self, LocalKind, LocalModel},
	pipeline::{Executor, InjectedFault, Job, Runner, Work},
	store::{Outcome, Phase, Store, TaskRecord},
};
use anyhow::Context;
use runtime::runtime_types::pallet_tasks::types::{ModelKind, Outcome as ChainOutcome};
use std::{
	collections::HashMap,
	sync::{
		atomic::AtomicU64,
		Arc,
	},
	time::{Duration, Instant},
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The tasks handed to the device thread and not yet finished there; shared by both sides so
/// that handing a task over is idempotent across reconnects and reconciliations.
pub type Queued = Arc<std::sync::Mutex<std::collections::HashSet<u64>>>;

/// How often (in blocks) finished tasks past `--keep-finished` are pruned from the store.
const PRUNE_EVERY: u64 = 100;

/// What [`Session::send`] sends for a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Sending {
	Commit,
	Reveal,
}

/// A sent commitment or reveal and how it went.
struct Submitted {
	task: u64,
	what: Sending,
	result: Result<(), SubmitError>,
	/// When the assignment or reveal phase was seen (for the latency metrics).
	seen: Option<Instant>,
}

/// The longest wait between two attempts to reach a lost node.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(4);

/// An error that reconnecting cannot fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Fatal(String);

/// Runs the daemon until `shutdown` is cancelled (the binary cancels it on SIGINT or SIGTERM,
/// through [`cancel_on_signals`]).
pub async fn run(config: RunConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
	// Results are compared bit for bit: never execute without every determinism switch.
	crate::engines::determinism::ensure_enabled()?;
	let account = config.signer.public_key().to_account_id();
	tracing::info!("worker account {account}");
	let store = Arc::new(Store::open(&config.store.join(account.to_string()))?);
	let local = models::scan(&config.models)?;
	for model in &local {
		tracing::info!("local model {} ({:?}), digest 0x{}", model.dir.display(), model.kind, hex(&model.digest));
	}
	let device = config.device.resolve()?;
	let profile = detect_profile(device, replica_primitives::Dtype::F32)?;
	tracing::info!("device {device:?}: {}", String::from_utf8_lossy(&profile.gpu_model));

	let metrics = Metrics::new().context("creating the metrics")?;
	let mut exporter = tokio::spawn(substrate_prometheus_endpoint::init_prometheus(config.metrics, metrics.registry.clone()));
	// The exporter returns at once only if it cannot bind.
	if let Ok(result) = tokio::time::timeout(Duration::from_millis(300), &mut exporter).await {
		match result {
			Ok(Err(e)) => anyhow::bail!("cannot serve metrics on {} (--metrics): {e}", config.metrics),
			Ok(Ok(())) | Err(_) => anyhow::bail!("the metrics exporter on {} stopped", config.metrics),
		}
	}
	let (jobs, job_receiver) = mpsc::channel::<Work>(config.queue);
	let queued: Queued = Arc::default();
	let latest_block = Arc::new(AtomicU64::new(0));
	let health = Health { latest_block: latest_block.clone(), queued: queued.clone(), ..Health::default() };
	crate::http::serve(config.listen, store.clone(), health.clone(), shutdown.clone()).await?;

	// The first connection must work: a wrong --node is a configuration error.
	let client = connect_first(&config.node).await?;
	let (sealed_sender, mut sealed) = mpsc::unbounded_channel::<u64>();
	let (submitted_sender, mut submitted) = mpsc::unbounded_channel::<Submitted>();
	let submitter = Arc::new(Submitter::new(&config.node, client.clone(), config.signer.clone()).await?);
	let mut session = Session {
		client,
		config: &config,
		account: account.clone(),
		store: store.clone(),
		metrics: metrics.clone(),
		local,
		loaded: HashMap::new(),
		profile,
		jobs,
		queued: queued.clone(),
		saturated: false,
		backlog_possible: false,
		spec_version: 0,
		health: health.clone(),
		seen_at: HashMap::new(),
		submitter,
		in_flight: Default::default(),
		submitted: submitted_sender,
		resend: Vec::new(),
		claiming: Arc::default(),
		text_models: Vec::new(),
		swarm_busy: Arc::default(),
		training_busy: Arc::default(),
	};
	let executor = Executor {
		runner: Runner::new(device).with_fault(InjectedFault::from_env()?),
		store: store.clone(),
		metrics: metrics.clone(),
		account: account.0,
		latest_block,
		sealed: sealed_sender,
		queued,
		alive: health.device_alive.clone(),
	};
	// Not joined at the end: a half-done execution is simply redone after a restart (nothing
	// reaches the chain before the sealed result is in the store).
	std::thread::Builder::new()
		.name("replica-device".into())
		.spawn(move || executor.run(job_receiver))
		.context("starting the device thread")?;
	// Loads (on the device thread) and declares the served models, then goes online. Losing
	// the node from here on is never fatal: the store keeps the work until it is back.
	let mut connected = match session.register().await {
		Ok(()) => true,
		Err(e) if e.is::<Fatal>() => return Err(e),
		Err(e) => {
			tracing::warn!("lost the node at {} while registering: {e:#}", config.node);
			false
		},
	};
	loop {
		if connected {
			let outcome = tokio::select! {
				_ = shutdown.cancelled() => break,
				outcome = session.follow(&mut sealed, &mut submitted) => outcome,
			};
			match outcome {
				Err(e) if e.is::<Fatal>() => return Err(e),
				Err(e) => tracing::warn!("lost the node at {}: {e:#}", config.node),
				Ok(()) => tracing::warn!("the node at {} closed the block stream", config.node),
			}
		}
		// Reconnect, then register again (the chain may have been reset) and reconcile the
		// store. The delay stays short: every block away is a block of the commit window.
		let mut delay = Duration::from_secs(1);
		loop {
			tracing::info!("reconnecting to {} in {} s", config.node, delay.as_secs());
			tokio::select! {
				_ = shutdown.cancelled() => return stop(&store),
				_ = tokio::time::sleep(delay) => {},
			}
			delay = (delay * 2).min(MAX_RECONNECT_DELAY);
			match chain::connect(&config.node).await {
				Ok(client) => {
					match Submitter::new(&config.node, client.clone(), config.signer.clone()).await {
						Ok(submitter) => session.submitter = Arc::new(submitter),
						Err(e) => {
							tracing::warn!("{e:#}");
							continue;
						},
					}
					session.client = client;
					match session.register().await {
						Ok(_) => break,
						Err(e) if e.is::<Fatal>() => return Err(e),
						Err(e) => tracing::warn!("{e:#}"),
					}
				},
				Err(e) => tracing::warn!("{e:#}"),
			}
		}
		connected = true;
	}
	stop(&store)
}

fn stop(store: &Store) -> anyhow::Result<()> {
	let pending = store.unfinished().map(|r| r.len()).unwrap_or(0);
	tracing::info!("stopping; {pending} unfinished task(s) in the store resume on the next start");
	Ok(())
}

async fn connect_first(url: &str) -> anyhow::Result<Client> {
	let deadline = Instant::now() + Duration::from_secs(5);
	loop {
		match chain::connect(url).await {
			Ok(client) => return Ok(client),
			Err(e) if Instant::now() >= deadline => return Err(e),
			Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
		}
	}
}

/// A token cancelled on the first SIGINT or SIGTERM: what stops [`run`] in the binary.
pub fn cancel_on_signals() -> CancellationToken {
	let token = CancellationToken::new();
	let cancel = token.clone();
	tokio::spawn(async move {
		let terminate = async {
			match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
				Ok(mut signal) => {
					signal.recv().await;
				},
				Err(_) => std::future::pending::<()>().await,
			}
		};
		tokio::select! {
			_ = tokio::signal::ctrl_c() => tracing::info!("SIGINT"),
			_ = terminate => tracing::info!("SIGTERM"),
		}
		cancel.cancel();
	});
	token
}

/// The chain side, over one connection at a time.
struct Session<'a> {
	client: Client,
	config: &'a RunConfig,
	account: AccountId,
	store: Arc<Store>,
	metrics: Metrics,
	local: Vec<LocalModel>,
	/// Chain model ids loaded on the device thread, by the weights digest they were loaded
	/// for (a model id is never reused, but a retired one stops being served).
	loaded: HashMap<u32, [u8; 32]>,
	profile: replica_primitives::ExecutionProfile,
	jobs: mpsc::Sender<Work>,
	/// Tasks handed to the device thread and not finished there yet.
	queued: Queued,
	/// Offline because more tasks are assigned than the queue holds.
	saturated: bool,
	/// A task did not fit the queue and may still wait in the store.
	backlog_possible: bool,
	/// The runtime version the typed interface was last checked against.
	spec_version: u32,
	/// The latest block, for `/health`, `/status` and the device thread's deadline checks.
	health: Health,
	/// When this process first saw a task's assignment or reveal phase (for latency metrics).
	seen_at: HashMap<u64, Instant>,
	/// This account's transactions, numbered and pipelined.
	submitter: Arc<Submitter>,
	/// Commitments and reveals sent and not answered yet.
	in_flight: std::collections::HashSet<(u64, Sending)>,
	/// Where sent commitments and reveals report back.
	submitted: mpsc::UnboundedSender<Submitted>,
	/// Tasks whose commitment or reveal did not get in: sent again on the next block.
	resend: Vec<u64>,
	/// A claim of earnings is on its way.
	claiming: Arc<std::sync::atomic::AtomicBool>,
	/// The text models served (chain ids): the swarm queries it may answer.
	text_models: Vec<u32>,
	/// Swarm steps under way (see [`crate::swarm::Agent::busy`]).
	swarm_busy: Arc<std::sync::Mutex<std::collections::HashSet<(u64, crate::store::SwarmPhase)>>>,
	/// Training steps under way.
	training_busy: crate::training::Busy,
}

impl Session<'_> {
	/// The chain's models this worker serves: those whose weights digest matches a local
	/// model directory, each loaded and warmed up on the device thread first (a model that
	/// fails to load is left out, with a warning). Sorted by id.
	async fn served_models(&mut self) -> anyhow::Result<Vec<u32>> {
		let on_chain = chain::models(&self.client).await?;
		let mut served = Vec::new();
		let mut text = Vec::new();
		for (id, info) in &on_chain {
			let kind = match info.kind {
				ModelKind::Image => LocalKind::Image,
				ModelKind::Text => LocalKind::Text,
			};
			if info.retired {
				continue;
			}
			let Some(local) = self.local.iter().find(|m| m.digest == info.weights_digest && m.kind == kind) else { continue };
			if self.loaded.get(id) != Some(&local.digest) {
				tracing::info!("loading model {id} ({}) from {}", String::from_utf8_lossy(&info.name.0), local.dir.display());
				let (done, loaded) = tokio::sync::oneshot::channel();
				self.jobs
					.send(Work::Load { id: *id, model: local.clone(), done })
					.await
					.map_err(|_| Fatal("the device thread has stopped".into()))?;
				match loaded.await.map_err(|_| Fatal("the device thread has stopped".into()))? {
					Ok(()) => {
						self.loaded.insert(*id, local.digest);
					},
					Err(e) => {
						tracing::warn!("model {id} did not load, so it is not declared: {e:#}");
						continue;
					},
				}
			}
			served.push(*id);
			if kind == LocalKind::Text {
				text.push(*id);
			}
		}
		self.text_models = text;
		if served.is_empty() {
			return Err(Fatal(format!(
				"none of the {} models registered on chain has the weights digest of a model in {} ({}) that loads \
				 here; governance registers models with `replica-worker model register`",
				on_chain.len(),
				self.config.models.display(),
				self.local.iter().map(|m| format!("0x{}", hex(&m.digest))).collect::<Vec<_>>().join(", ")
			))
			.into());
		}
		Ok(served)
	}

	/// A model was registered or retired: serve the chain's current set.
	async fn refresh_models(&mut self) -> anyhow::Result<()> {
		let models = self.served_models().await?;
		let Some(info) = chain::worker_info(&self.client, &self.account).await? else { return Ok(()) };
		if info.models.0 != models {
			tracing::info!("declaring models {models:?}");
			let call = runtime::transactions().workers().update_models(models);
			match self.submitter.finalized(&call).await {
				Ok(()) => {},
				Err(SubmitError::Rejected(e)) => tracing::warn!("update_models was rejected: {e}"),
				Err(e) => return Err(e.into()),
			}
		}
		Ok(())
	}

	/// Registers the worker or brings its declaration (profile, models, endpoint) up to date
	/// and goes online.
	async fn register(&mut self) -> anyhow::Result<()> {
		let at = self.client.at_current_block().await?;
		// The chain was upgraded while this worker was away: it may still be online there.
		if let Err(mismatch) = chain::check_runtime(at.metadata_ref(), at.spec_version()) {
			return Err(self.leave_for_upgrade(mismatch).await);
		}
		self.spec_version = at.spec_version();
		let models = self.served_models().await?;
		let profile: runtime::runtime_types::replica_primitives::types::ExecutionProfile = to_runtime(&self.profile)?;
		let endpoint = self.config.endpoint.as_bytes().to_vec();
		let tx = runtime::transactions().workers();
		let (online, stake) = match chain::worker_info(&self.client, &self.account).await? {
			None => {
				let stake = match self.config.stake {
					Some(stake) => stake,
					None => self.min_stake().await?,
				};
				tracing::info!("registering with stake {}", format_amount(stake));
				self.submit_or_fatal(&tx.register(profile, models.clone(), endpoint, stake), "register").await?;
				// A new worker starts offline.
				(false, stake)
			},
			Some(info) => {
				if matches!(info.status, WorkerStatus::Deregistering) {
					return Err(Fatal("this account is deregistering: it cannot serve tasks any more".into()).into());
				}
				if codec::Encode::encode(&info.profile) != codec::Encode::encode(&profile) {
					tracing::info!("declaring the new execution profile");
					self.submit_or_fatal(&tx.update_profile(profile), "update_profile").await?;
				}
				if info.models.0 != models {
					tracing::info!("declaring models {models:?}");
					self.submit_or_fatal(&tx.update_models(models.clone()), "update_models").await?;
				}
				if info.endpoint.0 != endpoint {
					tracing::info!("declaring endpoint {}", self.config.endpoint);
					self.submit_or_fatal(&tx.update_endpoint(endpoint), "update_endpoint").await?;
				}
				(matches!(info.status, WorkerStatus::Online), info.stake)
			},
		};
		// A saturated worker stays offline until its backlog is done (`drain_backlog`).
		if !online && !self.saturated {
			self.submit_or_fatal(&tx.go_online(), "go_online").await?;
		}
		if chain::is_loopback_endpoint(&self.config.endpoint) {
			match self.submitter.chain_type().await {
				Ok(kind) if kind != "Development" && kind != "Local" => tracing::warn!(
					"the declared endpoint {} is only reachable from this machine, on a {kind} chain: dapps cannot \
					 download this worker's results; declare a public --endpoint",
					self.config.endpoint
				),
				_ => {},
			}
		}
		tracing::info!("online: models {models:?}, stake {}, endpoint {}", format_amount(stake), self.config.endpoint);
		Ok(())
	}

	async fn min_stake(&self) -> anyhow::Result<u128> {
		let at = self.client.at_current_block().await?;
		let params = at.storage().try_fetch(runtime::storage().workers().params(), ()).await?;
		match params {
			Some(params) => Ok(params.decode()?.min_stake),
			None => Err(Fatal("the chain publishes no minimum stake: give --stake".into()).into()),
		}
	}

	/// Submits a declaration; the runtime rejecting it is fatal (e.g. a stake too low).
	async fn submit_or_fatal<C: subxt::transactions::Payload>(&self, call: &C, what: &str) -> anyhow::Result<()> {
		match self.submitter.finalized(call).await {
			Ok(()) => Ok(()),
			Err(SubmitError::Rejected(e)) => Err(Fatal(format!("{what} was rejected by the chain: {e}")).into()),
			Err(e) => Err(anyhow::anyhow!("{what}: {e}")),
		}
	}

	/// A runtime upgrade: carry on if the calls, events and storage this worker uses are
	/// unchanged; otherwise go offline (so no new task is drawn for a worker that cannot
	/// serve it) and stop with a message that says to upgrade the worker.
	async fn on_runtime_upgrade(&mut self, metadata: &subxt::Metadata, spec_version: u32) -> anyhow::Result<()> {
		let Err(mismatch) = chain::check_runtime(metadata, spec_version) else {
			tracing::info!("runtime upgraded to spec_version {spec_version}; the calls this worker uses are unchanged");
			self.spec_version = spec_version;
			return Ok(());
		};
		Err(self.leave_for_upgrade(mismatch).await)
	}

	/// Goes offline under a runtime this worker does not know (so no task is drawn for it that
	/// it cannot serve) and returns the fatal error that stops it.
	async fn leave_for_upgrade(&self, mismatch: chain::RuntimeMismatch) -> anyhow::Error {
		tracing::error!("{mismatch}");
		// The typed call may no longer encode for the new runtime: send it by name.
		let go_offline = subxt::dynamic::tx("Workers", "go_offline", ());
		match self.submitter.finalized(&go_offline).await {
			Ok(()) => tracing::warn!("went offline; assignments still open are lost unless an upgraded worker resumes them"),
			Err(SubmitError::Rejected(e)) => tracing::info!("not online on chain ({e}): nothing to leave"),
			Err(e) => tracing::error!("could not go offline under the new runtime: {e}"),
		}
		Fatal(mismatch.to_string()).into()
	}

	/// Reconciles the store with the chain, then follows finalized blocks until the connection
	/// breaks.
	async fn follow(
		&mut self,
		sealed: &mut mpsc::UnboundedReceiver<u64>,
		submitted: &mut mpsc::UnboundedReceiver<Submitted>,
	) -> anyhow::Result<()> {
		let mut blocks = self.client.stream_blocks().await?;
		self.resume().await?;
		loop {
			tokio::select! {
				block = blocks.next() => {
					let Some(block) = block else { return Ok(()) };
					let block = block?;
					self.health.saw_block(block.number());
					let at = block.at().await?;
					if at.spec_version() != self.spec_version {
						self.on_runtime_upgrade(at.metadata_ref(), at.spec_version()).await?;
					}
					let events = at.events().fetch().await?;
					self.on_block(block.number(), &events).await?;
				},
				Some(task) = sealed.recv() => self.commit(task).instrument(task_span(task)).await?,
				Some(done) = submitted.recv() => self.on_submitted(done).await?,
			}
		}
	}

	/// Brings every unfinished record, and every open assignment the chain lists for this
	/// worker, up to date: commits what is sealed, reveals what is committed once the reveal
	/// phase is on, queues what is assigned but not executed, records what ended.
	async fn resume(&mut self) -> anyhow::Result<()> {
		let at = self.client.at_current_block().await?;
		let now = at.block_number();
		self.health.saw_block(now);
		// Its worker record: the tasks it is drawn into whose round is not settled, and its
		// unclaimed earnings (claimed once the tasks are reconciled, if due).
		let record = at
			.storage()
			.try_fetch(runtime::storage().workers().workers(), (self.account.clone(),))
			.await?
			.map(|v| v.decode())
			.transpose()?;
		let earnings = record.as_ref().map_or(0, |info| info.earnings);
		let mut tasks: Vec<u64> = self.store.unfinished()?.iter().map(|r| r.task).collect();
		// Training tasks hold open-task slots under flagged ids: the training agent's.
		let training = self.training_agent();
		for open in record.map(|info| info.open_tasks.0).unwrap_or_default() {
			match replica_primitives::training::training_id(open) {
				Some(id) => training.adopt(id, now)?,
				None => tasks.push(open),
			}
		}
		tasks.sort();
		tasks.dedup();
		if !tasks.is_empty() {
			tracing::info!("reconciling {} task(s) with the chain at #{now}", tasks.len());
		}
		for task in tasks {
			self.reconcile(task, now).instrument(task_span(task)).await?;
		}
		self.claim_if_due(earnings);
		self.swarm_agent().resume().await?;
		training.resume().await
	}

	/// The training agent over the current connection.
	fn training_agent(&self) -> crate::training::Agent {
		crate::training::Agent {
			client: self.client.clone(),
			submitter: self.submitter.clone(),
			store: self.store.clone(),
			jobs: self.jobs.clone(),
			account: self.account.clone(),
			signer: self.config.signer.clone(),
			busy: self.training_busy.clone(),
		}
	}

	/// The swarm agent over the current connection.
	fn swarm_agent(&self) -> crate::swarm::Agent {
		crate::swarm::Agent {
			client: self.client.clone(),
			submitter: self.submitter.clone(),
			store: self.store.clone(),
			jobs: self.jobs.clone(),
			account: self.account.clone(),
			models: self.text_models.clone(),
			max_ticket: self.config.swarm_max_ticket,
			busy: self.swarm_busy.clone(),
		}
	}

	/// Claims `earnings`, the worker's unclaimed earnings on chain, once they reach
	/// `--claim-at` (in the background: a claim that does not get in is tried again after the
	/// next win or restart).
	fn claim_if_due(&self, earnings: u128) {
		use std::sync::atomic::Ordering;
		if earnings == 0 || earnings < self.config.claim_at || self.claiming.swap(true, Ordering::SeqCst) {
			return;
		}
		let (submitter, claiming) = (self.submitter.clone(), self.claiming.clone());
		tokio::spawn(async move {
			match submitter.in_block(&runtime::tx().workers().claim_earnings()).await {
				Ok(()) => tracing::info!("claimed {} of earnings", format_amount(earnings)),
				Err(e) => tracing::warn!("claiming {} of earnings: {e}", format_amount(earnings)),
			}
			claiming.store(false, Ordering::SeqCst);
		});
	}

	async fn reconcile(&mut self, task: u64, now: u64) -> anyhow::Result<()> {
		let Some(info) = chain::task_info(&self.client, task).await? else {
			// Pruned: it ended long ago.
			return self.finish(task, None);
		};
		let ended = matches!(info.status, TaskStatus::Finalized | TaskStatus::Failed { .. } | TaskStatus::Cancelled);
		if let Some(outcome) = chain::settled_outcome(&info, &self.account) {
			// Its round was settled (the chain keeps the outcome, not the record).
			let outcome = match outcome {
				_ if !ended => Outcome::Failed { reason: "no quorum in its round".into() },
				ChainOutcome::Won => Outcome::Won { share: None },
				ChainOutcome::Unpaid => Outcome::Failed { reason: "no quorum".into() },
				_ => Outcome::NotPaid,
			};
			return self.finish(task, Some(outcome));
		}
		let assignment = match chain::assignment(&self.client, task, &self.account).await? {
			Some(assignment) => assignment,
			// The chain records an assignment from its commit on: drawn into the current round
			// and not committed yet.
			None if !ended && info.workers.0.contains(&self.account) => chain::uncommitted_assignment(info.round),
			None => return self.finish(task, None),
		};
		let record = match self.store.get(task)? {
			Some(record) => record,
			None => {
				// Assigned while this worker was away.
				let deadline = match info.status {
					TaskStatus::Committing { deadline, .. } => deadline as u64,
					_ => now,
				};
				let record = TaskRecord::assigned(task, assignment.round, info.model, deadline, now);
				self.store.put(&record)?;
				record
			},
		};
		if !matches!(assignment.outcome, ChainOutcome::Open) {
			// A reveal that did not open its commitment: its round will settle it as such.
			return self.finish(task, Some(Outcome::NotPaid));
		}
		let committed = assignment.commitment.is_some();
		if let (Some(on_chain), Some(sealed)) = (assignment.commitment, record.sealed.as_ref()) {
			if on_chain != sealed.commitment {
				return self.foreign_commitment(task);
			}
		}
		match info.status {
			TaskStatus::Committing { deadline, .. } => match record.phase {
				Phase::Assigned if !committed && (deadline as u64) > now =>
					self.enqueue(task, assignment.round, info.model, info.params, deadline as u64),
				Phase::Assigned if !committed =>
					self.finish(task, Some(Outcome::Skipped { reason: format!("commit deadline #{deadline} passed") }))?,
				Phase::Sealed if !committed => self.commit(task).await?,
				Phase::Sealed => {
					tracing::info!("commitment found on chain");
					self.set_phase(task, Phase::Committed)?
				},
				// Seen in a best block that is no longer on the chain (a retracted fork, a node
				// that lost its last blocks): the commit window is still open, so send it again.
				Phase::Committed if !committed => {
					tracing::warn!("the commitment this worker saw included is not on chain; committing again");
					self.set_phase(task, Phase::Sealed)?;
					self.commit(task).await?
				},
				_ => {},
			},
			TaskStatus::Sampling { .. } =>
				if record.phase == Phase::Sealed && committed {
					self.set_phase(task, Phase::Committed)?;
				},
			TaskStatus::Revealing { .. } => match record.phase {
				Phase::Sealed | Phase::Committed if committed && !assignment.reveal_attempted => self.reveal(task).await?,
				Phase::Sealed | Phase::Committed if assignment.reveal_attempted => self.set_phase(task, Phase::Revealed)?,
				_ => {},
			},
			// A finished task has settled every worker and keeps no records: handled above.
			TaskStatus::Finalized | TaskStatus::Failed { .. } | TaskStatus::Cancelled | TaskStatus::Pending { .. } => {},
		}
		Ok(())
	}

	async fn on_block(&mut self, number: u64, events: &subxt::events::Events<chain::ReplicaConfig>) -> anyhow::Result<()> {
		use runtime::{tasks::events as tasks, workers::events as workers};
		for event in events.find::<tasks::TaskAssigned>() {
			let event = event?;
			if event.workers.contains(&self.account) {
				self.on_assigned(event.task, event.round, event.commit_deadline as u64, number)
					.instrument(task_span(event.task))
					.await?;
			}
		}
		for event in events.find::<tasks::RevealPhaseStarted>() {
			let event = event?;
			let committed = self.store.get(event.task)?.is_some_and(|r| matches!(r.phase, Phase::Sealed | Phase::Committed));
			if committed {
				self.seen_at.insert(event.task, Instant::now());
				self.reveal(event.task).instrument(task_span(event.task)).await?;
			}
		}
		for event in events.find::<tasks::TaskEscalated>() {
			let event = event?;
			// An earlier round of ours was settled without quorum; a fresh round goes on without us.
			if self.store.get(event.task)?.is_some_and(|r| r.round < event.round) {
				let _span = task_span(event.task).entered();
				tracing::info!("no quorum; round {} is drawn afresh", event.round);
				self.finish(event.task, Some(Outcome::Failed { reason: "no quorum in its round".into() }))?;
			}
		}
		let mut won_any = false;
		for event in events.find::<tasks::TaskFinalized>() {
			let event = event?;
			if self.store.get(event.task)?.is_some() {
				let _span = task_span(event.task).entered();
				let won = event.winners.contains(&self.account);
				tracing::info!(
					"finalized: {}",
					if won { format!("won, credited {}", format_amount(event.share)) } else { "not among the winners".into() }
				);
				if won {
					self.metrics.finalized.inc();
				}
				self.finish(event.task, Some(if won { Outcome::Won { share: Some(event.share) } } else { Outcome::NotPaid }))?;
				won_any |= won;
			}
		}
		// One read of the record however many tasks it won in this block.
		if won_any {
			let earnings = chain::worker_info(&self.client, &self.account).await?.map_or(0, |info| info.earnings);
			self.claim_if_due(earnings);
		}
		for event in events.find::<tasks::TaskFailed>() {
			let event = event?;
			if self.store.get(event.task)?.is_some() {
				let _span = task_span(event.task).entered();
				tracing::info!("failed: {:?}", event.reason);
				self.finish(event.task, Some(Outcome::Failed { reason: format!("{:?}", event.reason) }))?;
			}
		}
		if events.find::<tasks::ModelRegistered>().next().is_some() || events.find::<tasks::ModelRetired>().next().is_some() {
			self.refresh_models().await?;
		}
		self.swarm_agent().on_block(events).await?;
		self.training_agent().on_block(number, events).await?;
		for event in events.find::<workers::Slashed>() {
			let event = event?;
			if event.worker == self.account {
				let _span = task_span(event.task).entered();
				tracing::warn!("slashed {} for {:?}", format_amount(event.amount), event.reason);
				self.metrics.slashed.inc();
				self.store.update(event.task, |r| r.slashed = r.slashed.saturating_add(event.amount))?;
			}
		}
		for task in std::mem::take(&mut self.resend) {
			if let Some(record) = self.store.get(task)? {
				match record.phase {
					Phase::Sealed => self.commit(task).instrument(task_span(task)).await?,
					Phase::Committed => self.reveal(task).instrument(task_span(task)).await?,
					_ => {},
				}
			}
		}
		if number % PRUNE_EVERY == 0 {
			let before = number.saturating_sub(self.config.keep_finished);
			let pruned = self.store.prune_finished(before)?;
			if pruned > 0 {
				tracing::info!("pruned {pruned} finished task(s) older than {} blocks from the store", self.config.keep_finished);
			}
			let pruned = self.store.prune_trainings(before)?;
			if pruned > 0 {
				tracing::info!("pruned {pruned} finished training task(s) older than {} blocks from the store", self.config.keep_finished);
			}
		}
		self.drain_backlog(number).await
	}

	async fn on_assigned(&mut self, task: u64, round: u32, commit_deadline: u64, now: u64) -> anyhow::Result<()> {
		if self.store.get(task)?.is_some() {
			return Ok(());
		}
		let info = chain::task_info(&self.client, task).await?.context("an assigned task is missing")?;
		tracing::info!("assigned (round {round}, model {}), commit by #{commit_deadline}", info.model);
		self.metrics.assigned.inc();
		self.store.put(&TaskRecord::assigned(task, round, info.model, commit_deadline, now))?;
		self.seen_at.insert(task, Instant::now());
		self.enqueue(task, round, info.model, info.params, commit_deadline);
		Ok(())
	}

	/// Hands an assigned task to the device thread, once: a task already handed over is left
	/// alone, and one that does not fit stays `Assigned` in the store — the queue of record —
	/// until [`Self::drain_backlog`] finds room for it.
	fn enqueue(&mut self, task: u64, round: u32, model: u32, params: runtime::runtime_types::pallet_tasks::types::TaskParams, commit_deadline: u64) {
		self.seen_at.entry(task).or_insert_with(Instant::now);
		let mut queued = self.queued.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		if queued.contains(&task) {
			return;
		}
		match self.jobs.try_send(Work::Execute(Job { task, round, model, params, commit_deadline })) {
			Ok(()) => {
				queued.insert(task);
				self.metrics.queue_length.inc();
			},
			Err(_) => {
				tracing::info!("the queue is full ({} tasks); it waits in the store", self.config.queue);
				self.backlog_possible = true;
			},
		}
	}

	/// Assigned tasks waiting in the store because the queue was full, soonest deadline first.
	fn backlog(&self) -> anyhow::Result<Vec<TaskRecord>> {
		let queued = self.queued.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
		let mut waiting: Vec<TaskRecord> =
			self.store.unfinished()?.into_iter().filter(|r| r.phase == Phase::Assigned && !queued.contains(&r.task)).collect();
		waiting.sort_by_key(|r| (r.commit_deadline, r.task));
		Ok(waiting)
	}

	/// Moves waiting tasks into the queue while it has room (a task whose commit deadline
	/// passed is recorded as skipped), and stops taking new work while tasks wait: offline
	/// when the backlog is not empty, online again once it is and the queue is half empty.
	async fn drain_backlog(&mut self, now: u64) -> anyhow::Result<()> {
		// Reading the store every block is only worth it while tasks may be waiting.
		if !self.backlog_possible && !self.saturated {
			return Ok(());
		}
		for record in self.backlog()? {
			if self.jobs.capacity() == 0 {
				break;
			}
			if record.commit_deadline <= now {
				task_span(record.task).in_scope(|| {
					tracing::warn!("commit deadline #{} passed while it waited; skipped", record.commit_deadline)
				});
				self.metrics.skipped.inc();
				self.finish(record.task, Some(Outcome::Skipped { reason: "queue full until its commit deadline".into() }))?;
				continue;
			}
			let Some(info) = chain::task_info(&self.client, record.task).await? else {
				self.finish(record.task, None)?;
				continue;
			};
			task_span(record.task).in_scope(|| self.enqueue(record.task, record.round, record.model, info.params, record.commit_deadline));
		}
		let waiting = self.backlog()?.len();
		self.backlog_possible = waiting > 0;
		let tx = runtime::transactions().workers();
		if waiting > 0 && !self.saturated {
			tracing::warn!("{waiting} assigned task(s) wait for room in the queue: going offline until they are done");
			self.saturated = true;
			match self.submitter.in_block(&tx.go_offline()).await {
				Ok(()) | Err(SubmitError::Rejected(_)) => {},
				Err(e) => return Err(e.into()),
			}
		} else if waiting == 0 && self.saturated && self.jobs.capacity() * 2 >= self.config.queue {
			tracing::info!("the queue has room again: going online");
			self.saturated = false;
			match self.submitter.in_block(&tx.go_online()).await {
				Ok(()) | Err(SubmitError::Rejected(_)) => {},
				Err(e) => return Err(e.into()),
			}
		}
		Ok(())
	}

	/// Sends the stored commitment of a sealed task, unless one is in flight already. The block
	/// loop does not wait for it: [`Self::on_submitted`] takes the result.
	async fn commit(&mut self, task: u64) -> anyhow::Result<()> {
		let Some(record) = self.store.get(task)? else { return Ok(()) };
		let (Phase::Sealed, Some(sealed)) = (record.phase, record.sealed) else { return Ok(()) };
		let call = runtime::transactions().tasks().commit_result(task, sealed.ciphertext, sealed.commitment);
		self.send(task, Sending::Commit, call);
		Ok(())
	}

	/// Sends the key of a committed task, unless it is in flight already — and only if the
	/// commitment on chain is this process's own: revealing another's would be a bad reveal.
	async fn reveal(&mut self, task: u64) -> anyhow::Result<()> {
		let Some(record) = self.store.get(task)? else { return Ok(()) };
		let (Phase::Sealed | Phase::Committed, Some(sealed)) = (record.phase, record.sealed) else { return Ok(()) };
		if self.in_flight.contains(&(task, Sending::Reveal)) {
			return Ok(());
		}
		match self.chain_holds_our_commitment(task, sealed.commitment).await? {
			Some(true) => {},
			Some(false) => return self.foreign_commitment(task),
			// Never committed (it did not get in before the deadline): nothing to reveal.
			None => return Ok(()),
		}
		let call = runtime::transactions().tasks().reveal_result(task, sealed.key);
		self.send(task, Sending::Reveal, call);
		Ok(())
	}

	fn send<C: subxt::transactions::Payload + Send + Sync + 'static>(&mut self, task: u64, what: Sending, call: C) {
		if !self.in_flight.insert((task, what)) {
			return;
		}
		let (submitter, done) = (self.submitter.clone(), self.submitted.clone());
		let seen = self.seen_at.get(&task).copied();
		tokio::spawn(
			async move {
				let result = submitter.in_block(&call).await;
				let _ = done.send(Submitted { task, what, result, seen });
			}
			.instrument(task_span(task)),
		);
	}

	/// The result of a commitment or reveal sent by [`Self::send`].
	#[tracing::instrument(name = "task", skip_all, fields(id = submitted.task))]
	async fn on_submitted(&mut self, submitted: Submitted) -> anyhow::Result<()> {
		let Submitted { task, what, result, seen } = submitted;
		self.in_flight.remove(&(task, what));
		let latency = match what {
			Sending::Commit => &self.metrics.commit_latency_seconds,
			Sending::Reveal => &self.metrics.reveal_latency_seconds,
		};
		match (what, result) {
			(_, Ok(())) => {
				if let Some(seen) = seen {
					latency.observe(seen.elapsed().as_secs_f64());
				}
				let (done, phase) = match what {
					Sending::Commit => ("committed", Phase::Committed),
					Sending::Reveal => ("revealed", Phase::Revealed),
				};
				tracing::info!("{done}");
				self.set_phase(task, phase)
			},
			(Sending::Commit, Err(e)) if e.is("Tasks::AlreadyCommitted") => {
				let sealed = self.store.get(task)?.and_then(|r| r.sealed).map(|s| s.commitment);
				match sealed {
					Some(sealed) if self.chain_holds_our_commitment(task, sealed).await? == Some(true) =>
						self.set_phase(task, Phase::Committed),
					_ => self.foreign_commitment(task),
				}
			},
			(Sending::Commit, Err(SubmitError::Rejected(e))) => {
				tracing::warn!("commitment rejected: {e}");
				self.finish(task, Some(Outcome::Skipped { reason: format!("commitment rejected: {e}") }))
			},
			(Sending::Reveal, Err(e)) if e.is("Tasks::AlreadyRevealed") => self.set_phase(task, Phase::Revealed),
			(Sending::Reveal, Err(SubmitError::Rejected(e))) => {
				// Not in its reveal phase (any more): reconciled on the next resume.
				tracing::warn!("reveal rejected: {e}");
				Ok(())
			},
			(_, Err(e)) => {
				// Not in, after every retry (the node is struggling): try again next block.
				tracing::warn!("{what:?} not included: {e}; trying again");
				self.resend.push(task);
				Ok(())
			},
		}
	}

	/// Whether the commitment the chain holds for this account in `task` is `sealed`, the one
	/// this process made; `None` when the chain holds none.
	async fn chain_holds_our_commitment(&self, task: u64, sealed: [u8; 32]) -> anyhow::Result<Option<bool>> {
		let on_chain = chain::assignment(&self.client, task, &self.account).await?.and_then(|a| a.commitment);
		Ok(on_chain.map(|on_chain| on_chain == sealed))
	}

	/// The chain holds a commitment for this worker's account that is not the one this
	/// process sealed: a second process runs with the same key. Revealing would be a bad
	/// reveal; this process leaves the task to the other one and says so loudly.
	fn foreign_commitment(&mut self, task: u64) -> anyhow::Result<()> {
		tracing::error!(
			"the commitment on chain for this account is not the one this worker sealed: another \
			 worker process is running with the same key. Stop one of them; this one leaves the task alone."
		);
		self.finish(task, Some(Outcome::Skipped { reason: "another process with this key committed".into() }))
	}

	fn set_phase(&self, task: u64, phase: Phase) -> anyhow::Result<()> {
		self.store.update(task, |r| {
			if phase == Phase::Revealed {
				r.revealed = true;
			}
			// The block that settled the task can arrive before the submission's own report
			// (the last reveal finalizes it): a finished task stays finished.
			if r.phase != Phase::Done {
				r.phase = phase;
			}
		})?;
		Ok(())
	}

	fn finish(&mut self, task: u64, outcome: Option<Outcome>) -> anyhow::Result<()> {
		self.seen_at.remove(&task);
		self.store.update(task, |r| {
			// A result that was revealed stays servable. A winner's reveal is on chain (only
			// matching reveals are paid) even when the verdict's block is seen before the
			// reveal's own inclusion report: dapps download as soon as they see the verdict.
			if matches!(outcome, Some(Outcome::Won { .. })) {
				r.revealed = true;
			}
			r.phase = Phase::Done;
			if outcome.is_some() {
				r.outcome = outcome;
			}
		})?;
		Ok(())
	}
}
