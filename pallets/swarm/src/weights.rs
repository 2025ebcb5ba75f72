
//! Weights for `pallet_swarm`: a placeholder until `scripts/benchmark-weights.sh swarm`
//! measures them.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_swarm`.
pub trait WeightInfo {
	fn create_query() -> Weight;
	fn cancel_query() -> Weight;
	fn commit_answer() -> Weight;
	fn reveal_answer() -> Weight;
	fn commit_ranking() -> Weight;
	fn reveal_ranking() -> Weight;
	fn set_params() -> Weight;
	fn on_initialize_base() -> Weight;
	fn deadline_fail(n: u32, ) -> Weight;
	fn deadline_draw(n: u32, ) -> Weight;
	fn deadline_settle(n: u32, ) -> Weight;
	fn deadline_prune(n: u32, ) -> Weight;
	fn deadline_stale() -> Weight;
}

/// Weights for `pallet_swarm` using the Substrate node and recommended hardware.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn create_query() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn cancel_query() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn commit_answer() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn reveal_answer() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn commit_ranking() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn reveal_ranking() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn set_params() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn on_initialize_base() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn deadline_fail(n: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(Weight::from_parts(10_000_000, 5_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
			.saturating_add(T::DbWeight::get().reads_writes(2, 2).saturating_mul(n.into()))
	}
	fn deadline_draw(n: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(Weight::from_parts(10_000_000, 5_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
			.saturating_add(T::DbWeight::get().reads_writes(2, 2).saturating_mul(n.into()))
	}
	fn deadline_settle(n: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(Weight::from_parts(10_000_000, 5_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
			.saturating_add(T::DbWeight::get().reads_writes(2, 2).saturating_mul(n.into()))
	}
	fn deadline_prune(n: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(Weight::from_parts(10_000_000, 5_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
			.saturating_add(T::DbWeight::get().reads_writes(2, 2).saturating_mul(n.into()))
	}
	fn deadline_stale() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
}

// For backwards compatibility and tests.
impl WeightInfo for () {
	fn create_query() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn cancel_query() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn commit_answer() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn reveal_answer() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn commit_ranking() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn reveal_ranking() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn set_params() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn on_initialize_base() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn deadline_fail(n: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(Weight::from_parts(10_000_000, 5_000).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
			.saturating_add(RocksDbWeight::get().reads_writes(2, 2).saturating_mul(n.into()))
	}
	fn deadline_draw(n: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(Weight::from_parts(10_000_000, 5_000).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
			.saturating_add(RocksDbWeight::get().reads_writes(2, 2).saturating_mul(n.into()))
	}
	fn deadline_settle(n: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(Weight::from_parts(10_000_000, 5_000).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
			.saturating_add(RocksDbWeight::get().reads_writes(2, 2).saturating_mul(n.into()))
	}
	fn deadline_prune(n: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(Weight::from_parts(10_000_000, 5_000).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
			.saturating_add(RocksDbWeight::get().reads_writes(2, 2).saturating_mul(n.into()))
	}
	fn deadline_stale() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
}
