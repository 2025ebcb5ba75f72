//! Settlement: selection, tickets, the fee and ratings; failure with refunds; finishing.

use alloc::vec::Vec;
use frame_support::traits::{
	fungible::{hold::Balanced as BalancedHold, Balanced, MutateHold},
	tokens::{Fortitude, Precision, Restriction},
	Imbalance, OnUnbalanced,
};
use replica_primitives::swarm::{self, Ranking};
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedFrom, UniqueSaturatedInto, Zero},
	Perbill,
};

use crate::*;
use frame_support::pallet_prelude::Get;

impl<T: Config> Pallet<T> {
	/// `who`'s rating now: `1 - sigma` over its window of rated rounds, or the prior.
	pub fn rating_of(who: &T::AccountId) -> Perbill {
		swarm::rating(Ratings::<T>::get(who).iter())
	}

	/// Decides a query from its revealed rankings (see the crate doc, "Settle"), or fails it
	/// when none was revealed.
	pub(crate) fn settle(query: QueryId, info: &mut QueryOf<T>) {
		let seed = info.seed.unwrap_or_default();
		let answers = info.answerers.len() as u32;
		let mut rankings = Vec::new();
		for (ranker, agent) in info.answerers.iter().enumerate() {
			let Some(agent) = info.agents.get(*agent as usize) else { continue };
			let ranker = ranker as u32;
			// Stored for valid revealed rankings only.
			let Some(order) = Rankings::<T>::take(query, ranker) else { continue };
			rankings.push(Ranking { ranker, rating: Self::rating_of(&agent.who), order: order.into_inner() });
		}
		if rankings.is_empty() {
			// Every answering agent failed to rank; nothing to select by.
			let lost = alloc::vec![true; info.agents.len()];
			Self::fail(query, info, FailReason::NoRankings, &lost);
			return;
		}
		let best = swarm::select(seed, answers, &rankings).unwrap_or_default();
		let poor = swarm::forfeits(&swarm::weights(answers, &rankings), best);
		let mut lost = alloc::vec![true; info.agents.len()];
		for (j, agent) in info.answerers.iter().enumerate() {
			if let (Some(l), Some(a)) = (lost.get_mut(*agent as usize), info.agents.get(*agent as usize)) {
				*l = poor.get(j).copied().unwrap_or(true) || a.ranking != RankingState::Revealed;
			}
		}
		let winner = info.answerers.get(best as usize).copied().unwrap_or_default();
		let settled = info.agents.get(winner as usize).map(|a| a.who.clone()).zip(swarm::settle_forfeits(
			info.fee.unique_saturated_into(),
			info.ticket.unique_saturated_into(),
			&lost,
			winner,
			Self::params().winner_share,
		));
		let Some((winner_who, settlement)) = settled else {
			frame_support::defensive!("the selected answer is an agent's");
			Self::fail(query, info, FailReason::NoRankings, &lost);
			return;
		};
		let taken = BalanceOf::<T>::unique_saturated_from(settlement.taken);

		if T::Currency::transfer_on_hold(
			&HoldReason::QueryFee.into(),
			&info.creator,
			&winner_who,
			info.fee,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		)
		.is_err()
		{
			frame_support::defensive!("the fee is held and the winner's account exists");
			let _ = T::Currency::release(&HoldReason::QueryFee.into(), &info.creator, info.fee, Precision::BestEffort);
		}
		let forfeited = Self::settle_tickets(info, &lost, Some((&winner_who, taken)));

		if answers >= swarm::MIN_RATED_ANSWERS {
			for (ranking, deviations) in rankings.iter().zip(swarm::deviations(answers, &rankings)) {
				let Some(who) = info.answerers.get(ranking.ranker as usize).and_then(|i| info.agents.get(*i as usize)) else {
					continue;
				};
				Ratings::<T>::mutate(&who.who, |window| {
					if window.len() as u32 >= T::RatingWindow::get() {
						window.remove(0);
					}
					let _ = window.try_push(deviations);
				});
			}
		}

		let answer = match Answers::<T>::get(query, winner) {
			Some(AnswerOf::<T>::Opened(answer)) => answer,
			_ => {
				frame_support::defensive!("the winner's answer was revealed");
				replica_primitives::TextResult { tokens_digest: [0; 32], text: Default::default() }
			},
		};
		let reward = info.fee.saturating_add(taken);
		info.status = QueryStatus::Finalized { winner };
		Self::finish(query, info);
		Self::deposit_event(Event::QueryFinalized { query, winner: winner_who, answer, reward, forfeited });
	}

	/// Fails a query: the fee goes back to the creator; the agents flagged in `lost` lose
	/// their tickets to `OnForfeit`, the others get theirs back.
	pub(crate) fn fail(query: QueryId, info: &mut QueryOf<T>, reason: FailReason, lost: &[bool]) {
		let _ = T::Currency::release(&HoldReason::QueryFee.into(), &info.creator, info.fee, Precision::BestEffort);
		let forfeited = Self::settle_tickets(info, lost, None);
		info.status = QueryStatus::Failed { reason };
		Self::finish(query, info);
		Self::deposit_event(Event::QueryFailed { query, reason, forfeited });
	}

	/// Releases the tickets of agents not flagged in `lost`, and takes the others': `to` gets
	/// its amount of them, `OnForfeit` the rest. Returns who lost its ticket.
	fn settle_tickets(info: &QueryOf<T>, lost: &[bool], to: Option<(&T::AccountId, BalanceOf<T>)>) -> Vec<T::AccountId> {
		let reason = HoldReason::Ticket.into();
		let mut pool = CreditOf::<T>::zero();
		let mut forfeited = Vec::new();
		for (agent, lost) in info.agents.iter().zip(lost) {
			if *lost {
				let (credit, _) = <T::Currency as BalancedHold<_>>::slash(&reason, &agent.who, info.ticket);
				pool = pool.merge(credit);
				forfeited.push(agent.who.clone());
			} else {
				let _ = T::Currency::release(&reason, &agent.who, info.ticket, Precision::BestEffort);
			}
		}
		if let Some((winner, amount)) = to {
			let (to_winner, rest) = pool.split(amount);
			pool = rest;
			if let Err(back) = <T::Currency as Balanced<_>>::resolve(winner, to_winner) {
				pool = pool.merge(back);
			}
		}
		if !pool.peek().is_zero() {
			T::OnForfeit::on_unbalanced(pool);
		}
		forfeited
	}

	/// The query is over: prune it after `retention`.
	pub(crate) fn finish(query: QueryId, info: &mut QueryOf<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		Self::schedule(query, info, now.saturating_add(Self::params().retention));
	}
}
