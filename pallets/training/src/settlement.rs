//! Verdicts and money: decide each checked segment by the majority of its drawn verifiers,
//! pay the trainer and the verifiers on the winning side (one transfer of the fee into
//! pallet-workers' earnings pot, credited in their records), slash the faults, refund the
//! rest.

use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use frame_support::traits::{
	fungible::MutateHold,
	tokens::{Fortitude, Precision, Restriction},
};
use pallet_workers::{Report, WorkerRegistry};
use replica_primitives::{
	training::{agrees, segment_verdict, task_id, SegmentVerdict},
	SlashReason,
};
use sp_runtime::traits::{Saturating, Zero};

use crate::*;
use frame_system::pallet_prelude::BlockNumberFor;

/// What one verifier's checks of a task came to.
#[derive(Default)]
struct Tally {
	/// Slots won (on the winning side of a decided segment).
	won: u32,
	faults: u32,
	missed: u32,
}

impl<T: Config> Pallet<T> {
	/// The reveal phase is over: every checked segment gets its verdict, and the task is
	/// finalized (all passed) or failed.
	pub(crate) fn settle(training: TrainingId, info: &mut TrainingOf<T>) {
		let Some(trainer) = info.trainer.clone() else {
			frame_support::defensive!("a task in its reveal phase without a trainer");
			return Self::fail(training, info, FailReason::NoTrainer);
		};
		let params = Self::params();
		let task = task_id(training);
		let value = info.fee;
		let withheld = info.trainer_hashes.is_empty();
		let mut verdicts = Vec::with_capacity(info.sampled.len());
		let mut tallies: BTreeMap<T::AccountId, Tally> = BTreeMap::new();
		for (k, segment) in info.sampled.iter().enumerate() {
			let claimed = info.trainer_hashes.get(k);
			let checks = info.checks.iter().filter(|c| c.segment == *segment);
			let (mut drawn, mut agreeing, mut disagreeing) = (0u32, 0u32, 0u32);
			for check in checks.clone() {
				drawn += 1;
				match (check.state, claimed) {
					(CheckState::Revealed(h), Some(claimed)) if agrees(claimed, &h, info.terms.lsh_tolerance) => agreeing += 1,
					(CheckState::Revealed(_), Some(_)) | (CheckState::Unavailable, Some(_)) => disagreeing += 1,
					_ => {},
				}
			}
			let verdict = if withheld { SegmentVerdict::Undecided } else { segment_verdict(drawn, agreeing, disagreeing) };
			for check in checks {
				let tally = tallies.entry(check.verifier.clone()).or_default();
				match check.state {
					CheckState::Drawn => {
						T::Workers::slash(&check.verifier, params.no_show_slash, Zero::zero(), SlashReason::NoShow, task);
						tally.missed += 1;
					},
					CheckState::Committed(_) => {
						T::Workers::slash(&check.verifier, params.fault_slash, value, SlashReason::Withheld, task);
						tally.faults += 1;
					},
					CheckState::Revealed(_) | CheckState::Unavailable => {
						let with_trainer = match check.state {
							CheckState::Revealed(h) => claimed.is_some_and(|c| agrees(c, &h, info.terms.lsh_tolerance)),
							_ => false,
						};
						match (verdict, with_trainer) {
							(SegmentVerdict::Passed, true) | (SegmentVerdict::Failed, false) => tally.won += 1,
							(SegmentVerdict::Passed, false) | (SegmentVerdict::Failed, true) => {
								T::Workers::slash(&check.verifier, params.fault_slash, value, SlashReason::Outlier, task);
								tally.faults += 1;
							},
							(SegmentVerdict::Undecided, _) => {},
						}
					},
				}
			}
			if !withheld {
				Self::deposit_event(Event::SegmentDecided { training, segment: *segment, verdict });
			}
			verdicts.push(verdict);
		}

		// Verifiers: a slot won is paid unless the same verifier faulted or missed elsewhere
		// in the task.
		let slots: BalanceOf<T> = (info.checks.len() as u32).max(1).into();
		let verifier_pay = (info.terms.verifier_share * value) / slots;
		let mut reports: Vec<(T::AccountId, Report<BalanceOf<T>>)> = Vec::with_capacity(tallies.len());
		let mut verifiers_earned: BalanceOf<T> = Zero::zero();
		for (who, tally) in tallies {
			let report = if tally.faults > 0 {
				Report::Fault
			} else if tally.missed > 0 {
				Report::Missed
			} else if tally.won > 0 {
				let earned = verifier_pay.saturating_mul(tally.won.into());
				verifiers_earned = verifiers_earned.saturating_add(earned);
				Report::Success { earned }
			} else {
				Report::Neutral
			};
			reports.push((who, report));
		}

		let (trainer_report, outcome) = if withheld {
			T::Workers::slash(&trainer, params.fault_slash, value, SlashReason::Withheld, task);
			(Report::Fault, Err(FailReason::TrainerWithheld))
		} else if verdicts.contains(&SegmentVerdict::Failed) {
			T::Workers::slash(&trainer, params.fault_slash, value, SlashReason::Outlier, task);
			(Report::Fault, Err(FailReason::SegmentFailed))
		} else if verdicts.contains(&SegmentVerdict::Undecided) {
			(Report::Neutral, Err(FailReason::Undecided))
		} else {
			(Report::Success { earned: value.saturating_sub(verifiers_earned) }, Ok(()))
		};
		let trainer_earned = match trainer_report {
			Report::Success { earned } => earned,
			_ => Zero::zero(),
		};
		if !Self::pay(info, verifiers_earned.saturating_add(trainer_earned)) {
			// Nothing could be moved: nobody is credited, everything goes back.
			reports.iter_mut().for_each(|(_, r)| {
				if matches!(r, Report::Success { .. }) {
					*r = Report::Neutral
				}
			});
			Self::refund(info);
			Self::close(training, &trainer, Report::Neutral);
		} else {
			Self::refund(info);
			Self::close(training, &trainer, trainer_report);
		}
		for (who, report) in reports {
			Self::close(training, &who, report);
		}
		match outcome {
			Ok(()) => {
				info.status = TrainingStatus::Finalized;
				Self::finish(training, info);
				Self::deposit_event(Event::TrainingFinalized { training, trainer, earned: trainer_earned, verifier_pay });
			},
			Err(reason) => {
				info.status = TrainingStatus::Failed { reason };
				Self::finish(training, info);
				Self::deposit_event(Event::TrainingFailed { training, reason });
			},
		}
	}

	/// The task fails before any verdict: the fee goes back, and every drawn worker's slot is
	/// released (a trainer that never committed is slashed as a no-show).
	pub(crate) fn fail(training: TrainingId, info: &mut TrainingOf<T>, reason: FailReason) {
		Self::refund(info);
		if let Some(trainer) = info.trainer.clone() {
			let report = if reason == FailReason::TrainerMissed {
				let params = Self::params();
				T::Workers::slash(&trainer, params.no_show_slash, Zero::zero(), SlashReason::NoShow, task_id(training));
				Report::Missed
			} else {
				Report::Neutral
			};
			Self::close(training, &trainer, report);
		}
		for who in info.verifiers.clone() {
			Self::close(training, &who, Report::Neutral);
		}
		info.status = TrainingStatus::Failed { reason };
		Self::finish(training, info);
		Self::deposit_event(Event::TrainingFailed { training, reason });
	}

	fn close(training: TrainingId, who: &T::AccountId, report: Report<BalanceOf<T>>) {
		T::Workers::close_task(who, task_id(training), report);
	}

	/// Moves `amount` of the held fee into the earnings pot; `false`, moving nothing, if that
	/// fails.
	fn pay(info: &mut TrainingOf<T>, amount: BalanceOf<T>) -> bool {
		if amount.is_zero() {
			return true;
		}
		let moved = T::Currency::transfer_on_hold(
			&HoldReason::TrainingFee.into(),
			&info.creator,
			&T::Workers::earnings_pot(),
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		);
		if moved.is_err() {
			frame_support::defensive!("paying into the earnings pot failed; the fee is refunded");
			return false;
		}
		info.fee = info.fee.saturating_sub(amount);
		true
	}

	/// Releases what is still held for the task back to its creator.
	fn refund(info: &mut TrainingOf<T>) {
		if info.fee.is_zero() {
			return;
		}
		let released =
			T::Currency::release(&HoldReason::TrainingFee.into(), &info.creator, info.fee, Precision::BestEffort)
				.unwrap_or_default();
		if released != info.fee {
			frame_support::defensive!("training fee hold smaller than recorded");
		}
		info.fee = Zero::zero();
	}

	/// The task is over: pruned after the retention.
	fn finish(training: TrainingId, info: &mut TrainingOf<T>) {
		let now: BlockNumberFor<T> = frame_system::Pallet::<T>::block_number();
		Self::schedule(training, info, now.saturating_add(Self::params().retention));
	}
}
