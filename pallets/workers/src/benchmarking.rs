//! Benchmarks (frame-benchmarking v2) of every call at its worst case: the most models a
//! worker may serve, each model's index full (going online evicts a different worker from
//! each), the unbonding schedule one short of full.

use super::*;
use crate::pallet::{Call, Config, ModelWorkers, Pallet, Workers};
use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	EnsureOrigin, Get,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use replica_primitives::{Dtype, ExecutionProfile};
use sp_runtime::traits::{Bounded, Saturating};

fn profile(vram_mib: u32) -> ExecutionProfile {
	let field = |n: usize| vec![b'x'; n].try_into().expect("fits");
	ExecutionProfile {
		gpu_model: field(64),
		vram_mib,
		driver: field(64),
		cuda: field(64),
		libtorch: field(64),
		dtype: Dtype::F32,
		worker_version: field(64),
	}
}

fn endpoint<T: Config>() -> Vec<u8> {
	let mut e = b"https://".to_vec();
	e.resize(T::MaxEndpointLen::get() as usize, b'a');
	e
}

fn models(m: u32) -> Vec<ModelId> {
	(0..m).collect()
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let amount = Pallet::<T>::params().min_stake.saturating_mul(1_000u32.into());
	let _ = T::Currency::set_balance(&who, amount.saturating_add(T::Currency::minimum_balance()));
	who
}

/// Credits `who` earnings of `min_stake` and puts them in the earnings pot; returns them.
fn with_earnings<T: Config>(who: &T::AccountId) -> BalanceOf<T> {
	let earned = Pallet::<T>::params().min_stake;
	let pot = T::EarningsPot::get();
	let _ = T::Currency::set_balance(&pot, T::Currency::balance(&pot).max(T::Currency::minimum_balance()).saturating_add(earned));
	Workers::<T>::mutate(who, |info| info.as_mut().expect("registered").earnings = earned);
	earned
}

fn registered<T: Config>(name: &'static str, index: u32, m: u32) -> T::AccountId {
	let who = funded::<T>(name, index);
	let stake = Pallet::<T>::params().min_stake.saturating_mul(10u32.into());
	Pallet::<T>::register(
		RawOrigin::Signed(who.clone()).into(),
		profile(80_000),
		models(m),
		endpoint::<T>(),
		stake,
	)
	.expect("register");
	who
}

/// Fills each of the first `m` model indexes to `MaxWorkersPerModel`, the lowest stake in
/// each a different worker (serving only that model), so that a better-staked worker going
/// online evicts `m` workers.
fn fill_indexes_to_eviction<T: Config>(m: u32) {
	fill_indexes::<T>(m);
	let min_stake = Pallet::<T>::params().min_stake;
	for model in 0..m {
		let who = funded::<T>("lowest", model);
		Pallet::<T>::register(RawOrigin::Signed(who.clone()).into(), profile(80_000), vec![model], endpoint::<T>(), min_stake)
			.expect("register");
		Pallet::<T>::go_online(RawOrigin::Signed(who).into()).expect("online");
	}
}

/// An online worker serving the most models, each index full.
fn online_everywhere<T: Config>() -> T::AccountId {
	let m = T::MaxModelsPerWorker::get();
	fill_indexes::<T>(m);
	let who = registered::<T>("worker", 0, m);
	Pallet::<T>::go_online(RawOrigin::Signed(who.clone()).into()).expect("online");
	who
}

/// Fills each of the first `m` model indexes to one short of `MaxWorkersPerModel`.
fn fill_indexes<T: Config>(m: u32) {
	let others = T::MaxWorkersPerModel::get().saturating_sub(1);
	for i in 0..others {
		let who = registered::<T>("other", i, m.max(1));
		Pallet::<T>::go_online(RawOrigin::Signed(who).into()).expect("online");
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register(m: Linear<1, { T::MaxModelsPerWorker::get() }>) {
		let who = funded::<T>("worker", 0);
		let stake = Pallet::<T>::params().min_stake;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), profile(80_000), models(m), endpoint::<T>(), stake);
		assert!(Workers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn update_profile(m: Linear<1, { T::MaxModelsPerWorker::get() }>) {
		fill_indexes::<T>(m);
		let who = registered::<T>("worker", 0, m);
		Pallet::<T>::go_online(RawOrigin::Signed(who.clone()).into()).expect("online");
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), profile(90_000));
		assert_eq!(Workers::<T>::get(&who).expect("worker").profile.vram_mib, 90_000);
	}

	#[benchmark]
	fn update_models(m: Linear<1, { T::MaxModelsPerWorker::get() }>) {
		fill_indexes::<T>(T::MaxModelsPerWorker::get());
		let who = registered::<T>("worker", 0, m);
		Pallet::<T>::go_online(RawOrigin::Signed(who.clone()).into()).expect("online");
		let new: Vec<ModelId> = models(m).into_iter().rev().collect();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), new);
		assert_eq!(ModelWorkers::<T>::get(0).len() as u32, T::MaxWorkersPerModel::get());
	}

	#[benchmark]
	fn update_endpoint() {
		let who = registered::<T>("worker", 0, 1);
		#[extrinsic_call]
		_(RawOrigin::Signed(who), endpoint::<T>());
	}

	#[benchmark]
	fn go_online(m: Linear<1, { T::MaxModelsPerWorker::get() }>) {
		fill_indexes_to_eviction::<T>(m);
		let who = registered::<T>("worker", 0, m);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert_eq!(Workers::<T>::get(&who).expect("worker").status, WorkerStatus::Online);
		let evicted: T::AccountId = account("lowest", m - 1, 0);
		assert_eq!(Workers::<T>::get(&evicted).expect("worker").status, WorkerStatus::Offline);
	}

	#[benchmark]
	fn go_offline(m: Linear<1, { T::MaxModelsPerWorker::get() }>) {
		fill_indexes::<T>(m);
		let who = registered::<T>("worker", 0, m);
		Pallet::<T>::go_online(RawOrigin::Signed(who.clone()).into()).expect("online");
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert_eq!(Workers::<T>::get(&who).expect("worker").status, WorkerStatus::Offline);
	}

	#[benchmark]
	fn bond_more() {
		let who = online_everywhere::<T>();
		let amount = Pallet::<T>::params().min_stake;
		#[extrinsic_call]
		_(RawOrigin::Signed(who), amount);
	}

	#[benchmark]
	fn unbond() {
		let who = online_everywhere::<T>();
		// One short of a full unbonding schedule, each chunk in its own block.
		for block in 0..(<MaxUnbondingChunks as Get<u32>>::get() - 1) {
			frame_system::Pallet::<T>::set_block_number(block.into());
			Pallet::<T>::unbond(RawOrigin::Signed(who.clone()).into(), 1u32.into()).expect("unbond");
		}
		frame_system::Pallet::<T>::set_block_number(<MaxUnbondingChunks as Get<u32>>::get().into());
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), 1u32.into());
		assert_eq!(Workers::<T>::get(&who).expect("worker").unbonding.len() as u32, <MaxUnbondingChunks as Get<u32>>::get());
	}

	/// The worst case: a deregistered worker withdraws a full unbonding schedule, is paid its
	/// earnings and removed.
	#[benchmark]
	fn withdraw_unbonded() {
		let who = registered::<T>("worker", 0, 1);
		let chunks = <MaxUnbondingChunks as Get<u32>>::get();
		for block in 0..chunks - 1 {
			frame_system::Pallet::<T>::set_block_number(block.into());
			Pallet::<T>::unbond(RawOrigin::Signed(who.clone()).into(), 1u32.into()).expect("unbond");
		}
		frame_system::Pallet::<T>::set_block_number(chunks.into());
		Pallet::<T>::deregister(RawOrigin::Signed(who.clone()).into()).expect("deregister");
		with_earnings::<T>(&who);
		frame_system::Pallet::<T>::set_block_number(BlockNumberFor::<T>::max_value());
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Workers::<T>::get(&who).is_none());
	}

	#[benchmark]
	fn claim_earnings() {
		let who = registered::<T>("worker", 0, 1);
		let earned = with_earnings::<T>(&who);
		let before = T::Currency::balance(&who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert_eq!(T::Currency::balance(&who), before.saturating_add(earned));
	}

	#[benchmark]
	fn deregister(m: Linear<1, { T::MaxModelsPerWorker::get() }>) {
		fill_indexes::<T>(m);
		let who = registered::<T>("worker", 0, m);
		Pallet::<T>::go_online(RawOrigin::Signed(who.clone()).into()).expect("online");
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert_eq!(Workers::<T>::get(&who).expect("worker").status, WorkerStatus::Deregistering);
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin = T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = Pallet::<T>::default_params();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);
		Ok(())
	}

	#[benchmark]
	fn spend_slashed() -> Result<(), BenchmarkError> {
		let origin = T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let pot = T::SlashPot::get();
		let amount = Pallet::<T>::params().min_stake;
		let _ = T::Currency::set_balance(&pot, amount.saturating_mul(2u32.into()).saturating_add(T::Currency::minimum_balance()));
		let to: T::AccountId = account("recipient", 0, 0);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, to.clone(), amount);
		assert_eq!(T::Currency::balance(&to), amount);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
