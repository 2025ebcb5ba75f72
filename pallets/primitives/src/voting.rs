//! Tolerance voting: which revealed results agree, and whether they reach the quorum.
//!
//! ## Semantics
//! - Two **image** results agree when they have the same number of images and, for every image
//!   index and every algorithm in [`Tolerances::algs`], both carry a hash and the Hamming
//!   distance between the two hashes is at most that algorithm's tolerance (`distance == t`
//!   agrees, `t + 1` does not). A result missing a requested hash agrees with nothing, not
//!   even with itself: its support is 0, so it never wins nor becomes the reference.
//! - Two **text** results agree only when they are identical (same token-id digest and text):
//!   exact match is sound only between workers with identical execution profiles, which the
//!   chain enforces when it draws them.
//! - Two **cannot-execute** results agree when they give the same reason.
//! - Results of different kinds never agree (an image with a text, a result with a refusal).
//! - Each revealed result's **support** is the number of revealed results it agrees with,
//!   itself included (when it is well formed). The **reference** is the result with the largest support; ties break
//!   towards the lowest position in the input.
//! - The verdict is [`Verdict::Agreed`] when the reference's support reaches the quorum of the
//!   *assigned* verifiers: verifiers that did not reveal count against it. The winners are the
//!   results that agree with the reference (the reference included) and the outliers are all
//!   other revealed results, so winners and outliers partition the revealed set. Otherwise the
//!   verdict is [`Verdict::NoQuorum`].
//!
//! Agreement within a tolerance is not transitive, which is why winners are defined by their
//! agreement with the reference rather than as a cluster.
//!
//! Cost: O(n² · images · algorithms), with n ≤ [`MAX_VERIFIERS`](crate::MAX_VERIFIERS).

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::types::{HashAlg, HashAlgs, ResultPayload};

/// The number of differing bits between two 64-bit hashes.
pub const fn hamming(a: u64, b: u64) -> u32 {
	(a ^ b).count_ones()
}

/// The share of the assigned verifiers whose agreement decides a task.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq,
	Debug, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Quorum {
	/// More than half: `2 · support > assigned`.
	#[default]
	Majority,
	/// More than two thirds: `3 · support > 2 · assigned`.
	Supermajority,
}

impl Quorum {
	/// Whether `support` agreeing results out of `assigned` verifiers reach this quorum.
	pub const fn is_reached(self, support: u32, assigned: u32) -> bool {
		let (support, assigned) = (support as u64, assigned as u64);
		match self {
			Quorum::Majority => 2 * support > assigned,
			Quorum::Supermajority => 3 * support > 2 * assigned,
		}
	}

	/// The least support that reaches this quorum among `assigned` verifiers.
	pub const fn threshold(self, assigned: u32) -> u32 {
		match self {
			Quorum::Majority => assigned / 2 + 1,
			Quorum::Supermajority => (2 * assigned) / 3 + 1,
		}
	}
}

/// The hash algorithms a task compares and the tolerance (max Hamming distance) of each.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq,
	Debug, Default,
)]
pub struct Tolerances {
	/// The algorithms compared.
	pub algs: HashAlgs,
	/// Indexed by [`HashAlg::index`]; entries of algorithms not in `algs` are ignored.
	pub max_distance: [u8; 4],
}

impl Tolerances {
	/// Tolerances for the given `(algorithm, max distance)` pairs.
	pub fn of(pairs: &[(HashAlg, u8)]) -> Self {
		let mut t = Tolerances::default();
		for (alg, max) in pairs {
			t.algs = t.algs.with(*alg);
			t.max_distance[alg.index()] = *max;
		}
		t
	}

	/// The tolerance of `alg`.
	pub fn of_alg(&self, alg: HashAlg) -> u32 {
		self.max_distance[alg.index()] as u32
	}
}

/// Whether two results agree under `tolerances` (see the module docs).
pub fn agree(a: &ResultPayload, b: &ResultPayload, tolerances: &Tolerances) -> bool {
	match (a, b) {
		(ResultPayload::Image(a), ResultPayload::Image(b)) =>
			a.len() == b.len() &&
				a.iter().zip(b.iter()).all(|(x, y)| {
					tolerances.algs.iter().all(|alg| match (x.hashes.get(alg), y.hashes.get(alg)) {
						(Some(hx), Some(hy)) => hamming(hx, hy) <= tolerances.of_alg(alg),
						_ => false,
					})
				}),
		(ResultPayload::Text(a), ResultPayload::Text(b)) => a == b,
		(ResultPayload::CannotExecute(a), ResultPayload::CannotExecute(b)) => a == b,
		_ => false,
	}
}

/// The outcome of [`tally`]. Indices refer to positions in the revealed results.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Verdict {
	/// The reference result reached the quorum.
	Agreed {
		/// The result with the largest support (lowest position on ties).
		reference: u32,
		/// Results that agree with the reference, the reference included, in input order.
		winners: Vec<u32>,
		/// All other revealed results, in input order.
		outliers: Vec<u32>,
	},
	/// No result reached the quorum.
	NoQuorum {
		/// The largest support any result had (0 when nothing was revealed).
		best_support: u32,
	},
}

/// Decides the revealed `results` of a task that assigned `assigned` verifiers.
pub fn tally(
	results: &[ResultPayload],
	tolerances: &Tolerances,
	quorum: Quorum,
	assigned: u32,
) -> Verdict {
	let n = results.len();
	// Symmetric agreement matrix, computed once per pair.
	let mut agrees = alloc::vec![false; n * n];
	for i in 0..n {
		// Not `true`: a result without every requested hash agrees with nothing, itself
		// included, so it can neither win nor support a verdict.
		agrees[i * n + i] = agree(&results[i], &results[i], tolerances);
		for j in (i + 1)..n {
			let ok = agree(&results[i], &results[j], tolerances);
			agrees[i * n + j] = ok;
			agrees[j * n + i] = ok;
		}
	}
	let support = |i: usize| agrees[i * n..(i + 1) * n].iter().filter(|ok| **ok).count() as u32;

	let mut best: Option<(usize, u32)> = None;
	for i in 0..n {
		let s = support(i);
		// Strictly greater: the lowest position wins a tie.
		if best.map_or(true, |(_, b)| s > b) {
			best = Some((i, s));
		}
	}
	match best {
		Some((reference, s)) if quorum.is_reached(s, assigned) => {
			let (winners, outliers): (Vec<u32>, Vec<u32>) =
				(0..n as u32).partition(|j| agrees[reference * n + *j as usize]);
			Verdict::Agreed { reference: reference as u32, winners, outliers }
		},
		Some((_, s)) => Verdict::NoQuorum { best_support: s },
		None => Verdict::NoQuorum { best_support: 0 },
	}
}
