//! The deadline agenda: one entry per task, worked through by `on_initialize` within a
//! `WeightMeter` (what does not fit carries over, nothing is dropped), and `advance_task` for
//! anyone to push an overdue task along.

use frame_support::{dispatch::DispatchResult, ensure, weights::WeightMeter};
use pallet_workers::WorkerRegistry;
use replica_primitives::TaskId;
use sp_runtime::traits::{One, Saturating};

use crate::*;
use frame_support::pallet_prelude::{Get, Weight};
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// Moves `task`'s one agenda entry to block `at` (never earlier than the next block).
	/// The caller stores `info`.
	pub(crate) fn schedule(task: TaskId, info: &mut TaskOf<T>, at: BlockNumberFor<T>, deadline: Deadline) {
		let next = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		let at = at.max(next);
		Deadlines::<T>::remove(info.agenda_at, task);
		Deadlines::<T>::insert(at, task, deadline);
		info.agenda_at = at;
	}

	/// The most a draw can cost: `MaxVerifiers` drawn among a full index, plus the most
	/// stale entries it may correct on the way.
	pub fn draw_weight() -> Weight {
		T::WeightInfo::deadline_assign(T::MaxVerifiers::get(), T::Workers::max_candidates())
			.saturating_add(T::WeightInfo::draw_corrections())
	}

	/// The most one agenda entry can cost to process.
	pub fn worst_deadline_weight() -> Weight {
		let v = T::MaxVerifiers::get();
		Self::draw_weight()
			.max(T::WeightInfo::deadline_verdict(v))
			.max(T::WeightInfo::deadline_prune())
			.max(T::WeightInfo::deadline_stale())
	}

	/// Processes due agenda entries, oldest block first, while `meter` allows one more at its
	/// worst case, consuming what each one touched (its proof size as recorded, where the host
	/// records it); records where to resume.
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
				let Some((task, deadline)) = Deadlines::<T>::iter_prefix(block).next() else {
					// The read that found the block empty.
					meter.consume(T::DbWeight::get().reads(1));
					break;
				};
				Deadlines::<T>::remove(block, task);
				let recorded_before = T::RecordedProofSize::get();
				let mut charged = Self::process_deadline(now, task, deadline).min(worst);
				// The proof this entry added, where the host records it: storage already in the
				// block's proof costs nothing again, and bounds are estimates at MaxEncodedLen.
				if let (Some(before), Some(after)) = (recorded_before, T::RecordedProofSize::get()) {
					let added = after.saturating_sub(before);
					charged = charged.set_proof_size(charged.proof_size().min(added));
				}
				meter.consume(charged);
			}
			block = block.saturating_add(One::one());
		}
		IncompleteSince::<T>::put(now.saturating_add(One::one()));
	}

	/// One due deadline. Its agenda entry is already removed; whatever comes next for the task
	/// is scheduled by the step it runs.
	pub(crate) fn process_deadline(now: BlockNumberFor<T>, task: TaskId, deadline: Deadline) -> Weight {
		let Some(mut info) = Tasks::<T>::get(task) else { return T::WeightInfo::deadline_stale() };
		// A verdict touches one assignment per worker the task ever had.
		let v = (info.workers.len() as u32).max(1);
		match (deadline, info.status) {
			(Deadline::Assign, TaskStatus::Pending { timeout_at }) => {
				let (drawn, mut weight) = Self::draw_round(task, &mut info, now);
				if !drawn {
					if now >= timeout_at {
						let reason = Self::wait_failure(&info);
						Self::fail(task, &mut info, reason);
						// Failing releases the fee: not part of the draw benchmark.
						weight = Self::draw_weight();
					} else {
						Self::schedule(task, &mut info, now.saturating_add(One::one()), Deadline::Assign);
					}
				}
				Tasks::<T>::insert(task, info);
				weight
			},
			(Deadline::Commit { round }, TaskStatus::Committing { round: r, .. }) if r == round => {
				Self::end_commit_phase(task, &mut info, now);
				Tasks::<T>::insert(task, info);
				T::WeightInfo::deadline_verdict(v)
			},
			(Deadline::Sample, TaskStatus::Sampling { .. }) => {
				Self::roll_sample(task, &mut info, now);
				Tasks::<T>::insert(task, info);
				Self::draw_weight()
			},
			(Deadline::Reveal { round }, TaskStatus::Revealing { round: r, .. }) if r == round => {
				Self::decide(task, &mut info, now);
				Tasks::<T>::insert(task, info);
				T::WeightInfo::deadline_verdict(v)
			},
			(Deadline::Prune, TaskStatus::Finalized | TaskStatus::Failed { .. } | TaskStatus::Cancelled) => {
				// Its workers' records went when their rounds were settled.
				Tasks::<T>::remove(task);
				TaskCount::<T>::mutate(|n| *n = n.saturating_sub(1));
				Self::deposit_event(Event::TaskPruned { task });
				T::WeightInfo::deadline_prune()
			},
			_ => {
				frame_support::defensive!("an agenda entry that does not match its task");
				T::WeightInfo::deadline_stale()
			},
		}
	}

	/// `advance_task`: processes the task's agenda entry if it is due and not a draw.
	pub(crate) fn do_advance(task: TaskId) -> DispatchResult {
		let info = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = Deadlines::<T>::get(info.agenda_at, task).ok_or(Error::<T>::NotOverdue)?;
		ensure!(info.agenda_at <= now, Error::<T>::NotOverdue);
		let is_draw = match (deadline, info.status) {
			(Deadline::Assign, TaskStatus::Pending { timeout_at }) => now < timeout_at,
			(Deadline::Sample, _) => true,
			_ => false,
		};
		ensure!(!is_draw, Error::<T>::NotOverdue);
		Deadlines::<T>::remove(info.agenda_at, task);
		if let (Deadline::Assign, TaskStatus::Pending { .. }) = (deadline, info.status) {
			// Timed out: fail without drawing.
			let mut info = info;
			let reason = Self::wait_failure(&info);
			Self::fail(task, &mut info, reason);
			Tasks::<T>::insert(task, info);
		} else {
			Self::process_deadline(now, task, deadline);
		}
		Ok(())
	}
}
