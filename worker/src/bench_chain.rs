//! `replica-worker bench-chain`: how many verified tasks the chain settles per block.
//!
//! Against a dev chain (Alice is sudo), it registers a bench image model, funds and registers
//! simulated worker accounts and a few creators, and keeps tasks coming. No model runs: each
//! simulated worker commits and reveals a precomputed sealed result through the real
//! `commit_result` / `reveal_result` calls (with `--batch`, one `commit_results` /
//! `reveal_results` per worker and block), all of a task's workers the same result, so every
//! task is verified by quorum. Per block it prints what happened (created, assigned, committed,
//! revealed, finalized), the block's weight and length against the runtime's limits and, when
//! the node's log is given, how long the node took to build the block. The summary sets the
//! measured tasks per block beside the ceilings derived from the measured cost per task.

use std::{
	collections::{BTreeMap, HashMap},
	path::PathBuf,
	time::{Duration, Instant},
};

use anyhow::Context;
use futures::StreamExt;
use replica_primitives::{
	types::{Dtype, ExecutionProfile, ImageHashes, ImageResult},
	HashAlg, ResultPayload, Tolerances,
};
use replica_worker::chain::{self, runtime, to_runtime, AccountId, Client, ReplicaConfig};
use runtime::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec,
	pallet_tasks::types::{ImageParams, ModelInfo, ModelKind, SealedResult, TaskParams, TaskSpec, Verification},
	replica_runtime::RuntimeCall,
};
use subxt_signer::{sr25519::Keypair, SecretUri};

type At = subxt::client::ClientAtBlock<ReplicaConfig, subxt::client::OnlineClientAtBlockImpl<ReplicaConfig>>;
type Signed = subxt::transactions::SubmittableTransaction<ReplicaConfig, subxt::client::OnlineClientAtBlockImpl<ReplicaConfig>>;

/// One RPL in planck.
const UNIT: u128 = 1_000_000_000_000;
/// Hashes every simulated worker reports: equal, so each task reaches its quorum.
const BENCH_HASH: u64 = 0x0123_4567_89ab_cdef;
/// Transactions in flight to the node at once.
const SUBMIT_CONCURRENCY: usize = 64;

#[derive(clap::Args, Debug)]
pub struct BenchChainArgs {
	/// WebSocket RPC endpoint of a dev node whose sudo key is Alice's (`replica-node --dev`).
	/// The bench changes its parameters (a short retention), registers a model and accounts:
	/// never point it at a chain that matters.
	#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
	node: String,
	/// Simulated worker accounts. Each may hold the runtime's `MaxOpenTasksPerWorker` tasks at
	/// once, so the pool must hold about `--tasks-per-block` x verifiers x (blocks a task is
	/// open) / that many.
	#[arg(long, default_value_t = 96)]
	workers: u32,
	/// Tasks created per block.
	#[arg(long, default_value_t = 40)]
	tasks_per_block: u32,
	/// Verifiers per task.
	#[arg(long, default_value_t = 3)]
	verifiers: u32,
	/// Blocks measured, after the first task has been finalized.
	#[arg(long, default_value_t = 20)]
	blocks: u32,
	/// Blocks a finished task stays in storage (set through sudo for the run, so that
	/// pruning keeps up with the load and `MaxTasks` is not reached: a task stays about 4
	/// blocks plus this, so `--tasks-per-block` x that must stay under `MaxTasks`; the summary
	/// prints the ceiling it gives).
	#[arg(long, default_value_t = 5)]
	retention: u32,
	/// The node's log file: the time it took to build each block is read from its
	/// "Prepared block for proposing" lines.
	#[arg(long)]
	node_log: Option<PathBuf>,
	/// Each worker sends its due commitments of a block as one `commit_results` and its due
	/// reveals as one `reveal_results` extrinsic, instead of one `commit_result` or
	/// `reveal_result` per task.
	#[arg(long)]
	batch: bool,
	/// Each creator sends its new tasks of a block in `create_tasks` batches of up to this many
	/// (at most the runtime's `MaxCreateBatch`), as a dapp with many requests would; 1 sends one
	/// `create_task` per task.
	#[arg(long, default_value_t = 1)]
	create_batch: u32,
}

/// A signing account with the nonce of its next transaction.
struct Account {
	key: Keypair,
	id: AccountId,
	nonce: u64,
}

impl Account {
	fn derive(path: &str) -> anyhow::Result<Account> {
		let uri: SecretUri = path.parse().with_context(|| format!("key {path}"))?;
		let key = Keypair::from_uri(&uri).with_context(|| format!("key {path}"))?;
		let id = key.public_key().to_account_id();
		Ok(Account { key, id, nonce: 0 })
	}

	async fn sync_nonce(&mut self, client: &Client) -> anyhow::Result<()> {
		let at = client.at_current_block().await?;
		self.nonce = at.transactions().account_nonce(&self.id).await?;
		Ok(())
	}
}

/// Signs `call` as `account` with its next nonce (fire and forget: what happened is read from
/// the blocks' events).
fn sign<C: subxt::transactions::Payload>(at: &At, account: &mut Account, call: &C) -> anyhow::Result<Signed> {
	let params = subxt::config::DefaultExtrinsicParamsBuilder::<ReplicaConfig>::new().nonce(account.nonce).build();
	let tx = at.transactions().create_signable_offline(call, params)?.sign(&account.key)?;
	account.nonce += 1;
	Ok(tx)
}

/// Submits signed transactions, many at once; the number the node refused.
async fn submit_all(txs: Vec<Signed>) -> usize {
	futures::stream::iter(txs)
		.map(|tx| async move { tx.submit().await })
		.buffer_unordered(SUBMIT_CONCURRENCY)
		.filter_map(|r| futures::future::ready(r.err()))
		.enumerate()
		.map(|(n, e)| {
			if n == 0 {
				eprintln!("refused: {e}");
			}
		})
		.count()
		.await
}

/// One block's figures.
#[derive(Default, Clone)]
struct BlockFigures {
	number: u64,
	extrinsics: usize,
	created: u32,
	assigned: u32,
	committed: u32,
	revealed: u32,
	finalized: u32,
	failed: u32,
	ref_time: u64,
	proof_size: u64,
	/// The hooks' and inherents' part (the mandatory class): the deadline agenda's draws,
	/// verdicts and pruning.
	hooks: Cost,
	create: Cost,
	commit: Cost,
	reveal: Cost,
	length: u32,
	build_ms: Option<u64>,
	/// Blocks from each finalized task's last reveal to its verdict.
	verdict_latency: Vec<u64>,
	/// Blocks from each finalized task's creation to its verdict.
	life: Vec<u64>,
}

/// What calls of one kind took: how many, ref time and proof size in all.
#[derive(Default, Clone, Copy)]
struct Cost {
	count: u64,
	ref_time: u64,
	proof_size: u64,
}

impl Cost {
	fn add(&mut self, other: Cost) {
		self.count += other.count;
		self.ref_time += other.ref_time;
		self.proof_size += other.proof_size;
	}

	/// The mean per call: (ref time, proof size).
	fn mean(&self) -> (f64, f64) {
		let n = self.count.max(1) as f64;
		(self.ref_time as f64 / n, self.proof_size as f64 / n)
	}
}

/// The runtime's per-block limits.
struct Limits {
	ref_time: u64,
	proof_size: u64,
	normal_ref_time: u64,
	normal_proof_size: u64,
	length: u32,
	max_open_per_worker: u32,
	max_create_batch: u32,
	max_tasks: u32,
	/// What the deadline hook may spend per block.
	hook_ref_time: u64,
	hook_proof_size: u64,
}

pub async fn run(args: BenchChainArgs) -> anyhow::Result<()> {
	anyhow::ensure!(args.workers >= args.verifiers, "--workers must be at least --verifiers");
	let client = chain::connect(&args.node).await?;
	let limits = limits(&client).await?;
	anyhow::ensure!(
		(1..=limits.max_create_batch).contains(&args.create_batch),
		"--create-batch must be 1 to the runtime's MaxCreateBatch ({})",
		limits.max_create_batch
	);
	let mut sudo = Account::derive("//Alice")?;
	sudo.sync_nonce(&client).await?;
	println!(
		"bench-chain on {}: {} workers, {} tasks per block, {} verifiers each",
		args.node, args.workers, args.tasks_per_block, args.verifiers
	);

	// Governance: a bench model, and a retention short enough for pruning to keep up.
	let model_name = format!("bench-image-{}", std::process::id());
	let (model, min_fee) = setup_governance(&client, &mut sudo, &model_name, args.retention).await?;
	println!("model {model} `{model_name}` registered, retention {} blocks", args.retention);

	// Accounts, funded by Alice.
	let run_id = std::process::id();
	let mut workers: Vec<Account> =
		(0..args.workers).map(|i| Account::derive(&format!("//Alice//bench-{run_id}-worker-{i}"))).collect::<Result<_, _>>()?;
	let creators_count = args.tasks_per_block.div_ceil(50).max(1);
	let mut creators: Vec<Account> =
		(0..creators_count).map(|i| Account::derive(&format!("//Alice//bench-{run_id}-creator-{i}"))).collect::<Result<_, _>>()?;
	let min_stake = min_stake(&client).await?;
	let planned_tasks = u128::from(args.tasks_per_block) * u128::from(args.blocks + 60);
	let creator_funds = min_fee * (planned_tasks / u128::from(creators_count) + 1) + 1_000 * UNIT;
	let worker_funds = min_stake + 100 * UNIT;
	{
		let at = client.at_current_block().await?;
		let mut txs = Vec::new();
		for (who, amount) in workers.iter().map(|w| (&w.id, worker_funds)).chain(creators.iter().map(|c| (&c.id, creator_funds))) {
			let call = runtime::transactions().balances().transfer_keep_alive(who.clone().into(), amount);
			txs.push(sign(&at, &mut sudo, &call)?);
		}
		let refused = submit_all(txs).await;
		anyhow::ensure!(refused == 0, "the node refused {refused} funding transfers");
	}
	wait_for("the accounts to be funded", Duration::from_secs(120), || {
		let (client, last) = (client.clone(), creators.last().map(|c| c.id.clone()));
		async move {
			let Some(last) = last else { return Ok(true) };
			let at = client.at_current_block().await?;
			let account = at.storage().try_fetch(runtime::storage().system().account(), (last,)).await?;
			Ok(match account {
				Some(account) => account.decode()?.data.free > 0,
				None => false,
			})
		}
	})
	.await?;

	// Workers register and go online.
	{
		let at = client.at_current_block().await?;
		let mut txs = Vec::new();
		for worker in &mut workers {
			let endpoint = b"http://bench.invalid".to_vec();
			let profile: runtime::runtime_types::replica_primitives::types::ExecutionProfile = to_runtime(&bench_profile())?;
			let register = runtime::transactions().workers().register(profile, vec![model], endpoint, min_stake);
			txs.push(sign(&at, worker, &register)?);
			txs.push(sign(&at, worker, &runtime::transactions().workers().go_online())?);
		}
		let refused = submit_all(txs).await;
		anyhow::ensure!(refused == 0, "the node refused {refused} registrations");
	}
	wait_for("the workers to be online", Duration::from_secs(120), || {
		let client = client.clone();
		let ids: Vec<AccountId> = workers.iter().map(|w| w.id.clone()).collect();
		async move {
			for id in ids {
				match chain::worker_info(&client, &id).await? {
					Some(info) if matches!(info.status, chain::WorkerStatus::Online) => {},
					_ => return Ok(false),
				}
			}
			Ok(true)
		}
	})
	.await?;
	println!("{} workers online, {} creators funded", workers.len(), creators.len());

	let index: HashMap<[u8; 32], usize> = workers.iter().enumerate().map(|(i, w)| (w.id.0, i)).collect();
	let payload = bench_payload();
	let spec = |seed: u64| TaskSpec {
		model,
		params: TaskParams::Image(ImageParams {
			prompt: BoundedVec(b"a bench task".to_vec()),
			negative_prompt: BoundedVec(Vec::new()),
			seed,
			steps: 20,
			guidance_milli: 7_500,
			width: 64,
			height: 64,
			count: 1,
		}),
		verification: Some(Verification::Replicated { verifiers: args.verifiers }),
		quorum: None,
		fee: min_fee,
	};
	let mut build_times = args.node_log.as_ref().map(|path| BuildTimes { path: path.clone(), offset: 0, times: HashMap::new() });

	// The loop: each new block's events drive the simulated workers, and new tasks keep coming.
	let mut blocks = client.stream_blocks().await?;
	// (task, round) -> the workers that committed, for their reveals.
	let mut committed: HashMap<(u64, u32), Vec<usize>> = HashMap::new();
	let mut last_reveal: HashMap<u64, u64> = HashMap::new();
	let mut created_in: HashMap<u64, u64> = HashMap::new();
	let mut seed = 0u64;
	let mut measured: Vec<BlockFigures> = Vec::new();
	let mut warm_up = 0;
	let started = Instant::now();
	println!(
		"\n{:>6} {:>4} {:>7} {:>8} {:>9} {:>8} {:>9} {:>6} {:>9} {:>9} {:>8} {:>8}",
		"block", "txs", "created", "assigned", "committed", "revealed", "finalized", "failed", "ref time", "proof", "length", "build"
	);
	while measured.len() < args.blocks as usize {
		let block = blocks.next().await.context("the node closed the block stream")??;
		let at = block.at().await?;
		let number = block.number();
		let events = at.events().fetch().await?;
		let extrinsics = at.extrinsics().fetch().await?;
		let mut figures = BlockFigures { number, ..Default::default() };
		let mut calls = Vec::new();
		for extrinsic in extrinsics.iter() {
			let extrinsic = extrinsic?;
			figures.extrinsics += 1;
			figures.length += extrinsic.bytes().len() as u32;
			calls.push(format!("{}.{}", extrinsic.pallet_name(), extrinsic.call_name()));
		}
		let weight = at.storage().try_fetch(runtime::storage().system().block_weight(), ()).await?;
		if let Some(weight) = weight {
			let weight = weight.decode()?;
			figures.ref_time = weight.normal.ref_time + weight.operational.ref_time + weight.mandatory.ref_time;
			figures.proof_size = weight.normal.proof_size + weight.operational.proof_size + weight.mandatory.proof_size;
			figures.hooks = Cost { count: 1, ref_time: weight.mandatory.ref_time, proof_size: weight.mandatory.proof_size };
		}
		// The items each extrinsic committed or revealed, failed ones included.
		let mut items_of: HashMap<u32, u64> = HashMap::new();
		for event in events.iter() {
			let event = event?;
			let subxt::events::Phase::ApplyExtrinsic(index) = event.phase() else { continue };
			if event.pallet_name() == "Tasks" &&
				matches!(
					event.event_name(),
					"TaskCreated" | "ResultCommitted" | "ResultRevealed" | "BadReveal" | "BatchItemFailed"
				)
			{
				*items_of.entry(index).or_default() += 1;
			}
		}
		// Each call's dispatch weight (after refunds), from its ExtrinsicSuccess/Failed event.
		for event in events.iter() {
			let event = event?;
			let subxt::events::Phase::ApplyExtrinsic(index) = event.phase() else { continue };
			let weight = if let Some(ok) = event.decode_fields_as::<runtime::system::events::ExtrinsicSuccess>() {
				ok?.dispatch_info.weight
			} else if let Some(failed) = event.decode_fields_as::<runtime::system::events::ExtrinsicFailed>() {
				failed?.dispatch_info.weight
			} else {
				continue;
			};
			// A batch's cost is shared among its items (a failed item counts too).
			let items = items_of.get(&index).copied().unwrap_or(0).max(1);
			let cost = Cost { count: items, ref_time: weight.ref_time, proof_size: weight.proof_size };
			match calls.get(index as usize).map(String::as_str) {
				Some("Tasks.create_task" | "Tasks.create_tasks") => figures.create.add(cost),
				Some("Tasks.commit_result" | "Tasks.commit_results") => figures.commit.add(cost),
				Some("Tasks.reveal_result" | "Tasks.reveal_results") => figures.reveal.add(cost),
				_ => {},
			}
		}
		if let Some(times) = &mut build_times {
			figures.build_ms = times.get(number);
		}

		let head = client.at_current_block().await?;
		let mut txs = Vec::new();
		use runtime::tasks::events as ev;
		for event in events.find::<ev::TaskCreated>() {
			created_in.insert(event?.task, number);
			figures.created += 1;
		}
		// Per worker, in batch mode: its due commitments and reveals of this block.
		let mut due_commits: BTreeMap<usize, Vec<SealedResult>> = BTreeMap::new();
		let mut due_reveals: BTreeMap<usize, Vec<(u64, [u8; 32])>> = BTreeMap::new();
		for event in events.find::<ev::TaskAssigned>() {
			let event = event?;
			figures.assigned += 1;
			for who in &event.workers {
				if let Some(&i) = index.get(&who.0) {
					let account_bytes: [u8; 32] = who.0;
					let key = sealing_key(event.task, event.round, account_bytes, run_id);
					let sealed = replica_primitives::seal(&payload, event.task, event.round, &account_bytes, &key);
					if args.batch {
						due_commits.entry(i).or_default().push(SealedResult {
							task: event.task,
							ciphertext: BoundedVec(sealed.ciphertext),
							commitment: sealed.commitment,
						});
					} else {
						let call = runtime::transactions().tasks().commit_result(event.task, sealed.ciphertext, sealed.commitment);
						txs.push(sign(&head, &mut workers[i], &call)?);
					}
					committed.entry((event.task, event.round)).or_default().push(i);
				}
			}
		}
		for (i, items) in due_commits {
			for batch in in_batches(items, limits.max_open_per_worker as usize) {
				let call = runtime::transactions().tasks().commit_results(BoundedVec(batch));
				txs.push(sign(&head, &mut workers[i], &call)?);
			}
		}
		for event in events.find::<ev::ResultCommitted>() {
			event?;
			figures.committed += 1;
		}
		for event in events.find::<ev::RevealPhaseStarted>() {
			let event = event?;
			for i in committed.remove(&(event.task, event.round)).unwrap_or_default() {
				let account_bytes: [u8; 32] = workers[i].id.0;
				let key = sealing_key(event.task, event.round, account_bytes, run_id);
				if args.batch {
					due_reveals.entry(i).or_default().push((event.task, key));
				} else {
					let call = runtime::transactions().tasks().reveal_result(event.task, key);
					txs.push(sign(&head, &mut workers[i], &call)?);
				}
			}
		}
		for (i, items) in due_reveals {
			for batch in in_batches(items, limits.max_open_per_worker as usize) {
				let call = runtime::transactions().tasks().reveal_results(BoundedVec(batch));
				txs.push(sign(&head, &mut workers[i], &call)?);
			}
		}
		for event in events.find::<ev::ResultRevealed>() {
			let event = event?;
			figures.revealed += 1;
			last_reveal.insert(event.task, number);
		}
		for event in events.find::<ev::TaskFinalized>() {
			let event = event?;
			figures.finalized += 1;
			if let Some(revealed) = last_reveal.remove(&event.task) {
				figures.verdict_latency.push(number - revealed);
			}
			if let Some(created) = created_in.remove(&event.task) {
				figures.life.push(number - created);
			}
		}
		for event in events.find::<ev::TaskFailed>() {
			let event = event?;
			figures.failed += 1;
			last_reveal.remove(&event.task);
			created_in.remove(&event.task);
			eprintln!("task {} failed: {:?}", event.task, event.reason);
		}
		// New tasks, spread over the creators.
		let mut due_specs: BTreeMap<usize, Vec<TaskSpec<u128>>> = BTreeMap::new();
		for n in 0..args.tasks_per_block {
			seed += 1;
			due_specs.entry(n as usize % creators_count as usize).or_default().push(spec(seed));
		}
		for (c, specs) in due_specs {
			if args.create_batch == 1 {
				for spec in specs {
					txs.push(sign(&head, &mut creators[c], &runtime::transactions().tasks().create_task(spec))?);
				}
			} else {
				for batch in in_batches(specs, args.create_batch as usize) {
					let call = runtime::transactions().tasks().create_tasks(BoundedVec(batch));
					txs.push(sign(&head, &mut creators[c], &call)?);
				}
			}
		}
		let refused = submit_all(txs).await;
		if refused > 0 {
			// A refused transaction leaves a gap in its sender's nonces: start again from the chain's.
			eprintln!("block {number}: the node refused {refused} transactions; resynchronising nonces");
			for account in workers.iter_mut().chain(creators.iter_mut()) {
				account.sync_nonce(&client).await?;
			}
		}

		print_row(&figures, &limits);
		if measured.is_empty() && figures.finalized == 0 {
			warm_up += 1;
		} else {
			measured.push(figures);
		}
	}
	summary(&args, &limits, &measured, warm_up, started.elapsed());
	Ok(())
}

/// `items` in batches of at most `size` (a batch call's bound), in order.
fn in_batches<I>(mut items: Vec<I>, size: usize) -> Vec<Vec<I>> {
	let mut batches = Vec::new();
	while !items.is_empty() {
		let rest = items.split_off(items.len().min(size.max(1)));
		batches.push(std::mem::replace(&mut items, rest));
	}
	batches
}

/// A simulated worker's sealing key for a task's round: derived, so its reveal needs no store.
fn sealing_key(task: u64, round: u32, worker: [u8; 32], run_id: u32) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&codec::Encode::encode(&(task, round, worker, run_id)))
}

fn print_row(f: &BlockFigures, limits: &Limits) {
	println!(
		"{:>6} {:>4} {:>7} {:>8} {:>9} {:>8} {:>9} {:>6} {:>8.1}% {:>8.1}% {:>7.1}% {:>8}",
		f.number,
		f.extrinsics,
		f.created,
		f.assigned,
		f.committed,
		f.revealed,
		f.finalized,
		f.failed,
		percent(f.ref_time, limits.ref_time),
		percent(f.proof_size, limits.proof_size),
		percent(u64::from(f.length), u64::from(limits.length)),
		f.build_ms.map_or("-".to_string(), |ms| format!("{ms} ms")),
	);
}

fn percent(part: u64, whole: u64) -> f64 {
	if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}

fn summary(args: &BenchChainArgs, limits: &Limits, measured: &[BlockFigures], warm_up: usize, elapsed: Duration) {
	let blocks = measured.len().max(1) as f64;
	let sum = |f: fn(&BlockFigures) -> u64| measured.iter().map(f).sum::<u64>();
	let finalized = sum(|b| u64::from(b.finalized));
	let ref_time = sum(|b| b.ref_time);
	let proof_size = sum(|b| b.proof_size);
	let length = sum(|b| u64::from(b.length));
	let latencies: Vec<u64> = measured.iter().flat_map(|b| b.verdict_latency.iter().copied()).collect();
	let builds: Vec<u64> = measured.iter().filter_map(|b| b.build_ms).collect();
	println!("\nsummary over {} blocks (after {warm_up} blocks before the first verdict; {:.0} s in all)", measured.len(), elapsed.as_secs_f64());
	println!("  finalized tasks per block (measured): {:.1}", finalized as f64 / blocks);
	println!("  failed tasks: {}", sum(|b| u64::from(b.failed)));
	let (created, assigned) = (sum(|b| u64::from(b.created)), sum(|b| u64::from(b.assigned)));
	println!(
		"  created {created}, assigned {assigned}{}",
		if created > assigned + created / 10 {
			format!(": {} more tasks wait for a draw than when measuring began (the draws, not the load, limit)", created - assigned)
		} else {
			String::new()
		}
	);
	println!(
		"  block use: ref time {:.1}%, proof size {:.1}%, length {:.1}% (mean)",
		percent(ref_time, limits.ref_time * measured.len() as u64),
		percent(proof_size, limits.proof_size * measured.len() as u64),
		percent(length, u64::from(limits.length) * measured.len() as u64)
	);
	if !latencies.is_empty() {
		let mean = latencies.iter().sum::<u64>() as f64 / latencies.len() as f64;
		println!("  verdict latency after the last reveal: mean {mean:.2} blocks, max {}", latencies.iter().max().unwrap());
	}
	if !builds.is_empty() {
		println!(
			"  block build time on this machine: mean {:.0} ms, max {} ms",
			builds.iter().sum::<u64>() as f64 / builds.len() as f64,
			builds.iter().max().unwrap()
		);
		// The weights must not undercharge: a block takes this share of the ref time it is
		// charged to build here (the heaviest share is the one that matters).
		let shares: Vec<f64> = measured
			.iter()
			.filter_map(|b| b.build_ms.filter(|_| b.ref_time > 0).map(|ms| ms as f64 * 1e9 / b.ref_time as f64))
			.collect();
		if !shares.is_empty() {
			let max = 100.0 * shares.iter().cloned().fold(0.0, f64::max);
			let verdict = if max <= 100.0 {
				"under 100%: the weights do not undercharge this machine"
			} else {
				"over 100%: a block took longer to build here than the ref time it was charged"
			};
			println!(
				"  build time / charged ref time: mean {:.0}%, max {max:.0}% ({verdict})",
				100.0 * shares.iter().sum::<f64>() / shares.len() as f64,
			);
		}
	}
	if let (Some(first), Some(last)) = (measured.first(), measured.last()) {
		println!("  measured blocks: {}..={}", first.number, last.number);
	}
	if finalized == 0 {
		println!("  no task was finalized in the measured blocks: no ceiling to derive");
		return;
	}
	// Per verified task: one creation, a commit and a reveal per verifier (the calls, normal
	// class), and the hooks' weight of the measured blocks shared among the tasks verified in
	// them (draws, verdicts, pruning; inherents are counted in too, which only lowers it).
	let total = |f: fn(&BlockFigures) -> Cost| {
		let mut all = Cost::default();
		for b in measured {
			all.add(f(b));
		}
		all
	};
	let (create, commit, reveal, hooks) = (total(|b| b.create), total(|b| b.commit), total(|b| b.reveal), total(|b| b.hooks));
	let v = f64::from(args.verifiers);
	let per_task = |(c, m, r): ((f64, f64), (f64, f64), (f64, f64)), pick: fn((f64, f64)) -> f64| pick(c) + v * pick(m) + v * pick(r);
	let calls = (create.mean(), commit.mean(), reveal.mean());
	let calls_ref = per_task(calls, |x| x.0);
	let calls_proof = per_task(calls, |x| x.1);
	let hooks_ref = hooks.ref_time as f64 / finalized as f64;
	let hooks_proof = hooks.proof_size as f64 / finalized as f64;
	let per_task_len = length as f64 / finalized as f64;
	println!("  cost per verified task ({} verifiers):", args.verifiers);
	for (what, (ref_time, proof)) in
		[("create_task", create.mean()), ("commit_result", commit.mean()), ("reveal_result", reveal.mean())]
	{
		println!("    {what:<14} {:>9.3} ms ref time {:>9.1} KiB proof size (mean of one call)", ref_time / 1e9, proof / 1024.0);
	}
	println!("    calls in all   {:>9.3} ms ref time {:>9.1} KiB proof size", calls_ref / 1e9, calls_proof / 1024.0);
	println!("    hooks          {:>9.3} ms ref time {:>9.1} KiB proof size (the blocks' hook weight / tasks verified)", hooks_ref / 1e9, hooks_proof / 1024.0);
	println!("    extrinsics     {per_task_len:>9.0} bytes");
	println!("\n  ceiling (tasks per block)              measured {:.1}", finalized as f64 / blocks);
	println!("    calls by ref time (normal class)     {:.0}", limits.normal_ref_time as f64 / calls_ref);
	println!("    calls by proof size (normal class)   {:.0}", limits.normal_proof_size as f64 / calls_proof);
	println!("    hooks by ref time (deadline hook)    {:.0}", limits.hook_ref_time as f64 / hooks_ref);
	println!("    hooks by proof size (deadline hook)  {:.0}", limits.hook_proof_size as f64 / hooks_proof);
	// What the two classes' shares together would carry if they were split in proportion to
	// these costs (the runtime's split is fixed: this tells whether re-splitting would help).
	let shared = limits.normal_ref_time as f64 + limits.hook_ref_time as f64;
	println!(
		"    calls + hooks, {:.0}% split by cost     {:.0}",
		100.0 * shared / limits.ref_time as f64,
		shared / (calls_ref + hooks_ref)
	);
	println!(
		"    whole block by ref time / proof size {:.0} / {:.0}",
		limits.ref_time as f64 / (calls_ref + hooks_ref),
		limits.proof_size as f64 / (calls_proof + hooks_proof)
	);
	println!("    by block length                      {:.0}", f64::from(limits.length) / per_task_len);
	let open_per_task = f64::from(args.verifiers);
	println!(
		"    by open tasks per worker             {:.0} ({} workers x {} open each / {} verifiers, per block a task stays open)",
		f64::from(args.workers) * f64::from(limits.max_open_per_worker) / open_per_task,
		args.workers,
		limits.max_open_per_worker,
		args.verifiers
	);
	// A task is in storage from the block that creates it until the hook of the block
	// `retention` after its verdict prunes it.
	let lives: Vec<u64> = measured.iter().flat_map(|b| b.life.iter().copied()).collect();
	let life = lives.iter().sum::<u64>() as f64 / lives.len().max(1) as f64;
	println!(
		"    by MaxTasks                          {:.0} ({} tasks / {:.1} blocks in storage: created to verdict {life:.1} + retention {})",
		f64::from(limits.max_tasks) / (life + f64::from(args.retention)),
		limits.max_tasks,
		life + f64::from(args.retention),
		args.retention
	);
}

/// The node's block build times, from its log ("Prepared block for proposing at N (X ms)").
struct BuildTimes {
	path: PathBuf,
	offset: usize,
	times: HashMap<u64, u64>,
}

impl BuildTimes {
	fn get(&mut self, number: u64) -> Option<u64> {
		if let Ok(log) = std::fs::read_to_string(&self.path) {
			if let Some(new) = log.get(self.offset..) {
				for line in new.lines() {
					if let Some((n, ms)) = parse_prepared(line) {
						self.times.insert(n, ms);
					}
				}
			}
			self.offset = log.len();
		}
		self.times.get(&number).copied()
	}
}

/// `… Prepared block for proposing at 12 (34 ms) …` -> (12, 34).
fn parse_prepared(line: &str) -> Option<(u64, u64)> {
	let rest = line.split("Prepared block for proposing at ").nth(1)?;
	let (number, rest) = rest.split_once(" (")?;
	let ms = rest.split_once(" ms)")?.0;
	Some((number.trim().parse().ok()?, ms.trim().parse().ok()?))
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<()>
where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
	let deadline = Instant::now() + timeout;
	while !check().await? {
		anyhow::ensure!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	Ok(())
}

async fn limits(client: &Client) -> anyhow::Result<Limits> {
	let at = client.at_current_block().await?;
	let weights = at.constants().entry(runtime::constants().system().block_weights())?;
	let length = at.constants().entry(runtime::constants().system().block_length())?;
	let (max_ref_time, max_proof_size) = (weights.max_block.ref_time, weights.max_block.proof_size);
	let hook = at.constants().entry(runtime::constants().tasks().hook_weight())?;
	let normal = weights.per_class.normal.max_total.unwrap_or(weights.max_block);
	Ok(Limits {
		ref_time: max_ref_time,
		proof_size: max_proof_size,
		normal_ref_time: normal.ref_time,
		normal_proof_size: normal.proof_size,
		length: length.max.normal,
		max_open_per_worker: at.constants().entry(runtime::constants().tasks().max_open_tasks_per_worker())?,
		max_create_batch: at.constants().entry(runtime::constants().tasks().max_create_batch())?,
		max_tasks: at.constants().entry(runtime::constants().tasks().max_tasks())?,
		hook_ref_time: hook.ref_time,
		hook_proof_size: hook.proof_size,
	})
}

async fn min_stake(client: &Client) -> anyhow::Result<u128> {
	let at = client.at_current_block().await?;
	let params = at.storage().try_fetch(runtime::storage().workers().params(), ()).await?.context("no worker parameters")?;
	Ok(params.decode()?.min_stake)
}

/// Registers the bench model and sets the retention, through sudo; the model's id and fee.
async fn setup_governance(client: &Client, sudo: &mut Account, name: &str, retention: u32) -> anyhow::Result<(u32, u128)> {
	let min_fee = UNIT / 100;
	let tolerances = Tolerances::of(&[(HashAlg::Average, 2), (HashAlg::Perceptual, 2), (HashAlg::Difference, 2)]);
	let info = ModelInfo {
		name: BoundedVec(name.as_bytes().to_vec()),
		kind: ModelKind::Image,
		weights_digest: sp_crypto_hashing::blake2_256(name.as_bytes()),
		vram_mib: 512,
		tolerances: to_runtime(&tolerances)?,
		max_steps: 50,
		max_side: 512,
		max_images: 1,
		max_tokens: 0,
		context_len: 0,
		min_fee,
		retired: false,
	};
	let at = client.at_current_block().await?;
	let mut params = at.storage().try_fetch(runtime::storage().tasks().params(), ()).await?.context("no task parameters")?.decode()?;
	params.retention = retention;
	let register = runtime::transactions().sudo().sudo(RuntimeCall::Tasks(runtime::runtime_types::pallet_tasks::pallet::Call::register_model { info }));
	let set_params = runtime::transactions().sudo().sudo(RuntimeCall::Tasks(runtime::runtime_types::pallet_tasks::pallet::Call::set_params { params }));
	for call in [&register, &set_params] {
		chain::submit(client, call, &sudo.key).await.map_err(|e| anyhow::anyhow!("sudo: {e}"))?;
	}
	sudo.sync_nonce(client).await?;
	let models = chain::models(client).await?;
	let (model, _) = models.iter().rev().find(|(_, m)| m.name.0 == name.as_bytes()).context("the bench model was not registered")?;
	Ok((*model, min_fee))
}

fn bench_profile() -> ExecutionProfile {
	let field = |s: &str| s.as_bytes().to_vec().try_into().expect("a short field");
	ExecutionProfile {
		gpu_model: field("bench"),
		vram_mib: 1024,
		driver: field(""),
		cuda: field(""),
		libtorch: field("bench"),
		dtype: Dtype::F32,
		worker_version: field(env!("CARGO_PKG_VERSION")),
	}
}

fn bench_payload() -> ResultPayload {
	let mut hashes = ImageHashes::default();
	for alg in [HashAlg::Average, HashAlg::Perceptual, HashAlg::Difference] {
		hashes.set(alg, BENCH_HASH);
	}
	let image = ImageResult { hashes, png_digest: sp_crypto_hashing::blake2_256(b"bench image") };
	ResultPayload::Image(vec![image].try_into().expect("one image"))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn build_times_are_read_from_the_node_log() {
		let line = "2026-12-03 04:01:02 🎁 Prepared block for proposing at 12 (34 ms) hash: 0xab…; parent_hash: 0xcd…; end: NoMoreTransactions; extrinsics_count: 5";
		assert_eq!(parse_prepared(line), Some((12, 34)));
		assert_eq!(parse_prepared("Imported #12"), None);
	}
}
