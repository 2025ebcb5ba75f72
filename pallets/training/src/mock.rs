//! A test runtime: System, Balances, Workers and Training, with controllable randomness.

use crate as pallet_training;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks},
};
use frame_system::EnsureRoot;
use replica_primitives::ModelId;
use sp_runtime::{BuildStorage, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Workers: pallet_workers,
		Training: pallet_training,
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

pub const POT: AccountId = 999;
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
	type LongestTaskLifetime = ConstU64<100>;
	type MaxOpenTasks = ConstU32<8>;
	type MaxModelsPerWorker = ConstU32<4>;
	type MaxWorkersPerModel = ConstU32<64>;
	type MaxEndpointLen = ConstU32<64>;
	type WeightInfo = ();
}

pub use pallet_workers::testing::KNOWN_SINCE;

pub const IMAGE_MODEL: ModelId = 0;
pub const TEXT_MODEL: ModelId = 1;
pub const RETIRED_IMAGE_MODEL: ModelId = 2;

/// Model 0 is an open image model; 1 is a text model, 2 a retired image model.
pub struct MockModels;
impl crate::ImageModels for MockModels {
	fn is_open_image_model(model: ModelId) -> bool {
		model == IMAGE_MODEL
	}
}

pub const MAX_SEGMENTS: u32 = 16;
pub const MAX_CHECKS: u32 = 12;
pub const MAX_TRAININGS: u32 = 8;
parameter_types! {
	pub static HookWeight: frame_support::weights::Weight =
		frame_support::weights::Weight::from_parts(10_000_000_000_000, 1_000_000_000);
}

impl pallet_training::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Workers = Workers;
	type ImageModels = MockModels;
	type Clock = System;
	type Randomness = pallet_workers::testing::TestRandomness<Test>;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type MaxSegments = ConstU32<MAX_SEGMENTS>;
	type MaxChecks = ConstU32<MAX_CHECKS>;
	type MaxTrainings = ConstU32<MAX_TRAININGS>;
	type HookWeight = HookWeight;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BenchHelper;
}

/// The mock's image model, and workers made as the runtime makes them.
#[cfg(feature = "runtime-benchmarks")]
pub struct BenchHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper<AccountId> for BenchHelper {
	fn image_model() -> ModelId {
		IMAGE_MODEL
	}
	fn online_worker(who: &AccountId, model: ModelId) {
		use pallet_workers::benchmark_helper::{BenchmarkHelper, WorkersHelper};
		WorkersHelper::<Test>::online_worker(who, model)
	}
}

pub const DAPP: AccountId = 100;
pub const POOR_DAPP: AccountId = 101;
/// Workers 1..=12 serve the image model; 50 is registered for the text model only; 60 is
/// registered and offline; 70 is not a worker.
pub const WORKERS: core::ops::RangeInclusive<AccountId> = 1..=12;
pub const TEXT_ONLY: AccountId = 50;
pub const OFFLINE: AccountId = 60;
pub const NOT_A_WORKER: AccountId = 70;
pub const STAKE: Balance = 1_000;
pub const FUNDS: Balance = 10_000;
pub const FEE: Balance = 300;
pub const WINDOW: u64 = 4;
pub const DRAW_TIMEOUT: u64 = 5;
pub const RETENTION: u64 = 10;
pub const TOLERANCE: u32 = 3;

pub fn params() -> crate::ParamsOf<Test> {
	crate::TrainingParams {
		sampled_segments: 2,
		verifiers_per_segment: 3,
		lsh_tolerance: TOLERANCE,
		verifier_share: Perbill::from_percent(10),
		min_fee: 10,
		fault_slash: Perbill::from_percent(10),
		no_show_slash: Perbill::from_percent(1),
		max_window: 20,
		draw_timeout: DRAW_TIMEOUT,
		retention: RETENTION,
	}
}

fn register(who: AccountId, models: Vec<ModelId>, online: bool) {
	Workers::register(RuntimeOrigin::signed(who), pallet_workers::testing::profile("RTX 4090", 24_576), models, b"http://127.0.0.1:8080".to_vec(), STAKE).unwrap();
	if online {
		Workers::go_online(RuntimeOrigin::signed(who)).unwrap();
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<(AccountId, Balance)> = WORKERS.map(|a| (a, FUNDS)).collect();
	balances.extend([
		(TEXT_ONLY, FUNDS),
		(OFFLINE, FUNDS),
		(NOT_A_WORKER, FUNDS),
		(DAPP, 1_000_000),
		(POOR_DAPP, 20),
		(POT, 1),
		(EARNINGS_POT, 1),
	]);
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut t)
		.unwrap();
	pallet_workers::GenesisConfig::<Test> {
		params: Some(pallet_workers::WorkerParams { min_stake: 100, unbonding_period: 1_000, max_missed: 3 }),
	}
	.assimilate_storage(&mut t)
	.unwrap();
	pallet_training::GenesisConfig::<Test> { params: Some(params()) }.assimilate_storage(&mut t).unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		for a in WORKERS {
			register(a, vec![IMAGE_MODEL], true);
		}
		register(TEXT_ONLY, vec![TEXT_MODEL], true);
		register(OFFLINE, vec![IMAGE_MODEL], false);
	});
	ext
}

/// Advances to block `n`, running `on_initialize` of each block.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Training::on_initialize(next);
	}
}

/// Runs a test and checks both pallets' invariants after it.
pub fn test(f: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		f();
		Training::do_try_state().expect("pallet-training invariants hold");
		Workers::do_try_state().expect("pallet-workers invariants hold");
	});
}
