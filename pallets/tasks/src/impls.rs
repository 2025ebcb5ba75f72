//! The task lifecycle: creation checks, assignment, commit, reveal, verdict, settlement,
//! deadlines, and the invariants.

use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use codec::Encode;
use frame_support::{
	dispatch::{DispatchResult, DispatchResultWithPostInfo, Pays, PostDispatchInfo},
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{InspectHold, MutateHold},
		tokens::{Fortitude, Precision, Restriction},
		Randomness,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_workers::WorkerRegistry;
use replica_primitives::{
	commitment::max_ciphertext_len, open, sample_distinct, tally, Digest, ProfileId, Quorum,
	ResultPayload, Round, SlashReason, TaskId, Verdict, MAX_IMAGES,
};
use sp_runtime::{
	traits::{Saturating, Zero},
	PerThing, Perbill,
};

use crate::*;

/// Beam search widths that are verifiable.
const MAX_BEAM_WIDTH: u8 = 10;
/// How many blocks ahead a deadline may roll before scheduling gives up.
const MAX_ROLL: u32 = 64;

impl<T: Config> Pallet<T> {
	/// The parameters in force.
	pub fn params() -> ParamsOf<T> {
		Params::<T>::get().unwrap_or_else(Self::default_params)
	}

	/// Parameters used when genesis sets none.
	pub fn default_params() -> ParamsOf<T> {
		TaskParamsConfig {
			default_verifiers: 3,
			default_quorum: Quorum::Majority,
			commit_window: 20u32.into(),
			reveal_window: 20u32.into(),
			escalation_step: 2,
			sampled_verifiers: 2,
			outlier_slash: Perbill::from_percent(10),
			no_show_slash: Perbill::from_percent(1),
			bad_reveal_slash: Perbill::from_percent(10),
			assignment_timeout: 50u32.into(),
			retention: 100u32.into(),
			sampled_min_probability: Perbill::from_percent(5),
		}
	}

	/// Whether `params` are in range.
	pub fn params_are_valid(p: &ParamsOf<T>) -> bool {
		let max = T::MaxVerifiers::get();
		(1..=max).contains(&p.default_verifiers) &&
			(1..=max).contains(&p.escalation_step) &&
			(1..max).contains(&p.sampled_verifiers.max(1)) &&
			!p.commit_window.is_zero() &&
			!p.reveal_window.is_zero() &&
			!p.assignment_timeout.is_zero() &&
			!p.retention.is_zero() &&
			!p.sampled_min_probability.is_zero()
	}

	pub(crate) fn model_is_valid(info: &ModelInfo<BalanceOf<T>>) -> bool {
		let common = !info.name.is_empty() && info.vram_mib > 0;
		common &&
			match info.kind {
				ModelKind::Image =>
					!info.tolerances.algs.is_empty() &&
						info.tolerances.algs.is_valid() &&
						info.max_steps > 0 && info.max_side >= 8 &&
						(1..=MAX_IMAGES).contains(&info.max_images),
				ModelKind::Text => info.max_tokens > 0,
			}
	}

	/// Validates a spec against its model and holds the fee; the task waits for assignment.
	pub(crate) fn do_create_task(
		creator: T::AccountId,
		spec: TaskSpec<BalanceOf<T>>,
	) -> Result<TaskId, DispatchError> {
		let model = Models::<T>::get(spec.model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(!model.retired, Error::<T>::ModelRetired);
		Self::check_params(&model, &spec.params)?;
		let params = Self::params();
		let verification = spec
			.verification
			.unwrap_or(Verification::Replicated { verifiers: params.default_verifiers });
		match verification {
			Verification::Replicated { verifiers } => ensure!(
				(1..=T::MaxVerifiers::get()).contains(&verifiers),
				Error::<T>::InvalidVerifiers
			),
			Verification::Sampled { probability } => ensure!(
				probability >= params.sampled_min_probability,
				Error::<T>::ProbabilityTooLow
			),
		}
		ensure!(spec.fee >= model.min_fee, Error::<T>::FeeTooLow);
		T::Currency::hold(&HoldReason::TaskFee.into(), &creator, spec.fee)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		let task = NextTaskId::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();
		Self::schedule(now.saturating_add(1u32.into()), task, Deadline::Assign)?;
		NextTaskId::<T>::put(task.saturating_add(1));
		FeeLedger::<T>::mutate(|l| l.held = l.held.saturating_add(spec.fee));
		Tasks::<T>::insert(
			task,
			TaskInfo {
				creator: creator.clone(),
				model: spec.model,
				params: spec.params,
				verification,
				quorum: spec.quorum.unwrap_or(params.default_quorum),
				fee: spec.fee,
				tolerances: model.tolerances,
				vram_mib: model.vram_mib,
				status: TaskStatus::Pending { timeout_at: now.saturating_add(params.assignment_timeout) },
				round: 0,
				workers: Default::default(),
				profile: None,
				created_at: now,
				result: None,
			},
		);
		Self::deposit_event(Event::TaskCreated { task, creator, model: spec.model, fee: spec.fee });
		Ok(task)
	}

	fn check_params(model: &ModelInfo<BalanceOf<T>>, params: &TaskParams) -> DispatchResult {
		match (model.kind, params) {
			(ModelKind::Image, TaskParams::Image(p)) => {
				ensure!(!p.prompt.is_empty(), Error::<T>::EmptyPrompt);
				ensure!((1..=model.max_steps).contains(&p.steps), Error::<T>::InvalidSteps);
				let side_ok = |s: u32| s >= 8 && s % 8 == 0 && s <= model.max_side;
				ensure!(side_ok(p.width) && side_ok(p.height), Error::<T>::InvalidSize);
				ensure!((1..=model.max_images).contains(&p.count), Error::<T>::InvalidImageCount);
			},
			(ModelKind::Text, TaskParams::Text(p)) => {
				ensure!(!p.prompt.is_empty(), Error::<T>::EmptyPrompt);
				ensure!((1..=model.max_tokens).contains(&p.max_tokens), Error::<T>::InvalidMaxTokens);
				match p.decoding {
					Decoding::Greedy => {},
					Decoding::Beam { width } =>
						ensure!((1..=MAX_BEAM_WIDTH).contains(&width), Error::<T>::InvalidBeamWidth),
					Decoding::Sampling => return Err(Error::<T>::SamplingNotVerifiable.into()),
				}
			},
			_ => return Err(Error::<T>::ModelKindMismatch.into()),
		}
		Ok(())
	}

	/// Adds a deadline at `at`, or the first later block with room.
	pub(crate) fn schedule(at: BlockNumberFor<T>, task: TaskId, deadline: Deadline) -> Result<(), Error<T>> {
		let mut block = at;
		for _ in 0..MAX_ROLL {
			if Deadlines::<T>::mutate(block, |list| list.try_push((task, deadline)).is_ok()) {
				return Ok(());
			}
			block = block.saturating_add(1u32.into());
		}
		Err(Error::<T>::ScheduleFull)
	}

	/// Schedules from a hook, where failing is not an option: logs defensively.
	fn schedule_or_log(at: BlockNumberFor<T>, task: TaskId, deadline: Deadline) {
		if Self::schedule(at, task, deadline).is_err() {
			frame_support::defensive!("deadline schedule full for 64 blocks");
		}
	}

	/// One due deadline; stale ones (the task moved on) are ignored.
	pub(crate) fn process_deadline(now: BlockNumberFor<T>, task: TaskId, deadline: Deadline) -> Weight {
		let Some(mut info) = Tasks::<T>::get(task) else { return T::WeightInfo::deadline_stale() };
		match (deadline, info.status) {
			(Deadline::Assign, TaskStatus::Pending { timeout_at }) => {
				let count = match info.verification {
					Verification::Replicated { verifiers } => verifiers,
					Verification::Sampled { .. } => 1,
				};
				if Self::assign(task, &mut info, count, now) {
					Tasks::<T>::insert(task, info);
				} else if now >= timeout_at {
					Self::refund(&mut info);
					info.status = TaskStatus::Failed { reason: FailReason::NoWorkers };
					Self::finish(task, info);
					Self::deposit_event(Event::TaskFailed { task, reason: FailReason::NoWorkers });
				} else {
					Self::schedule_or_log(now.saturating_add(1u32.into()), task, Deadline::Assign);
				}
				T::WeightInfo::deadline_assign(T::MaxVerifiers::get())
			},
			(Deadline::Commit { round }, TaskStatus::Committing { round: r, .. }) if r == round => {
				Self::end_commit_phase(task, info, now);
				T::WeightInfo::deadline_verdict(T::MaxVerifiers::get())
			},
			(Deadline::Sample, TaskStatus::Sampling { .. }) => {
				Self::draw_sample(task, info, now);
				T::WeightInfo::deadline_assign(T::MaxVerifiers::get())
			},
			(Deadline::Reveal { round }, TaskStatus::Revealing { round: r, .. }) if r == round => {
				Self::decide(task, info, now);
				T::WeightInfo::deadline_verdict(T::MaxVerifiers::get())
			},
			(Deadline::Prune, TaskStatus::Finalized | TaskStatus::Failed { .. } | TaskStatus::Cancelled) => {
				let _ = Assignments::<T>::clear_prefix(task, T::MaxVerifiers::get(), None);
				Tasks::<T>::remove(task);
				Self::deposit_event(Event::TaskPruned { task });
				T::WeightInfo::deadline_prune(T::MaxVerifiers::get())
			},
			_ => T::WeightInfo::deadline_stale(),
		}
	}

	/// The seed of a draw, bound to the task, its round and the purpose, from randomness that
	/// nobody could know at block `unknown_at`; `None` while there is no such randomness yet.
	fn fresh_seed(purpose: &[u8], task: TaskId, round: Round, unknown_at: BlockNumberFor<T>) -> Option<[u8; 32]> {
		let subject = (b"replica/tasks", purpose, task, round).encode();
		let (random, known_since) = T::Randomness::random(&subject);
		(known_since > unknown_at).then(|| sp_io::hashing::blake2_256(&(subject, random).encode()))
	}

	/// Draws `count` new workers for `info.round` (at most the room left under MaxVerifiers;
	/// at least one). Returns whether any worker was drawn.
	fn assign(task: TaskId, info: &mut TaskOf<T>, count: u32, now: BlockNumberFor<T>) -> bool {
		let room = T::MaxVerifiers::get().saturating_sub(info.workers.len() as u32);
		let count = count.min(room);
		if count == 0 {
			return false;
		}
		// Randomness its creator could have seen would let a creator pick its own verifiers.
		let Some(seed) = Self::fresh_seed(b"assign", task, info.round, info.created_at) else {
			return false;
		};
		let full = |who: &T::AccountId| {
			WorkerTasks::<T>::decode_len(who).unwrap_or(0) as u32 >= T::MaxOpenTasksPerWorker::get()
		};
		let candidates: Vec<(T::AccountId, ProfileId)> =
			T::Workers::eligible(info.model, info.vram_mib, info.profile)
				.into_iter()
				.filter(|(who, _)| *who != info.creator && !info.workers.contains(who) && !full(who))
				.collect();
		let is_text = matches!(info.params, TaskParams::Text(_));
		let pool: Vec<(T::AccountId, ProfileId)> = if is_text && info.profile.is_none() {
			// Exact match is only sound on identical hardware and software: one profile group.
			let mut groups: BTreeMap<ProfileId, Vec<(T::AccountId, ProfileId)>> = BTreeMap::new();
			for c in candidates {
				groups.entry(c.1).or_default().push(c);
			}
			let big_enough: Vec<Vec<_>> = groups.into_values().filter(|g| g.len() as u32 >= count).collect();
			match sample_distinct(seed, &big_enough, 1).pop() {
				Some(group) => group,
				None => return false,
			}
		} else {
			candidates
		};
		// The first round needs the full count; an escalation takes whoever is there.
		let needed = if info.workers.is_empty() { count } else { 1 };
		if (pool.len() as u32) < needed {
			return false;
		}
		let drawn = sample_distinct(seed, &pool, count as usize);
		let deadline = now.saturating_add(Self::params().commit_window);
		let mut workers = Vec::with_capacity(drawn.len());
		for (who, profile) in drawn {
			if info.workers.try_push(who.clone()).is_err() {
				break;
			}
			if is_text {
				info.profile = Some(profile);
			}
			Assignments::<T>::insert(
				task,
				&who,
				Assignment {
					round: info.round,
					profile,
					commitment: None,
					ciphertext: None,
					revealed: None,
					reveal_attempted: false,
					outcome: Outcome::Open,
				},
			);
			WorkerTasks::<T>::mutate(&who, |open| {
				let _ = open.try_push(task);
			});
			T::Workers::note_assigned(&who);
			workers.push(who);
		}
		info.status = TaskStatus::Committing { round: info.round, deadline };
		Self::schedule_or_log(deadline, task, Deadline::Commit { round: info.round });
		Self::deposit_event(Event::TaskAssigned {
			task,
			round: info.round,
			workers,
			commit_deadline: deadline,
		});
		true
	}

	pub(crate) fn do_commit(
		worker: T::AccountId,
		task: TaskId,
		ciphertext: Vec<u8>,
		commitment: Digest,
	) -> DispatchResult {
		let info = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
		let TaskStatus::Committing { round, .. } = info.status else {
			return Err(Error::<T>::NotCommitPhase.into());
		};
		let mut assignment = Assignments::<T>::get(task, &worker).ok_or(Error::<T>::NotAssigned)?;
		ensure!(assignment.round == round, Error::<T>::NotAssigned);
		ensure!(assignment.commitment.is_none(), Error::<T>::AlreadyCommitted);
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
		if all_committed {
			Self::end_commit_phase(task, info, frame_system::Pallet::<T>::block_number());
		}
		Ok(())
	}

	/// The workers of `round` and their assignments.
	fn round_workers<'a>(
		task: TaskId,
		info: &'a TaskOf<T>,
		round: Round,
	) -> impl Iterator<Item = (T::AccountId, AssignmentOf<T>)> + 'a {
		info.workers.iter().filter_map(move |w| {
			Assignments::<T>::get(task, w).filter(|a| a.round == round).map(|a| (w.clone(), a))
		})
	}

	/// The commit phase is over (everyone committed, or the deadline passed).
	fn end_commit_phase(task: TaskId, mut info: TaskOf<T>, now: BlockNumberFor<T>) {
		let round = info.round;
		let round_committed =
			Self::round_workers(task, &info, round).any(|(_, a)| a.commitment.is_some());
		let sampled_executor_only =
			matches!(info.verification, Verification::Sampled { .. }) && round == 0 && round_committed;
		// Committers of any round (a sampled executor, say) still owed their reveal.
		let reveals_pending = info.workers.iter().any(|w| {
			Assignments::<T>::get(task, w).is_some_and(|a| a.commitment.is_some() && !a.reveal_attempted)
		});
		if sampled_executor_only {
			// The executor committed in this block at the latest.
			info.status = TaskStatus::Sampling { committed_by: now };
			Self::schedule_or_log(now.saturating_add(1u32.into()), task, Deadline::Sample);
			Tasks::<T>::insert(task, info);
		} else if reveals_pending {
			Self::start_reveal(task, info, now);
		} else {
			Self::decide(task, info, now);
		}
	}

	fn start_reveal(task: TaskId, mut info: TaskOf<T>, now: BlockNumberFor<T>) {
		let deadline = now.saturating_add(Self::params().reveal_window);
		info.status = TaskStatus::Revealing { round: info.round, deadline };
		Self::schedule_or_log(deadline, task, Deadline::Reveal { round: info.round });
		Self::deposit_event(Event::RevealPhaseStarted { task, round: info.round, deadline });
		Tasks::<T>::insert(task, info);
	}

	/// Sampled mode: with the task's probability, verifiers join the executor.
	fn draw_sample(task: TaskId, mut info: TaskOf<T>, now: BlockNumberFor<T>) {
		let (Verification::Sampled { probability }, TaskStatus::Sampling { committed_by }) =
			(info.verification, info.status)
		else {
			return;
		};
		// An executor that could foresee the roll would cheat exactly when unchecked: the roll
		// waits for randomness unknown when it committed, and checks when none comes in time.
		let verify = match Self::fresh_seed(b"sample", task, info.round, committed_by) {
			Some(seed) => {
				let roll = u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]]);
				// `roll / 2^32 < p` without floats.
				(roll as u64) * (Perbill::ACCURACY as u64) < (probability.deconstruct() as u64) << 32
			},
			None if now < committed_by.saturating_add(Self::params().reveal_window) => {
				Self::schedule_or_log(now.saturating_add(1u32.into()), task, Deadline::Sample);
				return;
			},
			None => true,
		};
		Self::deposit_event(Event::SamplingDecided { task, verified: verify });
		if verify {
			info.round = info.round.saturating_add(1);
			if Self::assign(task, &mut info, Self::params().sampled_verifiers, now) {
				Tasks::<T>::insert(task, info);
				return;
			}
			// Nobody to check it: the executor's reveal decides alone.
			info.round = info.round.saturating_sub(1);
		}
		Self::start_reveal(task, info, now);
	}

	pub(crate) fn do_reveal(worker: T::AccountId, task: TaskId, key: [u8; 32]) -> DispatchResultWithPostInfo {
		let info = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
		ensure!(matches!(info.status, TaskStatus::Revealing { .. }), Error::<T>::NotRevealPhase);
		let mut assignment = Assignments::<T>::get(task, &worker).ok_or(Error::<T>::NotAssigned)?;
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

		let done = info.workers.iter().all(|w| {
			Assignments::<T>::get(task, w).map_or(true, |a| a.commitment.is_none() || a.reveal_attempted)
		});
		if done {
			Self::decide(task, info, frame_system::Pallet::<T>::block_number());
			return Ok(PostDispatchInfo { actual_weight: None, pays_fee: Pays::Yes });
		}
		Ok(PostDispatchInfo {
			actual_weight: Some(T::WeightInfo::reveal_result()),
			pays_fee: Pays::Yes,
		})
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
			_ => false,
		}
	}

	/// Decides a task whose reveal phase is over: finalize, escalate or fail.
	pub(crate) fn decide(task: TaskId, mut info: TaskOf<T>, now: BlockNumberFor<T>) {
		let mut revealed: Vec<(T::AccountId, ResultPayload)> = Vec::new();
		for w in info.workers.iter() {
			if let Some(payload) = Assignments::<T>::get(task, w).and_then(|a| a.revealed) {
				revealed.push((w.clone(), payload));
			}
		}
		let results: Vec<ResultPayload> = revealed.iter().map(|(_, p)| p.clone()).collect();
		let assigned = info.workers.len() as u32;
		match tally(&results, &info.tolerances, info.quorum, assigned) {
			Verdict::Agreed { reference, winners, .. } => {
				let winners: Vec<T::AccountId> =
					winners.iter().map(|i| revealed[*i as usize].0.clone()).collect();
				let result = results[reference as usize].clone();
				let share = Self::pay(&mut info, &winners);
				Self::settle(task, &info, &winners, true);
				info.result = Some(result.clone());
				info.status = TaskStatus::Finalized;
				Self::finish(task, info);
				Self::deposit_event(Event::TaskFinalized { task, result, winners, share });
			},
			Verdict::NoQuorum { .. } => {
				let step = Self::params().escalation_step;
				info.round = info.round.saturating_add(1);
				if Self::assign(task, &mut info, step, now) {
					let added = info.workers.len() as u32 - assigned;
					Self::deposit_event(Event::TaskEscalated { task, round: info.round, added });
					Tasks::<T>::insert(task, info);
				} else {
					info.round = info.round.saturating_sub(1);
					Self::refund(&mut info);
					Self::settle(task, &info, &[], false);
					info.status = TaskStatus::Failed { reason: FailReason::NoQuorum };
					Self::finish(task, info);
					Self::deposit_event(Event::TaskFailed { task, reason: FailReason::NoQuorum });
				}
			},
		}
	}

	/// Splits the held fee among `winners` (equal shares, the remainder to the first).
	/// Returns the equal share.
	fn pay(info: &mut TaskOf<T>, winners: &[T::AccountId]) -> BalanceOf<T> {
		let n: BalanceOf<T> = (winners.len() as u32).into();
		if n.is_zero() {
			return Zero::zero();
		}
		let share = info.fee / n;
		let remainder = info.fee.saturating_sub(share.saturating_mul(n));
		for (i, winner) in winners.iter().enumerate() {
			let amount = if i == 0 { share.saturating_add(remainder) } else { share };
			if amount.is_zero() {
				continue;
			}
			let moved = T::Currency::transfer_on_hold(
				&HoldReason::TaskFee.into(),
				&info.creator,
				winner,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			);
			match moved {
				Ok(_) => {
					info.fee = info.fee.saturating_sub(amount);
					FeeLedger::<T>::mutate(|l| l.paid = l.paid.saturating_add(amount));
				},
				Err(_) => {
					frame_support::defensive!("paying a winner failed; the rest is refunded");
				},
			}
		}
		// Anything not paid out (a failed transfer) goes back to the creator.
		Self::refund(info);
		share
	}

	/// Releases what is still held for the task back to its creator.
	pub(crate) fn refund(info: &mut TaskOf<T>) {
		if info.fee.is_zero() {
			return;
		}
		let released = T::Currency::release(
			&HoldReason::TaskFee.into(),
			&info.creator,
			info.fee,
			Precision::BestEffort,
		)
		.unwrap_or_default();
		if released != info.fee {
			frame_support::defensive!("task fee hold smaller than recorded");
		}
		FeeLedger::<T>::mutate(|l| l.refunded = l.refunded.saturating_add(info.fee));
		info.fee = Zero::zero();
	}

	/// Records every worker's outcome, slashes faults, reports reputation and releases the
	/// workers. `finalized`: the task was decided (outliers exist); otherwise it failed and
	/// nobody who revealed is slashed.
	fn settle(task: TaskId, info: &TaskOf<T>, winners: &[T::AccountId], finalized: bool) {
		let params = Self::params();
		for who in info.workers.iter() {
			let Some(mut a) = Assignments::<T>::get(task, who) else { continue };
			a.outcome = if a.outcome == Outcome::BadReveal {
				T::Workers::slash(who, params.bad_reveal_slash, SlashReason::BadReveal, task);
				T::Workers::note_fault(who);
				Outcome::BadReveal
			} else if a.revealed.is_none() {
				T::Workers::slash(who, params.no_show_slash, SlashReason::NoShow, task);
				T::Workers::note_missed(who);
				Outcome::NoShow
			} else if winners.contains(who) {
				T::Workers::note_success(who);
				Outcome::Won
			} else if finalized {
				T::Workers::slash(who, params.outlier_slash, SlashReason::Outlier, task);
				T::Workers::note_fault(who);
				Outcome::Outlier
			} else {
				Outcome::Unpaid
			};
			a.ciphertext = None;
			Assignments::<T>::insert(task, who, a);
			T::Workers::note_released(who);
			WorkerTasks::<T>::mutate_exists(who, |open| {
				if let Some(list) = open {
					list.retain(|t| *t != task);
					if list.is_empty() {
						*open = None;
					}
				}
			});
		}
	}

	/// Stores a finished task and schedules its pruning.
	pub(crate) fn finish(task: TaskId, info: TaskOf<T>) {
		let at = frame_system::Pallet::<T>::block_number().saturating_add(Self::params().retention);
		Self::schedule_or_log(at, task, Deadline::Prune);
		Tasks::<T>::insert(task, info);
	}

	/// The open tasks of a worker (runtime API).
	pub fn open_assignments(worker: &T::AccountId) -> Vec<TaskId> {
		WorkerTasks::<T>::get(worker).into_inner()
	}

	/// Invariants: the fee ledger balances (held = paid + refunded + open fees); each creator's
	/// held balance equals the fees of its open tasks; workers of open tasks are indexed as
	/// open; finished tasks hold no fee; deadline lists are within bounds.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let ledger = FeeLedger::<T>::get();
		let mut open_fees = BalanceOf::<T>::zero();
		let mut per_creator: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (task, info) in Tasks::<T>::iter() {
			open_fees = open_fees.saturating_add(info.fee);
			let entry = per_creator.entry(info.creator.clone()).or_default();
			*entry = entry.saturating_add(info.fee);
			let open = matches!(
				info.status,
				TaskStatus::Pending { .. } |
					TaskStatus::Committing { .. } |
					TaskStatus::Sampling { .. } |
					TaskStatus::Revealing { .. }
			);
			if !open {
				ensure!(info.fee.is_zero(), "finished task still holds a fee");
			}
			ensure!(info.workers.len() as u32 <= T::MaxVerifiers::get(), "too many workers");
			for w in info.workers.iter() {
				let a = Assignments::<T>::get(task, w).ok_or("assigned worker without assignment")?;
				let listed = WorkerTasks::<T>::get(w).contains(&task);
				ensure!(listed == open, "worker's open-task index disagrees with the task");
				ensure!(a.round <= info.round, "assignment from a future round");
			}
			if let TaskStatus::Finalized = info.status {
				ensure!(info.result.is_some(), "finalized task without result");
			}
		}
		ensure!(
			ledger.held == ledger.paid.saturating_add(ledger.refunded).saturating_add(open_fees),
			"fee ledger does not balance"
		);
		for (creator, fees) in per_creator {
			let held = T::Currency::balance_on_hold(&HoldReason::TaskFee.into(), &creator);
			ensure!(held == fees, "creator's held balance != fees of its open tasks");
		}
		Ok(())
	}
}
