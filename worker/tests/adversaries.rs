//! Adversaries against a running chain: a `replica-node --dev`, three honest `replica-worker
//! run` daemons (Bob, Charlie, Dave) serving the embedded digits-sd model on the CPU, and
//! adversaries played by this test through the worker library and the real calls — never
//! through flags of the production binary. One chain, one scenario after another; in each the
//! adversaries go online, a dapp (Eve) asks for an image verified by every online worker, and
//! the adversaries do their worst:
//!
//! - **lazy**: reveals random hashes without running anything;
//! - **guesser**: runs the real model with another seed;
//! - **copier**: copies an honest worker's sealed result (refused as a duplicate), then commits
//!   the copied ciphertext under a commitment of its own, which it cannot open;
//! - **withholder**: commits a guess and reveals only if the others agree with it;
//! - **re-roller**: a creator that tries to cancel once the draw is under way;
//! - **Sybil minority**: two staked identities agreeing on the same wrong image;
//! - **wrong model**: runs a cheaper variant of the model (its UNet's weights halved).
//!
//! Each adversary loses (slashed with the right reason, never paid), no honest worker is ever
//! slashed and each wins every task, the creator gets a verified image each time, and across
//! the whole run every account's balance (free + held, and for a worker its unclaimed
//! earnings) reconciles to the planck with the chain's events: payments, slashes into the
//! slash pot, and transaction fees, which are burnt (total issuance falls by exactly their
//! sum). Needs the node binary: run by scripts/test.sh
//! (--include-ignored).

mod common;

use std::{
	collections::{BTreeMap, BTreeSet},
	path::Path,
	sync::{Arc, Mutex},
	time::Duration,
};

use common::{
	copy_dir, cpu_profile,
	daemons::{cli_ok, models_dir, wait_until, Worker},
	DevNode, NODE_START,
};
use replica_primitives::{commitment, seal, HashAlg, ImageHashes, ImageResult, ResultPayload};
use replica_worker::{
	chain::{self, runtime, to_runtime, AccountId, Client, SubmitError, TaskInfo, TaskStatus},
	engines::{determinism, weights},
	models::{self, LocalKind, LocalModel},
	pipeline::{Job, Runner},
};
use runtime::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec,
	pallet_tasks::types::{ImageParams, Outcome, TaskParams, TaskSpec, Verification},
	replica_primitives::types::SlashReason,
};
use subxt_signer::sr25519::{dev, Keypair};

const UNIT: u128 = 1_000_000_000_000;
/// What each task pays: not a multiple of three, so the first winner's remainder is checked.
const FEE: u128 = 2 * UNIT;
const ADVERSARY_STAKE: u128 = 200 * UNIT;
/// Blocks to reveal in (governance shortens it so the withholder's task ends sooner).
const REVEAL_WINDOW: u32 = 8;
const WAIT: Duration = Duration::from_secs(180);

type Task = TaskInfo<AccountId, u128, u32>;

// The adversaries run the image engine in this process: determinism is switched on before any
// thread starts, so this is a plain test that builds its own runtime.
#[test]
#[ignore = "needs the replica-node binary; run by scripts/test.sh"]
fn adversaries_lose_and_honest_workers_never_do() {
	determinism::enable().unwrap();
	tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(run());
}

async fn run() {
	let mut node = DevNode::start(&[]);
	let client = node.connect(NODE_START).await;
	node.wait_for_height(&client, 1, Duration::from_secs(60)).await;
	let url = node.url();
	let digits_dir = models_dir().join("digits-sd");
	let out = cli_ok(&["model", "register", "--node", &url, "--sudo-key", "//Alice", digits_dir.to_str().unwrap()]);
	assert!(out.contains("registered: digits-sd"), "{out}");
	cli_ok(&["gov", "tasks-params", "--node", &url, "--key", "//Alice", "--set", &format!("reveal_window={REVEAL_WINDOW}")]);
	let (model, model_info) = chain::models(&client).await.unwrap().into_iter().find(|(_, m)| m.name.0 == b"digits-sd").unwrap();

	let honest = [
		Worker::start(&node, "Bob", dev::bob()),
		Worker::start(&node, "Charlie", dev::charlie()),
		Worker::start(&node, "Dave", dev::dave()),
	];
	for w in &honest {
		w.wait_online(&client).await;
	}
	let honest_accounts: Vec<AccountId> = honest.iter().map(Worker::account).collect();

	// The adversaries: funded by Alice, registered with a stake, offline until their scenario.
	let names = ["Lazy", "Guesser", "Copier", "Withholder", "Sybil1", "Sybil2", "WrongModel"];
	let mut adversaries = BTreeMap::new();
	for name in names {
		let adversary = Adversary::register(&client, name, model).await;
		adversaries.insert(name, adversary);
	}
	let adversary = |name: &str| &adversaries[name];

	// The engine the adversaries run when they run one: the real model, and a cheaper variant.
	let mut runner = Runner::new(tch::Device::Cpu);
	runner.load(model, models::scan(&digits_dir).unwrap().remove(0)).unwrap();
	let wrong_dir = node.base.join("digits-sd-halved");
	let wrong_model = model + 1_000;
	runner.load(wrong_model, halved_unet_copy(&digits_dir, &wrong_dir)).unwrap();

	// Everything from here on is reconciled against the chain's events.
	let ledger = Ledger::follow(client.clone()).await;
	let before = Snapshot::take(&client).await;
	let mut tasks = Vec::new();
	let s = Scenario { client: &client, honest: &honest_accounts, model, side: model_info.max_side.min(512) };

	// 1. Lazy: random hashes, no work. An outlier.
	{
		let lazy = adversary("Lazy");
		let task = s.start(&[lazy], 11).await;
		let key = lazy.commit(&client, task.id, task.round, &random_result()).await;
		s.reveal_phase(task.id).await;
		lazy.reveal(&client, task.id, key).await.unwrap();
		s.expect(task.id, &[(lazy, Outcome::Outlier)]).await;
		s.finish(&[lazy]).await;
		tasks.push(task.id);
	}

	// 2. Guesser: the real model with another seed. An outlier.
	{
		let guesser = adversary("Guesser");
		let task = s.start(&[guesser], 12).await;
		let guess = execute(&mut runner, model, &task, s.params(task.id).await, Some(task.seed + 1));
		let key = guesser.commit(&client, task.id, task.round, &guess).await;
		s.reveal_phase(task.id).await;
		guesser.reveal(&client, task.id, key).await.unwrap();
		s.expect(task.id, &[(guesser, Outcome::Outlier)]).await;
		s.finish(&[guesser]).await;
		tasks.push(task.id);
	}

	// 3. Copier: an honest worker's sealed result is bound to that worker; a verbatim copy is
	//    refused, and the copied ciphertext under a commitment of its own cannot be opened.
	{
		let copier = adversary("Copier");
		let task = s.start(&[copier], 13).await;
		let (victim, sealed) = s.first_commitment(task.id).await;
		let copied = copier.commit_raw(&client, task.id, sealed.ciphertext.clone(), sealed.commitment).await;
		assert!(matches!(&copied, Err(e) if e.is("Tasks::DuplicateCommitment")), "a copied commitment: {copied:?}");
		let key = random_key();
		let own = commitment::commitment(&commitment::context(task.id, task.round, &copier.account().0), &key, &sealed.ciphertext);
		copier.commit_raw(&client, task.id, sealed.ciphertext, own).await.expect("a commitment of its own is accepted");
		s.reveal_phase(task.id).await;
		copier.reveal(&client, task.id, key).await.unwrap();
		s.expect(task.id, &[(copier, Outcome::BadReveal)]).await;
		assert!(s.honest.contains(&victim));
		s.finish(&[copier]).await;
		tasks.push(task.id);
	}

	// 4. Withholder: commits a guess, watches the others' reveals and stays silent when they
	//    disagree with it. Silence costs at least what being wrong costs.
	{
		let withholder = adversary("Withholder");
		let task = s.start(&[withholder], 14).await;
		let guess = execute(&mut runner, model, &task, s.params(task.id).await, Some(task.seed + 1));
		let key = withholder.commit(&client, task.id, task.round, &guess).await;
		s.reveal_phase(task.id).await;
		let revealed = s.honest_reveals(task.id).await;
		let in_majority = revealed.iter().filter(|r| **r == guess).count() * 2 > revealed.len();
		assert!(!in_majority, "the guess matched the honest result");
		let _ = key; // withheld
		s.expect(task.id, &[(withholder, Outcome::Withheld)]).await;
		s.finish(&[withholder]).await;
		tasks.push(task.id);
	}

	// 5. Re-roller: a creator who dislikes the draw cannot cancel once randomness that could
	//    draw the task may be known; the task is verified and the fee paid.
	{
		let task = s.create(15, 3).await;
		let refused = chain::submit(&client, &runtime::transactions().tasks().cancel_task(task), &dev::eve()).await;
		assert!(
			matches!(&refused, Err(e) if e.is("Tasks::DrawUnderway") || e.is("Tasks::NotPending")),
			"a cancel after the creation block: {refused:?}"
		);
		// Drawn among the three honest workers, it is over in a few blocks.
		s.expect(task, &[]).await;
		tasks.push(task);
	}

	// 6. Sybil minority: two staked identities agree on the same wrong image. Both outliers.
	{
		let sybils = [adversary("Sybil1"), adversary("Sybil2")];
		let task = s.start(&sybils, 16).await;
		let guess = execute(&mut runner, model, &task, s.params(task.id).await, Some(task.seed + 1));
		let mut keys = Vec::new();
		for sybil in sybils {
			keys.push(sybil.commit(&client, task.id, task.round, &guess).await);
		}
		s.reveal_phase(task.id).await;
		for (sybil, key) in sybils.iter().zip(keys) {
			sybil.reveal(&client, task.id, key).await.unwrap();
		}
		s.expect(task.id, &[(sybils[0], Outcome::Outlier), (sybils[1], Outcome::Outlier)]).await;
		s.finish(&sybils).await;
		tasks.push(task.id);
	}

	// 7. Wrong model: a cheaper variant of the registered model. An outlier.
	{
		let cheat = adversary("WrongModel");
		let task = s.start(&[cheat], 17).await;
		let result = execute(&mut runner, wrong_model, &task, s.params(task.id).await, None);
		let key = cheat.commit(&client, task.id, task.round, &result).await;
		s.reveal_phase(task.id).await;
		cheat.reveal(&client, task.id, key).await.unwrap();
		s.expect(task.id, &[(cheat, Outcome::Outlier)]).await;
		s.finish(&[cheat]).await;
		tasks.push(task.id);
	}

	// The money, to the planck.
	let after = Snapshot::take(&client).await;
	let events = ledger.since(before.block, after.block).await;
	let events: Vec<&Recorded> = events.iter().filter(|(n, _)| *n > before.block && *n <= after.block).map(|(_, e)| e).collect();
	let fees_of = |who: &AccountId| -> u128 {
		events.iter().map(|e| match e { Recorded::Fee { who: w, amount } if w == who => *amount, _ => 0 }).sum()
	};
	let slashes: Vec<(&AccountId, u128, &SlashReason)> = events
		.iter()
		.filter_map(|e| match e {
			Recorded::Slashed { worker, amount, reason, task } => {
				assert!(tasks.contains(task), "a slash in task {task}, not one of this run's");
				Some((worker, *amount, reason))
			},
			_ => None,
		})
		.collect();
	let mut paid: BTreeMap<AccountId, u128> = BTreeMap::new();
	let mut verified = BTreeSet::new();
	for e in &events {
		if let Recorded::Finalized { task, winners, share } = e {
			verified.insert(*task);
			assert_eq!(winners.len(), 3, "task {task}: the three honest workers win");
			for (i, w) in winners.iter().enumerate() {
				let remainder = if i == 0 { FEE - share * winners.len() as u128 } else { 0 };
				*paid.entry(w.clone()).or_default() += share + remainder;
			}
		}
		if let Recorded::Failed { task } = e {
			panic!("task {task} failed");
		}
	}
	assert_eq!(verified, tasks.iter().copied().collect(), "every task was verified");

	// No honest worker was slashed, and each won every task.
	for (who, amount, reason) in &slashes {
		assert!(!honest_accounts.contains(who), "an honest worker was slashed {amount} for {reason:?}");
	}
	for w in &honest {
		for task in &tasks {
			let outcome = chain::outcome(&client, *task, &w.account()).await.unwrap();
			assert!(matches!(outcome, Some(Outcome::Won)), "{} in task {task}: {outcome:?}", w.name);
		}
		assert!(!w.log().contains("slashed"), "{}'s log:\n{}", w.name, w.log());
		let expected = before.total(&w.account()) + paid[&w.account()] - fees_of(&w.account());
		assert_eq!(after.total(&w.account()), expected, "{}: paid {} less its fees", w.name, paid[&w.account()]);
	}
	// Each adversary lost its slashes and fees and was paid nothing.
	for (name, expected) in [
		("Lazy", SlashReason::Outlier),
		("Guesser", SlashReason::Outlier),
		("Copier", SlashReason::BadReveal),
		("Withholder", SlashReason::Withheld),
		("Sybil1", SlashReason::Outlier),
		("Sybil2", SlashReason::Outlier),
		("WrongModel", SlashReason::Outlier),
	] {
		let who = adversary(name).account();
		let theirs: Vec<_> = slashes.iter().filter(|(w, ..)| **w == who).collect();
		assert_eq!(theirs.len(), 1, "{name} slashed once: {theirs:?}");
		let (_, amount, reason) = theirs[0];
		assert_eq!(format!("{reason:?}"), format!("{expected:?}"), "{name}'s slash");
		assert!(*amount > 0 && !paid.contains_key(&who), "{name}: slashed {amount}, never paid");
		assert_eq!(after.total(&who), before.total(&who) - amount - fees_of(&who), "{name}: its slash and fees, to the planck");
	}
	let slashed_for = |name: &str| slashes.iter().find(|(w, ..)| **w == adversary(name).account()).unwrap().1;
	assert!(slashed_for("Withholder") >= slashed_for("Guesser"), "withholding costs at least as much as a wrong result");
	// The creator paid each verified task's fee and its transactions' fees.
	let eve = dev::eve().public_key().to_account_id();
	assert_eq!(after.total(&eve), before.total(&eve) - FEE * tasks.len() as u128 - fees_of(&eve), "the creator");
	// Every slash went to the slash pot: the one other account whose balance changed.
	let tracked: BTreeSet<AccountId> =
		honest_accounts.iter().cloned().chain(adversaries.values().map(Adversary::account)).chain([eve.clone()]).collect();
	let slashed: u128 = slashes.iter().map(|(_, amount, _)| amount).sum();
	let others: Vec<(AccountId, i128)> = after
		.accounts
		.keys()
		.chain(before.accounts.keys())
		.collect::<BTreeSet<_>>()
		.into_iter()
		.filter(|who| !tracked.contains(*who))
		.map(|who| (who.clone(), after.total(who) as i128 - before.total(who) as i128 + fees_of(who) as i128))
		.filter(|(_, delta)| *delta != 0)
		.collect();
	assert_eq!(others.len(), 1, "only the slash pot's balance moved outside fees: {others:?}");
	assert_eq!(others[0].1, slashed as i128, "the slash pot received every slash");
	// Fees are burnt: issuance fell by exactly their sum, and the accounts hold all of it.
	let fees: u128 = events.iter().map(|e| match e { Recorded::Fee { amount, .. } => *amount, _ => 0 }).sum();
	assert_eq!(before.issuance - after.issuance, fees, "issuance fell by the fees burnt");
	assert_eq!(after.accounts.values().sum::<u128>(), after.issuance, "the accounts hold the whole issuance");
	assert_eq!(before.accounts.values().sum::<u128>(), before.issuance, "the accounts held the whole issuance");
}

/// A staked adversary account, registered for `model`.
struct Adversary {
	name: &'static str,
	key: Keypair,
}

impl Adversary {
	async fn register(client: &Client, name: &'static str, model: u32) -> Adversary {
		let key = replica_worker::config::parse_key(&format!("//{name}")).unwrap();
		let adversary = Adversary { name, key };
		let fund = runtime::transactions()
			.balances()
			.transfer_keep_alive(subxt::utils::MultiAddress::Id(adversary.account()), 2 * ADVERSARY_STAKE);
		chain::submit(client, &fund, &dev::alice()).await.unwrap();
		let register = runtime::transactions().workers().register(
			to_runtime(&cpu_profile()).unwrap(),
			vec![model],
			b"http://127.0.0.1:9".to_vec(),
			ADVERSARY_STAKE,
		);
		chain::submit(client, &register, &adversary.key).await.unwrap_or_else(|e| panic!("{name} registers: {e}"));
		adversary
	}

	fn account(&self) -> AccountId {
		self.key.public_key().to_account_id()
	}

	/// Seals `payload` for this account under a fresh key and commits it; the key.
	async fn commit(&self, client: &Client, task: u64, round: u32, payload: &ResultPayload) -> [u8; 32] {
		let key = random_key();
		let sealed = seal(payload, task, round, &self.account().0, &key);
		self.commit_raw(client, task, sealed.ciphertext, sealed.commitment)
			.await
			.unwrap_or_else(|e| panic!("{} commits: {e}", self.name));
		key
	}

	async fn commit_raw(&self, client: &Client, task: u64, ciphertext: Vec<u8>, commitment: [u8; 32]) -> Result<(), SubmitError> {
		chain::submit(client, &runtime::transactions().tasks().commit_result(task, ciphertext, commitment), &self.key).await.map(drop)
	}

	async fn reveal(&self, client: &Client, task: u64, key: [u8; 32]) -> Result<(), SubmitError> {
		chain::submit(client, &runtime::transactions().tasks().reveal_result(task, key), &self.key).await.map(drop)
	}
}

/// A task drawn for a scenario.
struct Drawn {
	id: u64,
	round: u32,
	seed: u64,
}

struct Scenario<'a> {
	client: &'a Client,
	honest: &'a [AccountId],
	model: u32,
	side: u32,
}

impl Scenario<'_> {
	/// The adversaries go online; Eve asks for an image verified by all online workers (the
	/// three honest ones and `adversaries`), which waits for them to become eligible and draws
	/// them all.
	async fn start(&self, adversaries: &[&Adversary], seed: u64) -> Drawn {
		for a in adversaries {
			chain::submit(self.client, &runtime::transactions().workers().go_online(), &a.key).await.unwrap();
		}
		let id = self.create(seed, 3 + adversaries.len() as u32).await;
		let accounts: Vec<AccountId> = adversaries.iter().map(|a| a.account()).collect();
		let info = self.drawn(id, &accounts).await;
		let TaskStatus::Committing { round, .. } = info.status else { unreachable!() };
		let TaskParams::Image(ImageParams { seed, .. }) = &info.params else { panic!("an image task") };
		Drawn { id, round, seed: *seed }
	}

	async fn create(&self, seed: u64, verifiers: u32) -> u64 {
		let spec = TaskSpec {
			model: self.model,
			params: TaskParams::Image(ImageParams {
				prompt: BoundedVec(format!("a photo of the digit {}", seed % 10).into_bytes()),
				negative_prompt: BoundedVec(Vec::new()),
				seed,
				steps: 20,
				guidance_milli: 7_500,
				width: self.side,
				height: self.side,
				count: 1,
			}),
			verification: Some(Verification::Replicated { verifiers }),
			quorum: None,
			fee: FEE,
		};
		let events = chain::submit(self.client, &runtime::transactions().tasks().create_task(spec), &dev::eve()).await.unwrap();
		events.find_first::<runtime::tasks::events::TaskCreated>().unwrap().unwrap().task
	}

	/// Waits until `task` is drawn; its workers are the honest ones and `others`.
	async fn drawn(&self, task: u64, others: &[AccountId]) -> Task {
		let info = self.poll(task, "drawn", |info| matches!(info.status, TaskStatus::Committing { .. })).await;
		let drawn: BTreeSet<&AccountId> = info.workers.0.iter().collect();
		let expected: BTreeSet<&AccountId> = self.honest.iter().chain(others).collect();
		assert_eq!(drawn, expected, "task {task} draws every online worker");
		info
	}

	async fn poll(&self, task: u64, what: &str, done: impl Fn(&Task) -> bool) -> Task {
		let deadline = std::time::Instant::now() + WAIT;
		loop {
			if let Ok(Some(info)) = chain::task_info(self.client, task).await {
				if done(&info) {
					return info;
				}
				assert!(std::time::Instant::now() < deadline, "task {task} not {what} after {WAIT:?}: {:?}", info.status);
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}

	/// The first honest commitment to appear: whose, and its sealed result as the chain shows it.
	async fn first_commitment(&self, task: u64) -> (AccountId, replica_primitives::Sealed) {
		let deadline = std::time::Instant::now() + WAIT;
		loop {
			for who in self.honest {
				if let Ok(Some(a)) = chain::assignment(self.client, task, who).await {
					if let (Some(commitment), Some(ciphertext)) = (a.commitment, a.ciphertext) {
						return (who.clone(), replica_primitives::Sealed { ciphertext: ciphertext.0, commitment });
					}
				}
			}
			assert!(std::time::Instant::now() < deadline, "no honest commitment in task {task}");
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}

	/// The task's parameters as the chain holds them.
	async fn params(&self, task: u64) -> TaskParams {
		chain::task_info(self.client, task).await.unwrap().expect("the task exists").params
	}

	async fn reveal_phase(&self, task: u64) {
		self.poll(task, "revealing", |info| matches!(info.status, TaskStatus::Revealing { .. })).await;
	}

	/// The results the honest workers revealed, once all three have.
	async fn honest_reveals(&self, task: u64) -> Vec<ResultPayload> {
		let deadline = std::time::Instant::now() + WAIT;
		loop {
			let mut revealed = Vec::new();
			for who in self.honest {
				if let Ok(Some(a)) = chain::assignment(self.client, task, who).await {
					if let Some(payload) = a.revealed {
						revealed.push(to_runtime::<_, ResultPayload>(&payload).unwrap());
					}
				}
			}
			if revealed.len() == self.honest.len() {
				return revealed;
			}
			assert!(std::time::Instant::now() < deadline, "the honest workers did not reveal task {task}");
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}

	/// Waits for the verdict: the task is finalized, every honest worker won, and each of
	/// `outcomes` ended as given.
	async fn expect(&self, task: u64, outcomes: &[(&Adversary, Outcome)]) {
		let info = self.poll(task, "settled", |info| matches!(info.status, TaskStatus::Finalized | TaskStatus::Failed { .. })).await;
		assert!(matches!(info.status, TaskStatus::Finalized), "task {task}: {:?}", info.status);
		for who in self.honest {
			let outcome = chain::outcome(self.client, task, who).await.unwrap();
			assert!(matches!(outcome, Some(Outcome::Won)), "honest {who} in task {task}: {outcome:?}");
		}
		for (adversary, expected) in outcomes {
			let outcome = chain::outcome(self.client, task, &adversary.account()).await.unwrap();
			assert_eq!(format!("{outcome:?}"), format!("{:?}", Some(expected)), "{} in task {task}", adversary.name);
		}
	}

	/// The adversaries leave the pool, so the next scenario draws only its own.
	async fn finish(&self, adversaries: &[&Adversary]) {
		for a in adversaries {
			chain::submit(self.client, &runtime::transactions().workers().go_offline(), &a.key).await.unwrap();
		}
	}
}

/// Runs `task` on `model` as a worker would, with `seed` instead of the task's when given.
fn execute(runner: &mut Runner, model: u32, task: &Drawn, mut params: TaskParams, seed: Option<u64>) -> ResultPayload {
	if let (TaskParams::Image(p), Some(seed)) = (&mut params, seed) {
		p.seed = seed;
	}
	let job = Job { task: task.id, round: task.round, model, params, commit_deadline: 0 };
	runner.execute(&job).unwrap().0
}

/// A copy of the model at `from` whose UNet weights are halved: what a worker cutting corners
/// might run instead of the registered model.
fn halved_unet_copy(from: &Path, to: &Path) -> LocalModel {
	copy_dir(from, to);
	let file = to.join("unet").join("diffusion_pytorch_model.safetensors");
	let halved: std::collections::HashMap<String, tch::Tensor> = weights::read(&file)
		.unwrap()
		.into_iter()
		.map(|(name, t)| {
			let t = if t.is_floating_point() { t * 0.5 } else { t };
			(name, t)
		})
		.collect();
	weights::write(&file, &halved).unwrap();
	LocalModel { dir: to.to_path_buf(), kind: LocalKind::Image, digest: models::digest(to).unwrap() }
}

fn random_key() -> [u8; 32] {
	let mut key = [0u8; 32];
	getrandom::getrandom(&mut key).unwrap();
	key
}

/// What a lazy worker reveals: random hashes of an image it never made.
fn random_result() -> ResultPayload {
	let mut bytes = [0u8; 64];
	getrandom::getrandom(&mut bytes).unwrap();
	let mut hashes = ImageHashes::default();
	for (i, alg) in HashAlg::ALL.into_iter().enumerate() {
		hashes.set(alg, u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap()));
	}
	let png_digest = bytes[32..].try_into().unwrap();
	ResultPayload::Image(vec![ImageResult { hashes, png_digest }].try_into().unwrap())
}

/// Every account's free + held balance and the total issuance, at one finalized block. A
/// worker's unclaimed earnings count as its own, not the earnings pot's: claims move nothing.
struct Snapshot {
	block: u64,
	issuance: u128,
	accounts: BTreeMap<AccountId, u128>,
}

impl Snapshot {
	async fn take(client: &Client) -> Snapshot {
		let at = client.at_current_block().await.unwrap();
		let issuance = at.storage().fetch(runtime::storage().balances().total_issuance(), ()).await.unwrap().decode().unwrap();
		let mut accounts = BTreeMap::new();
		let mut entries = at.storage().iter(runtime::storage().system().account(), ()).await.unwrap();
		while let Some(entry) = entries.next().await {
			let entry = entry.unwrap();
			let (who,) = entry.key().unwrap().decode().unwrap();
			let info = entry.value().decode().unwrap();
			accounts.insert(who, info.data.free + info.data.reserved);
		}
		let pot = at.constants().entry(runtime::constants().workers().earnings_pot()).unwrap();
		let mut workers = at.storage().iter(runtime::storage().workers().workers(), ()).await.unwrap();
		while let Some(entry) = workers.next().await {
			let entry = entry.unwrap();
			let (who,) = entry.key().unwrap().decode().unwrap();
			let earnings = entry.value().decode().unwrap().earnings;
			*accounts.get_mut(&pot).expect("the earnings pot exists") -= earnings;
			*accounts.entry(who).or_default() += earnings;
		}
		Snapshot { block: at.block_number(), issuance, accounts }
	}

	fn total(&self, who: &AccountId) -> u128 {
		self.accounts.get(who).copied().unwrap_or(0)
	}
}

/// The events the reconciliation needs, by block number.
#[derive(Debug)]
enum Recorded {
	Fee { who: AccountId, amount: u128 },
	Slashed { worker: AccountId, amount: u128, reason: SlashReason, task: u64 },
	Finalized { task: u64, winners: Vec<AccountId>, share: u128 },
	Failed { task: u64 },
}

/// Follows finalized blocks from now on and records their [`Recorded`] events.
struct Ledger {
	events: Arc<Mutex<Vec<(u64, Recorded)>>>,
	blocks: Arc<Mutex<BTreeSet<u64>>>,
}

impl Ledger {
	async fn follow(client: Client) -> Ledger {
		let events = Arc::new(Mutex::new(Vec::new()));
		let blocks = Arc::new(Mutex::new(BTreeSet::new()));
		let mut stream = client.stream_blocks().await.unwrap();
		let (e, b) = (events.clone(), blocks.clone());
		tokio::spawn(async move {
			use runtime::{tasks::events as tasks, transaction_payment::events as payment, workers::events as workers};
			while let Some(block) = stream.next().await {
				let block = block.unwrap();
				let number = block.number();
				let found = block.at().await.unwrap().events().fetch().await.unwrap();
				let mut recorded = Vec::new();
				for fee in found.find::<payment::TransactionFeePaid>() {
					let fee = fee.unwrap();
					recorded.push(Recorded::Fee { who: fee.who, amount: fee.actual_fee + fee.tip });
				}
				for s in found.find::<workers::Slashed>() {
					let s = s.unwrap();
					recorded.push(Recorded::Slashed { worker: s.worker, amount: s.amount, reason: s.reason, task: s.task });
				}
				for f in found.find::<tasks::TaskFinalized>() {
					let f = f.unwrap();
					recorded.push(Recorded::Finalized { task: f.task, winners: f.winners, share: f.share });
				}
				for f in found.find::<tasks::TaskFailed>() {
					recorded.push(Recorded::Failed { task: f.unwrap().task });
				}
				e.lock().unwrap().extend(recorded.into_iter().map(|r| (number, r)));
				b.lock().unwrap().insert(number);
			}
		});
		Ledger { events, blocks }
	}

	/// Every event recorded once block `last` was, checking that none of the blocks after
	/// `first` up to it was missed.
	async fn since(&self, first: u64, last: u64) -> Vec<(u64, Recorded)> {
		wait_until(&format!("the ledger to reach #{last}"), Duration::from_secs(60), || {
			let done = self.blocks.lock().unwrap().contains(&last);
			async move { done }
		})
		.await;
		let blocks = self.blocks.lock().unwrap();
		assert!((first + 1..=last).all(|n| blocks.contains(&n)), "the ledger missed a block after #{first} up to #{last}: {blocks:?}");
		std::mem::take(&mut *self.events.lock().unwrap())
	}
}
