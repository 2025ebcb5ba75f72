//! The deadline agenda: one entry per task, worked through by `on_initialize` within a
//! `WeightMeter` (what does not fit carries over, nothing is dropped), and
//! `advance_training` for anyone to push an overdue task along.

use frame_support::{dispatch::DispatchResult, ensure, weights::WeightMeter};
use pallet_workers::WorkerRegistry;
use sp_runtime::traits::{One, Saturating};

use crate::*;
use frame_support::pallet_prelude::{Get, Weight};
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// Moves `training`'s one agenda entry to block `at` (never earlier than the next block).
	/// The caller stores `info`.
	pub(crate) fn schedule(training: TrainingId, info: &mut TrainingOf<T>, at: BlockNumberFor<T>) {
		let next = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		let at = at.max(next);
		Agenda::<T>::remove(info.agenda_at, training);
		Agenda::<T>::insert(at, training, ());
		info.agenda_at = at;
	}

	/// The most one agenda entry can cost to process: a draw over a full index, the start of
	/// the reveals, a failure, a settlement of `MaxChecks` checks, or pruning `MaxSegments`
	/// claims.
	pub fn worst_deadline_weight() -> Weight {
		let c = T::MaxChecks::get();
		Self::draw_weight(T::Workers::max_candidates())
			.max(T::WeightInfo::deadline_settle(c))
			.max(T::WeightInfo::deadline_fail())
			.max(T::WeightInfo::deadline_start_reveals())
			.max(T::WeightInfo::deadline_prune(T::MaxSegments::get()))
			.max(T::WeightInfo::deadline_stale())
	}

	/// Processes due agenda entries, oldest block first, while `meter` allows one more at its
	/// worst case; records where to resume.
	pub(crate) fn service_agenda(now: BlockNumberFor<T>, meter: &mut WeightMeter) {
		if meter.try_consume(T::WeightInfo::on_initialize_base()).is_err() {
			return;
		}
		let worst = Self::worst_deadline_weight();
		let mut block = IncompleteSince::<T>::get().unwrap_or(now).min(now);
		while block <= now {
			loop {
				if !meter.can_consume(worst) {
					IncompleteSince::<T>::put(block);
					return;
				}
				let Some((training, ())) = Agenda::<T>::iter_prefix(block).next() else {
					// The read that found the block empty.
					meter.consume(T::DbWeight::get().reads(1));
					break;
				};
				Agenda::<T>::remove(block, training);
				meter.consume(Self::process_deadline(now, training).min(worst));
			}
			block = block.saturating_add(One::one());
		}
		IncompleteSince::<T>::put(now.saturating_add(One::one()));
	}

	/// One due deadline. Its agenda entry is already removed; whatever comes next for the
	/// task is scheduled by the step it runs.
	pub(crate) fn process_deadline(now: BlockNumberFor<T>, training: TrainingId) -> Weight {
		let Some(mut info) = Trainings::<T>::get(training) else { return T::WeightInfo::deadline_stale() };
		let c = (info.checks.len() as u32).max(1);
		let weight = match info.status {
			TrainingStatus::AwaitingTrainer { .. } => Self::draw_trainer(training, &mut info, now),
			TrainingStatus::Training { .. } => {
				Self::fail(training, &mut info, FailReason::TrainerMissed);
				T::WeightInfo::deadline_fail()
			},
			TrainingStatus::AwaitingVerifiers { .. } => Self::draw_verifiers(training, &mut info, now),
			TrainingStatus::Verifying { .. } => {
				Self::start_reveals(training, &mut info);
				T::WeightInfo::deadline_start_reveals()
			},
			TrainingStatus::Revealing { .. } => {
				Self::settle(training, &mut info);
				T::WeightInfo::deadline_settle(c)
			},
			TrainingStatus::Finalized | TrainingStatus::Failed { .. } => {
				Claims::<T>::remove(training);
				Trainings::<T>::remove(training);
				TrainingCount::<T>::mutate(|n| *n = n.saturating_sub(1));
				Self::deposit_event(Event::TrainingPruned { training });
				return T::WeightInfo::deadline_prune(info.spec.segments());
			},
		};
		Trainings::<T>::insert(training, info);
		weight
	}

	/// `advance_training`: processes the task's agenda entry if it is due and not a draw.
	pub(crate) fn do_advance(training: TrainingId) -> DispatchResult {
		let info = Trainings::<T>::get(training).ok_or(Error::<T>::UnknownTraining)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			info.agenda_at <= now && Agenda::<T>::contains_key(info.agenda_at, training),
			Error::<T>::NotOverdue
		);
		let draw = matches!(info.status, TrainingStatus::AwaitingTrainer { .. } | TrainingStatus::AwaitingVerifiers { .. });
		ensure!(!draw, Error::<T>::NotOverdue);
		Agenda::<T>::remove(info.agenda_at, training);
		Self::process_deadline(now, training);
		Ok(())
	}
}
