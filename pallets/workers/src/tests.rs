//! Tests of every call's success and error paths, the registry interface and the invariants.
//! Every test ends with `do_try_state` (see `mock::test`).

use crate::{
	mock::*, Error, Event, HoldReason, ModelWorkers, OfflineReason, Params, Report, WorkerRegistry,
	WorkerStatus, Workers as WorkerStore,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use replica_primitives::SlashReason;
use sp_runtime::{DispatchError, Perbill};

fn register(who: AccountId, models: Vec<u32>, stake: Balance) {
	assert_ok!(Workers::register(RuntimeOrigin::signed(who), profile("RTX 4090", 24_576), models, endpoint(), stake));
}

fn online(who: AccountId, models: Vec<u32>) {
	register(who, models, MIN_STAKE);
	assert_ok!(Workers::go_online(RuntimeOrigin::signed(who)));
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Workers(HoldReason::Stake), &who)
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

fn indexed(model: u32) -> Vec<AccountId> {
	ModelWorkers::<Test>::get(model).into_iter().map(|e| e.who).collect()
}

#[test]
fn register_holds_stake_and_starts_offline() {
	test(|| {
		register(ALICE, vec![1, 2], 150);
		let info = WorkerStore::<Test>::get(ALICE).unwrap();
		assert_eq!(info.stake, 150);
		assert_eq!(info.status, WorkerStatus::Offline);
		assert_eq!(held(ALICE), 150);
		assert_eq!(Balances::balance(&ALICE), 10_000 - 150);
		assert!(indexed(1).is_empty(), "offline workers are not eligible");
		assert_eq!(
			last_event(),
			Event::Registered { worker: ALICE, profile_id: profile("RTX 4090", 24_576).profile_id(), stake: 150 }.into()
		);
	});
}

#[test]
fn register_errors_change_nothing() {
	test(|| {
		let signed = RuntimeOrigin::signed;
		register(ALICE, vec![1], MIN_STAKE);
		assert_noop!(
			Workers::register(signed(ALICE), profile("X", 1), vec![1], endpoint(), MIN_STAKE),
			Error::<Test>::AlreadyRegistered
		);
		assert_noop!(
			Workers::register(signed(BOB), profile("X", 1), vec![1], endpoint(), MIN_STAKE - 1),
			Error::<Test>::StakeTooLow
		);
		assert_noop!(
			Workers::register(signed(POOR), profile("X", 1), vec![1], endpoint(), MIN_STAKE),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Workers::register(signed(BOB), profile("X", 1), vec![1, 2, 3, 4, 5], endpoint(), MIN_STAKE),
			Error::<Test>::TooManyModels
		);
		assert_noop!(
			Workers::register(signed(BOB), profile("X", 1), vec![], endpoint(), MIN_STAKE),
			Error::<Test>::InvalidModels
		);
		assert_noop!(
			Workers::register(signed(BOB), profile("X", 1), vec![3, 3], endpoint(), MIN_STAKE),
			Error::<Test>::InvalidModels
		);
		assert_noop!(
			Workers::register(signed(BOB), profile("", 1), vec![1], endpoint(), MIN_STAKE),
			Error::<Test>::InvalidProfile
		);
		assert_noop!(
			Workers::register(signed(BOB), profile("X", 0), vec![1], endpoint(), MIN_STAKE),
			Error::<Test>::InvalidProfile
		);
		for bad in [&b""[..], b"ftp://x", b"http://", b"http://a b", &[b'h'; 65][..]] {
			assert_noop!(
				Workers::register(signed(BOB), profile("X", 1), vec![1], bad.to_vec(), MIN_STAKE),
				Error::<Test>::InvalidEndpoint
			);
		}
		assert_noop!(
			Workers::register(RuntimeOrigin::none(), profile("X", 1), vec![1], endpoint(), MIN_STAKE),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn go_online_indexes_and_go_offline_unindexes() {
	test(|| {
		register(ALICE, vec![1, 2], MIN_STAKE);
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(ALICE)));
		assert_eq!(last_event(), Event::WentOnline { worker: ALICE }.into());
		assert_eq!(indexed(1), [ALICE]);
		assert_eq!(indexed(2), [ALICE]);
		assert_noop!(Workers::go_online(RuntimeOrigin::signed(ALICE)), Error::<Test>::AlreadyOnline);
		assert_ok!(Workers::go_offline(RuntimeOrigin::signed(ALICE)));
		assert_eq!(last_event(), Event::WentOffline { worker: ALICE, reason: OfflineReason::Requested }.into());
		assert!(indexed(1).is_empty() && indexed(2).is_empty());
		assert!(!ModelWorkers::<Test>::contains_key(1), "empty indexes are removed");
		assert_noop!(Workers::go_offline(RuntimeOrigin::signed(ALICE)), Error::<Test>::AlreadyOffline);
		assert_noop!(Workers::go_online(RuntimeOrigin::signed(BOB)), Error::<Test>::NotRegistered);
		assert_noop!(Workers::go_offline(RuntimeOrigin::signed(BOB)), Error::<Test>::NotRegistered);
	});
}

#[test]
fn full_model_index_refuses_a_worker_without_more_stake() {
	test(|| {
		for who in [ALICE, BOB, CHARLIE] {
			online(who, vec![7]);
		}
		register(DAVE, vec![7], MIN_STAKE);
		assert_noop!(Workers::go_online(RuntimeOrigin::signed(DAVE)), Error::<Test>::ModelIndexFull);
	});
}

/// Attack 6 (index capture), fails at 570b9a3 (`ModelIndexFull`): first-come minimum-stake
/// workers owned a model's index. A better-staked worker takes the lowest one's place.
#[test]
fn attack_a_full_index_admits_a_better_staked_worker_by_evicting_the_lowest() {
	test(|| {
		register(ALICE, vec![7, 8], 300);
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(ALICE)));
		register(BOB, vec![7], MIN_STAKE);
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(BOB)));
		register(CHARLIE, vec![7], 200);
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(CHARLIE)));
		register(DAVE, vec![7], 500);
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(DAVE)));
		assert_eq!(indexed(7), [ALICE, CHARLIE, DAVE]);
		assert_eq!(WorkerStore::<Test>::get(BOB).unwrap().status, WorkerStatus::Offline);
		assert!(System::events().iter().any(|r| r.event
			== Event::WentOffline { worker: BOB, reason: OfflineReason::OutStaked }.into()));
		// The index carries the stake a draw weights by.
		assert_eq!(Workers::eligible(7, 0, None).iter().map(|c| c.weight).collect::<Vec<_>>(), [300, 200, 500]);
	});
}

/// More stake counts only for draws whose randomness is newer than the change.
#[test]
fn bonding_more_restamps_the_index_entry_and_unbonding_does_not() {
	test(|| {
		online(ALICE, vec![1]);
		assert_eq!(ModelWorkers::<Test>::get(1)[0].since, 1);
		System::set_block_number(5);
		assert_ok!(Workers::bond_more(RuntimeOrigin::signed(ALICE), 50));
		let entry = ModelWorkers::<Test>::get(1)[0].clone();
		assert_eq!((entry.stake, entry.since), (MIN_STAKE + 50, 5));
		System::set_block_number(6);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 50));
		let entry = ModelWorkers::<Test>::get(1)[0].clone();
		assert_eq!((entry.stake, entry.since), (MIN_STAKE, 5));
	});
}

#[test]
fn governance_spends_the_slash_pot() {
	test(|| {
		register(ALICE, vec![1], 1_000);
		Workers::slash(&ALICE, Perbill::from_percent(50), 0, SlashReason::Outlier, 1);
		assert_noop!(Workers::spend_slashed(RuntimeOrigin::signed(ALICE), BOB, 100), DispatchError::BadOrigin);
		assert_noop!(Workers::spend_slashed(RuntimeOrigin::root(), BOB, 501), Error::<Test>::SlashPotTooLow);
		let bob = Balances::balance(&BOB);
		assert_ok!(Workers::spend_slashed(RuntimeOrigin::root(), BOB, 500));
		assert_eq!(Balances::balance(&BOB), bob + 500);
		assert_eq!(last_event(), Event::SlashPotSpent { to: BOB, amount: 500 }.into());
	});
}

#[test]
fn go_online_needs_min_stake() {
	test(|| {
		register(ALICE, vec![1], MIN_STAKE);
		assert_ok!(Workers::set_params(
			RuntimeOrigin::root(),
			crate::WorkerParams { min_stake: MIN_STAKE + 1, unbonding_period: UNBONDING, max_missed: MAX_MISSED }
		));
		assert_noop!(Workers::go_online(RuntimeOrigin::signed(ALICE)), Error::<Test>::StakeTooLow);
	});
}

#[test]
fn eligibility_filters_by_model_vram_and_profile() {
	test(|| {
		assert_ok!(Workers::register(RuntimeOrigin::signed(ALICE), profile("H100", 81_920), vec![1], endpoint(), MIN_STAKE));
		assert_ok!(Workers::register(RuntimeOrigin::signed(BOB), profile("RTX 4090", 24_576), vec![1, 2], endpoint(), MIN_STAKE));
		assert_ok!(Workers::register(RuntimeOrigin::signed(CHARLIE), profile("H100", 81_920), vec![1], endpoint(), MIN_STAKE));
		for who in [ALICE, BOB, CHARLIE] {
			assert_ok!(Workers::go_online(RuntimeOrigin::signed(who)));
		}
		let who = |v: Vec<crate::Candidate<AccountId, u64>>| v.into_iter().map(|c| c.who).collect::<Vec<_>>();
		assert_eq!(who(Workers::eligible(1, 0, None)), [ALICE, BOB, CHARLIE]);
		assert_eq!(who(Workers::eligible(1, 40_000, None)), [ALICE, CHARLIE]);
		assert_eq!(who(Workers::eligible(2, 0, None)), [BOB]);
		assert_eq!(who(Workers::eligible(3, 0, None)), Vec::<AccountId>::new());
		let h100 = profile("H100", 81_920).profile_id();
		assert_eq!(who(Workers::eligible(1, 0, Some(h100))), [ALICE, CHARLIE]);
		assert_eq!(Workers::profile_id(&ALICE), Some(h100));
		assert_eq!(Workers::profile_id(&DAVE), None);
	});
}

#[test]
fn update_profile_reindexes_online_workers() {
	test(|| {
		online(ALICE, vec![1, 2]);
		let new = profile("H200", 143_360);
		assert_ok!(Workers::update_profile(RuntimeOrigin::signed(ALICE), new.clone()));
		assert_eq!(last_event(), Event::ProfileUpdated { worker: ALICE, profile_id: new.profile_id() }.into());
		let entry = ModelWorkers::<Test>::get(2)[0].clone();
		assert_eq!((entry.profile_id, entry.vram_mib), (new.profile_id(), 143_360));
		assert_noop!(
			Workers::update_profile(RuntimeOrigin::signed(ALICE), profile("", 1)),
			Error::<Test>::InvalidProfile
		);
		assert_noop!(
			Workers::update_profile(RuntimeOrigin::signed(BOB), profile("H200", 1)),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn update_models_moves_index_entries() {
	test(|| {
		online(ALICE, vec![1, 2]);
		assert_ok!(Workers::update_models(RuntimeOrigin::signed(ALICE), vec![2, 3]));
		assert_eq!(last_event(), Event::ModelsUpdated { worker: ALICE, models: vec![2, 3] }.into());
		assert!(indexed(1).is_empty());
		assert_eq!(indexed(2), [ALICE]);
		assert_eq!(indexed(3), [ALICE]);
		assert_noop!(Workers::update_models(RuntimeOrigin::signed(ALICE), vec![]), Error::<Test>::InvalidModels);
		assert_noop!(
			Workers::update_models(RuntimeOrigin::signed(ALICE), vec![1, 2, 3, 4, 5]),
			Error::<Test>::TooManyModels
		);
		assert_noop!(Workers::update_models(RuntimeOrigin::signed(BOB), vec![1]), Error::<Test>::NotRegistered);
		// A full index rolls the whole call back.
		for who in [BOB, CHARLIE, DAVE] {
			online(who, vec![9]);
		}
		assert_noop!(Workers::update_models(RuntimeOrigin::signed(ALICE), vec![9]), Error::<Test>::ModelIndexFull);
	});
}

#[test]
fn update_endpoint() {
	test(|| {
		register(ALICE, vec![1], MIN_STAKE);
		assert_ok!(Workers::update_endpoint(RuntimeOrigin::signed(ALICE), b"https://gpu.example:443".to_vec()));
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().endpoint.to_vec(), b"https://gpu.example:443".to_vec());
		assert_eq!(last_event(), Event::EndpointUpdated { worker: ALICE }.into());
		assert_noop!(
			Workers::update_endpoint(RuntimeOrigin::signed(ALICE), b"gpu.example".to_vec()),
			Error::<Test>::InvalidEndpoint
		);
		assert_noop!(Workers::update_endpoint(RuntimeOrigin::signed(BOB), endpoint()), Error::<Test>::NotRegistered);
	});
}

#[test]
fn bond_more_and_unbond_and_withdraw() {
	test(|| {
		register(ALICE, vec![1], MIN_STAKE);
		assert_ok!(Workers::bond_more(RuntimeOrigin::signed(ALICE), 50));
		assert_eq!(last_event(), Event::Bonded { worker: ALICE, amount: 50 }.into());
		assert_eq!(held(ALICE), 150);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 30));
		assert_eq!(last_event(), Event::Unbonded { worker: ALICE, amount: 30, unlock_at: 1 + UNBONDING }.into());
		let info = WorkerStore::<Test>::get(ALICE).unwrap();
		assert_eq!((info.stake, info.unbonding.len()), (120, 1));
		assert_eq!(held(ALICE), 150, "unbonding stake stays held");
		assert_noop!(Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)), Error::<Test>::NothingToWithdraw);
		System::set_block_number(1 + UNBONDING);
		let free = Balances::balance(&ALICE);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(last_event(), Event::Withdrawn { worker: ALICE, amount: 30 }.into());
		assert_eq!(held(ALICE), 120);
		assert_eq!(Balances::balance(&ALICE), free + 30);
	});
}

#[test]
fn bond_and_unbond_errors_change_nothing() {
	test(|| {
		online(ALICE, vec![1]);
		let signed = RuntimeOrigin::signed;
		assert_noop!(Workers::bond_more(signed(ALICE), 0), Error::<Test>::ZeroAmount);
		assert_noop!(Workers::bond_more(signed(ALICE), 1_000_000), Error::<Test>::InsufficientBalance);
		assert_noop!(Workers::bond_more(signed(BOB), 1), Error::<Test>::NotRegistered);
		assert_noop!(Workers::unbond(signed(ALICE), 0), Error::<Test>::ZeroAmount);
		assert_noop!(Workers::unbond(signed(ALICE), MIN_STAKE + 1), Error::<Test>::AmountExceedsStake);
		// Online: may not go below the minimum.
		assert_noop!(Workers::unbond(signed(ALICE), 1), Error::<Test>::StakeTooLow);
		assert_noop!(Workers::unbond(signed(BOB), 1), Error::<Test>::NotRegistered);
		assert_noop!(Workers::withdraw_unbonded(signed(BOB)), Error::<Test>::NotRegistered);
	});
}

#[test]
fn assigned_worker_cannot_drop_below_min_stake_or_deregister() {
	test(|| {
		online(ALICE, vec![1]);
		assert_ok!(Workers::bond_more(RuntimeOrigin::signed(ALICE), 50));
		assert!(Workers::open_task(&ALICE, 7));
		assert_ok!(Workers::go_offline(RuntimeOrigin::signed(ALICE)));
		// Above the minimum is fine; below is not while the task is open.
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 50));
		assert_noop!(Workers::unbond(RuntimeOrigin::signed(ALICE), 1), Error::<Test>::HasOpenAssignments);
		assert_noop!(Workers::deregister(RuntimeOrigin::signed(ALICE)), Error::<Test>::HasOpenAssignments);
		Workers::close_task(&ALICE, 7, Report::Neutral);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 1));
	});
}

#[test]
fn unbonding_chunks_are_bounded_and_merge_within_a_block() {
	test(|| {
		register(ALICE, vec![1], 1_000);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 1));
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 1));
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().unbonding.len(), 1, "same block merges");
		for block in 2..=16u64 {
			System::set_block_number(block);
			assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 1));
		}
		System::set_block_number(17);
		assert_noop!(Workers::unbond(RuntimeOrigin::signed(ALICE), 1), Error::<Test>::TooManyUnbondingChunks);
	});
}

#[test]
fn deregister_unbonds_everything_then_withdraw_removes_the_worker() {
	test(|| {
		online(ALICE, vec![1]);
		assert_ok!(Workers::deregister(RuntimeOrigin::signed(ALICE)));
		assert_eq!(last_event(), Event::Deregistered { worker: ALICE }.into());
		let info = WorkerStore::<Test>::get(ALICE).unwrap();
		assert_eq!((info.status, info.stake), (WorkerStatus::Deregistering, 0));
		assert!(indexed(1).is_empty());
		assert_eq!(held(ALICE), MIN_STAKE, "still slashable while unbonding");
		let signed = RuntimeOrigin::signed;
		assert_noop!(Workers::go_online(signed(ALICE)), Error::<Test>::Deregistering);
		assert_noop!(Workers::bond_more(signed(ALICE), 1), Error::<Test>::Deregistering);
		assert_noop!(Workers::unbond(signed(ALICE), 1), Error::<Test>::Deregistering);
		assert_noop!(Workers::deregister(signed(ALICE)), Error::<Test>::Deregistering);
		System::set_block_number(1 + UNBONDING);
		assert_ok!(Workers::withdraw_unbonded(signed(ALICE)));
		assert_eq!(last_event(), Event::Removed { worker: ALICE }.into());
		assert!(WorkerStore::<Test>::get(ALICE).is_none());
		assert_eq!(Balances::balance(&ALICE), 10_000);
		assert_noop!(Workers::deregister(signed(BOB)), Error::<Test>::NotRegistered);
	});
}

#[test]
fn slash_takes_from_active_then_unbonding_and_pays_the_pot() {
	test(|| {
		register(ALICE, vec![1], 1_000);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 800));
		let issuance = Balances::total_issuance();
		let pot = Balances::balance(&POT);
		// 50% of 1_000 at stake: 200 active, then 300 from unbonding.
		let slashed = Workers::slash(&ALICE, Perbill::from_percent(50), 0, SlashReason::Outlier, 7);
		assert_eq!(slashed, 500);
		assert_eq!(
			last_event(),
			Event::Slashed { worker: ALICE, amount: 500, reason: SlashReason::Outlier, task: 7 }.into()
		);
		let info = WorkerStore::<Test>::get(ALICE).unwrap();
		assert_eq!(info.stake, 0);
		assert_eq!(info.unbonding[0].amount, 500);
		assert_eq!(held(ALICE), 500);
		assert_eq!(Balances::balance(&POT), pot + 500);
		assert_eq!(Balances::total_issuance(), issuance, "slashing to the pot creates and burns nothing");
		// Unknown workers are not slashed.
		assert_eq!(Workers::slash(&DAVE, Perbill::one(), 0, SlashReason::NoShow, 7), 0);
		// A floor above the fraction, capped by what is at stake.
		assert_eq!(Workers::slash(&ALICE, Perbill::from_percent(1), 200, SlashReason::Withheld, 7), 200);
		assert_eq!(Workers::slash(&ALICE, Perbill::from_percent(1), 10_000, SlashReason::Withheld, 7), 300);
	});
}

#[test]
fn slash_below_min_stake_sets_the_worker_offline() {
	test(|| {
		online(ALICE, vec![1]);
		Workers::slash(&ALICE, Perbill::from_percent(10), 0, SlashReason::BadReveal, 1);
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().status, WorkerStatus::Offline);
		assert!(System::events().iter().any(|r| r.event
			== Event::WentOffline { worker: ALICE, reason: OfflineReason::StakeBelowMinimum }.into()));
		// The entry is left for the next draw that meets it, which clears it.
		assert_eq!(indexed(1), [ALICE]);
		assert_eq!(Workers::confirm_drawn(1, &ALICE, MIN_STAKE.into()), None);
		assert!(indexed(1).is_empty());
	});
}

/// A slash touches the worker's record only, however many models it serves; the entries it
/// leaves stale are corrected one index at a time by the draws that meet them, and anything
/// the worker does itself clears them.
#[test]
fn a_slash_rewrites_no_index_and_draws_correct_what_it_left() {
	test(|| {
		register(ALICE, vec![1, 2, 3, 4], 300);
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(ALICE)));
		let weight = |model| ModelWorkers::<Test>::get(model)[0].stake;
		Workers::slash(&ALICE, Perbill::from_percent(10), 0, SlashReason::BadReveal, 1);
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().stake, 270);
		assert_eq!([weight(1), weight(2), weight(3), weight(4)], [300; 4], "no index rewritten");
		// A draw in model 2 meets the entry: it learns the true weight and the entry is fixed.
		assert_eq!(Workers::confirm_drawn(2, &ALICE, 300), Some(270));
		assert_eq!([weight(1), weight(2)], [300, 270]);
		assert_eq!(Workers::confirm_drawn(2, &ALICE, 270), Some(270));
		// Below the minimum: offline, entries left behind; going online again after bonding
		// replaces them instead of adding a second entry.
		Workers::slash(&ALICE, Perbill::from_percent(90), 0, SlashReason::BadReveal, 1);
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().status, WorkerStatus::Offline);
		assert_eq!(indexed(3), [ALICE]);
		assert_ok!(Workers::bond_more(RuntimeOrigin::signed(ALICE), 200));
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(ALICE)));
		assert_eq!([indexed(1), indexed(2), indexed(3), indexed(4)], [[ALICE], [ALICE], [ALICE], [ALICE]]);
		assert_eq!(weight(3), WorkerStore::<Test>::get(ALICE).unwrap().stake);
	});
}

/// An evicted worker loses its seat in the index it was evicted from at once; its entries in
/// other indexes go stale (it is offline) and no draw picks it from them.
#[test]
fn an_evicted_worker_is_never_drawn_from_its_other_indexes() {
	test(|| {
		register(BOB, vec![7, 8], MIN_STAKE);
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(BOB)));
		for (who, stake) in [(CHARLIE, 200), (DAVE, 300), (ALICE, 400)] {
			register(who, vec![7], stake);
			assert_ok!(Workers::go_online(RuntimeOrigin::signed(who)));
		}
		assert!(!indexed(7).contains(&BOB));
		assert_eq!(indexed(8), [BOB]);
		assert_eq!(Workers::confirm_drawn(8, &BOB, MIN_STAKE.into()), None);
		assert!(indexed(8).is_empty());
	});
}

/// A task the worker was drawn into ends with `report`.
fn settled(who: AccountId, task: u64, report: Report<Balance>) {
	assert!(Workers::open_task(&who, task), "room for task {task}");
	assert!(Workers::open_tasks(&who).contains(&task));
	Workers::close_task(&who, task, report);
	assert!(!Workers::open_tasks(&who).contains(&task), "released from task {task}");
}

#[test]
fn misses_in_a_row_set_the_worker_offline_and_successes_reset_them() {
	test(|| {
		online(ALICE, vec![1]);
		settled(ALICE, 1, Report::Missed);
		settled(ALICE, 2, Report::Success { earned: 0 });
		settled(ALICE, 3, Report::Missed);
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().status, WorkerStatus::Online);
		settled(ALICE, 4, Report::Missed);
		let info = WorkerStore::<Test>::get(ALICE).unwrap();
		assert_eq!(info.status, WorkerStatus::Offline);
		assert_eq!(info.reputation.misses, 3);
		assert_eq!(info.reputation.successes, 1);
		assert_eq!(
			last_event(),
			Event::WentOffline { worker: ALICE, reason: OfflineReason::MissedAssignments }.into()
		);
		settled(ALICE, 5, Report::Fault);
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().reputation.faults, 1);
		settled(ALICE, 6, Report::Neutral);
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().reputation, crate::Reputation { successes: 1, faults: 1, misses: 3 });
		// Going online again does not forgive the misses: the next one sets it offline.
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(ALICE)));
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().missed_in_row, 2);
		settled(ALICE, 7, Report::Missed);
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().status, WorkerStatus::Offline);
	});
}

/// A worker holds at most `MaxOpenTasks` (4 here) open tasks; releasing one makes room, and
/// an unregistered account takes none.
#[test]
fn open_tasks_are_bounded_and_released() {
	test(|| {
		online(ALICE, vec![1]);
		for task in 0..4 {
			assert!(Workers::has_room(&ALICE));
			assert!(Workers::open_task(&ALICE, task));
		}
		assert!(!Workers::has_room(&ALICE));
		assert!(!Workers::open_task(&ALICE, 9), "full");
		assert_eq!(Workers::open_tasks(&ALICE), [0, 1, 2, 3]);
		Workers::close_task(&ALICE, 1, Report::Success { earned: 0 });
		assert_eq!(Workers::open_tasks(&ALICE), [0, 2, 3]);
		assert!(Workers::has_room(&ALICE));
		assert!(!Workers::has_room(&BOB) && !Workers::open_task(&BOB, 1), "not registered");
		assert!(Workers::open_tasks(&BOB).is_empty());
		for task in [0, 2, 3] {
			Workers::close_task(&ALICE, task, Report::Neutral);
		}
	});
}

#[test]
fn set_params_is_governance_only_and_validated() {
	test(|| {
		let params = crate::WorkerParams { min_stake: 5, unbonding_period: LONGEST_TASK, max_missed: 9 };
		assert_noop!(Workers::set_params(RuntimeOrigin::signed(ALICE), params), DispatchError::BadOrigin);
		for bad in [
			crate::WorkerParams { min_stake: 0, ..params },
			crate::WorkerParams { unbonding_period: 0, ..params },
			// Shorter than the longest task: a slash could be escaped by unbonding.
			crate::WorkerParams { unbonding_period: LONGEST_TASK - 1, ..params },
			crate::WorkerParams { max_missed: 0, ..params },
		] {
			assert_noop!(Workers::set_params(RuntimeOrigin::root(), bad), Error::<Test>::InvalidParams);
		}
		assert_ok!(Workers::set_params(RuntimeOrigin::root(), params));
		assert_eq!(Params::<Test>::get(), Some(params));
		assert_eq!(last_event(), Event::ParamsChanged { params }.into());
	});
}

#[test]
fn no_flow_but_slashing_changes_total_issuance() {
	test(|| {
		let issuance = Balances::total_issuance();
		register(ALICE, vec![1], 300);
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(ALICE)));
		assert_ok!(Workers::bond_more(RuntimeOrigin::signed(ALICE), 100));
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 50));
		System::set_block_number(1 + UNBONDING);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_ok!(Workers::go_offline(RuntimeOrigin::signed(ALICE)));
		assert_ok!(Workers::deregister(RuntimeOrigin::signed(ALICE)));
		System::set_block_number(1 + 2 * UNBONDING);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(Balances::balance(&ALICE), 10_000);
	});
}

#[test]
fn try_state_catches_a_corrupted_index() {
	new_test_ext().execute_with(|| {
		online(ALICE, vec![1]);
		ModelWorkers::<Test>::remove(1);
		assert!(Workers::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_held_stake_drift() {
	new_test_ext().execute_with(|| {
		register(ALICE, vec![1], MIN_STAKE);
		WorkerStore::<Test>::mutate(ALICE, |i| i.as_mut().unwrap().stake += 1);
		assert!(Workers::do_try_state().is_err());
	});
}

/// What the task pallet does for a winner: pays `earned` into the earnings pot, then credits
/// it in the release.
fn won(who: AccountId, task: u64, earned: Balance) {
	use frame_support::traits::{fungible::Mutate, tokens::Preservation};
	assert_ok!(<Balances as Mutate<_>>::transfer(&DAVE, &EARNINGS_POT, earned, Preservation::Preserve));
	settled(who, task, Report::Success { earned });
}

#[test]
fn earnings_are_credited_in_the_release_and_claimed_in_one_transfer() {
	test(|| {
		online(ALICE, vec![1]);
		won(ALICE, 1, 30);
		won(ALICE, 2, 12);
		let info = WorkerStore::<Test>::get(ALICE).unwrap();
		assert_eq!((info.earnings, info.reputation.successes), (42, 2));
		assert_eq!(Balances::balance(&EARNINGS_POT), 1 + 42, "the pot holds them on top of its deposit");
		let free = Balances::balance(&ALICE);
		assert_ok!(Workers::claim_earnings(RuntimeOrigin::signed(ALICE)));
		assert_eq!(last_event(), Event::EarningsClaimed { worker: ALICE, amount: 42 }.into());
		assert_eq!(Balances::balance(&ALICE), free + 42);
		assert_eq!(Balances::balance(&EARNINGS_POT), 1, "the pot keeps its existential deposit");
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().earnings, 0);
	});
}

#[test]
fn claim_errors_change_nothing() {
	test(|| {
		assert_noop!(Workers::claim_earnings(RuntimeOrigin::signed(ALICE)), Error::<Test>::NotRegistered);
		online(ALICE, vec![1]);
		assert_noop!(Workers::claim_earnings(RuntimeOrigin::signed(ALICE)), Error::<Test>::NothingToClaim);
		// Earnings the pot does not hold (a corrupted record) are refused, not minted.
		WorkerStore::<Test>::mutate(ALICE, |i| i.as_mut().unwrap().earnings = 5);
		assert_noop!(Workers::claim_earnings(RuntimeOrigin::signed(ALICE)), Error::<Test>::EarningsPotTooLow);
		WorkerStore::<Test>::mutate(ALICE, |i| i.as_mut().unwrap().earnings = 0);
	});
}

#[test]
fn a_slash_never_touches_earnings() {
	test(|| {
		online(ALICE, vec![1]);
		won(ALICE, 1, 50);
		let slashed = Workers::slash(&ALICE, Perbill::from_percent(100), 0, SlashReason::Outlier, 2);
		assert_eq!(slashed, MIN_STAKE, "all its stake");
		assert_eq!(WorkerStore::<Test>::get(ALICE).unwrap().earnings, 50);
		assert_ok!(Workers::claim_earnings(RuntimeOrigin::signed(ALICE)));
	});
}

#[test]
fn the_last_withdrawal_pays_out_earnings_with_the_record() {
	test(|| {
		let issuance = Balances::total_issuance();
		online(ALICE, vec![1]);
		won(ALICE, 1, 25);
		assert_ok!(Workers::deregister(RuntimeOrigin::signed(ALICE)));
		// Still claimable while deregistering; here it is left for the withdrawal.
		System::set_block_number(1 + UNBONDING);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert!(System::events().iter().any(|r| r.event == Event::EarningsClaimed { worker: ALICE, amount: 25 }.into()));
		assert_eq!(last_event(), Event::Removed { worker: ALICE }.into());
		assert!(WorkerStore::<Test>::get(ALICE).is_none());
		assert_eq!(Balances::balance(&ALICE), 10_000 + 25, "its stake and its earnings");
		assert_eq!(Balances::balance(&EARNINGS_POT), 1);
		assert_eq!(Balances::total_issuance(), issuance, "moved, never minted");
	});
}

#[test]
fn try_state_catches_earnings_the_pot_does_not_hold() {
	new_test_ext().execute_with(|| {
		online(ALICE, vec![1]);
		won(ALICE, 1, 10);
		assert!(Workers::do_try_state().is_ok());
		WorkerStore::<Test>::mutate(ALICE, |i| i.as_mut().unwrap().earnings += 1);
		assert!(Workers::do_try_state().is_err());
	});
}
