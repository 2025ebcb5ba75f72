//! Attacks on verified training, each replayed against the pallet: a trainer that skips
//! steps or injects noise, a verifier that copies instead of training, copied commitments,
//! withholding, a lying minority, silence.

use super::*;
use crate::{CheckCommitment, Error, FailReason};
use frame_support::assert_noop;
use replica_primitives::training::SegmentVerdict;

/// Slashed at least the fee: a fault never pays.
fn slashed_at_least_the_fee(who: AccountId) -> bool {
	held_stake(who) <= STAKE - FEE
}

#[test]
fn attack_a_trainer_that_skips_steps_fails_a_checked_segment_and_is_slashed() {
	test(|| {
		let issuance = total_issuance();
		let dapp = free(DAPP);
		// Skipping a step in the first segment moves every later checkpoint: whichever
		// segments are checked, the verifiers end elsewhere than the trainer claims.
		let skipped = run(Some(0));
		let (id, trainer) = verifying(&skipped);
		verify_all(id, trainer, &skipped, |s, _| Some(honest(s)));
		assert_eq!(status(id), TrainingStatus::Failed { reason: FailReason::SegmentFailed });
		assert!(slashed_at_least_the_fee(trainer));
		assert_eq!(earnings(trainer), 0);
		// The verifiers who caught it are paid their slots; the creator gets the rest back.
		let pay = FEE / 10 / 6;
		for (_, v) in checks(id) {
			assert_eq!(held_stake(v), STAKE);
		}
		let paid: u64 = checks(id).iter().map(|_| pay).sum();
		assert_eq!(free(DAPP), dapp - paid);
		assert_eq!(total_issuance(), issuance);
	});
}

#[test]
fn attack_a_trainer_that_skips_steps_in_a_later_segment_is_caught_when_that_segment_is_checked() {
	test(|| {
		// The skip is in the last segment: only checking it catches the trainer. Try tasks
		// until one checks it (the draw is random), then see the trainer fail.
		let last = SEGMENTS - 1;
		let skipped = run(Some(last));
		for _ in 0..MAX_TRAININGS {
			let (id, trainer) = verifying(&skipped);
			let checked = info(id).sampled.contains(&last);
			verify_all(id, trainer, &skipped, |s, _| Some(honest(s)));
			if checked {
				assert_eq!(status(id), TrainingStatus::Failed { reason: FailReason::SegmentFailed });
				assert!(slashed_at_least_the_fee(trainer));
				return;
			}
			// Unchecked, it escapes this time: probability (1 - 1/4)(1 - 1/3) = 1/2 here.
			assert_eq!(status(id), TrainingStatus::Finalized);
		}
		panic!("the last segment was never checked");
	});
}

#[test]
fn attack_a_trainer_that_injects_noise_fails_and_is_slashed() {
	test(|| {
		let noisy: Vec<SegmentHashes> = (0..SEGMENTS).map(|s| drifted(s, 12)).collect();
		let (id, trainer) = verifying(&noisy);
		verify_all(id, trainer, &noisy, |s, _| Some(honest(s)));
		assert_eq!(status(id), TrainingStatus::Failed { reason: FailReason::SegmentFailed });
		assert!(slashed_at_least_the_fee(trainer));
	});
}

#[test]
fn attack_a_verifier_that_copies_the_next_checkpoint_gains_nothing() {
	test(|| {
		let honest_run = run(None);
		let (id, trainer) = verifying(&honest_run);
		let (segment, copier) = checks(id)[0];
		// The copier got checkpoint `segment + 1` off chain (from the next segment's
		// verifier): its end hash is right. It never sees the probe, which the trainer does
		// not serve; its best guess (the midpoint of the two checkpoints it has) is more than
		// the tolerance off (the worker's `engines::training` test measures this).
		let copied = SegmentHashes { probe: honest(segment).probe ^ 0xff, end: honest(segment).end };
		verify_all(id, trainer, &honest_run, |s, v| Some(if (s, v) == (segment, copier) { copied } else { honest(s) }));
		assert_eq!(status(id), TrainingStatus::Finalized);
		assert!(slashed_at_least_the_fee(copier), "the copier is slashed");
		assert_eq!(earnings(copier), 0, "and paid nothing, not even for its other checks");
		assert_eq!(held_stake(trainer), STAKE);
	});
}

#[test]
fn attack_a_copied_commitment_opens_for_nobody_else() {
	test(|| {
		let honest_run = run(None);
		let (id, trainer) = verifying(&honest_run);
		let segment = info(id).sampled[0];
		let of_segment: Vec<AccountId> = checks(id).into_iter().filter(|(s, _)| *s == segment).map(|(_, v)| v).collect();
		let (worker, copier) = (of_segment[0], of_segment[1]);
		commit_check(id, segment, worker, &honest(segment));
		// The copier commits the honest verifier's commitment, read from the chain.
		let CheckState::Committed(seen) = check_state(id, segment, worker) else { panic!("committed") };
		assert_ok!(Training::commit_check(RuntimeOrigin::signed(copier), id, segment, CheckCommitment::Hashes(seen)));
		for (s, v) in checks(id) {
			if v != copier && v != worker || s != segment {
				if matches!(check_state(id, s, v), CheckState::Drawn) {
					commit_check(id, s, v, &honest(s));
				}
			}
		}
		assert!(matches!(status(id), TrainingStatus::Revealing { .. }));
		reveal_trainer(id, trainer, &honest_run);
		reveal_check(id, segment, worker, &honest(segment));
		// Even with the honest verifier's hashes and salt public, the copy does not open: the
		// commitment binds the account.
		assert_noop!(
			Training::reveal_check(RuntimeOrigin::signed(copier), id, segment, honest(segment), salt_of(id, segment, worker)),
			Error::<Test>::CommitmentMismatch
		);
		assert_noop!(
			Training::reveal_check(RuntimeOrigin::signed(copier), id, segment, honest(segment), salt_of(id, segment, copier)),
			Error::<Test>::CommitmentMismatch
		);
		for (s, v) in checks(id) {
			if v != copier && v != worker || s != segment {
				if matches!(check_state(id, s, v), CheckState::Committed(_)) {
					reveal_check(id, s, v, &honest(s));
				}
			}
		}
		run_to(info(id).agenda_at);
		assert_eq!(status(id), TrainingStatus::Finalized);
		assert!(slashed_at_least_the_fee(copier), "a withheld check costs as much as a wrong one");
		assert_eq!(earnings(copier), 0);
	});
}

#[test]
fn attack_withholding_a_check_costs_as_much_as_revealing_a_wrong_one() {
	test(|| {
		let honest_run = run(None);
		let (id, trainer) = verifying(&honest_run);
		let all = checks(id);
		let (liar_segment, liar) = all[0];
		let (silent_segment, silent) = *all.iter().find(|(s, v)| *s != liar_segment && *v != liar).unwrap();
		// Neither did the work: each commits a guess. The liar reveals it; the other sees the
		// trainer's hashes disagree with its guess and stays silent.
		let lies = |s: u32, v: AccountId| (s, v) == (liar_segment, liar) || (s, v) == (silent_segment, silent);
		for (s, v) in &all {
			let h = if lies(*s, *v) { diverged(*s) } else { honest(*s) };
			commit_check(id, *s, *v, &h);
		}
		reveal_trainer(id, trainer, &honest_run);
		for (s, v) in &all {
			if (*s, *v) != (silent_segment, silent) {
				let h = if lies(*s, *v) { diverged(*s) } else { honest(*s) };
				reveal_check(id, *s, *v, &h);
			}
		}
		run_to(info(id).agenda_at);
		assert_eq!(status(id), TrainingStatus::Finalized);
		assert!(slashed_at_least_the_fee(liar));
		assert_eq!(held_stake(silent), held_stake(liar));
		assert_eq!((earnings(silent), earnings(liar)), (0, 0));
	});
}

#[test]
fn attack_a_trainer_withholding_its_hashes_is_slashed_and_the_fee_goes_back() {
	test(|| {
		let dapp = free(DAPP);
		let wrong = run(Some(0));
		let (id, trainer) = verifying(&wrong);
		for (s, v) in checks(id) {
			commit_check(id, s, v, &honest(s));
		}
		// It sees the verifiers committed and will lose: it stays silent.
		for (s, v) in checks(id) {
			reveal_check(id, s, v, &honest(s));
		}
		run_to(info(id).agenda_at);
		assert_eq!(status(id), TrainingStatus::Failed { reason: FailReason::TrainerWithheld });
		assert!(slashed_at_least_the_fee(trainer));
		// No verdict without its hashes: the verifiers are neither paid nor slashed.
		for (_, v) in checks(id) {
			assert_eq!(held_stake(v), STAKE);
			assert_eq!(earnings(v), 0);
		}
		assert_eq!(free(DAPP), dapp);
	});
}

#[test]
fn attack_a_lying_minority_cannot_get_an_honest_trainer_slashed() {
	test(|| {
		let honest_run = run(None);
		let (id, trainer) = verifying(&honest_run);
		let segment = info(id).sampled[0];
		let liar = checks(id).into_iter().find(|(s, _)| *s == segment).unwrap().1;
		verify_all(id, trainer, &honest_run, |s, v| Some(if v == liar { diverged(s) } else { honest(s) }));
		assert_eq!(status(id), TrainingStatus::Finalized);
		assert_eq!(held_stake(trainer), STAKE);
		assert!(earnings(trainer) > 0);
		assert!(slashed_at_least_the_fee(liar));
	});
}

#[test]
fn a_silent_majority_leaves_a_segment_undecided_and_silence_gains_nothing() {
	test(|| {
		let dapp = free(DAPP);
		let honest_run = run(None);
		let (id, trainer) = verifying(&honest_run);
		let segment = info(id).sampled[0];
		let of_segment: Vec<AccountId> = checks(id).into_iter().filter(|(s, _)| *s == segment).map(|(_, v)| v).collect();
		let speaker = of_segment[0];
		// Two of the segment's three verifiers never commit.
		verify_all(id, trainer, &honest_run, |s, v| (s != segment || v == speaker).then(|| honest(s)));
		assert_eq!(status(id), TrainingStatus::Failed { reason: FailReason::Undecided });
		let decided: Vec<_> = events()
			.into_iter()
			.filter_map(|e| if let Event::SegmentDecided { segment, verdict, .. } = e { Some((segment, verdict)) } else { None })
			.collect();
		assert!(decided.contains(&(segment, SegmentVerdict::Undecided)));
		// The trainer is neither paid nor slashed; the silent are slashed as no-shows.
		assert_eq!(held_stake(trainer), STAKE);
		assert_eq!(earnings(trainer), 0);
		for silent in &of_segment[1..] {
			assert!(held_stake(*silent) < STAKE, "no-show {silent} slashed");
			assert_eq!(earnings(*silent), 0);
		}
		// Verifiers of the decided segment are paid their slots, out of the refund.
		let pay = FEE / 10 / 6;
		let paid: u64 = checks(id).iter().filter(|(s, _)| *s != segment).map(|_| pay).sum();
		let paid_silent_elsewhere: u64 = checks(id)
			.iter()
			.filter(|(s, v)| *s != segment && of_segment[1..].contains(v))
			.map(|_| pay)
			.sum();
		assert_eq!(free(DAPP), dapp - paid + paid_silent_elsewhere);
	});
}

/// Reports every check of `segment` as unavailable, for the verifiers in `reporters`; every
/// other check is honest. The trainer reveals `run`; runs to the settlement.
fn report_unavailable(id: TrainingId, trainer: AccountId, run: &[SegmentHashes], segment: u32, reporters: &[AccountId]) {
	let all = checks(id);
	for (s, v) in &all {
		if *s == segment && reporters.contains(v) {
			assert_ok!(Training::commit_check(RuntimeOrigin::signed(*v), id, *s, CheckCommitment::Unavailable));
		} else {
			commit_check(id, *s, *v, &honest(*s));
		}
	}
	assert!(matches!(status(id), TrainingStatus::Revealing { .. }));
	reveal_trainer(id, trainer, run);
	for (s, v) in &all {
		if !(*s == segment && reporters.contains(v)) {
			reveal_check(id, *s, *v, &honest(*s));
		}
	}
	// An unavailability report has nothing to reveal.
	let (s, v) = *all.iter().find(|(s, v)| *s == segment && reporters.contains(v)).unwrap();
	assert_noop!(
		Training::reveal_check(RuntimeOrigin::signed(v), id, s, honest(s), salt_of(id, s, v)),
		Error::<Test>::AlreadyRevealed
	);
	run_to(info(id).agenda_at);
}

#[test]
fn attack_a_trainer_that_serves_its_verifiers_nothing_fails_and_is_slashed() {
	test(|| {
		let dapp = free(DAPP);
		// Without checkpoint i nobody can check segment i: a trainer that skipped steps would
		// rather not serve it. Its verifiers report the segment unavailable.
		let skipped = run(Some(0));
		let (id, trainer) = verifying(&skipped);
		let segment = info(id).sampled[0];
		let reporters: Vec<AccountId> = checks(id).into_iter().filter(|(s, _)| *s == segment).map(|(_, v)| v).collect();
		report_unavailable(id, trainer, &skipped, segment, &reporters);
		assert_eq!(status(id), TrainingStatus::Failed { reason: FailReason::SegmentFailed });
		assert!(slashed_at_least_the_fee(trainer));
		// The reporters were right: paid their slots, not slashed.
		let pay = FEE / 10 / 6;
		for v in &reporters {
			assert_eq!(held_stake(*v), STAKE);
			assert!(earnings(*v) >= pay);
		}
		assert_eq!(free(DAPP), dapp - 6 * pay);
	});
}

#[test]
fn attack_a_lying_minority_reporting_unavailability_is_slashed() {
	test(|| {
		let honest_run = run(None);
		let (id, trainer) = verifying(&honest_run);
		let segment = info(id).sampled[0];
		let liar = checks(id).into_iter().find(|(s, _)| *s == segment).unwrap().1;
		report_unavailable(id, trainer, &honest_run, segment, &[liar]);
		assert_eq!(status(id), TrainingStatus::Finalized);
		assert_eq!(held_stake(trainer), STAKE);
		assert!(slashed_at_least_the_fee(liar));
		assert_eq!(earnings(liar), 0);
	});
}
