//! # pallet-training
//!
//! Verified fine-tuning: a drawn trainer runs a deterministic textual inversion and commits
//! its checkpoints; drawn verifiers re-run sampled segments of it and vote by
//! locality-sensitive hash. The shared rules (commitments, the segment draw, verdicts) are
//! `replica_primitives::training`; the worker's `engines::training` trains.
//!
//! ## Lifecycle
//! ```text
//! create_training ─► AwaitingTrainer ─(a later block: fresh randomness)─► Training
//!   ─(commit_checkpoints)─► AwaitingVerifiers ─(a later block: fresh randomness)─► Verifying
//!   ─(deadline, or all committed)─► Revealing ─(deadline, or all revealed)─►
//!   Finalized | Failed ─(retention)─► pruned
//! ```
//! - **Create** (`create_training`, any signed account): the fee is held. The spec names a
//!   registered image model (`Config::ImageModels`), the run (seed, learning rate, steps,
//!   batch, checkpoint interval, templates) and the training data by digest and URL. The
//!   terms in force (segments checked, verifiers per segment, tolerance, verifiers' share)
//!   are fixed for it. There is no cancel: a creator gets no second trainer draw.
//! - **Trainer draw**: only `on_initialize`, stake-weighted over the online workers serving
//!   the model, with randomness nobody knew at creation. The trainer's stake is at risk
//!   (pallet-workers' open tasks) until the task settles.
//! - **Commit checkpoints** (`commit_checkpoints`, the trainer, once): the digest of the
//!   initial checkpoint and, per segment, the digest of the checkpoint that ends it and a
//!   salted commitment to its hashes (probe and end). Nothing about which segments will be
//!   checked is known yet.
//! - **Verifier draw**: only `on_initialize`, with randomness nobody knew at that commitment:
//!   `sampled_segments` distinct segments, and `verifiers_per_segment` distinct verifiers for
//!   each (stake-weighted, never the trainer; a worker may check several segments). All are
//!   drawn at once, so no verifier commits after any hash of its segment is public.
//!   A trainer that cannot get the training data from the creator `decline_training`s: a
//!   refund, nobody at fault (a creator cannot get an honest trainer slashed).
//! - **Verify** (`commit_check`): a verifier downloads the checkpoint that starts its segment
//!   (and the training data) from the trainer's endpoint, checks it against the committed
//!   digest, re-runs the segment and commits `training::segment_commitment` of its hashes,
//!   bound to its account. If the trainer does not serve it, the verifier reports the segment
//!   unavailable: a vote against the trainer, which answers for serving its verifiers.
//! - **Reveal** (`reveal_trainer`, `reveal_check`): once every check is committed or the
//!   verify window is over. Salts and hashes that do not open the commitment change nothing
//!   (`CommitmentMismatch`).
//! - **Settle**: each checked segment's verdict is the majority of its drawn verifiers
//!   (`training::segment_verdict`; an unavailability report counts against the trainer). All passed: the trainer is paid the fee less the
//!   verifiers' pay. A failed segment or withheld trainer hashes: the trainer is slashed at
//!   least the fee and the rest of the fee goes back to the creator. A verifier on the
//!   winning side of a decided segment is paid its slot; one on the losing side, or one that
//!   withheld, is slashed at least the fee; one that never committed is slashed
//!   `no_show_slash`. Silence never pays: a verdict needs a majority of the *drawn*
//!   verifiers.
//! - **Deadlines** are block numbers. Each task has exactly one agenda entry ([`Agenda`]);
//!   `on_initialize` works through due entries, oldest first, as far as `HookWeight` allows,
//!   and carries the rest over ([`IncompleteSince`]); nothing is dropped. Anyone may
//!   `advance_training` an overdue phase (never a draw).
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
#[cfg(test)]
mod mock;
mod settlement;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

use frame_support::traits::fungible;

/// The balance type of the fee currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A training task as stored.
pub type TrainingOf<T> = TrainingInfo<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	<T as Config>::MaxChecks,
>;
/// The parameters as stored.
pub type ParamsOf<T> = TrainingParams<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;
/// A task's windows.
pub type WindowsOf<T> = Windows<frame_system::pallet_prelude::BlockNumberFor<T>>;
/// The trainer's claims: one per segment.
pub type ClaimsOf<T> = frame_support::BoundedVec<SegmentClaim, <T as Config>::MaxSegments>;
/// The trainer's reveal: its hashes of each checked segment and their salts, in draw order.
pub type TrainerRevealOf<T> =
	frame_support::BoundedVec<(replica_primitives::training::SegmentHashes, [u8; 32]), <T as Config>::MaxChecks>;

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
		weights::WeightMeter,
	};
	use frame_system::pallet_prelude::*;
	use pallet_workers::WorkerRegistry;
	use replica_primitives::{
		training::{SegmentHashes, SegmentVerdict},
		Digest, ModelId,
	};
	use sp_runtime::traits::BlockNumberProvider;

	pub(crate) const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

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

		/// The worker registry: who may train and verify (online workers serving the model),
		/// their stake, slashes and earnings.
		type Workers: WorkerRegistry<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The image models tasks may name.
		type ImageModels: ImageModels;

		/// The clock in which randomness freshness is measured: the relay parent number on a
		/// parachain.
		type Clock: BlockNumberProvider<BlockNumber = BlockNumberFor<Self>>;

		/// Randomness for the draws, with the earliest `Clock` time its output may be known.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// Sets [`Params`].
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The most segments (checkpoints after the initial one) a task may have.
		#[pallet::constant]
		type MaxSegments: Get<u32>;

		/// The most checks of a task: `sampled_segments × verifiers_per_segment` is at most
		/// this.
		#[pallet::constant]
		type MaxChecks: Get<u32>;

		/// The most training tasks in storage at once (open, or finished and awaiting
		/// pruning).
		#[pallet::constant]
		type MaxTrainings: Get<u32>;

		/// The most weight `on_initialize` spends on deadlines; due work beyond it carries
		/// over to the next block.
		#[pallet::constant]
		type HookWeight: Get<Weight>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;

		/// Registers an image model and makes online workers for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::benchmarking::BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The fee of an open training task, held from its creator.
		TrainingFee,
	}

	/// Training tasks, until pruned.
	#[pallet::storage]
	pub type Trainings<T: Config> = StorageMap<_, Twox64Concat, TrainingId, TrainingOf<T>>;

	/// The id the next training task gets.
	#[pallet::storage]
	pub type NextTrainingId<T> = StorageValue<_, TrainingId, ValueQuery>;

	/// How many training tasks are in storage (at most `MaxTrainings`).
	#[pallet::storage]
	pub type TrainingCount<T> = StorageValue<_, u32, ValueQuery>;

	/// What the trainer committed: the initial checkpoint's digest and one claim per segment.
	/// Removed when the task is pruned.
	#[pallet::storage]
	pub type Claims<T: Config> = StorageMap<_, Twox64Concat, TrainingId, (Digest, ClaimsOf<T>)>;

	/// The agenda: the one next deadline of every task in storage, by block.
	#[pallet::storage]
	pub type Agenda<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, TrainingId, ()>;

	/// The oldest block whose agenda may still hold due entries (work carried over).
	#[pallet::storage]
	pub type IncompleteSince<T: Config> = StorageValue<_, BlockNumberFor<T>, OptionQuery>;

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
			assert!(Pallet::<T>::params_are_valid(&params), "invalid pallet-training genesis params");
			Params::<T>::put(params);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A training task was created and its fee held; its trainer is drawn in a later
		/// block.
		TrainingCreated { training: TrainingId, creator: T::AccountId, model: ModelId, fee: BalanceOf<T>, segments: u32 },
		/// `trainer` was drawn; it commits its checkpoints until `deadline`.
		TrainerDrawn { training: TrainingId, trainer: T::AccountId, deadline: BlockNumberFor<T> },
		/// The trainer committed its checkpoints; the checked segments are drawn in a later
		/// block.
		CheckpointsCommitted { training: TrainingId, trainer: T::AccountId },
		/// The checked segments and their verifiers were drawn: `checks` holds `(segment,
		/// verifier)`; they commit until `deadline`.
		VerifiersDrawn { training: TrainingId, checks: Vec<(u32, T::AccountId)>, deadline: BlockNumberFor<T> },
		/// A verifier committed its hashes of a segment.
		CheckCommitted { training: TrainingId, segment: u32, verifier: T::AccountId },
		/// The trainer and the verifiers may reveal until `deadline`.
		RevealPhaseStarted { training: TrainingId, deadline: BlockNumberFor<T> },
		/// The trainer revealed its hashes of the checked segments.
		TrainerRevealed { training: TrainingId, hashes: Vec<SegmentHashes> },
		/// A verifier revealed its hashes of a segment.
		CheckRevealed { training: TrainingId, segment: u32, verifier: T::AccountId, hashes: SegmentHashes },
		/// A checked segment's verdict.
		SegmentDecided { training: TrainingId, segment: u32, verdict: SegmentVerdict },
		/// Every checked segment passed: the trainer was credited `earned`, and the verifiers
		/// `verifier_pay` per slot they won.
		TrainingFinalized { training: TrainingId, trainer: T::AccountId, earned: BalanceOf<T>, verifier_pay: BalanceOf<T> },
		/// The task failed; what was not paid to verifiers went back to the creator.
		TrainingFailed { training: TrainingId, reason: FailReason },
		/// A finished task was removed from storage.
		TrainingPruned { training: TrainingId },
		/// Governance changed the parameters.
		ParamsChanged { params: ParamsOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The model is not a registered, unretired image model.
		UnknownModel,
		/// The fee is below `min_fee`.
		FeeTooLow,
		/// The account cannot hold the fee.
		InsufficientBalance,
		/// The spec is malformed: zero steps or batch, an interval below 2 or not dividing the
		/// steps, more than `MaxSegments` segments, an empty token, no template, or a template
		/// without exactly one `{}`.
		InvalidSpec,
		/// A window is zero or longer than `max_window`.
		InvalidWindows,
		/// `MaxTrainings` tasks are in storage; try again once some are pruned.
		TooManyTrainings,
		/// No training task with this id.
		UnknownTraining,
		/// The task is not in its training phase.
		NotTrainingPhase,
		/// Only the task's trainer may do this.
		NotTrainer,
		/// The claims are not one per segment.
		WrongClaimCount,
		/// The task is not in its verify phase.
		NotVerifyPhase,
		/// The caller is not a verifier of this segment.
		NotVerifier,
		/// The caller already committed this check.
		AlreadyCommitted,
		/// The task is not in its reveal phase.
		NotRevealPhase,
		/// The caller already revealed.
		AlreadyRevealed,
		/// The caller did not commit this check.
		NotCommitted,
		/// The trainer's reveal is not one entry per checked segment.
		WrongRevealCount,
		/// The reveal does not open the commitment.
		CommitmentMismatch,
		/// Parameters out of range: a zero `sampled_segments`, `verifiers_per_segment`,
		/// `max_window`, `draw_timeout` or `retention`, more checks than `MaxChecks`, or a
		/// tolerance above 64 bits.
		InvalidParams,
		/// The task has no deadline that is overdue (or its due work is a draw, which only
		/// `on_initialize` does).
		NotOverdue,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Works through due deadlines (draws, phase ends, settlements, pruning), oldest
		/// first, within `HookWeight`; the rest waits for the next block.
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
			assert!(T::MaxSegments::get() > 0, "MaxSegments must be positive");
			assert!(T::MaxChecks::get() > 0, "MaxChecks must be positive");
			assert!(T::MaxTrainings::get() > 0, "MaxTrainings must be positive");
			assert!(
				T::HookWeight::get().all_gte(Pallet::<T>::worst_deadline_weight()),
				"HookWeight must fit at least one deadline"
			);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Creates a training task and holds its fee. Any signed account. Fails with
		/// `UnknownModel`, `InvalidSpec`, `FeeTooLow`, `InvalidWindows`, `TooManyTrainings` or
		/// `InsufficientBalance`, changing nothing.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_training())]
		pub fn create_training(
			origin: OriginFor<T>,
			spec: TrainingSpec,
			fee: BalanceOf<T>,
			windows: WindowsOf<T>,
		) -> DispatchResult {
			let creator = ensure_signed(origin)?;
			Self::do_create(creator, spec, fee, windows).map(|_| ())
		}

		/// Commits the run: the initial checkpoint's digest and, for each segment in order, the
		/// digest of the checkpoint that ends it and `training::segment_commitment` of the
		/// trainer's hashes of its probe and end. The task's trainer only, once, during the
		/// training phase; the checked segments are drawn in a later block.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::commit_checkpoints(claims.len() as u32))]
		pub fn commit_checkpoints(
			origin: OriginFor<T>,
			training: TrainingId,
			initial: Digest,
			claims: ClaimsOf<T>,
		) -> DispatchResult {
			let trainer = ensure_signed(origin)?;
			Self::do_commit_checkpoints(trainer, training, initial, claims)
		}

		/// Commits a verifier's hashes of a segment (`training::segment_commitment` under its
		/// own account), or reports that the trainer did not serve what the segment needs
		/// (`CheckCommitment::Unavailable`: a vote against the trainer). A verifier drawn for
		/// that segment only, once, during the verify phase; the commitment that completes the
		/// set starts the reveals.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::commit_check())]
		pub fn commit_check(
			origin: OriginFor<T>,
			training: TrainingId,
			segment: u32,
			commitment: CheckCommitment,
		) -> DispatchResult {
			let verifier = ensure_signed(origin)?;
			Self::do_commit_check(verifier, training, segment, commitment)
		}

		/// Reveals the trainer's hashes and salts of the checked segments, in draw order. The
		/// trainer only, once, during the reveal phase. Entries that do not open their
		/// commitments change nothing (`CommitmentMismatch`).
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::reveal_trainer(reveal.len() as u32))]
		pub fn reveal_trainer(origin: OriginFor<T>, training: TrainingId, reveal: TrainerRevealOf<T>) -> DispatchResult {
			let trainer = ensure_signed(origin)?;
			Self::do_reveal_trainer(trainer, training, reveal)
		}

		/// Reveals a verifier's hashes of a segment and the salt. A verifier that committed
		/// that check only, once, during the reveal phase. Hashes and salt that do not open
		/// the commitment change nothing (`CommitmentMismatch`).
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::reveal_check())]
		pub fn reveal_check(
			origin: OriginFor<T>,
			training: TrainingId,
			segment: u32,
			hashes: SegmentHashes,
			salt: [u8; 32],
		) -> DispatchResult {
			let verifier = ensure_signed(origin)?;
			Self::do_reveal_check(verifier, training, segment, hashes, salt)
		}

		/// Sets the parameters; open tasks keep the terms they were created with.
		/// `GovernanceOrigin` only.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: ParamsOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(Self::params_are_valid(&params), Error::<T>::InvalidParams);
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsChanged { params });
			Ok(())
		}

		/// Processes a task's overdue deadline — the end of a phase, a settlement, a timeout
		/// or pruning — when `on_initialize` has not reached it yet. Any signed account. Draws
		/// are never done here (`NotOverdue`). Charged as the worst deadline.
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::worst_deadline_weight())]
		pub fn advance_training(origin: OriginFor<T>, training: TrainingId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_advance(training)
		}

		/// Declines the training: the trainer could not get the training data (the creator
		/// did not serve it). The task fails with a full refund and nobody is at fault. The
		/// task's trainer only, during the training phase. Charged as a failing deadline.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::deadline_fail())]
		pub fn decline_training(origin: OriginFor<T>, training: TrainingId) -> DispatchResult {
			let trainer = ensure_signed(origin)?;
			Self::do_decline(trainer, training)
		}
	}
}
