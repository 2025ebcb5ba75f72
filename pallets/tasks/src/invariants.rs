//! The pallet's invariants (`try_state`, and every test's epilogue).

use alloc::collections::btree_map::BTreeMap;
use frame_support::{ensure, traits::fungible::InspectHold};
use sp_runtime::traits::{Saturating, Zero};

use crate::*;
use frame_support::pallet_prelude::Get;

impl<T: Config> Pallet<T> {
	/// Invariants:
	/// - each creator's balance held for task fees equals the fees its tasks record as held
	///   (so no fee is paid, refunded or released twice, or kept back), and finished tasks
	///   hold no fee;
	/// - every task in storage has exactly one agenda entry, at its `agenda_at`, not before
	///   the block the agenda resumes from — no deadline is lost — and the agenda holds
	///   nothing else; `TaskCount` counts the tasks and stays within `MaxTasks`;
	/// - a worker lists a task as open exactly while its assignment there is open; a drawn
	///   worker has no assignment record only while its task is open (before its commit).
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut per_creator: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let resume = IncompleteSince::<T>::get();
		let mut tasks = 0u32;
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
			for w in info.workers.iter() {
				let listed = WorkerTasks::<T>::get(w).contains(&task);
				let Some(a) = Assignments::<T>::get(task, w) else {
					// Drawn into the current round and not committed yet: only an open task
					// has such workers (settling a round records every worker of it).
					ensure!(open && listed, "a settled worker without its record");
					continue;
				};
				ensure!(listed == (open && a.outcome == Outcome::Open), "worker's open-task index disagrees");
				ensure!(a.round <= info.round, "assignment from a future round");
			}
			if let TaskStatus::Finalized = info.status {
				ensure!(info.result.is_some(), "finalized task without result");
			}
		}
		ensure!(Deadlines::<T>::iter().count() as u32 == tasks, "agenda entries without a task");
		ensure!(TaskCount::<T>::get() == tasks, "TaskCount disagrees with the tasks stored");
		ensure!(tasks <= T::MaxTasks::get(), "more tasks than MaxTasks");
		for (creator, fees) in per_creator {
			let held = T::Currency::balance_on_hold(&HoldReason::TaskFee.into(), &creator);
			ensure!(held == fees, "creator's held balance != fees of its open tasks");
		}
		Ok(())
	}
}
