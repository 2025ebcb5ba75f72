//! The rules of ranked consensus for open-ended answers (pallet-swarm), shared with the worker
//! and its simulation so that both compute exactly what the chain does.
//!
//! A swarm of `n` agents answers one query; each answer is then ranked by some of the *other*
//! agents, and the answer with the largest rating-weighted score wins.
//!
//! ## Who ranks what ([`ranking_subset`])
//! Each agent ranks `k = max(1, (n - 1) / 3)` answers (`ranking_size`), about a third of the
//! others, never its own. The subsets come from a random cycle over the agents,
//! `sample_distinct(blake2-256("replica/swarm/cycle/v1" ++ seed), 0..n, n)`: the agent at
//! cycle position `j` ranks the answers of the agents at positions `j + 1, …, j + k` (mod `n`).
//! So every answer is ranked by exactly `k` agents (sums of scores are comparable), no agent
//! ranks itself, and which answers an agent ranks — and with whom it shares them — is unknown
//! until the seed is: the chain draws it after every answer is committed.
//!
//! ## Scores and selection ([`select`])
//! A ranking lists its subset best first. Position `p` of `k` scores `(k - 1 - p) / (k - 1)`
//! (best 1, worst 0; a lone answer scores 1), in parts per billion. An answer's weight is the
//! sum over the rankings of its score times the ranker's rating; the best answer has the
//! largest weight. Ties go to the answer whose `blake2-256("replica/swarm/tie/v1" ++ seed ++
//! index)` is smallest, which no agent can arrange when it commits its answer.
//!
//! ## Ratings ([`deviations`], [`rating`])
//! For every answer, its mean score over its `k` rankings is the swarm's judgement. An agent's
//! deviation on an answer it ranked is its score minus that mean. Its rating is `1 - sigma`,
//! clamped to `[0, 1]`, where `sigma` is the standard deviation of all its deviations over a
//! window of recent rounds that had at least [`MIN_RATED_ANSWERS`] answers (with fewer, `k`
//! is 1 and every score is 1: nothing to learn). Rounds are kept as [`Deviations`] sums, so
//! a window costs a few integers per round. An agent without a rated round has the prior
//! [`RATING_PRIOR`]. Everything is integer arithmetic in parts per billion.
//!
//! ## Tickets ([`settle_tickets`])
//! Every agent pays a ticket to answer. An answer *ranks poorly* when its weight is strictly
//! below the lower median weight of the round's answers ([`forfeits`]); its agent loses the
//! ticket. The winner takes the fee and a governance-set share of the forfeited tickets, the
//! rest of them goes to the slash pot, and every other ticket goes back: what is paid out is
//! exactly the fee plus the tickets. A Sybil swarm of junk answers thus pays a ticket per
//! identity for every answer the honest rankers place in the lower half.

use crate::sampling::sample_distinct;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::Perbill;

/// One, in the parts per billion scores, deviations and ratings are computed in.
pub const ONE: u64 = 1_000_000_000;
/// The rating of an agent with no rated round yet: one half.
pub const RATING_PRIOR: Perbill = Perbill::from_percent(50);
/// Rounds with fewer answers do not count towards ratings (each agent ranks one answer).
pub const MIN_RATED_ANSWERS: u32 = 7;

/// How many answers each agent ranks when `answers` agents answered: about a third of the
/// others, at least one (none for a lone answer).
pub fn ranking_size(answers: u32) -> u32 {
	if answers < 2 {
		0
	} else {
		((answers - 1) / 3).max(1)
	}
}

/// The random cycle the ranking subsets follow: a permutation of `0..answers`.
pub fn ranking_cycle(seed: [u8; 32], answers: u32) -> Vec<u32> {
	let seed = sp_crypto_hashing::blake2_256(&(b"replica/swarm/cycle/v1", seed).encode());
	let all: Vec<u32> = (0..answers).collect();
	sample_distinct(seed, &all, all.len())
}

/// The answers (indices) `agent` ranks: the `ranking_size` agents after it on the cycle.
/// Empty if `agent` is out of range.
pub fn ranking_subset(seed: [u8; 32], answers: u32, agent: u32) -> Vec<u32> {
	let cycle = ranking_cycle(seed, answers);
	subset_in(&cycle, agent)
}

/// Every agent's ranking subset, in agent order (one cycle computed for all).
pub fn ranking_subsets(seed: [u8; 32], answers: u32) -> Vec<Vec<u32>> {
	let cycle = ranking_cycle(seed, answers);
	(0..answers).map(|agent| subset_in(&cycle, agent)).collect()
}

fn subset_in(cycle: &[u32], agent: u32) -> Vec<u32> {
	let n = cycle.len();
	let Some(at) = cycle.iter().position(|a| *a == agent) else { return Vec::new() };
	let k = ranking_size(n as u32) as usize;
	(1..=k).map(|step| cycle[(at + step) % n]).collect()
}

/// Domain tag of a swarm answer's commitment context.
pub const ANSWER_TAG: &[u8] = b"replica/swarm/answer/v1";
/// Domain tag of a ranking commitment.
pub const RANKING_TAG: &[u8] = b"replica/swarm/ranking/v1";

/// The context an answer to `query` by `agent` is sealed in (`commitment::seal_in`):
/// `"replica/swarm/answer/v1" ++ SCALE(query: u64) ++ agent`. It binds the agent, so a copied
/// answer commitment or ciphertext opens for nobody else, and its length (55 bytes) differs
/// from a task result's context (44), so no sealed task result is an answer.
pub fn answer_context(query: u64, agent: &crate::WorkerId) -> Vec<u8> {
	let mut ctx = Vec::with_capacity(ANSWER_TAG.len() + 8 + 32);
	ctx.extend_from_slice(ANSWER_TAG);
	query.encode_to(&mut ctx);
	ctx.extend_from_slice(agent);
	ctx
}

/// What an agent commits to before it reveals its ranking: `blake2-256("replica/swarm/ranking/v1"
/// ++ SCALE(query: u64) ++ ranker ++ SCALE(order: Vec<u32>) ++ salt)`, with 32 fresh random
/// bytes of `salt`. It hides the order until the reveal (nobody can copy a well-rated ranker),
/// and binds the ranker, so a copied commitment opens for nobody else.
pub fn ranking_commitment(query: u64, ranker: &crate::WorkerId, order: &[u32], salt: &[u8; 32]) -> crate::Digest {
	let mut input = Vec::with_capacity(RANKING_TAG.len() + 8 + 32 + 4 + 4 * order.len() + 32);
	input.extend_from_slice(RANKING_TAG);
	query.encode_to(&mut input);
	input.extend_from_slice(ranker);
	order.encode_to(&mut input);
	input.extend_from_slice(salt);
	sp_crypto_hashing::blake2_256(&input)
}

/// Whether `order` ranks exactly `agent`'s subset (each answer once, in any order).
pub fn is_valid_ranking(subset: &[u32], order: &[u32]) -> bool {
	let mut a = subset.to_vec();
	let mut b = order.to_vec();
	a.sort_unstable();
	b.sort_unstable();
	a == b && !a.windows(2).any(|w| w[0] == w[1])
}

/// The score of position `position` (0 = best) in a ranking of `size` answers, in parts per
/// billion: best `ONE`, worst 0, evenly spaced; a lone answer scores `ONE`.
pub fn score(position: u32, size: u32) -> u64 {
	if size <= 1 {
		return ONE;
	}
	let position = u64::from(position.min(size - 1));
	ONE * (u64::from(size) - 1 - position) / (u64::from(size) - 1)
}

/// One agent's revealed ranking: its answer index, its rating, and its subset best first.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Ranking {
	pub ranker: u32,
	pub rating: Perbill,
	pub order: Vec<u32>,
}

/// Each answer's rating-weighted score sum (parts per billion times parts per billion).
pub fn weights(answers: u32, rankings: &[Ranking]) -> Vec<u128> {
	let mut weights = alloc::vec![0u128; answers as usize];
	for ranking in rankings {
		let size = ranking.order.len() as u32;
		let rating = u128::from(ranking.rating.deconstruct());
		for (position, answer) in ranking.order.iter().enumerate() {
			if let Some(w) = weights.get_mut(*answer as usize) {
				*w += u128::from(score(position as u32, size)) * rating;
			}
		}
	}
	weights
}

/// The best answer: the largest rating-weighted score sum, ties broken by the seed (see the
/// module doc). `None` when there is no answer.
pub fn select(seed: [u8; 32], answers: u32, rankings: &[Ranking]) -> Option<u32> {
	let weights = weights(answers, rankings);
	let tie = |i: u32| sp_crypto_hashing::blake2_256(&(b"replica/swarm/tie/v1", seed, i).encode());
	(0..answers).max_by(|a, b| {
		weights[*a as usize].cmp(&weights[*b as usize]).then_with(|| tie(*b).cmp(&tie(*a)))
	})
}

/// An agent's deviations in one rated round, as sums: how many, their sum and the sum of
/// their squares (parts per billion, and its square).
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default,
)]
pub struct Deviations {
	pub count: u32,
	pub sum: i64,
	pub sum_of_squares: u128,
}

impl Deviations {
	fn add(&mut self, deviation: i64) {
		self.count += 1;
		self.sum += deviation;
		self.sum_of_squares += (deviation.unsigned_abs() as u128).pow(2);
	}
}

/// Every ranking's deviations from the swarm's mean score of the answers it ranked, in the
/// order of `rankings`. Empty when the round is too small to rate (`MIN_RATED_ANSWERS`).
/// Ratings do not enter: the mean is the plain mean of the scores an answer received.
pub fn deviations(answers: u32, rankings: &[Ranking]) -> Vec<Deviations> {
	if answers < MIN_RATED_ANSWERS {
		return Vec::new();
	}
	let mut sums = alloc::vec![(0u64, 0u64); answers as usize];
	for ranking in rankings {
		let size = ranking.order.len() as u32;
		for (position, answer) in ranking.order.iter().enumerate() {
			if let Some((sum, count)) = sums.get_mut(*answer as usize) {
				*sum += score(position as u32, size);
				*count += 1;
			}
		}
	}
	rankings
		.iter()
		.map(|ranking| {
			let size = ranking.order.len() as u32;
			let mut d = Deviations::default();
			for (position, answer) in ranking.order.iter().enumerate() {
				let Some((sum, count)) = sums.get(*answer as usize) else { continue };
				// Rounded to the nearest part per billion.
				let mean = (sum + count / 2) / (*count).max(1);
				d.add(score(position as u32, size) as i64 - mean as i64);
			}
			d
		})
		.collect()
}

/// `1 - sigma` over the rounds of `window`, clamped to `[0, 1]`; `RATING_PRIOR` without a
/// deviation. `sigma` is the population standard deviation of all the deviations together.
pub fn rating<'a>(window: impl IntoIterator<Item = &'a Deviations>) -> Perbill {
	let mut total = Deviations::default();
	for d in window {
		total.count += d.count;
		total.sum += d.sum;
		total.sum_of_squares += d.sum_of_squares;
	}
	if total.count == 0 {
		return RATING_PRIOR;
	}
	let n = u128::from(total.count);
	// Variance = E[d²] − E[d]², as (n·Σd² − (Σd)²) / n², in ppb².
	let sum = total.sum.unsigned_abs() as u128;
	let numerator = (n * total.sum_of_squares).saturating_sub(sum * sum);
	let sigma = integer_sqrt(numerator / (n * n));
	let sigma = u64::try_from(sigma).unwrap_or(u64::MAX).min(ONE);
	Perbill::from_parts((ONE - sigma) as u32)
}

/// How a round's money ends (module doc, "Tickets"): what each answering agent receives, in
/// agent order, and what goes to the slash pot.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Settlement {
	/// The winner: its ticket, the fee and its share of the forfeited tickets. An agent whose
	/// answer did not rank poorly: its ticket. One whose answer did: nothing.
	pub paid: Vec<u128>,
	/// The forfeited tickets the winner does not take.
	pub to_pot: u128,
	/// The winner's share of the others' forfeited tickets (part of its payout).
	pub taken: u128,
}

/// Which agents forfeit their ticket: those whose answer's weight is strictly below the
/// (lower) median weight of all answers; never the winner. When every answer weighs the same,
/// nobody does.
pub fn forfeits(weights: &[u128], winner: u32) -> Vec<bool> {
	let mut sorted = weights.to_vec();
	sorted.sort_unstable();
	let Some(median) = sorted.get(sorted.len().saturating_sub(1) / 2).copied() else { return Vec::new() };
	weights.iter().enumerate().map(|(i, w)| i as u32 != winner && *w < median).collect()
}

/// Settles a round's `fee` and the `ticket` every answering agent paid: the winner takes the
/// fee and `winner_share` of the forfeited tickets, the rest of them goes to the pot, the other
/// tickets go back. What is paid out and to the pot is exactly `fee + ticket × answers`. `None`
/// when `winner` is not an answer.
pub fn settle_tickets(fee: u128, ticket: u128, weights: &[u128], winner: u32, winner_share: Perbill) -> Option<Settlement> {
	settle_forfeits(fee, ticket, &forfeits(weights, winner), winner, winner_share)
}

/// [`settle_tickets`] for any set of `lost` tickets, one flag per agent (the chain also takes
/// the tickets of agents that withheld their answer or their ranking). The winner takes the
/// fee and `winner_share` of the *others'* lost tickets; its own ticket, if lost, goes to the
/// pot. Payouts plus the pot are exactly `fee + ticket × lost.len()`. `None` when `winner` is
/// not an agent.
pub fn settle_forfeits(fee: u128, ticket: u128, lost: &[bool], winner: u32, winner_share: Perbill) -> Option<Settlement> {
	let own_lost = *lost.get(winner as usize)?;
	let others_lost = lost.iter().enumerate().filter(|(i, l)| **l && *i as u32 != winner).count();
	let forfeited = ticket.saturating_mul(others_lost as u128);
	let taken = winner_share.mul_floor(forfeited);
	let kept = |lost: bool| if lost { 0 } else { ticket };
	let paid = lost
		.iter()
		.enumerate()
		.map(|(i, l)| if i as u32 == winner { kept(*l).saturating_add(fee).saturating_add(taken) } else { kept(*l) })
		.collect();
	let own = if own_lost { ticket } else { 0 };
	Some(Settlement { paid, to_pot: forfeited - taken + own, taken })
}

/// The largest `r` with `r² <= x`.
fn integer_sqrt(x: u128) -> u128 {
	if x < 2 {
		return x;
	}
	// Newton's method from a power of two above the root.
	let mut r = 1u128 << ((128 - x.leading_zeros()).div_ceil(2));
	loop {
		let next = (r + x / r) / 2;
		if next >= r {
			return r;
		}
		r = next;
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_third_of_the_others_at_least_one() {
		let sizes: Vec<u32> = [0, 1, 2, 3, 4, 7, 10, 11, 100].iter().map(|n| ranking_size(*n)).collect();
		assert_eq!(sizes, [0, 0, 1, 1, 1, 2, 3, 3, 33]);
	}

	#[test]
	fn nobody_ranks_itself_and_every_answer_is_ranked_k_times() {
		for n in [2u32, 3, 5, 7, 10, 31] {
			let subsets = ranking_subsets([n as u8; 32], n);
			let k = ranking_size(n) as usize;
			let mut ranked = alloc::vec![0usize; n as usize];
			for (agent, subset) in subsets.iter().enumerate() {
				assert_eq!(subset.len(), k, "n {n}");
				assert!(!subset.contains(&(agent as u32)), "agent {agent} ranks itself (n {n})");
				assert!(is_valid_ranking(subset, subset), "distinct answers");
				for a in subset {
					ranked[*a as usize] += 1;
				}
				assert_eq!(ranking_subset([n as u8; 32], n, agent as u32), *subset);
			}
			assert!(ranked.iter().all(|r| *r == k), "n {n}: {ranked:?}");
		}
	}

	#[test]
	fn subsets_differ_per_agent_and_change_with_the_seed() {
		let a = ranking_subsets([1; 32], 10);
		let b = ranking_subsets([2; 32], 10);
		let distinct: alloc::collections::BTreeSet<_> = a.iter().collect();
		assert_eq!(distinct.len(), 10, "no two agents rank the same answers");
		assert_ne!(a, b, "another seed, other subsets");
		assert!(ranking_subset([1; 32], 10, 10).is_empty(), "no such agent");
	}

	#[test]
	fn scores_are_evenly_spaced_from_one_to_zero() {
		assert_eq!((0..3).map(|p| score(p, 3)).collect::<Vec<_>>(), [ONE, ONE / 2, 0]);
		assert_eq!(score(0, 1), ONE);
		assert_eq!(score(9, 3), 0, "clamped to the last position");
	}

	#[test]
	fn a_ranking_must_be_a_permutation_of_the_subset() {
		assert!(is_valid_ranking(&[4, 1, 6], &[6, 4, 1]));
		assert!(!is_valid_ranking(&[4, 1, 6], &[6, 4]));
		assert!(!is_valid_ranking(&[4, 1, 6], &[6, 4, 4]));
		assert!(!is_valid_ranking(&[4, 1, 6], &[6, 4, 2]));
	}

	/// The worked example, checked by hand. Seven answers, so each agent ranks two; the
	/// rankings below (subsets as a cycle 0→1→…→6→0 would give them) have answer 3 ranked
	/// first by both its rankers.
	///
	/// | ranker | order (best first) | rating |
	/// |---|---|---|
	/// | 0 | 1, 2 | 1.0 |
	/// | 1 | 3, 2 | 0.5 |
	/// | 2 | 3, 4 | 0.5 |
	/// | 3 | 5, 4 | 1.0 |
	/// | 4 | 5, 6 | 0.2 |
	/// | 5 | 0, 6 | 1.0 |
	/// | 6 | 1, 0 | 0.5 |
	///
	/// Weights (score × rating summed): answer 3: 1·0.5 + 1·0.5 = 1.0; answer 5: 1·1.0 +
	/// 1·0.2 = 1.2; answer 1: 1·1.0 + 1·0.5 = 1.5; answer 0: 1·1.0 + 0·0.5 = 1.0; answers 2, 4
	/// and 6 score 0 in at least one ranking and 0 elsewhere too: 0. The best is answer 1.
	///
	/// Mean scores: answer 0 (1 + 0) / 2 = 0.5, answer 1 (1 + 1) / 2 = 1, answer 2 (0 + 0) / 2
	/// = 0, answer 3 1, answer 4 0, answer 5 1, answer 6 (0 + 0) / 2 = 0. Every ranker agrees
	/// with the mean everywhere except rankers 5 and 6 on answer 0: ranker 5 gave it 1
	/// (deviation +0.5), ranker 6 gave it 0 (deviation −0.5). So ranker 5's deviations are
	/// +0.5 and 0: mean 0.25, sigma 0.25, rating 0.75; ranker 6's are 0 and −0.5: sigma 0.25,
	/// rating 0.75; everyone else: sigma 0, rating 1.
	#[test]
	fn worked_example_by_hand() {
		let r = |ranker: u32, order: [u32; 2], percent: u32| Ranking {
			ranker,
			rating: Perbill::from_percent(percent),
			order: order.to_vec(),
		};
		let rankings = [
			r(0, [1, 2], 100),
			r(1, [3, 2], 50),
			r(2, [3, 4], 50),
			r(3, [5, 4], 100),
			r(4, [5, 6], 20),
			r(5, [0, 6], 100),
			r(6, [1, 0], 50),
		];
		// In thousandths, as ppb x ppb.
		let w = |thousandths: u128| thousandths * 1_000_000_000_000_000;
		assert_eq!(weights(7, &rankings), [w(1000), w(1500), 0, w(1000), 0, w(1200), 0]);
		assert_eq!(select([0; 32], 7, &rankings), Some(1));
		let d = deviations(7, &rankings);
		assert_eq!(d[5], Deviations { count: 2, sum: 500_000_000, sum_of_squares: 250_000_000_000_000_000 });
		assert_eq!(d[6], Deviations { count: 2, sum: -500_000_000, sum_of_squares: 250_000_000_000_000_000 });
		let ratings: Vec<Perbill> = d.iter().map(|d| rating([d])).collect();
		assert_eq!(ratings[5], Perbill::from_percent(75));
		assert_eq!(ratings[6], Perbill::from_percent(75));
		for i in [0, 1, 2, 3, 4] {
			assert_eq!(ratings[i], Perbill::one(), "ranker {i} agreed with the swarm");
		}
		// Over two such rounds for ranker 5, the same sigma.
		assert_eq!(rating([&d[5], &d[5]]), Perbill::from_percent(75));
	}

	#[test]
	fn small_rounds_are_not_rated_and_newcomers_have_the_prior() {
		let rankings = [Ranking { ranker: 0, rating: Perbill::one(), order: alloc::vec![1] }];
		assert!(deviations(6, &rankings).is_empty());
		assert_eq!(rating(&[]), RATING_PRIOR);
		assert_eq!(rating(&[Deviations::default()]), RATING_PRIOR, "a round without deviations");
	}

	#[test]
	fn ratings_stay_in_range_for_the_wildest_deviations() {
		// Deviations of ±1 alternating: sigma 1, rating 0.
		let d = Deviations { count: 2, sum: 0, sum_of_squares: 2 * (ONE as u128).pow(2) };
		assert_eq!(rating([&d]), Perbill::zero());
		// Always +1 (a constant bias has no spread): sigma 0.
		let d = Deviations { count: 3, sum: 3 * ONE as i64, sum_of_squares: 3 * (ONE as u128).pow(2) };
		assert_eq!(rating([&d]), Perbill::one());
	}

	#[test]
	fn ties_are_broken_by_the_seed_not_the_index() {
		let rankings = [
			Ranking { ranker: 0, rating: Perbill::one(), order: alloc::vec![1] },
			Ranking { ranker: 1, rating: Perbill::one(), order: alloc::vec![0] },
		];
		let winners: alloc::collections::BTreeSet<u32> =
			(0..16u8).filter_map(|s| select([s; 32], 2, &rankings)).collect();
		assert_eq!(winners.len(), 2, "either answer can win a tie, depending on the seed");
		assert_eq!(select([3; 32], 2, &rankings), select([3; 32], 2, &rankings));
		assert_eq!(select([0; 32], 0, &[]), None);
	}

	/// Four answers weighing 5, 1, 3 and 0; answer 0 wins a fee of 100, tickets are 10, the
	/// winner takes half the forfeits. The lower median of 0, 1, 3, 5 is 1: only answer 3
	/// (weight 0) ranks poorly. The winner gets 10 + 100 + 5, answers 1 and 2 their 10, the
	/// pot 5: 140 = 100 + 4 × 10.
	#[test]
	fn tickets_worked_example() {
		let s = settle_tickets(100, 10, &[5, 1, 3, 0], 0, Perbill::from_percent(50)).unwrap();
		assert_eq!(s, Settlement { paid: vec![115, 10, 10, 0], to_pot: 5, taken: 5 });
		assert_eq!(forfeits(&[7, 7, 7], 1), [false, false, false], "no information, no forfeit");
		assert_eq!(forfeits(&[0, 0, 9], 0), [false, false, false], "below the median only");
		assert_eq!(forfeits(&[0, 5, 9], 0), [false, false, false], "never the winner");
		assert_eq!(settle_tickets(100, 10, &[1, 2], 2, Perbill::one()), None);
	}

	#[test]
	fn integer_sqrt_is_exact_on_squares_and_floors_between() {
		for r in [0u128, 1, 2, 3, 1_000, 999_999_937, 1 << 60] {
			assert_eq!(integer_sqrt(r * r), r);
			if r > 0 {
				assert_eq!(integer_sqrt(r * r + 2 * r), r);
			}
		}
	}
}
