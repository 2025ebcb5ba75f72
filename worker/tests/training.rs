//! End to end, pallet-training with the real binaries: a `replica-node --dev`, the embedded
//! image model registered by governance, four `replica-worker run` daemons on the CPU, and a
//! dapp that makes training data and creates a task with `replica-worker train create --wait`,
//! serving the data itself. The chain draws one daemon as the trainer: it trains, serves its
//! checkpoints and commits their digests and hashes; it draws the three others to re-run the
//! checked segment from the checkpoint they download (signed, digest-checked), and all four
//! reveal. The segment passes, the trainer and the verifiers are credited, and a checkpoint
//! request by anyone else is refused.
//!
//! Then the attack: a trainer played by this test through the worker library skips one step
//! in every segment and serves its checkpoints like an honest one; the three verifier
//! daemons re-run the drawn segment, disagree, and the trainer is slashed while they are paid.
//! Needs the node binary: run by scripts/test.sh (--include-ignored).

mod common;

use std::time::Duration;

use common::{
	daemons::{cli_ok, models_dir, wait_until, Worker},
	free_port, DevNode, NODE_START,
};
use replica_worker::{
	chain::{runtime, AccountId, Client},
	engines::image::ImageEngine,
};
use runtime::runtime_types::pallet_training::types::{CheckState, TrainingStatus};
use subxt_signer::sr25519::dev;

async fn earnings(client: &Client, who: &AccountId) -> u128 {
	let at = client.at_current_block().await.unwrap();
	at.storage().fetch(runtime::storage().workers().workers(), (who.clone(),)).await.unwrap().decode().unwrap().earnings
}

/// The training id of a `train create` output ("training N created: …").
fn training_id(output: &str) -> u64 {
	let line = output.lines().find(|l| l.starts_with("training ") && l.contains(" created")).expect("a created line");
	line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the replica-node binary; run by scripts/test.sh"]
async fn a_trainer_and_three_verifier_daemons_complete_a_training_task() {
	let mut node = DevNode::start(&[]);
	let client = node.connect(NODE_START).await;
	node.wait_for_height(&client, 1, Duration::from_secs(60)).await;
	let url = node.url();
	let dir = models_dir().join("digits-sd");
	let out = cli_ok(&["model", "register", "--node", &url, "--sudo-key", "//Alice", dir.to_str().unwrap()]);
	assert!(out.contains("registered: digits-sd"), "{out}");

	let workers = vec![
		Worker::start(&node, "Alice", dev::alice()),
		Worker::start(&node, "Bob", dev::bob()),
		Worker::start(&node, "Charlie", dev::charlie()),
		Worker::start(&node, "Dave", dev::dave()),
	];
	for w in &workers {
		w.wait_online(&client).await;
	}

	let data = node.base.join("sevens.latents");
	let out = cli_ok(&[
		"train", "make-data", "--model-dir", dir.to_str().unwrap(), "--prompt", "a photo of the digit seven",
		"--count", "4", "--out", data.to_str().unwrap(),
	]);
	assert!(out.contains("blake2-256"), "{out}");
	let serve = format!("127.0.0.1:{}", free_port());
	let out = cli_ok(&[
		"train", "create", "--node", &url, "--key", "//Eve", "--model", "digits-sd", "--data", data.to_str().unwrap(),
		"--serve-data", &serve, "--steps", "12", "--interval", "4", "--fee", "30", "--window", "40", "--wait",
	]);
	let training = training_id(&out);
	assert!(out.contains("verified training") && out.contains("Passed"), "{out}");

	let at = client.at_current_block().await.unwrap();
	let info = at.storage().fetch(runtime::storage().training().trainings(), (training,)).await.unwrap().decode().unwrap();
	assert!(matches!(info.status, TrainingStatus::Finalized), "{:?}\n{out}", info.status);
	let trainer = info.trainer.clone().expect("a trainer");
	// One segment checked by the three daemons that did not train; each revealed.
	assert_eq!(info.checks.0.len(), 3, "{out}");
	assert!(info.checks.0.iter().all(|c| c.verifier != trainer && matches!(c.state, CheckState::Revealed(_))), "{out}");
	assert_eq!(info.trainer_hashes.0.len(), 1);
	// Verifiers reproduced the trainer's hashes (CPU and CPU: bit for bit).
	for check in &info.checks.0 {
		let CheckState::Revealed(h) = &check.state else { unreachable!() };
		assert_eq!((h.probe, h.end), (info.trainer_hashes.0[0].probe, info.trainer_hashes.0[0].end));
	}
	// Credited: the trainer the fee less the verifiers' tenth, each verifier its slot.
	let fee = 30 * 1_000_000_000_000u128;
	let slot = fee / 10 / 3;
	assert_eq!(earnings(&client, &trainer).await, fee - 3 * slot);
	for check in &info.checks.0 {
		assert_eq!(earnings(&client, &check.verifier).await, slot);
	}
	let trainer_worker = workers.iter().find(|w| w.account() == trainer).expect("a daemon trained");
	wait_until("the trainer's daemon to log the verdict", Duration::from_secs(30), || {
		let log = trainer_worker.log();
		async move { log.contains("training task: finalized; trained") }
	})
	.await;
	for w in workers.iter().filter(|w| w.account() != trainer) {
		assert!(w.log().contains("committing hashes"), "{}: {}", w.name, w.log());
	}

	// The checkpoint is served to nobody but a drawn verifier, on a request it signed.
	let segment = info.sampled.0[0];
	let endpoint = format!("http://{}/training/{training}/checkpoints/{segment}", trainer_worker.listen);
	let refused = replica_worker::http::get(&endpoint).await.unwrap_err();
	assert!(format!("{refused:#}").contains("403"), "{refused:#}");
	use replica_worker::training::{authorization, Download};
	let forged = authorization(&dev::eve(), training, Download::Checkpoint(segment));
	let refused = replica_worker::http::get_with(&endpoint, &[("authorization", forged.as_str())]).await.unwrap_err();
	assert!(format!("{refused:#}").contains("403"), "an account that was not drawn: {refused:#}");
	let verifier = workers.iter().find(|w| w.account() == info.checks.0[0].verifier).unwrap();
	// Signed for another checkpoint, or for this one by the verifier: only the latter is served.
	let other = authorization(&verifier.key, training, Download::Checkpoint(segment + 1));
	let refused = replica_worker::http::get_with(&endpoint, &[("authorization", other.as_str())]).await.unwrap_err();
	assert!(format!("{refused:#}").contains("403"), "a signature for another checkpoint: {refused:#}");
	let signed = authorization(&verifier.key, training, Download::Checkpoint(segment));
	let bytes = replica_worker::http::get_with(&endpoint, &[("authorization", signed.as_str())]).await.unwrap();
	let claims = at.storage().fetch(runtime::storage().training().claims(), (training,)).await.unwrap().decode().unwrap();
	let expected = if segment == 0 { claims.0 } else { claims.1 .0[segment as usize - 1].end };
	assert_eq!(sp_crypto_hashing::blake2_256(&bytes), expected);
}

/// A trainer that skips a step in every segment, played by this test through the worker
/// library and the real calls (never flags of the production binary). It stakes far more than
/// the three honest daemons, so the stake-weighted draw makes it the trainer; it serves its
/// checkpoints as an honest trainer would, so the verifiers can check it.
struct SkippingTrainer {
	key: subxt_signer::sr25519::Keypair,
	store: std::sync::Arc<replica_worker::store::Store>,
}

const UNIT: u128 = 1_000_000_000_000;
const CHEATER_STAKE: u128 = 900_000 * UNIT;

impl SkippingTrainer {
	async fn register(client: &Client, node: &DevNode, model: u32) -> Self {
		let key = dev::ferdie();
		let store = std::sync::Arc::new(replica_worker::store::Store::open(&node.base.join("cheater-store")).unwrap());
		let listen: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
		let health = replica_worker::http::Health::default();
		replica_worker::http::serve(listen, store.clone(), health, tokio_util::sync::CancellationToken::new()).await.unwrap();
		let endpoint = format!("http://{listen}");
		let register = runtime::transactions().workers().register(
			replica_worker::chain::to_runtime(&common::cpu_profile()).unwrap(),
			vec![model],
			endpoint.clone().into_bytes(),
			CHEATER_STAKE,
		);
		common::submit(client, node, &register, &key).await;
		common::submit(client, node, &runtime::transactions().workers().go_online(), &key).await;
		Self { key, store }
	}

	fn account(&self) -> AccountId {
		self.key.public_key().to_account_id()
	}

	/// Trains the task, skipping the last step of every segment, stores and serves what an
	/// honest trainer would, and commits its claims.
	async fn train(&self, client: &Client, node: &DevNode, training: u64, engine: &ImageEngine) {
		use replica_primitives::training::{segment_commitment, SegmentHashes};
		use replica_worker::{
			engines::training::{latents_from_bytes, Lsh, Trainer},
			store::{TrainerRecord, TrainingRecord},
			training::{checkpoint_file, worker_spec, DATA_FILE},
		};
		use runtime::runtime_types::{bounded_collections::bounded_vec::BoundedVec, pallet_training::types::SegmentClaim};
		let info = training_info(client, training).await;
		let spec = worker_spec(&info.spec);
		let data = replica_worker::http::get(&String::from_utf8_lossy(&info.spec.data_url.0)).await.unwrap();
		let latents = latents_from_bytes(&data, tch::Device::Cpu).unwrap();
		let mut trainer = Trainer::new(engine, spec.clone(), &latents).unwrap();
		let half = spec.checkpoint_interval / 2;
		let mut run = vec![trainer.initial()];
		let mut probes = Vec::new();
		for i in 0..spec.steps / spec.checkpoint_interval {
			let probe = trainer.train(&run[i as usize], half).unwrap();
			// One step short of the segment's end.
			let end = trainer.train(&probe, half - 1).unwrap();
			let end = replica_worker::engines::training::Checkpoint { step: probe.step + half, ..end };
			probes.push(probe);
			run.push(end);
		}
		let dir = self.store.training_dir(training);
		std::fs::create_dir_all(&dir).unwrap();
		std::fs::write(dir.join(DATA_FILE), &data).unwrap();
		for (i, checkpoint) in run.iter().enumerate() {
			std::fs::write(dir.join(checkpoint_file(i as u32)), checkpoint.to_bytes()).unwrap();
		}
		let lsh = Lsh::for_spec(&spec, run[0].embedding.len());
		let me = self.account().0;
		let mut segments = Vec::new();
		let mut claims = Vec::new();
		for (i, probe) in probes.iter().enumerate() {
			let hashes = SegmentHashes { probe: lsh.hash(&probe.embedding), end: lsh.hash(&run[i + 1].embedding) };
			let salt = [i as u8 + 1; 32];
			claims.push(SegmentClaim { end: run[i + 1].digest(), commitment: segment_commitment(training, i as u32, &me, &hashes, &salt) });
			segments.push((run[i + 1].digest(), hashes.probe, hashes.end, salt));
		}
		let mut record = TrainingRecord::new(training, 0);
		record.trainer = Some(TrainerRecord { initial: run[0].digest(), segments, committed: true });
		self.store.training_put(&record).unwrap();
		let call = runtime::transactions().training().commit_checkpoints(training, run[0].digest(), BoundedVec(claims));
		common::submit(client, node, &call, &self.key).await;
	}

	/// Lets the drawn verifiers download, as an honest trainer's daemon does.
	async fn serve_verifiers(&self, client: &Client, training: u64) {
		let info = training_info(client, training).await;
		let readers = info.checks.0.iter().map(|c| (c.segment, c.verifier.0)).collect();
		self.store.training_update(training, |r| r.readers = readers).unwrap();
	}

	/// Reveals its hashes of the checked segments.
	async fn reveal(&self, client: &Client, node: &DevNode, training: u64) {
		use runtime::runtime_types::{bounded_collections::bounded_vec::BoundedVec, replica_primitives::training::SegmentHashes};
		let info = training_info(client, training).await;
		let work = self.store.training_get(training).unwrap().unwrap().trainer.unwrap();
		let reveal = info
			.sampled
			.0
			.iter()
			.map(|s| {
				let (_, probe, end, salt) = work.segments[*s as usize];
				(SegmentHashes { probe, end }, salt)
			})
			.collect();
		common::submit(client, node, &runtime::transactions().training().reveal_trainer(training, BoundedVec(reveal)), &self.key).await;
	}
}

async fn training_info(client: &Client, training: u64) -> replica_worker::training::TrainingInfo {
	replica_worker::training::training_info(client, training).await.unwrap().expect("the training task")
}

async fn stake_of(client: &Client, who: &AccountId) -> u128 {
	let at = client.at_current_block().await.unwrap();
	at.storage().fetch(runtime::storage().workers().workers(), (who.clone(),)).await.unwrap().decode().unwrap().stake
}

// The cheater runs the image engine in this process: determinism is switched on before any
// thread starts, so this is a plain test that builds its own runtime.
#[test]
#[ignore = "needs the replica-node binary; run by scripts/test.sh"]
fn a_trainer_that_skips_steps_is_caught_by_the_verifier_daemons_and_slashed() {
	replica_worker::engines::determinism::enable().unwrap();
	tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(skipping_trainer());
}

async fn skipping_trainer() {
	let mut node = DevNode::start(&[]);
	let client = node.connect(NODE_START).await;
	node.wait_for_height(&client, 1, Duration::from_secs(60)).await;
	let url = node.url();
	let dir = models_dir().join("digits-sd");
	let out = cli_ok(&["model", "register", "--node", &url, "--sudo-key", "//Alice", dir.to_str().unwrap()]);
	assert!(out.contains("registered: digits-sd"), "{out}");
	let (model, _) =
		replica_worker::chain::models(&client).await.unwrap().into_iter().find(|(_, m)| m.name.0 == b"digits-sd").unwrap();
	let honest = [
		Worker::start(&node, "Bob", dev::bob()),
		Worker::start(&node, "Charlie", dev::charlie()),
		Worker::start(&node, "Dave", dev::dave()),
	];
	for w in &honest {
		w.wait_online(&client).await;
	}
	let cheater = SkippingTrainer::register(&client, &node, model).await;
	let engine = ImageEngine::load(&dir, tch::Device::Cpu).unwrap();
	let stakes_before: Vec<u128> = futures::future::join_all(honest.iter().map(|w| {
		let (client, account) = (client.clone(), w.account());
		async move { stake_of(&client, &account).await }
	}))
	.await;

	let data = node.base.join("sevens.latents");
	cli_ok(&["train", "make-data", "--model-dir", dir.to_str().unwrap(), "--prompt", "a photo of the digit seven", "--out", data.to_str().unwrap()]);
	let serve = format!("127.0.0.1:{}", free_port());
	let args: Vec<String> = [
		"train", "create", "--node", &url, "--key", "//Eve", "--model", "digits-sd", "--data", data.to_str().unwrap(),
		"--serve-data", &serve, "--steps", "12", "--interval", "4", "--fee", "30", "--window", "40", "--wait",
	]
	.iter()
	.map(|s| s.to_string())
	.collect();
	let dapp = tokio::task::spawn_blocking(move || common::daemons::cli(&args.iter().map(String::as_str).collect::<Vec<_>>()));

	// The first training task on this chain; the draw makes the whale its trainer.
	let training = 0u64;
	wait_until("the training task's trainer draw", Duration::from_secs(120), || {
		let client = client.clone();
		async move { replica_worker::training::training_info(&client, training).await.unwrap().is_some_and(|i| i.trainer.is_some()) }
	})
	.await;
	let info = training_info(&client, training).await;
	assert_eq!(info.trainer, Some(cheater.account()), "the staked cheater is drawn as the trainer");
	cheater.train(&client, &node, training, &engine).await;

	wait_until("the verifier draw", Duration::from_secs(120), || {
		let client = client.clone();
		async move { matches!(training_info(&client, training).await.status, TrainingStatus::Verifying { .. }) }
	})
	.await;
	cheater.serve_verifiers(&client, training).await;
	wait_until("the reveal phase", Duration::from_secs(300), || {
		let client = client.clone();
		async move { matches!(training_info(&client, training).await.status, TrainingStatus::Revealing { .. }) }
	})
	.await;
	cheater.reveal(&client, &node, training).await;

	let out = dapp.await.unwrap();
	let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
	assert!(!out.status.success() && stderr.contains("SegmentFailed"), "{stdout}\n{stderr}");
	assert!(stdout.contains("Failed"), "the segment's verdict: {stdout}");
	let info = training_info(&client, training).await;
	assert!(matches!(info.status, TrainingStatus::Failed { .. }), "{:?}", info.status);
	// Every honest verifier re-ran the segment and disagreed; each is paid its slot and
	// nobody honest is slashed. The cheater loses a tenth of its stake (above the fee).
	for check in &info.checks.0 {
		let CheckState::Revealed(h) = &check.state else { panic!("{:?}", check.state) };
		assert_ne!(h.end, info.trainer_hashes.0[0].end);
	}
	let fee = 30 * UNIT;
	for (w, before) in honest.iter().zip(stakes_before) {
		assert_eq!(stake_of(&client, &w.account()).await, before, "{} is not slashed", w.name);
		assert_eq!(earnings(&client, &w.account()).await, fee / 10 / 3, "{} is paid its slot", w.name);
	}
	assert_eq!(stake_of(&client, &cheater.account()).await, CHEATER_STAKE - CHEATER_STAKE / 10);
}
