//! End to end, pallet-training with the real binaries: a `replica-node --dev`, the embedded
//! image model registered by governance, four `replica-worker run` daemons on the CPU, and a
//! dapp that makes training data and creates a task with `replica-worker train create --wait`,
//! serving the data itself. The chain draws one daemon as the trainer: it trains, serves its
//! checkpoints and commits their digests and hashes; it draws the three others to re-run the
//! checked segment from the checkpoint they download (signed, digest-checked), and all four
//! reveal. The segment passes, the trainer and the verifiers are credited, and a checkpoint
//! request by anyone else is refused. Needs the node binary: run by scripts/test.sh
//! (--include-ignored).

mod common;

use std::time::Duration;

use common::{
	daemons::{cli_ok, models_dir, wait_until, Worker},
	free_port, DevNode, NODE_START,
};
use replica_worker::chain::{runtime, AccountId, Client};
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
