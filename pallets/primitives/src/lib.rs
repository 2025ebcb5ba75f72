//! # replica-primitives
//!
//! Everything that Replica's runtime (no_std, WASM) and its off-chain worker (std) must compute
//! *identically*:
//!
//! - [`types`]: task and result types — hash algorithms, perceptual hashes of images, text
//!   results, execution profiles, the [`ResultPayload`](types::ResultPayload) a worker commits to.
//! - [`voting`]: Hamming distance and tolerance voting, which decides which revealed results
//!   agree and whether they reach the quorum.
//! - [`commitment`]: the commit-reveal scheme for encrypted results (wire format v1, with test
//!   vectors).
//! - [`probability`]: the probability that a verifier set reaches quorum, exact (fixed point,
//!   for the runtime) and `f64` (for tools).
//! - [`sampling`]: deterministic choice of k distinct candidates from a 32-byte seed.
//! - [`swarm`]: ranked consensus for open-ended answers — who ranks which answers, scores,
//!   rating-weighted selection and ratings (1 − sigma of an agent's score deviations).
//! - [`training`]: verified fine-tuning — segment commitments, the segment draw and verdicts.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod commitment;
pub mod probability;
pub mod sampling;
pub mod swarm;
pub mod training;
pub mod types;
pub mod voting;

pub use commitment::{open, seal, OpenError, Sealed};
pub use probability::agreement_probability;
#[cfg(feature = "std")]
pub use probability::agreement_probability_f64;
pub use sampling::{sample_distinct, sample_weighted, WeightedOrder};
pub use types::*;
pub use voting::{agree, hamming, tally, Quorum, Tolerances, Verdict};
