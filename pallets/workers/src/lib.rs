//! # pallet-workers
//!
//! GPU operators join Replica here: they declare their execution profile (GPU, VRAM, driver,
//! CUDA, libtorch, dtype, worker version) and the models they serve, and put stake at risk.
//! The task pallet draws verifiers from the online workers through [`WorkerRegistry`], adds
//! each task to its workers' open tasks ([`WorkerRegistry::open_task`], at most
//! `Config::MaxOpenTasks` each) and, when their round is settled, releases them with a
//! success, fault or miss for their reputation ([`WorkerRegistry::close_task`]); faults are
//! slashed. The open tasks live in the worker's record, which a settlement writes anyway.
//!
//! ## Earnings
//! A verdict pays the whole fee into the earnings pot (`Config::EarningsPot`) in one transfer
//! and credits each winner's share to its record ([`WorkerInfo::earnings`]) in the same write
//! that releases it from the task, instead of one transfer per winner. A worker takes its
//! earnings out with [`Pallet::claim_earnings`] whenever it likes; its last
//! `withdraw_unbonded` pays them out with the record. The pot holds at least the sum of all
//! unclaimed earnings on top of its existential deposit (checked by `try_state`).
//!
//! ## Stake
//! Stake is held with `fungible::MutateHold` under [`HoldReason::Stake`]. Unbonding stake stays
//! held — and slashable — for `unbonding_period` blocks, so a pending slash cannot be escaped
//! by unbonding. A worker with open tasks can neither drop below `min_stake` nor deregister.
//!
//! ## Indexes
//! For each model, the online workers that serve it are kept in a bounded index
//! ([`ModelWorkers`]) with their profile id, VRAM, active stake and the `Config::Clock` time
//! of their last change, so that eligibility — by model, VRAM and (for text tasks) one
//! execution profile — and the stake weights of a draw are answered from one storage read.
//!
//! - **Stake, not identities.** Draws weight candidates by stake, so splitting stake across
//!   accounts or invented execution profiles buys nothing.
//! - **A full index never locks out a better-staked worker.** When an index is full, a worker
//!   with more active stake than its lowest-staked entry takes that entry's place; the
//!   evicted worker goes offline (`OfflineReason::OutStaked`) and may come back with more
//!   stake or serving other models.
//! - **No joining after the dice are cast.** An entry records when it last changed
//!   (`go_online`, a new profile or model set, more stake); a draw only counts entries that
//!   changed before its randomness could be known (see pallet-tasks), so nobody can join or
//!   raise its weight in reaction to a draw it can already compute. Leaving or lowering stake
//!   takes effect at once: that can only cost the one who does it a seat.
//! - **Bounded upkeep, exact draws.** What a worker does itself (`go_online`, `go_offline`,
//!   new models, profile or stake, `deregister`) rewrites its entries at once, paid by its
//!   own extrinsic. What happens to it in a verdict or in someone else's extrinsic — a slash,
//!   going offline after misses or below `min_stake`, eviction — changes only its record:
//!   rewriting up to `MaxModelsPerWorker` full indexes for each of a task's workers would not
//!   fit a block. The entries left behind are corrected when a draw meets them: every worker
//!   a draw picks is confirmed against its record ([`WorkerRegistry::confirm_drawn`]), and
//!   if its weight was stale the draw samples again with the corrected weight. Because the
//!   draw's order is a per-candidate key of seed and weight, the result is exactly the draw
//!   over current weights.
//!
//! ## Slash pot
//! Slashed stake goes to `Config::OnSlash` (the runtime's slash pot account); the pot is spent
//! only by `Config::GovernanceOrigin` through [`Pallet::spend_slashed`].
//!
//! ## Parameters
//! `min_stake`, `unbonding_period` and `max_missed` live in storage ([`Params`]), set at
//! genesis and changed only by `Config::GovernanceOrigin` through [`Pallet::set_params`].
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmark_helper;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod migrations;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod types; // Types shared with other pallets and clients.
pub mod weights;

use alloc::vec::Vec;
use frame_support::traits::fungible;
use replica_primitives::{ModelId, ProfileId, SlashReason, TaskId};
use sp_runtime::Perbill;

/// The balance type of the stake currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A worker's record as stored.
pub type WorkerInfoOf<T> = WorkerInfo<
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	<T as Config>::MaxModelsPerWorker,
	<T as Config>::MaxEndpointLen,
	MaxUnbondingChunks,
	<T as Config>::MaxOpenTasks,
>;
/// The parameters as stored.
pub type ParamsOf<T> = WorkerParams<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;
/// A model index entry as stored.
pub type IndexEntryOf<T> =
	IndexEntry<<T as frame_system::Config>::AccountId, BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;
/// Credit of the stake currency (what a slash produces).
pub type CreditOf<T> = fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;

/// An online worker a draw may pick: its stake is its weight.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Candidate<AccountId, BlockNumber> {
	pub who: AccountId,
	pub profile_id: ProfileId,
	/// Active stake, saturated into `u128`.
	pub weight: u128,
	/// When (in `Config::Clock`) its entry last changed.
	pub since: BlockNumber,
}

/// What the task pallets need from the worker registry.
pub trait WorkerRegistry<AccountId, Balance, BlockNumber> {
	/// Online workers serving `model` with at least `min_vram_mib`, optionally only those with
	/// execution profile `profile`, in index order. At most `MaxWorkersPerModel` entries.
	fn eligible(model: ModelId, min_vram_mib: u32, profile: Option<ProfileId>) -> Vec<Candidate<AccountId, BlockNumber>>;
	/// The most candidates `eligible` returns (`MaxWorkersPerModel`).
	fn max_candidates() -> u32;
	/// A draw picked `who` from `model`'s index, where its weight was `indexed_weight`:
	/// returns its weight now, `None` if it may not be drawn (offline, or no longer serving
	/// `model`). Where that differs from the index (a slash, misses or an eviction since), the
	/// entry is corrected, so the draw can sample again with true weights.
	fn confirm_drawn(model: ModelId, who: &AccountId, indexed_weight: u128) -> Option<u128>;
	/// The execution profile id of a registered worker.
	fn profile_id(who: &AccountId) -> Option<ProfileId>;
	/// Slashes the larger of `fraction` of everything `who` has at stake (active and
	/// unbonding) and `at_least`, but no more than it has, for `task`; returns the amount
	/// slashed. Emits `Slashed`.
	fn slash(who: &AccountId, fraction: Perbill, at_least: Balance, reason: SlashReason, task: TaskId) -> Balance;
	/// How long unbonding stake stays slashable.
	fn unbonding_period() -> BlockNumber;
	/// The account winners' shares are paid into before `close_task` credits them
	/// (`Config::EarningsPot`).
	fn earnings_pot() -> AccountId;
	/// Whether `who` is registered and has room for one more open task (`MaxOpenTasks`).
	fn has_room(who: &AccountId) -> bool;
	/// A draw picked `who` for `task`: it joins `who`'s open tasks, which keep its stake at
	/// risk (no deregistering, no unbonding below the minimum) until the task releases it.
	/// `false`, changing nothing, if `who` has no room or is not registered.
	fn open_task(who: &AccountId, task: TaskId) -> bool;
	/// `who`'s round in `task` is settled: the task leaves its open tasks, and `report` counts
	/// in its reputation (after `max_missed` misses in a row it goes offline); a success's
	/// `earned`, which the caller has paid into `earnings_pot`, is credited to its earnings.
	/// One write of the worker's record, the one a slash in the same settlement writes too.
	fn close_task(who: &AccountId, task: TaskId, report: Report<Balance>);
	/// The tasks `who` is drawn into whose round is not settled, oldest first.
	fn open_tasks(who: &AccountId) -> Vec<TaskId>;
	/// How many open tasks whose id passes `of_kind` all workers hold together (for the task
	/// pallets' invariants, each counting its own kind: it reads every worker record).
	fn open_task_count(of_kind: impl Fn(TaskId) -> bool) -> u32;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::Precision,
			OnUnbalanced,
		},
	};
	use frame_system::pallet_prelude::*;
	use replica_primitives::ExecutionProfile;
	use sp_runtime::traits::{BlockNumberProvider, Saturating, Zero};

	/// The on-chain storage layout version (see [`crate::migrations`]).
	pub(crate) const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency stake is held in.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::hold::Balanced<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Receives slashed stake: e.g. a pot or treasury account (`ResolveTo`), or `()` to burn.
		type OnSlash: OnUnbalanced<CreditOf<Self>>;

		/// May change [`Params`] and spend the slash pot.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The account `OnSlash` pays into, spent by governance through `spend_slashed`.
		type SlashPot: Get<Self::AccountId>;

		/// The account that holds workers' unclaimed earnings. It must exist (hold the
		/// existential deposit) from genesis: it never pays that out.
		#[pallet::constant]
		type EarningsPot: Get<Self::AccountId>;

		/// The clock in which the freshness of draw randomness is measured (the relay parent
		/// number on a parachain): index entries record when they last changed in it.
		type Clock: BlockNumberProvider<BlockNumber = BlockNumberFor<Self>>;

		/// The longest a task can keep a worker's stake at risk; `unbonding_period` may not be
		/// shorter, so that no slash can be escaped by unbonding first.
		type LongestTaskLifetime: Get<BlockNumberFor<Self>>;

		/// The most open tasks (drawn into, round not settled) one worker may hold at once.
		#[pallet::constant]
		type MaxOpenTasks: Get<u32>;

		/// The most models one worker may serve.
		#[pallet::constant]
		type MaxModelsPerWorker: Get<u32>;

		/// The most online workers one model's index holds.
		#[pallet::constant]
		type MaxWorkersPerModel: Get<u32>;

		/// The longest endpoint URL, in bytes.
		#[pallet::constant]
		type MaxEndpointLen: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A worker's stake, active or unbonding.
		Stake,
	}

	/// Registered workers.
	#[pallet::storage]
	pub type Workers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, WorkerInfoOf<T>>;

	/// For each model, the online workers that serve it.
	#[pallet::storage]
	pub type ModelWorkers<T: Config> = StorageMap<
		_,
		Twox64Concat,
		ModelId,
		BoundedVec<IndexEntryOf<T>, T::MaxWorkersPerModel>,
		ValueQuery,
	>;

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
			assert!(Pallet::<T>::params_are_valid(&params), "invalid pallet-workers genesis params");
			Params::<T>::put(params);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A worker registered with `stake` held.
		Registered { worker: T::AccountId, profile_id: ProfileId, stake: BalanceOf<T> },
		/// A worker declared a new execution profile.
		ProfileUpdated { worker: T::AccountId, profile_id: ProfileId },
		/// A worker changed the models it serves.
		ModelsUpdated { worker: T::AccountId, models: Vec<ModelId> },
		/// A worker changed its result endpoint.
		EndpointUpdated { worker: T::AccountId },
		/// A worker became eligible for assignments.
		WentOnline { worker: T::AccountId },
		/// A worker stopped being eligible for assignments.
		WentOffline { worker: T::AccountId, reason: OfflineReason },
		/// A worker added `amount` to its active stake.
		Bonded { worker: T::AccountId, amount: BalanceOf<T> },
		/// A worker started unbonding `amount`, withdrawable at block `unlock_at`.
		Unbonded { worker: T::AccountId, amount: BalanceOf<T>, unlock_at: BlockNumberFor<T> },
		/// A worker withdrew `amount` of matured unbonding stake.
		Withdrawn { worker: T::AccountId, amount: BalanceOf<T> },
		/// `amount` of a worker's stake was slashed for `reason` in `task`.
		Slashed { worker: T::AccountId, amount: BalanceOf<T>, reason: SlashReason, task: TaskId },
		/// A worker started to leave: all its stake is unbonding.
		Deregistered { worker: T::AccountId },
		/// A deregistered worker withdrew its last stake; its record is gone.
		Removed { worker: T::AccountId },
		/// Governance changed the parameters.
		ParamsChanged { params: ParamsOf<T> },
		/// Governance paid `amount` out of the slash pot to `to`.
		SlashPotSpent { to: T::AccountId, amount: BalanceOf<T> },
		/// A worker was paid its unclaimed earnings, `amount`, out of the earnings pot.
		EarningsClaimed { worker: T::AccountId, amount: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a registered worker.
		AlreadyRegistered,
		/// The account is not a registered worker.
		NotRegistered,
		/// The stake is below `min_stake`, or an unbond would leave an online worker below it.
		StakeTooLow,
		/// The account cannot hold that much (free balance too low).
		InsufficientBalance,
		/// More models than `MaxModelsPerWorker`.
		TooManyModels,
		/// No model, or a model listed twice.
		InvalidModels,
		/// The profile has an empty GPU name or version, or zero VRAM.
		InvalidProfile,
		/// The endpoint is empty, too long, not `http(s)://`, or has non-printable characters.
		InvalidEndpoint,
		/// The worker is already online.
		AlreadyOnline,
		/// The worker is already offline.
		AlreadyOffline,
		/// The worker is deregistering; it can only withdraw.
		Deregistering,
		/// A model's index of online workers is full of workers with at least as much stake.
		ModelIndexFull,
		/// The amount is zero.
		ZeroAmount,
		/// The amount exceeds the active stake.
		AmountExceedsStake,
		/// Too many unbonding chunks; withdraw matured ones first.
		TooManyUnbondingChunks,
		/// No unbonding stake has matured.
		NothingToWithdraw,
		/// The worker is assigned to a task that has not ended.
		HasOpenAssignments,
		/// Parameters out of range (zero minimum stake or miss limit, or an unbonding period
		/// shorter than the longest task lifetime).
		InvalidParams,
		/// The slash pot holds less than the amount (it keeps its existential deposit).
		SlashPotTooLow,
		/// The worker has no unclaimed earnings.
		NothingToClaim,
		/// The earnings pot holds less than the worker's earnings (it never should: `try_state`
		/// checks it holds them all).
		EarningsPotTooLow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(T::MaxModelsPerWorker::get() > 0, "MaxModelsPerWorker must be positive");
			assert!(T::MaxWorkersPerModel::get() > 0, "MaxWorkersPerModel must be positive");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers the signed account as a worker, holding `stake` (at least `min_stake`).
		/// The worker starts offline; `go_online` makes it eligible.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register(models.len() as u32))]
		pub fn register(
			origin: OriginFor<T>,
			profile: ExecutionProfile,
			models: Vec<ModelId>,
			endpoint: Vec<u8>,
			stake: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Workers::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
			profile.validate().map_err(|_| Error::<T>::InvalidProfile)?;
			let models = Self::check_models(models)?;
			let endpoint = Self::check_endpoint(endpoint)?;
			ensure!(stake >= Self::params().min_stake, Error::<T>::StakeTooLow);
			Self::hold(&who, stake)?;
			let profile_id = profile.profile_id();
			Workers::<T>::insert(
				&who,
				WorkerInfo {
					profile,
					profile_id,
					models,
					endpoint,
					stake,
					unbonding: Default::default(),
					status: WorkerStatus::Offline,
					missed_in_row: 0,
					reputation: Default::default(),
					open_tasks: Default::default(),
					earnings: Zero::zero(),
				},
			);
			Self::deposit_event(Event::Registered { worker: who, profile_id, stake });
			Ok(())
		}

		/// Declares a new execution profile. Tasks already assigned keep the profile they were
		/// assigned under.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_profile(T::MaxModelsPerWorker::get()))]
		pub fn update_profile(origin: OriginFor<T>, profile: ExecutionProfile) -> DispatchResult {
			let who = ensure_signed(origin)?;
			profile.validate().map_err(|_| Error::<T>::InvalidProfile)?;
			let mut info = Self::worker(&who)?;
			let online = info.status == WorkerStatus::Online;
			// Also clears entries an offline worker may have left behind (see `set_offline`).
			Self::remove_from_indexes(&who, &info.models);
			info.profile_id = profile.profile_id();
			info.profile = profile;
			if online {
				Self::add_to_indexes(&who, &info)?;
			}
			let profile_id = info.profile_id;
			Workers::<T>::insert(&who, info);
			Self::deposit_event(Event::ProfileUpdated { worker: who, profile_id });
			Ok(())
		}

		/// Replaces the set of models the worker serves.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::update_models(T::MaxModelsPerWorker::get()))]
		pub fn update_models(origin: OriginFor<T>, models: Vec<ModelId>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let models = Self::check_models(models)?;
			let mut info = Self::worker(&who)?;
			let online = info.status == WorkerStatus::Online;
			// Also clears entries an offline worker may have left behind (see `set_offline`).
			Self::remove_from_indexes(&who, &info.models);
			info.models = models;
			if online {
				Self::add_to_indexes(&who, &info)?;
			}
			let models = info.models.to_vec();
			Workers::<T>::insert(&who, info);
			Self::deposit_event(Event::ModelsUpdated { worker: who, models });
			Ok(())
		}

		/// Changes the URL the worker serves results from.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::update_endpoint())]
		pub fn update_endpoint(origin: OriginFor<T>, endpoint: Vec<u8>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let endpoint = Self::check_endpoint(endpoint)?;
			let mut info = Self::worker(&who)?;
			info.endpoint = endpoint;
			Workers::<T>::insert(&who, info);
			Self::deposit_event(Event::EndpointUpdated { worker: who });
			Ok(())
		}

		/// Makes the worker eligible for new assignments. Needs `min_stake` active.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::go_online(T::MaxModelsPerWorker::get()))]
		pub fn go_online(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::worker(&who)?;
			match info.status {
				WorkerStatus::Online => return Err(Error::<T>::AlreadyOnline.into()),
				WorkerStatus::Deregistering => return Err(Error::<T>::Deregistering.into()),
				WorkerStatus::Offline => {},
			}
			ensure!(info.stake >= Self::params().min_stake, Error::<T>::StakeTooLow);
			// Entries left behind when it went offline involuntarily make way for fresh ones.
			Self::remove_from_indexes(&who, &info.models);
			Self::add_to_indexes(&who, &info)?;
			info.status = WorkerStatus::Online;
			// `missed_in_row` is kept: going offline and online again does not forgive misses.
			Workers::<T>::insert(&who, info);
			Self::deposit_event(Event::WentOnline { worker: who });
			Ok(())
		}

		/// Stops new assignments; open ones must still be completed.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::go_offline(T::MaxModelsPerWorker::get()))]
		pub fn go_offline(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::worker(&who)?;
			ensure!(info.status == WorkerStatus::Online, Error::<T>::AlreadyOffline);
			Self::leave_indexes(&who, &mut info, OfflineReason::Requested);
			Workers::<T>::insert(&who, info);
			Ok(())
		}

		/// Holds `amount` more as active stake.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::bond_more())]
		pub fn bond_more(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let mut info = Self::worker(&who)?;
			ensure!(info.status != WorkerStatus::Deregistering, Error::<T>::Deregistering);
			Self::hold(&who, amount)?;
			info.stake = info.stake.saturating_add(amount);
			// More weight counts only for draws whose randomness is not yet known.
			Self::refresh_index_stake(&who, &info, true);
			Workers::<T>::insert(&who, info);
			Self::deposit_event(Event::Bonded { worker: who, amount });
			Ok(())
		}

		/// Starts unbonding `amount` of active stake: it stays held and slashable for
		/// `unbonding_period` blocks, then `withdraw_unbonded` releases it. An online worker, or
		/// one with open assignments, cannot go below `min_stake`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let mut info = Self::worker(&who)?;
			ensure!(info.status != WorkerStatus::Deregistering, Error::<T>::Deregistering);
			ensure!(amount <= info.stake, Error::<T>::AmountExceedsStake);
			let remaining = info.stake.saturating_sub(amount);
			if remaining < Self::params().min_stake {
				ensure!(info.open_tasks.is_empty(), Error::<T>::HasOpenAssignments);
				ensure!(info.status != WorkerStatus::Online, Error::<T>::StakeTooLow);
			}
			let unlock_at = Self::push_unbonding(&mut info, amount)?;
			info.stake = remaining;
			Self::refresh_index_stake(&who, &info, false);
			Workers::<T>::insert(&who, info);
			Self::deposit_event(Event::Unbonded { worker: who, amount, unlock_at });
			Ok(())
		}

		/// Releases every unbonding chunk that has matured. A deregistering worker whose stake
		/// is all withdrawn is removed, and paid its unclaimed earnings first.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::worker(&who)?;
			let now = frame_system::Pallet::<T>::block_number();
			let mut amount = BalanceOf::<T>::zero();
			info.unbonding.retain(|chunk| {
				let matured = chunk.unlock_at <= now;
				if matured {
					amount = amount.saturating_add(chunk.amount);
				}
				!matured
			});
			ensure!(!amount.is_zero(), Error::<T>::NothingToWithdraw);
			T::Currency::release(&HoldReason::Stake.into(), &who, amount, Precision::Exact)?;
			Self::deposit_event(Event::Withdrawn { worker: who.clone(), amount });
			if info.status == WorkerStatus::Deregistering &&
				info.unbonding.is_empty() &&
				info.stake.is_zero()
			{
				Self::pay_earnings(&who, &mut info)?;
				Workers::<T>::remove(&who);
				Self::deposit_event(Event::Removed { worker: who });
			} else {
				Workers::<T>::insert(&who, info);
			}
			Ok(())
		}

		/// Leaves: goes offline for good and unbonds all active stake. Not while assigned to
		/// an open task.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::deregister(T::MaxModelsPerWorker::get()))]
		pub fn deregister(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::worker(&who)?;
			ensure!(info.status != WorkerStatus::Deregistering, Error::<T>::Deregistering);
			ensure!(info.open_tasks.is_empty(), Error::<T>::HasOpenAssignments);
			if info.status == WorkerStatus::Online {
				Self::leave_indexes(&who, &mut info, OfflineReason::Deregistering);
			} else {
				Self::remove_from_indexes(&who, &info.models);
			}
			if !info.stake.is_zero() {
				let amount = info.stake;
				let unlock_at = Self::push_unbonding(&mut info, amount)?;
				info.stake = Zero::zero();
				Self::deposit_event(Event::Unbonded { worker: who.clone(), amount, unlock_at });
			}
			info.status = WorkerStatus::Deregistering;
			Workers::<T>::insert(&who, info);
			Self::deposit_event(Event::Deregistered { worker: who });
			Ok(())
		}

		/// Sets the parameters. `GovernanceOrigin` only.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: ParamsOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(Self::params_are_valid(&params), Error::<T>::InvalidParams);
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsChanged { params });
			Ok(())
		}

		/// Pays `amount` out of the slash pot to `to`; the pot keeps its existential deposit.
		/// `GovernanceOrigin` only.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::spend_slashed())]
		pub fn spend_slashed(origin: OriginFor<T>, to: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			T::Currency::transfer(
				&T::SlashPot::get(),
				&to,
				amount,
				frame_support::traits::tokens::Preservation::Preserve,
			)
			.map_err(|_| Error::<T>::SlashPotTooLow)?;
			Self::deposit_event(Event::SlashPotSpent { to, amount });
			Ok(())
		}

		/// Pays the signed worker its unclaimed earnings out of the earnings pot; its record's
		/// `earnings` go to zero. Any registered worker may claim, also while deregistering.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::claim_earnings())]
		pub fn claim_earnings(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::worker(&who)?;
			ensure!(!info.earnings.is_zero(), Error::<T>::NothingToClaim);
			Self::pay_earnings(&who, &mut info)?;
			Workers::<T>::insert(&who, info);
			Ok(())
		}
	}
}
