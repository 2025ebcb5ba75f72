//! `replica-worker gov` on a real dev chain: parameters and model tolerances change through
//! sudo and through Council motions (proposed, voted and closed by the CLI, or left open for
//! `gov vote` and `gov close`), a value the chain refuses comes back as one line naming the
//! pallet error and changes nothing, and keys without the authority are refused.
//!
//! Needs the node binary, so it is `#[ignore]`d in a plain `cargo test`; scripts/test.sh
//! builds the node and runs it with `--ignored`.

mod common;

use std::{
	process::{Command, Output},
	time::Duration,
};

use common::{DevNode, NODE_START};
use replica_worker::chain::{self, runtime, Client};

const WORKER: &str = env!("CARGO_BIN_EXE_replica-worker");

fn gov(url: &str, args: &[&str]) -> Output {
	Command::new(WORKER).arg("gov").args(args).env("REPLICA_NODE_URL", url).env("RUST_LOG", "warn").output().unwrap()
}

fn gov_ok(url: &str, args: &[&str]) -> String {
	let out = gov(url, args);
	let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
	assert!(out.status.success(), "gov {args:?} failed:\n{stdout}\n{stderr}");
	stdout.into_owned()
}

/// The one line a refused command prints, which must name `needle`.
fn gov_refused(url: &str, args: &[&str], needle: &str) -> String {
	let out = gov(url, args);
	let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
	assert!(!out.status.success(), "gov {args:?} succeeded:\n{}", String::from_utf8_lossy(&out.stdout));
	let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
	assert_eq!(lines.len(), 1, "one line of error for {args:?}:\n{stderr}");
	assert!(lines[0].contains(needle), "{args:?}: `{}` does not name {needle}", lines[0]);
	stderr
}

async fn tasks_params(client: &Client) -> runtime::runtime_types::pallet_tasks::types::TaskParamsConfig<u32> {
	let at = client.at_current_block().await.unwrap();
	at.storage().fetch(runtime::storage().tasks().params(), ()).await.unwrap().decode().unwrap()
}

async fn max_missed(client: &Client) -> u32 {
	let at = client.at_current_block().await.unwrap();
	at.storage().fetch(runtime::storage().workers().params(), ()).await.unwrap().decode().unwrap().max_missed
}

/// Reads `read` until it gives `expected` (the test's client may see the finalized head a
/// block after the CLI did), for at most 30 s.
async fn settles<T: PartialEq + std::fmt::Debug, Fut: std::future::Future<Output = T>>(expected: T, mut read: impl FnMut() -> Fut) {
	let deadline = std::time::Instant::now() + Duration::from_secs(30);
	loop {
		let value = read().await;
		if value == expected {
			return;
		}
		assert!(std::time::Instant::now() < deadline, "still {value:?}, expected {expected:?}");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

fn motion_hash(stdout: &str) -> String {
	let line = stdout.lines().find(|l| l.starts_with("motion 0x")).unwrap_or_else(|| panic!("no motion in:\n{stdout}"));
	line.split_whitespace().nth(1).unwrap().to_string()
}

#[tokio::test]
#[ignore = "needs the replica-node binary; run by scripts/test.sh"]
async fn gov_changes_parameters_and_tolerances_through_sudo_and_the_council() {
	let mut node = DevNode::start(&[]);
	let client = node.connect(NODE_START).await;
	node.wait_for_height(&client, 1, Duration::from_secs(60)).await;
	let url = node.url();

	// Sudo: the named fields change, the rest stay; the event is printed.
	let before = tasks_params(&client).await;
	let out = gov_ok(&url, &[
		"tasks-params", "--key", "//Alice", "--set", "commit_window=25", "--set", "withhold_slash=15%",
		"--set", "bad_reveal_slash=15%", "--set", "outlier_slash=12.5%",
	]);
	assert!(out.contains("Tasks.ParamsChanged"), "{out}");
	settles((25, 150_000_000, 125_000_000), || async {
		let p = tasks_params(&client).await;
		(p.commit_window, p.withhold_slash.0, p.outlier_slash.0)
	})
	.await;
	let after = tasks_params(&client).await;
	assert_eq!((after.reveal_window, after.default_verifiers), (before.reveal_window, before.default_verifiers));

	// The chain's validation: an outlier slashed more than a withholder (withholding would
	// pay) is refused, in one line naming the error, and nothing changes. So is a key that is
	// not sudo's, and a field that does not exist.
	gov_refused(&url, &["tasks-params", "--key", "//Alice", "--set", "outlier_slash=20%"], "Tasks::InvalidParams");
	gov_refused(&url, &["tasks-params", "--key", "//Bob", "--set", "commit_window=30"], "Sudo::RequireSudo");
	gov_refused(&url, &["tasks-params", "--key", "//Alice", "--set", "commit_windw=30"], "commit_window");
	assert_eq!(format!("{:?}", tasks_params(&client).await), format!("{after:?}"));

	// A Council motion left open: Alice proposes and votes (2 of the 3 dev members' ayes are
	// needed), nothing changes until Bob votes and Charlie closes it.
	let missed_before = max_missed(&client).await;
	let out = gov_ok(&url, &["workers-params", "--via", "council", "--key", "//Alice", "--set", "max_missed=7"]);
	let motion = motion_hash(&out);
	assert!(out.contains("1 of 2 ayes"), "{out}");
	assert_eq!(max_missed(&client).await, missed_before);
	let shown = gov_ok(&url, &["show"]);
	assert!(shown.contains("open motions: 1") && shown.contains(&motion), "{shown}");
	gov_refused(&url, &["close", "--key", "//Charlie", &motion], "Council::TooEarly");
	gov_ok(&url, &["vote", "--key", "//Bob", &motion]);
	let out = gov_ok(&url, &["close", "--key", "//Charlie", &motion]);
	assert!(out.contains("Council.Executed") && out.contains("Workers.ParamsChanged"), "{out}");
	settles(7, || max_missed(&client)).await;

	// A non-member cannot propose.
	gov_refused(&url, &["workers-params", "--via", "council", "--key", "//Dave", "--set", "max_missed=3"], "not a Council member");

	// A model registered and its tolerances changed in place, each by one command that
	// proposes, gathers the second aye and closes the motion.
	let digits = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits-sd");
	let out = gov_ok(&url, &["register-model", "--via", "council", "--key", "//Alice", "--vote-with", "//Bob", digits]);
	assert!(out.contains("registered: digits-sd"), "{out}");
	let out = gov_ok(&url, &[
		"set-tolerances", "--via", "council", "--key", "//Alice", "--vote-with", "//Bob",
		"--model", "digits-sd", "--tolerance", "perceptual=1,difference=3",
	]);
	assert!(out.contains("Tasks.ModelTolerancesChanged"), "{out}");
	use replica_primitives::HashAlg::{Difference, Perceptual};
	settles(Some(vec![(Perceptual, 1), (Difference, 3)]), || async {
		let models = chain::models(&client).await.unwrap();
		models.into_iter().find(|(_, m)| m.name.0 == b"digits-sd").map(|(_, model)| {
			let tolerances: replica_primitives::Tolerances = chain::to_runtime(&model.tolerances).unwrap();
			tolerances.algs.iter().map(|alg| (alg, tolerances.of_alg(alg))).collect::<Vec<_>>()
		})
	})
	.await;
	// A tolerance no 64-bit hash can have is refused by the chain through the motion too.
	gov_refused(
		&url,
		&["set-tolerances", "--via", "council", "--key", "//Alice", "--vote-with", "//Bob", "--model", "digits-sd", "--tolerance", "average=65"],
		"Tasks::InvalidTolerances",
	);
	let shown = gov_ok(&url, &["show"]);
	assert!(shown.contains("digits-sd, compares pHash 1, dHash 3") && shown.contains("open motions: 0"), "{shown}");
}
