//! Weights of pallet-relay-randomness (replaced by `scripts/benchmark-weights.sh` output).

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed by pallet-relay-randomness.
pub trait WeightInfo {
	fn note_relay_randomness() -> Weight;
}

/// Weights for pallet-relay-randomness using the runtime's database weight.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn note_relay_randomness() -> Weight {
		Weight::from_parts(10_000_000, 1_500).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
}

impl WeightInfo for () {
	fn note_relay_randomness() -> Weight {
		Weight::from_parts(10_000_000, 1_500).saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
}
