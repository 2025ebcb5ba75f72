//! Weights of pallet-workers.
//!
//! The `WeightInfo` functions mirror the frame-benchmarking v2 benchmarks in
//! `benchmarking.rs` (worst cases: `MaxModelsPerWorker` models, full model indexes, full
//! unbonding schedule). The numbers below are NOT yet generated on reference hardware: they
//! are conservative upper estimates (storage reads/writes counted from the code, 50 µs of
//! compute per call) until `frame-omni-bencher` output replaces this file.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, RuntimeDbWeight, Weight},
};

/// Weight functions needed by pallet-workers.
pub trait WeightInfo {
	fn register(m: u32) -> Weight;
	fn update_profile(m: u32) -> Weight;
	fn update_models(m: u32) -> Weight;
	fn update_endpoint() -> Weight;
	fn go_online(m: u32) -> Weight;
	fn go_offline(m: u32) -> Weight;
	fn bond_more() -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn deregister(m: u32) -> Weight;
	fn set_params() -> Weight;
}

const BASE: u64 = 50_000_000;
const PER_MODEL: u64 = 10_000_000;
/// A model index entry is ~70 bytes; a full index of 256 entries ~18 KiB of proof.
const INDEX_PROOF: u64 = 18_000;
const WORKER_PROOF: u64 = 2_000;

/// The estimates, for a given database weight.
struct Estimate(RuntimeDbWeight);

impl Estimate {
	fn simple(&self, reads: u64, writes: u64) -> Weight {
		Weight::from_parts(BASE, WORKER_PROOF).saturating_add(self.0.reads_writes(reads, writes))
	}
	/// A call that reads and rewrites the worker and `m` model indexes.
	fn indexed(&self, m: u32) -> Weight {
		let m = m as u64;
		Weight::from_parts(BASE + PER_MODEL * m, WORKER_PROOF + INDEX_PROOF * m)
			.saturating_add(self.0.reads_writes(2 + m, 1 + m))
	}
}

macro_rules! impl_weights {
	($db:expr) => {
		fn register(_m: u32) -> Weight {
			Estimate($db).simple(4, 4)
		}
		fn update_profile(m: u32) -> Weight {
			Estimate($db).indexed(m)
		}
		fn update_models(m: u32) -> Weight {
			Estimate($db).indexed(m.saturating_mul(2))
		}
		fn update_endpoint() -> Weight {
			Estimate($db).simple(1, 1)
		}
		fn go_online(m: u32) -> Weight {
			Estimate($db).indexed(m)
		}
		fn go_offline(m: u32) -> Weight {
			Estimate($db).indexed(m)
		}
		fn bond_more() -> Weight {
			Estimate($db).simple(4, 4)
		}
		fn unbond() -> Weight {
			Estimate($db).simple(2, 1)
		}
		fn withdraw_unbonded() -> Weight {
			Estimate($db).simple(4, 4)
		}
		fn deregister(m: u32) -> Weight {
			Estimate($db).indexed(m)
		}
		fn set_params() -> Weight {
			Estimate($db).simple(0, 1)
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
