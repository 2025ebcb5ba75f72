//! Lifecycle and error-path tests.

use super::*;

#[test]
fn three_honest_workers_finalize_and_split_the_fee() {
	test(|| {
		online(&WORKERS[..5], "RTX 4090");
		let dapp_before = Balances::balance(&DAPP);
		let (task, ws) = assigned_image_task(3, 301);
		assert!(matches!(status(task), TaskStatus::Committing { round: 0, .. }));
		let result = image(0b1010, 0xff00);
		let keys: Vec<_> = ws.iter().map(|w| commit(task, *w, &result)).collect();
		assert!(matches!(status(task), TaskStatus::Revealing { round: 0, .. }), "all committed: reveal at once");
		let before: Vec<_> = ws.iter().map(|w| Balances::balance(w)).collect();
		let pot = Balances::balance(&EARNINGS_POT);
		for (w, k) in ws.iter().zip(keys) {
			reveal(task, *w, k);
		}
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!(TaskStore::<Test>::get(task).unwrap().result, Some(result.clone()));
		// 301 = 3 × 100 + 1: the first winner takes the remainder, credited to its record; the
		// fee went to the earnings pot in one transfer.
		let credited: Vec<_> = ws.iter().map(|w| earnings(*w)).collect();
		assert_eq!(credited, [101, 100, 100]);
		assert_eq!(Balances::balance(&EARNINGS_POT), pot + 301);
		assert_eq!(ws.iter().map(|w| Balances::balance(w)).collect::<Vec<_>>(), before, "no transfer per winner");
		assert_eq!(Balances::balance(&DAPP), dapp_before - 301);
		assert!(events().contains(&Event::TaskFinalized { task, result, winners: ws.clone(), share: 100 }));
		for w in &ws {
			assert_eq!(held_stake(*w), STAKE, "nobody slashed");
			assert!(Tasks::open_assignments(w).is_empty());
		}
		// A winner claims: the pot pays it out.
		assert_ok!(Workers::claim_earnings(RuntimeOrigin::signed(ws[0])));
		assert_eq!(Balances::balance(&ws[0]), before[0] + 101);
		assert_eq!((earnings(ws[0]), Balances::balance(&EARNINGS_POT)), (0, pot + 200));
	});
}

#[test]
fn an_outlier_is_slashed_and_the_fee_goes_to_the_two_honest() {
	test(|| {
		online(&WORKERS[..5], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 300);
		// Honest results 2 bits apart (== tolerance); the outlier is 3 bits from the reference
		// (t + 1) and 5 from the other honest result.
		let k0 = commit(task, ws[0], &image(0b00000, 0));
		let k1 = commit(task, ws[1], &image(0b00011, 0));
		let k2 = commit(task, ws[2], &image(0b11100, 0));
		let pot = Balances::balance(&POT);
		reveal(task, ws[0], k0);
		reveal(task, ws[1], k1);
		reveal(task, ws[2], k2);
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!((earnings(ws[0]), earnings(ws[1]), earnings(ws[2])), (150, 150, 0));
		// Outlier slash: 10% of its stake, but at least the fee (300), to the pot.
		assert_eq!(held_stake(ws[2]), STAKE - 300);
		assert_eq!(Balances::balance(&POT), pot + 300);
		assert_eq!(Tasks::outcome_of(task, &ws[2]).unwrap(), Outcome::Outlier);
		assert!(System::events().iter().any(|r| r.event
			== pallet_workers::Event::Slashed {
				worker: ws[2],
				amount: 300,
				reason: replica_primitives::SlashReason::Outlier,
				task
			}
			.into()));
	});
}

#[test]
fn exhausted_escalation_fails_and_refunds_without_slashing_revealers() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		let dapp_before = Balances::balance(&DAPP);
		let (task, _) = assigned_image_task(3, 500);
		let mut n = 0u64;
		// Everybody disagrees with everybody, round after round, up to MaxVerifiers (7).
		loop {
			match status(task) {
				TaskStatus::Committing { .. } => {},
				// An escalation is drawn in a later block.
				TaskStatus::Pending { .. } => {
					run_to(System::block_number() + 1);
					continue;
				},
				_ => break,
			}
			let fresh: Vec<_> = workers_of(task)
				.into_iter()
				// Workers of earlier rounds are settled; this round's have no record yet.
				.filter(|w| Tasks::outcome_of(task, w) == Some(Outcome::Open) && Assignments::<Test>::get(task, w).is_none())
				.collect();
			let keys: Vec<_> = fresh
				.iter()
				.map(|w| {
					n += 1;
					commit(task, *w, &image(n.wrapping_mul(0x0101_0101_0101_0101), n << 40))
				})
				.collect();
			for (w, k) in fresh.iter().zip(keys) {
				reveal(task, *w, k);
			}
		}
		assert_eq!(status(task), TaskStatus::Failed { reason: FailReason::NoQuorum });
		assert_eq!(workers_of(task).len() as u32, MAX_VERIFIERS);
		assert_eq!(Balances::balance(&DAPP), dapp_before, "full refund");
		for w in workers_of(task) {
			assert_eq!(held_stake(w), STAKE, "revealers are not slashed");
			assert_eq!(Tasks::outcome_of(task, &w).unwrap(), Outcome::Unpaid);
		}
	});
}

#[test]
fn a_non_revealer_is_slashed_and_counts_against_quorum() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 300);
		let r = image(5, 5);
		let k0 = commit(task, ws[0], &r);
		let k1 = commit(task, ws[1], &r);
		let _ = commit(task, ws[2], &r);
		reveal(task, ws[0], k0);
		reveal(task, ws[1], k1);
		let TaskStatus::Revealing { deadline, .. } = status(task) else { panic!("revealing") };
		run_to(deadline);
		assert_eq!(status(task), TaskStatus::Finalized, "2 of 3 is a majority");
		assert_eq!(Tasks::outcome_of(task, &ws[2]).unwrap(), Outcome::Withheld);
		assert_eq!(held_stake(ws[2]), STAKE - 300, "withholding: 10%, at least the fee");
		assert_eq!(pallet_workers::Workers::<Test>::get(ws[2]).unwrap().reputation.faults, 1);
	});
}

#[test]
fn non_committers_are_no_shows_and_the_rest_reveal_after_the_deadline() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 300);
		let r = image(5, 5);
		let k0 = commit(task, ws[0], &r);
		let k1 = commit(task, ws[1], &r);
		let TaskStatus::Committing { deadline, .. } = status(task) else { panic!("committing") };
		run_to(deadline);
		assert!(matches!(status(task), TaskStatus::Revealing { .. }));
		reveal(task, ws[0], k0);
		reveal(task, ws[1], k1);
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!(Tasks::outcome_of(task, &ws[2]).unwrap(), Outcome::NoShow);
	});
}

#[test]
fn a_bad_reveal_is_slashed() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 300);
		let r = image(5, 5);
		let k0 = commit(task, ws[0], &r);
		let k1 = commit(task, ws[1], &r);
		let _ = commit(task, ws[2], &r);
		reveal(task, ws[0], k0);
		reveal(task, ws[1], k1);
		reveal(task, ws[2], [0u8; 32]);
		assert!(events().contains(&Event::BadReveal { task, worker: ws[2] }));
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!(Tasks::outcome_of(task, &ws[2]).unwrap(), Outcome::BadReveal);
		assert_eq!(held_stake(ws[2]), STAKE - 300, "10% bad-reveal slash, at least the fee");
	});
}

#[test]
fn a_result_of_the_wrong_shape_is_a_bad_reveal() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 300);
		let k: Vec<_> = ws.iter().map(|w| commit(task, *w, &text("not an image"))).collect();
		for (w, k) in ws.iter().zip(k) {
			reveal(task, *w, k);
		}
		// Three identical but wrong-shaped results do not win: all are bad reveals.
		assert!(matches!(status(task), TaskStatus::Failed { .. } | TaskStatus::Pending { .. }));
		assert_eq!(Tasks::outcome_of(task, &ws[0]).unwrap(), Outcome::BadReveal);
	});
}

#[test]
fn copying_another_workers_commitment_is_rejected_or_useless() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 300);
		let r = image(5, 5);
		let key = key_of(task, ws[0]);
		let sealed = seal(&r, task, 0, &worker_bytes(ws[0]), &key);
		assert_ok!(Tasks::commit_result(
			RuntimeOrigin::signed(ws[0]),
			task,
			sealed.ciphertext.clone(),
			sealed.commitment
		));
		// The same commitment from another worker is refused.
		assert_noop!(
			Tasks::commit_result(RuntimeOrigin::signed(ws[1]), task, sealed.ciphertext.clone(), sealed.commitment),
			Error::<Test>::DuplicateCommitment
		);
		// The same ciphertext under a commitment of its own cannot be opened by the copier,
		// even with the original key once it is public: the context names the worker.
		let fake = replica_primitives::commitment::commitment(
			&replica_primitives::commitment::context(task, 0, &worker_bytes(ws[1])),
			&key,
			&sealed.ciphertext,
		);
		assert_ok!(Tasks::commit_result(RuntimeOrigin::signed(ws[1]), task, sealed.ciphertext, fake));
		let k2 = commit(task, ws[2], &r);
		reveal(task, ws[0], key);
		reveal(task, ws[1], key);
		reveal(task, ws[2], k2);
		assert_eq!(Tasks::outcome_of(task, &ws[1]).unwrap(), Outcome::BadReveal);
		assert_eq!(status(task), TaskStatus::Finalized);
	});
}

#[test]
fn text_tasks_use_one_profile_group_and_exact_match() {
	test(|| {
		online(&WORKERS[..2], "RTX 4090");
		online(&OTHER_PROFILE_WORKERS, "H100");
		let task = create(text_spec(90));
		run_to(2);
		let ws = workers_of(task);
		// Only the H100 group has three members.
		let mut sorted = ws.clone();
		sorted.sort();
		assert_eq!(sorted, OTHER_PROFILE_WORKERS);
		assert_eq!(TaskStore::<Test>::get(task).unwrap().profile, Some(profile("H100").profile_id()));
		let k0 = commit(task, ws[0], &text("the end"));
		let k1 = commit(task, ws[1], &text("the end"));
		let k2 = commit(task, ws[2], &text("the end!"));
		for (w, k) in ws.iter().zip([k0, k1, k2]) {
			reveal(task, *w, k);
		}
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!(TaskStore::<Test>::get(task).unwrap().result, Some(text("the end")));
		assert_eq!(Tasks::outcome_of(task, &ws[2]).unwrap(), Outcome::Outlier);
	});
}

#[test]
fn text_task_waits_when_no_profile_group_is_big_enough() {
	test(|| {
		online(&WORKERS[..2], "RTX 4090");
		online(&OTHER_PROFILE_WORKERS[..2], "H100");
		let task = create(text_spec(90));
		run_to(2);
		assert!(matches!(status(task), TaskStatus::Pending { .. }), "2 + 2 is not one group of 3");
	});
}

#[test]
fn sampled_mode_with_certain_check_draws_verifiers_after_the_commit() {
	test(|| {
		online(&WORKERS[..4], "RTX 4090");
		let task = create(image_spec(Some(Verification::Sampled { probability: Perbill::one() }), 100));
		run_to(2);
		let ws = workers_of(task);
		assert_eq!(ws.len(), 1, "one executor");
		let r = image(9, 9);
		let k0 = commit(task, ws[0], &r);
		assert_eq!(status(task), TaskStatus::Sampling { committed_by: 2 });
		run_to(3);
		assert!(events().contains(&Event::SamplingDecided { task, verified: true }));
		let all = workers_of(task);
		assert_eq!(all.len(), 3, "sampled_verifiers (2) joined");
		let k1 = commit(task, all[1], &r);
		let k2 = commit(task, all[2], &r);
		reveal(task, all[0], k0);
		reveal(task, all[1], k1);
		reveal(task, all[2], k2);
		assert_eq!(status(task), TaskStatus::Finalized);
	});
}

#[test]
fn sampled_verifiers_that_never_commit_do_not_cost_the_executor_its_reveal() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let task = create(image_spec(Some(Verification::Sampled { probability: Perbill::one() }), 100));
		run_to(2);
		let executor = workers_of(task)[0];
		let key = commit(task, executor, &image(9, 9));
		run_to(3);
		assert_eq!(workers_of(task).len(), 3, "two verifiers drawn");
		let TaskStatus::Committing { round: 1, deadline } = status(task) else { panic!("round 1") };
		// Neither verifier commits: the executor still gets its reveal phase.
		run_to(deadline);
		assert!(matches!(status(task), TaskStatus::Revealing { .. }));
		reveal(task, executor, key);
		assert!(events().contains(&Event::ResultRevealed { task, worker: executor }));
		// One of three assigned is no quorum and nobody is left to draw: the escalation waits,
		// then the task fails and is refunded; the executor, who revealed, is not slashed —
		// the silent verifiers are.
		assert!(matches!(status(task), TaskStatus::Pending { .. }));
		run_to(System::block_number() + TIMEOUT + 1);
		assert_eq!(status(task), TaskStatus::Failed { reason: FailReason::NoQuorum });
		assert_eq!(held_stake(executor), STAKE);
		assert_eq!(Tasks::outcome_of(task, &executor).unwrap(), Outcome::Unpaid);
		let verifiers: Vec<_> = workers_of(task).into_iter().filter(|w| *w != executor).collect();
		for v in verifiers {
			assert_eq!(Tasks::outcome_of(task, &v).unwrap(), Outcome::NoShow);
			assert_eq!(held_stake(v), STAKE - 10);
		}
	});
}

#[test]
fn sampled_mode_without_check_lets_the_executor_decide() {
	test(|| {
		let mut params = Tasks::params();
		params.sampled_min_probability = Perbill::from_parts(1);
		assert_ok!(Tasks::set_params(RuntimeOrigin::root(), params));
		online(&WORKERS[..4], "RTX 4090");
		let task = create(image_spec(Some(Verification::Sampled { probability: Perbill::from_parts(1) }), 100));
		run_to(2);
		let ws = workers_of(task);
		let k0 = commit(task, ws[0], &image(9, 9));
		run_to(3);
		assert!(events().contains(&Event::SamplingDecided { task, verified: false }));
		assert!(matches!(status(task), TaskStatus::Revealing { round: 0, .. }));
		reveal(task, ws[0], k0);
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!(earnings(ws[0]), 100);
	});
}

/// Stalls the randomness source: its output stays known since `block`.
fn stall_randomness_at(block: Option<u64>) {
	KNOWN_SINCE.with(|k| *k.borrow_mut() = block);
}

#[test]
fn assignment_waits_for_randomness_unknown_at_creation() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		stall_randomness_at(Some(1));
		let task = create(image_spec(Some(Verification::Replicated { verifiers: 3 }), 50));
		run_to(3);
		assert!(matches!(status(task), TaskStatus::Pending { .. }), "the creator could know this randomness");
		assert!(workers_of(task).is_empty());
		stall_randomness_at(Some(2));
		run_to(4);
		assert!(matches!(status(task), TaskStatus::Committing { round: 0, .. }));
		assert_eq!(workers_of(task).len(), 3);
	});
}

#[test]
fn randomness_that_never_becomes_fresh_times_the_task_out_with_a_refund() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		stall_randomness_at(Some(1));
		assert_waits_then_times_out_with_a_refund();
	});
}

#[test]
fn the_sampling_roll_waits_for_randomness_unknown_at_the_commit() {
	test(|| {
		online(&WORKERS[..4], "RTX 4090");
		let task = create(image_spec(Some(Verification::Sampled { probability: Perbill::one() }), 100));
		run_to(2);
		let executor = workers_of(task)[0];
		stall_randomness_at(Some(2));
		commit(task, executor, &image(9, 9));
		assert_eq!(status(task), TaskStatus::Sampling { committed_by: 2 });
		run_to(4);
		assert_eq!(status(task), TaskStatus::Sampling { committed_by: 2 }, "the executor could foresee this roll");
		stall_randomness_at(None);
		run_to(5);
		assert!(events().contains(&Event::SamplingDecided { task, verified: true }));
		assert_eq!(workers_of(task).len(), 3);
	});
}

#[test]
fn a_sampling_roll_without_fresh_randomness_in_time_fails_with_a_refund_never_unchecked() {
	test(|| {
		let mut params = Tasks::params();
		params.sampled_min_probability = Perbill::from_parts(1);
		assert_ok!(Tasks::set_params(RuntimeOrigin::root(), params));
		online(&WORKERS[..4], "RTX 4090");
		// A one-in-a-billion check: only the stalled source makes it certain.
		let task = create(image_spec(Some(Verification::Sampled { probability: Perbill::from_parts(1) }), 100));
		run_to(2);
		let executor = workers_of(task)[0];
		stall_randomness_at(Some(2));
		commit(task, executor, &image(9, 9));
		run_to(2 + REVEAL_WINDOW - 1);
		assert_eq!(status(task), TaskStatus::Sampling { committed_by: 2 });
		run_to(2 + REVEAL_WINDOW);
		// Checked, but checkers need fresh randomness too: refunded, the executor unpaid.
		assert_eq!(status(task), TaskStatus::Failed { reason: FailReason::NoCheckers });
		assert!(!events().contains(&Event::SamplingDecided { task, verified: true }));
		assert_eq!(held_stake(executor), STAKE);
	});
}

#[test]
fn cancel_before_assignment_refunds() {
	test(|| {
		let before = Balances::balance(&DAPP);
		let task = create(image_spec(None, 50));
		assert_eq!(Balances::balance(&DAPP), before - 50);
		assert_noop!(Tasks::cancel_task(RuntimeOrigin::signed(1), task), Error::<Test>::NotCreator);
		assert_ok!(Tasks::cancel_task(RuntimeOrigin::signed(DAPP), task));
		assert_eq!(status(task), TaskStatus::Cancelled);
		assert_eq!(Balances::balance(&DAPP), before);
		assert!(events().contains(&Event::TaskCancelled { task }));
		assert_noop!(Tasks::cancel_task(RuntimeOrigin::signed(DAPP), task), Error::<Test>::NotPending);
		assert_noop!(Tasks::cancel_task(RuntimeOrigin::signed(DAPP), 99), Error::<Test>::UnknownTask);
	});
}

#[test]
fn cancel_after_assignment_is_refused() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let (task, _) = assigned_image_task(3, 50);
		assert_noop!(Tasks::cancel_task(RuntimeOrigin::signed(DAPP), task), Error::<Test>::NotPending);
	});
}

/// A 3-verifier task created now waits until the assignment timeout, then fails with a full
/// refund.
fn assert_waits_then_times_out_with_a_refund() {
	let before = Balances::balance(&DAPP);
	let task = create(image_spec(Some(Verification::Replicated { verifiers: 3 }), 50));
	run_to(1 + TIMEOUT - 1);
	assert!(matches!(status(task), TaskStatus::Pending { .. }), "waits");
	run_to(1 + TIMEOUT);
	assert_eq!(status(task), TaskStatus::Failed { reason: FailReason::NoWorkers });
	assert_eq!(Balances::balance(&DAPP), before);
}

#[test]
fn assignment_timeout_fails_and_refunds() {
	test(|| {
		online(&WORKERS[..2], "RTX 4090");
		assert_waits_then_times_out_with_a_refund();
	});
}

#[test]
fn a_pending_task_is_assigned_when_workers_arrive() {
	test(|| {
		online(&WORKERS[..2], "RTX 4090");
		let task = create(image_spec(Some(Verification::Replicated { verifiers: 3 }), 50));
		run_to(2);
		online(&WORKERS[2..3], "RTX 4090");
		run_to(3);
		assert!(matches!(status(task), TaskStatus::Committing { .. }));
	});
}

#[test]
fn finished_tasks_are_pruned_after_retention() {
	test(|| {
		let task = create(image_spec(None, 50));
		assert_ok!(Tasks::cancel_task(RuntimeOrigin::signed(DAPP), task));
		run_to(1 + RETENTION);
		assert!(TaskStore::<Test>::get(task).is_none());
		assert!(events().contains(&Event::TaskPruned { task }));
	});
}

#[test]
fn the_creator_is_never_drawn_for_its_own_task() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let task = NextTaskId::<Test>::get();
		assert_ok!(Tasks::create_task(RuntimeOrigin::signed(WORKERS[0]), image_spec(Some(Verification::Replicated { verifiers: 3 }), 20)));
		run_to(2);
		assert!(matches!(status(task), TaskStatus::Pending { .. }), "only two others are eligible");
	});
}

#[test]
fn create_task_errors_change_nothing() {
	test(|| {
		let signed = RuntimeOrigin::signed;
		let with = |f: fn(&mut ImageParams)| {
			let mut spec = image_spec(None, 50);
			if let TaskParams::Image(p) = &mut spec.params {
				f(p);
			}
			spec
		};
		assert_noop!(Tasks::create_task(signed(DAPP), TaskSpec { model: 7, ..image_spec(None, 50) }), Error::<Test>::UnknownModel);
		assert_noop!(Tasks::create_task(signed(DAPP), image_spec(None, 9)), Error::<Test>::FeeTooLow);
		assert_noop!(Tasks::create_task(signed(POOR_DAPP), image_spec(None, 50)), Error::<Test>::InsufficientBalance);
		assert_noop!(Tasks::create_task(signed(DAPP), with(|p| p.prompt = Default::default())), Error::<Test>::EmptyPrompt);
		assert_noop!(Tasks::create_task(signed(DAPP), with(|p| p.steps = 0)), Error::<Test>::InvalidSteps);
		assert_noop!(Tasks::create_task(signed(DAPP), with(|p| p.steps = 51)), Error::<Test>::InvalidSteps);
		assert_noop!(Tasks::create_task(signed(DAPP), with(|p| p.width = 520)), Error::<Test>::InvalidSize);
		assert_noop!(Tasks::create_task(signed(DAPP), with(|p| p.height = 63)), Error::<Test>::InvalidSize);
		assert_noop!(Tasks::create_task(signed(DAPP), with(|p| p.count = 0)), Error::<Test>::InvalidImageCount);
		assert_noop!(Tasks::create_task(signed(DAPP), with(|p| p.count = 3)), Error::<Test>::InvalidImageCount);
		assert_noop!(
			Tasks::create_task(signed(DAPP), image_spec(Some(Verification::Replicated { verifiers: 0 }), 50)),
			Error::<Test>::InvalidVerifiers
		);
		assert_noop!(
			Tasks::create_task(signed(DAPP), image_spec(Some(Verification::Replicated { verifiers: MAX_VERIFIERS + 1 }), 50)),
			Error::<Test>::InvalidVerifiers
		);
		assert_noop!(
			Tasks::create_task(signed(DAPP), image_spec(Some(Verification::Sampled { probability: Perbill::from_percent(1) }), 50)),
			Error::<Test>::ProbabilityTooLow
		);
		assert_noop!(
			Tasks::create_task(signed(DAPP), TaskSpec { model: TEXT_MODEL, ..image_spec(None, 50) }),
			Error::<Test>::ModelKindMismatch
		);
		let text_with = |decoding, max_tokens| {
			let mut spec = text_spec(50);
			spec.params = TaskParams::Text(TextParams { prompt: b"hi".to_vec().try_into().unwrap(), max_tokens, decoding });
			spec
		};
		assert_noop!(Tasks::create_task(signed(DAPP), text_with(Decoding::Sampling, 8)), Error::<Test>::SamplingNotVerifiable);
		assert_noop!(Tasks::create_task(signed(DAPP), text_with(Decoding::Beam { width: 11 }, 8)), Error::<Test>::InvalidBeamWidth);
		assert_noop!(Tasks::create_task(signed(DAPP), text_with(Decoding::Beam { width: 0 }, 8)), Error::<Test>::InvalidBeamWidth);
		assert_noop!(Tasks::create_task(signed(DAPP), text_with(Decoding::Greedy, 0)), Error::<Test>::InvalidMaxTokens);
		assert_noop!(Tasks::create_task(signed(DAPP), text_with(Decoding::Greedy, 257)), Error::<Test>::InvalidMaxTokens);
		assert_ok!(Tasks::retire_model(RuntimeOrigin::root(), IMAGE_MODEL));
		assert_noop!(Tasks::create_task(signed(DAPP), image_spec(None, 50)), Error::<Test>::ModelRetired);
		assert_noop!(Tasks::create_task(RuntimeOrigin::none(), text_spec(50)), DispatchError::BadOrigin);
	});
}

#[test]
fn commit_and_reveal_errors_change_nothing() {
	test(|| {
		online(&WORKERS[..4], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 300);
		let outsider = *WORKERS[..4].iter().find(|w| !ws.contains(w)).unwrap();
		let signed = RuntimeOrigin::signed;
		assert_noop!(Tasks::commit_result(signed(ws[0]), 99, vec![], [0; 32]), Error::<Test>::UnknownTask);
		assert_noop!(Tasks::commit_result(signed(outsider), task, vec![], [0; 32]), Error::<Test>::NotAssigned);
		assert_noop!(
			Tasks::commit_result(signed(ws[0]), task, vec![0; 4400], [0; 32]),
			Error::<Test>::CiphertextTooLarge
		);
		assert_noop!(Tasks::reveal_result(signed(ws[0]), task, [0; 32]), Error::<Test>::NotRevealPhase);
		let r = image(1, 1);
		let k0 = commit(task, ws[0], &r);
		assert_noop!(Tasks::commit_result(signed(ws[0]), task, vec![1], [1; 32]), Error::<Test>::AlreadyCommitted);
		let _ = commit(task, ws[1], &r);
		let TaskStatus::Committing { deadline, .. } = status(task) else { panic!() };
		run_to(deadline);
		assert_noop!(Tasks::commit_result(signed(ws[2]), task, vec![1], [2; 32]), Error::<Test>::NotCommitPhase);
		assert_noop!(Tasks::reveal_result(signed(ws[2]), task, [0; 32]), Error::<Test>::NotCommitted);
		assert_noop!(Tasks::reveal_result(signed(outsider), task, [0; 32]), Error::<Test>::NotAssigned);
		reveal(task, ws[0], k0);
		assert_noop!(Tasks::reveal_result(signed(ws[0]), task, k0), Error::<Test>::AlreadyRevealed);
	});
}

#[test]
fn model_registry_is_governance_only_and_validated() {
	test(|| {
		assert_noop!(Tasks::register_model(RuntimeOrigin::signed(1), image_model()), DispatchError::BadOrigin);
		for bad in [
			ModelInfo { name: Default::default(), ..image_model() },
			ModelInfo { vram_mib: 0, ..image_model() },
			ModelInfo { tolerances: Default::default(), ..image_model() },
			ModelInfo { max_images: 5, ..image_model() },
			ModelInfo { max_steps: 0, ..image_model() },
			ModelInfo { max_tokens: 0, ..text_model() },
		] {
			assert_noop!(Tasks::register_model(RuntimeOrigin::root(), bad), Error::<Test>::InvalidModel);
		}
		assert_ok!(Tasks::register_model(RuntimeOrigin::root(), text_model()));
		assert!(events().contains(&Event::ModelRegistered { model: 2, kind: ModelKind::Text }));
		assert_noop!(Tasks::retire_model(RuntimeOrigin::signed(1), 2), DispatchError::BadOrigin);
		assert_noop!(Tasks::retire_model(RuntimeOrigin::root(), 9), Error::<Test>::UnknownModel);
		assert_ok!(Tasks::retire_model(RuntimeOrigin::root(), 2));
		assert_noop!(Tasks::retire_model(RuntimeOrigin::root(), 2), Error::<Test>::ModelRetired);
	});
}

#[test]
fn model_tolerances_change_in_place_for_new_tasks_only() {
	test(|| {
		let before = Models::<Test>::get(IMAGE_MODEL).unwrap().tolerances;
		let open = create(image_spec(None, 50));
		let new = Tolerances::of(&[(HashAlg::Perceptual, 0), (HashAlg::Average, 1)]);
		assert_noop!(Tasks::set_model_tolerances(RuntimeOrigin::signed(1), IMAGE_MODEL, new), DispatchError::BadOrigin);
		for bad in [Tolerances::default(), Tolerances::of(&[(HashAlg::Average, 65)])] {
			assert_noop!(Tasks::set_model_tolerances(RuntimeOrigin::root(), IMAGE_MODEL, bad), Error::<Test>::InvalidTolerances);
		}
		assert_noop!(Tasks::set_model_tolerances(RuntimeOrigin::root(), 9, new), Error::<Test>::UnknownModel);
		assert_noop!(Tasks::set_model_tolerances(RuntimeOrigin::root(), TEXT_MODEL, new), Error::<Test>::ModelKindMismatch);

		assert_ok!(Tasks::set_model_tolerances(RuntimeOrigin::root(), IMAGE_MODEL, new));
		assert!(events().contains(&Event::ModelTolerancesChanged { model: IMAGE_MODEL, tolerances: new }));
		assert_eq!(Models::<Test>::get(IMAGE_MODEL).unwrap().tolerances, new);
		// The open task keeps the tolerances it was created with; a new one gets the new ones.
		assert_eq!(TaskStore::<Test>::get(open).unwrap().tolerances, before);
		let later = create(image_spec(None, 50));
		assert_eq!(TaskStore::<Test>::get(later).unwrap().tolerances, new);

		assert_ok!(Tasks::retire_model(RuntimeOrigin::root(), IMAGE_MODEL));
		assert_noop!(Tasks::set_model_tolerances(RuntimeOrigin::root(), IMAGE_MODEL, before), Error::<Test>::ModelRetired);
	});
}

#[test]
fn set_params_is_governance_only_and_validated() {
	test(|| {
		let params = Tasks::params();
		assert_noop!(Tasks::set_params(RuntimeOrigin::signed(1), params), DispatchError::BadOrigin);
		assert_noop!(
			Tasks::set_params(RuntimeOrigin::root(), TaskParamsConfig { default_verifiers: 0, ..params }),
			Error::<Test>::InvalidParams
		);
		assert_noop!(
			Tasks::set_params(RuntimeOrigin::root(), TaskParamsConfig { commit_window: 0, ..params }),
			Error::<Test>::InvalidParams
		);
		let new = TaskParamsConfig { default_quorum: Quorum::Supermajority, ..params };
		assert_ok!(Tasks::set_params(RuntimeOrigin::root(), new));
		assert!(events().contains(&Event::ParamsChanged { params: new }));
	});
}

/// Every fee held ends paid, refunded or still held for its open task, to the planck.
#[test]
fn fees_are_paid_refunded_or_held_across_every_ending() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let dapp_before = Balances::total_balance(&DAPP);
		let worth = |w: &AccountId| Balances::total_balance(w) + earnings(*w);
		let workers_before: u64 = WORKERS[..3].iter().map(worth).sum();
		let (paid, ws) = assigned_image_task(3, 300);
		let r = image(1, 1);
		let keys: Vec<_> = ws.iter().map(|w| commit(paid, *w, &r)).collect();
		for (w, k) in ws.iter().zip(keys) {
			reveal(paid, *w, k);
		}
		let cancelled = create(image_spec(None, 70));
		assert_ok!(Tasks::cancel_task(RuntimeOrigin::signed(DAPP), cancelled));
		let _open = create(image_spec(None, 11));
		let workers_after: u64 = WORKERS[..3].iter().map(worth).sum();
		assert_eq!(workers_after - workers_before, 300, "the winners were credited the fee");
		assert_eq!(dapp_before - Balances::total_balance(&DAPP), 300, "the creator paid that fee only");
		assert_eq!(Balances::balance_on_hold(&RuntimeHoldReason::Tasks(HoldReason::TaskFee), &DAPP), 11);
	});
}

#[test]
fn try_state_catches_a_fee_leak() {
	new_test_ext().execute_with(|| {
		let task = create(image_spec(None, 50));
		assert_ok!(Tasks::do_try_state());
		// A fee the task no longer records but the creator still has held (a refund that
		// forgot to release it).
		crate::Tasks::<Test>::mutate(task, |info| info.as_mut().expect("task").fee -= 1);
		assert!(Tasks::do_try_state().is_err());
	});
}

/// A worker held by a task it is no longer in (a settlement that forgot to release it, or a
/// pruned task) would keep it from deregistering for good: `try_state` catches it.
#[test]
fn try_state_catches_a_worker_held_by_a_settled_task() {
	new_test_ext().execute_with(|| {
		online(&WORKERS[..3], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 300);
		let r = image(1, 1);
		let keys: Vec<_> = ws.iter().map(|w| commit(task, *w, &r)).collect();
		for (w, k) in ws.iter().zip(keys) {
			reveal(task, *w, k);
		}
		let prune_at = crate::Tasks::<Test>::get(task).expect("task").agenda_at;
		run_to(prune_at);
		assert!(crate::Tasks::<Test>::get(task).is_none(), "pruned");
		assert_ok!(Tasks::do_try_state());
		assert!(Workers::open_task(&ws[0], task), "listed again after the task is gone");
		assert!(Tasks::do_try_state().is_err());
	});
}


/// Commits and reveals are charged for the task's own workers, not for `MaxVerifiers`: a
/// commit checks each of them for a copy and is charged as a plain commit until it ends the
/// phase; a reveal is charged as a plain reveal until it decides the task, the deciding one as
/// the verdict over them.
#[test]
fn commits_and_reveals_are_charged_for_the_tasks_workers() {
	use crate::WeightInfo;
	use frame_support::{
		dispatch::{GetDispatchInfo, PostDispatchInfo},
		traits::Get,
	};
	type W = ();
	test(|| {
		online(&WORKERS[..5], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 301);
		let result = image(0b1010, 0xff00);
		let keys: Vec<_> = ws
			.iter()
			.map(|w| {
				let key = key_of(task, *w);
				let sealed = seal(&result, task, 0, &worker_bytes(*w), &key);
				let call = crate::Call::<Test>::commit_result {
					task,
					ciphertext: sealed.ciphertext.clone(),
					commitment: sealed.commitment,
				};
				let max = <Test as crate::Config>::MaxVerifiers::get();
				assert_eq!(call.get_dispatch_info().call_weight, <W as WeightInfo>::commit_result_ends_phase(max));
				let post = Tasks::commit_result(RuntimeOrigin::signed(*w), task, sealed.ciphertext, sealed.commitment)
					.expect("commit");
				(key, post.actual_weight)
			})
			.collect();
		// Only the last commit ends the phase (writes the task, moves its agenda entry).
		let charged: Vec<_> = keys.iter().map(|(_, weight)| *weight).collect();
		let plain = Some(<W as WeightInfo>::commit_result(3));
		assert_eq!(charged, [plain, plain, Some(<W as WeightInfo>::commit_result_ends_phase(3))]);
		let keys: Vec<_> = keys.into_iter().map(|(key, _)| key).collect();
		let declared = crate::Call::<Test>::reveal_result { task, key: keys[0] }.get_dispatch_info().call_weight;
		assert_eq!(declared, <W as WeightInfo>::reveal_result_decides(<Test as crate::Config>::MaxVerifiers::get()));
		let mut charged = Vec::new();
		for (w, k) in ws.iter().zip(keys) {
			let post: PostDispatchInfo = Tasks::reveal_result(RuntimeOrigin::signed(*w), task, k).expect("reveal");
			charged.push(post.actual_weight.expect("an actual weight"));
		}
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!(charged[..2], [<W as WeightInfo>::reveal_result(); 2]);
		assert_eq!(charged[2], <W as WeightInfo>::reveal_result_decides(3));
		assert!(charged[2].all_lt(declared), "the verdict over 3 workers costs less than over the most");
	});
}

/// A draw adds the task to the worker's open tasks in pallet-workers and the settlement takes
/// it out: a drawn worker cannot deregister until its task is settled, then it can.
#[test]
fn a_drawn_worker_cannot_deregister_until_its_task_is_settled() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 301);
		assert_noop!(
			Workers::deregister(RuntimeOrigin::signed(ws[0])),
			pallet_workers::Error::<Test>::HasOpenAssignments
		);
		let result = image(0b1010, 0xff00);
		let keys: Vec<_> = ws.iter().map(|w| commit(task, *w, &result)).collect();
		for (w, k) in ws.iter().zip(keys) {
			reveal(task, *w, k);
		}
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_ok!(Workers::deregister(RuntimeOrigin::signed(ws[0])));
	});
}

/// A draw writes no assignment records (the task and the workers' open-task lists only): a
/// worker's record appears with its commit, and its round's settlement deletes it and keeps
/// the outcome in the task, a never-committed worker's as a no-show; pruning then removes
/// the task alone.
#[test]
fn assignment_records_live_from_the_commit_to_the_settlement() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 300);
		for w in &ws {
			assert!(Assignments::<Test>::get(task, w).is_none(), "the draw wrote a record");
			assert!(Workers::open_tasks(w).contains(&task));
			assert_eq!(Tasks::outcome_of(task, w), Some(Outcome::Open));
		}
		let r = image(1, 1);
		let keys: Vec<_> = ws[..2].iter().map(|w| commit(task, *w, &r)).collect();
		assert_eq!(Assignments::<Test>::get(task, ws[0]).expect("committed").round, 0);
		assert!(Assignments::<Test>::get(task, ws[2]).is_none());
		let TaskStatus::Committing { deadline, .. } = status(task) else { panic!("committing") };
		run_to(deadline + 1);
		for (w, k) in ws[..2].iter().zip(keys) {
			reveal(task, *w, k);
		}
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!(Assignments::<Test>::iter_prefix(task).count(), 0, "the settlement deleted the records");
		let info = TaskStore::<Test>::get(task).expect("kept until pruned");
		assert_eq!(info.settled.into_inner(), [Outcome::Won, Outcome::Won, Outcome::NoShow]);
		for w in &ws {
			assert!(!Workers::open_tasks(w).contains(&task), "released");
		}
		assert_eq!(Tasks::outcome_of(task, &ws[2]), Some(Outcome::NoShow));
		assert_eq!(Tasks::outcome_of(task, &WORKERS[5]), None, "never drawn");
		run_to(info.agenda_at);
		assert!(TaskStore::<Test>::get(task).is_none(), "pruned");
	});
}
