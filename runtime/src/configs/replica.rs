//! Replica's own pallets (indices 50 and above).
//!
//! ## pallet-workers parameters
//! | | | |
//! |---|---|---|
//! | `min_stake` (genesis, governance may change) | 100 RPL | least active stake of an online worker |
//! | `unbonding_period` (genesis, governance) | 2 days (28,800 blocks at 6 s) | stake stays slashable this long |
//! | `max_missed` (genesis, governance) | 3 | misses in a row before a worker is set offline |
//! | `MaxModelsPerWorker` | 16 | |
//! | `MaxWorkersPerModel` | 256 | bounds eligibility to one read of ≤ 256 entries |
//! | `MaxEndpointLen` | 256 bytes | |
//! | `OnSlash` | the slash pot account (`rp/slash`) | slashing moves funds, never burns |
//!
//! ## pallet-tasks parameters (genesis; governance may change them)
//! Commit window 50 blocks, reveal window 20, assignment timeout 100, retention 14,400 (a day
//! at 6 s), 3 verifiers and a simple majority by default, escalation by 2, 2 verifiers for a
//! sampled check (at least 5% probability); slashes: outlier 10%, no-show 1%, bad reveal 10%.
//! `MaxVerifiers` 16, `MaxDeadlinesPerBlock` 32, `MaxOpenTasksPerWorker` 32.

use frame_support::{parameter_types, traits::ConstU32, PalletId};
use sp_runtime::traits::AccountIdConversion;

use super::governance::GovernanceOrigin;
use crate::{AccountId, Balance, Balances, BlockNumber, Runtime, RuntimeHoldReason, DAYS, UNIT};

parameter_types! {
	pub const SlashPotId: PalletId = PalletId(*b"rp/slash");
	/// The account that receives slashed stake.
	pub SlashPot: AccountId = SlashPotId::get().into_account_truncating();
}

/// Genesis values of pallet-workers' governance parameters.
pub const WORKER_MIN_STAKE: Balance = 100 * UNIT;
pub const WORKER_UNBONDING_PERIOD: BlockNumber = 2 * DAYS;
pub const WORKER_MAX_MISSED: u32 = 3;

impl pallet_workers::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type OnSlash = frame_support::traits::tokens::imbalance::ResolveTo<SlashPot, Balances>;
	type GovernanceOrigin = GovernanceOrigin;
	type MaxModelsPerWorker = ConstU32<16>;
	type MaxWorkersPerModel = ConstU32<256>;
	type MaxEndpointLen = ConstU32<256>;
	type WeightInfo = pallet_workers::weights::SubstrateWeight<Runtime>;
}

/// Randomness for drawing workers: blake2-256 of the subject and the parent block hash,
/// "known since" the parent block — so it did not exist when a task created in an earlier
/// block was submitted.
///
/// **Insecure**: the collator that authors the parent block can grind its hash. It is what the
/// `--dev` chain uses (its relay data is mocked and carries no BABE randomness). Replacing it
/// with the relay chain's BABE randomness from the relay state proof is tracked on the
/// pallet-tasks issue.
pub struct ParentHashRandomness;
impl frame_support::traits::Randomness<crate::Hash, BlockNumber> for ParentHashRandomness {
	fn random(subject: &[u8]) -> (crate::Hash, BlockNumber) {
		let parent = frame_system::Pallet::<Runtime>::parent_hash();
		let number = frame_system::Pallet::<Runtime>::block_number();
		let mut input = subject.to_vec();
		input.extend_from_slice(parent.as_ref());
		let hash = <sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&input);
		(hash, number.saturating_sub(1))
	}
}

/// The ciphertext bound: the largest sealed result is ~4.2 KiB.
pub const MAX_CIPHERTEXT_LEN: u32 = 4_400;

impl pallet_tasks::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Workers = crate::Workers;
	type Randomness = ParentHashRandomness;
	type GovernanceOrigin = GovernanceOrigin;
	type MaxVerifiers = ConstU32<{ replica_primitives::MAX_VERIFIERS }>;
	type MaxDeadlinesPerBlock = ConstU32<32>;
	type MaxCiphertextLen = ConstU32<MAX_CIPHERTEXT_LEN>;
	type MaxOpenTasksPerWorker = ConstU32<32>;
	type WeightInfo = pallet_tasks::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_tasks::benchmarking::WorkersHelper<Runtime>;
}
