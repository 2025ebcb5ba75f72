//! Real `replica-worker` processes for end-to-end tests: the daemon (`run`) with its own
//! store, ports and log, and the command line.

use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Output, Stdio},
	time::{Duration, Instant},
};

use replica_worker::chain::AccountId;
use subxt_signer::sr25519::Keypair;

use super::{free_port, DevNode};

pub const WORKER: &str = env!("CARGO_BIN_EXE_replica-worker");

pub fn models_dir() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// A `replica-worker run` process with its own store, ports and log.
pub struct Worker {
	pub name: &'static str,
	pub key: Keypair,
	pub child: Option<Child>,
	pub args: Vec<String>,
	pub log: PathBuf,
	pub listen: String,
	pub metrics: String,
	pub fault: Option<&'static str>,
	/// Where the log stood when the current process was spawned (the log is appended to).
	pub spawned_at: usize,
}

impl Worker {
	pub fn start(node: &DevNode, name: &'static str, key: Keypair) -> Worker {
		Self::start_with_fault(node, name, key, None)
	}

	/// A worker whose engine fails as `fault` says (`REPLICA_WORKER_INJECT_FAULT`).
	pub fn start_with_fault(node: &DevNode, name: &'static str, key: Keypair, fault: Option<&'static str>) -> Worker {
		Self::start_in(node, name, key, fault, &format!("worker-{name}"), &[])
	}

	/// A worker that claims its earnings once they reach `claim_at` RPL (`--claim-at`).
	pub fn start_claiming_at(node: &DevNode, name: &'static str, key: Keypair, claim_at: &str) -> Worker {
		Self::start_in(node, name, key, None, &format!("worker-{name}"), &["--claim-at", claim_at])
	}

	/// A second process with `name`'s key, with a store and ports of its own.
	pub fn start_twin(node: &DevNode, name: &'static str, key: Keypair) -> Worker {
		Self::start_in(node, name, key, None, &format!("worker-{name}-twin"), &[])
	}

	pub fn start_in(
		node: &DevNode,
		name: &'static str,
		key: Keypair,
		fault: Option<&'static str>,
		dir: &str,
		extra: &[&str],
	) -> Worker {
		let dir = node.base.join(dir);
		std::fs::create_dir_all(&dir).unwrap();
		let listen = format!("127.0.0.1:{}", free_port());
		let listen_copy = listen.clone();
		let metrics = format!("127.0.0.1:{}", free_port());
		let mut args: Vec<String> = vec![
			"run".into(),
			"--node".into(),
			node.url(),
			"--key".into(),
			format!("//{name}"),
			"--device".into(),
			"cpu".into(),
			"--models".into(),
			models_dir().display().to_string(),
			"--store".into(),
			dir.join("store").display().to_string(),
			"--listen".into(),
			listen,
			"--metrics".into(),
			metrics.clone(),
		];
		args.extend(extra.iter().map(|a| a.to_string()));
		let mut worker = Worker { name, key, child: None, args, log: dir.join("worker.log"), listen: listen_copy, metrics, fault, spawned_at: 0 };
		worker.spawn();
		worker
	}

	pub fn spawn(&mut self) {
		self.spawned_at = self.log().len();
		let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
		let mut command = Command::new(WORKER);
		if let Some(fault) = self.fault {
			command.env(replica_worker::pipeline::InjectedFault::ENV, fault);
		}
		let child = command
			.args(&self.args)
			.env("RUST_LOG", "info")
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("spawn replica-worker");
		self.child = Some(child);
	}

	pub fn account(&self) -> AccountId {
		self.key.public_key().to_account_id()
	}

	/// Waits until the chain has this worker online.
	pub async fn wait_online(&self, client: &replica_worker::chain::Client) {
		use replica_worker::chain::{self, WorkerStatus};
		let who = self.account();
		wait_until(&format!("{} online", self.name), Duration::from_secs(120), || {
			let (client, who) = (client.clone(), who.clone());
			async move { matches!(chain::worker_info(&client, &who).await, Ok(Some(info)) if matches!(info.status, WorkerStatus::Online)) }
		})
		.await;
	}

	pub fn signal(&self, signal: libc::c_int) {
		let pid = self.child.as_ref().expect("running").id() as libc::pid_t;
		// SAFETY: kill(2) on a child process this test started and has not reaped.
		assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill({pid}, {signal})");
	}

	/// SIGKILL: no chance to clean up, as in a crash.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			child.kill().unwrap();
			child.wait().unwrap();
		}
	}

	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Whether the current process is still running.
	pub fn running(&mut self) -> bool {
		self.child.as_mut().is_some_and(|child| child.try_wait().unwrap().is_none())
	}

	/// Waits for the current process to exit by itself; its exit status.
	pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
		let deadline = Instant::now() + timeout;
		let child = self.child.as_mut().expect("running");
		loop {
			if let Some(status) = child.try_wait().unwrap() {
				self.child = None;
				return status;
			}
			assert!(Instant::now() < deadline, "{} still running after {timeout:?}:\n{}", self.name, self.log_since_spawn());
			std::thread::sleep(Duration::from_millis(200));
		}
	}

	/// What the current process has logged.
	pub fn log_since_spawn(&self) -> String {
		self.log().get(self.spawned_at..).unwrap_or_default().to_string()
	}
}

impl Drop for Worker {
	fn drop(&mut self) {
		if self.child.is_some() {
			// Graceful stop, as an operator would.
			self.signal(libc::SIGTERM);
		}
		if let Some(mut child) = self.child.take() {
			let deadline = Instant::now() + Duration::from_secs(10);
			while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
				std::thread::sleep(Duration::from_millis(100));
			}
			let _ = child.kill();
			let _ = child.wait();
		}
		if std::thread::panicking() {
			eprintln!("---- worker {} log ----\n{}", self.name, self.log());
		}
	}
}

pub fn cli(args: &[&str]) -> Output {
	Command::new(WORKER).args(args).env("RUST_LOG", "warn").output().expect("run replica-worker")
}

pub fn cli_ok(args: &[&str]) -> String {
	let out = cli(args);
	assert!(out.status.success(), "{args:?} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
	String::from_utf8(out.stdout).unwrap()
}

/// Polls `check` every 200 ms until it holds; panics naming `what` after `timeout`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = bool>,
{
	let deadline = Instant::now() + timeout;
	while !check().await {
		assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
}

