//! Attack 1 (draw foresight and re-roll) and attack 2 (Sybil profile groups, unchecked sampled
//! tasks): draws use randomness nobody knew while the task or its candidates could change,
//! weight candidates by stake, and never accept a checked task unchecked.

use super::*;

/// Stalls the randomness source: its output stays known since `block`.
fn stall_randomness_at(block: Option<u64>) {
	KNOWN_SINCE.with(|k| *k.borrow_mut() = block);
}

/// Fails at 570b9a3: the creator read block 2's fresh randomness, computed the draw and
/// cancelled the still-pending task for a full refund — a free re-roll.
#[test]
fn attack_creator_cannot_cancel_once_the_draw_is_computable() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		stall_randomness_at(Some(1));
		let task = create(image_spec(None, 100));
		run_to(2);
		assert!(matches!(status(task), TaskStatus::Pending { .. }), "no fresh randomness yet");
		// Block 2 brings randomness unknown at creation: anyone can compute the draw now.
		stall_randomness_at(Some(2));
		assert_noop!(Tasks::cancel_task(RuntimeOrigin::signed(DAPP), task), Error::<Test>::DrawUnderway);
		run_to(3);
		assert!(matches!(status(task), TaskStatus::Committing { .. }), "drawn with that randomness");
	});
}

#[test]
fn cancel_in_the_creation_block_refunds() {
	test(|| {
		let task = create(image_spec(None, 100));
		assert_ok!(Tasks::cancel_task(RuntimeOrigin::signed(DAPP), task));
		assert_eq!(status(task), TaskStatus::Cancelled);
		assert_eq!(Balances::balance_on_hold(&HoldReason::TaskFee.into(), &DAPP), 0);
		assert_noop!(Tasks::cancel_task(RuntimeOrigin::signed(DAPP), task), Error::<Test>::NotPending);
	});
}

/// Fails at 570b9a3 (the late joiner, with most of the stake, is drawn): a worker that goes
/// online once the randomness of the coming draw is public is left out of that draw.
#[test]
fn attack_a_worker_joining_after_the_randomness_is_known_is_not_drawn() {
	test(|| {
		online(&WORKERS[..4], "RTX 4090");
		stall_randomness_at(Some(1));
		let tasks: Vec<_> = (0..6).map(|_| create(image_spec(Some(Verification::Replicated { verifiers: 3 }), 50))).collect();
		run_to(2);
		// The randomness of the next draw becomes public; the attacker joins with a big stake.
		stall_randomness_at(Some(2));
		let attacker = *SYBILS.start();
		assert_ok!(Workers::register(
			RuntimeOrigin::signed(attacker),
			profile("RTX 4090"),
			vec![IMAGE_MODEL],
			b"http://127.0.0.1:8080".to_vec(),
			9_000,
		));
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(attacker)));
		run_to(3);
		for task in tasks {
			assert_eq!(workers_of(task).len(), 3);
			assert!(!workers_of(task).contains(&attacker), "joined after the dice were cast");
		}
		// A later draw, with randomness unknown when it joined, counts it.
		stall_randomness_at(None);
		let task = create(image_spec(Some(Verification::Replicated { verifiers: 4 }), 50));
		run_to(4);
		assert!(workers_of(task).contains(&attacker));
	});
}

/// Runs a 3-worker text task to its end (everyone honest); returns its workers.
fn run_text_task() -> Vec<AccountId> {
	let task = create(text_spec(30));
	run_to(System::block_number() + 1);
	let ws = workers_of(task);
	let keys: Vec<_> = ws.iter().map(|w| commit(task, *w, &text("the same answer"))).collect();
	for (w, k) in ws.iter().zip(keys) {
		reveal(task, *w, k);
	}
	assert_eq!(status(task), TaskStatus::Finalized);
	ws
}

/// Fails at 570b9a3 (groups were drawn uniformly: 8 invented profiles took ~8/9 of all text
/// tasks): a group's chance follows its stake, not the number of groups.
#[test]
fn attack_invented_profile_groups_capture_text_tasks_only_in_proportion_to_stake() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		// 8 invented profiles of 3 minimum-stake accounts: 2,400 against the honest 8,000.
		let sybils: Vec<AccountId> = SYBILS.take(24).collect();
		for (i, group) in sybils.chunks(3).enumerate() {
			for w in group {
				assert_ok!(Workers::register(
					RuntimeOrigin::signed(*w),
					profile(&format!("invented GPU {i}")),
					vec![TEXT_MODEL],
					b"http://127.0.0.1:8080".to_vec(),
					100,
				));
				assert_ok!(Workers::go_online(RuntimeOrigin::signed(*w)));
			}
		}
		run_to(2);
		let n = 60;
		let captured = (0..n).filter(|_| run_text_task().iter().all(|w| sybils.contains(w))).count();
		// Stake share 23%; uniform groups would give 89%.
		assert!(captured * 100 / n <= 45, "captured {captured} of {n}");
	});
}

/// Fails at 570b9a3: a sampled text task whose executor had a profile nobody else had was
/// accepted unchecked even at 100% probability. Now an executor only comes from a group with
/// room for its checkers; without one the task fails with a refund.
#[test]
fn attack_a_unique_profile_executor_is_never_accepted_unchecked() {
	test(|| {
		online(&[OTHER_PROFILE_WORKERS[0]], "UNIQUE GPU");
		let mut spec = text_spec(100);
		spec.verification = Some(Verification::Sampled { probability: Perbill::one() });
		let task = create(spec);
		run_to(System::block_number() + TIMEOUT + 1);
		assert_eq!(status(task), TaskStatus::Failed { reason: FailReason::NoWorkers });
		assert_eq!(Balances::balance_on_hold(&HoldReason::TaskFee.into(), &DAPP), 0, "refunded");
	});
}

/// A checked sampled task whose checkers vanish fails with a refund; the executor, who did
/// nothing wrong, is not slashed, and `SamplingDecided { verified: true }` is never emitted.
#[test]
fn a_checked_sampled_task_without_checkers_fails_with_a_refund() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let mut spec = image_spec(Some(Verification::Sampled { probability: Perbill::one() }), 100);
		spec.quorum = None;
		let task = create(spec);
		run_to(2);
		let executor = workers_of(task)[0];
		commit(task, executor, &image(1, 1));
		for w in WORKERS[..3].iter().filter(|w| **w != executor) {
			assert_ok!(Workers::go_offline(RuntimeOrigin::signed(*w)));
		}
		run_to(System::block_number() + 1);
		assert_eq!(status(task), TaskStatus::Failed { reason: FailReason::NoCheckers });
		assert!(!events().contains(&Event::SamplingDecided { task, verified: true }));
		assert_eq!(held_stake(executor), STAKE);
		assert_eq!(Tasks::outcome_of(task, &executor).unwrap(), Outcome::Unpaid);
		assert_eq!(Balances::balance_on_hold(&HoldReason::TaskFee.into(), &DAPP), 0);
	});
}

/// Attack 8 (weights that lie): a verdict's slashes rewrite no index — they would not fit a
/// block — yet a draw never counts more than a worker's stake now. It confirms each pick
/// against its record, corrects a stale entry and samples on, so a draw over stale entries
/// picks exactly what a draw over corrected ones picks, and an offline worker is never drawn.
#[test]
fn a_draw_over_stale_entries_picks_what_a_draw_over_corrected_entries_picks() {
	use pallet_workers::WorkerRegistry;
	let scenario = |correct_at_once: bool| -> Vec<Vec<AccountId>> {
		let mut drawn = Vec::new();
		test(|| {
			online(&WORKERS, "RTX 4090");
			// Two fall below the minimum stake (offline), two keep a lower stake.
			for (who, percent) in [(WORKERS[0], 95), (WORKERS[1], 95), (WORKERS[2], 60), (WORKERS[3], 60)] {
				Workers::slash(&who, Perbill::from_percent(percent), 0, replica_primitives::SlashReason::Withheld, 0);
			}
			let stale = pallet_workers::ModelWorkers::<Test>::get(IMAGE_MODEL);
			assert_eq!(stale.len(), WORKERS.len(), "slashes leave the index alone");
			if correct_at_once {
				pallet_workers::ModelWorkers::<Test>::mutate(IMAGE_MODEL, |entries| {
					entries.retain(|e| e.who != WORKERS[0] && e.who != WORKERS[1]);
					for e in entries.iter_mut() {
						e.stake = pallet_workers::Workers::<Test>::get(e.who).unwrap().stake;
					}
				});
			}
			let tasks: Vec<_> =
				(0..8).map(|_| create(image_spec(Some(Verification::Replicated { verifiers: 3 }), 50))).collect();
			run_to(3);
			drawn = tasks.iter().map(|task| workers_of(*task)).collect();
		});
		drawn
	};
	let lazy = scenario(false);
	assert!(lazy.iter().all(|workers| workers.len() == 3), "every task drawn: {lazy:?}");
	assert!(lazy.iter().flatten().all(|w| *w != WORKERS[0] && *w != WORKERS[1]), "offline workers are never drawn");
	assert_eq!(lazy, scenario(true));
}

/// A draw that meets more stale entries than it may look at in one block corrects those it
/// met and waits for the next block's randomness; the task is drawn later all the same.
#[test]
fn a_draw_that_meets_many_stale_entries_carries_on_in_the_next_block() {
	use pallet_workers::WorkerRegistry;
	test(|| {
		online(&WORKERS, "RTX 4090");
		// Heavily staked workers fill the rest of the index, then fall below the minimum.
		let stale: Vec<AccountId> = SYBILS.take(24).collect();
		for who in stale.iter() {
			assert_ok!(Workers::register(
				RuntimeOrigin::signed(*who),
				profile("RTX 4090"),
				vec![IMAGE_MODEL],
				b"http://127.0.0.1:8080".to_vec(),
				9_000,
			));
			assert_ok!(Workers::go_online(RuntimeOrigin::signed(*who)));
			Workers::slash(who, Perbill::from_percent(99), 0, replica_primitives::SlashReason::Withheld, 0);
		}
		let indexed = || pallet_workers::ModelWorkers::<Test>::get(IMAGE_MODEL).len();
		let before = indexed();
		let task = create(image_spec(Some(Verification::Replicated { verifiers: 3 }), 50));
		run_to(2);
		assert!(matches!(status(task), TaskStatus::Pending { .. }), "the stale entries come first by weight");
		// It looked at as many as it may: each look cleared a stale entry or found one of the
		// (fewer than 3) current workers.
		let cleared = (before - indexed()) as u32;
		let limit = Tasks::draw_look_limit();
		assert!(cleared <= limit && cleared >= limit - 2, "{cleared} cleared, {limit} looks");
		run_to(5);
		assert!(matches!(status(task), TaskStatus::Committing { .. }), "drawn once the stale entries were met");
		assert!(workers_of(task).iter().all(|w| WORKERS.contains(w)));
	});
}
