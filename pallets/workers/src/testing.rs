//! Test support for the mocks of this pallet and of the task pallets built on it (feature
//! `test-support`, dev-dependencies only): controllable randomness, and execution profiles.

use core::{cell::RefCell, marker::PhantomData};
use frame_support::traits::Randomness;
use frame_system::pallet_prelude::BlockNumberFor;
use replica_primitives::{Dtype, ExecutionProfile};
use sp_runtime::traits::Hash;

std::thread_local! {
	/// Changes every draw when a test sets it.
	pub static SALT: RefCell<u64> = const { RefCell::new(0) };
	/// Pins the block the randomness is known since (a stalled source); `None`: every block.
	pub static KNOWN_SINCE: RefCell<Option<u64>> = const { RefCell::new(None) };
}

/// Randomness that changes every block and with every subject, like a real source, and is new
/// in every block unless a test pins the block it is known since ([`KNOWN_SINCE`]). The mocks'
/// clock is the block number: randomness "known since" block `b` could be read by anyone
/// during block `b`.
pub struct TestRandomness<T>(PhantomData<T>);
impl<T: frame_system::Config> Randomness<T::Hash, BlockNumberFor<T>> for TestRandomness<T>
where
	BlockNumberFor<T>: From<u64> + Into<u64>,
{
	fn random(subject: &[u8]) -> (T::Hash, BlockNumberFor<T>) {
		let block: u64 = frame_system::Pallet::<T>::block_number().into();
		let salt = SALT.with(|s| *s.borrow());
		let known_since = KNOWN_SINCE.with(|k| *k.borrow()).unwrap_or(block);
		let mut input = subject.to_vec();
		input.extend_from_slice(&known_since.to_le_bytes());
		input.extend_from_slice(&salt.to_le_bytes());
		(T::Hashing::hash(&input), known_since.into())
	}
}

/// An execution profile of a `gpu` with `vram_mib`, the rest fixed.
pub fn profile(gpu: &str, vram_mib: u32) -> ExecutionProfile {
	let field = |s: &str| s.as_bytes().to_vec().try_into().expect("short enough");
	ExecutionProfile {
		gpu_model: field(gpu),
		vram_mib,
		driver: field("550.54"),
		cuda: field("12.4"),
		libtorch: field("2.13.0"),
		dtype: Dtype::F32,
		worker_version: field("0.1.0"),
	}
}
