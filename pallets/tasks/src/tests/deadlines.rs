//! Attack 5 (deadline jamming strands fees): the agenda holds one entry per task, `create_task`
//! refuses tasks beyond `MaxTasks`, the hook carries over what its weight does not allow, and
//! anyone can advance an overdue task — no deadline is ever dropped.

use super::*;
use frame_support::weights::Weight;

/// Room for `n` worst-case deadlines (and the base) per block.
fn hook_room(n: u64) {
	let worst = Tasks::worst_deadline_weight();
	HookWeight::set(
		<() as crate::WeightInfo>::on_initialize_base()
			.saturating_add(worst.saturating_mul(n))
			.saturating_add(Weight::from_parts(1, 1)),
	);
}

fn open_tasks() -> usize {
	TaskStore::<Test>::iter().filter(|(_, i)| !matches!(i.status, TaskStatus::Finalized | TaskStatus::Failed { .. } | TaskStatus::Cancelled)).count()
}

/// The schedule is full (`MaxTasks` tasks) and the hook can do one deadline per block: every
/// task still ends, every fee is released, and the invariants hold in every block.
#[test]
fn attack_a_full_agenda_with_a_starved_hook_still_ends_every_task() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		hook_room(1);
		let mut n = 0;
		while Tasks::create_task(RuntimeOrigin::signed(DAPP), image_spec(Some(Verification::Replicated { verifiers: 1 }), 20)).is_ok() {
			n += 1;
		}
		assert_eq!(n, MAX_TASKS);
		let mut blocks = 0;
		while open_tasks() > 0 {
			run_to(System::block_number() + 1);
			Tasks::do_try_state().expect("invariants hold in every block");
			blocks += 1;
			assert!(blocks < 2_000, "{} tasks still open", open_tasks());
		}
		assert_eq!(Balances::balance_on_hold(&HoldReason::TaskFee.into(), &DAPP), 0, "every fee released");
		for w in WORKERS {
			assert!(Workers::open_tasks(&w).is_empty(), "every worker released");
		}
		// And the stored tasks are pruned in time, freeing room for new ones.
		run_to(System::block_number() + 200);
		assert_eq!(crate::TaskCount::<Test>::get(), 0);
		assert_ok!(Tasks::create_task(RuntimeOrigin::signed(DAPP), image_spec(None, 20)));
	});
}

#[test]
fn beyond_max_tasks_create_task_is_refused_and_changes_nothing() {
	test(|| {
		for _ in 0..MAX_TASKS {
			create(image_spec(None, 20));
		}
		assert_noop!(Tasks::create_task(RuntimeOrigin::signed(DAPP), image_spec(None, 20)), Error::<Test>::TooManyTasks);
	});
}

/// When the hook cannot reach an overdue commit deadline, anyone may advance the task; draws
/// are never advanced by hand.
#[test]
fn anyone_can_advance_an_overdue_task_but_not_a_draw() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		let (task, ws) = assigned_image_task(3, 100);
		let keys: Vec<_> = ws[..2].iter().map(|w| commit(task, *w, &image(5, 5))).collect();
		// Not due yet.
		assert_noop!(Tasks::advance_task(RuntimeOrigin::signed(POT), task), Error::<Test>::NotOverdue);
		hook_room(0);
		HookWeight::set(Weight::zero());
		run_to(System::block_number() + COMMIT_WINDOW + 3);
		assert!(matches!(status(task), TaskStatus::Committing { .. }), "the hook is starved");
		assert_ok!(Tasks::advance_task(RuntimeOrigin::signed(POT), task));
		assert!(matches!(status(task), TaskStatus::Revealing { .. }));
		reveal(task, ws[0], keys[0]);
		reveal(task, ws[1], keys[1]);
		assert_eq!(status(task), TaskStatus::Finalized);
		// A pending task's draw is the hook's alone.
		let pending = create(image_spec(None, 100));
		run_to(System::block_number() + 1);
		assert_noop!(Tasks::advance_task(RuntimeOrigin::signed(POT), pending), Error::<Test>::NotOverdue);
		// Once the hook has room again it catches up, oldest first.
		hook_room(4);
		run_to(System::block_number() + 1);
		assert!(matches!(status(pending), TaskStatus::Committing { .. } | TaskStatus::Failed { .. }));
	});
}

/// The hook charges an agenda entry for what it touched — the task's verifiers, the index the
/// draw read — not for the worst case, so more entries fit in a block (the reservation before
/// each entry stays the worst case, so a block never overruns).
#[test]
fn agenda_entries_are_charged_for_what_they_touch() {
	use crate::{Deadline, Deadlines, WeightInfo};
	use pallet_workers::WorkerRegistry;
	type W = ();
	test(|| {
		online(&WORKERS, "RTX 4090");
		let task = create(image_spec(Some(Verification::Replicated { verifiers: 3 }), 20));
		let info = TaskStore::<Test>::get(task).unwrap();
		let indexed = <Test as crate::Config>::Workers::eligible(info.model, info.vram_mib, None).len() as u32;
		assert!(indexed > 3, "a draw among more candidates than it needs");

		// No fresh randomness yet: the attempt costs the smallest draw, and the task waits.
		let due = info.agenda_at;
		System::set_block_number(due);
		KNOWN_SINCE.with(|k| *k.borrow_mut() = Some(0));
		Deadlines::<Test>::remove(due, task);
		assert_eq!(Tasks::process_deadline(due, task, Deadline::Assign), <W as WeightInfo>::deadline_assign(1, 1));
		assert!(matches!(status(task), TaskStatus::Pending { .. }));

		// A clean draw of three among the indexed candidates.
		KNOWN_SINCE.with(|k| *k.borrow_mut() = None);
		let next = TaskStore::<Test>::get(task).unwrap().agenda_at;
		System::set_block_number(next);
		Deadlines::<Test>::remove(next, task);
		let drawn = Tasks::process_deadline(next, task, Deadline::Assign);
		assert_eq!(drawn, <W as WeightInfo>::deadline_assign(3, indexed));
		assert!(drawn.all_lte(Tasks::draw_weight()) && drawn != Tasks::draw_weight());
		assert_eq!(workers_of(task).len(), 3);

		// The verdict deletes the three assignment records; pruning removes the task alone.
		let payload = image(0xAAAA, 0xBBBB);
		let workers = workers_of(task);
		let keys: Vec<_> = workers.iter().map(|w| commit(task, *w, &payload)).collect();
		for (w, key) in workers.iter().zip(keys) {
			reveal(task, *w, key);
		}
		assert!(matches!(status(task), TaskStatus::Finalized));
		assert_eq!(Assignments::<Test>::iter_prefix(task).count(), 0, "the verdict deleted the records");
		let prune_at = TaskStore::<Test>::get(task).unwrap().agenda_at;
		System::set_block_number(prune_at);
		Deadlines::<Test>::remove(prune_at, task);
		assert_eq!(Tasks::process_deadline(prune_at, task, Deadline::Prune), <W as WeightInfo>::deadline_prune());
		assert!(TaskStore::<Test>::get(task).is_none());
	});
}

/// Where the host records the block's proof, the hook charges an entry the proof it added
/// (storage already in the proof costs nothing again) instead of its estimate: with room for
/// one entry's estimated proof, the entries beyond the first wait for the next block without
/// a recorder, and are served in the same block with one.
#[test]
fn the_hook_charges_the_recorded_proof_where_the_host_records_it() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		let worst = Tasks::worst_deadline_weight();
		// Ref time for ten worst-case entries, proof size for one.
		HookWeight::set(
			<() as crate::WeightInfo>::on_initialize_base()
				.saturating_add(Weight::from_parts(worst.ref_time() * 10, worst.proof_size()))
				.saturating_add(Weight::from_parts(1, 1)),
		);
		let drawn = |tasks: &[TaskId]| tasks.iter().filter(|t| !workers_of(**t).is_empty()).count();
		let first: Vec<TaskId> = (0..3).map(|_| create(image_spec(Some(Verification::Replicated { verifiers: 1 }), 20))).collect();
		run_to(System::block_number() + 1);
		assert_eq!(drawn(&first), 1, "no recorder: one estimated entry fills the proof budget");

		// The host records the proof; nothing the hook reads adds to it here.
		RECORDED_PROOF.with(|r| *r.borrow_mut() = Some(1_000_000));
		let second: Vec<TaskId> = (0..3).map(|_| create(image_spec(Some(Verification::Replicated { verifiers: 1 }), 20))).collect();
		run_to(System::block_number() + 1);
		assert_eq!(drawn(&first) + drawn(&second), 6, "recorded: every due entry served in one block");
		RECORDED_PROOF.with(|r| *r.borrow_mut() = None);
		Tasks::do_try_state().expect("invariants hold");
	});
}
