//! Parameters, model and task-spec checks, and task creation.

use frame_support::{dispatch::DispatchResult, ensure, traits::fungible::MutateHold};
use pallet_workers::WorkerRegistry;
use replica_primitives::{Quorum, TaskId, Tolerances, MAX_IMAGES};
use sp_runtime::{
	traits::{BlockNumberProvider, Saturating, Zero},
	DispatchError, Perbill,
};

use crate::*;
use frame_support::pallet_prelude::Get;
use frame_system::pallet_prelude::BlockNumberFor;

/// Beam search widths that are verifiable.
const MAX_BEAM_WIDTH: u8 = 10;

impl<T: Config> Pallet<T> {
	/// The parameters in force.
	pub fn params() -> ParamsOf<T> {
		Params::<T>::get().unwrap_or_else(Self::default_params)
	}

	/// Parameters used when genesis sets none.
	pub fn default_params() -> ParamsOf<T> {
		TaskParamsConfig {
			default_verifiers: 3,
			default_quorum: Quorum::Majority,
			commit_window: 20u32.into(),
			reveal_window: 20u32.into(),
			escalation_step: 2,
			sampled_verifiers: 2,
			outlier_slash: Perbill::from_percent(10),
			no_show_slash: Perbill::from_percent(1),
			bad_reveal_slash: Perbill::from_percent(10),
			withhold_slash: Perbill::from_percent(10),
			fee_slash_multiple: 1,
			assignment_timeout: 50u32.into(),
			retention: 100u32.into(),
			sampled_min_probability: Perbill::from_percent(5),
		}
	}

	/// The longest a task can keep a worker's stake at risk: the first draw's wait, then up to
	/// `MaxVerifiers` rounds (each has at least one worker), each a draw's wait, a commit and
	/// a reveal window. Deadlines carried over by full blocks can add to it.
	pub fn longest_task_lifetime(p: &ParamsOf<T>) -> BlockNumberFor<T> {
		let round = p.assignment_timeout.saturating_add(p.commit_window).saturating_add(p.reveal_window);
		let rounds: BlockNumberFor<T> = T::MaxVerifiers::get().saturating_add(1).into();
		round.saturating_mul(rounds)
	}

	/// Whether `params` are in range: 1..=MaxVerifiers verifiers and escalation step, at
	/// least one and fewer than MaxVerifiers sampled checkers, non-zero windows, timeout,
	/// retention and sampling probability; withholding and bad reveals slashed no less than
	/// a wrong result; and a workers' unbonding period no shorter than the longest task.
	pub fn params_are_valid(p: &ParamsOf<T>) -> bool {
		let max = T::MaxVerifiers::get();
		(1..=max).contains(&p.default_verifiers) &&
			(1..=max).contains(&p.escalation_step) &&
			(1..max).contains(&p.sampled_verifiers) &&
			!p.commit_window.is_zero() &&
			!p.reveal_window.is_zero() &&
			!p.assignment_timeout.is_zero() &&
			!p.retention.is_zero() &&
			!p.sampled_min_probability.is_zero() &&
			p.withhold_slash >= p.outlier_slash &&
			p.bad_reveal_slash >= p.outlier_slash &&
			Self::longest_task_lifetime(p) <= T::Workers::unbonding_period()
	}

	/// At least one known hash compared, each at a distance a 64-bit hash can have.
	pub(crate) fn tolerances_are_valid(tolerances: &Tolerances) -> bool {
		!tolerances.algs.is_empty() &&
			tolerances.algs.is_valid() &&
			tolerances.algs.iter().all(|alg| tolerances.of_alg(alg) <= 64)
	}

	pub(crate) fn model_is_valid(info: &ModelInfo<BalanceOf<T>>) -> bool {
		let common = !info.name.is_empty() && info.vram_mib > 0;
		common &&
			match info.kind {
				ModelKind::Image =>
					Self::tolerances_are_valid(&info.tolerances) &&
						info.max_steps > 0 && info.max_side >= 8 &&
						(1..=MAX_IMAGES).contains(&info.max_images),
				// A task must be able to hold at least one prompt token.
				ModelKind::Text => info.max_tokens > 0 && info.max_tokens < info.context_len,
			}
	}

	/// Validates a spec against its model and holds the fee; the task waits for its draw.
	pub(crate) fn do_create_task(
		creator: T::AccountId,
		spec: TaskSpec<BalanceOf<T>>,
	) -> Result<TaskId, DispatchError> {
		let model = Models::<T>::get(spec.model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(!model.retired, Error::<T>::ModelRetired);
		Self::check_params(&model, &spec.params)?;
		let params = Self::params();
		let verification = spec
			.verification
			.unwrap_or(Verification::Replicated { verifiers: params.default_verifiers });
		match verification {
			Verification::Replicated { verifiers } => ensure!(
				(1..=T::MaxVerifiers::get()).contains(&verifiers),
				Error::<T>::InvalidVerifiers
			),
			Verification::Sampled { probability } => ensure!(
				probability >= params.sampled_min_probability,
				Error::<T>::ProbabilityTooLow
			),
		}
		ensure!(spec.fee >= model.min_fee, Error::<T>::FeeTooLow);
		ensure!(TaskCount::<T>::get() < T::MaxTasks::get(), Error::<T>::TooManyTasks);
		T::Currency::hold(&HoldReason::TaskFee.into(), &creator, spec.fee)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		let task = NextTaskId::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();
		NextTaskId::<T>::put(task.saturating_add(1));
		TaskCount::<T>::mutate(|n| *n = n.saturating_add(1));
		let mut info = TaskInfo {
			creator: creator.clone(),
			model: spec.model,
			params: spec.params,
			verification,
			quorum: spec.quorum.unwrap_or(params.default_quorum),
			fee: spec.fee,
			tolerances: model.tolerances,
			vram_mib: model.vram_mib,
			status: TaskStatus::Pending { timeout_at: now.saturating_add(params.assignment_timeout) },
			round: 0,
			round_size: match verification {
				Verification::Replicated { verifiers } => verifiers,
				Verification::Sampled { .. } => 1,
			},
			tally_from: 0,
			draw_after: T::Clock::current_block_number(),
			agenda_at: now,
			workers: Default::default(),
			settled: Default::default(),
			profile: None,
			created_at: now,
			result: None,
		};
		Self::schedule(task, &mut info, now.saturating_add(1u32.into()), Deadline::Assign);
		Tasks::<T>::insert(task, info);
		Self::deposit_event(Event::TaskCreated { task, creator, model: spec.model, fee: spec.fee });
		Ok(task)
	}

	fn check_params(model: &ModelInfo<BalanceOf<T>>, params: &TaskParams) -> DispatchResult {
		match (model.kind, params) {
			(ModelKind::Image, TaskParams::Image(p)) => {
				ensure!(!p.prompt.is_empty(), Error::<T>::EmptyPrompt);
				ensure!((1..=model.max_steps).contains(&p.steps), Error::<T>::InvalidSteps);
				let side_ok = |s: u32| s >= 8 && s % 8 == 0 && s <= model.max_side;
				ensure!(side_ok(p.width) && side_ok(p.height), Error::<T>::InvalidSize);
				ensure!((1..=model.max_images).contains(&p.count), Error::<T>::InvalidImageCount);
			},
			(ModelKind::Text, TaskParams::Text(p)) => {
				ensure!(!p.prompt.is_empty(), Error::<T>::EmptyPrompt);
				ensure!((1..=model.max_tokens).contains(&p.max_tokens), Error::<T>::InvalidMaxTokens);
				match p.decoding {
					Decoding::Greedy => {},
					Decoding::Beam { width } =>
						ensure!((1..=MAX_BEAM_WIDTH).contains(&width), Error::<T>::InvalidBeamWidth),
					Decoding::Sampling => return Err(Error::<T>::SamplingNotVerifiable.into()),
				}
			},
			_ => return Err(Error::<T>::ModelKindMismatch.into()),
		}
		Ok(())
	}
}
