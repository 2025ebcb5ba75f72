//! A real `replica-node --dev` for end-to-end tests: free loopback ports, a temporary base
//! path, readiness by RPC, and the node's log printed when a test fails.
#![allow(dead_code)]

pub mod daemons;

use std::{
	io::Read,
	net::TcpListener,
	path::PathBuf,
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use replica_worker::chain::{self, Client};

/// How long a dev node may take to answer RPC. It compiles the runtime to native code twice
/// while building its genesis (about 40 s alone on a 2-core machine), and tests start nodes in
/// parallel.
pub const NODE_START: std::time::Duration = std::time::Duration::from_secs(180);

/// The `replica-node` binary: `$REPLICA_NODE`, or the one built beside this test binary by the
/// same cargo profile (scripts/test.sh builds it first).
pub fn node_binary() -> PathBuf {
	if let Ok(path) = std::env::var("REPLICA_NODE") {
		return PathBuf::from(path);
	}
	let exe = std::env::current_exe().expect("test binary path");
	// <target>/<profile>/deps/<test> -> <target>/<profile>/replica-node
	let path = exe.parent().and_then(|deps| deps.parent()).expect("profile dir").join("replica-node");
	assert!(
		path.exists(),
		"replica-node not found at {}: build it with the same profile first \
		 (scripts/test.sh does) or set REPLICA_NODE",
		path.display()
	);
	path
}

/// The runtime's `upgrade-test` WASM (a later runtime version that changes the calls; see
/// runtime/build.rs): `$REPLICA_UPGRADE_WASM`, or the one the runtime's build script wrote
/// beside this test binary's profile.
pub fn upgrade_test_wasm() -> PathBuf {
	if let Ok(path) = std::env::var("REPLICA_UPGRADE_WASM") {
		return PathBuf::from(path);
	}
	let exe = std::env::current_exe().expect("test binary path");
	// <target>/<profile>/deps/<test> -> <target>/<profile>/wbuild/replica-runtime/
	let dir = exe.parent().and_then(|deps| deps.parent()).expect("profile dir").join("wbuild").join("replica-runtime");
	let path = dir.join("upgrade_test_wasm_binary.rs.compact.compressed.wasm");
	assert!(
		path.exists(),
		"the upgrade-test runtime is not at {}: build the runtime with the same profile first \
		 (scripts/test.sh does) or set REPLICA_UPGRADE_WASM",
		path.display()
	);
	path
}

fn spawn_node(base: &std::path::Path, log: &std::path::Path, rpc_port: u16, p2p_port: u16, extra: &[String]) -> Child {
	let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
	Command::new(node_binary())
		.args(["--dev", "--base-path"])
		.arg(base.join("chain"))
		.args(["--rpc-port", &rpc_port.to_string(), "--port", &p2p_port.to_string()])
		.args(["--no-prometheus", "--no-telemetry", "--no-mdns", "--rpc-cors", "all"])
		.args(extra)
		.stdout(Stdio::null())
		.stderr(log)
		.spawn()
		.expect("spawn replica-node")
}

/// A loopback port nobody listens on, not handed out before by this process.
///
/// Asking the kernel for an ephemeral port (`bind(0)`) and closing it is not enough: the kernel
/// may hand the same port out again at once (two daemons of one CI run got 38723), and outgoing
/// connections take their source ports from the same ephemeral range. So ports come from
/// below that range (Linux: 32768..61000), in turn from an offset chosen by the process id: a
/// port comes round again only after the other 11,999.
pub fn free_port() -> u16 {
	use std::sync::atomic::{AtomicU32, Ordering};
	const RANGE: std::ops::Range<u16> = 20_000..32_000;
	static HANDED_OUT: AtomicU32 = AtomicU32::new(0);
	let span = u32::from(RANGE.end - RANGE.start);
	for _ in 0..span {
		let turn = HANDED_OUT.fetch_add(1, Ordering::Relaxed);
		let port = RANGE.start + ((std::process::id() + turn) % span) as u16;
		if TcpListener::bind(("127.0.0.1", port)).is_ok() {
			return port;
		}
	}
	panic!("no free loopback port in {RANGE:?}");
}

/// Set to keep a test's chain database and worker stores and logs after it ends.
pub const KEEP_ENV: &str = "REPLICA_E2E_KEEP";
const NODE_LOG_TAIL: usize = 80;

/// A running dev node; killed (and its log printed if the test is failing) on drop.
pub struct DevNode {
	child: Child,
	pub rpc_port: u16,
	p2p_port: u16,
	extra: Vec<String>,
	pub base: PathBuf,
	log: PathBuf,
}

impl DevNode {
	/// Starts `replica-node --dev` with the given extra arguments.
	pub fn start(extra: &[&str]) -> DevNode {
		let base = std::env::temp_dir().join(format!(
			"replica-e2e-{}-{}",
			std::process::id(),
			free_port()
		));
		std::fs::create_dir_all(&base).unwrap();
		let log = base.join("node.log");
		let (rpc_port, p2p_port) = (free_port(), free_port());
		let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
		let child = spawn_node(&base, &log, rpc_port, p2p_port, &extra);
		DevNode { child, rpc_port, p2p_port, extra, base, log }
	}

	/// Kills the node (SIGKILL) and starts it again on the same chain database and ports.
	pub fn restart(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
		self.child = spawn_node(&self.base, &self.log, self.rpc_port, self.p2p_port, &self.extra);
	}

	pub fn url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port)
	}

	/// The node's log so far.
	pub fn log(&self) -> String {
		let mut s = String::new();
		let _ = std::fs::File::open(&self.log).and_then(|mut f| f.read_to_string(&mut s));
		s
	}

	/// Connects once the RPC server answers, failing with the log after `timeout`.
	pub async fn connect(&mut self, timeout: Duration) -> Client {
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(status) = self.child.try_wait().unwrap() {
				panic!("replica-node exited early ({status}):\n{}", self.log());
			}
			match chain::connect(&self.url()).await {
				Ok(client) => return client,
				Err(_) if Instant::now() < deadline =>
					tokio::time::sleep(Duration::from_millis(250)).await,
				Err(e) => panic!("node RPC not up after {timeout:?}: {e}\n{}", self.log()),
			}
		}
	}

	/// Waits until the latest finalized block is at least `height`.
	pub async fn wait_for_height(&self, client: &Client, height: u64, timeout: Duration) {
		let deadline = Instant::now() + timeout;
		loop {
			let best = client.at_current_block().await.map(|b| b.block_number()).unwrap_or(0);
			if best >= height {
				return;
			}
			assert!(
				Instant::now() < deadline,
				"finalized block #{best} < #{height} after {timeout:?}:\n{}",
				self.log()
			);
			tokio::time::sleep(Duration::from_millis(200)).await;
		}
	}
}

impl Drop for DevNode {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
		if std::thread::panicking() {
			// The tail only: block imports drown the workers' logs, printed before this one.
			let log = self.log();
			let lines: Vec<&str> = log.lines().collect();
			let tail = lines[lines.len().saturating_sub(NODE_LOG_TAIL)..].join("\n");
			eprintln!("---- replica-node log ({}), last {NODE_LOG_TAIL} lines ----\n{tail}", self.log.display());
		}
		if std::env::var_os(KEEP_ENV).is_some() {
			eprintln!("{KEEP_ENV}: the chain and worker directories are kept in {}", self.base.display());
		} else {
			let _ = std::fs::remove_dir_all(&self.base);
		}
	}
}

/// Signs `call` with `signer`, submits it and waits until it is finalized and succeeded;
/// panics with the node's log otherwise.
pub async fn submit<C: subxt::transactions::Payload>(
	client: &Client,
	node: &DevNode,
	call: &C,
	signer: &subxt_signer::sr25519::Keypair,
) -> subxt::extrinsics::ExtrinsicEvents<replica_worker::chain::ReplicaConfig> {
	let at = client.at_current_block().await.expect("current block");
	let mut txs = at.transactions();
	txs.sign_and_submit_then_watch_default(call, signer)
		.await
		.unwrap_or_else(|e| panic!("submit failed: {e}\n{}", node.log()))
		.wait_for_finalized_success()
		.await
		.unwrap_or_else(|e| panic!("transaction failed: {e}\n{}", node.log()))
}

/// The execution profile of a CPU worker, for accounts the tests register themselves.
pub fn cpu_profile() -> replica_primitives::ExecutionProfile {
	let field = |s: &str| s.as_bytes().to_vec().try_into().unwrap();
	replica_primitives::ExecutionProfile {
		gpu_model: field("cpu"),
		vram_mib: 16_384,
		driver: field(""),
		cuda: field(""),
		libtorch: field("2.13.0"),
		dtype: replica_primitives::Dtype::F32,
		worker_version: field("0.1.0"),
	}
}

/// Copies the directory `from` to `to`, recursively.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
	std::fs::create_dir_all(to).unwrap();
	for entry in std::fs::read_dir(from).unwrap() {
		let entry = entry.unwrap();
		let target = to.join(entry.file_name());
		if entry.file_type().unwrap().is_dir() {
			copy_dir(&entry.path(), &target);
		} else {
			std::fs::copy(entry.path(), target).unwrap();
		}
	}
}
