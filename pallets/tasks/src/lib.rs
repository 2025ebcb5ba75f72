//! # pallet-tasks
//!
//! The heart of Replica: dapps buy image and text generation, and the chain decides — without
//! trusting anyone — whether what workers produced is right, pays the honest ones and slashes
//! the rest.
//!
//! ## Lifecycle
//! ```text
//! create_task ─► Pending ─(a later block: fresh randomness)─► Committing{round}
//!                  │                                              │ commit_result (all, or deadline)
//!                  │              (sampled mode) ─► Sampling ─(fresh randomness)─┐
//!                  │                                              ▼                 │
//!                  │                                         Revealing{round} ◄─────┘
//!                  │                                              │ reveal_result (all, or deadline)
//!                  ▼                                              ▼
//!  Cancelled (creator, before assignment)   Finalized | escalation: Committing{round+1} | Failed
//! ```
//! - **Models** are registered and retired by `GovernanceOrigin`; each carries its own hash
//!   algorithms and tolerances, VRAM need, limits and minimum fee.
//! - **Draws** (a round's workers, a sampled task's check roll and checkers, an escalation)
//!   happen only in `on_initialize`, never inside an extrinsic, and only with randomness that
//!   was unknown when the task last changed (`draw_after`, in `Config::Clock` time: the relay
//!   parent number on a parachain). Only candidates whose index entry is older than that
//!   randomness count, and they are drawn by stake with `replica_primitives::sample_weighted`,
//!   which no candidate can reorder. Text tasks draw one execution-profile group: the group of
//!   the first stake-weighted pick among groups big enough, so a group's chance is its share
//!   of stake and inventing groups buys nothing.
//! - **Commit** (`commit_result`): an assigned worker posts its sealed result (ciphertext and
//!   commitment, see `replica_primitives::commitment`) before the commit deadline.
//! - **Reveal** (`reveal_result`): a worker of the round being tallied posts its key; the
//!   chain opens the commitment. A bad reveal is a fault.
//! - **Verdict** (`replica_primitives::tally`): Agreed → Finalized, the fee split among the
//!   winners (equal shares; the remainder goes to the first winner in assignment order): it
//!   moves into pallet-workers' earnings pot in one transfer and each share is credited to its
//!   winner's record, which the worker claims (`claim_earnings`);
//!   outliers, withholders and bad reveals slashed (at least `fee_slash_multiple` × the fee,
//!   and no less for withholding than for a wrong result), assigned workers that never
//!   committed slashed `no_show_slash`. No quorum → the round is settled (revealers unpaid)
//!   and an **escalation round** is drawn in a later block with fresh randomness: larger by
//!   `escalation_step`, tallied on its own, and for images run with a fresh seed, so the
//!   previous round's published results are worth nothing to it (a copy of one is an image
//!   of another seed and loses as an outlier). With no room left under `MaxVerifiers`, the
//!   task fails with a full refund. For text (greedy and beam decoding have no seed) the
//!   escalation round draws a new profile group by stake; a copier still has to pick which
//!   published text is right, and a wrong pick is slashed.
//! - **Sampled mode**: one executor from a profile group that has room for its checkers; after
//!   it committed, a later block rolls whether `sampled_verifiers` checkers join (tallied with
//!   the executor). A checked task is never accepted unchecked: it waits for checkers until
//!   `assignment_timeout`, then fails with a refund (`NoCheckers`).
//! - **Deadlines** are block numbers. Each task has exactly one entry in the agenda
//!   ([`Deadlines`]); `on_initialize` works through due entries, oldest block first, as far as
//!   `Config::HookWeight` allows, and carries the rest to the next block ([`IncompleteSince`]) —
//!   nothing is ever dropped. `create_task` refuses a task beyond `Config::MaxTasks`, so the
//!   agenda's size is bounded. Anyone may `advance_task` an overdue commit, reveal, timeout or
//!   prune (never a draw). Finished tasks are pruned after `retention` blocks; their outcome
//!   stays in events.
//! - **Cancel**: the creator may cancel only while no randomness that could draw the task can
//!   be known (the clock has not moved since creation), so a cancel is never a re-roll.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

mod assignment;
#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
mod commit_reveal;
mod creation;
mod deadlines;
mod invariants;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod runtime_api;
mod settlement;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

use frame_support::traits::fungible;

/// The balance type of the fee currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A task as stored.
pub type TaskOf<T> = TaskInfo<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	<T as Config>::MaxVerifiers,
>;
/// An assignment as stored.
pub type AssignmentOf<T> = Assignment<<T as Config>::MaxCiphertextLen>;
/// One item of `commit_results`.
pub type SealedResultOf<T> = SealedResult<<T as Config>::MaxCiphertextLen>;
/// The parameters as stored.
pub type ParamsOf<T> = TaskParamsConfig<frame_system::pallet_prelude::BlockNumberFor<T>>;

/// The longest a task can keep its workers' stake at risk under the parameters in force, for
/// `pallet-workers`' `LongestTaskLifetime` (its unbonding period may not be shorter).
pub struct LongestTaskLifetime<T>(core::marker::PhantomData<T>);
impl<T: Config> frame_support::traits::Get<frame_system::pallet_prelude::BlockNumberFor<T>>
	for LongestTaskLifetime<T>
{
	fn get() -> frame_system::pallet_prelude::BlockNumberFor<T> {
		Pallet::<T>::longest_task_lifetime(&Pallet::<T>::params())
	}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			Randomness,
		},
	};
	use frame_support::{
		dispatch::{Pays, PostDispatchInfo},
		weights::WeightMeter,
	};
	use frame_system::pallet_prelude::*;
	use pallet_workers::WorkerRegistry;
	use replica_primitives::{ModelId, ResultPayload, TaskId, Tolerances};
	use sp_runtime::traits::BlockNumberProvider;

	/// v1: one agenda entry per task in a double map, fresh-draw bookkeeping in `TaskInfo`.
	/// v2: no global fee ledger (each task records the fee still held for it; see
	/// [`migrations::v2`]).
	pub(crate) const STORAGE_VERSION: StorageVersion = StorageVersion::new(4);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency fees are held and paid in.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The worker registry: eligibility, stake weights, profiles, slashing, reputation.
		type Workers: WorkerRegistry<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The clock in which randomness freshness is measured: the relay parent number on a
		/// parachain (the same clock as pallet-workers' index entries).
		type Clock: BlockNumberProvider<BlockNumber = BlockNumberFor<Self>>;

		/// Randomness for draws, with the earliest `Clock` time at which its output may be
		/// known to anyone: a draw waits until that is after the task's `draw_after`. The
		/// runtime uses the relay chain's BABE randomness (`pallet-relay-randomness`); dev
		/// chains may use an insecure one.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// Registers and retires models, and sets [`Params`].
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The most workers one task may have across all its rounds (≤ 16).
		#[pallet::constant]
		type MaxVerifiers: Get<u32>;

		/// The most tasks in storage at once (open, or finished and awaiting pruning): bounds
		/// the agenda, which holds one entry per task. `create_task` refuses more.
		#[pallet::constant]
		type MaxTasks: Get<u32>;

		/// The most weight `on_initialize` spends on deadlines; due work beyond it carries
		/// over to the next block.
		#[pallet::constant]
		type HookWeight: Get<Weight>;

		/// The longest ciphertext a commitment may carry (≥ the largest sealed payload).
		#[pallet::constant]
		type MaxCiphertextLen: Get<u32>;

		/// The most items of one `commit_results` or `reveal_results` batch: a worker's open
		/// tasks at most, so set it to pallet-workers' `MaxOpenTasks`.
		#[pallet::constant]
		type MaxOpenTasksPerWorker: Get<u32>;

		/// The most tasks one `create_tasks` batch may create.
		#[pallet::constant]
		type MaxCreateBatch: Get<u32>;

		/// The storage proof recorded so far in this block, where the host records one (a
		/// parachain block builder: cumulus' `get_proof_size`); `None` elsewhere. Where it is
		/// known, the deadline hook charges each agenda entry the proof it actually added
		/// instead of the benchmark's estimate (hooks get no transaction-extension reclaim).
		type RecordedProofSize: Get<Option<u64>>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;

		/// Makes online workers for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::benchmarking::BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The fee of an open task, held from its creator.
		TaskFee,
	}

	/// Registered models.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Twox64Concat, ModelId, ModelInfo<BalanceOf<T>>>;

	/// The id the next registered model gets.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery>;

	/// Tasks, until pruned.
	#[pallet::storage]
	pub type Tasks<T: Config> = StorageMap<_, Twox64Concat, TaskId, TaskOf<T>>;

	/// The id the next task gets.
	#[pallet::storage]
	pub type NextTaskId<T> = StorageValue<_, TaskId, ValueQuery>;

	/// The commitment and reveal of each worker of a task's unsettled rounds, per task. A worker
	/// drawn into the current round has no record until it commits (a draw writes only the
	/// task and the workers' open-task lists, kept in pallet-workers' records). Settling a round deletes its workers' records
	/// and keeps their outcomes in `TaskInfo::settled`, so pruning a task touches nothing else.
	#[pallet::storage]
	pub type Assignments<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TaskId, Blake2_128Concat, T::AccountId, AssignmentOf<T>>;

	/// The agenda: the one next deadline of every task in storage, by block. Its size is
	/// bounded by `MaxTasks`.
	#[pallet::storage]
	pub type Deadlines<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, TaskId, Deadline>;

	/// The oldest block whose agenda may still hold due entries (work carried over).
	#[pallet::storage]
	pub type IncompleteSince<T: Config> = StorageValue<_, BlockNumberFor<T>, OptionQuery>;

	/// How many tasks are in storage (at most `MaxTasks`).
	#[pallet::storage]
	pub type TaskCount<T> = StorageValue<_, u32, ValueQuery>;

	/// Governance-set parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, ParamsOf<T>, OptionQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Initial parameters; `None` keeps [`Pallet::default_params`].
		pub params: Option<ParamsOf<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let params = self.params.unwrap_or_else(Pallet::<T>::default_params);
			assert!(Pallet::<T>::params_are_valid(&params), "invalid pallet-tasks genesis params");
			Params::<T>::put(params);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Governance registered a model.
		ModelRegistered { model: ModelId, kind: ModelKind },
		/// Governance retired a model: it takes no new tasks.
		ModelRetired { model: ModelId },
		/// Governance changed an image model's hashes and tolerances; tasks created from now on
		/// are decided under them, open ones keep those they were created with.
		ModelTolerancesChanged { model: ModelId, tolerances: Tolerances },
		/// A task was created and its fee held.
		TaskCreated { task: TaskId, creator: T::AccountId, model: ModelId, fee: BalanceOf<T> },
		/// Workers were drawn for `round` of a task.
		TaskAssigned { task: TaskId, round: u32, workers: Vec<T::AccountId>, commit_deadline: BlockNumberFor<T> },
		/// An assigned worker committed to its result.
		ResultCommitted { task: TaskId, worker: T::AccountId },
		/// Sampled mode: the draw decided whether verifiers check the executor.
		SamplingDecided { task: TaskId, verified: bool },
		/// Committed workers may now reveal, until `deadline`.
		RevealPhaseStarted { task: TaskId, round: u32, deadline: BlockNumberFor<T> },
		/// A worker revealed a result that opened its commitment.
		ResultRevealed { task: TaskId, worker: T::AccountId },
		/// A worker's reveal did not open its commitment (or was not a result of this task).
		BadReveal { task: TaskId, worker: T::AccountId },
		/// The task was decided: `result` is the agreed reference; `winners` are each credited
		/// `share` (the first also the remainder) in their worker records.
		TaskFinalized { task: TaskId, result: ResultPayload, winners: Vec<T::AccountId>, share: BalanceOf<T> },
		/// No quorum: round `round` will be drawn afresh with `verifiers` workers, tallied on its
		/// own.
		TaskEscalated { task: TaskId, round: u32, verifiers: u32 },
		/// The task failed and its fee was refunded.
		TaskFailed { task: TaskId, reason: FailReason },
		/// The creator cancelled the task before assignment; its fee was refunded.
		TaskCancelled { task: TaskId },
		/// A finished task was removed from storage.
		TaskPruned { task: TaskId },
		/// Governance changed the parameters.
		ParamsChanged { params: ParamsOf<T> },
		/// Item `index` of a `commit_results` or `reveal_results` batch failed with `error` and
		/// changed nothing; the other items stand.
		BatchItemFailed { index: u32, error: DispatchError },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model with this id.
		UnknownModel,
		/// The model is retired.
		ModelRetired,
		/// A model with an empty name, zero VRAM, zero limits, no hash algorithm (image) or more
		/// images than a result can carry.
		InvalidModel,
		/// Tolerances that compare no hash, an unknown one, or one at a distance above 64 (a
		/// 64-bit hash: that would accept anything).
		InvalidTolerances,
		/// The task's parameters are for another kind of model.
		ModelKindMismatch,
		/// The fee is below the model's minimum.
		FeeTooLow,
		/// The creator cannot hold the fee.
		InsufficientBalance,
		/// The prompt is empty.
		EmptyPrompt,
		/// Zero steps, or more than the model allows.
		InvalidSteps,
		/// Width or height zero, not a multiple of 8, or above the model's limit.
		InvalidSize,
		/// Zero images, or more than the model allows.
		InvalidImageCount,
		/// Zero tokens, or more than the model allows.
		InvalidMaxTokens,
		/// Sampling is not reproducible across machines and cannot be verified.
		SamplingNotVerifiable,
		/// Beam width outside 1..=10.
		InvalidBeamWidth,
		/// Verifiers outside 1..=MaxVerifiers.
		InvalidVerifiers,
		/// Sampled-mode probability below the minimum.
		ProbabilityTooLow,
		/// No task with this id.
		UnknownTask,
		/// Only the task's creator may do this.
		NotCreator,
		/// The task is no longer pending.
		NotPending,
		/// The caller is not assigned to this task's current round.
		NotAssigned,
		/// The task is not in its commit phase.
		NotCommitPhase,
		/// The caller already committed.
		AlreadyCommitted,
		/// Another worker of this task committed the same commitment.
		DuplicateCommitment,
		/// The ciphertext is longer than any sealed result.
		CiphertextTooLarge,
		/// The task is not in its reveal phase.
		NotRevealPhase,
		/// The caller has no commitment to reveal.
		NotCommitted,
		/// The caller already revealed.
		AlreadyRevealed,
		/// Parameters out of range: default verifiers and escalation step must be 1 to
		/// MaxVerifiers and sampled verifiers fewer; the windows, assignment timeout, retention
		/// and least sampling probability non-zero; the withhold and bad-reveal slashes at
		/// least the outlier slash; and a task's longest lifetime within the workers'
		/// unbonding period.
		InvalidParams,
		/// `MaxTasks` tasks are in storage; try again once some are pruned.
		TooManyTasks,
		/// Randomness that could draw the task may already be known: cancelling now would be
		/// a free re-roll.
		DrawUnderway,
		/// The task has no deadline that is overdue (or its due work is a draw, which only
		/// `on_initialize` does).
		NotOverdue,
		/// A batch with no items.
		EmptyBatch,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Works through due deadlines (draws, commit and reveal windows, sampling rolls,
		/// pruning), oldest first, within `HookWeight`; the rest waits for the next block.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut meter = WeightMeter::with_limit(T::HookWeight::get());
			Self::service_agenda(now, &mut meter);
			meter.consumed()
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			let max = T::MaxVerifiers::get();
			assert!(max >= 1 && max <= replica_primitives::MAX_VERIFIERS, "MaxVerifiers in 1..=16");
			assert!(
				T::MaxCiphertextLen::get() as usize >= replica_primitives::commitment::max_ciphertext_len(),
				"MaxCiphertextLen must fit the largest sealed result"
			);
			assert!(T::MaxTasks::get() > 0, "MaxTasks must be positive");
			assert!(
				T::HookWeight::get().all_gte(Pallet::<T>::worst_deadline_weight()),
				"HookWeight must fit at least one deadline"
			);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a model. `GovernanceOrigin` only.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model())]
		pub fn register_model(origin: OriginFor<T>, info: ModelInfo<BalanceOf<T>>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(Self::model_is_valid(&info), Error::<T>::InvalidModel);
			let model = NextModelId::<T>::get();
			NextModelId::<T>::put(model.saturating_add(1));
			let kind = info.kind;
			Models::<T>::insert(model, ModelInfo { retired: false, ..info });
			Self::deposit_event(Event::ModelRegistered { model, kind });
			Ok(())
		}

		/// Retires a model: open tasks finish, new ones are refused. `GovernanceOrigin` only.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::retire_model())]
		pub fn retire_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Models::<T>::try_mutate(model, |info| {
				let info = info.as_mut().ok_or(Error::<T>::UnknownModel)?;
				ensure!(!info.retired, Error::<T>::ModelRetired);
				info.retired = true;
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::ModelRetired { model });
			Ok(())
		}

		/// Changes which hashes an image model's tasks compare and their tolerances, in place
		/// (the model keeps its id, and the workers that serve it keep serving it).
		/// `GovernanceOrigin` only. Tasks created afterwards are decided under the new
		/// tolerances; open tasks keep the ones they were created with. Fails with
		/// `UnknownModel`, `ModelRetired`, `ModelKindMismatch` (a text model) or
		/// `InvalidTolerances`, changing nothing.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::set_model_tolerances())]
		pub fn set_model_tolerances(origin: OriginFor<T>, model: ModelId, tolerances: Tolerances) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(Self::tolerances_are_valid(&tolerances), Error::<T>::InvalidTolerances);
			Models::<T>::try_mutate(model, |info| {
				let info = info.as_mut().ok_or(Error::<T>::UnknownModel)?;
				ensure!(!info.retired, Error::<T>::ModelRetired);
				ensure!(info.kind == ModelKind::Image, Error::<T>::ModelKindMismatch);
				info.tolerances = tolerances;
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::ModelTolerancesChanged { model, tolerances });
			Ok(())
		}

		/// Creates a task and holds its fee. Any signed account. Workers are drawn in a later
		/// block, with randomness unknown now. Fails with `TooManyTasks` when `MaxTasks` tasks
		/// are in storage.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::create_task())]
		pub fn create_task(origin: OriginFor<T>, spec: TaskSpec<BalanceOf<T>>) -> DispatchResult {
			let creator = ensure_signed(origin)?;
			Self::do_create_task(creator, spec).map(|_| ())
		}

		/// Creates several tasks, each as `create_task` would, in one extrinsic (one signature,
		/// nonce and fee) for a dapp's batch of requests. Any signed account. Items are
		/// independent: one that fails (with `create_task`'s errors) changes nothing and is
		/// reported by `BatchItemFailed`; the others stand. At most `MaxCreateBatch` items, at
		/// least one (`EmptyBatch`). Charged for the number of items.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::create_tasks(specs.len() as u32))]
		pub fn create_tasks(
			origin: OriginFor<T>,
			specs: BoundedVec<TaskSpec<BalanceOf<T>>, T::MaxCreateBatch>,
		) -> DispatchResult {
			let creator = ensure_signed(origin)?;
			ensure!(!specs.is_empty(), Error::<T>::EmptyBatch);
			// Declared per item: a failed item weighs no more than a created one.
			Self::for_each_item(specs.into_inner(), |spec| {
				Self::do_create_task(creator.clone(), spec).map(|_| Weight::zero()).map_err(|e| (e, Weight::zero()))
			});
			Ok(())
		}

		/// Cancels a task and refunds its fee. Its creator only, and only while no randomness
		/// that could draw it can be known yet (`Config::Clock` has not moved since its
		/// creation): later, cancelling would let a creator who dislikes the draw re-roll it
		/// (`DrawUnderway`).
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::cancel_task())]
		pub fn cancel_task(origin: OriginFor<T>, task: TaskId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
			ensure!(info.creator == who, Error::<T>::NotCreator);
			ensure!(matches!(info.status, TaskStatus::Pending { .. }) && info.round == 0, Error::<T>::NotPending);
			ensure!(T::Clock::current_block_number() <= info.draw_after, Error::<T>::DrawUnderway);
			Self::refund(&mut info);
			info.status = TaskStatus::Cancelled;
			Self::finish(task, &mut info);
			Tasks::<T>::insert(task, info);
			Self::deposit_event(Event::TaskCancelled { task });
			Ok(())
		}

		/// Commits to a sealed result. A worker assigned to the task's current round only, once,
		/// during the commit phase. The commit that completes the round ends the commit phase.
		/// Charged for the task's workers (their commitments are checked for a copy), as a
		/// plain commit or as the one that ends the phase (declared for that, at the most
		/// workers).
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::commit_result_ends_phase(T::MaxVerifiers::get()))]
		pub fn commit_result(
			origin: OriginFor<T>,
			task: TaskId,
			ciphertext: Vec<u8>,
			commitment: replica_primitives::Digest,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			let used = Self::do_commit(worker, task, ciphertext, commitment)?;
			Ok(PostDispatchInfo { actual_weight: Some(used), pays_fee: Pays::Yes })
		}

		/// Reveals the key of a commitment. A committed worker of the round being tallied only,
		/// once, during the reveal phase. A reveal that does not open the commitment is
		/// recorded as a fault (and slashed when the task is decided). The reveal that
		/// completes the set decides the task; an escalation it causes is drawn in a later
		/// block, with randomness the revealer cannot know. Charged as a plain reveal, or, for
		/// the deciding one, as the verdict over the task's workers (declared for the most).
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::reveal_result_decides(T::MaxVerifiers::get()))]
		pub fn reveal_result(origin: OriginFor<T>, task: TaskId, key: [u8; 32]) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			Self::do_reveal(worker, task, key)
		}

		/// Sets the parameters. `GovernanceOrigin` only.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: ParamsOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(Self::params_are_valid(&params), Error::<T>::InvalidParams);
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsChanged { params });
			Ok(())
		}

		/// Commits to sealed results of several tasks, each as `commit_result` would: one
		/// extrinsic (one signature, nonce and fee) for a worker's due commitments. Items are
		/// independent: one that fails changes nothing and is reported by `BatchItemFailed`.
		/// Charged per item as `commit_result` charges it (declared for the most). At most
		/// `MaxOpenTasksPerWorker` items, at least one.
		#[pallet::call_index(8)]
		#[pallet::weight(
			T::WeightInfo::commit_result_ends_phase(T::MaxVerifiers::get()).saturating_mul(results.len() as u64)
		)]
		pub fn commit_results(
			origin: OriginFor<T>,
			results: BoundedVec<SealedResultOf<T>, T::MaxOpenTasksPerWorker>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			ensure!(!results.is_empty(), Error::<T>::EmptyBatch);
			let used = Self::for_each_item(results.into_inner(), |SealedResult { task, ciphertext, commitment }| {
				Self::do_commit(worker.clone(), task, ciphertext.into_inner(), commitment)
					// Every check comes before the first write: a failed item read no more than
					// a plain commit does.
					.map_err(|e| (e, T::WeightInfo::commit_result(T::MaxVerifiers::get())))
			});
			Ok(PostDispatchInfo { actual_weight: Some(used), pays_fee: Pays::Yes })
		}

		/// Reveals the keys of several commitments, each as `reveal_result` would: one
		/// extrinsic for a worker's due reveals. Items are independent: one that fails changes
		/// nothing and is reported by `BatchItemFailed`. Charged per item as `reveal_result`
		/// charges it (declared for the most). At most `MaxOpenTasksPerWorker` items, at least
		/// one.
		#[pallet::call_index(9)]
		#[pallet::weight(
			T::WeightInfo::reveal_result_decides(T::MaxVerifiers::get()).saturating_mul(reveals.len() as u64)
		)]
		pub fn reveal_results(
			origin: OriginFor<T>,
			reveals: BoundedVec<(TaskId, [u8; 32]), T::MaxOpenTasksPerWorker>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			ensure!(!reveals.is_empty(), Error::<T>::EmptyBatch);
			let declared = T::WeightInfo::reveal_result_decides(T::MaxVerifiers::get());
			let used = Self::for_each_item(reveals.into_inner(), |(task, key)| {
				Self::do_reveal(worker.clone(), task, key)
					.map(|post| post.actual_weight.unwrap_or(declared))
					// Every check comes before the first write: a failed item read no more than
					// a plain reveal does.
					.map_err(|e| (e.error, T::WeightInfo::reveal_result()))
			});
			Ok(PostDispatchInfo { actual_weight: Some(used), pays_fee: Pays::Yes })
		}

		/// Processes a task's overdue deadline — the end of a commit or reveal window, the
		/// timeout of a wait, or pruning — when `on_initialize` has not reached it yet (it
		/// carries work over when blocks are full). Any signed account. Draws are never done
		/// here (`NotOverdue`): only `on_initialize` draws, before anyone can act in the block.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::advance_task())]
		pub fn advance_task(origin: OriginFor<T>, task: TaskId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_advance(task)
		}
	}
}
