//! The probability that a verifier set reaches quorum on a correct result.
//!
//! Model (binomial): each of `n` verifiers independently reproduces the reference result within
//! tolerance with probability `p`; verification succeeds when at least
//! [`Quorum::threshold`](crate::Quorum::threshold)`(n)` of them do:
//!
//! `P = Σ_{k=threshold}^{n} C(n, k) · p^k · (1 − p)^(n − k)`.
//!
//! [`agreement_probability`] computes it exactly enough for the runtime (fixed point with 18
//! decimals, no floats; error below 10⁻¹²) and [`agreement_probability_f64`] in floating point
//! for tools. With the source's per-run agreement for its LoRA model, aHash at tolerance 2 (p =
//! 0.977, its Table 1), these reproduce its Type I figures (see `tests/probability.rs`).

use sp_arithmetic::{PerThing, Perbill, Perquintill};

use crate::voting::Quorum;

const ONE: u128 = 1_000_000_000_000_000_000;

fn mul(a: u128, b: u128) -> u128 {
	// a, b ≤ 10^18, so a · b ≤ 10^36 < u128::MAX.
	a.saturating_mul(b) / ONE
}

fn pow(base: u128, exp: u32) -> u128 {
	(0..exp).fold(ONE, |acc, _| mul(acc, base))
}

/// C(n, k) for n ≤ 64 without overflow (C(64, 32) < 2^61).
fn binomial(n: u32, k: u32) -> u128 {
	let k = k.min(n - k);
	(0..k).fold(1u128, |acc, i| acc * (n - i) as u128 / (i + 1) as u128)
}

/// The probability that `n` verifiers reach `quorum` when each agrees with probability `p`.
/// `n` is capped at 64 (far above any verifier set).
pub fn agreement_probability(p: Perbill, n: u32, quorum: Quorum) -> Perquintill {
	let n = n.min(64);
	if n == 0 {
		return Perquintill::zero();
	}
	let p = p.deconstruct() as u128 * (ONE / Perbill::ACCURACY as u128);
	let q = ONE - p;
	let total = (quorum.threshold(n)..=n).fold(0u128, |acc, k| {
		acc.saturating_add(binomial(n, k).saturating_mul(mul(pow(p, k), pow(q, n - k))))
	});
	Perquintill::from_parts(total.min(ONE) as u64)
}

/// [`agreement_probability`] in floating point, for tools and reports.
#[cfg(feature = "std")]
pub fn agreement_probability_f64(p: f64, n: u32, quorum: Quorum) -> f64 {
	if n == 0 {
		return 0.0;
	}
	(quorum.threshold(n)..=n)
		.map(|k| binomial(n.min(64), k) as f64 * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32))
		.sum()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn binomial_coefficients() {
		assert_eq!(binomial(16, 8), 12_870);
		assert_eq!(binomial(5, 0), 1);
		assert_eq!(binomial(5, 5), 1);
		assert_eq!(binomial(64, 32), 1_832_624_140_942_590_534);
	}

	#[test]
	fn certain_and_impossible_agreement() {
		assert_eq!(agreement_probability(Perbill::one(), 5, Quorum::Majority), Perquintill::one());
		assert_eq!(agreement_probability(Perbill::zero(), 5, Quorum::Majority), Perquintill::zero());
		assert_eq!(agreement_probability(Perbill::one(), 0, Quorum::Majority), Perquintill::zero());
	}
}
