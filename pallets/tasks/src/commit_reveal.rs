//! Commit and reveal: sealed results, then keys, of the round being tallied.

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	dispatch::{DispatchResultWithPostInfo, Pays, PostDispatchInfo},
	ensure,
	pallet_prelude::*,
	storage::with_storage_layer,
};
use replica_primitives::{commitment::max_ciphertext_len, open, CannotExecute, Digest, ResultPayload, TaskId};
use sp_runtime::traits::{BlockNumberProvider, One, Saturating};

use crate::*;
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_workers::WorkerRegistry;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_commit(
		worker: T::AccountId,
		task: TaskId,
		ciphertext: Vec<u8>,
		commitment: Digest,
	) -> Result<Weight, DispatchError> {
		let mut info = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
		let TaskStatus::Committing { round, .. } = info.status else {
			return Err(Error::<T>::NotCommitPhase.into());
		};
		let mut assignment = match Assignments::<T>::get(task, &worker) {
			// A record of this round exists only from its commit on.
			Some(a) if a.round == round => return Err(Error::<T>::AlreadyCommitted.into()),
			// Committed in an earlier round still being tallied (a sampled task's executor).
			Some(_) => return Err(Error::<T>::NotAssigned.into()),
			None if Self::is_unsettled(&info, &worker) => Self::uncommitted(&info, Self::drawn_profile(&info, &worker)),
			None => return Err(Error::<T>::NotAssigned.into()),
		};
		ensure!(ciphertext.len() <= max_ciphertext_len(), Error::<T>::CiphertextTooLarge);
		let ciphertext: BoundedVec<u8, T::MaxCiphertextLen> =
			ciphertext.try_into().map_err(|_| Error::<T>::CiphertextTooLarge)?;
		let duplicate = info.workers.iter().filter(|w| **w != worker).any(|w| {
			Assignments::<T>::get(task, w).and_then(|a| a.commitment) == Some(commitment)
		});
		ensure!(!duplicate, Error::<T>::DuplicateCommitment);
		assignment.commitment = Some(commitment);
		assignment.ciphertext = Some(ciphertext);
		Assignments::<T>::insert(task, &worker, assignment);
		Self::deposit_event(Event::ResultCommitted { task, worker });

		let all_committed = Self::round_workers(task, &info, round).all(|(_, a)| a.commitment.is_some());
		// The copy check and this check read one assignment per worker the task has; only the
		// last commit of the round writes the task and moves its agenda entry.
		let workers = (info.workers.len() as u32).max(1);
		if all_committed {
			Self::end_commit_phase(task, &mut info, frame_system::Pallet::<T>::block_number());
			Tasks::<T>::insert(task, info);
			return Ok(T::WeightInfo::commit_result_ends_phase(workers));
		}
		Ok(T::WeightInfo::commit_result(workers))
	}

	/// The profile a drawn worker's record carries: the text task's group, or the one the
	/// worker is registered with.
	pub(crate) fn drawn_profile(info: &TaskOf<T>, who: &T::AccountId) -> replica_primitives::ProfileId {
		info.profile.or_else(|| T::Workers::profile_id(who)).unwrap_or_default()
	}

	/// The record of a worker drawn into the task's current round that has not committed (it
	/// has none in storage yet), with `profile`.
	fn uncommitted(info: &TaskOf<T>, profile: replica_primitives::ProfileId) -> AssignmentOf<T> {
		Assignment {
			round: info.round,
			profile,
			commitment: None,
			ciphertext: None,
			revealed: None,
			reveal_attempted: false,
			outcome: Outcome::Open,
		}
	}

	/// Whether `who` is one of the task's workers whose round is not settled yet.
	pub(crate) fn is_unsettled(info: &TaskOf<T>, who: &T::AccountId) -> bool {
		info.workers.iter().skip(info.settled.len()).any(|w| w == who)
	}

	/// The task's workers of unsettled rounds whose round passes `keep`, with their
	/// assignments (a worker without a record is of the current round and has not committed;
	/// its profile is not looked up). Workers of settled rounds have no record any more.
	fn workers_where<'a>(
		task: TaskId,
		info: &'a TaskOf<T>,
		keep: impl Fn(replica_primitives::Round) -> bool + 'a,
	) -> impl Iterator<Item = (T::AccountId, AssignmentOf<T>)> + 'a {
		info.workers.iter().skip(info.settled.len()).filter_map(move |w| {
			let a = Assignments::<T>::get(task, w)
				.unwrap_or_else(|| Self::uncommitted(info, info.profile.unwrap_or_default()));
			keep(a.round).then(|| (w.clone(), a))
		})
	}

	/// The workers drawn in `round` and their assignments.
	pub(crate) fn round_workers<'a>(
		task: TaskId,
		info: &'a TaskOf<T>,
		round: replica_primitives::Round,
	) -> impl Iterator<Item = (T::AccountId, AssignmentOf<T>)> + 'a {
		Self::workers_where(task, info, move |r| r == round)
	}

	/// The workers whose results the next verdict counts, and their assignments.
	pub(crate) fn tallied<'a>(
		task: TaskId,
		info: &'a TaskOf<T>,
	) -> impl Iterator<Item = (T::AccountId, AssignmentOf<T>)> + 'a {
		let from = info.tally_from;
		Self::workers_where(task, info, move |r| r >= from)
	}

	/// The commit phase is over (everyone committed, or the deadline passed).
	pub(crate) fn end_commit_phase(task: TaskId, info: &mut TaskOf<T>, now: BlockNumberFor<T>) {
		let round = info.round;
		let executor_committed = matches!(info.verification, Verification::Sampled { .. }) &&
			round == 0 && Self::round_workers(task, info, round).any(|(_, a)| a.commitment.is_some());
		let reveals_pending = Self::tallied(task, info).any(|(_, a)| a.commitment.is_some() && !a.reveal_attempted);
		if executor_committed {
			// The roll must use randomness unknown at the commit.
			info.status = TaskStatus::Sampling { committed_by: now };
			info.draw_after = T::Clock::current_block_number();
			Self::schedule(task, info, now.saturating_add(One::one()), Deadline::Sample);
		} else if reveals_pending {
			Self::start_reveal(task, info, now);
		} else {
			Self::decide(task, info, now);
		}
	}

	pub(crate) fn start_reveal(task: TaskId, info: &mut TaskOf<T>, now: BlockNumberFor<T>) {
		let deadline = now.saturating_add(Self::params().reveal_window);
		info.status = TaskStatus::Revealing { round: info.round, deadline };
		Self::schedule(task, info, deadline, Deadline::Reveal { round: info.round });
		Self::deposit_event(Event::RevealPhaseStarted { task, round: info.round, deadline });
	}

	pub(crate) fn do_reveal(worker: T::AccountId, task: TaskId, key: [u8; 32]) -> DispatchResultWithPostInfo {
		let mut info = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
		ensure!(matches!(info.status, TaskStatus::Revealing { .. }), Error::<T>::NotRevealPhase);
		let Some(mut assignment) = Assignments::<T>::get(task, &worker) else {
			// A drawn worker has a record from its commit on, until its round is settled.
			let drawn = Self::is_unsettled(&info, &worker);
			return Err(if drawn { Error::<T>::NotCommitted } else { Error::<T>::NotAssigned }.into());
		};
		// Earlier rounds were settled when they ended without quorum.
		ensure!(assignment.round >= info.tally_from, Error::<T>::NotAssigned);
		let Some(commitment) = assignment.commitment else {
			return Err(Error::<T>::NotCommitted.into());
		};
		ensure!(!assignment.reveal_attempted, Error::<T>::AlreadyRevealed);
		// Kept from the commit until the (single) reveal.
		let ciphertext = assignment.ciphertext.take().unwrap_or_default();
		assignment.reveal_attempted = true;
		let worker_bytes = Self::worker_bytes(&worker);
		match open(&ciphertext, &key, &commitment, task, assignment.round, &worker_bytes) {
			Ok(payload) if Self::fits_task(&info, &payload) => {
				assignment.revealed = Some(payload);
				Self::deposit_event(Event::ResultRevealed { task, worker: worker.clone() });
			},
			_ => {
				assignment.outcome = Outcome::BadReveal;
				Self::deposit_event(Event::BadReveal { task, worker: worker.clone() });
			},
		}
		Assignments::<T>::insert(task, &worker, assignment);

		let done = Self::tallied(task, &info).all(|(_, a)| a.commitment.is_none() || a.reveal_attempted);
		if done {
			// The verdict touches one assignment, record and account per worker the task has.
			let workers = (info.workers.len() as u32).max(1);
			Self::decide(task, &mut info, frame_system::Pallet::<T>::block_number());
			Tasks::<T>::insert(task, info);
			let actual_weight = T::WeightInfo::reveal_result_decides(workers);
			return Ok(PostDispatchInfo { actual_weight: Some(actual_weight), pays_fee: Pays::Yes });
		}
		Ok(PostDispatchInfo { actual_weight: Some(T::WeightInfo::reveal_result()), pays_fee: Pays::Yes })
	}

	/// Runs `item` on each of a batch's items in its own storage transaction: a failed item
	/// is rolled back and reported by `BatchItemFailed`, the others stand. Returns the weight
	/// the items report using, failed or not.
	pub(crate) fn for_each_item<I>(
		items: Vec<I>,
		mut item: impl FnMut(I) -> Result<Weight, (DispatchError, Weight)>,
	) -> Weight {
		let mut used = Weight::zero();
		for (index, it) in items.into_iter().enumerate() {
			let outcome = with_storage_layer(|| item(it).map_err(|(error, weight)| {
				used.saturating_accrue(weight);
				error
			}));
			match outcome {
				Ok(weight) => used.saturating_accrue(weight),
				Err(error) => Self::deposit_event(Event::BatchItemFailed { index: index as u32, error }),
			}
		}
		used
	}

	/// The 32 bytes of an account id, as the commitment context uses them.
	pub(crate) fn worker_bytes(who: &T::AccountId) -> [u8; 32] {
		let encoded = who.encode();
		let mut out = [0u8; 32];
		let n = encoded.len().min(32);
		out[..n].copy_from_slice(&encoded[..n]);
		out
	}

	/// Whether a payload is a result of this task: the right kind, image count and hashes.
	fn fits_task(info: &TaskOf<T>, payload: &ResultPayload) -> bool {
		match (&info.params, payload) {
			(TaskParams::Image(p), ResultPayload::Image(images)) =>
				images.len() as u32 == p.count &&
					images.iter().all(|i| info.tolerances.algs.iter().all(|alg| i.hashes.get(alg).is_some())),
			(TaskParams::Text(_), ResultPayload::Text(_)) => true,
			(TaskParams::Text(_), ResultPayload::CannotExecute(CannotExecute::ContextExceeded)) => true,
			_ => false,
		}
	}
}
