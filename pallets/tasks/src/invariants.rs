//! The pallet's invariants (`try_state`, and every test's epilogue).

use alloc::collections::btree_map::BTreeMap;
use frame_support::{ensure, traits::fungible::InspectHold};
use sp_runtime::traits::{Saturating, Zero};

use crate::*;
use pallet_workers::WorkerRegistry;
use frame_support::pallet_prelude::Get;

impl<T: Config> Pallet<T> {
	/// Invariants:
	/// - each creator's balance held for task fees equals the fees its tasks record as held
	///   (so no fee is paid, refunded or released twice, or kept back), and finished tasks
	///   hold no fee;
	/// - every task in storage has exactly one agenda entry, at its `agenda_at`, not before
	///   the block the agenda resumes from — no deadline is lost — and the agenda holds
	///   nothing else; `TaskCount` counts the tasks and stays within `MaxTasks`;
	/// - a worker lists a task as open exactly while its round is not settled, and lists no
	///   other task (no worker is held by a task that is settled or gone); the outcomes of
	///   settled rounds are the first `settled.len()` of `workers`, none of them open, and a
	///   finished task has settled every worker;
	/// - assignment records exist only for workers of unsettled rounds, from their commit on
	///   (so a finished task, and a pruned one, leaves none behind).
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut per_creator: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let resume = IncompleteSince::<T>::get();
		let mut tasks = 0u32;
		let mut records = 0usize;
		let mut unsettled = 0u32;
		for (task, info) in Tasks::<T>::iter() {
			tasks += 1;
			let entry = per_creator.entry(info.creator.clone()).or_default();
			*entry = entry.saturating_add(info.fee);
			let open = matches!(
				info.status,
				TaskStatus::Pending { .. } |
					TaskStatus::Committing { .. } |
					TaskStatus::Sampling { .. } |
					TaskStatus::Revealing { .. }
			);
			if !open {
				ensure!(info.fee.is_zero(), "finished task still holds a fee");
			}
			ensure!(Deadlines::<T>::contains_key(info.agenda_at, task), "task without its agenda entry");
			if let Some(resume) = resume {
				ensure!(info.agenda_at >= resume, "a task's deadline lies behind the agenda");
			}
			ensure!(info.workers.len() as u32 <= T::MaxVerifiers::get(), "too many workers");
			ensure!(info.tally_from <= info.round, "tally starts after the current round");
			ensure!(info.settled.len() <= info.workers.len(), "more outcomes than workers");
			ensure!(info.settled.iter().all(|o| *o != Outcome::Open), "a settled worker still open");
			ensure!(open || info.settled.len() == info.workers.len(), "a finished task with an unsettled worker");
			for (i, w) in info.workers.iter().enumerate() {
				let listed = T::Workers::open_tasks(w).contains(&task);
				let record = Assignments::<T>::get(task, w);
				if i < info.settled.len() {
					ensure!(!listed, "a settled worker still lists the task as open");
					ensure!(record.is_none(), "a settled worker's record was kept");
					continue;
				}
				ensure!(open && listed, "an unsettled worker not listed, or of a finished task");
				unsettled += 1;
				if let Some(a) = record {
					records += 1;
					ensure!(a.commitment.is_some(), "a record without a commitment");
					ensure!(matches!(a.outcome, Outcome::Open | Outcome::BadReveal), "an unsettled record with an outcome");
					ensure!(a.round <= info.round && a.round >= info.tally_from, "a record outside the tallied rounds");
				}
			}
			if let TaskStatus::Finalized = info.status {
				ensure!(info.result.is_some(), "finalized task without result");
			}
		}
		ensure!(Deadlines::<T>::iter().count() as u32 == tasks, "agenda entries without a task");
		ensure!(Assignments::<T>::iter().count() == records, "assignment records of no unsettled worker");
		// Each unsettled worker lists its task (above) and lists each task once (pallet-workers'
		// invariants), so equal counts mean no list holds anything else of this pallet's kind
		// (training tasks' slots are pallet-training's to count).
		let listed = T::Workers::open_task_count(|t| !replica_primitives::training::is_training_task(t));
		ensure!(listed == unsettled, "a worker lists a task it is not unsettled in");
		ensure!(TaskCount::<T>::get() == tasks, "TaskCount disagrees with the tasks stored");
		ensure!(tasks <= T::MaxTasks::get(), "more tasks than MaxTasks");
		for (creator, fees) in per_creator {
			let held = T::Currency::balance_on_hold(&HoldReason::TaskFee.into(), &creator);
			ensure!(held == fees, "creator's held balance != fees of its open tasks");
		}
		Ok(())
	}
}
