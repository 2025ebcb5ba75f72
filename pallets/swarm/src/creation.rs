//! Creating and cancelling queries, and the parameters.

use frame_support::{
	dispatch::DispatchResult,
	ensure,
	traits::{
		fungible::MutateHold,
		tokens::Precision,
	},
};
use sp_runtime::{
	traits::{BlockNumberProvider, Saturating, Zero},
	DispatchError, Perbill,
};

use crate::*;
use frame_support::pallet_prelude::Get;
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// The parameters in force.
	pub fn params() -> ParamsOf<T> {
		Params::<T>::get().unwrap_or_else(Self::default_params)
	}

	/// Parameters for a fresh chain: a ticket of one unit (a Sybil identity pays for every
	/// answer the honest rankers place in the lower half), half of the lost tickets to the
	/// winner, at least 3 answers, windows of up to 100 blocks, 50 blocks to wait for
	/// randomness, a day of retention at 6-second blocks.
	pub fn default_params() -> ParamsOf<T> {
		SwarmParams {
			ticket: 1u32.into(),
			winner_share: Perbill::from_percent(50),
			min_fee: 1u32.into(),
			min_answers: 3,
			max_window: 100u32.into(),
			seed_timeout: 50u32.into(),
			retention: 14_400u32.into(),
		}
	}

	/// See [`Error::InvalidParams`].
	pub fn params_are_valid(params: &ParamsOf<T>) -> bool {
		params.min_answers >= 2 &&
			params.min_answers <= T::MaxAgents::get() &&
			!params.max_window.is_zero() &&
			!params.seed_timeout.is_zero() &&
			!params.retention.is_zero()
	}

	fn windows_are_valid(windows: &Windows<BlockNumberFor<T>>, params: &ParamsOf<T>) -> bool {
		[windows.answer, windows.reveal, windows.rank, windows.rank_reveal]
			.iter()
			.all(|w| !w.is_zero() && *w <= params.max_window)
	}

	pub(crate) fn do_create(creator: T::AccountId, spec: QuerySpecOf<T>) -> Result<QueryId, DispatchError> {
		let params = Self::params();
		ensure!(T::TextModels::is_open_text_model(spec.model), Error::<T>::UnknownModel);
		ensure!(!spec.prompt.is_empty(), Error::<T>::EmptyPrompt);
		ensure!(spec.fee >= params.min_fee, Error::<T>::FeeTooLow);
		ensure!(
			spec.max_agents >= params.min_answers && spec.max_agents <= T::MaxAgents::get(),
			Error::<T>::InvalidMaxAgents
		);
		ensure!(Self::windows_are_valid(&spec.windows, &params), Error::<T>::InvalidWindows);
		ensure!(QueryCount::<T>::get() < T::MaxQueries::get(), Error::<T>::TooManyQueries);
		T::Currency::hold(&HoldReason::QueryFee.into(), &creator, spec.fee)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		let query = NextQueryId::<T>::get();
		NextQueryId::<T>::put(query.saturating_add(1));
		QueryCount::<T>::mutate(|n| *n = n.saturating_add(1));
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(spec.windows.answer);
		let mut info = QueryInfo {
			creator: creator.clone(),
			model: spec.model,
			prompt: spec.prompt,
			fee: spec.fee,
			ticket: params.ticket,
			max_agents: spec.max_agents,
			windows: spec.windows,
			status: QueryStatus::Answering { deadline },
			agents: Default::default(),
			answerers: Default::default(),
			seed: None,
			draw_after: T::Clock::current_block_number(),
			agenda_at: now,
		};
		Self::schedule(query, &mut info, deadline);
		Self::deposit_event(Event::QueryCreated {
			query,
			creator,
			model: info.model,
			fee: info.fee,
			ticket: info.ticket,
			deadline,
		});
		Queries::<T>::insert(query, info);
		Ok(query)
	}

	pub(crate) fn do_cancel(who: T::AccountId, query: QueryId) -> DispatchResult {
		let mut info = Queries::<T>::get(query).ok_or(Error::<T>::UnknownQuery)?;
		ensure!(info.creator == who, Error::<T>::NotCreator);
		ensure!(matches!(info.status, QueryStatus::Answering { .. }) && info.agents.is_empty(), Error::<T>::NotCancellable);
		let _ = T::Currency::release(&HoldReason::QueryFee.into(), &info.creator, info.fee, Precision::BestEffort);
		info.status = QueryStatus::Cancelled;
		Self::finish(query, &mut info);
		Queries::<T>::insert(query, info);
		Self::deposit_event(Event::QueryCancelled { query });
		Ok(())
	}
}
