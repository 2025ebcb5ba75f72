//! Benchmarks of pallet-relay-randomness.

use super::*;
use frame_benchmarking::v2::*;

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Worst case: a newer relay block replaces a stored value.
	#[benchmark]
	fn note_relay_randomness() {
		Pallet::<T>::note_relay_randomness(1, [1; 32]);
		let taken;
		#[block]
		{
			taken = Pallet::<T>::note_relay_randomness(2, [2; 32]);
		}
		assert!(taken);
		assert_eq!(Latest::<T>::get().map(|latest| latest.relay_block), Some(2));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(false), crate::mock::Test);
}
