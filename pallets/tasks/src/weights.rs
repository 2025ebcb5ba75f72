//! Weights of pallet-tasks.
//!
//! The functions mirror the frame-benchmarking v2 benchmarks in `benchmarking.rs`, at their
//! worst cases (`MaxVerifiers` workers, the largest results). The numbers are NOT yet
//! generated on reference hardware: they are conservative estimates (reads/writes counted from
//! the code, compute per verifier measured from `replica-primitives`' criterion benchmark with
//! a 10x margin) until `frame-omni-bencher` output replaces this file.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, RuntimeDbWeight, Weight},
};

/// Weight functions needed by pallet-tasks.
pub trait WeightInfo {
	fn register_model() -> Weight;
	fn retire_model() -> Weight;
	fn create_task() -> Weight;
	fn cancel_task() -> Weight;
	fn commit_result() -> Weight;
	fn reveal_result() -> Weight;
	fn reveal_result_decides(v: u32) -> Weight;
	fn set_params() -> Weight;
	fn on_initialize_base() -> Weight;
	fn deadline_assign(v: u32) -> Weight;
	fn deadline_verdict(v: u32) -> Weight;
	fn deadline_prune(v: u32) -> Weight;
	fn deadline_stale() -> Weight;
}

const BASE: u64 = 60_000_000;
/// Per verifier: a tally row, a slash or payout, reputation, index updates.
const PER_VERIFIER: u64 = 40_000_000;
/// Proof per verifier: its assignment (~5 KiB with a ciphertext) and worker records.
const VERIFIER_PROOF: u64 = 8_000;
const TASK_PROOF: u64 = 3_000;

struct Estimate(RuntimeDbWeight);

impl Estimate {
	fn simple(&self, reads: u64, writes: u64) -> Weight {
		Weight::from_parts(BASE, TASK_PROOF).saturating_add(self.0.reads_writes(reads, writes))
	}
	fn per_verifier(&self, v: u32, reads: u64, writes: u64) -> Weight {
		let v = v as u64;
		Weight::from_parts(BASE + PER_VERIFIER * v, TASK_PROOF + VERIFIER_PROOF * v)
			.saturating_add(self.0.reads_writes(reads * v + 4, writes * v + 4))
	}
}

macro_rules! impl_weights {
	($db:expr) => {
		fn register_model() -> Weight {
			Estimate($db).simple(1, 2)
		}
		fn retire_model() -> Weight {
			Estimate($db).simple(1, 1)
		}
		fn create_task() -> Weight {
			Estimate($db).simple(6, 6)
		}
		fn cancel_task() -> Weight {
			Estimate($db).simple(4, 4)
		}
		fn commit_result() -> Weight {
			// Reads every co-assignee's commitment (duplicate check) and may start the reveal.
			Estimate($db).per_verifier(16, 1, 0).saturating_add(Estimate($db).simple(3, 3))
		}
		fn reveal_result() -> Weight {
			Estimate($db).per_verifier(16, 1, 0).saturating_add(Estimate($db).simple(3, 1))
		}
		fn reveal_result_decides(v: u32) -> Weight {
			Estimate($db).per_verifier(v, 6, 6)
		}
		fn set_params() -> Weight {
			Estimate($db).simple(0, 1)
		}
		fn on_initialize_base() -> Weight {
			Estimate($db).simple(1, 1)
		}
		fn deadline_assign(v: u32) -> Weight {
			// Reads the model index (≤ 256 entries) and writes each drawn worker's records.
			Estimate($db).per_verifier(v, 3, 4).saturating_add(Weight::from_parts(0, 20_000))
		}
		fn deadline_verdict(v: u32) -> Weight {
			Estimate($db).per_verifier(v, 6, 6)
		}
		fn deadline_prune(v: u32) -> Weight {
			Estimate($db).per_verifier(v, 0, 1)
		}
		fn deadline_stale() -> Weight {
			Estimate($db).simple(1, 0)
		}
	};
}

/// Estimated weights for a runtime `T`.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	impl_weights!(T::DbWeight::get());
}

// For tests.
impl WeightInfo for () {
	impl_weights!(RocksDbWeight::get());
}
