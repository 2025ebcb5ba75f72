//! Bad input: every refusal is a typed error and changes nothing.

use super::*;
use crate::{Error, Params};
use frame_support::assert_noop;
use sp_runtime::DispatchError;

#[test]
fn create_refuses_bad_tasks() {
	test(|| {
		let with = |f: &dyn Fn(&mut TrainingSpec)| {
			let mut s = spec();
			f(&mut s);
			s
		};
		let template = |t: &[u8]| -> crate::Template { t.to_vec().try_into().unwrap() };
		let cases: Vec<(TrainingSpec, Error<Test>)> = vec![
			(with(&|s| s.model = TEXT_MODEL), Error::UnknownModel),
			(with(&|s| s.model = RETIRED_IMAGE_MODEL), Error::UnknownModel),
			(with(&|s| s.steps = 0), Error::InvalidSpec),
			(with(&|s| s.batch_size = 0), Error::InvalidSpec),
			(with(&|s| s.checkpoint_interval = 1), Error::InvalidSpec),
			(with(&|s| s.checkpoint_interval = 3), Error::InvalidSpec),
			(with(&|s| s.steps = 2 * (MAX_SEGMENTS + 1)), Error::InvalidSpec),
			(with(&|s| s.init_token = Default::default()), Error::InvalidSpec),
			(with(&|s| s.templates = Default::default()), Error::InvalidSpec),
			(with(&|s| s.templates = vec![template(b"a photo")].try_into().unwrap()), Error::InvalidSpec),
			(with(&|s| s.templates = vec![template(b"{} and {}")].try_into().unwrap()), Error::InvalidSpec),
		];
		for (spec, error) in cases {
			assert_noop!(Training::create_training(RuntimeOrigin::signed(DAPP), spec, FEE, windows()), error);
		}
		let call = |fee: Balance, windows: Windows<u64>| Training::create_training(RuntimeOrigin::signed(DAPP), spec(), fee, windows);
		assert_noop!(call(9, super::windows()), Error::<Test>::FeeTooLow);
		assert_noop!(call(FEE, Windows { verify: 0, ..super::windows() }), Error::<Test>::InvalidWindows);
		assert_noop!(call(FEE, Windows { train: 21, ..super::windows() }), Error::<Test>::InvalidWindows);
		assert_noop!(
			Training::create_training(RuntimeOrigin::signed(POOR_DAPP), spec(), 30, windows()),
			Error::<Test>::InsufficientBalance
		);
		for _ in 0..MAX_TRAININGS {
			create();
		}
		assert_noop!(call(FEE, super::windows()), Error::<Test>::TooManyTrainings);
	});
}

#[test]
fn only_the_trainer_commits_checkpoints_once_and_one_claim_per_segment() {
	test(|| {
		let id = create();
		let early = Training::commit_checkpoints(RuntimeOrigin::signed(1), id, [1; 32], claims(id, 1, &run(None)));
		assert_noop!(early, Error::<Test>::NotTrainingPhase);
		let trainer = trainer_drawn(id);
		let other = if trainer == 1 { 2 } else { 1 };
		let commit = |who: AccountId, training: TrainingId, claims: crate::ClaimsOf<Test>| {
			Training::commit_checkpoints(RuntimeOrigin::signed(who), training, [1; 32], claims)
		};
		assert_noop!(commit(trainer, 42, claims(id, trainer, &run(None))), Error::<Test>::UnknownTraining);
		assert_noop!(commit(other, id, claims(id, other, &run(None))), Error::<Test>::NotTrainer);
		let short = claims(id, trainer, &run(None)[..SEGMENTS as usize - 1]);
		assert_noop!(commit(trainer, id, short), Error::<Test>::WrongClaimCount);
		commit_run(id, trainer, &run(None));
		assert_noop!(commit(trainer, id, claims(id, trainer, &run(None))), Error::<Test>::NotTrainingPhase);
	});
}

#[test]
fn only_a_segments_verifiers_commit_to_it_once_in_the_verify_phase() {
	test(|| {
		let (id, trainer) = verifying(&run(None));
		let (segment, verifier) = checks(id)[0];
		let unchecked = (0..SEGMENTS).find(|s| !info(id).sampled.contains(s)).unwrap();
		let outsider = (1..=12).find(|w| *w != trainer && !checks(id).iter().any(|(_, v)| v == w)).unwrap();
		let commit = |who: AccountId, segment: u32| {
			Training::commit_check(RuntimeOrigin::signed(who), id, segment, CheckCommitment::Hashes([5; 32]))
		};
		assert_noop!(commit(trainer, segment), Error::<Test>::NotVerifier);
		assert_noop!(commit(outsider, segment), Error::<Test>::NotVerifier);
		assert_noop!(commit(verifier, unchecked), Error::<Test>::NotVerifier);
		assert_noop!(
			Training::commit_check(RuntimeOrigin::signed(verifier), 42, segment, CheckCommitment::Unavailable),
			Error::<Test>::UnknownTraining
		);
		commit_check(id, segment, verifier, &honest(segment));
		assert_noop!(commit(verifier, segment), Error::<Test>::AlreadyCommitted);
		assert_noop!(
			Training::commit_check(RuntimeOrigin::signed(verifier), id, segment, CheckCommitment::Unavailable),
			Error::<Test>::AlreadyCommitted
		);
		run_to(info(id).agenda_at);
		let (late_segment, late) = checks(id)[1];
		assert_noop!(commit(late, late_segment), Error::<Test>::NotVerifyPhase);
	});
}

#[test]
fn reveals_are_refused_out_of_phase_twice_or_when_they_do_not_open() {
	test(|| {
		let honest_run = run(None);
		let (id, trainer) = verifying(&honest_run);
		let (segment, verifier) = checks(id)[0];
		commit_check(id, segment, verifier, &honest(segment));
		let reveal = |who: AccountId, hashes: SegmentHashes| {
			Training::reveal_check(RuntimeOrigin::signed(who), id, segment, hashes, salt_of(id, segment, who))
		};
		assert_noop!(reveal(verifier, honest(segment)), Error::<Test>::NotRevealPhase);
		assert_noop!(
			Training::reveal_trainer(RuntimeOrigin::signed(trainer), id, trainer_reveal(id, trainer, &honest_run)),
			Error::<Test>::NotRevealPhase
		);
		run_to(info(id).agenda_at);
		assert!(matches!(status(id), TrainingStatus::Revealing { .. }));

		// A verifier's reveal.
		let (_, silent) = *checks(id).iter().find(|(_, v)| *v != verifier).unwrap();
		let silent_segment = checks(id).iter().find(|(_, v)| *v == silent).unwrap().0;
		assert_noop!(
			Training::reveal_check(RuntimeOrigin::signed(silent), id, silent_segment, honest(silent_segment), [0; 32]),
			Error::<Test>::NotCommitted
		);
		assert_noop!(reveal(trainer, honest(segment)), Error::<Test>::NotVerifier);
		assert_noop!(reveal(verifier, drifted(segment, 1)), Error::<Test>::CommitmentMismatch);
		reveal_check(id, segment, verifier, &honest(segment));
		assert_noop!(reveal(verifier, honest(segment)), Error::<Test>::AlreadyRevealed);

		// The trainer's reveal.
		let good = trainer_reveal(id, trainer, &honest_run);
		let reveal_trainer = |who: AccountId, r: crate::TrainerRevealOf<Test>| {
			Training::reveal_trainer(RuntimeOrigin::signed(who), id, r)
		};
		assert_noop!(reveal_trainer(verifier, good.clone()), Error::<Test>::NotTrainer);
		let mut short = good.clone();
		short.pop();
		assert_noop!(reveal_trainer(trainer, short), Error::<Test>::WrongRevealCount);
		let mut swapped = good.clone();
		swapped[0].0 = diverged(info(id).sampled[0]);
		assert_noop!(reveal_trainer(trainer, swapped), Error::<Test>::CommitmentMismatch);
		assert_ok!(reveal_trainer(trainer, good.clone()));
		assert_noop!(reveal_trainer(trainer, good), Error::<Test>::AlreadyRevealed);
	});
}

#[test]
fn parameters_are_governance_only_and_checked() {
	test(|| {
		let good = params();
		assert_noop!(Training::set_params(RuntimeOrigin::signed(DAPP), good), DispatchError::BadOrigin);
		let bad = [
			crate::TrainingParams { sampled_segments: 0, ..good },
			crate::TrainingParams { verifiers_per_segment: 0, ..good },
			crate::TrainingParams { sampled_segments: 5, verifiers_per_segment: 3, ..good },
			crate::TrainingParams { lsh_tolerance: 65, ..good },
			crate::TrainingParams { max_window: 0, ..good },
			crate::TrainingParams { draw_timeout: 0, ..good },
			crate::TrainingParams { retention: 0, ..good },
		];
		for p in bad {
			assert_noop!(Training::set_params(RuntimeOrigin::root(), p), Error::<Test>::InvalidParams);
		}
		// An open task keeps the terms it was created with.
		let id = create();
		let changed = crate::TrainingParams { verifiers_per_segment: 5, ..good };
		assert_ok!(Training::set_params(RuntimeOrigin::root(), changed));
		assert_eq!(Params::<Test>::get(), Some(changed));
		assert_eq!(info(id).terms.verifiers_per_segment, 3);
		assert_noop!(Training::advance_training(RuntimeOrigin::signed(DAPP), 42), Error::<Test>::UnknownTraining);
	});
}
