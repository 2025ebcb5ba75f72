//! The deadline agenda: one entry per query, worked through by `on_initialize` within a
//! `WeightMeter` (what does not fit carries over, nothing is dropped), and `advance_query` for
//! anyone to push an overdue query along.

use frame_support::{dispatch::DispatchResult, ensure, weights::WeightMeter};
use sp_runtime::traits::{One, Saturating};

use crate::*;
use frame_support::pallet_prelude::{Get, Weight};
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// Moves `query`'s one agenda entry to block `at` (never earlier than the next block).
	/// The caller stores `info`.
	pub(crate) fn schedule(query: QueryId, info: &mut QueryOf<T>, at: BlockNumberFor<T>) {
		let next = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		let at = at.max(next);
		Agenda::<T>::remove(info.agenda_at, query);
		Agenda::<T>::insert(at, query, ());
		info.agenda_at = at;
	}

	/// The most one agenda entry can cost to process: every phase end at `MaxAgents`.
	pub fn worst_deadline_weight() -> Weight {
		let n = T::MaxAgents::get();
		T::WeightInfo::deadline_fail(n)
			.max(T::WeightInfo::deadline_draw(n))
			.max(T::WeightInfo::deadline_settle(n))
			.max(T::WeightInfo::deadline_prune(n))
			.max(T::WeightInfo::deadline_stale())
	}

	/// Processes due agenda entries, oldest block first, while `meter` allows one more at its
	/// worst case; records where to resume.
	pub(crate) fn service_agenda(now: BlockNumberFor<T>, meter: &mut WeightMeter) {
		if meter.try_consume(T::WeightInfo::on_initialize_base()).is_err() {
			return;
		}
		let worst = Self::worst_deadline_weight();
		let mut block = IncompleteSince::<T>::get().unwrap_or(now).min(now);
		while block <= now {
			loop {
				if !meter.can_consume(worst) {
					IncompleteSince::<T>::put(block);
					return;
				}
				let Some((query, ())) = Agenda::<T>::iter_prefix(block).next() else {
					// The read that found the block empty.
					meter.consume(T::DbWeight::get().reads(1));
					break;
				};
				Agenda::<T>::remove(block, query);
				meter.consume(Self::process_deadline(now, query).min(worst));
			}
			block = block.saturating_add(One::one());
		}
		IncompleteSince::<T>::put(now.saturating_add(One::one()));
	}

	/// One due deadline. Its agenda entry is already removed; whatever comes next for the
	/// query is scheduled by the step it runs.
	pub(crate) fn process_deadline(now: BlockNumberFor<T>, query: QueryId) -> Weight {
		let Some(mut info) = Queries::<T>::get(query) else { return T::WeightInfo::deadline_stale() };
		let n = (info.agents.len() as u32).max(1);
		let weight = match info.status {
			QueryStatus::Answering { .. } => {
				Self::end_answer_commits(query, &mut info);
				T::WeightInfo::deadline_fail(n)
			},
			QueryStatus::RevealingAnswers { .. } => {
				Self::end_answer_reveals(query, &mut info, now);
				T::WeightInfo::deadline_fail(n)
			},
			QueryStatus::Drawing { .. } => {
				Self::draw(query, &mut info, now);
				T::WeightInfo::deadline_draw(n).max(T::WeightInfo::deadline_fail(n))
			},
			QueryStatus::Ranking { .. } => {
				Self::end_ranking_commits(query, &mut info);
				T::WeightInfo::deadline_settle(n)
			},
			QueryStatus::RevealingRankings { .. } => {
				Self::settle(query, &mut info);
				T::WeightInfo::deadline_settle(n)
			},
			QueryStatus::Finalized { .. } | QueryStatus::Failed { .. } | QueryStatus::Cancelled => {
				let _ = Answers::<T>::clear_prefix(query, T::MaxAgents::get(), None);
				let _ = Rankings::<T>::clear_prefix(query, T::MaxAgents::get(), None);
				Queries::<T>::remove(query);
				QueryCount::<T>::mutate(|c| *c = c.saturating_sub(1));
				Self::deposit_event(Event::QueryPruned { query });
				return T::WeightInfo::deadline_prune(n);
			},
		};
		Queries::<T>::insert(query, info);
		weight
	}

	/// `advance_query`: processes the query's agenda entry if it is due and not a draw.
	pub(crate) fn do_advance(query: QueryId) -> DispatchResult {
		let info = Queries::<T>::get(query).ok_or(Error::<T>::UnknownQuery)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(info.agenda_at <= now && Agenda::<T>::contains_key(info.agenda_at, query), Error::<T>::NotOverdue);
		ensure!(!matches!(info.status, QueryStatus::Drawing { .. }), Error::<T>::NotOverdue);
		Agenda::<T>::remove(info.agenda_at, query);
		Self::process_deadline(now, query);
		Ok(())
	}
}
