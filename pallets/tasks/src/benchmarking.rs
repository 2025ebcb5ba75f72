//! Benchmarks (frame-benchmarking v2) of every call and hook at its worst case:
//! `MaxVerifiers` workers, the largest results (max images × every hash algorithm, or the
//! longest text), and the reveal that completes the set and decides the task.

use super::*;
use crate::pallet::{Call, Config, Pallet};
use alloc::{vec, vec::Vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		EnsureOrigin, Get, Hooks,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use replica_primitives::{
	seal, HashAlg, ImageHashes, ImageResult, ModelId, ResultPayload,
	TaskId, Tolerances, MAX_IMAGES,
};
use pallet_workers::WorkerRegistry;
use replica_primitives::SlashReason;
use sp_runtime::{
	traits::{BlockNumberProvider, Bounded, Saturating, Zero},
	Perbill,
};

pub use pallet_workers::benchmark_helper::{BenchmarkHelper, WorkersHelper};

fn image_model<T: Config>() -> ModelInfo<BalanceOf<T>> {
	ModelInfo {
		name: vec![b'm'; 64].try_into().expect("fits"),
		kind: ModelKind::Image,
		weights_digest: [7; 32],
		vram_mib: 1,
		tolerances: Tolerances::of(&HashAlg::ALL.map(|a| (a, 2))),
		max_steps: 50,
		max_side: 1024,
		max_images: MAX_IMAGES,
		max_tokens: 0,
		context_len: 0,
		min_fee: 1u32.into(),
		retired: false,
	}
}

fn spec<T: Config>(model: ModelId, verifiers: u32) -> TaskSpec<BalanceOf<T>> {
	TaskSpec {
		model,
		params: TaskParams::Image(ImageParams {
			prompt: vec![b'p'; 1024].try_into().expect("fits"),
			negative_prompt: vec![b'n'; 1024].try_into().expect("fits"),
			seed: 1,
			steps: 50,
			guidance_milli: 7_500,
			width: 1024,
			height: 1024,
			count: MAX_IMAGES,
		}),
		verification: Some(Verification::Replicated { verifiers }),
		quorum: None,
		fee: 1_000_000u32.into(),
	}
}

/// The largest image result: every image with every hash.
fn result(salt: u64) -> ResultPayload {
	let mut hashes = ImageHashes::default();
	for alg in HashAlg::ALL {
		hashes.set(alg, salt);
	}
	let images: Vec<ImageResult> =
		(0..MAX_IMAGES).map(|i| ImageResult { hashes, png_digest: [i as u8; 32] }).collect();
	ResultPayload::Image(images.try_into().expect("fits"))
}

/// A creator with funds; also makes sure the earnings pot that verdicts pay into exists, as
/// the runtime's genesis does.
fn creator<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("creator", 0, 0);
	let _ = T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 4u32.into());
	let pot = T::Workers::earnings_pot();
	if T::Currency::balance(&pot) < T::Currency::minimum_balance() {
		let _ = T::Currency::set_balance(&pot, T::Currency::minimum_balance());
	}
	who
}

/// Registers the benchmark's image model; returns its id.
fn registered_model<T: Config>() -> ModelId {
	let model = NextModelId::<T>::get();
	Pallet::<T>::register_model(
		T::GovernanceOrigin::try_successful_origin().expect("governance origin"),
		image_model::<T>(),
	)
	.expect("model");
	model
}

/// Moves the `Clock` on, so that the randomness source's output counts as unknown when the
/// tasks created so far could still change (the runtime's clock is the relay parent number,
/// which no block advances in a benchmark).
fn advance_clock<T: Config>() {
	let now = T::Clock::current_block_number();
	T::Clock::set_block_number(now.saturating_add(1u32.into()));
}

/// A model with `c` online workers, the index-order first `v` of whom get `v`-verifier tasks;
/// the task is created but not drawn yet. Returns the task.
fn task_with_candidates<T: Config>(v: u32, c: u32) -> TaskId {
	let model = registered_model::<T>();
	for i in 0..c.max(v) {
		T::BenchmarkHelper::online_worker(&account("worker", i, 0), model);
	}
	let task = NextTaskId::<T>::get();
	Pallet::<T>::create_task(RawOrigin::Signed(creator::<T>()).into(), spec::<T>(model, v)).expect("task");
	advance_clock::<T>();
	task
}

/// A model, `v` online workers and a task assigned to all of them.
fn assigned_task<T: Config>(v: u32) -> (TaskId, Vec<T::AccountId>) {
	let model = registered_model::<T>();
	for i in 0..v {
		T::BenchmarkHelper::online_worker(&account("worker", i, 0), model);
	}
	let task = NextTaskId::<T>::get();
	Pallet::<T>::create_task(RawOrigin::Signed(creator::<T>()).into(), spec::<T>(model, v)).expect("task");
	advance_clock::<T>();
	let next = frame_system::Pallet::<T>::block_number() + 1u32.into();
	frame_system::Pallet::<T>::set_block_number(next);
	Pallet::<T>::process_deadline(next, task, Deadline::Assign);
	let workers = Tasks::<T>::get(task).expect("task").workers.into_inner();
	assert_eq!(workers.len() as u32, v, "all workers drawn");
	(task, workers)
}

fn key(i: usize) -> [u8; 32] {
	sp_io::hashing::blake2_256(&(b"bench-key", i as u64).encode())
}

/// Everyone commits the same largest result.
fn commit_all<T: Config>(task: TaskId, workers: &[T::AccountId]) {
	for (i, w) in workers.iter().enumerate() {
		let sealed = seal(&result(0), task, 0, &Pallet::<T>::worker_bytes(w), &key(i));
		Pallet::<T>::commit_result(RawOrigin::Signed(w.clone()).into(), task, sealed.ciphertext, sealed.commitment)
			.expect("commit");
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_model() -> Result<(), BenchmarkError> {
		let origin = T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, image_model::<T>());
		Ok(())
	}

	#[benchmark]
	fn retire_model() -> Result<(), BenchmarkError> {
		let origin = T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let model = registered_model::<T>();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model);
		Ok(())
	}

	#[benchmark]
	fn set_model_tolerances() -> Result<(), BenchmarkError> {
		let origin = T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let model = registered_model::<T>();
		let tolerances = Tolerances::of(&HashAlg::ALL.map(|a| (a, 0)));
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model, tolerances);
		assert_eq!(Models::<T>::get(model).map(|info| info.tolerances), Some(tolerances));
		Ok(())
	}

	#[benchmark]
	fn create_task() {
		let model = registered_model::<T>();
		let who = creator::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who), spec::<T>(model, T::MaxVerifiers::get()));
	}

	/// A batch of `n` creations by one creator, each a worst-case spec.
	#[benchmark]
	fn create_tasks(n: Linear<1, { T::MaxCreateBatch::get() }>) {
		let model = registered_model::<T>();
		let who = creator::<T>();
		let specs: Vec<_> = (0..n).map(|_| spec::<T>(model, T::MaxVerifiers::get())).collect();
		let specs: BoundedVec<_, T::MaxCreateBatch> = specs.try_into().expect("within the bound");
		#[extrinsic_call]
		_(RawOrigin::Signed(who), specs);
		assert_eq!(TaskCount::<T>::get(), n);
	}

	#[benchmark]
	fn cancel_task() {
		let model = registered_model::<T>();
		let who = creator::<T>();
		let task = NextTaskId::<T>::get();
		Pallet::<T>::create_task(RawOrigin::Signed(who.clone()).into(), spec::<T>(model, 1)).expect("task");
		#[extrinsic_call]
		_(RawOrigin::Signed(who), task);
	}

	/// A commit that does not end the phase: the next-to-last of `v` workers commits (it
	/// checks the others' commitments for a copy; the last worker's is still missing).
	#[benchmark]
	fn commit_result(v: Linear<2, { T::MaxVerifiers::get() }>) {
		let (task, workers) = assigned_task::<T>(v);
		let next_to_last = workers.len() - 2;
		commit_all::<T>(task, &workers[..next_to_last]);
		let who = workers[next_to_last].clone();
		let sealed = seal(&result(0), task, 0, &Pallet::<T>::worker_bytes(&who), &key(next_to_last));
		#[extrinsic_call]
		_(RawOrigin::Signed(who), task, sealed.ciphertext, sealed.commitment);
		assert!(matches!(Tasks::<T>::get(task).expect("task").status, TaskStatus::Committing { .. }));
	}

	/// The last of `v` workers commits: it checks the others' commitments for a copy and
	/// starts the reveal phase.
	#[benchmark]
	fn commit_result_ends_phase(v: Linear<1, { T::MaxVerifiers::get() }>) {
		let (task, workers) = assigned_task::<T>(v);
		// All but the last commit; the last one's commit starts the reveal phase.
		commit_all::<T>(task, &workers[..workers.len() - 1]);
		let last = workers.last().expect("workers").clone();
		let sealed = seal(&result(0), task, 0, &Pallet::<T>::worker_bytes(&last), &key(workers.len() - 1));
		#[extrinsic_call]
		commit_result(RawOrigin::Signed(last), task, sealed.ciphertext, sealed.commitment);
		assert!(matches!(Tasks::<T>::get(task).expect("task").status, TaskStatus::Revealing { .. }));
	}

	#[benchmark]
	fn reveal_result() {
		let (task, workers) = assigned_task::<T>(T::MaxVerifiers::get());
		commit_all::<T>(task, &workers);
		#[extrinsic_call]
		_(RawOrigin::Signed(workers[0].clone()), task, key(0));
	}

	#[benchmark]
	fn reveal_result_decides(v: Linear<1, { T::MaxVerifiers::get() }>) {
		let (task, workers) = assigned_task::<T>(v);
		commit_all::<T>(task, &workers);
		for (i, w) in workers.iter().enumerate().take(workers.len() - 1) {
			Pallet::<T>::reveal_result(RawOrigin::Signed(w.clone()).into(), task, key(i)).expect("reveal");
		}
		let last = workers.len() - 1;
		#[extrinsic_call]
		reveal_result(RawOrigin::Signed(workers[last].clone()), task, key(last));
		assert_eq!(Tasks::<T>::get(task).expect("task").status, TaskStatus::Finalized);
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin = T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Pallet::<T>::default_params());
		Ok(())
	}

	#[benchmark]
	fn on_initialize_base() {
		let now = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}
	}

	/// A draw of `v` workers among `c` candidates, all of them current.
	#[benchmark]
	fn deadline_assign(
		v: Linear<1, { T::MaxVerifiers::get() }>,
		c: Linear<1, { T::Workers::max_candidates() }>,
	) {
		let task = task_with_candidates::<T>(v, c);
		let now = frame_system::Pallet::<T>::block_number() + 1u32.into();
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::process_deadline(now, task, Deadline::Assign);
		}
		assert!(matches!(Tasks::<T>::get(task).expect("task").status, TaskStatus::Committing { .. }));
	}

	/// A draw that meets only stale index entries (every candidate was slashed below the
	/// minimum stake since it entered): it corrects as many as it may look at, sampling again
	/// after each, and gives up for this block.
	#[benchmark]
	fn draw_corrections() {
		let v = T::MaxVerifiers::get();
		let c = T::Workers::max_candidates();
		let task = task_with_candidates::<T>(v, c);
		for i in 0..c {
			let who: T::AccountId = account("worker", i, 0);
			T::Workers::slash(&who, Perbill::from_percent(50), Zero::zero(), SlashReason::Withheld, task);
		}
		let now = frame_system::Pallet::<T>::block_number() + 1u32.into();
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::process_deadline(now, task, Deadline::Assign);
		}
		assert!(matches!(Tasks::<T>::get(task).expect("task").status, TaskStatus::Pending { .. }));
	}

	#[benchmark]
	fn deadline_verdict(v: Linear<1, { T::MaxVerifiers::get() }>) {
		let (task, workers) = assigned_task::<T>(v);
		commit_all::<T>(task, &workers);
		for (i, w) in workers.iter().enumerate() {
			if i + 1 < workers.len() {
				Pallet::<T>::reveal_result(RawOrigin::Signed(w.clone()).into(), task, key(i)).expect("reveal");
			}
		}
		let now = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			Pallet::<T>::process_deadline(now, task, Deadline::Reveal { round: 0 });
		}
	}

	/// Pruning a finished task of the most workers (its records are gone since its verdict).
	#[benchmark]
	fn deadline_prune() {
		let (task, workers) = assigned_task::<T>(T::MaxVerifiers::get());
		commit_all::<T>(task, &workers);
		for (i, w) in workers.iter().enumerate() {
			Pallet::<T>::reveal_result(RawOrigin::Signed(w.clone()).into(), task, key(i)).expect("reveal");
		}
		let now = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			Pallet::<T>::process_deadline(now, task, Deadline::Prune);
		}
		assert!(Tasks::<T>::get(task).is_none());
	}

	/// An overdue reveal deadline of a full task, advanced by hand: the verdict, with one
	/// worker withheld.
	#[benchmark]
	fn advance_task() {
		let (task, workers) = assigned_task::<T>(T::MaxVerifiers::get());
		commit_all::<T>(task, &workers);
		for (i, w) in workers.iter().enumerate().take(workers.len() - 1) {
			Pallet::<T>::reveal_result(RawOrigin::Signed(w.clone()).into(), task, key(i)).expect("reveal");
		}
		let TaskStatus::Revealing { deadline, .. } = Tasks::<T>::get(task).expect("task").status else {
			panic!("revealing")
		};
		// The hook never reached it.
		frame_system::Pallet::<T>::set_block_number(deadline + 1u32.into());
		#[extrinsic_call]
		_(RawOrigin::Signed(creator::<T>()), task);
		assert_eq!(Tasks::<T>::get(task).expect("task").status, TaskStatus::Finalized);
	}

	#[benchmark]
	fn deadline_stale() {
		let now: BlockNumberFor<T> = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			Pallet::<T>::process_deadline(now, TaskId::MAX, Deadline::Prune);
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
