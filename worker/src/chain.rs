//! The chain client: a typed subxt interface generated from the Replica runtime's metadata.
//!
//! The metadata file is generated from the runtime by `scripts/update-metadata.sh`; the test
//! `metadata_is_current` in the runtime crate fails when it is stale.

use subxt::{OnlineClient, SubstrateConfig};

/// The generated interface to the Replica runtime. Replica's own primitive types also get
/// SCALE codec derives, so [`to_runtime`] can convert `replica_primitives` values into them.
#[subxt::subxt(
	runtime_metadata_path = "metadata/replica.scale",
	derive_for_type(
		path = "replica_primitives::types::ExecutionProfile",
		derive = "::subxt::ext::codec::Encode, ::subxt::ext::codec::Decode",
		recursive
	),
	derive_for_type(
		path = "replica_primitives::voting::Tolerances",
		derive = "::subxt::ext::codec::Encode, ::subxt::ext::codec::Decode",
		recursive
	),
	derive_for_type(
		path = "replica_primitives::types::ResultPayload",
		derive = "::subxt::ext::codec::Encode, ::subxt::ext::codec::Decode",
		recursive
	),
	derive_for_type(path = "pallet_tasks::types::Outcome", derive = "Clone, Copy, PartialEq, Eq"),
	derive_for_type(
		path = "replica_primitives::swarm::Deviations",
		derive = "::subxt::ext::codec::Encode, ::subxt::ext::codec::Decode"
	)
)]
pub mod runtime {}

/// Replica's transaction and block types are Substrate's defaults (MultiSignature,
/// AccountId32, u32 block numbers, blake2 hashing).
pub type ReplicaConfig = SubstrateConfig;

/// A connected client.
pub type Client = OnlineClient<ReplicaConfig>;

/// The node runs a runtime whose calls, events, storage or runtime APIs differ from those this
/// worker was built for — a runtime upgrade this worker predates.
#[derive(Debug, thiserror::Error)]
#[error(
	"the chain runs runtime spec_version {spec_version}, whose calls, events or storage differ from those this \
	 replica-worker was built for: upgrade replica-worker (a build whose metadata matches the new runtime) and start it \
	 again"
)]
pub struct RuntimeMismatch {
	pub spec_version: u32,
}

/// Whether `metadata` (of runtime `spec_version`) is the one this worker's typed interface
/// was generated from, for every pallet and runtime API it uses.
pub fn check_runtime(metadata: &subxt::Metadata, spec_version: u32) -> Result<(), RuntimeMismatch> {
	if runtime::is_codegen_valid_for(metadata) {
		Ok(())
	} else {
		Err(RuntimeMismatch { spec_version })
	}
}

/// Connects to a node's RPC endpoint (`ws://…` or `http://…`).
pub async fn connect(url: &str) -> anyhow::Result<Client> {
	// Operators run workers next to their own node, usually over plain ws:// on loopback.
	Client::from_insecure_url(url)
		.await
		.map_err(|e| anyhow::anyhow!("cannot connect to the Replica node at {url}: {e}"))
}

/// Whether an endpoint URL points at this machine only (a dev setup, unreachable for dapps).
pub fn is_loopback_endpoint(endpoint: &str) -> bool {
	let host = endpoint.split_once("://").map_or(endpoint, |(_, rest)| rest);
	let host = host.split(['/', '?']).next().unwrap_or_default();
	let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
	let host = if let Some(v6) = host.strip_prefix('[') { v6.split(']').next().unwrap_or_default() } else { host.split(':').next().unwrap_or_default() };
	host.eq_ignore_ascii_case("localhost") ||
		host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// Converts one of our SCALE types into the generated type with the same encoding (e.g.
/// `replica_primitives::ExecutionProfile` into `runtime::runtime_types::…::ExecutionProfile`).
/// Fails only if the two encodings diverged, which the metadata test prevents.
pub fn to_runtime<A: codec::Encode, B: codec::Decode>(value: &A) -> anyhow::Result<B> {
	let bytes = value.encode();
	B::decode(&mut &bytes[..])
		.map_err(|e| anyhow::anyhow!("type does not match the runtime's encoding: {e}"))
}

pub use runtime::runtime_types::{
	pallet_tasks::types::{Assignment, ModelInfo, ModelKind, Outcome, TaskInfo, TaskStatus},
	pallet_workers::types::{WorkerInfo, WorkerStatus},
};

/// The account type of the chain.
pub type AccountId = subxt::utils::AccountId32;

/// A swarm query as pallet-swarm stores it.
pub type QueryInfo = runtime::runtime_types::pallet_swarm::types::QueryInfo<AccountId, u128, u32>;

/// Why a transaction did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
	/// The runtime rejected it (e.g. `Tasks::AlreadyCommitted`): final, resubmitting the same
	/// call cannot help.
	#[error("rejected by the runtime: {0}")]
	Rejected(String),
	/// It could not be submitted or included (node gone, pool full, outdated) even after
	/// rebuilding it with a fresh nonce several times.
	#[error("{0}")]
	Failed(String),
}

impl SubmitError {
	/// Whether the runtime rejected it with this pallet error (`"Tasks::AlreadyCommitted"`).
	pub fn is(&self, pallet_error: &str) -> bool {
		matches!(self, SubmitError::Rejected(name) if name == pallet_error)
	}
}

/// How often [`submit`] builds and sends a transaction before giving up.
pub const SUBMIT_ATTEMPTS: u32 = 5;

/// Signs `call` with `signer` at the current block and waits until it is finalized and
/// succeeded. A transaction the pool refuses or drops (stale or future nonce, outdated era,
/// priority too low, connection trouble) is rebuilt with a fresh nonce and resubmitted, with
/// backoff, up to [`SUBMIT_ATTEMPTS`] times; one the runtime rejects is not.
pub async fn submit<C: subxt::transactions::Payload>(
	client: &Client,
	call: &C,
	signer: &subxt_signer::sr25519::Keypair,
) -> Result<subxt::extrinsics::ExtrinsicEvents<ReplicaConfig>, SubmitError> {
	use subxt::error::{TransactionEventsError, TransactionFinalizedSuccessError};
	let mut delay = std::time::Duration::from_millis(500);
	let mut last = String::new();
	for attempt in 1..=SUBMIT_ATTEMPTS {
		let outcome = async {
			let at = client.at_current_block().await.map_err(|e| e.to_string())?;
			let mut txs = at.transactions();
			let progress = txs.sign_and_submit_then_watch_default(call, signer).await.map_err(|e| e.to_string())?;
			Ok::<_, String>(progress.wait_for_finalized_success().await)
		}
		.await;
		match outcome {
			Ok(Ok(events)) => return Ok(events),
			Ok(Err(TransactionFinalizedSuccessError::SuccessError(TransactionEventsError::ExtrinsicFailed(error)))) =>
				return Err(rejected(&error)),
			Ok(Err(e)) => last = e.to_string(),
			Err(e) => last = e,
		}
		back_off(attempt, &last, &mut delay).await;
	}
	Err(SubmitError::Failed(format!("not included after {SUBMIT_ATTEMPTS} attempts: {last}")))
}

/// Before attempt `attempt + 1` (if there is one): waits `delay` plus up to as much again of
/// jitter, so that senders who collided on a nonce do not collide again, and doubles it.
async fn back_off(attempt: u32, last: &str, delay: &mut std::time::Duration) {
	if attempt >= SUBMIT_ATTEMPTS {
		return;
	}
	tracing::warn!("transaction not included ({last}); rebuilding it, attempt {} of {SUBMIT_ATTEMPTS}", attempt + 1);
	let mut jitter = [0u8; 1];
	let _ = getrandom::getrandom(&mut jitter);
	tokio::time::sleep(*delay + *delay * u32::from(jitter[0]) / 255).await;
	*delay *= 2;
}

/// A transaction the runtime rejected, named as `Pallet::Error` where it can be.
fn rejected(error: &subxt::error::DispatchError) -> SubmitError {
	SubmitError::Rejected(match error {
		subxt::error::DispatchError::Module(module) => module.details_string(),
		other => other.to_string(),
	})
}

/// Sends one account's transactions without waiting for each to be finalized, so that many
/// can be in flight at once (a worker revealing a dozen tasks in one window). It numbers them
/// itself: the runtime's view of the next nonce ignores the pool, the node's
/// (`system_accountNextIndex`) is fetched once and again after any transaction failed to get
/// in. A transaction is done once it is in a block and succeeded there ([`Self::in_block`]) or
/// once that block is finalized ([`Self::finalized`]); one the pool refuses or drops is rebuilt
/// and resubmitted, with backoff, up to [`SUBMIT_ATTEMPTS`] times; one the runtime rejects is
/// not.
pub struct Submitter {
	client: Client,
	rpc: subxt::rpcs::LegacyRpcMethods<subxt::config::RpcConfigFor<ReplicaConfig>>,
	signer: subxt_signer::sr25519::Keypair,
	next_nonce: tokio::sync::Mutex<Option<u64>>,
}

impl Submitter {
	/// A submitter over `client` (connected to `url`) for `signer`'s account.
	pub async fn new(url: &str, client: Client, signer: subxt_signer::sr25519::Keypair) -> anyhow::Result<Self> {
		let rpc = subxt::rpcs::RpcClient::from_insecure_url(url)
			.await
			.map_err(|e| anyhow::anyhow!("cannot connect to the Replica node at {url}: {e}"))?;
		Ok(Self { client, rpc: subxt::rpcs::LegacyRpcMethods::new(rpc), signer, next_nonce: Default::default() })
	}

	/// Submits `call`; done once it is in a (best) block and succeeded there.
	pub async fn in_block<C: subxt::transactions::Payload>(&self, call: &C) -> Result<(), SubmitError> {
		self.submit(call, false).await
	}

	/// Submits `call`; done once its block is finalized and it succeeded.
	pub async fn finalized<C: subxt::transactions::Payload>(&self, call: &C) -> Result<(), SubmitError> {
		self.submit(call, true).await
	}

	/// The chain's type as its node reports it (`Development`, `Local`, `Live`, …).
	pub async fn chain_type(&self) -> anyhow::Result<String> {
		self.rpc.system_chain_type().await.map_err(|e| anyhow::anyhow!("system_chainType: {e}"))
	}

	async fn nonce(&self) -> Result<u64, String> {
		let mut next = self.next_nonce.lock().await;
		let nonce = match *next {
			Some(nonce) => nonce,
			None => {
				let account = self.signer.public_key().to_account_id();
				self.rpc.system_account_next_index(&account).await.map_err(|e| format!("system_accountNextIndex: {e}"))?
			},
		};
		*next = Some(nonce + 1);
		Ok(nonce)
	}

	async fn submit<C: subxt::transactions::Payload>(&self, call: &C, until_finalized: bool) -> Result<(), SubmitError> {
		use subxt::{error::TransactionEventsError, transactions::TransactionStatus};
		let mut delay = std::time::Duration::from_millis(500);
		let mut last = String::new();
		for attempt in 1..=SUBMIT_ATTEMPTS {
			let outcome = async {
				let nonce = self.nonce().await?;
				let at = self.client.at_current_block().await.map_err(|e| e.to_string())?;
				let params = subxt::config::DefaultExtrinsicParamsBuilder::<ReplicaConfig>::new().nonce(nonce).build();
				let mut progress = at
					.transactions()
					.sign_and_submit_then_watch(call, &self.signer, params)
					.await
					.map_err(|e| e.to_string())?;
				while let Some(status) = progress.next().await {
					match status.map_err(|e| e.to_string())? {
						TransactionStatus::InBestBlock(in_block) if !until_finalized => return Ok(in_block.wait_for_success().await),
						TransactionStatus::InFinalizedBlock(in_block) => return Ok(in_block.wait_for_success().await),
						TransactionStatus::Error { message } |
						TransactionStatus::Invalid { message } |
						TransactionStatus::Dropped { message } => return Err(message),
						_ => continue,
					}
				}
				Err("the node stopped reporting on the transaction".to_string())
			}
			.await;
			match outcome {
				Ok(Ok(_)) => return Ok(()),
				Ok(Err(TransactionEventsError::ExtrinsicFailed(error))) => return Err(rejected(&error)),
				Ok(Err(e)) => last = e.to_string(),
				Err(e) => {
					last = e;
					// It did not get in: its nonce may be free again, or taken by another sender.
					*self.next_nonce.lock().await = None;
				},
			}
			back_off(attempt, &last, &mut delay).await;
		}
		Err(SubmitError::Failed(format!("not included after {SUBMIT_ATTEMPTS} attempts: {last}")))
	}
}

/// The chain's view of a worker account, if registered.
pub async fn worker_info(client: &Client, who: &AccountId) -> anyhow::Result<Option<WorkerInfo<u128, u32>>> {
	let at = client.at_current_block().await?;
	let value = at.storage().try_fetch(runtime::storage().workers().workers(), (who.clone(),)).await?;
	Ok(value.map(|v| v.decode()).transpose()?)
}

/// A task, until it is pruned.
pub async fn task_info(client: &Client, task: u64) -> anyhow::Result<Option<TaskInfo<AccountId, u128, u32>>> {
	let at = client.at_current_block().await?;
	let value = at.storage().try_fetch(runtime::storage().tasks().tasks(), (task,)).await?;
	Ok(value.map(|v| v.decode()).transpose()?)
}

/// A worker's commitment and reveal in a task, from its commit until its round is settled
/// (see [`settled_outcome`] after that).
pub async fn assignment(client: &Client, task: u64, who: &AccountId) -> anyhow::Result<Option<Assignment>> {
	let at = client.at_current_block().await?;
	let value = at.storage().try_fetch(runtime::storage().tasks().assignments(), (task, who.clone())).await?;
	Ok(value.map(|v| v.decode()).transpose()?)
}

/// The outcome of `who` in `info` once its round is settled: settling deletes the worker's
/// assignment record and keeps the outcome in the task (`settled`, in the order of
/// `workers`) until the task is pruned. `None` while its round is open, or if never drawn.
pub fn settled_outcome(info: &TaskInfo<AccountId, u128, u32>, who: &AccountId) -> Option<Outcome> {
	let index = info.workers.0.iter().position(|w| w == who)?;
	info.settled.0.get(index).copied()
}

/// How `who` stands in `task`: its settled outcome, or `Open` while its round is open (with or
/// without a commitment). `None` if it was never drawn into the task, or the task is pruned.
pub async fn outcome(client: &Client, task: u64, who: &AccountId) -> anyhow::Result<Option<Outcome>> {
	let Some(info) = task_info(client, task).await? else { return Ok(None) };
	if !info.workers.0.contains(who) {
		return Ok(None);
	}
	if let Some(outcome) = settled_outcome(&info, who) {
		return Ok(Some(outcome));
	}
	Ok(Some(assignment(client, task, who).await?.map_or(Outcome::Open, |a| a.outcome)))
}

/// What a worker drawn into `round` that has not committed yet holds: the chain keeps no
/// record for it until its commit.
pub fn uncommitted_assignment(round: u32) -> Assignment {
	Assignment {
		round,
		profile: [0; 32],
		commitment: None,
		ciphertext: None,
		revealed: None,
		reveal_attempted: false,
		outcome: Outcome::Open,
	}
}

/// Every registered model, by id.
pub async fn models(client: &Client) -> anyhow::Result<Vec<(u32, ModelInfo<u128>)>> {
	let at = client.at_current_block().await?;
	let mut entries = at.storage().iter(runtime::storage().tasks().models(), ()).await?;
	let mut out = Vec::new();
	while let Some(entry) = entries.next().await {
		let entry = entry?;
		let (id,) = entry.key()?.decode()?;
		out.push((id, entry.value().decode()?));
	}
	out.sort_by_key(|(id, _)| *id);
	Ok(out)
}

#[cfg(test)]
mod tests {
	use super::*;
	use subxt::ext::{codec::Decode, frame_metadata};

	fn stored_metadata() -> frame_metadata::RuntimeMetadataPrefixed {
		let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/metadata/replica.scale")).unwrap();
		frame_metadata::RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap()
	}

	#[test]
	fn loopback_endpoints_are_recognised() {
		for local in ["http://127.0.0.1:8080", "http://localhost:8081/", "http://[::1]:80", "http://0.0.0.0:8080", "127.0.0.5"] {
			assert!(is_loopback_endpoint(local), "{local}");
		}
		for public in ["https://gpu1.example.org", "http://10.0.0.7:8080", "http://[2001:db8::1]:8080/x", "http://user@203.0.113.9"] {
			assert!(!is_loopback_endpoint(public), "{public}");
		}
	}

	/// A runtime upgrade that changes a pallet this worker uses is recognised, and the message
	/// says what to do.
	#[test]
	fn a_runtime_whose_metadata_differs_is_refused_with_a_clear_message() {
		let current: subxt::Metadata = stored_metadata().try_into().unwrap();
		assert!(check_runtime(&current, 1).is_ok());

		// The upgrade drops pallet-workers (any change to a pallet the worker uses counts).
		let mut upgraded = stored_metadata();
		let removed = match &mut upgraded.1 {
			frame_metadata::RuntimeMetadata::V15(m) => {
				let before = m.pallets.len();
				m.pallets.retain(|p| p.name != "Workers");
				m.pallets.len() < before
			},
			frame_metadata::RuntimeMetadata::V16(m) => {
				let before = m.pallets.len();
				m.pallets.retain(|p| p.name != "Workers");
				m.pallets.len() < before
			},
			_ => panic!("the runtime produces metadata v15 or v16"),
		};
		assert!(removed);
		let upgraded: subxt::Metadata = upgraded.try_into().unwrap();
		let message = check_runtime(&upgraded, 7).unwrap_err().to_string();
		assert!(message.contains("spec_version 7") && message.contains("upgrade replica-worker"), "{message}");
	}
}
