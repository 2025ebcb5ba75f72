//! Full rounds, the money of every ending, and the agenda.

use super::*;
use crate::{Error, FailReason, HoldReason, QueryCount, Rankings};
use frame_support::{assert_noop, traits::fungible::InspectHold};
use replica_primitives::swarm::{self, Ranking};

const SEVEN: [AccountId; 7] = [1, 2, 3, 4, 5, 6, 7];

/// The finalization event of `query`: (winner, reward, forfeited).
fn finalized(query: QueryId) -> (AccountId, Balance, Vec<AccountId>) {
	events()
		.into_iter()
		.find_map(|e| match e {
			Event::QueryFinalized { query: q, winner, reward, forfeited, .. } if q == query =>
				Some((winner, reward, forfeited)),
			_ => None,
		})
		.expect("finalized")
}

fn failed(query: QueryId) -> (FailReason, Vec<AccountId>) {
	events()
		.into_iter()
		.find_map(|e| match e {
			Event::QueryFailed { query: q, reason, forfeited } if q == query => Some((reason, forfeited)),
			_ => None,
		})
		.expect("failed")
}

/// Every answerer's revealed order, as the settlement saw them (read before they are taken).
fn revealed_rankings(query: QueryId) -> Vec<Ranking> {
	Rankings::<Test>::iter_prefix(query)
		.map(|(ranker, order)| Ranking { ranker, rating: swarm::RATING_PRIOR, order: order.into_inner() })
		.collect()
}

#[test]
fn a_full_round_pays_the_best_weighted_answer_and_settles_every_ticket() {
	test(|| {
		let issuance = total_issuance();
		let before: Vec<Balance> = SEVEN.iter().map(|a| free(*a)).collect();
		let (dapp, pot) = (free(DAPP), free(POT));
		let query = answered(&SEVEN);
		assert_eq!(free(DAPP), dapp - FEE, "the fee is held");
		assert!(SEVEN.iter().all(|a| Balances::balance_on_hold(&HoldReason::Ticket.into(), a) == TICKET));
		// Everyone ranks honestly by the answers' true quality: agent 7's is best.
		let orders: Vec<(AccountId, Vec<u32>)> = SEVEN.iter().map(|r| (*r, ranked_by(query, *r, |a| a as i64))).collect();
		for (r, o) in &orders {
			commit_order(query, *r, o);
		}
		for (r, o) in &orders {
			reveal_order(query, *r, o);
		}
		let rankings = revealed_rankings(query);
		assert_eq!(rankings.len(), 7);
		run_to(System::block_number() + 1);

		// The chain's choice is the rating-weighted argmax over the revealed rankings.
		let seed = Queries::<Test>::get(query).unwrap().seed.unwrap();
		let best = swarm::select(seed, 7, &rankings).unwrap();
		let weights = swarm::weights(7, &rankings);
		let all = answerers(query);
		let (winner, reward, forfeited) = finalized(query);
		assert_eq!(winner, all[best as usize]);
		assert_eq!(weights[best as usize], *weights.iter().max().unwrap());
		// Agent 7's answer is ranked first by both its rankers: it has the largest weight.
		assert_eq!(weights[all.iter().position(|a| *a == 7).unwrap()], *weights.iter().max().unwrap());
		// Lost tickets: exactly the answers below the lower median weight.
		let mut sorted = weights.clone();
		sorted.sort();
		let median = sorted[3];
		let poor: Vec<AccountId> = (0..7).filter(|i| weights[*i] < median).map(|i| all[i]).collect();
		let mut forfeited_sorted = forfeited.clone();
		forfeited_sorted.sort();
		let mut poor_sorted = poor.clone();
		poor_sorted.sort();
		assert_eq!(forfeited_sorted, poor_sorted);
		assert!(!poor.is_empty(), "an honest ranking of distinct answers leaves some in the lower half");
		let lost = TICKET * poor.len() as u64;
		assert_eq!(reward, FEE + lost / 2, "the fee and half the lost tickets (winner_share 50%)");
		for (a, b) in SEVEN.iter().zip(&before) {
			let expected = if *a == winner {
				b + reward
			} else if poor.contains(a) {
				b - TICKET
			} else {
				*b
			};
			assert_eq!(free(*a), expected, "agent {a}");
			assert_eq!(Balances::balance_on_hold(&HoldReason::Ticket.into(), a), 0);
		}
		assert_eq!(free(POT), pot + lost - lost / 2);
		assert_eq!(free(DAPP), dapp - FEE);
		assert_eq!(total_issuance(), issuance, "no funds created or destroyed");
		assert!(matches!(status(query), QueryStatus::Finalized { .. }));
		// The winning answer is published and stays readable until pruning.
		let winner_index = Queries::<Test>::get(query).unwrap().agents.iter().position(|a| a.who == winner).unwrap();
		assert_eq!(opened(query, winner_index as u32).unwrap().text.to_vec(), answer_text(winner));
		assert!(events().iter().any(|e| matches!(e, Event::QueryFinalized { answer, .. } if answer.text.to_vec() == answer_text(winner))));
	});
}

#[test]
fn a_finished_query_is_pruned_after_retention_with_everything_it_stored() {
	test(|| {
		let query = answered(&SEVEN);
		rank_all(query, &SEVEN, |_, a| a as i64);
		let finished = System::block_number();
		assert!(Answers::<Test>::iter_prefix(query).count() == 7);
		run_to(finished + RETENTION - 1);
		assert!(Queries::<Test>::contains_key(query));
		run_to(finished + RETENTION);
		assert!(!Queries::<Test>::contains_key(query));
		assert_eq!(Answers::<Test>::iter_prefix(query).count(), 0);
		assert_eq!(QueryCount::<Test>::get(), 0);
		assert!(events().contains(&Event::QueryPruned { query }));
	});
}

#[test]
fn withholders_botched_answers_and_missing_rankings_lose_their_tickets() {
	test(|| {
		let agents = [1, 2, 3, 4, 5, 6, 7, 8, 9];
		let query = create(9);
		for a in &agents[..8] {
			answer(query, *a);
		}
		// Agent 9 commits to something that is not a text answer.
		let image = ResultPayload::Image(Default::default());
		commit_payload(query, 9, &image);
		// Agent 8 withholds its answer.
		for a in [1, 2, 3, 4, 5, 6, 7, 9] {
			reveal(query, a);
		}
		assert!(events().contains(&Event::BadAnswer { query, agent: 9 }));
		let now = System::block_number();
		run_to(now + WINDOW + 1);
		assert!(matches!(status(query), QueryStatus::Ranking { .. }));
		assert_eq!(answerers(query), vec![1, 2, 3, 4, 5, 6, 7]);
		// Agent 7 commits no ranking, agent 6 does not reveal its own.
		for r in 1..=6 {
			commit_order(query, r, &ranked_by(query, r, |a| a as i64));
		}
		run_to(System::block_number() + WINDOW);
		assert!(matches!(status(query), QueryStatus::RevealingRankings { .. }));
		for r in 1..=5 {
			reveal_order(query, r, &ranked_by(query, r, |a| a as i64));
		}
		let before: Vec<Balance> = agents.iter().map(|a| free(*a)).collect();
		run_to(System::block_number() + WINDOW);
		let (winner, _, forfeited) = finalized(query);
		for slacker in [6, 7, 8, 9] {
			assert!(forfeited.contains(&slacker), "agent {slacker} keeps a ticket it did not earn");
			if slacker != winner {
				assert_eq!(free(slacker), before[slacker as usize - 1], "its ticket stays gone");
			}
		}
	});
}

#[test]
fn a_ranking_of_anything_but_ones_subset_is_a_fault() {
	test(|| {
		let query = answered(&SEVEN);
		let all = answerers(query);
		let own = all.iter().position(|a| *a == 1).unwrap() as u32;
		let mut order = subset_of(query, 1);
		// Its own answer in place of one of the others.
		order[0] = own;
		commit_order(query, 1, &order);
		for r in 2..=7 {
			commit_order(query, r, &ranked_by(query, r, |a| a as i64));
		}
		reveal_order(query, 1, &order);
		assert!(events().contains(&Event::BadRanking { query, agent: 1 }));
		for r in 2..=7 {
			reveal_order(query, r, &ranked_by(query, r, |a| a as i64));
		}
		run_to(System::block_number() + 1);
		let (_, _, forfeited) = finalized(query);
		assert!(forfeited.contains(&1));
	});
}

#[test]
fn too_few_answers_fail_and_give_every_ticket_and_the_fee_back() {
	test(|| {
		let (dapp, a1) = (free(DAPP), free(1));
		let query = create(5);
		answer(query, 1);
		answer(query, 2);
		run_to(1 + WINDOW);
		assert_eq!(failed(query), (FailReason::TooFewAnswers, vec![]));
		assert_eq!((free(DAPP), free(1)), (dapp, a1));
	});
}

#[test]
fn too_few_revealed_answers_fail_and_only_withholders_lose_their_tickets() {
	test(|| {
		let (dapp, pot) = (free(DAPP), free(POT));
		let query = create(4);
		for a in 1..=4 {
			answer(query, a);
		}
		reveal(query, 1);
		reveal(query, 2);
		run_to(System::block_number() + WINDOW);
		assert_eq!(failed(query), (FailReason::TooFewAnswers, vec![3, 4]));
		assert_eq!(free(DAPP), dapp);
		assert_eq!((free(1), free(3)), (FUNDS - STAKE, FUNDS - STAKE - TICKET));
		assert_eq!(free(POT), pot + 2 * TICKET);
	});
}

#[test]
fn a_query_nobody_ranks_fails_and_every_ticket_is_lost() {
	test(|| {
		let dapp = free(DAPP);
		let query = answered(&SEVEN);
		run_to(System::block_number() + WINDOW);
		let (reason, forfeited) = failed(query);
		assert_eq!((reason, forfeited.len()), (FailReason::NoRankings, 7));
		assert_eq!(free(DAPP), dapp, "refunded");
	});
}

#[test]
fn the_draw_waits_for_randomness_unknown_when_the_reveals_ended_and_times_out() {
	test(|| {
		let query = create(3);
		for a in 1..=3 {
			answer(query, a);
		}
		// The source stalls: its output is known since before the reveals ended.
		KNOWN_SINCE.with(|k| *k.borrow_mut() = Some(1));
		for a in 1..=3 {
			reveal(query, a);
		}
		let ended = System::block_number() + 1;
		run_to(ended + 2);
		assert!(matches!(status(query), QueryStatus::Drawing { .. }), "no draw on stale randomness");
		assert_noop!(Swarm::advance_query(RuntimeOrigin::signed(DAPP), query), Error::<Test>::NotOverdue);
		run_to(ended + SEED_TIMEOUT);
		assert_eq!(failed(query), (FailReason::NoRandomness, vec![]));
		assert_eq!(free(1), FUNDS - STAKE, "revealers keep their tickets");
	});
}

#[test]
fn the_creator_may_cancel_only_before_anyone_answers() {
	test(|| {
		let dapp = free(DAPP);
		let query = create(3);
		assert_noop!(Swarm::cancel_query(RuntimeOrigin::signed(1), query), Error::<Test>::NotCreator);
		assert_ok!(Swarm::cancel_query(RuntimeOrigin::signed(DAPP), query));
		assert_eq!(free(DAPP), dapp);
		assert!(events().contains(&Event::QueryCancelled { query }));
		let query = create(3);
		answer(query, 1);
		assert_noop!(Swarm::cancel_query(RuntimeOrigin::signed(DAPP), query), Error::<Test>::NotCancellable);
	});
}

#[test]
fn a_starved_hook_carries_deadlines_over_and_anyone_may_advance_them() {
	test(|| {
		let queries: Vec<QueryId> = (0..3).map(|_| create(3)).collect();
		// Room for the hook's base cost and nothing else.
		HookWeight::set(<() as crate::WeightInfo>::on_initialize_base());
		run_to(1 + WINDOW + 3);
		assert!(queries.iter().all(|q| matches!(status(*q), QueryStatus::Answering { .. })), "nothing processed");
		// Anyone may push one along.
		assert_ok!(Swarm::advance_query(RuntimeOrigin::signed(NOT_A_WORKER), queries[0]));
		assert!(matches!(status(queries[0]), QueryStatus::Failed { .. }));
		// With room again, the hook catches up on the rest: nothing was dropped.
		HookWeight::set(frame_support::weights::Weight::from_parts(10_000_000_000_000, 1_000_000_000));
		run_to(System::block_number() + 1);
		assert!(queries.iter().all(|q| matches!(status(*q), QueryStatus::Failed { .. })));
	});
}
