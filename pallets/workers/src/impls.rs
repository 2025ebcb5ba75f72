//! Helpers of pallet-workers and its [`WorkerRegistry`] implementation.

use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{hold::Balanced as _, Inspect, InspectHold, Mutate, MutateHold},
		tokens::Preservation,
		OnUnbalanced,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use replica_primitives::{ModelId, ProfileId, SlashReason, TaskId};
use sp_runtime::{
	traits::{BlockNumberProvider, Saturating, UniqueSaturatedInto, Zero},
	Perbill,
};

use crate::{
	pallet::*, BalanceOf, Candidate, IndexEntry, Models, OfflineReason, ParamsOf, Report, UnbondingChunk,
	WorkerInfoOf, WorkerParams, WorkerRegistry, WorkerStatus,
};

impl<T: Config> Pallet<T> {
	/// The parameters in force.
	pub fn params() -> ParamsOf<T> {
		Params::<T>::get().unwrap_or_else(Self::default_params)
	}

	/// Parameters used when genesis sets none: 100 × the existential deposit, an unbonding
	/// period of the longest task lifetime (at least 100 blocks), 3 misses.
	pub fn default_params() -> ParamsOf<T> {
		WorkerParams {
			min_stake: T::Currency::minimum_balance().saturating_mul(100u32.into()),
			unbonding_period: T::LongestTaskLifetime::get().max(100u32.into()),
			max_missed: 3,
		}
	}

	/// Whether `params` are in range: a positive minimum stake and miss limit, and an
	/// unbonding period no shorter than the longest task lifetime (stake must stay slashable
	/// for as long as a task it was drawn for can last).
	pub fn params_are_valid(params: &ParamsOf<T>) -> bool {
		!params.min_stake.is_zero() &&
			!params.unbonding_period.is_zero() &&
			params.unbonding_period >= T::LongestTaskLifetime::get() &&
			params.max_missed > 0
	}

	pub(crate) fn worker(who: &T::AccountId) -> Result<WorkerInfoOf<T>, Error<T>> {
		Workers::<T>::get(who).ok_or(Error::<T>::NotRegistered)
	}

	pub(crate) fn check_models(models: Vec<ModelId>) -> Result<Models<T::MaxModelsPerWorker>, Error<T>> {
		ensure!(!models.is_empty(), Error::<T>::InvalidModels);
		let mut sorted = models.clone();
		sorted.sort_unstable();
		sorted.dedup();
		ensure!(sorted.len() == models.len(), Error::<T>::InvalidModels);
		models.try_into().map_err(|_| Error::<T>::TooManyModels)
	}

	/// An `http://` or `https://` URL of printable ASCII, at most `MaxEndpointLen` bytes.
	pub(crate) fn check_endpoint(
		endpoint: Vec<u8>,
	) -> Result<BoundedVec<u8, T::MaxEndpointLen>, Error<T>> {
		let host = endpoint.strip_prefix(b"https://").or_else(|| endpoint.strip_prefix(b"http://"));
		let printable = endpoint.iter().all(|c| c.is_ascii_graphic());
		ensure!(host.is_some_and(|h| !h.is_empty()) && printable, Error::<T>::InvalidEndpoint);
		endpoint.try_into().map_err(|_| Error::<T>::InvalidEndpoint)
	}

	pub(crate) fn hold(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		T::Currency::hold(&HoldReason::Stake.into(), who, amount)
			.map_err(|_| Error::<T>::InsufficientBalance.into())
	}

	/// Adds an unbonding chunk maturing `unbonding_period` blocks from now (merged with one
	/// that matures in the same block); returns the unlock block.
	pub(crate) fn push_unbonding(
		info: &mut WorkerInfoOf<T>,
		amount: BalanceOf<T>,
	) -> Result<BlockNumberFor<T>, Error<T>> {
		let unlock_at = frame_system::Pallet::<T>::block_number()
			.saturating_add(Self::params().unbonding_period);
		match info.unbonding.last_mut() {
			Some(last) if last.unlock_at == unlock_at =>
				last.amount = last.amount.saturating_add(amount),
			_ => info
				.unbonding
				.try_push(UnbondingChunk { amount, unlock_at })
				.map_err(|_| Error::<T>::TooManyUnbondingChunks)?,
		}
		Ok(unlock_at)
	}

	/// Adds an online worker to the index of each of its models, entered now. Where an index
	/// is full, the worker takes the place of the lowest-staked entry if it has more stake
	/// (that worker goes offline); otherwise `ModelIndexFull` and nothing changes. The caller
	/// has removed any entry `who` still had in these indexes.
	pub(crate) fn add_to_indexes(who: &T::AccountId, info: &WorkerInfoOf<T>) -> Result<(), Error<T>> {
		let entry = IndexEntry {
			who: who.clone(),
			profile_id: info.profile_id,
			vram_mib: info.profile.vram_mib,
			stake: info.stake,
			since: T::Clock::current_block_number(),
		};
		// Check every index first, so that a refusal changes nothing.
		let mut indexes = Vec::with_capacity(info.models.len());
		let mut evicted = Vec::new();
		for model in info.models.iter() {
			let mut entries = ModelWorkers::<T>::get(model);
			if entries.len() as u32 >= T::MaxWorkersPerModel::get() {
				let (position, lowest) = entries
					.iter()
					.enumerate()
					.min_by(|(_, a), (_, b)| a.stake.cmp(&b.stake))
					.ok_or(Error::<T>::ModelIndexFull)?;
				ensure!(lowest.stake < info.stake, Error::<T>::ModelIndexFull);
				evicted.push(entries.remove(position).who);
			}
			entries.try_push(entry.clone()).map_err(|_| Error::<T>::ModelIndexFull)?;
			indexes.push((*model, entries));
		}
		for (model, entries) in indexes {
			ModelWorkers::<T>::insert(model, entries);
		}
		// An evicted worker's entries in other indexes are cleared lazily (`confirm_drawn`):
		// evicting costs one record, however many models the evicted worker serves.
		for evicted in evicted {
			if let Some(mut evicted_info) = Workers::<T>::get(&evicted) {
				if evicted_info.status == WorkerStatus::Online {
					Self::set_offline(&evicted, &mut evicted_info, OfflineReason::OutStaked);
					Workers::<T>::insert(&evicted, evicted_info);
				}
			}
		}
		Ok(())
	}

	/// Writes an online worker's current stake into its index entries; `reset_since` when the
	/// stake grew (the new weight counts only for draws whose randomness is not yet known).
	pub(crate) fn refresh_index_stake(who: &T::AccountId, info: &WorkerInfoOf<T>, reset_since: bool) {
		if info.status != WorkerStatus::Online {
			return;
		}
		let now = T::Clock::current_block_number();
		for model in info.models.iter() {
			ModelWorkers::<T>::mutate(model, |entries| {
				for e in entries.iter_mut().filter(|e| &e.who == who) {
					e.stake = info.stake;
					if reset_since {
						e.since = now;
					}
				}
			});
		}
	}

	/// Removes a worker from the indexes of `models`.
	pub(crate) fn remove_from_indexes(who: &T::AccountId, models: &[ModelId]) {
		for model in models {
			ModelWorkers::<T>::mutate_exists(model, |entries| {
				if let Some(list) = entries {
					list.retain(|e| &e.who != who);
					if list.is_empty() {
						*entries = None;
					}
				}
			});
		}
	}

	/// Marks a worker offline. Its index entries stay until a draw meets them
	/// ([`WorkerRegistry::confirm_drawn`] removes them) or the worker itself changes its
	/// entries: this is what a slash, misses or an eviction do, at the cost of one record
	/// however many models the worker serves.
	pub(crate) fn set_offline(who: &T::AccountId, info: &mut WorkerInfoOf<T>, reason: OfflineReason) {
		info.status = WorkerStatus::Offline;
		Self::deposit_event(Event::WentOffline { worker: who.clone(), reason });
	}

	/// The worker leaves: out of every index of its models at once, and offline.
	pub(crate) fn leave_indexes(who: &T::AccountId, info: &mut WorkerInfoOf<T>, reason: OfflineReason) {
		Self::remove_from_indexes(who, &info.models);
		Self::set_offline(who, info, reason);
	}

	/// Pays `who` its unclaimed earnings out of the earnings pot (which keeps its existential
	/// deposit) and zeroes them in `info`; the caller stores `info`. Nothing to pay is no error.
	pub(crate) fn pay_earnings(who: &T::AccountId, info: &mut WorkerInfoOf<T>) -> DispatchResult {
		let amount = info.earnings;
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::transfer(&T::EarningsPot::get(), who, amount, Preservation::Preserve)
			.map_err(|_| Error::<T>::EarningsPotTooLow)?;
		info.earnings = Zero::zero();
		Self::deposit_event(Event::EarningsClaimed { worker: who.clone(), amount });
		Ok(())
	}

	/// Everything `who` has at stake: active and unbonding.
	pub fn total_at_stake(info: &WorkerInfoOf<T>) -> BalanceOf<T> {
		info.unbonding
			.iter()
			.fold(info.stake, |total, chunk| total.saturating_add(chunk.amount))
	}

	fn do_slash(
		who: &T::AccountId,
		fraction: Perbill,
		at_least: BalanceOf<T>,
		reason: SlashReason,
		task: TaskId,
	) -> BalanceOf<T> {
		let Some(mut info) = Workers::<T>::get(who) else { return Zero::zero() };
		let at_stake = Self::total_at_stake(&info);
		let wanted = (fraction * at_stake).max(at_least).min(at_stake);
		if wanted.is_zero() {
			return Zero::zero();
		}
		let (credit, shortfall) = T::Currency::slash(&HoldReason::Stake.into(), who, wanted);
		let slashed = wanted.saturating_sub(shortfall);
		if !shortfall.is_zero() {
			frame_support::defensive!("held stake was below the recorded stake");
		}
		T::OnSlash::on_unbalanced(credit);
		// Take it from active stake first, then from the newest unbonding chunks.
		let mut rest = slashed;
		let from_stake = rest.min(info.stake);
		info.stake = info.stake.saturating_sub(from_stake);
		rest = rest.saturating_sub(from_stake);
		for chunk in info.unbonding.iter_mut().rev() {
			let take = rest.min(chunk.amount);
			chunk.amount = chunk.amount.saturating_sub(take);
			rest = rest.saturating_sub(take);
		}
		info.unbonding.retain(|chunk| !chunk.amount.is_zero());
		Self::deposit_event(Event::Slashed { worker: who.clone(), amount: slashed, reason, task });
		// The index entries keep the old, higher stake until a draw meets them
		// (`confirm_drawn`): a verdict that slashes many workers touches no index.
		if info.status == WorkerStatus::Online && info.stake < Self::params().min_stake {
			Self::set_offline(who, &mut info, OfflineReason::StakeBelowMinimum);
		}
		Workers::<T>::insert(who, info);
		slashed
	}

	fn mutate_worker(who: &T::AccountId, f: impl FnOnce(&T::AccountId, &mut WorkerInfoOf<T>)) {
		Workers::<T>::mutate(who, |maybe| match maybe {
			Some(info) => f(who, info),
			None => {
				frame_support::defensive!("a task reported on an unregistered worker");
			},
		});
	}

	/// Invariants: held stake equals recorded stake for every worker; the model indexes hold
	/// every online worker once per served model, with current profile data and a stake no
	/// lower than its own, and nobody else but offline workers not yet cleared by a draw; unbonding
	/// chunks are positive, ordered and within one unbonding period; the earnings pot holds all
	/// unclaimed earnings on top of its existential deposit.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let now = frame_system::Pallet::<T>::block_number();
		let period = Self::params().unbonding_period;
		let unclaimed = Workers::<T>::iter_values().fold(BalanceOf::<T>::zero(), |sum, info| sum.saturating_add(info.earnings));
		let pot = T::Currency::balance(&T::EarningsPot::get());
		ensure!(
			pot >= unclaimed.saturating_add(T::Currency::minimum_balance()),
			"the earnings pot holds less than the unclaimed earnings and its existential deposit"
		);
		for (who, info) in Workers::<T>::iter() {
			let held = T::Currency::balance_on_hold(&HoldReason::Stake.into(), &who);
			ensure!(held == Self::total_at_stake(&info), "held stake != recorded stake");
			let mut previous = None;
			for chunk in info.unbonding.iter() {
				ensure!(!chunk.amount.is_zero(), "empty unbonding chunk");
				ensure!(previous.map_or(true, |p| p < chunk.unlock_at), "unbonding chunks out of order");
				ensure!(chunk.unlock_at <= now.saturating_add(period), "unbonding beyond one period");
				previous = Some(chunk.unlock_at);
			}
			ensure!(info.profile_id == info.profile.profile_id(), "stale profile id");
			if info.status == WorkerStatus::Deregistering {
				ensure!(info.stake.is_zero(), "deregistering worker with active stake");
				ensure!(info.open_tasks.is_empty(), "deregistering worker with open tasks");
			}
			let mut open = info.open_tasks.clone().into_inner();
			open.sort();
			open.dedup();
			ensure!(open.len() == info.open_tasks.len(), "a task open twice for one worker");
			for model in info.models.iter() {
				let count = ModelWorkers::<T>::get(model).iter().filter(|e| e.who == who).count();
				match info.status {
					WorkerStatus::Online => ensure!(count == 1, "online worker not indexed once per model"),
					// Left behind by a slash, misses or an eviction; cleared by the next draw.
					WorkerStatus::Offline => ensure!(count <= 1, "offline worker indexed twice"),
					WorkerStatus::Deregistering => ensure!(count == 0, "deregistering worker indexed"),
				}
			}
		}
		for (model, entries) in ModelWorkers::<T>::iter() {
			ensure!(!entries.is_empty(), "empty model index kept in storage");
			for entry in entries.iter() {
				let info = Workers::<T>::get(&entry.who).ok_or("indexed worker not registered")?;
				ensure!(info.models.contains(&model), "worker indexed under a model it does not serve");
				ensure!(entry.profile_id == info.profile_id, "stale profile in index");
				ensure!(entry.vram_mib == info.profile.vram_mib, "stale VRAM in index");
				// Only a slash lowers stake without rewriting the entries; never the other way.
				if info.status == WorkerStatus::Online {
					ensure!(entry.stake >= info.stake, "index stake below the worker's stake");
				}
				ensure!(entry.since <= T::Clock::current_block_number(), "index entry from the future");
			}
		}
		Ok(())
	}
}

impl<T: Config> WorkerRegistry<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn eligible(
		model: ModelId,
		min_vram_mib: u32,
		profile: Option<ProfileId>,
	) -> Vec<Candidate<T::AccountId, BlockNumberFor<T>>> {
		ModelWorkers::<T>::get(model)
			.into_iter()
			.filter(|e| e.vram_mib >= min_vram_mib && profile.map_or(true, |p| p == e.profile_id))
			.map(|e| Candidate {
				weight: e.stake.unique_saturated_into(),
				who: e.who,
				profile_id: e.profile_id,
				since: e.since,
			})
			.collect()
	}

	fn max_candidates() -> u32 {
		T::MaxWorkersPerModel::get()
	}

	fn confirm_drawn(model: ModelId, who: &T::AccountId, indexed_weight: u128) -> Option<u128> {
		let Some(info) = Workers::<T>::get(who).filter(|info| info.status == WorkerStatus::Online && info.models.contains(&model))
		else {
			Self::remove_from_indexes(who, &[model]);
			return None;
		};
		let current: u128 = info.stake.unique_saturated_into();
		// Weight only ever drops behind the index's back (a slash), so never draw with more.
		if current >= indexed_weight {
			return Some(indexed_weight);
		}
		ModelWorkers::<T>::mutate(model, |entries| {
			entries.iter_mut().filter(|e| &e.who == who).for_each(|e| e.stake = info.stake)
		});
		Some(current)
	}

	fn unbonding_period() -> BlockNumberFor<T> {
		Self::params().unbonding_period
	}

	fn profile_id(who: &T::AccountId) -> Option<ProfileId> {
		Workers::<T>::get(who).map(|info| info.profile_id)
	}

	fn slash(
		who: &T::AccountId,
		fraction: Perbill,
		at_least: BalanceOf<T>,
		reason: SlashReason,
		task: TaskId,
	) -> BalanceOf<T> {
		Self::do_slash(who, fraction, at_least, reason, task)
	}

	fn earnings_pot() -> T::AccountId {
		T::EarningsPot::get()
	}

	fn has_room(who: &T::AccountId) -> bool {
		Workers::<T>::get(who).is_some_and(|info| (info.open_tasks.len() as u32) < T::MaxOpenTasks::get())
	}

	fn open_task(who: &T::AccountId, task: TaskId) -> bool {
		Workers::<T>::mutate(who, |maybe| maybe.as_mut().is_some_and(|info| info.open_tasks.try_push(task).is_ok()))
	}

	fn close_task(who: &T::AccountId, task: TaskId, report: Report<BalanceOf<T>>) {
		let max_missed = Self::params().max_missed;
		Self::mutate_worker(who, |who, info| {
			info.open_tasks.retain(|t| *t != task);
			let reputation = &mut info.reputation;
			match report {
				Report::Success { earned } => {
					reputation.successes = reputation.successes.saturating_add(1);
					info.missed_in_row = 0;
					info.earnings = info.earnings.saturating_add(earned);
				},
				Report::Fault => reputation.faults = reputation.faults.saturating_add(1),
				Report::Missed => {
					reputation.misses = reputation.misses.saturating_add(1);
					info.missed_in_row = info.missed_in_row.saturating_add(1);
					if info.status == WorkerStatus::Online && info.missed_in_row >= max_missed {
						Self::set_offline(who, info, OfflineReason::MissedAssignments);
					}
				},
				Report::Neutral => {},
			}
		});
	}

	fn open_tasks(who: &T::AccountId) -> Vec<TaskId> {
		Workers::<T>::get(who).map(|info| info.open_tasks.into_inner()).unwrap_or_default()
	}

	fn open_task_count(of_kind: impl Fn(TaskId) -> bool) -> u32 {
		Workers::<T>::iter_values().map(|info| info.open_tasks.iter().filter(|t| of_kind(**t)).count() as u32).sum()
	}
}
