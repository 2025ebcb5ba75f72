//! # Replica runtime
//!
//! The parachain runtime of Replica: a market for generative-AI work whose results are verified
//! by consensus among independent GPU workers. This crate wires the standard parachain pallets
//! (system, monetary, governance, collator selection, XCM) and Replica's own pallets (from
//! index 50) together. Each pallet's configuration lives in one file under [`configs`].
//!
//! ## Token
//! The native token is **RPL** with **12 decimals**: `1 RPL = 10^12` planck ([`UNIT`]). The
//! existential deposit is [`EXISTENTIAL_DEPOSIT`] = 0.001 RPL.
//!
//! ## Governance
//! [`configs::governance::GovernanceOrigin`] (Root, or two thirds of the Council) is the origin
//! that every Replica pallet uses for parameter changes.
#![cfg_attr(not(feature = "std"), no_std)]
// `#[frame_support::runtime]` expands to deeply nested types.
#![recursion_limit = "256"]

// Make the WASM binary available.
#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

/// The `upgrade-test` build of this runtime (`build.rs`): a later version to upgrade a running
/// chain to in tests. Never deployed; `None` in a build for `scripts/demo.sh`.
#[cfg(feature = "std")]
pub mod upgrade_test {
	include!(concat!(env!("OUT_DIR"), "/upgrade_test_wasm_binary.rs"));
}

extern crate alloc;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;

use alloc::vec::Vec;
use smallvec::smallvec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiSignature,
};
use sp_version::RuntimeVersion;

use frame_support::weights::{
	constants::{ExtrinsicBaseWeight, WEIGHT_REF_TIME_PER_SECOND},
	Weight, WeightToFeeCoefficient, WeightToFeeCoefficients, WeightToFeePolynomial,
};
pub use sp_consensus_aura::sr25519::AuthorityId as AuraId;
pub use sp_runtime::{MultiAddress, Perbill, Permill};

/// Alias to 512-bit hash when used in the context of a transaction signature on the chain.
pub type Signature = MultiSignature;

/// An account on the chain: the public key of the signing scheme (sr25519 for dev accounts).
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// Balance of an account, in planck (10^-12 RPL).
pub type Balance = u128;

/// Index of a transaction in the chain.
pub type Nonce = u32;

/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;

/// An index to a block. Every deadline in Replica is a block number.
pub type BlockNumber = u32;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;

/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// A Block signed with a Justification.
pub type SignedBlock = generic::SignedBlock<Block>;

/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions that every signed transaction carries, in order. Clients (subxt,
/// polkadot.js) must build the same tuple.
pub type TxExtension = cumulus_pallet_weight_reclaim::StorageWeightReclaim<
	Runtime,
	(
		frame_system::AuthorizeCall<Runtime>,
		frame_system::CheckNonZeroSender<Runtime>,
		frame_system::CheckSpecVersion<Runtime>,
		frame_system::CheckTxVersion<Runtime>,
		frame_system::CheckGenesis<Runtime>,
		frame_system::CheckEra<Runtime>,
		frame_system::CheckNonce<Runtime>,
		frame_system::CheckWeight<Runtime>,
		pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
		frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	),
>;

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// Migrations to apply on runtime upgrade.
pub type Migrations = (
	// Permanent.
	pallet_xcm::migration::MigrateToLatestXcmVersion<Runtime>,
	// Unreleased: remove once applied.
	pallet_tasks::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_tasks::migrations::v3::MigrateV2ToV3<Runtime>,
	// The workers' records gain their open-task lists and earnings (current layout) before
	// pallet-tasks moves its lists in.
	pallet_workers::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_workers::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_tasks::migrations::v4::MigrateV3ToV4<Runtime>,
);

/// Executive: handles dispatch to the various modules.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// Maps weight to fee: the base weight of an extrinsic costs 0.1 milli-RPL, linearly.
pub struct WeightToFee;
impl WeightToFeePolynomial for WeightToFee {
	type Balance = Balance;
	fn polynomial() -> WeightToFeeCoefficients<Self::Balance> {
		let p = MILLIUNIT / 10;
		let q = 100 * Balance::from(ExtrinsicBaseWeight::get().ref_time());
		smallvec![WeightToFeeCoefficient {
			degree: 1,
			negative: false,
			coeff_frac: Perbill::from_rational(p % q, q),
			coeff_integer: p / q,
		}]
	}
}

/// Opaque types, for the node and tools that must not depend on the runtime's call types.
pub mod opaque {
	use super::*;
	use sp_runtime::{
		generic,
		traits::{BlakeTwo256, Hash as HashT},
	};

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;
	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The session keys of a collator: only Aura.
	pub struct SessionKeys {
		pub aura: Aura,
	}
}

#[cfg(not(feature = "upgrade-test"))]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("replica"),
	impl_name: alloc::borrow::Cow::Borrowed("replica"),
	authoring_version: 1,
	spec_version: 1,
	impl_version: 0,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// The `upgrade-test` build's version: always one spec_version ahead of the real one (a chain
/// only accepts code with a higher spec_version; the worker's upgrade test fails otherwise).
#[cfg(feature = "upgrade-test")]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("replica"),
	impl_name: alloc::borrow::Cow::Borrowed("replica"),
	authoring_version: 1,
	spec_version: 2,
	impl_version: 0,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Target time between blocks when collating for a relay chain. The `--dev` node seals on its
/// own timer instead (`--dev-block-time`).
pub const MILLISECS_PER_BLOCK: u64 = 6000;

/// The Aura slot duration. Changing it on a live chain bricks block production.
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

// Time measured in blocks at the target block time.
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// One RPL, in planck (12 decimals).
pub const UNIT: Balance = 1_000_000_000_000;
/// 10^-3 RPL.
pub const MILLIUNIT: Balance = 1_000_000_000;
/// 10^-6 RPL.
pub const MICROUNIT: Balance = 1_000_000;

/// The token's symbol, as shown by wallets and explorers.
pub const TOKEN_SYMBOL: &str = "RPL";
/// The token's decimals.
pub const TOKEN_DECIMALS: u8 = 12;

/// The minimum balance an account must keep to exist: 0.001 RPL.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLIUNIT;

/// About 5% of the block weight is assumed to go to `on_initialize` hooks; this bounds the
/// weight of a single extrinsic.
const AVERAGE_ON_INITIALIZE_RATIO: Perbill = Perbill::from_percent(5);

/// `Normal` extrinsics may fill a block up to 63%; the rest is for `Operational` ones and the
/// mandatory class, where pallet-tasks' deadline hook takes 31% (`DeadlineHookWeight`). The
/// split follows what a verified task costs in each (docs/performance.md: about 2.3 ms of
/// calls to 1.2 ms of hook), so neither side leaves the other's capacity unused.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(63);

/// 2 seconds of compute per block and the relay chain's PoV limit.
const MAXIMUM_BLOCK_WEIGHT: Weight = Weight::from_parts(
	WEIGHT_REF_TIME_PER_SECOND.saturating_mul(2),
	cumulus_primitives_core::relay_chain::MAX_POV_SIZE as u64,
);

/// Maximum number of blocks accepted by the runtime but not yet included in the relay chain.
const UNINCLUDED_SEGMENT_CAPACITY: u32 = 3;
/// How many parachain blocks the relay chain processes per relay block.
const BLOCK_PROCESSING_VELOCITY: u32 = 1;
/// Relay chain slot duration, in milliseconds.
const RELAY_CHAIN_SLOT_DURATION_MILLIS: u32 = 6000;

/// Aura consensus hook: checks the relay/para slot relation and the unincluded segment.
type ConsensusHook = cumulus_pallet_aura_ext::FixedVelocityConsensusHook<
	Runtime,
	RELAY_CHAIN_SLOT_DURATION_MILLIS,
	BLOCK_PROCESSING_VELOCITY,
	UNINCLUDED_SEGMENT_CAPACITY,
>;

/// The runtime: pallets and their indices, grouped by concern. Indices are part of the
/// transaction format and must never change for a live pallet.
#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	// System support: 0-9.
	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type ParachainSystem = cumulus_pallet_parachain_system;
	#[runtime::pallet_index(2)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(3)]
	pub type ParachainInfo = parachain_info;
	#[runtime::pallet_index(4)]
	pub type WeightReclaim = cumulus_pallet_weight_reclaim;

	// Monetary: 10-14.
	#[runtime::pallet_index(10)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(11)]
	pub type TransactionPayment = pallet_transaction_payment;

	// Governance: 15-19.
	#[runtime::pallet_index(15)]
	pub type Sudo = pallet_sudo;
	#[runtime::pallet_index(16)]
	pub type Council = pallet_collective<Instance1>;

	// Collator support: 20-29. The order of these is important and shall not change.
	#[runtime::pallet_index(20)]
	pub type Authorship = pallet_authorship;
	#[runtime::pallet_index(21)]
	pub type CollatorSelection = pallet_collator_selection;
	#[runtime::pallet_index(22)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(23)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(24)]
	pub type AuraExt = cumulus_pallet_aura_ext;

	// XCM helpers: 30-39.
	#[runtime::pallet_index(30)]
	pub type XcmpQueue = cumulus_pallet_xcmp_queue;
	#[runtime::pallet_index(31)]
	pub type PolkadotXcm = pallet_xcm;
	#[runtime::pallet_index(32)]
	pub type CumulusXcm = cumulus_pallet_xcm;
	#[runtime::pallet_index(33)]
	pub type MessageQueue = pallet_message_queue;

	// Replica: 50 and above.
	#[runtime::pallet_index(50)]
	pub type Workers = pallet_workers;
	#[runtime::pallet_index(51)]
	pub type Tasks = pallet_tasks;
	#[runtime::pallet_index(52)]
	pub type RelayRandomness = pallet_relay_randomness;
	#[runtime::pallet_index(53)]
	pub type Swarm = pallet_swarm;
	#[runtime::pallet_index(54)]
	pub type Training = pallet_training;

	// Only in the `upgrade-test` build, a later runtime for tests: 90. (A pallet with a
	// composite enum, such as a hold reason, must not be added this way: frame-support puts
	// its variant into the outer enum whether the cfg holds or not.)
	#[cfg(feature = "upgrade-test")]
	#[runtime::pallet_index(90)]
	pub type Utility = pallet_utility;
}

cumulus_pallet_parachain_system::register_validate_block! {
	Runtime = Runtime,
	BlockExecutor = cumulus_pallet_aura_ext::BlockExecutor::<Runtime, Executive>,
}

/// The runtime's pallet names, in index order (used by tests that check the metadata).
pub fn pallet_names() -> Vec<&'static str> {
	use frame_support::traits::PalletsInfoAccess;
	AllPalletsWithSystem::infos().into_iter().map(|info| info.name).collect()
}

/// The metadata version clients (the worker's subxt interface) are generated from.
pub const CLIENT_METADATA_VERSION: u32 = 16;

/// The runtime's metadata at [`CLIENT_METADATA_VERSION`], SCALE-encoded with its `meta` prefix.
/// Constants that read storage (the parachain id in XCM's universal location) see an empty
/// state here; the metadata's types, which clients are generated from, do not depend on it.
#[cfg(feature = "std")]
pub fn metadata_bytes() -> Vec<u8> {
	sp_io::TestExternalities::default().execute_with(|| {
		Runtime::metadata_at_version(CLIENT_METADATA_VERSION)
			.expect("the runtime supports its client metadata version")
			.to_vec()
	})
}
