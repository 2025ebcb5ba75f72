//! The ranking phase: the draw of who ranks what, then committed and revealed rankings.

use codec::Encode;
use frame_support::{dispatch::DispatchResult, ensure, traits::Randomness};
use replica_primitives::{
	swarm::{is_valid_ranking, ranking_commitment, ranking_subset},
	Digest,
};
use sp_runtime::traits::{One, Saturating};

use crate::*;
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// Draws the ranking seed with randomness nobody knew when the answer reveals ended;
	/// waits a block while there is none, and fails the query at its timeout.
	pub(crate) fn draw(query: QueryId, info: &mut QueryOf<T>, now: BlockNumberFor<T>) {
		let QueryStatus::Drawing { timeout_at } = info.status else { return };
		let subject = (b"replica/swarm", query).encode();
		let (random, known_since) = T::Randomness::random(&subject);
		if known_since <= info.draw_after {
			if now >= timeout_at {
				let lost: alloc::vec::Vec<bool> =
					info.agents.iter().map(|a| a.answer != AnswerState::Revealed).collect();
				Self::fail(query, info, FailReason::NoRandomness, &lost);
			} else {
				Self::schedule(query, info, now.saturating_add(One::one()));
			}
			return;
		}
		let seed = sp_io::hashing::blake2_256(&(subject, random).encode());
		info.seed = Some(seed);
		let deadline = now.saturating_add(info.windows.rank);
		info.status = QueryStatus::Ranking { deadline };
		Self::schedule(query, info, deadline);
		let answerers = info.answerers.iter().filter_map(|i| info.agents.get(*i as usize)).map(|a| a.who.clone()).collect();
		Self::deposit_event(Event::RankingDrawn { query, seed, answerers, deadline });
	}

	/// `who`'s answer (and ranker) index among the revealed answers.
	pub(crate) fn answerer_index(info: &QueryOf<T>, who: &T::AccountId) -> Option<u32> {
		info.answerers
			.iter()
			.position(|i| info.agents.get(*i as usize).is_some_and(|a| &a.who == who))
			.map(|j| j as u32)
	}

	pub(crate) fn do_commit_ranking(agent: T::AccountId, query: QueryId, commitment: Digest) -> DispatchResult {
		let mut info = Queries::<T>::get(query).ok_or(Error::<T>::UnknownQuery)?;
		ensure!(matches!(info.status, QueryStatus::Ranking { .. }), Error::<T>::NotRankingPhase);
		let index = Self::agent_index(&info, &agent).ok_or(Error::<T>::NotAgent)?;
		let entry = info.agents.get_mut(index as usize).ok_or(Error::<T>::NotAgent)?;
		ensure!(entry.answer == AnswerState::Revealed, Error::<T>::NotAnswerer);
		ensure!(entry.ranking == RankingState::None, Error::<T>::AlreadyCommitted);
		entry.ranking = RankingState::Committed(commitment);
		Self::deposit_event(Event::RankingCommitted { query, agent });
		let all_in = info
			.agents
			.iter()
			.filter(|a| a.answer == AnswerState::Revealed)
			.all(|a| a.ranking != RankingState::None);
		if all_in {
			Self::start_ranking_reveals(query, &mut info);
		}
		Queries::<T>::insert(query, info);
		Ok(())
	}

	/// The ranking phase is over: committed rankings are revealed next; with none committed
	/// the query is settled at once (and fails: nothing to select by).
	pub(crate) fn end_ranking_commits(query: QueryId, info: &mut QueryOf<T>) {
		if info.agents.iter().any(|a| matches!(a.ranking, RankingState::Committed(_))) {
			Self::start_ranking_reveals(query, info);
		} else {
			Self::settle(query, info);
		}
	}

	fn start_ranking_reveals(query: QueryId, info: &mut QueryOf<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(info.windows.rank_reveal);
		info.status = QueryStatus::RevealingRankings { deadline };
		Self::schedule(query, info, deadline);
		Self::deposit_event(Event::RankingRevealPhaseStarted { query, deadline });
	}

	pub(crate) fn do_reveal_ranking(agent: T::AccountId, query: QueryId, order: OrderOf<T>, salt: [u8; 32]) -> DispatchResult {
		let mut info = Queries::<T>::get(query).ok_or(Error::<T>::UnknownQuery)?;
		ensure!(matches!(info.status, QueryStatus::RevealingRankings { .. }), Error::<T>::NotRankingRevealPhase);
		let index = Self::agent_index(&info, &agent).ok_or(Error::<T>::NotAgent)?;
		let ranker = Self::answerer_index(&info, &agent).ok_or(Error::<T>::NotAnswerer)?;
		let entry = info.agents.get(index as usize).ok_or(Error::<T>::NotAgent)?;
		let commitment = match entry.ranking {
			RankingState::Committed(c) => c,
			RankingState::None => return Err(Error::<T>::NotCommitted.into()),
			RankingState::Revealed | RankingState::Invalid => return Err(Error::<T>::AlreadyRevealed.into()),
		};
		ensure!(
			ranking_commitment(query, &Self::agent_bytes(&agent), &order, &salt) == commitment,
			Error::<T>::CommitmentMismatch
		);
		let seed = info.seed.unwrap_or_default();
		let subset = ranking_subset(seed, info.answerers.len() as u32, ranker);
		let state = if is_valid_ranking(&subset, &order) {
			Rankings::<T>::insert(query, ranker, order);
			Self::deposit_event(Event::RankingRevealed { query, agent });
			RankingState::Revealed
		} else {
			Self::deposit_event(Event::BadRanking { query, agent });
			RankingState::Invalid
		};
		if let Some(a) = info.agents.get_mut(index as usize) {
			a.ranking = state;
		}
		if !info.agents.iter().any(|a| matches!(a.ranking, RankingState::Committed(_))) {
			// Every committed ranking is in: settle in the next block's hook.
			Self::schedule(query, &mut info, frame_system::Pallet::<T>::block_number().saturating_add(One::one()));
		}
		Queries::<T>::insert(query, info);
		Ok(())
	}
}
