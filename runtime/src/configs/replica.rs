//! Replica's own pallets (indices 50 and above): Workers, Tasks, RelayRandomness, Swarm and
//! Training.
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
//! | `OnSlash` | the slash pot account (`rp/slash`) | slashing moves funds, never burns; governance spends it (`spend_slashed`) |
//! | `EarningsPot` | the earnings pot account (`rp/earns`) | verdicts pay fees into it and credit winners; workers claim (`claim_earnings`) |
//! | `Clock` | `RelayRandomness` (the relay parent number) | when index entries last changed, for fresh draws |
//! | `LongestTaskLifetime` | pallet-tasks' bound | the unbonding period may not be shorter |
//!
//! ## pallet-tasks parameters (genesis; governance may change them)
//! Commit window 50 blocks, reveal window 20, assignment timeout 100, retention 14,400 (a day
//! at 6 s), 3 verifiers and a simple majority by default, escalation by 2, 2 verifiers for a
//! sampled check (at least 5% probability); slashes: outlier 10%, withheld reveal 10%, bad
//! reveal 10%, each at least 1 × the task's fee; no-show (never committed) 1%.
//! `MaxVerifiers` 16, `MaxTasks` 4,096 (the agenda holds one entry per task),
//! `MaxOpenTasksPerWorker` 32 (batch items; pallet-workers' `MaxOpenTasks` is 32 too),
//! `MaxCreateBatch` 64 (tasks per `create_tasks`); the deadline
//! hook spends at most 31% of a block and carries the rest over.
//!
//! ## pallet-swarm parameters (genesis; governance may change them)
//! A ticket of 1 RPL: for a 20 RPL fee, `replica-worker swarm-sim` finds a block of Sybil
//! identities at 45% of the swarm unprofitable from 20 agents on (break-even 0.7 RPL; 0.2 RPL
//! from 50 agents, which this runtime's `MaxAgents` does not reach); half of the lost tickets go
//! to the winner and the rest to the slash pot, a fee of at least 1 RPL, at least 3 revealed answers, windows of at most 100 blocks,
//! 50 blocks to wait for fresh randomness, retention of a day. `MaxAgents` 24 (each ranks
//! 7 others), `MaxQueries` 1,024, a rating window of the last 16 rated rounds; the swarm's
//! deadline hook spends at most 1% of a block (one settlement of 24 agents fits: its proof,
//! about 3 KiB per agent, is what bounds the swarm) and carries the rest over.
//!
//! ## pallet-training parameters (genesis; governance may change them)
//! One segment of a task checked, by three verifiers drawn at once; a tolerance of 8 of 64
//! LSH bits (`replica-worker train-sim`: a device with 1e-3 relative gradient error stays at
//! 3-4 bits when synced every segment); a tenth of the fee to the verifiers; a fee of at least 1 RPL; faults (a failed
//! segment, withheld hashes, a verifier on the losing side) slashed 10% of stake and at least
//! the fee, no-shows 1%; windows of at most 600 blocks (an hour at 6 s: training runs long);
//! 50 blocks to wait for a draw; retention of a day. `MaxSegments` 64, `MaxChecks` 15 (five
//! segments of three verifiers), `MaxTrainings` 1,024; the training deadline hook spends at
//! most 1% of a block, taken from the 4% the other hooks and inherents had, and carries the
//! rest over.

use frame_support::{parameter_types, traits::ConstU32, PalletId};
use sp_runtime::traits::AccountIdConversion;

use super::governance::GovernanceOrigin;
use crate::{AccountId, Balance, Balances, BlockNumber, Runtime, RuntimeHoldReason, DAYS, UNIT};

parameter_types! {
	pub const SlashPotId: PalletId = PalletId(*b"rp/slash");
	/// The account that receives slashed stake.
	pub SlashPot: AccountId = SlashPotId::get().into_account_truncating();
	pub const EarningsPotId: PalletId = PalletId(*b"rp/earns");
	/// The account that holds workers' unclaimed earnings (endowed with the existential
	/// deposit at genesis).
	pub EarningsPot: AccountId = EarningsPotId::get().into_account_truncating();
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
	type SlashPot = SlashPot;
	type EarningsPot = EarningsPot;
	type Clock = crate::RelayRandomness;
	type LongestTaskLifetime = pallet_tasks::LongestTaskLifetime<Runtime>;
	type MaxOpenTasks = ConstU32<32>;
	type MaxModelsPerWorker = ConstU32<16>;
	type MaxWorkersPerModel = ConstU32<256>;
	type MaxEndpointLen = ConstU32<256>;
	type WeightInfo = pallet_workers::weights::SubstrateWeight<Runtime>;
}

/// Randomness for drawing workers: the relay chain's BABE VRF output of each new relay parent,
/// read from the verified relay state proof (`ParachainSystem`'s `OnSystemEvent`). On the
/// `--dev` chain, whose relay data is mocked without BABE randomness, the `development` preset
/// turns on the pallet's documented insecure parent-hash fallback; other presets do not.
impl pallet_relay_randomness::Config for Runtime {
	type RelayBlockNumber = cumulus_pallet_parachain_system::RelaychainDataProvider<Runtime>;
	/// Async backing lets a collator build on a relay parent a few blocks behind the tip.
	type RelayLookahead = ConstU32<3>;
	type WeightInfo = pallet_relay_randomness::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// 31% of a block for the deadline hook (with the 63% of normal extrinsics, 5% for the
	/// other hooks and inherents and the base block weight, a block stays within its limits);
	/// due work beyond it carries over. Each task's draw and pruning run here, about a third
	/// of what a verified task costs when its calls are batched (docs/performance.md), so the
	/// hook and the calls run out of room at about the same number of tasks per block.
	pub DeadlineHookWeight: frame_support::weights::Weight =
		sp_runtime::Perbill::from_percent(31) * crate::configs::RuntimeBlockWeights::get().max_block;
}

/// The ciphertext bound: the largest sealed result is ~4.2 KiB.
pub const MAX_CIPHERTEXT_LEN: u32 = 4_400;

/// The block's storage proof recorded so far, from the collator's proof recorder (the host
/// function `StorageWeightReclaim` uses for extrinsics).
pub struct RecordedProofSize;
impl frame_support::traits::Get<Option<u64>> for RecordedProofSize {
	fn get() -> Option<u64> {
		cumulus_primitives_storage_weight_reclaim::get_proof_size()
	}
}

impl pallet_tasks::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Workers = crate::Workers;
	type Clock = crate::RelayRandomness;
	type Randomness = crate::RelayRandomness;
	type GovernanceOrigin = GovernanceOrigin;
	type MaxVerifiers = ConstU32<{ replica_primitives::MAX_VERIFIERS }>;
	type MaxTasks = ConstU32<4_096>;
	type HookWeight = DeadlineHookWeight;
	type MaxCiphertextLen = ConstU32<MAX_CIPHERTEXT_LEN>;
	type MaxOpenTasksPerWorker = ConstU32<32>;
	type MaxCreateBatch = ConstU32<64>;
	type RecordedProofSize = RecordedProofSize;
	type WeightInfo = pallet_tasks::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_tasks::benchmarking::WorkersHelper<Runtime>;
}

parameter_types! {
	/// 1% of a block for the swarm's deadline hook, and 1% for the training hook: with the
	/// tasks hook's 31%, the normal class's 63% and the base block, 3% stay for the other
	/// hooks and the inherents.
	pub SwarmHookWeight: frame_support::weights::Weight =
		sp_runtime::Perbill::from_percent(1) * crate::configs::RuntimeBlockWeights::get().max_block;
	pub TrainingHookWeight: frame_support::weights::Weight =
		sp_runtime::Perbill::from_percent(1) * crate::configs::RuntimeBlockWeights::get().max_block;
}

/// The models a swarm query may name: pallet-tasks' registered text models, unretired.
pub struct TextModels;
impl pallet_swarm::TextModels for TextModels {
	fn is_open_text_model(model: replica_primitives::ModelId) -> bool {
		pallet_tasks::Models::<Runtime>::get(model)
			.is_some_and(|m| m.kind == pallet_tasks::ModelKind::Text && !m.retired)
	}
}

impl pallet_swarm::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Workers = crate::Workers;
	type TextModels = TextModels;
	type Clock = crate::RelayRandomness;
	type Randomness = crate::RelayRandomness;
	type OnForfeit = frame_support::traits::tokens::imbalance::ResolveTo<SlashPot, Balances>;
	type GovernanceOrigin = GovernanceOrigin;
	type MaxAgents = ConstU32<24>;
	type MaxQueries = ConstU32<1_024>;
	type RatingWindow = ConstU32<16>;
	type HookWeight = SwarmHookWeight;
	type MaxCiphertextLen = ConstU32<MAX_CIPHERTEXT_LEN>;
	type WeightInfo = pallet_swarm::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = SwarmBenchmarkHelper;
}

/// Registers a model of `kind` in pallet-tasks for the swarm's and training's benchmarks;
/// returns its id.
#[cfg(feature = "runtime-benchmarks")]
fn bench_model(kind: pallet_tasks::ModelKind) -> replica_primitives::ModelId {
	use replica_primitives::{HashAlg, Tolerances};
	let model = pallet_tasks::NextModelId::<Runtime>::get();
	let image = kind == pallet_tasks::ModelKind::Image;
	let info = pallet_tasks::ModelInfo {
		name: if image { b"bench-image".to_vec() } else { b"bench-text".to_vec() }.try_into().expect("fits"),
		kind,
		weights_digest: [7; 32],
		vram_mib: 1,
		tolerances: if image { Tolerances::of(&HashAlg::ALL.map(|a| (a, 2))) } else { Default::default() },
		max_steps: if image { 50 } else { 0 },
		max_side: if image { 512 } else { 0 },
		max_images: if image { 1 } else { 0 },
		max_tokens: if image { 0 } else { 256 },
		context_len: if image { 77 } else { 1024 },
		min_fee: 1,
		retired: false,
	};
	pallet_tasks::Pallet::<Runtime>::register_model(frame_system::RawOrigin::Root.into(), info).expect("registers");
	model
}

/// Registers a text model in pallet-tasks and makes pallet-workers' online workers for
/// pallet-swarm's benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct SwarmBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_swarm::benchmarking::BenchmarkHelper<AccountId> for SwarmBenchmarkHelper {
	fn text_model() -> replica_primitives::ModelId {
		bench_model(pallet_tasks::ModelKind::Text)
	}

	fn online_worker(who: &AccountId, model: replica_primitives::ModelId) {
		use pallet_workers::benchmark_helper::{BenchmarkHelper, WorkersHelper};
		WorkersHelper::<Runtime>::online_worker(who, model)
	}
}

/// The models a training task may name: pallet-tasks' registered image models, unretired.
pub struct ImageModels;
impl pallet_training::ImageModels for ImageModels {
	fn is_open_image_model(model: replica_primitives::ModelId) -> bool {
		pallet_tasks::Models::<Runtime>::get(model)
			.is_some_and(|m| m.kind == pallet_tasks::ModelKind::Image && !m.retired)
	}
}

impl pallet_training::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Workers = crate::Workers;
	type ImageModels = ImageModels;
	type Clock = crate::RelayRandomness;
	type Randomness = crate::RelayRandomness;
	type GovernanceOrigin = GovernanceOrigin;
	type MaxSegments = ConstU32<64>;
	type MaxChecks = ConstU32<15>;
	type MaxTrainings = ConstU32<1_024>;
	type HookWeight = TrainingHookWeight;
	type WeightInfo = pallet_training::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TrainingBenchmarkHelper;
}

/// Registers an image model in pallet-tasks and makes pallet-workers' online workers for
/// pallet-training's benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct TrainingBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_training::benchmarking::BenchmarkHelper<AccountId> for TrainingBenchmarkHelper {
	fn image_model() -> replica_primitives::ModelId {
		bench_model(pallet_tasks::ModelKind::Image)
	}

	fn online_worker(who: &AccountId, model: replica_primitives::ModelId) {
		use pallet_workers::benchmark_helper::{BenchmarkHelper, WorkersHelper};
		WorkersHelper::<Runtime>::online_worker(who, model)
	}
}
