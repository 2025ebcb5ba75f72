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
