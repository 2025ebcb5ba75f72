//! End to end with the real binaries: a `replica-node --dev`, governance registering the
//! embedded models with `replica-worker model register`, three `replica-worker run` daemons on
//! the CPU, and a dapp using `replica-worker task submit --wait`.
//!
//! One chain for seven scenarios, in order: an image and a text task finalize and pay the
//! three workers, and the downloaded PNG has the on-chain digest; a worker SIGKILLed after its
//! commitment reveals after a restart; the node restarted mid-task is reconnected to and the
//! task still finalizes; twenty reveals in one window; a second process with one key; a queue
//! overflow across a node restart; and last a runtime upgrade the workers predate, which takes
//! each offline with a message to upgrade. Needs the node binary: run by scripts/test.sh
//! (--include-ignored).

mod common;

use std::{process::Command, time::Duration};

use common::{
	daemons::{cli, cli_ok, models_dir, wait_until, Worker},
	DevNode, NODE_START,
};
use replica_worker::chain::{self, runtime, AccountId, Client, TaskStatus, WorkerStatus};
use replica_primitives::{HashAlg, Tolerances};
use runtime::runtime_types::pallet_tasks::types::Outcome;
use subxt_signer::sr25519::dev;

async fn free_balance(client: &Client, who: &AccountId) -> u128 {
	let at = client.at_current_block().await.unwrap();
	at.storage().fetch(runtime::storage().system().account(), (who.clone(),)).await.unwrap().decode().unwrap().data.free
}

/// A worker's unclaimed earnings, in its record.
async fn earnings(client: &Client, who: &AccountId) -> u128 {
	chain::worker_info(client, who).await.unwrap().map_or(0, |info| info.earnings)
}

/// Eve creates `specs` all at once (pipelined, so they land in one or two blocks); their ids.
async fn create_at_once(
	node: &DevNode,
	client: &Client,
	specs: Vec<runtime::runtime_types::pallet_tasks::types::TaskSpec<u128>>,
) -> Vec<u64> {
	let dapp = chain::Submitter::new(&node.url(), client.clone(), dev::eve()).await.unwrap();
	let first = next_task_id(client).await;
	let count = specs.len() as u64;
	let creations = specs.into_iter().map(|spec| {
		let dapp = &dapp;
		async move { dapp.in_block(&runtime::transactions().tasks().create_task(spec)).await }
	});
	for created in futures::future::join_all(creations).await {
		created.expect("task created");
	}
	(first..first + count).collect()
}

/// The id the next task created will get.
async fn next_task_id(client: &Client) -> u64 {
	let at = client.at_current_block().await.unwrap();
	at.storage().try_fetch(runtime::storage().tasks().next_task_id(), ()).await.unwrap().map_or(0, |v| v.decode().unwrap())
}

async fn assignment(client: &Client, task: u64, who: &AccountId) -> Option<chain::Assignment> {
	// The node may be restarting: no answer is no assignment yet.
	chain::assignment(client, task, who).await.ok().flatten()
}

/// How `who` stands in `task` (its settled outcome once its round is settled).
async fn outcome(client: &Client, task: u64, who: &AccountId) -> Option<Outcome> {
	chain::outcome(client, task, who).await.ok().flatten()
}

/// The PNG digest of the first image of the result a task was finalized with.
async fn agreed_digest(client: &Client, task: u64) -> [u8; 32] {
	let info = chain::task_info(client, task).await.unwrap().expect("not pruned yet");
	match info.result {
		Some(runtime::runtime_types::replica_primitives::types::ResultPayload::Image(images)) => images.0[0].png_digest,
		other => panic!("task {task}: result {other:?}"),
	}
}

/// Runs the polkadot.js dapp client (clients/js/replica-task.mjs; scripts/setup.sh installs its
/// packages) and returns its output.
fn js_client(args: &[&str]) -> String {
	let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../clients/js/replica-task.mjs");
	let out = Command::new("node").arg(script).args(args).output().expect("run node (scripts/setup.sh installs Node.js)");
	let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
	assert!(out.status.success(), "replica-task.mjs {args:?} failed:\n{stdout}\n{stderr}");
	stdout.into_owned()
}

/// The task id of a `task submit` output ("task N created: …").
fn task_id(output: &str) -> u64 {
	let line = output.lines().find(|l| l.starts_with("task ") && l.contains(" created")).expect("a created line");
	line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

// Several threads: the chain client's background tasks keep following the chain while a test
// thread waits for a CLI process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the replica-node binary; run by scripts/test.sh"]
async fn workers_execute_commit_reveal_survive_crashes_and_get_paid() {
	let mut node = DevNode::start(&[]);
	let client = node.connect(NODE_START).await;
	node.wait_for_height(&client, 1, Duration::from_secs(60)).await;
	let url = node.url();

	// Governance registers the image model now and the text model once the workers run.
	let register_model = |model: &str| {
		let dir = models_dir().join(model);
		let out = cli_ok(&["model", "register", "--node", &url, "--sudo-key", "//Alice", dir.to_str().unwrap()]);
		assert!(out.contains(&format!("registered: {model}")), "{out}");
	};
	register_model("digits-sd");
	// It is registered with the tolerances calibrated for it (its tolerances.toml, written by
	// scripts/stats.sh), else with aHash, pHash and dHash at the uncalibrated default.
	let expected = replica_worker::stats::tolerances::read(&models_dir().join("digits-sd")).unwrap().unwrap_or_else(|| {
		let t = replica_worker::stats::tolerances::UNCALIBRATED_TOLERANCE;
		Tolerances::of(&[(HashAlg::Average, t), (HashAlg::Perceptual, t), (HashAlg::Difference, t)])
	});
	let models = chain::models(&client).await.unwrap();
	let (_, digits) = models.iter().find(|(_, info)| info.name.0 == b"digits-sd").expect("digits-sd registered");
	let compared = codec::Encode::encode(&expected.algs);
	assert_eq!((vec![digits.tolerances.algs.0], digits.tolerances.max_distance), (compared, expected.max_distance));

	// Charlie's engine panics on its first execution, Dave's runs out of CUDA memory: both
	// catch it, retry once and are paid like Bob — a fault of its own never slashes a worker.
	// Bob claims its earnings once they reach 0.5 RPL: after its second win here.
	let mut workers = vec![
		Worker::start_claiming_at(&node, "Bob", dev::bob(), "0.5"),
		Worker::start_with_fault(&node, "Charlie", dev::charlie(), Some("panic:1")),
		Worker::start_with_fault(&node, "Dave", dev::dave(), Some("oom:1")),
	];
	for w in &workers {
		w.wait_online(&client).await;
	}
	// A model registered after the workers started: each loads it, then declares it.
	register_model("fortunes-gpt");
	for w in &workers {
		let who = w.account();
		wait_until(&format!("{} to declare the text model", w.name), Duration::from_secs(120), || {
			let (client, who) = (client.clone(), who.clone());
			async move { matches!(chain::worker_info(&client, &who).await, Ok(Some(info)) if info.models.0.len() == 2) }
		})
		.await;
		assert!(w.log().contains("loaded and warmed up"), "{}", w.log());
	}
	let before: Vec<u128> = futures::future::join_all(workers.iter().map(|w| {
		let (client, who) = (client.clone(), w.account());
		async move { free_balance(&client, &who).await }
	}))
	.await;

	// 1. An image task: verified by all three, paid, and the PNG matches the chain.
	let out_dir = node.base.join("downloads");
	let out = cli_ok(&[
		"task", "submit", "--node", &url, "--key", "//Eve", "--model", "digits-sd", "--prompt", "a photo of the digit 7",
		"--seed", "7", "--steps", "20", "--verifiers", "3", "--wait", "--out-dir", out_dir.to_str().unwrap(),
	]);
	let image_task = task_id(&out);
	let png_path = out_dir.join(format!("task-{image_task}-image-0.png"));
	let png = std::fs::read(&png_path).unwrap_or_else(|e| panic!("{}: {e}\n{out}", png_path.display()));
	let winners = out.lines().skip_while(|l| !l.starts_with("winners")).skip(1).take_while(|l| l.starts_with("  ")).count();
	assert_eq!(winners, 3, "{out}");
	// The digest the chain agreed on, read from the chain, not from the CLI.
	for w in &workers {
		let o = outcome(&client, image_task, &w.account()).await;
		assert!(matches!(o, Some(Outcome::Won)), "{}: {o:?}", w.name);
	}
	let agreed = agreed_digest(&client, image_task).await;
	assert_eq!(sp_crypto_hashing::blake2_256(&png), agreed, "downloaded PNG vs on-chain digest");
	assert!(png.starts_with(b"\x89PNG"), "a PNG");

	// A text task, beam search: the same tokens from all three.
	let out = cli_ok(&[
		"task", "submit", "--node", &url, "--key", "//Eve", "--model", "fortunes-gpt", "--prompt", "Love is",
		"--beams", "4", "--max-tokens", "24", "--verifiers", "3", "--wait",
	]);
	let text_task = task_id(&out);
	let rust_text_output = out.clone();
	assert!(out.contains("verified text"), "{out}");
	for w in &workers {
		let o = outcome(&client, text_task, &w.account()).await;
		assert!(matches!(o, Some(Outcome::Won)), "{}: {o:?}", w.name);
	}
	// Paid: each was credited its two shares. Bob, at 0.5 RPL, claimed them (its balance grew
	// by them, less the fees of its own transactions); the others, at the default 10 RPL, hold
	// them in their records.
	let share = 1_000_000_000_000 / 3;
	let bob = workers[0].account();
	// The daemon logs the claim once its transaction is in a block; the chain shows it paid.
	let bob_log = workers[0].log.clone();
	wait_until("Bob to claim its earnings", Duration::from_secs(60), || {
		let logged = std::fs::read_to_string(&bob_log).unwrap_or_default().contains("claimed ");
		let (client, bob) = (client.clone(), bob.clone());
		async move { logged && earnings(&client, &bob).await == 0 }
	})
	.await;
	assert!(free_balance(&client, &bob).await > before[0] + 2 * share * 9 / 10, "Bob was paid out");
	for w in &workers[1..] {
		assert!(earnings(&client, &w.account()).await >= 2 * share, "{} holds its credits", w.name);
	}
	for (w, fault) in [(&workers[1], "injected engine panic"), (&workers[2], "CUDA out of memory")] {
		let log = w.log();
		assert!(about(&log, image_task).any(|l| l.contains(&format!("the engine panicked: {fault}"))), "{}: {log}", w.name);
		assert!(log.contains("retrying once"), "{}: {log}", w.name);
	}
	let show = cli_ok(&["task", "show", "--node", &url, &image_task.to_string()]);
	assert!(show.contains("finalized") && show.matches("Won").count() == 3, "{show}");

	// The same through the polkadot.js dapp client (clients/js), which knows the chain only
	// from the metadata the node serves: its image is the one the chain agreed on, and its text
	// the same verified text the Rust client got for the same task parameters.
	let js = js_client(&[
		"--node", &url, "--key", "//Eve", "--model", "digits-sd", "--prompt", "a photo of the digit 4", "--seed", "4",
		"--steps", "20", "--verifiers", "3", "--out-dir", out_dir.to_str().unwrap(),
	]);
	let js_task = task_id(&js);
	let png_path = out_dir.join(format!("task-{js_task}-image-0.png"));
	let png = std::fs::read(&png_path).unwrap_or_else(|e| panic!("{}: {e}\n{js}", png_path.display()));
	let agreed = agreed_digest(&client, js_task).await;
	assert_eq!(sp_crypto_hashing::blake2_256(&png), agreed, "the JS client's PNG vs the on-chain digest");
	let js = js_client(&[
		"--node", &url, "--key", "//Eve", "--model", "fortunes-gpt", "--prompt", "Love is", "--beams", "4",
		"--max-tokens", "24", "--verifiers", "3",
	]);
	let verified_text = |out: &str| out.lines().skip_while(|l| !l.starts_with("verified text")).take(2).collect::<Vec<_>>().join("\n");
	assert!(js.contains("verified text"), "{js}");
	assert_eq!(verified_text(&js), verified_text(&rust_text_output), "JS vs Rust client");
	// `replica-worker status` asks a running daemon how it is.
	let status = cli_ok(&["status", "--listen", &workers[0].listen]);
	assert!(status.contains("device thread: running") && status.contains("open tasks:"), "{status}");
	// Each worker's Prometheus metrics count the four tasks (an image and a text task from each
	// client).
	for w in &workers {
		let metrics = replica_worker::http::get(&format!("http://{}/metrics", w.metrics)).await.unwrap();
		let metrics = String::from_utf8(metrics).unwrap();
		for line in ["replica_worker_tasks_assigned_total 4", "replica_worker_tasks_executed_total 4",
			"replica_worker_tasks_finalized_total 4", "replica_worker_tasks_slashed_total 0", "replica_worker_queue_length 0",
			"replica_worker_execution_seconds_count 4", "replica_worker_reveal_latency_seconds_count 4"]
		{
			assert!(metrics.lines().any(|l| l == line), "{}: no `{line}` in\n{metrics}", w.name);
		}
	}

	// 2. Crash after commit. Dave is frozen, so the reveal phase cannot start; Bob commits and
	// is SIGKILLed; Dave thaws and commits; the restarted Bob must reveal from its store.
	workers[2].signal(libc::SIGSTOP);
	let crash_task = next_task_id(&client).await;
	let submit = tokio::task::spawn_blocking({
		let url = url.clone();
		move || {
			cli_ok(&[
				"task", "submit", "--node", &url, "--key", "//Eve", "--model", "digits-sd", "--prompt", "a photo of the digit 3",
				"--seed", "3", "--steps", "20", "--verifiers", "3", "--wait",
				"--out-dir", std::env::temp_dir().to_str().unwrap(),
			])
		}
	});
	let bob = workers[0].account();
	wait_until("Bob's commitment", Duration::from_secs(60), || {
		let (client, bob) = (client.clone(), bob.clone());
		async move { assignment(&client, crash_task, &bob).await.is_some_and(|a| a.commitment.is_some()) }
	})
	.await;
	workers[0].kill();
	let status = chain::task_info(&client, crash_task).await.unwrap().unwrap().status;
	assert!(matches!(status, TaskStatus::Committing { .. }), "no reveal phase while Dave is frozen: {status:?}");
	workers[0].spawn();
	workers[2].signal(libc::SIGCONT);
	let out = submit.await.unwrap();
	assert!(out.contains("verified image"), "{out}");
	let o = outcome(&client, crash_task, &bob).await;
	assert!(matches!(o, Some(Outcome::Won)), "Bob revealed after the restart: {o:?}");
	let log = workers[0].log();
	// Killed just before or just after recording its commitment (the chain had it either way):
	// the restart found it and sent no second one, and nothing was rejected.
	assert!(about(&log, crash_task).filter(|l| l.ends_with(": committed")).count() <= 1, "{log}");
	assert!(!log.contains("rejected"), "{log}");
	assert_eq!(about(&log, crash_task).filter(|l| l.ends_with(": revealed")).count(), 1, "{log}");

	// 3. The node restarts mid-task: the workers reconnect and finish it.
	let submit = tokio::task::spawn_blocking({
		let url = url.clone();
		move || {
			// The dapp is patient: its own connection breaks too, so it checks the task after.
			let out = cli(&[
				"task", "submit", "--node", &url, "--key", "//Eve", "--model", "fortunes-gpt", "--prompt", "Time is",
				"--max-tokens", "16", "--verifiers", "3",
			]);
			assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
			String::from_utf8(out.stdout).unwrap()
		}
	});
	let restart_task = task_id(&submit.await.unwrap());
	let charlie = workers[1].account();
	// The chain records an assignment from the worker's commit on.
	wait_until("a commitment", Duration::from_secs(30), || {
		let (client, charlie) = (client.clone(), charlie.clone());
		async move { assignment(&client, restart_task, &charlie).await.is_some() }
	})
	.await;
	node.restart();
	let client = node.connect(NODE_START).await;
	wait_until("the task to finalize after the node restart", Duration::from_secs(180), || {
		let client = client.clone();
		async move {
			matches!(chain::task_info(&client, restart_task).await, Ok(Some(info)) if matches!(info.status, TaskStatus::Finalized))
		}
	})
	.await;
	for w in &workers {
		let o = outcome(&client, restart_task, &w.account()).await;
		assert!(matches!(o, Some(Outcome::Won)), "{}: {o:?}", w.name);
		assert!(w.log().contains("reconnecting to"), "{} reconnected", w.name);
	}

	// 4. Twenty text tasks created at once, so every worker commits and then reveals twenty
	// in one window: its transactions are pipelined (numbered by the worker, not awaited one by
	// one), and every task is verified with all three paid.
	{
		use runtime::runtime_types::{
			bounded_collections::bounded_vec::BoundedVec,
			pallet_tasks::types::{Decoding, TaskParams, TaskSpec, TextParams, Verification},
		};
		let (text_model, info) = chain::models(&client).await.unwrap().into_iter().find(|(_, m)| m.name.0 == b"fortunes-gpt").unwrap();
		let specs = (0..20u32).map(|i| TaskSpec {
			model: text_model,
			params: TaskParams::Text(TextParams {
				prompt: BoundedVec(format!("Fortune number {i} says").into_bytes()),
				max_tokens: 8,
				decoding: Decoding::Greedy,
			}),
			verification: Some(Verification::Replicated { verifiers: 3 }),
			quorum: None,
			fee: info.min_fee,
		});
		let burst = create_at_once(&node, &client, specs.collect()).await;
		for &task in &burst {
			wait_until(&format!("burst task {task} to finalize"), Duration::from_secs(300), || {
				let client = client.clone();
				async move { matches!(chain::task_info(&client, task).await, Ok(Some(info)) if matches!(info.status, TaskStatus::Finalized)) }
			})
			.await;
			for w in &workers {
				let o = outcome(&client, task, &w.account()).await;
				assert!(matches!(o, Some(Outcome::Won)), "{} in burst task {task}: {o:?}", w.name);
			}
		}
	}

	// 5. A second process runs with Bob's key: whichever commits second sees a commitment on
	// chain that is not its own, says so loudly and leaves the task; Bob is paid, not slashed.
	{
		let twin = Worker::start_twin(&node, "Bob", dev::bob());
		wait_until("the twin online", Duration::from_secs(120), || {
			let log = twin.log();
			async move { log.contains("online: models") }
		})
		.await;
		let out = cli_ok(&[
			"task", "submit", "--node", &url, "--key", "//Eve", "--model", "digits-sd", "--prompt", "a photo of the digit 9",
			"--seed", "9", "--steps", "20", "--verifiers", "3", "--wait", "--out-dir", std::env::temp_dir().to_str().unwrap(),
		]);
		let twin_task = task_id(&out);
		let o = outcome(&client, twin_task, &workers[0].account()).await;
		assert!(matches!(o, Some(Outcome::Won)), "Bob with two processes: {o:?}");
		let warned =
			|log: String| about(&log, twin_task).any(|l| l.contains("the commitment on chain for this account is not the one"));
		assert!(warned(twin.log()) || warned(workers[0].log()), "one of the two noticed the other:\n{}\n{}", twin.log(), workers[0].log());
		drop(twin);
	}

	// 6. Load: Bob restarts with room for one task in its queue, and the node restarts while
	// Bob is registering (loading its models): Bob waits for the node rather than exiting.
	// Then six tasks at once leave four waiting in Bob's store (it goes offline meanwhile),
	// and the node restarts while they wait. Every task ends, Bob runs each at most once and
	// is never slashed.
	workers[0].kill();
	workers[0].args.extend(["--queue".to_string(), "1".to_string()]);
	workers[0].spawn();
	wait_until("Bob registering", Duration::from_secs(120), || {
		let log = workers[0].log_since_spawn();
		async move { log.contains("loading model") }
	})
	.await;
	node.restart();
	let client = node.connect(NODE_START).await;
	let bob = workers[0].account();
	wait_until("Bob online again", Duration::from_secs(180), || {
		let log = workers[0].log_since_spawn();
		assert!(workers[0].running(), "Bob exited:\n{log}");
		let (client, bob) = (client.clone(), bob.clone());
		async move {
			log.contains("online: models") &&
				matches!(chain::worker_info(&client, &bob).await, Ok(Some(info)) if matches!(info.status, WorkerStatus::Online))
		}
	})
	.await;
	// Six image tasks created in one go (pipelined), so they are drawn in the same block.
	let load_tasks: Vec<u64> = {
		use runtime::runtime_types::{
			bounded_collections::bounded_vec::BoundedVec,
			pallet_tasks::types::{ImageParams, TaskParams, TaskSpec, Verification},
		};
		let (image_model, info) = chain::models(&client).await.unwrap().into_iter().find(|(_, m)| m.name.0 == b"digits-sd").unwrap();
		let specs = (0..6u64).map(|i| {
			TaskSpec {
				model: image_model,
				params: TaskParams::Image(ImageParams {
					prompt: BoundedVec(b"a photo of the digit 5".to_vec()),
					negative_prompt: BoundedVec(Vec::new()),
					seed: 20 + i,
					// The most work a task may ask for, so that one runs while the next are
					// assigned (one small image takes less time than reading an assignment).
					steps: info.max_steps,
					guidance_milli: 7_500,
					width: info.max_side.min(512),
					height: info.max_side.min(512),
					count: info.max_images,
				}),
				verification: Some(Verification::Replicated { verifiers: 3 }),
				quorum: None,
				fee: info.min_fee,
			}
		});
		create_at_once(&node, &client, specs.collect()).await
	};
	wait_until("tasks waiting in Bob's store", Duration::from_secs(120), || {
		// Not an earlier process's line: the node must restart while this one's tasks wait.
		let log = workers[0].log_since_spawn();
		async move { log.contains("it waits in the store") }
	})
	.await;
	node.restart();
	let client = node.connect(NODE_START).await;
	for &task in &load_tasks {
		wait_until(&format!("load task {task} to end"), Duration::from_secs(300), || {
			let client = client.clone();
			async move {
				matches!(chain::task_info(&client, task).await, Ok(Some(info))
					if matches!(info.status, TaskStatus::Finalized | TaskStatus::Failed { .. }))
			}
		})
		.await;
	}
	// (Whether Bob went offline meanwhile depends on how far its device got before the node
	// restart; what must hold is below.)
	let log = workers[0].log();
	for &task in &load_tasks {
		assert!(about(&log, task).filter(|l| l.contains(": executing")).count() <= 1, "task {task} ran twice:\n{log}");
		if let Some(o) = outcome(&client, task, &bob).await {
			assert!(
				matches!(o, Outcome::Won | Outcome::Unpaid),
				"Bob slashed in task {task}: {o:?}\nBob on it:\n{}",
				lines_about(&log, task)
			);
		}
	}
	// Settled tasks are finished in the store, even when the block that settled them came
	// before the report on the worker's own reveal.
	wait_until("Bob's store to hold no unfinished load task", Duration::from_secs(60), || {
		let status = cli_ok(&["status", "--listen", &workers[0].listen]);
		let open = load_tasks.iter().filter(|t| status.contains(&format!("task {t} round"))).count();
		async move { open == 0 }
	})
	.await;
	let metrics = String::from_utf8(replica_worker::http::get(&format!("http://{}/metrics", workers[0].metrics)).await.unwrap()).unwrap();
	assert!(metrics.lines().any(|l| l == "replica_worker_tasks_slashed_total 0"), "{metrics}");

	// SIGTERM stops a worker cleanly.
	let mut charlie = workers.remove(1);
	charlie.signal(libc::SIGTERM);
	let status = charlie.child.take().unwrap().wait().unwrap();
	assert!(status.success(), "{status}\n{}", charlie.log());
	assert!(charlie.log().contains("unfinished task(s) in the store resume on the next start"), "{}", charlie.log());

	// 7. A runtime upgrade this build predates (the new runtime adds a pallet, which changes
	// the calls): Bob and Dave, running, say to upgrade the worker, go offline and stop;
	// Charlie, started after the upgrade (and still online on chain since its SIGTERM), does
	// the same at registration. None stays online for tasks it could not serve.
	let code = std::fs::read(common::upgrade_test_wasm()).unwrap();
	let before = client.at_current_block().await.unwrap().spec_version();
	{
		use runtime::runtime_types::{frame_system::pallet::Call as SystemCall, replica_runtime::RuntimeCall};
		// Unchecked weight: `set_code` is weighed as a whole block.
		let set_code = runtime::transactions()
			.sudo()
			.sudo_unchecked_weight(RuntimeCall::System(SystemCall::set_code { code }), runtime::runtime_types::sp_weights::weight_v2::Weight { ref_time: 0, proof_size: 0 });
		common::submit(&client, &node, &set_code, &dev::alice()).await;
	}
	wait_until("the upgraded runtime", Duration::from_secs(60), || {
		let client = client.clone();
		async move { client.at_current_block().await.is_ok_and(|at| at.spec_version() > before) }
	})
	.await;
	let upgraded = client.at_current_block().await.unwrap();
	assert!(upgraded.metadata_ref().pallet_by_name("Utility").is_some(), "the upgrade-test runtime runs");
	let upgraded = upgraded.spec_version();
	charlie.spawn();
	let mut stopped = workers;
	stopped.push(charlie);
	for w in &mut stopped {
		let status = w.wait_exit(Duration::from_secs(180));
		let log = w.log_since_spawn();
		assert!(!status.success(), "{} kept running or exited cleanly ({status}) under a runtime it does not know:\n{log}", w.name);
		assert!(
			log.contains(&format!("the chain runs runtime spec_version {upgraded}")) && log.contains("upgrade replica-worker"),
			"{}: no clear message:\n{log}",
			w.name
		);
		assert!(log.contains("went offline"), "{}: did not go offline:\n{log}", w.name);
		let info = chain::worker_info(&client, &w.account()).await.unwrap().expect("registered");
		assert!(matches!(info.status, WorkerStatus::Offline), "{}: {:?} after the upgrade", w.name, info.status);
	}
	drop(stopped);
}

/// The log lines about `task`: those in its span, `task{id=N}`.
fn about(log: &str, task: u64) -> impl Iterator<Item = &str> {
	let span = format!("task{{id={task}}}");
	log.lines().filter(move |l| l.contains(&span))
}

/// The log lines about `task` and about the node connection, for a failure message.
fn lines_about(log: &str, task: u64) -> String {
	let span = format!("task{{id={task}}}");
	log.lines()
		.filter(|l| l.contains(&span) || l.contains("node") || l.contains("offline") || l.contains("online"))
		.collect::<Vec<_>>()
		.join("\n")
}
