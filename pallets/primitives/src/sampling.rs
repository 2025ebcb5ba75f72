//! Deterministic sampling of distinct candidates from a 32-byte seed.
//!
//! ## Stake-weighted draws ([`sample_weighted`])
//! The chain draws verifiers with [`sample_weighted`]: every candidate gets an exponential
//! "arrival time" `E = -ln(u) / w`, where `w` is its weight (stake) and `u` in (0, 1] comes
//! from `blake2-256(seed ++ SCALE(candidate id))`; the `k` earliest arrivals win, earliest
//! first. That is weighted sampling without replacement (Efraimidis–Spirakis), and it has the
//! two properties a draw over self-declared candidates needs:
//! - a candidate's chance grows with its weight, and splitting one weight across many
//!   identities buys nothing (the minimum of exponentials with rates `w1`, `w2` is an
//!   exponential with rate `w1 + w2`);
//! - the draw does not depend on the order of the candidate list, and removing a candidate can
//!   only let in the next arrival: going offline, or re-registering to move in an index, never
//!   adds a seat to anyone.
//! `-ln(u)` is computed without floats as `ln 2 · (64 − log2(2^64 u))`, with `log2` to 32
//! fractional bits; the common factor `ln 2` is dropped.
//!
//! ## Uniform draws ([`sample_distinct`])
//! `sample_distinct` draws uniformly and is kept for draws among equals; anyone can recompute
//! it: `ChaCha20Rng::from_seed(seed)`, then a partial Fisher–Yates shuffle in which step `i`
//! swaps position `i` with `i + uniform(len − i)`. `uniform(m)` takes the next `u64` `x` from
//! the generator and returns `x mod m`, rejecting `x` when it falls in the final incomplete
//! block of size `2^64 mod m` (so every value is equally likely and no platform-dependent
//! float is involved).

use alloc::{collections::BinaryHeap, vec::Vec};
use codec::Encode;
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

/// The largest weight taken into account; larger weights count as this one. (`2^88` planck is
/// about 3 × 10^14 RPL, beyond any stake, and keeps the cross-multiplied comparisons in `u128`.)
pub const MAX_WEIGHT: u128 = (1 << 88) - 1;

/// `log2(x)` for `x >= 1`, in fixed point with 32 fractional bits.
fn log2_fixed(x: u128) -> u128 {
	debug_assert!(x >= 1);
	let int = 127 - x.leading_zeros() as u128;
	// The mantissa in [1, 2), as a Q1.63 number.
	let mut m: u128 = if int >= 63 { x >> (int - 63) } else { x << (63 - int) };
	let mut frac: u128 = 0;
	for bit in (0..32).rev() {
		m = (m * m) >> 63;
		if m >= 1 << 64 {
			m >>= 1;
			frac |= 1 << bit;
		}
	}
	(int << 32) | frac
}

/// `-log2(u)` in 32-bit fixed point for `u = (h + 1) / 2^64`: an exponential variate with rate
/// `ln 2` (the factor is common to every candidate and cancels out).
fn exponential(h: u64) -> u128 {
	(64u128 << 32) - log2_fixed(h as u128 + 1)
}

/// Draws `min(k, n)` distinct candidates with probability proportional to their weight,
/// without replacement, in draw order. Candidates of weight zero are never drawn; equal keys
/// (a 2^-64 event) are ordered by the hash and then by the encoded id. See the module docs.
pub fn sample_weighted<Id: Encode + Clone>(seed: [u8; 32], candidates: &[(Id, u128)], k: usize) -> Vec<Id> {
	let mut order = WeightedOrder::new(seed, candidates);
	let mut drawn = Vec::with_capacity(k.min(order.len()));
	while drawn.len() < k {
		let Some(id) = order.take_first() else { break };
		drawn.push(id);
	}
	drawn
}

struct Keyed<Id> {
	/// The candidate's exponential variate; its key is `exp / weight`, smallest first.
	exp: u128,
	weight: u128,
	hash: u64,
	id: Id,
}

impl<Id: Encode> Keyed<Id> {
	fn precedes(&self, other: &Self) -> core::cmp::Ordering {
		(self.exp * other.weight)
			.cmp(&(other.exp * self.weight))
			.then(self.hash.cmp(&other.hash))
			// Only on equal keys and hashes, a 2^-64 event: encoded on demand.
			.then_with(|| self.id.encode().cmp(&other.id.encode()))
	}
}

// The heap is a max-heap: the candidate that comes first is the greatest.
impl<Id: Encode> Ord for Keyed<Id> {
	fn cmp(&self, other: &Self) -> core::cmp::Ordering {
		self.precedes(other).reverse()
	}
}
impl<Id: Encode> PartialOrd for Keyed<Id> {
	fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
		Some(self.cmp(other))
	}
}
impl<Id: Encode> PartialEq for Keyed<Id> {
	fn eq(&self, other: &Self) -> bool {
		self.cmp(other).is_eq()
	}
}
impl<Id: Encode> Eq for Keyed<Id> {}

/// The draw order of [`sample_weighted`], produced lazily: building it hashes each candidate
/// once and heapifies (linear in the candidates); each candidate taken costs a logarithmic
/// step, so a draw that needs the first few pays for no full sort. It can take a lowered
/// weight without rehashing: a candidate's key depends only on the seed, its id and its
/// weight, so after [`WeightedOrder::lower_first`] the order is exactly the one a fresh draw
/// with the new weight would give, and the candidates taken before keep their places.
pub struct WeightedOrder<Id> {
	heap: BinaryHeap<Keyed<Id>>,
}

impl<Id: Encode + Clone> WeightedOrder<Id> {
	/// Orders `candidates` (weights above [`MAX_WEIGHT`] count as `MAX_WEIGHT`; zero weights
	/// are left out), hashing with the portable BLAKE2b-256.
	pub fn new(seed: [u8; 32], candidates: &[(Id, u128)]) -> Self {
		Self::new_with_hasher(seed, candidates, sp_crypto_hashing::blake2_256)
	}

	/// [`Self::new`] with `blake2_256` supplied by the caller: a runtime passes its host's
	/// (native) BLAKE2b-256, which gives the same order faster than one compiled to WASM.
	pub fn new_with_hasher(seed: [u8; 32], candidates: &[(Id, u128)], blake2_256: impl Fn(&[u8]) -> [u8; 32]) -> Self {
		// The hash input is `SCALE((seed, SCALE(id)))`: the seed, then the encoded id as a
		// length-prefixed byte string. One buffer serves every candidate.
		let mut id_bytes = Vec::new();
		let mut input = Vec::new();
		let heap = candidates
			.iter()
			.filter(|(_, w)| *w > 0)
			.map(|(id, w)| {
				id_bytes.clear();
				id.encode_to(&mut id_bytes);
				input.clear();
				(seed, &id_bytes).encode_to(&mut input);
				let h = blake2_256(&input);
				let hash = u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
				Keyed { exp: exponential(hash), weight: (*w).min(MAX_WEIGHT), hash, id: id.clone() }
			})
			.collect::<Vec<_>>()
			.into();
		Self { heap }
	}

	/// The candidate that comes next in draw order, with its weight.
	pub fn first(&self) -> Option<(&Id, u128)> {
		self.heap.peek().map(|item| (&item.id, item.weight))
	}

	/// Takes the candidate that comes next out of the order.
	pub fn take_first(&mut self) -> Option<Id> {
		self.heap.pop().map(|item| item.id)
	}

	/// How many candidates are left in the order.
	pub fn len(&self) -> usize {
		self.heap.len()
	}

	/// Whether no candidate is left.
	pub fn is_empty(&self) -> bool {
		self.heap.is_empty()
	}

	/// Lowers the weight of the candidate that comes next to `weight` (zero takes it out) and
	/// moves it to its new place, which lies at or after the first. A higher weight is
	/// ignored: raising it could move the candidate ahead of ones already taken.
	pub fn lower_first(&mut self, weight: u128) {
		let Some(mut item) = self.heap.pop() else { return };
		if weight == 0 {
			return;
		}
		item.weight = weight.min(item.weight);
		self.heap.push(item);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn log2_is_exact_on_powers_and_close_elsewhere() {
		assert_eq!(log2_fixed(1), 0);
		assert_eq!(log2_fixed(2), 1 << 32);
		assert_eq!(log2_fixed(1 << 64), 64 << 32);
		for x in [3u128, 10, 1000, 123_456_789, u64::MAX as u128] {
			let want = (x as f64).log2();
			let got = log2_fixed(x) as f64 / (1u64 << 32) as f64;
			assert!((want - got).abs() < 1e-8, "log2({x}) = {got}, want {want}");
		}
	}

	#[test]
	fn weighted_draws_are_deterministic_distinct_and_order_independent() {
		let items: Vec<(u32, u128)> = (0..20).map(|i| (i, 100 + i as u128)).collect();
		let a = sample_weighted([7u8; 32], &items, 5);
		assert_eq!(a, sample_weighted([7u8; 32], &items, 5));
		let mut sorted = a.clone();
		sorted.sort();
		sorted.dedup();
		assert_eq!(sorted.len(), 5);
		let mut reversed = items.clone();
		reversed.reverse();
		assert_eq!(a, sample_weighted([7u8; 32], &reversed, 5), "the list's order does not matter");
		assert_ne!(a, sample_weighted([8u8; 32], &items, 5));
	}

	#[test]
	fn removing_a_candidate_only_lets_in_the_next_one() {
		let items: Vec<(u32, u128)> = (0..30).map(|i| (i, 50)).collect();
		for s in 0..50u8 {
			let drawn = sample_weighted([s; 32], &items, 4);
			let without: Vec<_> = items.iter().filter(|(i, _)| *i != drawn[1]).cloned().collect();
			let redrawn = sample_weighted([s; 32], &without, 4);
			let next = sample_weighted([s; 32], &items, 5)[4];
			assert_eq!(redrawn, [drawn[0], drawn[2], drawn[3], next]);
		}
	}

	#[test]
	fn lowering_a_weight_gives_the_order_of_a_fresh_draw() {
		let items: Vec<(u32, u128)> = (0..40).map(|i| (i, 1_000 + 37 * i as u128)).collect();
		for s in 0..30u8 {
			let mut order = WeightedOrder::new([s; 32], &items);
			let position = (s as usize) % 10;
			let taken: Vec<u32> = (0..position).map(|_| order.take_first().expect("in range")).collect();
			let id = *order.first().expect("in range").0;
			let lowered = if s % 3 == 0 { 0 } else { 1 + s as u128 };
			order.lower_first(lowered);
			let corrected: Vec<(u32, u128)> =
				items.iter().map(|&(i, w)| (i, if i == id { lowered } else { w })).collect();
			let fresh = sample_weighted([s; 32], &corrected, corrected.len());
			let mut got = taken.clone();
			while let Some(next) = order.take_first() {
				got.push(next);
			}
			assert_eq!(got, fresh, "seed {s}");
			let before: Vec<u32> = sample_weighted([s; 32], &items, position);
			assert_eq!(taken, before, "earlier picks keep their places");
		}
	}

	/// The lazy heap gives exactly the full sort by key: the order is defined by the keys, not
	/// by how it is produced. The golden draw is the one the earlier full-sort implementation
	/// gave, so the chain's draws did not change with the data structure.
	#[test]
	fn the_order_is_the_sort_by_key() {
		let items: Vec<(u32, u128)> = (0..64).map(|i| (i, 1 + (i as u128 * 7919) % 1000)).collect();
		for s in 0..20u8 {
			let mut keyed: Vec<(u128, u128, u64, u32)> = items
				.iter()
				.map(|(id, w)| {
					let h = sp_crypto_hashing::blake2_256(&([s; 32], id.encode()).encode());
					let hash = u64::from_le_bytes(h[..8].try_into().expect("8 bytes"));
					(exponential(hash), *w, hash, *id)
				})
				.collect();
			keyed.sort_by(|a, b| (a.0 * b.1).cmp(&(b.0 * a.1)).then(a.2.cmp(&b.2)));
			let sorted: Vec<u32> = keyed.iter().map(|k| k.3).collect();
			assert_eq!(sample_weighted([s; 32], &items, items.len()), sorted, "seed {s}");
		}
		assert_eq!(sample_weighted([3u8; 32], &items, 5), [45, 53, 63, 4, 7]);
	}

	#[test]
	fn a_native_hasher_gives_the_same_order() {
		let items: Vec<([u8; 32], u128)> = (0..50u8).map(|i| ([i; 32], 10 + i as u128)).collect();
		let mut portable = WeightedOrder::new([9u8; 32], &items);
		let mut supplied = WeightedOrder::new_with_hasher([9u8; 32], &items, |b| sp_crypto_hashing::blake2_256(b));
		while let Some(id) = portable.take_first() {
			assert_eq!(supplied.take_first(), Some(id));
		}
		assert!(supplied.is_empty());
	}

	#[test]
	fn zero_weights_are_never_drawn() {
		let items = [(1u32, 0u128), (2, 5), (3, 0)];
		assert_eq!(sample_weighted([1u8; 32], &items, 3), [2]);
	}

	/// Chance of being drawn first is proportional to weight, and splitting a weight across
	/// identities does not raise the total chance.
	#[test]
	fn first_draw_is_proportional_to_weight_and_splitting_buys_nothing() {
		// One account of weight 300 against ten of weight 70 (total 700): 30%.
		let mut whole = vec![(0u32, 300u128)];
		whole.extend((1..=10).map(|i| (i, 70)));
		// The same 300 split across 30 identities of weight 10.
		let mut split: Vec<(u32, u128)> = (100..130).map(|i| (i, 10)).collect();
		split.extend((1..=10).map(|i| (i, 70)));
		let (mut whole_wins, mut split_wins) = (0, 0);
		let n = 4000u32;
		for s in 0..n {
			let mut seed = [0u8; 32];
			seed[..4].copy_from_slice(&s.to_le_bytes());
			whole_wins += u32::from(sample_weighted(seed, &whole, 1)[0] == 0);
			split_wins += u32::from(sample_weighted(seed, &split, 1)[0] >= 100);
		}
		for wins in [whole_wins, split_wins] {
			let share = wins as f64 / n as f64;
			assert!((0.27..0.33).contains(&share), "share {share}");
		}
	}

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
