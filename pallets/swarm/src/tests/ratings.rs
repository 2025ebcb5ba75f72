//! Ratings: each rated round adds a ranker's deviations to its window; `1 - sigma` over the
//! window weighs its next rankings.

use super::*;
use crate::Ratings;
use replica_primitives::swarm::{self, Deviations, ONE, RATING_PRIOR};
use sp_runtime::Perbill;

/// Deviations of every ranker from the mean score each answer received, worked out here for
/// rankings of two (k = 2 for 7 answers): the better of the two scores 1, the other 0.
fn by_hand(orders: &[(AccountId, Vec<u32>)], answers: usize) -> Vec<(AccountId, Deviations)> {
	pairs_by_hand(orders, answers)
		.into_iter()
		.map(|(who, d)| {
			let sum_of_squares = d.iter().map(|x| (x.unsigned_abs() as u128).pow(2)).sum();
			(who, Deviations { count: 2, sum: d[0] + d[1], sum_of_squares })
		})
		.collect()
}

/// Each ranker's two deviations: on the answer it put first, and on the other.
fn pairs_by_hand(orders: &[(AccountId, Vec<u32>)], answers: usize) -> Vec<(AccountId, [i64; 2])> {
	let mut sum = vec![0i64; answers];
	let mut count = vec![0i64; answers];
	for (_, order) in orders {
		assert_eq!(order.len(), 2);
		sum[order[0] as usize] += ONE as i64;
		count[order[0] as usize] += 1;
		count[order[1] as usize] += 1;
	}
	// Each answer is ranked twice: its mean is 0, 1/2 or 1.
	let mean = |a: u32| sum[a as usize] / count[a as usize];
	orders
		.iter()
		.map(|(who, order)| (*who, [ONE as i64 - mean(order[0]), -mean(order[1])]))
		.collect()
}

#[test]
fn a_rated_round_adds_each_rankers_deviations_as_worked_out_by_hand() {
	test(|| {
		let agents: Vec<AccountId> = (1..=7).collect();
		assert!(agents.iter().all(|a| Swarm::rating_of(a) == RATING_PRIOR), "newcomers start at the prior");
		let query = answered(&agents);
		// Everyone ranks by quality (the agent's number), except agent 4, which reverses it.
		let quality = |r: AccountId, a: AccountId| if r == 4 { -(a as i64) } else { a as i64 };
		let orders: Vec<(AccountId, Vec<u32>)> = agents.iter().map(|r| (*r, ranked_by(query, *r, |a| quality(*r, a)))).collect();
		let expected = by_hand(&orders, 7);
		rank_all(query, &agents, quality);
		for (who, deviations) in expected {
			assert_eq!(Ratings::<Test>::get(who).to_vec(), vec![deviations], "agent {who}");
		}
		// Two deviations d0, d1 have sigma |d0 - d1| / 2: the rating is 1 - |d0 - d1| / 2.
		for (who, [d0, d1]) in pairs_by_hand(&orders, 7) {
			let expected = Perbill::from_parts((ONE - (d0 - d1).unsigned_abs() / 2) as u32);
			assert_eq!(Swarm::rating_of(&who), expected, "agent {who}: deviations {d0}, {d1}");
		}
	});
}

#[test]
fn small_rounds_are_not_rated() {
	test(|| {
		let agents = [1, 2, 3, 4, 5, 6];
		let query = answered(&agents);
		rank_all(query, &agents, |_, a| a as i64);
		assert!(matches!(status(query), QueryStatus::Finalized { .. }));
		assert!(agents.iter().all(|a| Ratings::<Test>::get(a).is_empty()));
	});
}

#[test]
fn the_window_keeps_the_last_rated_rounds_only() {
	test(|| {
		let agents: Vec<AccountId> = (1..=7).collect();
		let mut rounds = Vec::new();
		for round in 0..RATING_WINDOW + 1 {
			SALT.with(|s| *s.borrow_mut() = round as u64);
			let query = answered(&agents);
			let orders: Vec<(AccountId, Vec<u32>)> = agents.iter().map(|r| (*r, ranked_by(query, *r, |a| a as i64))).collect();
			rounds.push(by_hand(&orders, 7));
			rank_all(query, &agents, |_, a| a as i64);
		}
		for who in &agents {
			let window = Ratings::<Test>::get(who).to_vec();
			let expected: Vec<Deviations> = rounds[1..]
				.iter()
				.map(|round| round.iter().find(|(w, _)| w == who).unwrap().1)
				.collect();
			assert_eq!(window, expected, "agent {who}: the oldest round dropped");
			assert_eq!(Swarm::rating_of(who), swarm::rating(expected.iter()));
		}
	});
}
