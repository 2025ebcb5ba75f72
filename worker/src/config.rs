//! `replica-worker run`'s configuration: flags, then environment variables, then a TOML file
//! (`--config`), then defaults. Every problem is reported as one line naming the setting.

use crate::engines::device::DeviceChoice;
use anyhow::Context;
use serde::Deserialize;
use std::{
	net::SocketAddr,
	path::{Path, PathBuf},
	str::FromStr,
};
use subxt_signer::{sr25519::Keypair, SecretUri};

/// The chain's token has 12 decimals: 1 RPL = 10^12 of its smallest unit.
pub const UNIT: u128 = 1_000_000_000_000;

/// The flags of `replica-worker run` (each also an environment variable or a key of the TOML
/// file given by `--config`).
#[derive(clap::Args, Debug, Default)]
pub struct RunArgs {
	/// TOML file with any of the settings below, by their flag names without `--` (e.g.
	/// `node = "ws://…"`, `stake = "100"`); flags and environment variables override it.
	#[arg(long, env = "REPLICA_WORKER_CONFIG")]
	pub config: Option<PathBuf>,
	/// WebSocket RPC endpoint of a Replica node. Default: ws://127.0.0.1:9944.
	#[arg(long, env = "REPLICA_NODE_URL")]
	pub node: Option<String>,
	/// The worker account's secret: the path of a file that holds a secret URI (a mnemonic
	/// phrase or a 0x seed, with optional `//hard/soft` derivations; the file must not be
	/// readable by other users), or a dev URI such as `//Bob`. A real secret is accepted from
	/// this variable or the TOML file but not as an argument, where `ps` shows it to everyone.
	#[arg(long, env = "REPLICA_WORKER_KEY")]
	pub key: Option<String>,
	/// Directory of model directories to serve (each a diffusers image pipeline or a GPT-2
	/// text model); the chain's models whose weights digest matches one are served. Default:
	/// `$XDG_DATA_HOME/replica-worker/models` (`~/.local/share/replica-worker/models`); this
	/// repository's embedded models are in `worker/models`.
	#[arg(long, env = "REPLICA_MODELS")]
	pub models: Option<PathBuf>,
	/// Where to run the engines: auto (first CUDA device, else the CPU), cpu, cuda or cuda:N.
	/// Default: auto.
	#[arg(long, env = "REPLICA_DEVICE")]
	pub device: Option<DeviceChoice>,
	/// Directory of the worker's crash-safe store (task records, sealing keys, results); one
	/// subdirectory per account. Default: ~/.local/share/replica-worker.
	#[arg(long, env = "REPLICA_STORE")]
	pub store: Option<PathBuf>,
	/// Stake to hold when registering, in RPL (e.g. 100 or 12.5). Default: the chain's
	/// minimum stake. An already registered worker keeps its stake.
	#[arg(long, env = "REPLICA_STAKE")]
	pub stake: Option<String>,
	/// Claim the worker's earnings once they reach this many RPL. The chain credits the fees
	/// a worker wins to its record and pays them out only when it claims (one transaction
	/// for many tasks); the daemon checks at start and after every task it wins. 0 claims
	/// after every win. Default: 10.
	#[arg(long, env = "REPLICA_CLAIM_AT")]
	pub claim_at: Option<String>,
	/// Answer the swarm queries (open-ended questions ranked by the swarm, pallet-swarm) for
	/// the text models served, when a query's ticket is at most this many RPL: the ticket is
	/// held while the query runs, and lost if the answer ranks poorly or the worker does not
	/// rank others' answers. 0 never answers. Default: 1.
	#[arg(long, env = "REPLICA_SWARM_MAX_TICKET")]
	pub swarm_max_ticket: Option<String>,
	/// The URL declared on chain where clients download results, e.g.
	/// http://gpu1.example.org:8080. Default: http://<listen address>.
	#[arg(long, env = "REPLICA_ENDPOINT")]
	pub endpoint: Option<String>,
	/// Address the results HTTP server listens on. Default: 127.0.0.1:8080.
	#[arg(long, env = "REPLICA_LISTEN")]
	pub listen: Option<SocketAddr>,
	/// Address of the Prometheus metrics endpoint (/metrics). Default: 127.0.0.1:9620.
	#[arg(long, env = "REPLICA_METRICS")]
	pub metrics: Option<SocketAddr>,
	/// Most assigned tasks waiting for the device; more are skipped (and would time out).
	/// Default: 16.
	#[arg(long, env = "REPLICA_QUEUE")]
	pub queue: Option<usize>,
	/// How many blocks the store keeps a finished task's record and files (results stay
	/// downloadable that long), and a finished training task's record and checkpoints.
	/// Default: 100800 (a week of 6 s blocks).
	#[arg(long, env = "REPLICA_KEEP_FINISHED")]
	pub keep_finished: Option<u64>,
}

/// The same settings in the TOML file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
	node: Option<String>,
	key: Option<String>,
	models: Option<PathBuf>,
	device: Option<String>,
	store: Option<PathBuf>,
	stake: Option<String>,
	claim_at: Option<String>,
	swarm_max_ticket: Option<String>,
	endpoint: Option<String>,
	listen: Option<SocketAddr>,
	metrics: Option<SocketAddr>,
	queue: Option<usize>,
	keep_finished: Option<u64>,
}

/// A complete, checked configuration.
pub struct RunConfig {
	pub node: String,
	pub signer: Keypair,
	pub models: PathBuf,
	pub device: DeviceChoice,
	pub store: PathBuf,
	/// `None`: the chain's minimum.
	pub stake: Option<u128>,
	/// Unclaimed earnings at which the daemon claims them.
	pub claim_at: u128,
	/// The largest swarm ticket the daemon pays to answer (0: it never answers).
	pub swarm_max_ticket: u128,
	pub endpoint: String,
	pub listen: SocketAddr,
	pub metrics: SocketAddr,
	pub queue: usize,
	/// Blocks a finished task stays in the store.
	pub keep_finished: u64,
}

impl std::fmt::Debug for RunConfig {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("RunConfig")
			.field("node", &self.node)
			.field("account", &self.signer.public_key().to_account_id().to_string())
			.field("models", &self.models)
			.field("device", &self.device.to_string())
			.field("store", &self.store)
			.field("stake", &self.stake)
			.field("claim_at", &self.claim_at)
			.field("swarm_max_ticket", &self.swarm_max_ticket)
			.field("endpoint", &self.endpoint)
			.field("listen", &self.listen)
			.field("metrics", &self.metrics)
			.field("queue", &self.queue)
			.field("keep_finished", &self.keep_finished)
			.finish()
	}
}

impl RunArgs {
	/// Merges flags/environment with the TOML file and defaults, and checks every value.
	pub fn resolve(self) -> anyhow::Result<RunConfig> {
		let file = match &self.config {
			Some(path) => {
				let text = std::fs::read_to_string(path).with_context(|| format!("reading the config file {}", path.display()))?;
				toml::from_str::<FileConfig>(&text).map_err(|e| {
					// toml's own report spans several lines; one line names the place.
					let line = e.span().map_or(0, |span| text[..span.start.min(text.len())].lines().count().max(1));
					anyhow::anyhow!("config file {}, line {line}: {}", path.display(), e.message().replace('\n', " "))
				})?
			},
			None => FileConfig::default(),
		};
		let node = self.node.or(file.node).unwrap_or_else(|| "ws://127.0.0.1:9944".into());
		anyhow::ensure!(
			node.starts_with("ws://") || node.starts_with("wss://"),
			"--node {node}: expected a ws:// or wss:// URL"
		);
		let key = self.key.or(file.key).context("--key is required: the worker account's secret URI or a file holding it")?;
		let signer = parse_key(&key)?;
		let models = self.models.or(file.models).unwrap_or_else(|| default_store().join("models"));
		anyhow::ensure!(models.is_dir(), "--models {}: no such directory", models.display());
		let device = match (self.device, file.device) {
			(Some(d), _) => d,
			(None, Some(s)) => DeviceChoice::from_str(&s).map_err(|e| anyhow::anyhow!("device in the config file: {e}"))?,
			(None, None) => DeviceChoice::Auto,
		};
		let store = self.store.or(file.store).unwrap_or_else(default_store);
		let stake = self.stake.or(file.stake).map(|s| parse_amount(&s).with_context(|| format!("--stake {s}"))).transpose()?;
		let claim_at = self.claim_at.or(file.claim_at).map_or(Ok(10 * UNIT), |s| parse_amount(&s).with_context(|| format!("--claim-at {s}")))?;
		let swarm_max_ticket = self
			.swarm_max_ticket
			.or(file.swarm_max_ticket)
			.map_or(Ok(UNIT), |s| parse_amount(&s).with_context(|| format!("--swarm-max-ticket {s}")))?;
		let listen = self.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
		let endpoint = self.endpoint.or(file.endpoint).unwrap_or_else(|| format!("http://{listen}"));
		anyhow::ensure!(endpoint.starts_with("http://"), "--endpoint {endpoint}: expected an http:// URL");
		let metrics = self.metrics.or(file.metrics).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9620)));
		let queue = self.queue.or(file.queue).unwrap_or(16);
		anyhow::ensure!(queue > 0, "--queue must be at least 1");
		let keep_finished = self.keep_finished.or(file.keep_finished).unwrap_or(100_800);
		Ok(RunConfig {
			node,
			signer,
			models,
			device,
			store,
			stake,
			claim_at,
			swarm_max_ticket,
			endpoint,
			listen,
			metrics,
			queue,
			keep_finished,
		})
	}
}

/// A keypair from a secret URI, or from a file holding one. A key file must not be readable
/// by other users; a literal secret other than a dev URI (`//Alice`) is refused when it is on
/// this process's command line, where every user of the machine can read it (`ps`): put it
/// in a key file or the environment instead.
pub fn parse_key(key: &str) -> anyhow::Result<Keypair> {
	let argv: Vec<String> = std::env::args().collect();
	parse_key_given_argv(key, &argv)
}

fn parse_key_given_argv(key: &str, argv: &[String]) -> anyhow::Result<Keypair> {
	let path = Path::new(key);
	let (uri, source) = if !key.starts_with("//") && path.is_file() {
		refuse_shared_key_file(path)?;
		let text = std::fs::read_to_string(path).with_context(|| format!("reading the key file {key}"))?;
		(text.trim().to_string(), format!("the key file {key}"))
	} else {
		let dev_uri = key.starts_with("//");
		let on_command_line = argv.iter().skip(1).any(|arg| arg == key || arg.ends_with(&format!("={key}")));
		anyhow::ensure!(
			dev_uri || !on_command_line,
			"a secret on the command line can be read by every user of this machine: put it in a key file \
			 (chmod 600) and pass its path, or set it in the environment; only dev URIs such as //Alice are \
			 accepted as arguments"
		);
		(key.to_string(), "--key".to_string())
	};
	// Never echo the secret itself.
	let uri = SecretUri::from_str(&uri).map_err(|e| anyhow::anyhow!("{source} is not a valid secret URI: {e}"))?;
	Keypair::from_uri(&uri).map_err(|e| anyhow::anyhow!("{source} is not a valid sr25519 secret: {e}"))
}

/// A key file readable or writable by group or others is refused, as ssh does.
fn refuse_shared_key_file(path: &Path) -> anyhow::Result<()> {
	#[cfg(unix)]
	{
		use std::os::unix::fs::PermissionsExt;
		let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
		anyhow::ensure!(
			mode & 0o077 == 0,
			"the key file {} is accessible to other users (mode {mode:o}): chmod 600 it",
			path.display()
		);
	}
	Ok(())
}

/// An amount of RPL with up to 12 decimals ("100", "0.5") in the chain's smallest unit.
pub fn parse_amount(s: &str) -> anyhow::Result<u128> {
	let (whole, fraction) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
	anyhow::ensure!(
		!whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && fraction.bytes().all(|b| b.is_ascii_digit()),
		"not an amount of RPL (e.g. 100 or 12.5)"
	);
	anyhow::ensure!(fraction.len() <= 12, "RPL has 12 decimals");
	let whole: u128 = whole.parse().context("amount too large")?;
	let fraction: u128 = if fraction.is_empty() { 0 } else { format!("{fraction:0<12}").parse().context("bad decimals")? };
	whole.checked_mul(UNIT).and_then(|w| w.checked_add(fraction)).context("amount too large")
}

/// An amount in the smallest unit as RPL, e.g. `12.5 RPL`.
pub fn format_amount(amount: u128) -> String {
	let (whole, fraction) = (amount / UNIT, amount % UNIT);
	if fraction == 0 {
		format!("{whole} RPL")
	} else {
		format!("{whole}.{} RPL", format!("{fraction:012}").trim_end_matches('0'))
	}
}

/// `$XDG_DATA_HOME/replica-worker` (`~/.local/share/replica-worker`): the store, and the
/// default place of the models.
fn default_store() -> PathBuf {
	match std::env::var_os("XDG_DATA_HOME").or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share").into())) {
		Some(base) => Path::new(&base).join("replica-worker"),
		None => PathBuf::from("replica-worker-store"),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_parse_and_print_in_rpl() {
		assert_eq!(parse_amount("100").unwrap(), 100 * UNIT);
		assert_eq!(parse_amount("12.5").unwrap(), 12 * UNIT + UNIT / 2);
		assert_eq!(parse_amount("0.000000000001").unwrap(), 1);
		for bad in ["", "-1", "1e3", "1.0000000000001", "abc", "99999999999999999999999999999999999999"] {
			assert!(parse_amount(bad).is_err(), "{bad}");
		}
		assert_eq!(format_amount(12 * UNIT + UNIT / 2), "12.5 RPL");
		assert_eq!(format_amount(3 * UNIT), "3 RPL");
	}

	#[test]
	fn flags_override_the_file_which_overrides_defaults() {
		let dir = tempfile::tempdir().unwrap();
		let file = dir.path().join("worker.toml");
		let models = concat!(env!("CARGO_MANIFEST_DIR"), "/models");
		std::fs::write(&file, format!("node = \"ws://file:1\"\nkey = \"//Bob\"\nstake = \"50\"\nqueue = 3\nmodels = \"{models}\"\n"))
			.unwrap();
		let args = RunArgs { config: Some(file.clone()), node: Some("ws://flag:2".into()), ..Default::default() };
		let config = args.resolve().unwrap();
		assert_eq!(config.node, "ws://flag:2");
		assert_eq!(config.stake, Some(50 * UNIT));
		assert_eq!(config.queue, 3);
		assert_eq!(config.endpoint, "http://127.0.0.1:8080");
		assert_eq!(config.claim_at, 10 * UNIT, "the default");
		assert_eq!(config.swarm_max_ticket, UNIT, "the default");
		assert_eq!(
			config.signer.public_key().to_account_id(),
			subxt_signer::sr25519::dev::bob().public_key().to_account_id()
		);

		std::fs::write(&file, "nodes = \"ws://typo\"\n").unwrap();
		let err = format!("{:#}", RunArgs { config: Some(file), ..Default::default() }.resolve().unwrap_err());
		assert!(err.contains("unknown field `nodes`"), "{err}");
	}

	/// The example configuration shipped for operators parses, with every setting there is.
	#[test]
	fn the_shipped_example_configuration_parses() {
		let example: FileConfig = toml::from_str(include_str!("../dist/worker.toml")).unwrap();
		assert_eq!(example.node.as_deref(), Some("ws://127.0.0.1:9944"));
		assert_eq!(example.key.as_deref(), Some("/etc/replica/worker.key"));
		assert!(example.models.is_some() && example.device.is_some() && example.store.is_some());
		assert!(example.stake.as_deref().map(parse_amount).is_some_and(|a| a.is_ok()));
		assert_eq!(example.claim_at.as_deref().map(parse_amount).transpose().unwrap(), Some(10 * UNIT));
		assert_eq!(example.swarm_max_ticket.as_deref().map(parse_amount).transpose().unwrap(), Some(UNIT));
		assert!(example.endpoint.is_some() && example.listen.is_some() && example.metrics.is_some());
		assert_eq!(example.queue, Some(16));
		assert_eq!(example.keep_finished, Some(100_800));
		assert!(example.device.as_deref().unwrap().parse::<DeviceChoice>().is_ok());
	}

	#[test]
	fn keys_come_from_uris_or_files_and_bad_ones_are_named_not_echoed() {
		let dir = tempfile::tempdir().unwrap();
		let file = dir.path().join("key");
		std::fs::write(&file, "//Charlie\n").unwrap();
		#[cfg(unix)]
		{
			use std::os::unix::fs::PermissionsExt;
			std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
			let err = parse_key(file.to_str().unwrap()).err().unwrap().to_string();
			assert!(err.contains("accessible to other users (mode 644)"), "{err}");
			std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
		}
		assert_eq!(
			parse_key(file.to_str().unwrap()).unwrap().public_key().to_account_id(),
			subxt_signer::sr25519::dev::charlie().public_key().to_account_id()
		);
		let err = parse_key("not a secret at all").err().unwrap().to_string();
		assert!(err.contains("--key is not a valid") && !err.contains("not a secret at all"), "{err}");
		// A real secret on the command line is refused; in the environment, or a dev URI, it is not.
		let phrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
		let argv = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
		let err = parse_key_given_argv(phrase, &argv(&["replica-worker", "run", "--key", phrase])).err().unwrap();
		assert!(err.to_string().contains("can be read by every user"), "{err}");
		let err = parse_key_given_argv(phrase, &argv(&["replica-worker", &format!("--key={phrase}")])).err().unwrap();
		assert!(!err.to_string().contains(phrase), "{err}");
		assert!(parse_key_given_argv(phrase, &argv(&["replica-worker", "run"])).is_ok());
		assert!(parse_key_given_argv("//Dave", &argv(&["replica-worker", "--key", "//Dave"])).is_ok());
		let missing = RunArgs { key: None, ..Default::default() }.resolve().err().unwrap().to_string();
		assert!(missing.contains("--key is required"), "{missing}");
	}
}
