//! Verdicts and money: tally the round, pay the winners, slash the faults, escalate or fail
//! with a refund. Winners are paid by one transfer of the fee into pallet-workers' earnings
//! pot and a credit in each winner's record, which the settlement writes anyway; they claim
//! it there.

use alloc::vec::Vec;
use frame_support::traits::{
	fungible::MutateHold,
	tokens::{Fortitude, Precision, Restriction},
};
use pallet_workers::{Report, WorkerRegistry};
use replica_primitives::{tally, ResultPayload, SlashReason, TaskId, Verdict};
use sp_runtime::traits::{BlockNumberProvider, One, Saturating, Zero};

use crate::*;
use frame_support::pallet_prelude::Get;
use frame_system::pallet_prelude::BlockNumberFor;

/// How the workers of a tally are judged.
enum Judgement<'a, AccountId, Balance> {
	/// The task was decided: `winners` are credited `earned` (in the same order), revealers
	/// outside them are outliers.
	Decided { winners: &'a [AccountId], earned: &'a [Balance] },
	/// No quorum: revealers are unpaid, not slashed.
	NoQuorum,
	/// The task was aborted before its reveal phase (no checkers): nobody is at fault.
	Aborted,
}

impl<T: Config> Pallet<T> {
	/// Decides a task whose reveal phase is over: finalize, or escalate to a fresh round, or
	/// fail with a refund when no round is left.
	pub(crate) fn decide(task: TaskId, info: &mut TaskOf<T>, now: BlockNumberFor<T>) {
		let value = info.fee;
		let tallied: Vec<(T::AccountId, AssignmentOf<T>)> = Self::tallied(task, info).collect();
		let assigned = tallied.len() as u32;
		let revealed: Vec<(T::AccountId, ResultPayload)> =
			tallied.into_iter().filter_map(|(w, a)| a.revealed.map(|p| (w, p))).collect();
		let results: Vec<ResultPayload> = revealed.iter().map(|(_, p)| p.clone()).collect();
		match tally(&results, &info.tolerances, info.quorum, assigned) {
			Verdict::Agreed { reference, .. } if matches!(results[reference as usize], ResultPayload::CannotExecute(_)) => {
				// Honest workers agree the task cannot run: a refund, and no fault in revealing.
				Self::fail(task, info, FailReason::Unrunnable);
			},
			Verdict::Agreed { reference, winners, .. } => {
				let winners: Vec<T::AccountId> =
					winners.iter().map(|i| revealed[*i as usize].0.clone()).collect();
				let result = results[reference as usize].clone();
				let (share, earned) = Self::pay(info, &winners);
				Self::settle(task, info, Judgement::Decided { winners: &winners, earned: &earned }, value);
				info.result = Some(result.clone());
				info.status = TaskStatus::Finalized;
				Self::finish(task, info);
				Self::deposit_event(Event::TaskFinalized { task, result, winners, share });
			},
			Verdict::NoQuorum { .. } => {
				let room = T::MaxVerifiers::get().saturating_sub(info.workers.len() as u32);
				if room == 0 {
					Self::fail(task, info, FailReason::NoQuorum);
					return;
				}
				Self::settle(task, info, Judgement::NoQuorum, value);
				// A fresh round, tallied on its own, drawn in a later block with randomness
				// unknown now (the last revealer chose this block, not that randomness).
				info.round = info.round.saturating_add(1);
				info.round_size = assigned.max(1).saturating_add(Self::params().escalation_step).min(room);
				info.tally_from = info.round;
				info.draw_after = T::Clock::current_block_number();
				if matches!(info.params, TaskParams::Text(_)) {
					info.profile = None;
				}
				info.status =
					TaskStatus::Pending { timeout_at: now.saturating_add(Self::params().assignment_timeout) };
				Self::schedule(task, info, now.saturating_add(One::one()), Deadline::Assign);
				Self::deposit_event(Event::TaskEscalated { task, round: info.round, verifiers: info.round_size });
			},
		}
	}

	/// Ends a task that cannot go on, refunding its fee: workers of the open tally are settled
	/// as for no quorum (`NoQuorum`) or released without fault (no workers, no checkers).
	pub(crate) fn fail(task: TaskId, info: &mut TaskOf<T>, reason: FailReason) {
		let judgement = match reason {
			FailReason::NoQuorum | FailReason::Unrunnable => Judgement::NoQuorum,
			FailReason::NoWorkers | FailReason::NoCheckers => Judgement::Aborted,
		};
		let value = info.fee;
		Self::refund(info);
		Self::settle(task, info, judgement, value);
		info.status = TaskStatus::Failed { reason };
		Self::finish(task, info);
		Self::deposit_event(Event::TaskFailed { task, reason });
	}

	/// Moves the held fee into the earnings pot in one transfer and splits it among `winners`
	/// (equal shares, the remainder to the first): returns the equal share and what each
	/// winner is to be credited, in `winners` order. Should the transfer fail, the fee goes
	/// back to the creator and nobody is credited.
	fn pay(info: &mut TaskOf<T>, winners: &[T::AccountId]) -> (BalanceOf<T>, Vec<BalanceOf<T>>) {
		let n: BalanceOf<T> = (winners.len() as u32).into();
		let mut earned = alloc::vec![Zero::zero(); winners.len()];
		if n.is_zero() || info.fee.is_zero() {
			return (Zero::zero(), earned);
		}
		let moved = T::Currency::transfer_on_hold(
			&HoldReason::TaskFee.into(),
			&info.creator,
			&T::Workers::earnings_pot(),
			info.fee,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		);
		if moved.is_err() {
			frame_support::defensive!("paying the fee into the earnings pot failed; it is refunded");
			Self::refund(info);
			return (Zero::zero(), earned);
		}
		let share = info.fee / n;
		let remainder = info.fee.saturating_sub(share.saturating_mul(n));
		for (i, credit) in earned.iter_mut().enumerate() {
			*credit = if i == 0 { share.saturating_add(remainder) } else { share };
		}
		info.fee = Zero::zero();
		(share, earned)
	}

	/// Releases what is still held for the task back to its creator.
	pub(crate) fn refund(info: &mut TaskOf<T>) {
		if info.fee.is_zero() {
			return;
		}
		let released =
			T::Currency::release(&HoldReason::TaskFee.into(), &info.creator, info.fee, Precision::BestEffort)
				.unwrap_or_default();
		if released != info.fee {
			frame_support::defensive!("task fee hold smaller than recorded");
		}
		info.fee = Zero::zero();
	}

	/// Settles every worker of the open tally: slashes faults, releases it from its open tasks
	/// with its reputation report, records its outcome in `info.settled` and deletes its
	/// assignment record (the caller stores `info`). `value` is the task's fee: wrong, withheld
	/// and bad results lose at least `fee_slash_multiple` times it.
	fn settle(
		task: TaskId,
		info: &mut TaskOf<T>,
		judgement: Judgement<'_, T::AccountId, BalanceOf<T>>,
		value: BalanceOf<T>,
	) {
		let params = Self::params();
		let at_least = value.saturating_mul(params.fee_slash_multiple.into());
		// Earlier rounds were settled when they ended.
		let tallied: Vec<(T::AccountId, AssignmentOf<T>)> = Self::tallied(task, info).collect();
		for (who, a) in tallied {
			let who = &who;
			let (outcome, report) = if matches!(judgement, Judgement::Aborted) {
				// Ended before any reveal phase, for want of workers: nobody is at fault.
				(Outcome::Unpaid, Report::Neutral)
			} else if a.outcome == Outcome::BadReveal {
				T::Workers::slash(who, params.bad_reveal_slash, at_least, SlashReason::BadReveal, task);
				(Outcome::BadReveal, Report::Fault)
			} else if a.commitment.is_none() {
				T::Workers::slash(who, params.no_show_slash, Zero::zero(), SlashReason::NoShow, task);
				(Outcome::NoShow, Report::Missed)
			} else if a.revealed.is_none() {
				// Silence must never be cheaper than a wrong answer.
				T::Workers::slash(who, params.withhold_slash, at_least, SlashReason::Withheld, task);
				(Outcome::Withheld, Report::Fault)
			} else {
				let place = match &judgement {
					Judgement::Decided { winners, .. } => winners.iter().position(|w| w == who),
					_ => None,
				};
				match (&judgement, place) {
					(Judgement::Decided { earned, .. }, Some(i)) =>
						(Outcome::Won, Report::Success { earned: earned.get(i).copied().unwrap_or_default() }),
					(Judgement::Decided { .. }, None) => {
						T::Workers::slash(who, params.outlier_slash, at_least, SlashReason::Outlier, task);
						(Outcome::Outlier, Report::Fault)
					},
					_ => (Outcome::Unpaid, Report::Neutral),
				}
			};
			if info.settled.try_push(outcome).is_err() {
				frame_support::defensive!("more settled outcomes than workers");
			}
			// A record exists from the commit on; a no-show never had one.
			if a.commitment.is_some() {
				Assignments::<T>::remove(task, who);
			}
			// Out of its open tasks, with its reputation, in one write of its record.
			T::Workers::close_task(who, task, report);
		}
	}

	/// Schedules a finished task's pruning. The caller stores it.
	pub(crate) fn finish(task: TaskId, info: &mut TaskOf<T>) {
		let at = frame_system::Pallet::<T>::block_number().saturating_add(Self::params().retention);
		Self::schedule(task, info, at, Deadline::Prune);
	}

	/// How `who`'s part in `task` stands: its outcome once its round is settled, before that
	/// `Open` (or `BadReveal` from a reveal that did not open). `None` when it was never drawn
	/// into the task, or the task is pruned.
	pub fn outcome_of(task: TaskId, who: &T::AccountId) -> Option<Outcome> {
		let info = Tasks::<T>::get(task)?;
		let index = info.workers.iter().position(|w| w == who)?;
		if let Some(outcome) = info.settled.get(index) {
			return Some(*outcome);
		}
		Some(Assignments::<T>::get(task, who).map_or(Outcome::Open, |a| a.outcome))
	}

	/// The open tasks of a worker (runtime API).
	pub fn open_assignments(worker: &T::AccountId) -> Vec<TaskId> {
		T::Workers::open_tasks(worker)
	}
}
