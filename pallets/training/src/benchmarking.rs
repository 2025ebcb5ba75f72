//! Benchmarks (frame-benchmarking v2) of every call and hook at its worst case: the largest
//! spec, `MaxSegments` claims, `MaxChecks` checks, the model's index full of workers (the
//! draws read it), and a settlement that slashes every drawn worker. The hooks that touch
//! every drawn worker charge the proof they measure, not `MaxEncodedLen` per item.

use super::*;
use crate::pallet::{Call, Config, Pallet};
use alloc::{vec, vec::Vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	EnsureOrigin, Get, Hooks,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_workers::WorkerRegistry;
use replica_primitives::{
	training::{segment_commitment, SegmentHashes},
	ModelId,
};
use sp_runtime::{
	traits::{BlockNumberProvider, One, Saturating},
	Perbill,
};

/// What the benchmarks need from the runtime around this pallet.
pub trait BenchmarkHelper<AccountId> {
	/// An open image model (registered if need be).
	fn image_model() -> ModelId;
	/// `who` becomes an online worker serving `model`.
	fn online_worker(who: &AccountId, model: ModelId);
}

/// Plenty for any fee and existential deposit.
fn funds<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance().max(1u32.into()).saturating_mul(1_000_000_000u32.into())
}

fn fee<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance().max(1u32.into()).saturating_mul(1_000u32.into())
}

/// Every window long, so no phase ends while a benchmark sets it up.
fn windows<T: Config>() -> WindowsOf<T> {
	let w: BlockNumberFor<T> = 50u32.into();
	Windows { train: w, verify: w, reveal: w }
}

/// `sampled` segments checked, one verifier each.
fn bench_params<T: Config>(sampled: u32) {
	let params = TrainingParams {
		sampled_segments: sampled.max(1),
		verifiers_per_segment: 1,
		lsh_tolerance: 3,
		verifier_share: Perbill::from_percent(10),
		min_fee: 1u32.into(),
		fault_slash: Perbill::from_percent(10),
		no_show_slash: Perbill::from_percent(1),
		max_window: 100u32.into(),
		draw_timeout: 50u32.into(),
		retention: 100u32.into(),
	};
	Params::<T>::put(params);
}

/// The largest spec with `segments` segments.
fn bench_spec<T: Config>(model: ModelId, segments: u32) -> TrainingSpec {
	let mut template = vec![b't'; 128];
	template[..2].copy_from_slice(b"{}");
	TrainingSpec {
		model,
		seed: 7,
		learning_rate: Perbill::from_parts(5_000_000),
		steps: 2 * segments,
		batch_size: 4,
		checkpoint_interval: 2,
		init_token: vec![b'i'; 64].try_into().expect("fits"),
		templates: vec![template.try_into().expect("fits"); 8].try_into().expect("fits"),
		latent_noise: Perbill::from_percent(10),
		data_digest: [3; 32],
		data_url: vec![b'u'; 256].try_into().expect("fits"),
	}
}

fn hashes(segment: u32) -> SegmentHashes {
	SegmentHashes { probe: segment as u64, end: !(segment as u64) }
}

fn salt(segment: u32) -> [u8; 32] {
	sp_io::hashing::blake2_256(&(b"bench-salt", segment).encode())
}

/// The model's index filled with online workers up to its limit; a task of `segments`
/// segments checking `sampled` of them.
fn created<T: Config>(segments: u32, sampled: u32) -> TrainingId {
	created_with::<T>(segments, sampled, T::Workers::max_candidates())
}

/// [`created`] with the model's index filled up to `workers`.
fn created_with<T: Config>(segments: u32, sampled: u32, workers: u32) -> TrainingId {
	bench_params::<T>(sampled);
	let model = T::BenchmarkHelper::image_model();
	let indexed = T::Workers::eligible(model, 0, None).len() as u32;
	for i in 0..workers.saturating_sub(indexed) {
		let who: T::AccountId = account("worker", i, 0);
		T::BenchmarkHelper::online_worker(&who, model);
		T::Currency::set_balance(&who, funds::<T>());
	}
	let creator: T::AccountId = account("creator", 0, 0);
	T::Currency::set_balance(&creator, funds::<T>());
	Pallet::<T>::do_create(creator, bench_spec::<T>(model, segments), fee::<T>(), windows::<T>()).expect("create")
}

/// Runs the task's agenda entry now (whatever it is due for).
fn process<T: Config>(training: TrainingId) {
	let info = Trainings::<T>::get(training).expect("training");
	frame_system::Pallet::<T>::set_block_number(info.agenda_at);
	Agenda::<T>::remove(info.agenda_at, training);
	Pallet::<T>::process_deadline(info.agenda_at, training);
}

/// Moves the `Clock` on, so that the randomness source's output counts as fresher than the
/// task's `draw_after` (the runtime's clock is the relay parent number, which no block
/// advances in a benchmark).
fn advance_clock<T: Config>() {
	let now = T::Clock::current_block_number();
	T::Clock::set_block_number(now.saturating_add(One::one()));
}

fn trainer_of<T: Config>(training: TrainingId) -> T::AccountId {
	Trainings::<T>::get(training).expect("training").trainer.expect("drawn")
}

fn claims<T: Config>(training: TrainingId, trainer: &T::AccountId, segments: u32) -> ClaimsOf<T> {
	let who = Pallet::<T>::account_bytes(trainer);
	(0..segments)
		.map(|s| SegmentClaim {
			end: [s as u8; 32],
			commitment: segment_commitment(training, s, &who, &hashes(s), &salt(s)),
		})
		.collect::<Vec<_>>()
		.try_into()
		.expect("MaxSegments")
}

/// A task whose trainer is drawn.
fn training<T: Config>(segments: u32, sampled: u32) -> (TrainingId, T::AccountId) {
	let training = created::<T>(segments, sampled);
	advance_clock::<T>();
	process::<T>(training);
	(training, trainer_of::<T>(training))
}

/// A task of `MaxSegments` segments whose `sampled` checks are drawn.
fn verifying<T: Config>(sampled: u32) -> (TrainingId, T::AccountId) {
	let segments = T::MaxSegments::get();
	let (id, trainer) = training::<T>(segments, sampled);
	Pallet::<T>::commit_checkpoints(RawOrigin::Signed(trainer.clone()).into(), id, [1; 32], claims::<T>(id, &trainer, segments))
		.expect("commit checkpoints");
	advance_clock::<T>();
	process::<T>(id);
	assert!(matches!(Trainings::<T>::get(id).expect("training").status, TrainingStatus::Verifying { .. }), "drawn");
	(id, trainer)
}

fn checks_of<T: Config>(training: TrainingId) -> Vec<(u32, T::AccountId)> {
	Trainings::<T>::get(training).expect("training").checks.iter().map(|c| (c.segment, c.verifier.clone())).collect()
}

fn commit<T: Config>(training: TrainingId, segment: u32, who: &T::AccountId) {
	let c = segment_commitment(training, segment, &Pallet::<T>::account_bytes(who), &hashes(segment), &salt(segment));
	Pallet::<T>::commit_check(RawOrigin::Signed(who.clone()).into(), training, segment, CheckCommitment::Hashes(c))
		.expect("commit check");
}

fn reveal<T: Config>(training: TrainingId, segment: u32, who: &T::AccountId) {
	Pallet::<T>::reveal_check(RawOrigin::Signed(who.clone()).into(), training, segment, hashes(segment), salt(segment))
		.expect("reveal check");
}

fn trainer_reveal<T: Config>(training: TrainingId) -> TrainerRevealOf<T> {
	let info = Trainings::<T>::get(training).expect("training");
	info.sampled.iter().map(|s| (hashes(*s), salt(*s))).collect::<Vec<_>>().try_into().expect("MaxChecks")
}

/// The last block's agenda entry of `training`, due now.
fn due<T: Config>(training: TrainingId) -> BlockNumberFor<T> {
	let at = Trainings::<T>::get(training).expect("training").agenda_at;
	frame_system::Pallet::<T>::set_block_number(at);
	Agenda::<T>::remove(at, training);
	at
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The largest spec.
	#[benchmark]
	fn create_training() {
		bench_params::<T>(1);
		let model = T::BenchmarkHelper::image_model();
		let creator: T::AccountId = whitelisted_caller();
		T::Currency::set_balance(&creator, funds::<T>());
		let spec = bench_spec::<T>(model, T::MaxSegments::get());
		#[extrinsic_call]
		_(RawOrigin::Signed(creator), spec, fee::<T>(), windows::<T>());
		assert_eq!(TrainingCount::<T>::get(), 1);
	}

	/// The trainer commits `s` segments' claims.
	#[benchmark]
	fn commit_checkpoints(s: Linear<1, { T::MaxSegments::get() }>) {
		let (id, trainer) = training::<T>(s, 1);
		let claims = claims::<T>(id, &trainer, s);
		#[extrinsic_call]
		_(RawOrigin::Signed(trainer), id, [1; 32], claims);
		assert!(Claims::<T>::contains_key(id));
	}

	/// The last of `MaxChecks` checks is committed: the reveals start.
	#[benchmark]
	fn commit_check() {
		let (id, _) = verifying::<T>(T::MaxChecks::get());
		let checks = checks_of::<T>(id);
		let (last_segment, last) = checks.last().cloned().expect("checks");
		for (s, v) in &checks[..checks.len() - 1] {
			commit::<T>(id, *s, v);
		}
		let c = segment_commitment(id, last_segment, &Pallet::<T>::account_bytes(&last), &hashes(last_segment), &salt(last_segment));
		#[extrinsic_call]
		_(RawOrigin::Signed(last), id, last_segment, CheckCommitment::Hashes(c));
		assert!(matches!(Trainings::<T>::get(id).expect("training").status, TrainingStatus::Revealing { .. }));
	}

	/// The trainer reveals `c` checked segments, after every verifier revealed: the
	/// settlement is scheduled.
	#[benchmark]
	fn reveal_trainer(c: Linear<1, { T::MaxChecks::get() }>) {
		let (id, trainer) = verifying::<T>(c);
		let checks = checks_of::<T>(id);
		for (s, v) in &checks {
			commit::<T>(id, *s, v);
		}
		for (s, v) in &checks {
			reveal::<T>(id, *s, v);
		}
		let reveal = trainer_reveal::<T>(id);
		#[extrinsic_call]
		_(RawOrigin::Signed(trainer), id, reveal);
		assert!(!Trainings::<T>::get(id).expect("training").trainer_hashes.is_empty());
	}

	/// The last of `MaxChecks` checks is revealed, after the trainer: the settlement is
	/// scheduled.
	#[benchmark]
	fn reveal_check() {
		let (id, trainer) = verifying::<T>(T::MaxChecks::get());
		let checks = checks_of::<T>(id);
		for (s, v) in &checks {
			commit::<T>(id, *s, v);
		}
		Pallet::<T>::reveal_trainer(RawOrigin::Signed(trainer).into(), id, trainer_reveal::<T>(id)).expect("reveal trainer");
		let (last_segment, last) = checks.last().cloned().expect("checks");
		for (s, v) in &checks[..checks.len() - 1] {
			reveal::<T>(id, *s, v);
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), id, last_segment, hashes(last_segment), salt(last_segment));
		let info = Trainings::<T>::get(id).expect("training");
		assert!(info.checks.iter().all(|c| matches!(c.state, CheckState::Revealed(_))));
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin = T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = Pallet::<T>::default_params();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);
		assert_eq!(Params::<T>::get(), Some(params));
		Ok(())
	}

	/// The hook with nothing due.
	#[benchmark]
	fn on_initialize_base() {
		let now = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}
	}

	/// The verifier draw, `MaxChecks` picks over an index of `n` workers.
	#[benchmark(pov_mode = Measured)]
	fn deadline_draw(n: Linear<{ T::MaxChecks::get() + 2 }, { T::Workers::max_candidates() }>) {
		let segments = T::MaxSegments::get();
		let id = created_with::<T>(segments, T::MaxChecks::get(), n);
		advance_clock::<T>();
		process::<T>(id);
		let trainer = trainer_of::<T>(id);
		Pallet::<T>::commit_checkpoints(RawOrigin::Signed(trainer.clone()).into(), id, [1; 32], claims::<T>(id, &trainer, segments))
			.expect("commit checkpoints");
		advance_clock::<T>();
		let at = due::<T>(id);
		#[block]
		{
			Pallet::<T>::process_deadline(at, id);
		}
		assert!(matches!(Trainings::<T>::get(id).expect("training").status, TrainingStatus::Verifying { .. }));
	}

	/// The verify window ends: the reveals start.
	#[benchmark]
	fn deadline_start_reveals() {
		let (id, _) = verifying::<T>(T::MaxChecks::get());
		let at = due::<T>(id);
		#[block]
		{
			Pallet::<T>::process_deadline(at, id);
		}
		assert!(matches!(Trainings::<T>::get(id).expect("training").status, TrainingStatus::Revealing { .. }));
	}

	/// Settling `c` checks, the worst way: the trainer and every verifier committed and
	/// withheld, so every drawn worker is slashed and released.
	#[benchmark(pov_mode = Measured)]
	fn deadline_settle(c: Linear<1, { T::MaxChecks::get() }>) {
		let (id, _) = verifying::<T>(c);
		for (s, v) in checks_of::<T>(id) {
			commit::<T>(id, s, &v);
		}
		let at = due::<T>(id);
		#[block]
		{
			Pallet::<T>::process_deadline(at, id);
		}
		assert!(matches!(
			Trainings::<T>::get(id).expect("training").status,
			TrainingStatus::Failed { reason: FailReason::TrainerWithheld }
		));
	}

	/// The trainer never commits: it is slashed as a no-show and the fee refunded.
	#[benchmark(pov_mode = Measured)]
	fn deadline_fail() {
		let (id, _) = training::<T>(T::MaxSegments::get(), 1);
		let at = due::<T>(id);
		#[block]
		{
			Pallet::<T>::process_deadline(at, id);
		}
		assert!(matches!(
			Trainings::<T>::get(id).expect("training").status,
			TrainingStatus::Failed { reason: FailReason::TrainerMissed }
		));
	}

	/// Pruning a task with `s` segments' claims.
	#[benchmark(pov_mode = Measured)]
	fn deadline_prune(s: Linear<1, { T::MaxSegments::get() }>) {
		let (id, trainer) = training::<T>(s, 1);
		Pallet::<T>::commit_checkpoints(RawOrigin::Signed(trainer).into(), id, [1; 32], {
			let trainer = trainer_of::<T>(id);
			claims::<T>(id, &trainer, s)
		})
		.expect("commit checkpoints");
		let mut info = Trainings::<T>::get(id).expect("training");
		Pallet::<T>::fail(id, &mut info, FailReason::NoVerifiers);
		Trainings::<T>::insert(id, info);
		let at = due::<T>(id);
		#[block]
		{
			Pallet::<T>::process_deadline(at, id);
		}
		assert!(!Trainings::<T>::contains_key(id));
	}

	/// An agenda entry whose task is gone.
	#[benchmark]
	fn deadline_stale() {
		let now = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		#[block]
		{
			Pallet::<T>::process_deadline(now, 42);
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
