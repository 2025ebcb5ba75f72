//! `create_tasks`, `commit_results` and `reveal_results`: one extrinsic for a dapp's requests
//! or a worker's due commitments or reveals, each item as the single call would do it, a
//! failed item changing nothing.

use super::*;
use crate::{SealedResult, WeightInfo};
use frame_support::{dispatch::PostDispatchInfo, BoundedVec};

type W = ();

/// Seals `payload` as `who` would for each task; the batch items and their keys.
fn sealed(tasks: &[TaskId], who: AccountId, payload: &ResultPayload) -> (Vec<crate::SealedResultOf<Test>>, Vec<[u8; 32]>) {
	tasks
		.iter()
		.map(|&task| {
			let key = key_of(task, who);
			let sealed = seal(payload, task, 0, &worker_bytes(who), &key);
			let item = SealedResult {
				task,
				ciphertext: sealed.ciphertext.try_into().expect("fits"),
				commitment: sealed.commitment,
			};
			(item, key)
		})
		.unzip()
}

/// Three tasks drawn to the same three workers.
fn three_tasks_of_three_workers() -> (Vec<TaskId>, Vec<AccountId>) {
	online(&WORKERS[..3], "RTX 4090");
	let tasks: Vec<TaskId> =
		(0..3).map(|_| create(image_spec(Some(Verification::Replicated { verifiers: 3 }), 301))).collect();
	run_to(System::block_number() + 1);
	for task in &tasks {
		assert_eq!(workers_of(*task).len(), 3);
	}
	(tasks, WORKERS[..3].to_vec())
}

#[test]
fn batches_commit_and_reveal_for_several_tasks_as_single_calls_would() {
	test(|| {
		let (tasks, workers) = three_tasks_of_three_workers();
		let payload = image(0b1010, 0xff00);
		let mut keys = Vec::new();
		for w in &workers {
			let (items, k) = sealed(&tasks, *w, &payload);
			keys.push(k);
			assert_ok!(Tasks::commit_results(RuntimeOrigin::signed(*w), BoundedVec::truncate_from(items)));
		}
		for task in &tasks {
			assert!(matches!(status(*task), TaskStatus::Revealing { .. }), "every worker committed");
		}
		let mut charged = Vec::new();
		for (w, k) in workers.iter().zip(&keys) {
			let reveals: Vec<(TaskId, [u8; 32])> = tasks.iter().copied().zip(k.iter().copied()).collect();
			let post: PostDispatchInfo =
				Tasks::reveal_results(RuntimeOrigin::signed(*w), BoundedVec::truncate_from(reveals)).expect("reveals");
			charged.push(post.actual_weight.expect("an actual weight"));
		}
		for task in &tasks {
			assert_eq!(status(*task), TaskStatus::Finalized);
		}
		assert!(!events().iter().any(|e| matches!(e, Event::BatchItemFailed { .. })));
		// The last worker's reveals decide all three tasks; the others' are plain reveals.
		let plain = <W as WeightInfo>::reveal_result();
		assert_eq!(charged[0], plain.saturating_mul(3));
		assert_eq!(charged[2], <W as WeightInfo>::reveal_result_decides(3).saturating_mul(3));
	});
}

#[test]
fn a_failed_item_changes_nothing_and_the_others_stand() {
	test(|| {
		let (tasks, workers) = three_tasks_of_three_workers();
		let payload = image(0b1010, 0xff00);
		let (mut items, _) = sealed(&tasks, workers[0], &payload);
		// The second item is a task not drawn yet.
		let other = create(image_spec(Some(Verification::Replicated { verifiers: 3 }), 301));
		items[1].task = other;
		let other_before = TaskStore::<Test>::get(other);
		assert_ok!(Tasks::commit_results(RuntimeOrigin::signed(workers[0]), BoundedVec::truncate_from(items)));
		assert!(events().contains(&Event::BatchItemFailed { index: 1, error: Error::<Test>::NotCommitPhase.into() }));
		assert_eq!(TaskStore::<Test>::get(other).encode(), other_before.encode());
		assert!(Assignments::<Test>::get(other, workers[0]).is_none());
		for task in [tasks[0], tasks[2]] {
			assert!(Assignments::<Test>::get(task, workers[0]).expect("assigned").commitment.is_some());
		}
		assert!(Assignments::<Test>::get(tasks[1], workers[0]).is_none(), "no record before a commit");

		// A reveal batch whose item fails: the commit phase is still open.
		let reveals = BoundedVec::truncate_from(vec![(tasks[0], key_of(tasks[0], workers[0]))]);
		assert_ok!(Tasks::reveal_results(RuntimeOrigin::signed(workers[0]), reveals));
		assert!(events().contains(&Event::BatchItemFailed { index: 0, error: Error::<Test>::NotRevealPhase.into() }));
		assert!(!Assignments::<Test>::get(tasks[0], workers[0]).expect("assigned").reveal_attempted);
	});
}

#[test]
fn an_empty_batch_is_refused() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		assert_noop!(Tasks::commit_results(RuntimeOrigin::signed(WORKERS[0]), BoundedVec::new()), Error::<Test>::EmptyBatch);
		assert_noop!(Tasks::reveal_results(RuntimeOrigin::signed(WORKERS[0]), BoundedVec::new()), Error::<Test>::EmptyBatch);
		assert_noop!(Tasks::create_tasks(RuntimeOrigin::signed(DAPP), BoundedVec::new()), Error::<Test>::EmptyBatch);
	});
}

/// A batch creates its tasks as `create_task` would, one after another: the same ids, stored
/// tasks, holds and events; then the tasks are drawn and decided like any other.
#[test]
fn a_creation_batch_creates_as_single_calls_would() {
	let specs = || {
		vec![
			image_spec(Some(Verification::Replicated { verifiers: 3 }), 301),
			image_spec(None, 120),
			text_spec(150),
		]
	};
	let single = new_test_ext().execute_with(|| {
		for spec in specs() {
			create(spec);
		}
		let tasks: Vec<_> = TaskStore::<Test>::iter().map(|(id, info)| (id, info.encode())).collect();
		(tasks, events(), Balances::balance_on_hold(&RuntimeHoldReason::Tasks(HoldReason::TaskFee), &DAPP))
	});
	test(|| {
		let first = NextTaskId::<Test>::get();
		assert_ok!(Tasks::create_tasks(RuntimeOrigin::signed(DAPP), BoundedVec::truncate_from(specs())));
		let tasks: Vec<_> = TaskStore::<Test>::iter().map(|(id, info)| (id, info.encode())).collect();
		assert_eq!(tasks, single.0);
		assert_eq!(events(), single.1);
		assert_eq!(Balances::balance_on_hold(&RuntimeHoldReason::Tasks(HoldReason::TaskFee), &DAPP), 571);

		online(&WORKERS[..3], "RTX 4090");
		run_to(System::block_number() + 1);
		let ws = workers_of(first);
		let result = image(0b1010, 0xff00);
		let keys: Vec<_> = ws.iter().map(|w| commit(first, *w, &result)).collect();
		for (w, k) in ws.iter().zip(keys) {
			reveal(first, *w, k);
		}
		assert_eq!(status(first), TaskStatus::Finalized);
	});
}

/// An item that fails creates nothing and holds nothing; the items around it stand.
#[test]
fn a_failed_creation_item_changes_nothing() {
	test(|| {
		let free_before = Balances::balance(&DAPP);
		let first = NextTaskId::<Test>::get();
		let specs = vec![image_spec(None, 120), image_spec(None, 1), image_spec(None, 130)];
		assert_ok!(Tasks::create_tasks(RuntimeOrigin::signed(DAPP), BoundedVec::truncate_from(specs)));
		assert!(events().contains(&Event::BatchItemFailed { index: 1, error: Error::<Test>::FeeTooLow.into() }));
		assert_eq!(NextTaskId::<Test>::get(), first + 2, "the failed item took no id");
		assert_eq!(TaskStore::<Test>::get(first + 1).expect("the third item").fee, 130);
		assert_eq!(Balances::balance_on_hold(&RuntimeHoldReason::Tasks(HoldReason::TaskFee), &DAPP), 250);
		assert_eq!(free_before - Balances::balance(&DAPP), 250);
	});
}
