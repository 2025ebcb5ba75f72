//! Bad input: every refusal is a typed error and changes nothing.

use super::*;
use crate::{Error, Params, SwarmParams};
use frame_support::assert_noop;
use sp_runtime::{DispatchError, Perbill};

#[test]
fn create_refuses_bad_queries() {
	test(|| {
		let with = |f: &dyn Fn(&mut QuerySpec<Balance, u64>)| {
			let mut s = spec(5);
			f(&mut s);
			s
		};
		let cases: Vec<(QuerySpec<Balance, u64>, Error<Test>)> = vec![
			(with(&|s| s.model = IMAGE_MODEL), Error::UnknownModel),
			(with(&|s| s.model = RETIRED_TEXT_MODEL), Error::UnknownModel),
			(with(&|s| s.prompt = Default::default()), Error::EmptyPrompt),
			(with(&|s| s.fee = 9), Error::FeeTooLow),
			(with(&|s| s.max_agents = 2), Error::InvalidMaxAgents),
			(with(&|s| s.max_agents = MAX_AGENTS + 1), Error::InvalidMaxAgents),
			(with(&|s| s.windows.rank = 0), Error::InvalidWindows),
			(with(&|s| s.windows.answer = 21), Error::InvalidWindows),
		];
		for (spec, error) in cases {
			assert_noop!(Swarm::create_query(RuntimeOrigin::signed(DAPP), spec), error);
		}
		assert_noop!(Swarm::create_query(RuntimeOrigin::signed(POOR_DAPP), with(&|s| s.fee = 30)), Error::<Test>::InsufficientBalance);
		for _ in 0..MAX_QUERIES {
			create(3);
		}
		assert_noop!(Swarm::create_query(RuntimeOrigin::signed(DAPP), spec(3)), Error::<Test>::TooManyQueries);
	});
}

#[test]
fn only_online_workers_serving_the_model_may_answer_once_in_the_answer_phase() {
	test(|| {
		let query = create(3);
		let sealed = seal_in(&payload(b"x"), &answer_context(query, &bytes(IMAGE_ONLY)), &key_of(query, IMAGE_ONLY));
		let commit = |who: AccountId| {
			Swarm::commit_answer(RuntimeOrigin::signed(who), query, sealed.ciphertext.clone().try_into().unwrap(), sealed.commitment)
		};
		for outsider in [IMAGE_ONLY, OFFLINE, NOT_A_WORKER] {
			assert_noop!(commit(outsider), Error::<Test>::NotServing);
		}
		assert_noop!(
			Swarm::commit_answer(RuntimeOrigin::signed(1), 42, Default::default(), [0; 32]),
			Error::<Test>::UnknownQuery
		);
		answer(query, 1);
		assert_noop!(commit(1), Error::<Test>::AlreadyAnswered);
		answer(query, 2);
		answer(query, 3);
		// The third answer filled the swarm: the answer phase is over.
		assert_noop!(commit(4), Error::<Test>::NotAnswerPhase);
	});
}

#[test]
fn an_agent_that_cannot_pay_the_ticket_is_refused() {
	test(|| {
		let query = create(3);
		// Everything but its stake spent.
		let spare = free(1);
		assert_ok!(Balances::transfer_allow_death(RuntimeOrigin::signed(1), NOT_A_WORKER, spare - 5));
		let sealed = seal_in(&payload(b"x"), &answer_context(query, &bytes(1)), &key_of(query, 1));
		assert_noop!(
			Swarm::commit_answer(RuntimeOrigin::signed(1), query, sealed.ciphertext.try_into().unwrap(), sealed.commitment),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn reveals_and_rankings_out_of_turn_are_refused() {
	test(|| {
		let query = create(3);
		answer(query, 1);
		assert_noop!(Swarm::reveal_answer(RuntimeOrigin::signed(1), query, key_of(query, 1)), Error::<Test>::NotAnswerRevealPhase);
		assert_noop!(Swarm::commit_ranking(RuntimeOrigin::signed(1), query, [0; 32]), Error::<Test>::NotRankingPhase);
		answer(query, 2);
		answer(query, 3);
		assert_noop!(Swarm::reveal_answer(RuntimeOrigin::signed(4), query, key_of(query, 4)), Error::<Test>::NotAgent);
		assert_noop!(Swarm::reveal_answer(RuntimeOrigin::signed(1), query, [9; 32]), Error::<Test>::CommitmentMismatch);
		reveal(query, 1);
		assert_noop!(Swarm::reveal_answer(RuntimeOrigin::signed(1), query, key_of(query, 1)), Error::<Test>::AlreadyRevealed);
		reveal(query, 2);
		reveal(query, 3);
		run_to(System::block_number() + 2);
		assert!(matches!(status(query), QueryStatus::Ranking { .. }));
		commit_order(query, 1, &subset_of(query, 1));
		assert_noop!(Swarm::commit_ranking(RuntimeOrigin::signed(1), query, [0; 32]), Error::<Test>::AlreadyCommitted);
		assert_noop!(Swarm::commit_ranking(RuntimeOrigin::signed(5), query, [0; 32]), Error::<Test>::NotAgent);
		assert_noop!(
			Swarm::reveal_ranking(RuntimeOrigin::signed(1), query, subset_of(query, 1).try_into().unwrap(), salt_of(query, 1)),
			Error::<Test>::NotRankingRevealPhase
		);
		run_to(System::block_number() + WINDOW);
		assert!(matches!(status(query), QueryStatus::RevealingRankings { .. }));
		assert_noop!(
			Swarm::reveal_ranking(RuntimeOrigin::signed(2), query, subset_of(query, 2).try_into().unwrap(), salt_of(query, 2)),
			Error::<Test>::NotCommitted
		);
		assert_noop!(
			Swarm::reveal_ranking(RuntimeOrigin::signed(1), query, subset_of(query, 1).try_into().unwrap(), [7; 32]),
			Error::<Test>::CommitmentMismatch
		);
		reveal_order(query, 1, &subset_of(query, 1));
	});
}

#[test]
fn a_withheld_answer_cannot_rank() {
	test(|| {
		let query = create(4);
		for a in 1..=4 {
			answer(query, a);
		}
		for a in 1..=3 {
			reveal(query, a);
		}
		run_to(System::block_number() + WINDOW + 1);
		assert_noop!(Swarm::commit_ranking(RuntimeOrigin::signed(4), query, [0; 32]), Error::<Test>::NotAnswerer);
	});
}

#[test]
fn parameters_are_checked_and_governance_only() {
	test(|| {
		let good = params();
		assert_noop!(Swarm::set_params(RuntimeOrigin::signed(DAPP), good), DispatchError::BadOrigin);
		let bad: [SwarmParams<Balance, u64>; 5] = [
			SwarmParams { min_answers: 1, ..good },
			SwarmParams { min_answers: MAX_AGENTS + 1, ..good },
			SwarmParams { max_window: 0, ..good },
			SwarmParams { seed_timeout: 0, ..good },
			SwarmParams { retention: 0, ..good },
		];
		for p in bad {
			assert_noop!(Swarm::set_params(RuntimeOrigin::root(), p), Error::<Test>::InvalidParams);
		}
		let new = SwarmParams { ticket: 77, winner_share: Perbill::from_percent(10), ..good };
		assert_ok!(Swarm::set_params(RuntimeOrigin::root(), new));
		assert_eq!(Params::<Test>::get(), Some(new));
		// Open queries keep the ticket they were created with; new ones take the new one.
		let query = create(3);
		assert_eq!(Queries::<Test>::get(query).unwrap().ticket, 77);
	});
}

#[test]
fn advance_refuses_what_is_not_overdue() {
	test(|| {
		let query = create(3);
		assert_noop!(Swarm::advance_query(RuntimeOrigin::signed(DAPP), query), Error::<Test>::NotOverdue);
		assert_noop!(Swarm::advance_query(RuntimeOrigin::signed(DAPP), 9), Error::<Test>::UnknownQuery);
	});
}
