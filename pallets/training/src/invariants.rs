//! The pallet's invariants (`try_state`, and every test's epilogue).

use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
use frame_support::{ensure, traits::fungible::InspectHold};
use pallet_workers::WorkerRegistry;
use replica_primitives::training::{is_training_task, task_id};
use sp_runtime::traits::{Saturating, Zero};

use crate::*;
use frame_support::pallet_prelude::Get;

impl<T: Config> Pallet<T> {
	/// Invariants:
	/// - each creator's balance held for training fees equals the recorded fees of its open
	///   tasks, and a finished task holds nothing (nothing paid twice, kept back or left
	///   held);
	/// - every task in storage has exactly one agenda entry, at its `agenda_at`, not behind
	///   where the agenda resumes, and the agenda holds nothing else; `TrainingCount` counts
	///   the tasks and stays within `MaxTrainings`;
	/// - an open task's trainer and verifiers each list the task among their open tasks, and
	///   no worker lists a training task it is not open in; a finished task is listed by
	///   nobody;
	/// - a task's checks are `verifiers_per_segment` per checked segment, by distinct
	///   verifiers within a segment, never the trainer; `verifiers` are exactly the distinct
	///   verifiers of the checks; the trainer's revealed hashes are one per checked segment;
	/// - claims exist exactly for tasks whose trainer committed, one per segment.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut fees: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let resume = IncompleteSince::<T>::get();
		let mut count = 0u32;
		let mut slots = 0u32;
		for (training, info) in Trainings::<T>::iter() {
			count += 1;
			let open = !info.status.is_finished();
			let fee = fees.entry(info.creator.clone()).or_default();
			*fee = fee.saturating_add(info.fee);
			ensure!(open || info.fee.is_zero(), "a finished task still holds a fee");
			ensure!(Agenda::<T>::contains_key(info.agenda_at, training), "task without its agenda entry");
			if let Some(resume) = resume {
				ensure!(info.agenda_at >= resume, "a task's deadline lies behind the agenda");
			}

			let mut workers: BTreeSet<T::AccountId> = info.verifiers.iter().cloned().collect();
			ensure!(workers.len() == info.verifiers.len(), "a verifier listed twice");
			let of_checks: BTreeSet<T::AccountId> = info.checks.iter().map(|c| c.verifier.clone()).collect();
			ensure!(of_checks == workers, "verifiers are not the checks' verifiers");
			if let Some(trainer) = info.trainer.clone() {
				ensure!(!workers.contains(&trainer), "the trainer verifies its own task");
				workers.insert(trainer);
			}
			for who in workers.iter() {
				let listed = T::Workers::open_tasks(who).contains(&task_id(training));
				ensure!(listed == open, "a drawn worker's open tasks disagree with the task's status");
			}
			if open {
				slots += workers.len() as u32;
			}

			if !info.sampled.is_empty() {
				let per_segment = info.terms.verifiers_per_segment as usize;
				ensure!(info.checks.len() == info.sampled.len() * per_segment, "not verifiers_per_segment checks per segment");
				for segment in info.sampled.iter() {
					ensure!(*segment < info.spec.segments(), "a checked segment out of range");
					let of_segment: BTreeSet<_> =
						info.checks.iter().filter(|c| c.segment == *segment).map(|c| c.verifier.clone()).collect();
					ensure!(of_segment.len() == per_segment, "a segment's verifiers are not distinct");
				}
			}
			ensure!(
				info.trainer_hashes.is_empty() || info.trainer_hashes.len() == info.sampled.len(),
				"trainer hashes are not one per checked segment"
			);
			match Claims::<T>::get(training) {
				Some((_, claims)) => ensure!(claims.len() as u32 == info.spec.segments(), "claims are not one per segment"),
				None => ensure!(
					matches!(
						info.status,
						TrainingStatus::AwaitingTrainer { .. } | TrainingStatus::Training { .. } | TrainingStatus::Failed { .. }
					),
					"a task past its training phase without claims"
				),
			}
		}
		ensure!(count == TrainingCount::<T>::get(), "TrainingCount does not count the tasks");
		ensure!(count <= T::MaxTrainings::get(), "more tasks than MaxTrainings");
		ensure!(Agenda::<T>::iter().count() as u32 == count, "an agenda entry of no task");
		ensure!(Claims::<T>::iter_keys().all(Trainings::<T>::contains_key), "claims of a pruned task");
		// Each drawn worker of an open task lists it (above), each list holds a task once
		// (pallet-workers' invariants): equal counts mean nobody lists anything else.
		ensure!(T::Workers::open_task_count(is_training_task) == slots, "a worker lists a training task it is not open in");
		for (who, fee) in fees {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::TrainingFee.into(), &who) == fee,
				"a creator's held fees differ from its open tasks' fees"
			);
		}
		Ok(())
	}
}
