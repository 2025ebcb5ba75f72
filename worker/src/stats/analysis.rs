//! The statistics themselves, on hashes only: consensus of honest replicas (the source paper's
//! Table 1), collisions between different seeds (its Type II rate), the Type I probability of
//! a verifier set, and the tolerance calibration. No engine runs here, so all of it is
//! unit-tested on hand-made hashes.

use replica_primitives::{agreement_probability_f64, hamming, HashAlg, ImageHashes, Quorum, Tolerances};

/// Tolerances the tables and plots go up to.
pub const MAX_TOLERANCE: usize = 16;
/// Honest agreement a recommended tolerance must keep: the probability that 3 verifiers reach
/// a majority on an honest result.
pub const TARGET_SUCCESS_AT_3: f64 = 0.999;
/// The largest Type II rate a recommended tolerance may have (0.01%).
pub const TARGET_COLLISION_RATE: f64 = 1e-4;
/// The z of a two-sided 95% interval.
const Z_95: f64 = 1.959_964;

/// One job (a prompt and a seed) run several times: the hashes of each replica, with the
/// execution variant (an index into the run's variants) that produced it.
#[derive(Clone, Debug, Default)]
pub struct Job {
	pub replicas: Vec<(usize, ImageHashes)>,
}

/// How the replicas of a set of jobs agree under one hash algorithm: one row of Table 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Consensus {
	pub jobs: usize,
	pub replicas: usize,
	/// Replicas within `t` of their job's reference, for `t` in `0..=MAX_TOLERANCE`.
	pub agreeing: [usize; MAX_TOLERANCE + 1],
	/// Jobs whose replicas are all within `t` of the reference.
	pub unanimous: [usize; MAX_TOLERANCE + 1],
	/// Replicas whose hash differs from the reference at all.
	pub outliers: usize,
	/// Sum of the outliers' distances to the reference.
	pub outlier_distance: u64,
}

impl Consensus {
	/// The share of jobs whose replicas all agree at tolerance `t` (the paper's consensus %).
	pub fn consensus(&self, t: usize) -> f64 {
		ratio(self.unanimous[t] as u64, self.jobs as u64)
	}

	/// The measured probability that one replica agrees with its job's reference at `t`.
	pub fn agreement(&self, t: usize) -> f64 {
		ratio(self.agreeing[t] as u64, self.replicas as u64)
	}

	/// The lower end of the 95% Wilson interval of [`Self::agreement`]: what the data
	/// guarantees, which is below 1 even when every replica agreed.
	pub fn agreement_lower_bound(&self, t: usize) -> f64 {
		wilson_lower_bound(self.agreeing[t] as u64, self.replicas as u64)
	}

	pub fn mean_outlier_distance(&self) -> Option<f64> {
		(self.outliers > 0).then(|| self.outlier_distance as f64 / self.outliers as f64)
	}
}

/// The reference hash of a job: the most frequent one, the first seen on a tie (as the chain
/// takes the result with the largest support, the lowest position on a tie).
pub fn reference(hashes: &[u64]) -> Option<u64> {
	let mut best: Option<(u64, usize)> = None;
	for (i, hash) in hashes.iter().enumerate() {
		if hashes[..i].contains(hash) {
			continue;
		}
		let count = hashes[i..].iter().filter(|h| *h == hash).count();
		if best.map_or(true, |(_, most)| count > most) {
			best = Some((*hash, count));
		}
	}
	best.map(|(hash, _)| hash)
}

/// Table 1's row for `alg` over the replicas of `jobs` that ran on one of `variants`.
pub fn consensus(jobs: &[Job], alg: HashAlg, variants: &[usize]) -> Consensus {
	let mut row = Consensus {
		jobs: 0,
		replicas: 0,
		agreeing: [0; MAX_TOLERANCE + 1],
		unanimous: [0; MAX_TOLERANCE + 1],
		outliers: 0,
		outlier_distance: 0,
	};
	for job in jobs {
		let hashes: Vec<u64> = job
			.replicas
			.iter()
			.filter(|(variant, _)| variants.contains(variant))
			.filter_map(|(_, hashes)| hashes.get(alg))
			.collect();
		let Some(reference) = reference(&hashes) else { continue };
		row.jobs += 1;
		row.replicas += hashes.len();
		let distances: Vec<u32> = hashes.iter().map(|h| hamming(*h, reference)).collect();
		for t in 0..=MAX_TOLERANCE {
			let within = distances.iter().filter(|d| **d as usize <= t).count();
			row.agreeing[t] += within;
			row.unanimous[t] += usize::from(within == distances.len());
		}
		for d in distances.into_iter().filter(|d| *d > 0) {
			row.outliers += 1;
			row.outlier_distance += d as u64;
		}
	}
	row
}

/// How the replicas of `jobs` agree under a whole tolerance set, as the chain compares them:
/// each job's reference is the replica most others agree with, and a replica counts when it
/// agrees with it in every algorithm of the set. Returns (agreeing replicas, replicas).
pub fn agreement_under(jobs: &[Job], tolerances: &Tolerances) -> (u64, u64) {
	let mut agreeing = 0u64;
	let mut total = 0u64;
	for job in jobs {
		let hashes: Vec<&ImageHashes> = job.replicas.iter().map(|(_, h)| h).collect();
		let support = |i: usize| hashes.iter().filter(|other| agree(hashes[i], other, tolerances)).count();
		agreeing += (0..hashes.len()).map(support).max().unwrap_or(0) as u64;
		total += hashes.len() as u64;
	}
	(agreeing, total)
}

/// Whether two images' hashes agree under `tolerances`: every algorithm of the set within its
/// tolerance (`replica_primitives::agree` for one image).
pub fn agree(a: &ImageHashes, b: &ImageHashes, tolerances: &Tolerances) -> bool {
	tolerances.algs.iter().all(|alg| match (a.get(alg), b.get(alg)) {
		(Some(x), Some(y)) => hamming(x, y) <= tolerances.of_alg(alg),
		_ => false,
	})
}

/// Hamming distances between the hashes of different seeds of the same prompt: the Type II
/// (false agreement) side. Histograms are of distances 0..=64.
#[derive(Clone, Debug, PartialEq)]
pub struct Collisions {
	pub pairs: u64,
	/// Per algorithm, indexed by [`HashAlg::index`].
	pub histogram: [[u64; 65]; 4],
	/// Of the largest distance over aHash, pHash and dHash: the pairs that collide when all
	/// three are compared at one tolerance (how `model register` sets an image model).
	pub histogram_max_of_three: [u64; 65],
}

/// The hash algorithms `model register` compares by default, at one tolerance.
pub const DEFAULT_ALGS: [HashAlg; 3] = [HashAlg::Average, HashAlg::Perceptual, HashAlg::Difference];

impl Collisions {
	/// Every pair within each group (the images of one prompt, each from a different seed).
	pub fn of(groups: &[Vec<ImageHashes>]) -> Self {
		let mut collisions = Collisions { pairs: 0, histogram: [[0; 65]; 4], histogram_max_of_three: [0; 65] };
		for group in groups {
			for (i, a) in group.iter().enumerate() {
				for b in &group[i + 1..] {
					collisions.pairs += 1;
					let mut max_of_three = 0;
					for alg in HashAlg::ALL {
						if let (Some(x), Some(y)) = (a.get(alg), b.get(alg)) {
							let d = hamming(x, y);
							collisions.histogram[alg.index()][d as usize] += 1;
							if DEFAULT_ALGS.contains(&alg) {
								max_of_three = max_of_three.max(d);
							}
						}
					}
					collisions.histogram_max_of_three[max_of_three as usize] += 1;
				}
			}
		}
		collisions
	}

	/// Pairs of `alg` within `t` of each other.
	pub fn count(&self, alg: HashAlg, t: usize) -> u64 {
		self.histogram[alg.index()][..=t.min(64)].iter().sum()
	}

	/// The share of pairs of `alg` within `t`: the Type II rate of comparing `alg` alone.
	pub fn rate(&self, alg: HashAlg, t: usize) -> f64 {
		ratio(self.count(alg, t), self.pairs)
	}

	/// The share of pairs within `t` in aHash, pHash and dHash at once.
	pub fn rate_of_three(&self, t: usize) -> f64 {
		ratio(self.histogram_max_of_three[..=t.min(64)].iter().sum(), self.pairs)
	}
}

/// Pairs of each group that agree under a whole tolerance set.
pub fn collisions_under(groups: &[Vec<ImageHashes>], tolerances: &Tolerances) -> u64 {
	groups
		.iter()
		.map(|group| {
			group.iter().enumerate().map(|(i, a)| group[i + 1..].iter().filter(|b| agree(a, b, tolerances)).count() as u64).sum::<u64>()
		})
		.sum()
}

/// The probability that `n` verifiers fail to reach `quorum` on an honest result, each
/// agreeing with probability `p`: the Type I error of the verifier set.
pub fn type_one(p: f64, n: u32, quorum: Quorum) -> f64 {
	(1.0 - agreement_probability_f64(p, n, quorum)).max(0.0)
}

/// The verifier sets the report gives Type I for: the source paper's.
pub const VERIFIER_SETS: [(u32, Quorum); 6] = [
	(3, Quorum::Majority),
	(5, Quorum::Majority),
	(7, Quorum::Majority),
	(4, Quorum::Supermajority),
	(7, Quorum::Supermajority),
	(10, Quorum::Supermajority),
];

/// Whether `agreeing` of `replicas` honest replicas show, on the lower bound of their 95%
/// interval, that 3 verifiers reach a majority with probability [`TARGET_SUCCESS_AT_3`].
pub fn honest_enough(agreeing: u64, replicas: u64) -> bool {
	agreement_probability_f64(wilson_lower_bound(agreeing, replicas), 3, Quorum::Majority) >= TARGET_SUCCESS_AT_3
}

/// The smallest tolerance at which honest replicas agree enough under `alg` alone
/// ([`honest_enough`]), if any up to [`MAX_TOLERANCE`].
pub fn smallest_honest_tolerance(consensus: &Consensus) -> Option<u8> {
	(0..=MAX_TOLERANCE)
		.find(|t| honest_enough(consensus.agreeing[*t] as u64, consensus.replicas as u64))
		.map(|t| t as u8)
}

/// The tolerance calibration of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
	/// Per hash, in [`HashAlg::ALL`] order: its smallest honest tolerance and the share of
	/// different-seed pairs within it (`None`: honest replicas disagree even at
	/// [`MAX_TOLERANCE`]).
	pub per_hash: Vec<(HashAlg, Option<(u8, f64)>)>,
	pub outcome: Outcome,
}

/// What the calibration recommends.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
	/// These hashes at these tolerances: honest replicas agree enough under all of them at
	/// once, and at most [`TARGET_COLLISION_RATE`] of different-seed pairs (`collided` of
	/// them) pass all of them at once.
	Recommended { tolerances: Tolerances, collided: u64 },
	/// Every hash that honest replicas agree under, compared at once, still lets `collided`
	/// different-seed pairs pass: above the target.
	TooManyCollisions { tolerances: Tolerances, collided: u64 },
	/// No hash: honest replicas disagree under each (or the sample is too small to show that
	/// they agree often enough).
	NoHonestHash,
}

/// Calibrates from the consensus over every variant (`overall`, per hash), the replicas of
/// `jobs` and the different-seed `groups`. The chain compares a model's hashes together: a
/// pair of images agrees only when every compared hash is within its tolerance. So each hash
/// gets its smallest honest tolerance (agreement and collisions both grow with the tolerance:
/// no larger one can be better), and the set is the fewest hashes, taken in order of their own
/// collision rate, whose joint collision rate meets the target; a hash whose addition would
/// make honest replicas disagree too often is left out.
pub fn calibrate(overall: &[Consensus], collisions: &Collisions, jobs: &[Job], groups: &[Vec<ImageHashes>]) -> Calibration {
	let per_hash: Vec<(HashAlg, Option<(u8, f64)>)> = HashAlg::ALL
		.iter()
		.map(|alg| {
			let honest = smallest_honest_tolerance(&overall[alg.index()]);
			(*alg, honest.map(|t| (t, collisions.rate(*alg, t as usize))))
		})
		.collect();
	let mut candidates: Vec<(HashAlg, u8, f64)> =
		per_hash.iter().filter_map(|(alg, honest)| honest.map(|(t, rate)| (*alg, t, rate))).collect();
	// Stable: hashes of equal rate keep their order.
	candidates.sort_by(|a, b| a.2.total_cmp(&b.2));
	let mut chosen: Vec<(HashAlg, u8)> = Vec::new();
	let mut last = None;
	for (alg, t, _) in candidates {
		chosen.push((alg, t));
		let set = Tolerances::of(&chosen);
		let (agreeing, replicas) = agreement_under(jobs, &set);
		if !honest_enough(agreeing, replicas) {
			chosen.pop();
			continue;
		}
		let collided = collisions_under(groups, &set);
		if ratio(collided, collisions.pairs) <= TARGET_COLLISION_RATE {
			return Calibration { per_hash, outcome: Outcome::Recommended { tolerances: set, collided } };
		}
		last = Some((set, collided));
	}
	let outcome = match last {
		Some((tolerances, collided)) => Outcome::TooManyCollisions { tolerances, collided },
		None => Outcome::NoHonestHash,
	};
	Calibration { per_hash, outcome }
}

impl Calibration {
	/// The recommended tolerance set, if the targets can be met.
	pub fn recommended(&self) -> Option<Tolerances> {
		match &self.outcome {
			Outcome::Recommended { tolerances, .. } => Some(*tolerances),
			_ => None,
		}
	}
}

/// The lower end of the Wilson score interval (95%) of a binomial proportion.
pub fn wilson_lower_bound(successes: u64, trials: u64) -> f64 {
	if trials == 0 {
		return 0.0;
	}
	let n = trials as f64;
	let p = successes as f64 / n;
	let z2 = Z_95 * Z_95;
	let centre = p + z2 / (2.0 * n);
	let margin = Z_95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
	((centre - margin) / (1.0 + z2 / n)).clamp(0.0, 1.0)
}

fn ratio(part: u64, whole: u64) -> f64 {
	if whole == 0 {
		0.0
	} else {
		part as f64 / whole as f64
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn hashes(average: u64, perceptual: u64) -> ImageHashes {
		let mut h = ImageHashes::default();
		h.set(HashAlg::Average, average);
		h.set(HashAlg::Perceptual, perceptual);
		h.set(HashAlg::Difference, average ^ perceptual);
		h.set(HashAlg::Colour, 0);
		h
	}

	#[test]
	fn the_reference_is_the_most_frequent_hash_and_the_first_on_a_tie() {
		assert_eq!(reference(&[5, 7, 7]), Some(7));
		assert_eq!(reference(&[5, 7, 5, 7]), Some(5));
		assert_eq!(reference(&[]), None);
	}

	#[test]
	fn consensus_counts_outliers_and_agreement_per_tolerance() {
		// Job 1: three identical replicas. Job 2: two identical, one 2 bits away (variant 1).
		let jobs = vec![
			Job { replicas: vec![(0, hashes(0, 0)), (0, hashes(0, 0)), (1, hashes(0, 0))] },
			Job { replicas: vec![(0, hashes(0b11, 0)), (0, hashes(0b11, 0)), (1, hashes(0, 0))] },
		];
		let all = consensus(&jobs, HashAlg::Average, &[0, 1]);
		assert_eq!((all.jobs, all.replicas, all.outliers, all.outlier_distance), (2, 6, 1, 2));
		assert_eq!(&all.unanimous[..3], &[1, 1, 2]);
		assert_eq!(&all.agreeing[..3], &[5, 5, 6]);
		assert_eq!(all.consensus(0), 0.5);
		assert_eq!(all.mean_outlier_distance(), Some(2.0));
		// Variant 0 alone agrees everywhere; pHash agrees everywhere.
		let first = consensus(&jobs, HashAlg::Average, &[0]);
		assert_eq!((first.replicas, first.outliers, first.unanimous[0]), (4, 0, 2));
		assert_eq!(consensus(&jobs, HashAlg::Perceptual, &[0, 1]).outliers, 0);
	}

	#[test]
	fn the_wilson_bound_is_below_one_when_every_replica_agreed() {
		let bound = wilson_lower_bound(600, 600);
		assert!(bound < 1.0 && bound > 0.99, "{bound}");
		assert!(wilson_lower_bound(6, 6) < bound, "fewer trials guarantee less");
		assert!(wilson_lower_bound(300, 600) < 0.5);
		assert_eq!(wilson_lower_bound(0, 0), 0.0);
	}

	#[test]
	fn collisions_count_pairs_within_each_group_only() {
		let groups = vec![vec![hashes(0, 0), hashes(1, 0), hashes(0xff, 0)], vec![hashes(0, 0)]];
		let c = Collisions::of(&groups);
		assert_eq!(c.pairs, 3);
		// aHash distances: 1, 8, 7.
		assert_eq!((c.count(HashAlg::Average, 0), c.count(HashAlg::Average, 1), c.count(HashAlg::Average, 8)), (0, 1, 3));
		assert_eq!(c.rate(HashAlg::Perceptual, 0), 1.0);
		// dHash = aHash ^ pHash here, so the max of three is the aHash distance.
		assert_eq!(c.rate_of_three(1), 1.0 / 3.0);
		let set = Tolerances::of(&[(HashAlg::Average, 1), (HashAlg::Perceptual, 0)]);
		assert_eq!(collisions_under(&groups, &set), 1);
	}

	/// `jobs` jobs of `replicas` identical replicas each, every job's hashes its own.
	fn honest_jobs(jobs: u64, replicas: usize) -> Vec<Job> {
		(0..jobs).map(|j| Job { replicas: vec![(0, hashes(j, j << 8)); replicas] }).collect()
	}

	fn image(average: u64, perceptual: u64, difference: u64, colour: u64) -> ImageHashes {
		let mut h = ImageHashes::default();
		for (alg, value) in HashAlg::ALL.into_iter().zip([average, perceptual, difference, colour]) {
			h.set(alg, value);
		}
		h
	}

	fn calibrated(jobs: &[Job], groups: &[Vec<ImageHashes>]) -> Calibration {
		let overall: Vec<Consensus> = HashAlg::ALL.iter().map(|alg| consensus(jobs, *alg, &[0])).collect();
		calibrate(&overall, &Collisions::of(groups), jobs, groups)
	}

	#[test]
	fn the_smallest_honest_tolerance_needs_enough_replicas() {
		let mut row = consensus(&honest_jobs(300, 3), HashAlg::Average, &[0]);
		assert_eq!(smallest_honest_tolerance(&row), Some(0));
		// Half the replicas off by one or two bits: tolerance 2 is the first honest one.
		row.agreeing[0] = row.replicas / 2;
		row.agreeing[1] = row.replicas / 2;
		assert_eq!(smallest_honest_tolerance(&row), Some(2));
		// Nine replicas that all agree cannot show 99.9% at 3 verifiers.
		assert_eq!(smallest_honest_tolerance(&consensus(&honest_jobs(3, 3), HashAlg::Average, &[0])), None);
	}

	#[test]
	fn calibration_takes_the_fewest_hashes_whose_joint_collisions_meet_the_target() {
		let jobs = honest_jobs(100, 3);
		// 100 seeds: aHash tells the parity only (49.5% of pairs collide), pHash pairs up
		// seeds 2j and 2j+1 (1%), dHash and colour never differ. Together pHash and aHash
		// separate every pair.
		let group: Vec<ImageHashes> = (0..100u64).map(|i| image(i % 2, i / 2, 0, 0)).collect();
		let calibration = calibrated(&jobs, &[group.clone()]);
		assert_eq!(
			calibration.outcome,
			Outcome::Recommended {
				tolerances: Tolerances::of(&[(HashAlg::Perceptual, 0), (HashAlg::Average, 0)]),
				collided: 0
			}
		);
		assert_eq!(calibration.per_hash[HashAlg::Perceptual.index()], (HashAlg::Perceptual, Some((0, 50.0 / 4950.0))));
		// With aHash distinct for every seed it alone suffices.
		let distinct: Vec<ImageHashes> = (0..100u64).map(|i| image(i << 20, i / 2, 0, 0)).collect();
		assert_eq!(calibrated(&jobs, &[distinct]).recommended(), Some(Tolerances::of(&[(HashAlg::Average, 0)])));
		// Images no hash tells apart: every honest hash together still collides.
		let alike: Vec<ImageHashes> = (0..10).map(|_| image(0, 0, 0, 0)).collect();
		assert!(matches!(calibrated(&jobs, &[alike]).outcome, Outcome::TooManyCollisions { collided: 45, .. }));
		// Too few replicas: no hash is shown honest.
		assert_eq!(calibrated(&honest_jobs(3, 3), &[group]).outcome, Outcome::NoHonestHash);
	}

	#[test]
	fn a_hash_that_breaks_joint_honest_agreement_is_left_out() {
		// 1,000 jobs of 3 replicas. In jobs 0..30 one replica is a bit off in aHash, in jobs
		// 30..60 in pHash: each hash alone keeps 99% agreement (honest at tolerance 0), both at
		// once only 98%, too little to show 99.9% at 3 verifiers.
		let jobs: Vec<Job> = (0..1000u64)
			.map(|j| {
				let base = image(j, j, 0, 0);
				let odd = match j {
					0..30 => image(j ^ 1 << 40, j, 0, 0),
					30..60 => image(j, j ^ 1 << 40, 0, 0),
					_ => base.clone(),
				};
				Job { replicas: vec![(0, base.clone()), (0, base), (0, odd)] }
			})
			.collect();
		// pHash collides least (2%), then aHash (49%); dHash and colour never differ.
		let group: Vec<ImageHashes> = (0..50u64).map(|i| image(i % 2, i / 2, 0, 0)).collect();
		let calibration = calibrated(&jobs, &[group]);
		assert_eq!(calibration.per_hash[HashAlg::Average.index()].1.map(|(t, _)| t), Some(0));
		assert_eq!(
			calibration.outcome,
			Outcome::TooManyCollisions {
				tolerances: Tolerances::of(&[(HashAlg::Perceptual, 0), (HashAlg::Difference, 0), (HashAlg::Colour, 0)]),
				collided: 25
			}
		);
	}

	#[test]
	fn type_one_matches_the_papers_figure() {
		// 3 verifiers, majority, p = 0.977: 99.843% succeed.
		assert!((type_one(0.977, 3, Quorum::Majority) - (1.0 - 0.998_43)).abs() < 1e-5);
		assert_eq!(type_one(1.0, 3, Quorum::Majority), 0.0);
	}

	#[test]
	fn agreement_under_a_set_takes_the_best_supported_reference() {
		let jobs = vec![Job { replicas: vec![(0, hashes(0, 0)), (0, hashes(1, 0)), (1, hashes(0, 0))] }];
		assert_eq!(agreement_under(&jobs, &Tolerances::of(&[(HashAlg::Average, 0)])), (2, 3));
		assert_eq!(agreement_under(&jobs, &Tolerances::of(&[(HashAlg::Average, 1)])), (3, 3));
		// dHash differs by 1 too for the odd one out.
		assert_eq!(agreement_under(&jobs, &Tolerances::of(&[(HashAlg::Average, 1), (HashAlg::Difference, 0)])), (2, 3));
	}
}
