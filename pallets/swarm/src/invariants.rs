//! The pallet's invariants (`try_state`, and every test's epilogue).

use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
use frame_support::{ensure, traits::fungible::InspectHold};
use sp_runtime::traits::Saturating;

use crate::*;
use frame_support::pallet_prelude::Get;

impl<T: Config> Pallet<T> {
	/// Invariants:
	/// - each creator's balance held for query fees equals the fees of its open queries, and
	///   each agent's balance held for tickets equals the tickets of the open queries it
	///   answered (nothing paid twice, kept back or left held by a finished query);
	/// - every query in storage has exactly one agenda entry, at its `agenda_at`, not behind
	///   where the agenda resumes, and the agenda holds nothing else; `QueryCount` counts the
	///   queries and stays within `MaxQueries`;
	/// - a query's agents are distinct and at most `max_agents` ≤ `MaxAgents`; its answerers
	///   are, in join order, exactly its agents whose answers were revealed (once they are set);
	/// - stored answers belong to an agent of a stored query: sealed while it is committed,
	///   opened once revealed, none for a malformed one; stored rankings belong to an open
	///   query's ranker whose ranking was revealed valid.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut fees: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut tickets: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let resume = IncompleteSince::<T>::get();
		let mut count = 0u32;
		for (query, info) in Queries::<T>::iter() {
			count += 1;
			fees.entry(info.creator.clone()).or_default();
			let open = !info.status.is_finished();
			ensure!(Agenda::<T>::contains_key(info.agenda_at, query), "query without its agenda entry");
			if let Some(resume) = resume {
				ensure!(info.agenda_at >= resume, "a query's deadline lies behind the agenda");
			}
			ensure!(info.max_agents <= T::MaxAgents::get(), "max_agents above MaxAgents");
			ensure!(info.agents.len() as u32 <= info.max_agents, "more agents than max_agents");
			let distinct: BTreeSet<_> = info.agents.iter().map(|a| a.who.clone()).collect();
			ensure!(distinct.len() == info.agents.len(), "an agent joined twice");
			if !info.answerers.is_empty() {
				ensure!(info.answerers.to_vec() == Self::revealed_agents(&info), "answerers are not the revealed agents");
			}
			for agent in &info.agents {
				let held = tickets.entry(agent.who.clone()).or_default();
				if open {
					*held = held.saturating_add(info.ticket);
				}
			}
			if open {
				let fee = fees.entry(info.creator.clone()).or_default();
				*fee = fee.saturating_add(info.fee);
			}
			for (index, agent) in info.agents.iter().enumerate() {
				let stored = Answers::<T>::get(query, index as u32);
				let consistent = match (agent.answer, &stored) {
					(AnswerState::Committed, Some(AnswerOf::<T>::Sealed { .. })) => true,
					(AnswerState::Revealed, Some(AnswerOf::<T>::Opened(_))) => true,
					(AnswerState::Malformed, None) => true,
					_ => false,
				};
				ensure!(consistent, "a stored answer does not match its agent's state");
			}
			ensure!(
				Answers::<T>::iter_prefix(query).count() <= info.agents.len(),
				"an answer of no agent"
			);
			for (ranker, _) in Rankings::<T>::iter_prefix(query) {
				let agent = info.answerers.get(ranker as usize).and_then(|i| info.agents.get(*i as usize));
				ensure!(
					matches!(info.status, QueryStatus::RevealingRankings { .. }) &&
						agent.is_some_and(|a| a.ranking == RankingState::Revealed),
					"a stored ranking of no revealed ranker"
				);
			}
		}
		ensure!(count == QueryCount::<T>::get(), "QueryCount does not count the queries");
		ensure!(count <= T::MaxQueries::get(), "more queries than MaxQueries");
		ensure!(Agenda::<T>::iter().count() as u32 == count, "an agenda entry of no query");
		let orphan_answer = Answers::<T>::iter_keys().any(|(q, _)| !Queries::<T>::contains_key(q));
		ensure!(!orphan_answer, "an answer of a pruned query");
		let orphan_ranking = Rankings::<T>::iter_keys().any(|(q, _)| !Queries::<T>::contains_key(q));
		ensure!(!orphan_ranking, "a ranking of a pruned query");
		for (who, fee) in fees {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::QueryFee.into(), &who) == fee,
				"a creator's held fees differ from its open queries' fees"
			);
		}
		for (who, ticket) in tickets {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::Ticket.into(), &who) == ticket,
				"an agent's held tickets differ from its open queries' tickets"
			);
		}
		Ok(())
	}
}
