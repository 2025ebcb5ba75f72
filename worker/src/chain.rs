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
		path = "replica_primitives::types::ResultPayload",
		derive = "::subxt::ext::codec::Encode, ::subxt::ext::codec::Decode",
		recursive
	)
)]
pub mod runtime {}

/// Replica's transaction and block types are Substrate's defaults (MultiSignature,
/// AccountId32, u32 block numbers, blake2 hashing).
pub type ReplicaConfig = SubstrateConfig;

/// A connected client.
pub type Client = OnlineClient<ReplicaConfig>;

/// Connects to a node's RPC endpoint (`ws://…` or `http://…`).
pub async fn connect(url: &str) -> anyhow::Result<Client> {
	// Operators run workers next to their own node, usually over plain ws:// on loopback.
	Client::from_insecure_url(url)
		.await
		.map_err(|e| anyhow::anyhow!("cannot connect to the Replica node at {url}: {e}"))
}

/// Converts one of our SCALE types into the generated type with the same encoding (e.g.
/// `replica_primitives::ExecutionProfile` into `runtime::runtime_types::…::ExecutionProfile`).
/// Fails only if the two encodings diverged, which the metadata test prevents.
pub fn to_runtime<A: codec::Encode, B: codec::Decode>(value: &A) -> anyhow::Result<B> {
	let bytes = value.encode();
	B::decode(&mut &bytes[..])
		.map_err(|e| anyhow::anyhow!("type does not match the runtime's encoding: {e}"))
}
