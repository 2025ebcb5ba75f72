//! Creating training tasks, and the parameters.

use frame_support::{ensure, traits::fungible::MutateHold};
use sp_runtime::{
	traits::{BlockNumberProvider, Saturating, Zero},
	DispatchError, Perbill,
};

use crate::*;
use frame_support::pallet_prelude::Get;

impl<T: Config> Pallet<T> {
	/// The parameters in force.
	pub fn params() -> ParamsOf<T> {
		Params::<T>::get().unwrap_or_else(Self::default_params)
	}

	/// Parameters for a fresh chain: one segment checked by three verifiers, a tolerance of 8
	/// of 64 bits (`replica-worker train-sim`'s simulated device drift of 1e-3 per gradient
	/// stays at 3-4 bits when synced every segment; a skipped step, noise of a learning rate
	/// or a guessed probe are further off: `engines::training`'s tests), a tenth of the fee to
	/// the verifiers, faults slashed 10% (at least the fee),
	/// no-shows 1%, windows of up to 600 blocks, 50 blocks to wait for a draw, a day of
	/// retention at 6-second blocks.
	pub fn default_params() -> ParamsOf<T> {
		TrainingParams {
			sampled_segments: 1,
			verifiers_per_segment: 3,
			lsh_tolerance: 8,
			verifier_share: Perbill::from_percent(10),
			min_fee: 1u32.into(),
			fault_slash: Perbill::from_percent(10),
			no_show_slash: Perbill::from_percent(1),
			max_window: 600u32.into(),
			draw_timeout: 50u32.into(),
			retention: 14_400u32.into(),
		}
	}

	/// See [`Error::InvalidParams`].
	pub fn params_are_valid(params: &ParamsOf<T>) -> bool {
		params.sampled_segments > 0 &&
			params.verifiers_per_segment > 0 &&
			params.sampled_segments.saturating_mul(params.verifiers_per_segment) <= T::MaxChecks::get() &&
			params.lsh_tolerance <= LSH_BITS &&
			!params.max_window.is_zero() &&
			!params.draw_timeout.is_zero() &&
			!params.retention.is_zero()
	}

	/// See [`Error::InvalidSpec`].
	pub fn spec_is_valid(spec: &TrainingSpec) -> bool {
		spec.steps > 0 &&
			spec.batch_size > 0 &&
			spec.checkpoint_interval >= 2 &&
			spec.steps % spec.checkpoint_interval == 0 &&
			spec.segments() <= T::MaxSegments::get() &&
			!spec.init_token.is_empty() &&
			!spec.templates.is_empty() &&
			spec.templates.iter().all(|t| t.windows(2).filter(|w| *w == b"{}").count() == 1)
	}

	fn windows_are_valid(windows: &WindowsOf<T>, params: &ParamsOf<T>) -> bool {
		[windows.train, windows.verify, windows.reveal]
			.iter()
			.all(|w| !w.is_zero() && *w <= params.max_window)
	}

	pub(crate) fn do_create(
		creator: T::AccountId,
		spec: TrainingSpec,
		fee: BalanceOf<T>,
		windows: WindowsOf<T>,
	) -> Result<TrainingId, DispatchError> {
		let params = Self::params();
		ensure!(T::ImageModels::is_open_image_model(spec.model), Error::<T>::UnknownModel);
		ensure!(Self::spec_is_valid(&spec), Error::<T>::InvalidSpec);
		ensure!(fee >= params.min_fee, Error::<T>::FeeTooLow);
		ensure!(Self::windows_are_valid(&windows, &params), Error::<T>::InvalidWindows);
		ensure!(TrainingCount::<T>::get() < T::MaxTrainings::get(), Error::<T>::TooManyTrainings);
		T::Currency::hold(&HoldReason::TrainingFee.into(), &creator, fee)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		let training = NextTrainingId::<T>::get();
		NextTrainingId::<T>::put(training.saturating_add(1));
		TrainingCount::<T>::mutate(|n| *n = n.saturating_add(1));
		let now = frame_system::Pallet::<T>::block_number();
		let segments = spec.segments();
		let model = spec.model;
		let mut info = TrainingInfo {
			creator: creator.clone(),
			spec,
			fee,
			windows,
			terms: Terms {
				sampled_segments: params.sampled_segments,
				verifiers_per_segment: params.verifiers_per_segment,
				lsh_tolerance: params.lsh_tolerance,
				verifier_share: params.verifier_share,
			},
			status: TrainingStatus::AwaitingTrainer { timeout_at: now.saturating_add(params.draw_timeout) },
			trainer: None,
			sampled: Default::default(),
			trainer_hashes: Default::default(),
			checks: Default::default(),
			verifiers: Default::default(),
			draw_after: T::Clock::current_block_number(),
			agenda_at: now,
		};
		Self::schedule(training, &mut info, now);
		Trainings::<T>::insert(training, info);
		Self::deposit_event(Event::TrainingCreated { training, creator, model, fee, segments });
		Ok(training)
	}
}
