//! A test runtime: System, Balances and Workers.

use crate as pallet_workers;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Workers: pallet_workers,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type ExistentialDeposit = ConstU64<1>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// Receives slashed stake.
pub const POT: AccountId = 999;
/// Holds unclaimed earnings.
pub const EARNINGS_POT: AccountId = 998;
parameter_types! {
	pub const Pot: AccountId = POT;
	pub const EarningsPot: AccountId = EARNINGS_POT;
}

impl pallet_workers::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type OnSlash = frame_support::traits::tokens::imbalance::ResolveTo<Pot, Balances>;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type SlashPot = Pot;
	type EarningsPot = EarningsPot;
	type Clock = System;
	type LongestTaskLifetime = ConstU64<LONGEST_TASK>;
	type MaxOpenTasks = ConstU32<4>;
	type MaxModelsPerWorker = ConstU32<4>;
	type MaxWorkersPerModel = ConstU32<3>;
	type MaxEndpointLen = ConstU32<64>;
	type WeightInfo = ();
}

pub const MIN_STAKE: Balance = 100;
pub const UNBONDING: u64 = 10;
/// The longest task the unbonding period must cover.
pub const LONGEST_TASK: u64 = 8;
pub const MAX_MISSED: u32 = 2;
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
pub const POOR: AccountId = 5;

pub use crate::testing::profile;

pub fn endpoint() -> Vec<u8> {
	b"http://127.0.0.1:8080".to_vec()
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, 10_000), (BOB, 10_000), (CHARLIE, 10_000), (DAVE, 10_000), (POOR, 50), (POT, 1), (EARNINGS_POT, 1)],
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	pallet_workers::GenesisConfig::<Test> {
		params: Some(crate::WorkerParams {
			min_stake: MIN_STAKE,
			unbonding_period: UNBONDING,
			max_missed: MAX_MISSED,
		}),
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs a test and checks the pallet's invariants after it.
pub fn test(f: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		f();
		Workers::do_try_state().expect("try_state invariants hold");
	});
}
