//! Attack 4 (withholding is cheaper than being wrong) and the parameter rules of item 9.

use super::*;

/// Stake lost by the third worker of a 3-worker task whose first two agree, when it commits a
/// wrong result and then reveals it (`reveal_wrong`) or stays silent.
fn cost_of_the_minority(reveal_wrong: bool, fee: Balance) -> Balance {
	let (task, w) = assigned_image_task(3, fee);
	let k0 = commit(task, w[0], &image(0, 0));
	let k1 = commit(task, w[1], &image(0, 0));
	let k2 = commit(task, w[2], &image(u64::MAX, u64::MAX));
	reveal(task, w[0], k0);
	reveal(task, w[1], k1);
	let before = held_stake(w[2]);
	if reveal_wrong {
		reveal(task, w[2], k2);
	} else {
		run_to(System::block_number() + REVEAL_WINDOW + 1);
	}
	assert_eq!(status(task), TaskStatus::Finalized);
	before - held_stake(w[2])
}

/// Fails at 570b9a3 (withholding cost 1% of stake, a wrong reveal 10%): a worker that sees it
/// is in the minority gains nothing by staying silent.
#[test]
fn attack_withholding_costs_at_least_as_much_as_a_wrong_result() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		let withheld = cost_of_the_minority(false, 20);
		let wrong = cost_of_the_minority(true, 20);
		assert!(wrong > 0);
		assert!(withheld >= wrong, "withholding cost {withheld}, a wrong reveal {wrong}");
	});
}

/// Fails at 570b9a3 (10% of a 1,000 stake for a 5,000 fee): the slash grows with the task's
/// value, up to the whole stake.
#[test]
fn attack_a_slash_scales_with_the_fee_at_stake() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		assert_eq!(cost_of_the_minority(true, 50), 100, "10% of the stake exceeds the fee");
		assert_eq!(cost_of_the_minority(true, 500), 500, "at least the fee");
		assert_eq!(cost_of_the_minority(false, 5_000), STAKE, "never more than the stake");
	});
}

#[test]
fn params_keep_silence_expensive_checks_possible_and_stake_slashable() {
	test(|| {
		let good = Tasks::params();
		assert!(Tasks::params_are_valid(&good));
		for bad in [
			TaskParamsConfig { sampled_verifiers: 0, ..good },
			TaskParamsConfig { sampled_verifiers: MAX_VERIFIERS, ..good },
			TaskParamsConfig { withhold_slash: Perbill::from_percent(5), ..good },
			TaskParamsConfig { bad_reveal_slash: Perbill::from_percent(5), ..good },
			// Outlives the workers' unbonding period (1,000 blocks).
			TaskParamsConfig { assignment_timeout: 200, ..good },
		] {
			assert_noop!(Tasks::set_params(RuntimeOrigin::root(), bad), Error::<Test>::InvalidParams);
		}
		// And the other way round: the unbonding period may not drop below the longest task.
		let lifetime = Tasks::longest_task_lifetime(&good);
		let workers = pallet_workers::WorkerParams { min_stake: 100, unbonding_period: lifetime - 1, max_missed: 3 };
		assert_noop!(
			Workers::set_params(RuntimeOrigin::root(), workers),
			pallet_workers::Error::<Test>::InvalidParams
		);
	});
}

/// `SamplingDecided { verified: true }` comes only with the checkers' `TaskAssigned`.
#[test]
fn sampling_decided_true_only_when_checkers_were_drawn() {
	test(|| {
		online(&WORKERS[..4], "RTX 4090");
		let task = create(image_spec(Some(Verification::Sampled { probability: Perbill::one() }), 100));
		run_to(2);
		commit(task, workers_of(task)[0], &image(1, 1));
		assert!(!events().contains(&Event::SamplingDecided { task, verified: true }));
		run_to(3);
		assert!(events().contains(&Event::SamplingDecided { task, verified: true }));
		assert_eq!(workers_of(task).len(), 3, "executor and two checkers");
	});
}
