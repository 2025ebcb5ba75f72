//! Makes online workers for the benchmarks of the pallets that draw on this registry
//! (pallet-tasks, pallet-swarm).

use crate::{Config, Pallet};
use alloc::vec;
use frame_support::traits::fungible::Mutate;
use frame_system::RawOrigin;
use replica_primitives::{Dtype, ExecutionProfile, ModelId};
use sp_runtime::traits::Saturating;

/// Makes online workers that serve a model, whatever registry the runtime uses.
pub trait BenchmarkHelper<AccountId> {
	/// `who` becomes an online worker serving `model`.
	fn online_worker(who: &AccountId, model: ModelId);
}

/// [`BenchmarkHelper`] for pallet-workers.
pub struct WorkersHelper<T>(core::marker::PhantomData<T>);
impl<T: Config> BenchmarkHelper<T::AccountId> for WorkersHelper<T> {
	fn online_worker(who: &T::AccountId, model: ModelId) {
		let stake = Pallet::<T>::params().min_stake;
		let _ = <T as Config>::Currency::set_balance(
			who,
			stake.saturating_mul(100u32.into()),
		);
		let field = |s: &[u8]| s.to_vec().try_into().expect("fits");
		let profile = ExecutionProfile {
			gpu_model: field(b"bench-gpu"),
			vram_mib: u32::MAX,
			driver: field(b"1"),
			cuda: field(b"1"),
			libtorch: field(b"2.13.0"),
			dtype: Dtype::F32,
			worker_version: field(b"0.1.0"),
		};
		Pallet::<T>::register(
			RawOrigin::Signed(who.clone()).into(),
			profile,
			vec![model],
			b"http://127.0.0.1:8080".to_vec(),
			stake,
		)
		.expect("register");
		Pallet::<T>::go_online(RawOrigin::Signed(who.clone()).into()).expect("online");
	}
}

