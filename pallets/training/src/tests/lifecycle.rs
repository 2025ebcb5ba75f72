//! The honest path, the draws' timing, timeouts, and the agenda.

use super::*;
use crate::{FailReason, IncompleteSince};
use frame_support::{assert_noop, traits::fungible::InspectHold};
use pallet_workers::WorkerRegistry;
use replica_primitives::training::{task_id, SegmentVerdict};

#[test]
fn an_honest_training_task_passes_every_checked_segment_and_pays() {
	test(|| {
		let issuance = total_issuance();
		let dapp = free(DAPP);
		let honest_run = run(None);
		let (id, trainer) = verifying(&honest_run);
		let drawn = checks(id);
		// Two segments, three distinct verifiers each, never the trainer or the creator.
		assert_eq!(info(id).sampled.len(), 2);
		assert_eq!(drawn.len(), 6);
		assert!(drawn.iter().all(|(_, v)| *v != trainer && *v != DAPP));
		for s in info(id).sampled.iter() {
			let mut of: Vec<_> = drawn.iter().filter(|(seg, _)| seg == s).map(|(_, v)| *v).collect();
			of.sort();
			of.dedup();
			assert_eq!(of.len(), 3);
		}
		// Each drawn worker's stake is at risk until the task settles.
		for (_, v) in &drawn {
			assert!(<Workers as WorkerRegistry<_, _, _>>::open_tasks(v).contains(&task_id(id)));
		}
		assert!(<Workers as WorkerRegistry<_, _, _>>::open_tasks(&trainer).contains(&task_id(id)));

		// Verifiers re-run on other devices: one or two bits off, within the tolerance.
		verify_all(id, trainer, &honest_run, |s, v| Some(drifted(s, (v % 3) as u32)));
		assert_eq!(status(id), TrainingStatus::Finalized);
		let verifier_pay = FEE / 10 / 6;
		assert_eq!(earnings(trainer), FEE - 6 * verifier_pay);
		for v in drawn.iter().map(|(_, v)| *v) {
			let slots = drawn.iter().filter(|(_, w)| *w == v).count() as u64;
			assert_eq!(earnings(v), slots * verifier_pay, "verifier {v}");
			assert_eq!(held_stake(v), STAKE, "nobody honest is slashed");
			assert!(!<Workers as WorkerRegistry<_, _, _>>::open_tasks(&v).contains(&task_id(id)));
		}
		assert_eq!(held_stake(trainer), STAKE);
		assert_eq!(free(DAPP), dapp - FEE);
		assert_eq!(Balances::balance_on_hold(&crate::HoldReason::TrainingFee.into(), &DAPP), 0);
		assert_eq!(total_issuance(), issuance);
		let decided: Vec<_> = events()
			.into_iter()
			.filter_map(|e| if let Event::SegmentDecided { verdict, .. } = e { Some(verdict) } else { None })
			.collect();
		assert_eq!(decided, vec![SegmentVerdict::Passed; 2]);
	});
}

#[test]
fn the_trainer_is_drawn_only_with_randomness_fresher_than_the_creation() {
	test(|| {
		// The randomness source stalls at the creation block: nothing fresher comes.
		KNOWN_SINCE.with(|k| *k.borrow_mut() = Some(System::block_number()));
		let id = create();
		run_to(System::block_number() + 3);
		assert!(matches!(status(id), TrainingStatus::AwaitingTrainer { .. }));
		// It resumes: the trainer is drawn in the next block.
		KNOWN_SINCE.with(|k| *k.borrow_mut() = None);
		run_to(System::block_number() + 1);
		assert!(matches!(status(id), TrainingStatus::Training { .. }));
	});
}

#[test]
fn a_draw_that_never_comes_fails_with_a_full_refund() {
	test(|| {
		let dapp = free(DAPP);
		KNOWN_SINCE.with(|k| *k.borrow_mut() = Some(System::block_number()));
		let id = create();
		run_to(System::block_number() + DRAW_TIMEOUT + 1);
		assert_eq!(status(id), TrainingStatus::Failed { reason: FailReason::NoTrainer });
		assert_eq!(free(DAPP), dapp);
	});
}

#[test]
fn the_verifiers_wait_for_randomness_fresher_than_the_trainers_commitment() {
	test(|| {
		let dapp = free(DAPP);
		let id = create();
		let trainer = trainer_drawn(id);
		KNOWN_SINCE.with(|k| *k.borrow_mut() = Some(System::block_number()));
		commit_run(id, trainer, &run(None));
		run_to(System::block_number() + 2);
		assert!(matches!(status(id), TrainingStatus::AwaitingVerifiers { .. }));
		assert!(info(id).sampled.is_empty() && info(id).checks.is_empty());
		run_to(System::block_number() + DRAW_TIMEOUT);
		// Nobody is at fault: the trainer is released unslashed, the fee goes back.
		assert_eq!(status(id), TrainingStatus::Failed { reason: FailReason::NoVerifiers });
		assert_eq!(free(DAPP), dapp);
		assert_eq!(held_stake(trainer), STAKE);
	});
}

#[test]
fn a_trainer_that_never_commits_is_slashed_as_a_no_show_and_the_fee_goes_back() {
	test(|| {
		let dapp = free(DAPP);
		let id = create();
		let trainer = trainer_drawn(id);
		run_to(info(id).agenda_at);
		assert_eq!(status(id), TrainingStatus::Failed { reason: FailReason::TrainerMissed });
		assert_eq!(held_stake(trainer), STAKE - STAKE / 100);
		assert_eq!(free(DAPP), dapp);
		assert_noop!(
			Training::commit_checkpoints(RuntimeOrigin::signed(trainer), id, [1; 32], claims(id, trainer, &run(None))),
			crate::Error::<Test>::NotTrainingPhase
		);
	});
}

#[test]
fn finished_tasks_are_pruned_after_the_retention() {
	test(|| {
		let honest_run = run(None);
		let (id, trainer) = verifying(&honest_run);
		verify_all(id, trainer, &honest_run, |s, _| Some(honest(s)));
		let finished = System::block_number();
		run_to(finished + RETENTION - 1);
		assert!(Trainings::<Test>::contains_key(id));
		run_to(finished + RETENTION);
		assert!(!Trainings::<Test>::contains_key(id));
		assert!(!crate::Claims::<Test>::contains_key(id));
		assert!(events().contains(&Event::TrainingPruned { training: id }));
	});
}

#[test]
fn a_starved_hook_carries_deadlines_over_and_anyone_may_advance_them() {
	test(|| {
		let (id, _) = verifying(&run(None));
		let deadline = info(id).agenda_at;
		// The hook has room for nothing but its base: the verify deadline passes unprocessed.
		HookWeight::set(<() as crate::WeightInfo>::on_initialize_base());
		run_to(deadline + 2);
		assert!(matches!(status(id), TrainingStatus::Verifying { .. }));
		assert!(IncompleteSince::<Test>::get().is_some_and(|resume| resume <= deadline));
		// Anyone may push it along; draws are never done this way.
		assert_ok!(Training::advance_training(RuntimeOrigin::signed(NOT_A_WORKER), id));
		assert!(matches!(status(id), TrainingStatus::Revealing { .. }));
		let other = create();
		run_to(System::block_number() + 1);
		assert_noop!(
			Training::advance_training(RuntimeOrigin::signed(NOT_A_WORKER), other),
			crate::Error::<Test>::NotOverdue
		);
		// With room again, the hook catches up, oldest first; nothing was dropped.
		HookWeight::set(frame_support::weights::Weight::from_parts(10_000_000_000_000, 1_000_000_000));
		run_to(System::block_number() + 1);
		assert!(matches!(status(other), TrainingStatus::Training { .. }));
	});
}

#[test]
fn a_trainer_that_cannot_get_the_data_declines_and_nobody_is_at_fault() {
	test(|| {
		let dapp = free(DAPP);
		let id = create();
		let trainer = trainer_drawn(id);
		let other = if trainer == 1 { 2 } else { 1 };
		assert_noop!(Training::decline_training(RuntimeOrigin::signed(other), id), crate::Error::<Test>::NotTrainer);
		assert_noop!(Training::decline_training(RuntimeOrigin::signed(trainer), 42), crate::Error::<Test>::UnknownTraining);
		assert_ok!(Training::decline_training(RuntimeOrigin::signed(trainer), id));
		assert_eq!(status(id), TrainingStatus::Failed { reason: FailReason::Declined });
		assert_eq!(free(DAPP), dapp);
		assert_eq!(held_stake(trainer), STAKE);
		assert!(!<Workers as WorkerRegistry<_, _, _>>::open_tasks(&trainer).contains(&task_id(id)));
		assert_noop!(Training::decline_training(RuntimeOrigin::signed(trainer), id), crate::Error::<Test>::NotTrainingPhase);
		// Once it committed, it can no longer decline.
		let (committed, trainer) = verifying(&run(None));
		assert_noop!(
			Training::decline_training(RuntimeOrigin::signed(trainer), committed),
			crate::Error::<Test>::NotTrainingPhase
		);
	});
}
