//! A test runtime: System, Balances, Workers and Swarm, with controllable randomness.

use crate as pallet_swarm;
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
		Swarm: pallet_swarm,
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

pub use pallet_workers::testing::{KNOWN_SINCE, SALT};

pub const IMAGE_MODEL: ModelId = 0;
pub const TEXT_MODEL: ModelId = 1;
pub const RETIRED_TEXT_MODEL: ModelId = 2;

/// Model 1 is an open text model; 0 is an image model, 2 a retired text model.
pub struct MockModels;
impl crate::TextModels for MockModels {
	fn is_open_text_model(model: ModelId) -> bool {
		model == TEXT_MODEL
	}
}

pub const MAX_AGENTS: u32 = 16;
pub const MAX_QUERIES: u32 = 8;
pub const RATING_WINDOW: u32 = 3;
parameter_types! {
	pub static HookWeight: frame_support::weights::Weight =
		frame_support::weights::Weight::from_parts(10_000_000_000_000, 1_000_000_000);
}

impl pallet_swarm::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Workers = Workers;
	type TextModels = MockModels;
	type Clock = System;
	type Randomness = pallet_workers::testing::TestRandomness<Test>;
	type OnForfeit = frame_support::traits::tokens::imbalance::ResolveTo<Pot, Balances>;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type MaxAgents = ConstU32<MAX_AGENTS>;
	type MaxQueries = ConstU32<MAX_QUERIES>;
	type RatingWindow = ConstU32<RATING_WINDOW>;
	type HookWeight = HookWeight;
	type MaxCiphertextLen = ConstU32<4400>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BenchHelper;
}

/// The mock's text model, and workers made as the runtime makes them.
#[cfg(feature = "runtime-benchmarks")]
pub struct BenchHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper<AccountId> for BenchHelper {
	fn text_model() -> ModelId {
		TEXT_MODEL
	}
	fn online_worker(who: &AccountId, model: ModelId) {
		use pallet_workers::benchmark_helper::{BenchmarkHelper, WorkersHelper};
		WorkersHelper::<Test>::online_worker(who, model)
	}
}

pub const DAPP: AccountId = 100;
pub const POOR_DAPP: AccountId = 101;
/// Agents 1..=12 serve the text model; 50 is registered for the image model only; 60 is
/// registered and offline; 70 is not a worker.
pub const AGENTS: core::ops::RangeInclusive<AccountId> = 1..=12;
pub const IMAGE_ONLY: AccountId = 50;
pub const OFFLINE: AccountId = 60;
pub const NOT_A_WORKER: AccountId = 70;
pub const STAKE: Balance = 1_000;
pub const FUNDS: Balance = 10_000;
pub const FEE: Balance = 200;
pub const TICKET: Balance = 10;
pub const WINDOW: u64 = 4;
pub const SEED_TIMEOUT: u64 = 5;
pub const RETENTION: u64 = 10;

pub fn params() -> crate::ParamsOf<Test> {
	crate::SwarmParams {
		ticket: TICKET,
		winner_share: Perbill::from_percent(50),
		min_fee: 10,
		min_answers: 3,
		max_window: 20,
		seed_timeout: SEED_TIMEOUT,
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
	let mut balances: Vec<(AccountId, Balance)> = AGENTS.map(|a| (a, FUNDS)).collect();
	balances.extend([
		(IMAGE_ONLY, FUNDS),
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
	pallet_swarm::GenesisConfig::<Test> { params: Some(params()) }.assimilate_storage(&mut t).unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		for a in AGENTS {
			register(a, vec![TEXT_MODEL], true);
		}
		register(IMAGE_ONLY, vec![IMAGE_MODEL], true);
		register(OFFLINE, vec![TEXT_MODEL], false);
	});
	ext
}

/// Advances to block `n`, running `on_initialize` of each block.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Swarm::on_initialize(next);
	}
}

/// Runs a test and checks both pallets' invariants after it.
pub fn test(f: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		f();
		Swarm::do_try_state().expect("pallet-swarm invariants hold");
		Workers::do_try_state().expect("pallet-workers invariants hold");
	});
}
