//! A test runtime: System, Balances, Workers and Tasks, with controllable randomness.

use crate as pallet_tasks;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks},
};
use frame_system::EnsureRoot;
use replica_primitives::{ExecutionProfile, HashAlg, Tolerances};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Workers: pallet_workers,
		Tasks: pallet_tasks,
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
/// Holds workers' unclaimed earnings.
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
	type LongestTaskLifetime = pallet_tasks::LongestTaskLifetime<Test>;
	type MaxOpenTasks = ConstU32<8>;
	type MaxModelsPerWorker = ConstU32<4>;
	type MaxWorkersPerModel = ConstU32<32>;
	type MaxEndpointLen = ConstU32<64>;
	type WeightInfo = ();
}

pub use pallet_workers::testing::KNOWN_SINCE;

std::thread_local! {
	/// What the host reports as the block's recorded proof size; `None` (the default): not
	/// recorded, as in a test without a proof recorder.
	pub static RECORDED_PROOF: core::cell::RefCell<Option<u64>> = const { core::cell::RefCell::new(None) };
}

/// The mock host's recorded proof size ([`RECORDED_PROOF`]).
pub struct RecordedProofSize;
impl frame_support::traits::Get<Option<u64>> for RecordedProofSize {
	fn get() -> Option<u64> {
		RECORDED_PROOF.with(|r| *r.borrow())
	}
}

pub const MAX_VERIFIERS: u32 = 7;
pub const MAX_TASKS: u32 = 64;
parameter_types! {
	/// Room for this many worst-case deadlines per block (tests change it to starve the hook).
	pub static HookWeight: frame_support::weights::Weight =
		frame_support::weights::Weight::from_parts(10_000_000_000_000, 1_000_000_000);
}

impl pallet_tasks::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Workers = Workers;
	type Clock = System;
	type Randomness = pallet_workers::testing::TestRandomness<Test>;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type MaxVerifiers = ConstU32<MAX_VERIFIERS>;
	type MaxTasks = ConstU32<MAX_TASKS>;
	type HookWeight = HookWeight;
	type MaxCiphertextLen = ConstU32<4400>;
	type MaxOpenTasksPerWorker = ConstU32<8>;
	type MaxCreateBatch = ConstU32<8>;
	type RecordedProofSize = RecordedProofSize;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarking::WorkersHelper<Test>;
}

pub const DAPP: AccountId = 100;
pub const POOR_DAPP: AccountId = 101;
/// Workers 1..=8 on a GPU profile, 11..=13 on a second profile.
pub const WORKERS: [AccountId; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
pub const OTHER_PROFILE_WORKERS: [AccountId; 3] = [11, 12, 13];
/// Funded accounts for attackers: 20..=59.
pub const SYBILS: core::ops::RangeInclusive<AccountId> = 20..=59;
pub const STAKE: Balance = 1_000;
pub const COMMIT_WINDOW: u64 = 5;
pub const REVEAL_WINDOW: u64 = 5;
pub const TIMEOUT: u64 = 4;
pub const RETENTION: u64 = 10;
/// At least the longest task lifetime under the test parameters.
pub const UNBONDING: u64 = 1_000;
pub const IMAGE_MODEL: u32 = 0;
pub const TEXT_MODEL: u32 = 1;

pub fn profile(gpu: &str) -> ExecutionProfile {
	pallet_workers::testing::profile(gpu, 24_576)
}

pub fn image_model() -> crate::ModelInfo<Balance> {
	crate::ModelInfo {
		name: b"sd15".to_vec().try_into().unwrap(),
		kind: crate::ModelKind::Image,
		weights_digest: [1; 32],
		vram_mib: 8_192,
		tolerances: Tolerances::of(&[(HashAlg::Average, 2), (HashAlg::Perceptual, 2)]),
		max_steps: 50,
		max_side: 512,
		max_images: 2,
		max_tokens: 0,
		context_len: 0,
		min_fee: 10,
		retired: false,
	}
}

pub fn text_model() -> crate::ModelInfo<Balance> {
	crate::ModelInfo {
		name: b"gpt2".to_vec().try_into().unwrap(),
		kind: crate::ModelKind::Text,
		weights_digest: [2; 32],
		vram_mib: 4_096,
		tolerances: Tolerances::default(),
		max_steps: 0,
		max_side: 0,
		max_images: 0,
		max_tokens: 256,
		context_len: 1024,
		min_fee: 10,
		retired: false,
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<(AccountId, Balance)> =
		WORKERS.iter().chain(OTHER_PROFILE_WORKERS.iter()).map(|w| (*w, 10_000)).collect();
	balances.extend([(DAPP, 1_000_000), (POOR_DAPP, 20), (POT, 1), (EARNINGS_POT, 1)]);
	balances.extend(SYBILS.map(|w| (w, 10_000)));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut t)
		.unwrap();
	pallet_workers::GenesisConfig::<Test> {
		params: Some(pallet_workers::WorkerParams { min_stake: 100, unbonding_period: UNBONDING, max_missed: 3 }),
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut params = crate::Pallet::<Test>::default_params();
	params.commit_window = COMMIT_WINDOW;
	params.reveal_window = REVEAL_WINDOW;
	params.assignment_timeout = TIMEOUT;
	params.retention = RETENTION;
	pallet_tasks::GenesisConfig::<Test> { params: Some(params) }.assimilate_storage(&mut t).unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		Tasks::register_model(RuntimeOrigin::root(), image_model()).unwrap();
		Tasks::register_model(RuntimeOrigin::root(), text_model()).unwrap();
	});
	ext
}

/// Registers the given workers (serving both models) and sets them online.
pub fn online(workers: &[AccountId], gpu: &str) {
	for w in workers {
		Workers::register(
			RuntimeOrigin::signed(*w),
			profile(gpu),
			vec![IMAGE_MODEL, TEXT_MODEL],
			b"http://127.0.0.1:8080".to_vec(),
			STAKE,
		)
		.unwrap();
		Workers::go_online(RuntimeOrigin::signed(*w)).unwrap();
	}
}

/// Advances to block `n`, running `on_initialize` of each block.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Tasks::on_initialize(next);
	}
}

/// Runs a test and checks both pallets' invariants after it.
pub fn test(f: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		f();
		Tasks::do_try_state().expect("pallet-tasks invariants hold");
		Workers::do_try_state().expect("pallet-workers invariants hold");
	});
}
