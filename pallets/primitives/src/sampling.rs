//! Deterministic sampling of distinct candidates from a 32-byte seed.
//!
//! The chain draws verifiers with this function and a worker (or anyone) can recompute the
//! draw: `ChaCha20Rng::from_seed(seed)`, then a partial Fisher–Yates shuffle in which step `i`
//! swaps position `i` with `i + uniform(len − i)`. `uniform(m)` takes the next `u64` `x` from
//! the generator and returns `x mod m`, rejecting `x` when it falls in the final incomplete
//! block of size `2^64 mod m` (so every value is equally likely and no platform-dependent
//! float is involved).

use alloc::vec::Vec;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// A uniformly distributed integer in `0..m` (m > 0) by rejection sampling.
fn uniform(rng: &mut ChaCha20Rng, m: u64) -> u64 {
	// `zone` is the largest multiple of m that fits, minus one.
	let zone = u64::MAX - (u64::MAX % m + 1) % m;
	loop {
		let x = rng.next_u64();
		if x <= zone {
			return x % m;
		}
	}
}

/// Picks `min(k, candidates.len())` distinct candidates, in draw order.
pub fn sample_distinct<T: Clone>(seed: [u8; 32], candidates: &[T], k: usize) -> Vec<T> {
	let mut rng = ChaCha20Rng::from_seed(seed);
	let mut pool: Vec<usize> = (0..candidates.len()).collect();
	let k = k.min(pool.len());
	for i in 0..k {
		let j = i + uniform(&mut rng, (pool.len() - i) as u64) as usize;
		pool.swap(i, j);
	}
	pool[..k].iter().map(|&i| candidates[i].clone()).collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn picks_distinct_items_deterministically() {
		let items: Vec<u32> = (0..20).collect();
		let a = sample_distinct([7u8; 32], &items, 5);
		let b = sample_distinct([7u8; 32], &items, 5);
		assert_eq!(a, b);
		assert_eq!(a.len(), 5);
		let mut sorted = a.clone();
		sorted.sort();
		sorted.dedup();
		assert_eq!(sorted.len(), 5, "distinct");
		assert_ne!(a, sample_distinct([8u8; 32], &items, 5), "another seed draws another set");
	}

	/// Golden draws computed independently (Python: pycryptodome's ChaCha20 keystream with an
	/// all-zero nonce, the same rejection sampling): any drift in the generator or the
	/// algorithm would re-draw every task's verifiers differently on chain and off.
	#[test]
	fn golden_draws() {
		let items: Vec<u32> = (0..20).collect();
		assert_eq!(sample_distinct([7u8; 32], &items, 5), [8, 17, 14, 18, 9]);
		let mut seed = [0u8; 32];
		for (i, b) in seed.iter_mut().enumerate() {
			*b = i as u8;
		}
		let items: Vec<u32> = (0..16).collect();
		assert_eq!(
			sample_distinct(seed, &items, 16),
			[9, 14, 10, 3, 15, 11, 7, 0, 8, 4, 2, 1, 5, 6, 13, 12]
		);
	}

	#[test]
	fn k_beyond_the_pool_returns_everyone_once() {
		let items = [1, 2, 3];
		let mut all = sample_distinct([1u8; 32], &items, 10);
		all.sort();
		assert_eq!(all, [1, 2, 3]);
		assert!(sample_distinct::<u8>([1u8; 32], &[], 3).is_empty());
	}

	#[test]
	fn draw_is_roughly_uniform() {
		let items: Vec<usize> = (0..4).collect();
		let mut counts = [0u32; 4];
		for s in 0..4000u32 {
			let mut seed = [0u8; 32];
			seed[..4].copy_from_slice(&s.to_le_bytes());
			counts[sample_distinct(seed, &items, 1)[0]] += 1;
		}
		for c in counts {
			assert!((800..1200).contains(&c), "{counts:?}");
		}
	}
}
