//! End-to-end smoke test of the dev chain: a real `replica-node --dev` produces and finalizes
//! blocks, and a balance transfer signed by Alice lands and moves the balances; and
//! `replica-worker bench-chain` gets tasks verified on it.
//!
//! Needs the node binary, so it is `#[ignore]`d in a plain `cargo test`; scripts/test.sh
//! builds the node and runs it with `--ignored`.

mod common;

use std::time::Duration;

use common::{submit, DevNode, NODE_START};
use replica_worker::chain::{self, runtime};
use subxt_signer::sr25519::dev;

#[tokio::test]
#[ignore = "needs the replica-node binary; run by scripts/test.sh"]
async fn dev_chain_produces_blocks_and_lands_a_signed_transfer() {
	let mut node = DevNode::start(&[]);
	let client = node.connect(NODE_START).await;
	node.wait_for_height(&client, 3, Duration::from_secs(60)).await;
	// replica-node's default database (its C++ RocksDB is unoptimised in the ci profile).
	// `--database auto` logs as "Auto"; the directory it opened says which one it created.
	let log = node.log();
	assert!(log.lines().any(|l| l.contains("Database: ") && l.contains("/paritydb/")), "{log}");

	let alice = dev::alice();
	let bob = dev::bob().public_key().to_account_id();
	let at = client.at_current_block().await.unwrap();
	let accounts = at.storage().entry(runtime::storage().system().account()).unwrap();
	let alice_before = accounts.fetch((alice.public_key().to_account_id(),)).await.unwrap().decode().unwrap();
	let bob_before = accounts.fetch((bob.clone(),)).await.unwrap().decode().unwrap();

	let amount: u128 = 12_345_000_000_000;
	let transfer = runtime::transactions().balances().transfer_keep_alive(bob.clone().into(), amount);
	let events = submit(&client, &node, &transfer, &alice).await;
	let event = events
		.find_first::<runtime::balances::events::Transfer>()
		.expect("a Transfer event")
		.expect("decodes");
	assert_eq!(event.amount, amount);

	let at = client.at_current_block().await.unwrap();
	let accounts = at.storage().entry(runtime::storage().system().account()).unwrap();
	let alice_after = accounts.fetch((alice.public_key().to_account_id(),)).await.unwrap().decode().unwrap();
	let bob_after = accounts.fetch((bob,)).await.unwrap().decode().unwrap();
	assert_eq!(bob_after.data.free, bob_before.data.free + amount, "Bob received the amount");
	let fee = alice_before.data.free - amount - alice_after.data.free;
	assert!(fee > 0 && fee < amount / 100, "Alice paid the amount and a small fee ({fee})");
	assert_eq!(alice_after.nonce, alice_before.nonce + 1);

	// `at_current_block` is the latest *finalized* block: the chain finalizes as it goes.
	let finalized = client.at_current_block().await.unwrap().block_number();
	assert!(finalized > 3, "finalized head #{finalized}");

	// Three transfers at once from one account race for one nonce; the pool refuses all but
	// one, and `chain::submit` rebuilds the others with fresh nonces until every one lands.
	let _ = tracing_subscriber::fmt().with_test_writer().try_init();
	let results = futures::future::join_all((0..3).map(|_| chain::submit(&client, &transfer, &alice))).await;
	for result in results {
		if let Err(e) = result {
			panic!("a concurrent transfer failed: {e}\n{}", node.log());
		}
	}
	let at = client.at_current_block().await.unwrap();
	let accounts = at.storage().entry(runtime::storage().system().account()).unwrap();
	let bob_last = accounts.fetch((dev::bob().public_key().to_account_id(),)).await.unwrap().decode().unwrap();
	assert_eq!(bob_last.data.free, bob_after.data.free + 3 * amount);
	let alice_last = accounts.fetch((alice.public_key().to_account_id(),)).await.unwrap().decode().unwrap();
	assert_eq!(alice_last.nonce, alice_after.nonce + 3);
}

#[tokio::test]
#[ignore = "needs the replica-node binary; run by scripts/test.sh"]
async fn dev_chain_accepts_a_worker_registration() {
	use replica_primitives::{Dtype, ExecutionProfile};
	use replica_worker::chain::to_runtime;

	let mut node = DevNode::start(&[]);
	let client = node.connect(NODE_START).await;
	node.wait_for_height(&client, 1, Duration::from_secs(60)).await;

	let field = |s: &str| s.as_bytes().to_vec().try_into().unwrap();
	let profile = ExecutionProfile {
		gpu_model: field("cpu"),
		vram_mib: 8192,
		driver: field(""),
		cuda: field(""),
		libtorch: field("2.13.0"),
		dtype: Dtype::F32,
		worker_version: field(env!("CARGO_PKG_VERSION")),
	};
	let stake: u128 = 100 * 1_000_000_000_000; // the genesis min_stake: 100 RPL
	let register = runtime::transactions().workers().register(
		to_runtime(&profile).unwrap(),
		vec![1, 2],
		b"http://127.0.0.1:8081".to_vec(),
		stake,
	);
	let bob = dev::bob();
	let events = submit(&client, &node, &register, &bob).await;
	let registered = events
		.find_first::<runtime::workers::events::Registered>()
		.expect("a Registered event")
		.expect("decodes");
	assert_eq!(registered.stake, stake);
	assert_eq!(registered.profile_id, profile.profile_id());

	submit(&client, &node, &runtime::transactions().workers().go_online(), &bob).await;
	let at = client.at_current_block().await.unwrap();
	let index = at
		.storage()
		.entry(runtime::storage().workers().model_workers())
		.unwrap()
		.fetch((2u32,))
		.await
		.unwrap()
		.decode()
		.unwrap();
	assert_eq!(index.0.len(), 1, "Bob is indexed as an online worker of model 2");
}

/// `replica-worker bench-chain` (what scripts/bench-chain.sh runs) on a dev chain: its
/// simulated workers get tasks verified through the real calls, none fails, and it prints the
/// ceilings derived from the measured cost. With `--batch` the same goes through
/// `commit_results` / `reveal_results`, and a commitment costs less per task (three workers
/// share two tasks a block: batches of two pay one extrinsic's overhead).
#[tokio::test]
#[ignore = "needs the replica-node binary; run by scripts/test.sh"]
async fn bench_chain_gets_tasks_verified_and_prints_ceilings() {
	let mut node = DevNode::start(&[]);
	let client = node.connect(NODE_START).await;
	node.wait_for_height(&client, 1, Duration::from_secs(60)).await;
	let single = run_bench_chain(&node.url(), &[]).await;
	let batched = run_bench_chain(&node.url(), &["--batch"]).await;
	for stdout in [&single, &batched] {
		let measured: f64 = summary_figure(stdout, "finalized tasks per block (measured): ");
		assert!(measured > 0.0, "{stdout}");
		assert!(stdout.contains("failed tasks: 0"), "{stdout}");
		for ceiling in ["by ref time", "by proof size", "by block length", "by open tasks per worker"] {
			assert!(stdout.contains(ceiling), "no `{ceiling}` ceiling:\n{stdout}");
		}
	}
	let commit_cost = |stdout: &str| -> f64 {
		summary_figure::<String>(stdout, "commit_result ").split_whitespace().next().unwrap().parse().unwrap()
	};
	assert!(
		commit_cost(&batched) < commit_cost(&single),
		"a batched commitment costs no less:\n{single}\n{batched}"
	);
}

/// Runs `replica-worker bench-chain` with three workers and two tasks a block; its stdout.
async fn run_bench_chain(url: &str, extra: &[&str]) -> String {
	let mut args: Vec<String> = ["bench-chain", "--node", url, "--workers", "3", "--tasks-per-block", "2", "--blocks", "4"]
		.iter()
		.map(|a| a.to_string())
		.collect();
	args.extend(extra.iter().map(|a| a.to_string()));
	let out = tokio::task::spawn_blocking(move || {
		std::process::Command::new(env!("CARGO_BIN_EXE_replica-worker"))
			.args(&args)
			.output()
			.expect("run replica-worker bench-chain")
	})
	.await
	.unwrap();
	let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
	assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
	stdout
}

/// The value after `prefix` on the summary line that starts with it.
fn summary_figure<F: std::str::FromStr>(stdout: &str, prefix: &str) -> F
where
	F::Err: std::fmt::Debug,
{
	stdout
		.lines()
		.find_map(|l| l.trim().strip_prefix(prefix))
		.unwrap_or_else(|| panic!("no `{prefix}` line:\n{stdout}"))
		.trim()
		.parse()
		.unwrap()
}
