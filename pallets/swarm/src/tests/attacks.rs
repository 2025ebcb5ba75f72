//! Attacks on the swarm protocol, each replayed to show it does not pay: copying answers or
//! rankings, knowing whom one ranks before the answers are fixed, ranking oneself.

use super::*;
use crate::{Error, RankingState};
use frame_support::assert_noop;

#[test]
fn a_copied_answer_commitment_opens_for_nobody_but_its_author() {
	test(|| {
		let query = create(4);
		let sealed = seal_in(&payload(b"a good answer"), &answer_context(query, &bytes(1)), &key_of(query, 1));
		assert_ok!(Swarm::commit_answer(
			RuntimeOrigin::signed(1),
			query,
			sealed.ciphertext.clone().try_into().unwrap(),
			sealed.commitment
		));
		// The copier submits agent 1's sealed answer as its own...
		assert_ok!(Swarm::commit_answer(
			RuntimeOrigin::signed(2),
			query,
			sealed.ciphertext.try_into().unwrap(),
			sealed.commitment
		));
		answer(query, 3);
		answer(query, 4);
		// ...and, once agent 1 reveals, replays its key: the commitment binds agent 1.
		assert_ok!(Swarm::reveal_answer(RuntimeOrigin::signed(1), query, key_of(query, 1)));
		assert_noop!(
			Swarm::reveal_answer(RuntimeOrigin::signed(2), query, key_of(query, 1)),
			Error::<Test>::CommitmentMismatch
		);
		reveal(query, 3);
		reveal(query, 4);
		run_to(System::block_number() + WINDOW + 1);
		// The copier's answer never counts, and its ticket is lost with the withholders'.
		assert_eq!(answerers(query), vec![1, 3, 4]);
		rank_all(query, &[1, 3, 4], |_, a| a as i64);
		let forfeited = events().into_iter().find_map(|e| match e {
			Event::QueryFinalized { forfeited, .. } => Some(forfeited),
			_ => None,
		});
		assert!(forfeited.expect("finalized").contains(&2));
		assert_eq!(free(2), FUNDS - STAKE - TICKET);
	});
}

#[test]
fn a_copied_ranking_commitment_opens_for_nobody_but_its_ranker() {
	test(|| {
		let query = answered(&[1, 2, 3, 4, 5, 6, 7]);
		let order = ranked_by(query, 1, |a| a as i64);
		let commitment = ranking_commitment(query, &bytes(1), &order, &salt_of(query, 1));
		assert_ok!(Swarm::commit_ranking(RuntimeOrigin::signed(1), query, commitment));
		// Agent 2 copies agent 1's commitment (a well-rated ranker's, say)...
		assert_ok!(Swarm::commit_ranking(RuntimeOrigin::signed(2), query, commitment));
		for r in 3..=7 {
			commit_order(query, r, &ranked_by(query, r, |a| a as i64));
		}
		reveal_order(query, 1, &order);
		// ...and replays agent 1's reveal: it does not open a commitment bound to agent 1.
		assert_noop!(
			Swarm::reveal_ranking(RuntimeOrigin::signed(2), query, order.clone().try_into().unwrap(), salt_of(query, 1)),
			Error::<Test>::CommitmentMismatch
		);
		// Nor would the order help it: agent 2 ranks another subset.
		assert_ne!(subset_of(query, 2), subset_of(query, 1));
		let info = Queries::<Test>::get(query).unwrap();
		assert!(matches!(info.agents[1].ranking, RankingState::Committed(_)));
	});
}

#[test]
fn nobody_ranks_its_own_answer_and_every_answer_is_ranked_by_the_same_number() {
	test(|| {
		let agents: Vec<AccountId> = (1..=10).collect();
		let query = answered(&agents);
		let all = answerers(query);
		let mut ranked = vec![0; all.len()];
		for (me, who) in all.iter().enumerate() {
			let subset = subset_of(query, *who);
			assert_eq!(subset.len(), 3, "(10 - 1) / 3 others");
			assert!(!subset.contains(&(me as u32)), "agent {who} ranks itself");
			for a in subset {
				ranked[a as usize] += 1;
			}
		}
		assert!(ranked.iter().all(|r| *r == 3));
	});
}

#[test]
fn subsets_differ_per_agent_and_change_with_the_randomness() {
	let subsets = |salt: u64| {
		let mut out = Vec::new();
		new_test_ext().execute_with(|| {
			SALT.with(|s| *s.borrow_mut() = salt);
			let agents: Vec<AccountId> = (1..=10).collect();
			let query = answered(&agents);
			out = agents.iter().map(|a| subset_of(query, *a)).collect::<Vec<_>>();
			Swarm::do_try_state().unwrap();
		});
		out
	};
	let first = subsets(0);
	let distinct: std::collections::BTreeSet<_> = first.iter().collect();
	assert_eq!(distinct.len(), first.len(), "every agent ranks its own subset");
	// The same answers, another randomness: other subsets. Nobody could pick its own.
	let second = subsets(1);
	assert_ne!(first, second);
	let moved = first.iter().zip(&second).filter(|(a, b)| a != b).count();
	assert!(moved >= 5, "only {moved} of 10 subsets changed");
}

#[test]
fn the_ranking_draw_is_unknown_while_answers_can_still_be_withheld() {
	test(|| {
		let query = create(7);
		for a in 1..=7 {
			answer(query, a);
		}
		for a in 1..=7 {
			reveal(query, a);
			// Until the reveals are over there is no seed: nobody can tell whom it would rank
			// (or who would rank it) before deciding to reveal.
			assert_eq!(Queries::<Test>::get(query).unwrap().seed, None);
		}
		// The last reveal ends the phase in block 2's hook; the draw waits for randomness
		// known only after that (the mock's source is new every block: block 3).
		run_to(2);
		let ended = Queries::<Test>::get(query).unwrap();
		assert_eq!((ended.seed, ended.draw_after), (None, 2));
		run_to(3);
		assert!(Queries::<Test>::get(query).unwrap().seed.is_some());
		// Ranking before the draw is refused.
		assert_noop!(
			Swarm::reveal_ranking(RuntimeOrigin::signed(1), query, vec![0].try_into().unwrap(), [0; 32]),
			Error::<Test>::NotRankingRevealPhase
		);
	});
}
