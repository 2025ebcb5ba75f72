//! End-to-end on a real dev chain: governance (sudo) registers a model, three dev accounts
//! register as workers, a fourth creates an image task; the workers are drawn, commit results
//! sealed with `replica_primitives::seal`, reveal, and the task finalizes and pays out.
//!
//! The real worker daemon will play the workers; until then this test does, through the same
//! chain client and primitives. Needs the node binary: run by scripts/test.sh (--ignored).

mod common;

use std::time::Duration;

use common::{cpu_profile, submit, DevNode, NODE_START};
use replica_primitives::{seal, HashAlg, ImageHashes, ImageResult, ResultPayload};
use replica_worker::chain::{runtime, to_runtime};
use runtime::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec,
	pallet_tasks::types::{ImageParams, ModelInfo, ModelKind, TaskParams, TaskSpec, TaskStatus, Verification},
	replica_primitives::{types::HashAlgs, voting::Tolerances},
};
use subxt_signer::sr25519::{dev, Keypair};

const UNIT: u128 = 1_000_000_000_000;


/// What every honest worker computes for the task (the real engines produce this).
fn result() -> ResultPayload {
	let mut hashes = ImageHashes::default();
	hashes.set(HashAlg::Average, 0x0f0f_0f0f_0f0f_0f0f);
	hashes.set(HashAlg::Perceptual, 0x1234_5678_9abc_def0);
	ResultPayload::Image(vec![ImageResult { hashes, png_digest: [7; 32] }].try_into().unwrap())
}

fn account(k: &Keypair) -> subxt::utils::AccountId32 {
	k.public_key().to_account_id()
}

#[tokio::test]
#[ignore = "needs the replica-node binary; run by scripts/test.sh"]
async fn image_task_is_assigned_committed_revealed_and_paid() {
	let mut node = DevNode::start(&[]);
	let client = node.connect(NODE_START).await;
	node.wait_for_height(&client, 1, Duration::from_secs(60)).await;

	// Governance registers an image model: aHash and pHash, tolerance 2 each.
	let info = ModelInfo {
		name: BoundedVec(b"digits-diffusion".to_vec()),
		kind: ModelKind::Image,
		weights_digest: [1; 32],
		vram_mib: 1024,
		tolerances: Tolerances { algs: HashAlgs(0b0011), max_distance: [2, 2, 0, 0] },
		max_steps: 50,
		max_side: 512,
		max_images: 4,
		max_tokens: 0,
		context_len: 0,
		min_fee: UNIT,
		retired: false,
	};
	let register_model = runtime::transactions().sudo().sudo(
		runtime::runtime_types::replica_runtime::RuntimeCall::Tasks(
			runtime::runtime_types::pallet_tasks::pallet::Call::register_model { info },
		),
	);
	let events = submit(&client, &node, &register_model, &dev::alice()).await;
	let model = events
		.find_first::<runtime::tasks::events::ModelRegistered>()
		.expect("a ModelRegistered event")
		.expect("decodes")
		.model;

	// Three workers register for it and go online.
	let workers = [dev::bob(), dev::charlie(), dev::dave()];
	for w in &workers {
		let register = runtime::transactions().workers().register(
			to_runtime(&cpu_profile()).unwrap(),
			vec![model],
			b"http://127.0.0.1:8081".to_vec(),
			100 * UNIT,
		);
		submit(&client, &node, &register, w).await;
		submit(&client, &node, &runtime::transactions().workers().go_online(), w).await;
	}

	// A dapp (Eve) creates a task for three verifiers, paying 3 RPL.
	let fee = 3 * UNIT;
	let spec = TaskSpec {
		model,
		params: TaskParams::Image(ImageParams {
			prompt: BoundedVec(b"a photo of the digit 7".to_vec()),
			negative_prompt: BoundedVec(vec![]),
			seed: 7,
			steps: 20,
			guidance_milli: 7_500,
			width: 64,
			height: 64,
			count: 1,
		}),
		verification: Some(Verification::Replicated { verifiers: 3 }),
		quorum: None,
		fee,
	};
	let events = submit(&client, &node, &runtime::transactions().tasks().create_task(spec), &dev::eve()).await;
	let task = events
		.find_first::<runtime::tasks::events::TaskCreated>()
		.expect("a TaskCreated event")
		.expect("decodes")
		.task;

	// It is assigned in a later block, to our three workers.
	let tasks = runtime::storage().tasks().tasks();
	let assigned = loop {
		let at = client.at_current_block().await.unwrap();
		let info = at.storage().entry(tasks.clone()).unwrap().fetch((task,)).await.unwrap().decode().unwrap();
		if let TaskStatus::Committing { round: 0, .. } = info.status {
			break info.workers.0;
		}
		tokio::time::sleep(Duration::from_millis(300)).await;
	};
	let mut expected: Vec<_> = workers.iter().map(account).collect();
	let mut drawn = assigned.clone();
	expected.sort();
	drawn.sort();
	assert_eq!(drawn, expected);

	// Each worker seals the result for its own account and commits.
	let before: Vec<u128> = {
		let at = client.at_current_block().await.unwrap();
		let accounts = at.storage().entry(runtime::storage().system().account()).unwrap();
		let mut v = vec![];
		for w in &workers {
			v.push(accounts.fetch((account(w),)).await.unwrap().decode().unwrap().data.free);
		}
		v
	};
	let mut keys = vec![];
	for (i, w) in workers.iter().enumerate() {
		let key = sp_crypto_key(i);
		let sealed = seal(&result(), task, 0, &account(w).0, &key);
		let commit = runtime::transactions().tasks().commit_result(task, sealed.ciphertext, sealed.commitment);
		submit(&client, &node, &commit, w).await;
		keys.push(key);
	}

	// All committed: the reveal phase started. Each reveals; the last reveal decides.
	let mut finalized = None;
	for (w, key) in workers.iter().zip(keys) {
		let events = submit(&client, &node, &runtime::transactions().tasks().reveal_result(task, key), w).await;
		if let Some(event) = events.find_first::<runtime::tasks::events::TaskFinalized>() {
			finalized = Some(event.expect("decodes"));
		}
	}
	let finalized = finalized.expect("the last reveal finalizes the task");
	assert_eq!(finalized.task, task);
	let mut winners = finalized.winners.clone();
	winners.sort();
	assert_eq!(winners, expected, "all three agree and win");
	assert_eq!(finalized.share, fee / 3);
	let agreed: ResultPayload = codec::Decode::decode(&mut &codec::Encode::encode(&finalized.result)[..]).unwrap();
	assert_eq!(agreed, result());

	// Each worker was credited its share in its record, and claims it: the earnings pot pays
	// it out (its balance grows by the share, less the fees of its own three transactions).
	for w in &workers {
		let info = replica_worker::chain::worker_info(&client, &account(w)).await.unwrap().expect("registered");
		assert_eq!(info.earnings, finalized.share, "credited, not transferred");
		let events = submit(&client, &node, &runtime::transactions().workers().claim_earnings(), w).await;
		let claimed = events.find_first::<runtime::workers::events::EarningsClaimed>().unwrap().expect("claimed");
		assert_eq!((claimed.worker, claimed.amount), (account(w), finalized.share));
	}
	let at = client.at_current_block().await.unwrap();
	let accounts = at.storage().entry(runtime::storage().system().account()).unwrap();
	for (w, b) in workers.iter().zip(before) {
		let now = accounts.fetch((account(w),)).await.unwrap().decode().unwrap().data.free;
		assert!(now > b + finalized.share * 9 / 10, "{now} vs {b}: paid about {}", finalized.share);
	}
	let info = at.storage().entry(tasks).unwrap().fetch((task,)).await.unwrap().decode().unwrap();
	assert!(matches!(info.status, TaskStatus::Finalized));
}

/// A fresh 32-byte key per worker (a real worker draws it from the OS RNG and stores it).
fn sp_crypto_key(i: usize) -> [u8; 32] {
	let mut key = [0u8; 32];
	key[0] = i as u8 + 1;
	key[31] = 0xa5;
	key
}
