//! The answer phase: agents join with sealed answers and tickets, then reveal their keys.

use frame_support::{dispatch::DispatchResult, ensure, traits::fungible::MutateHold, BoundedVec};
use pallet_workers::WorkerRegistry;
use replica_primitives::{
	commitment::open_in,
	swarm::answer_context,
	Digest, OpenError, ResultPayload,
};
use sp_runtime::traits::{BlockNumberProvider, One, Saturating};

use crate::*;
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// An account as the 32 bytes the commitments bind (its SCALE encoding, zero-padded).
	pub fn agent_bytes(who: &T::AccountId) -> [u8; 32] {
		let encoded = codec::Encode::encode(who);
		let mut out = [0u8; 32];
		let n = encoded.len().min(32);
		out[..n].copy_from_slice(&encoded[..n]);
		out
	}

	/// `who`'s index in `info.agents`.
	pub(crate) fn agent_index(info: &QueryOf<T>, who: &T::AccountId) -> Option<u32> {
		info.agents.iter().position(|a| &a.who == who).map(|i| i as u32)
	}

	pub(crate) fn do_commit_answer(
		agent: T::AccountId,
		query: QueryId,
		ciphertext: BoundedVec<u8, T::MaxCiphertextLen>,
		commitment: Digest,
	) -> DispatchResult {
		let mut info = Queries::<T>::get(query).ok_or(Error::<T>::UnknownQuery)?;
		ensure!(matches!(info.status, QueryStatus::Answering { .. }), Error::<T>::NotAnswerPhase);
		ensure!(Self::agent_index(&info, &agent).is_none(), Error::<T>::AlreadyAnswered);
		ensure!(
			T::Workers::eligible(info.model, 0, None).iter().any(|c| c.who == agent),
			Error::<T>::NotServing
		);
		let index = info.agents.len() as u32;
		info.agents
			.try_push(Agent { who: agent.clone(), answer: AnswerState::Committed, ranking: RankingState::None })
			// `max_agents` ≤ `MaxAgents`, and a full swarm leaves the answer phase at once.
			.map_err(|_| Error::<T>::NotAnswerPhase)?;
		T::Currency::hold(&HoldReason::Ticket.into(), &agent, info.ticket)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		Answers::<T>::insert(query, index, AnswerOf::<T>::Sealed { commitment, ciphertext });
		Self::deposit_event(Event::AnswerCommitted { query, agent });
		if info.agents.len() as u32 >= info.max_agents {
			Self::start_answer_reveals(query, &mut info);
		}
		Queries::<T>::insert(query, info);
		Ok(())
	}

	/// The answer phase is over (deadline, or the swarm is full): too few agents fail the
	/// query (their tickets go back: nobody withheld anything yet), the others reveal.
	pub(crate) fn end_answer_commits(query: QueryId, info: &mut QueryOf<T>) {
		if (info.agents.len() as u32) < Self::params().min_answers {
			let lost = alloc::vec![false; info.agents.len()];
			Self::fail(query, info, FailReason::TooFewAnswers, &lost);
		} else {
			Self::start_answer_reveals(query, info);
		}
	}

	fn start_answer_reveals(query: QueryId, info: &mut QueryOf<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(info.windows.reveal);
		info.status = QueryStatus::RevealingAnswers { deadline };
		Self::schedule(query, info, deadline);
		Self::deposit_event(Event::AnswerRevealPhaseStarted { query, deadline });
	}

	pub(crate) fn do_reveal_answer(agent: T::AccountId, query: QueryId, key: [u8; 32]) -> DispatchResult {
		let mut info = Queries::<T>::get(query).ok_or(Error::<T>::UnknownQuery)?;
		ensure!(matches!(info.status, QueryStatus::RevealingAnswers { .. }), Error::<T>::NotAnswerRevealPhase);
		let index = Self::agent_index(&info, &agent).ok_or(Error::<T>::NotAgent)?;
		let Some(AnswerOf::<T>::Sealed { commitment, ciphertext }) = Answers::<T>::get(query, index) else {
			return Err(Error::<T>::AlreadyRevealed.into());
		};
		let context = answer_context(query, &Self::agent_bytes(&agent));
		let state = match open_in(&ciphertext, &key, &commitment, &context) {
			Err(OpenError::CommitmentMismatch) | Err(OpenError::TooLarge) =>
				return Err(Error::<T>::CommitmentMismatch.into()),
			Ok(ResultPayload::Text(answer)) => {
				Answers::<T>::insert(query, index, AnswerOf::<T>::Opened(answer));
				Self::deposit_event(Event::AnswerRevealed { query, agent });
				AnswerState::Revealed
			},
			Ok(_) | Err(_) => {
				// The commitment opened: the agent committed to this garbage. The ciphertext
				// is of no use to anyone any more.
				Answers::<T>::remove(query, index);
				Self::deposit_event(Event::BadAnswer { query, agent });
				AnswerState::Malformed
			},
		};
		if let Some(a) = info.agents.get_mut(index as usize) {
			a.answer = state;
		}
		if info.agents.iter().all(|a| a.answer != AnswerState::Committed) {
			// Everyone revealed: end the phase in the next block's hook (it settles tickets
			// when too few answers came, which no reveal should pay for).
			Self::schedule(query, &mut info, frame_system::Pallet::<T>::block_number().saturating_add(One::one()));
		}
		Queries::<T>::insert(query, info);
		Ok(())
	}

	/// The indices of the agents whose answers were revealed, in join order.
	pub(crate) fn revealed_agents(info: &QueryOf<T>) -> alloc::vec::Vec<u32> {
		info.agents
			.iter()
			.enumerate()
			.filter(|(_, a)| a.answer == AnswerState::Revealed)
			.map(|(i, _)| i as u32)
			.collect()
	}

	/// The answer reveals are over: the revealed answers become the ranked ones, and the
	/// ranking is drawn with randomness unknown now. With too few, the query fails: the fee
	/// goes back, and so do the tickets of agents that revealed; the others lose theirs.
	pub(crate) fn end_answer_reveals(query: QueryId, info: &mut QueryOf<T>, now: BlockNumberFor<T>) {
		let params = Self::params();
		let revealed = Self::revealed_agents(info);
		if (revealed.len() as u32) < params.min_answers {
			let lost: alloc::vec::Vec<bool> = info.agents.iter().map(|a| a.answer != AnswerState::Revealed).collect();
			Self::fail(query, info, FailReason::TooFewAnswers, &lost);
			return;
		}
		info.answerers = BoundedVec::truncate_from(revealed);
		info.draw_after = T::Clock::current_block_number();
		info.status = QueryStatus::Drawing { timeout_at: now.saturating_add(params.seed_timeout) };
		Self::schedule(query, info, now.saturating_add(One::one()));
	}
}
