//! Draws: a round's workers, a sampled task's check roll, escalation rounds. Called only from
//! `on_initialize`, with randomness unknown at the task's `draw_after`, over candidates whose
//! index entries are older than that randomness.

use alloc::{
	collections::{btree_map::BTreeMap, btree_set::BTreeSet},
	vec::Vec,
};
use codec::Encode;
use frame_support::traits::Randomness;
use pallet_workers::{Candidate, WorkerRegistry};
use replica_primitives::{ModelId, ProfileId, Round, TaskId, WeightedOrder};
use sp_runtime::{
	traits::{One, Saturating},
	PerThing, Perbill,
};

use crate::*;
use frame_support::{pallet_prelude::Get, weights::Weight};
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// The seed of a draw, bound to the task, its round and the purpose, from randomness that
	/// nobody could know at `draw_after`; with the `Clock` time since which it may be known.
	/// `None` while there is no such randomness yet.
	fn fresh_seed(
		purpose: &[u8],
		task: TaskId,
		round: Round,
		draw_after: BlockNumberFor<T>,
	) -> Option<([u8; 32], BlockNumberFor<T>)> {
		let subject = (b"replica/tasks", purpose, task, round).encode();
		let (random, known_since) = T::Randomness::random(&subject);
		(known_since > draw_after).then(|| (sp_io::hashing::blake2_256(&(subject, random).encode()), known_since))
	}

	/// Why a task whose draw never came fails.
	pub(crate) fn wait_failure(info: &TaskOf<T>) -> FailReason {
		match (info.verification, info.round) {
			(_, 0) => FailReason::NoWorkers,
			(Verification::Sampled { .. }, 1) if info.tally_from == 0 => FailReason::NoCheckers,
			_ => FailReason::NoQuorum,
		}
	}

	/// The first `count` workers of the stake-weighted order over `weighted` (of one profile
	/// group for text: the first pick's), skipping workers with no room for another task and
	/// confirming each pick against its record: a pick whose index weight was stale (slashed
	/// or gone offline since, see pallet-workers' indexes) is corrected in the index and moved
	/// to its place under the corrected weight, which gives exactly the draw over current
	/// weights. Looks at no more than [`Self::draw_look_limit`] workers; `None` when that, or
	/// the pool, runs out (the task waits for the next block's randomness; the corrections
	/// are kept).
	pub(crate) fn confirmed_draw(
		model: ModelId,
		seed: [u8; 32],
		weighted: &[((T::AccountId, ProfileId), u128)],
		count: u32,
		is_text: bool,
		full: impl Fn(&T::AccountId) -> bool,
		looked: &mut u32,
	) -> Option<Vec<(T::AccountId, ProfileId)>> {
		// The host's BLAKE2b: the same order as the portable one, at native speed.
		let mut order = WeightedOrder::new_with_hasher(seed, weighted, sp_io::hashing::blake2_256);
		let mut looks = Self::draw_look_limit();
		let mut group = None;
		let mut drawn = Vec::with_capacity(count as usize);
		while (drawn.len() as u32) < count {
			let ((who, worker_profile), indexed) = order.first().map(|(id, w)| (id.clone(), w))?;
			if group.is_some_and(|g| g != worker_profile) {
				order.take_first();
				continue;
			}
			looks = looks.checked_sub(1)?;
			*looked += 1;
			if full(&who) {
				order.take_first();
				continue;
			}
			match T::Workers::confirm_drawn(model, &who, indexed) {
				Some(weight) if weight == indexed => {
					if is_text {
						group = Some(worker_profile);
					}
					drawn.push((who, worker_profile));
					order.take_first();
				},
				// Stale: it moves to where its true weight puts it (or out), at or after here.
				Some(weight) => order.lower_first(weight),
				None => order.lower_first(0),
			}
		}
		Some(drawn)
	}

	/// How many workers one draw looks at, at most (see [`Self::confirmed_draw`]).
	pub fn draw_look_limit() -> u32 {
		T::MaxVerifiers::get().saturating_mul(2)
	}

	/// Draws the workers of `info.round` if fresh randomness and enough candidates exist;
	/// returns whether it did, and its weight. The task then commits until its deadline.
	///
	/// The weight is what the attempt touched: `deadline_assign(v, c)` measures a clean draw of
	/// `v` workers from an index of `c` candidates (every worker looked at was current and had
	/// room), which also bounds an attempt that stops earlier (no fresh randomness yet: `v = c =
	/// 1`; too few candidates: `v = 1`). A draw that skipped or corrected anyone is charged at
	/// the worst case, [`Self::draw_weight`].
	pub(crate) fn draw_round(task: TaskId, info: &mut TaskOf<T>, now: BlockNumberFor<T>) -> (bool, Weight) {
		let waited = (false, T::WeightInfo::deadline_assign(1, 1));
		let count = info.round_size;
		if count == 0 {
			return waited;
		}
		let Some((seed, known_since)) = Self::fresh_seed(b"assign", task, info.round, info.draw_after) else {
			return waited;
		};
		let params = Self::params();
		let checking = matches!(info.verification, Verification::Sampled { .. }) && info.round == 1 && info.tally_from == 0;
		// Set only while checking a text executor: its checkers must share its profile. Any
		// other round picks a group.
		let profile = info.profile;
		let is_text = matches!(info.params, TaskParams::Text(_));
		let full = |who: &T::AccountId| !T::Workers::has_room(who);
		let indexed = T::Workers::eligible(info.model, info.vram_mib, profile);
		let index_len = (indexed.len() as u32).max(1);
		let mut candidates: Vec<Candidate<T::AccountId, BlockNumberFor<T>>> = indexed
				.into_iter()
				// Entered or gained weight before the randomness could be known.
				.filter(|c| c.since < known_since)
				.filter(|c| c.who != info.creator && !info.workers.contains(&c.who))
				.collect();
		let group_needs = match info.verification {
			// The executor's group must have room for its checkers.
			Verification::Sampled { .. } if info.round == 0 => 1 + params.sampled_verifiers,
			_ => count,
		};
		if is_text && profile.is_none() {
			// Exact match is only sound on identical hardware and software: one group, big
			// enough, chosen by stake (the group of the first stake-weighted pick).
			let mut sizes: BTreeMap<ProfileId, u32> = BTreeMap::new();
			for c in candidates.iter() {
				*sizes.entry(c.profile_id).or_default() += 1;
			}
			let big: BTreeSet<ProfileId> = sizes.into_iter().filter(|(_, n)| *n >= group_needs).map(|(p, _)| p).collect();
			candidates.retain(|c| big.contains(&c.profile_id));
		}
		if (candidates.len() as u32) < count.max(group_needs) {
			return (false, T::WeightInfo::deadline_assign(1, index_len));
		}
		let weighted: Vec<((T::AccountId, ProfileId), u128)> =
			candidates.into_iter().map(|c| ((c.who, c.profile_id), c.weight)).collect();
		let mut looked = 0;
		let drawn = Self::confirmed_draw(info.model, seed, &weighted, count, is_text, full, &mut looked);
		let weight = match &drawn {
			Some(drawn) if looked == drawn.len() as u32 => T::WeightInfo::deadline_assign(looked.max(1), index_len),
			_ => Self::draw_weight(),
		};
		let Some(drawn) = drawn else {
			return (false, weight);
		};

		// Image escalation rounds run with a fresh seed: earlier rounds' published results are
		// images of another seed.
		if info.round > 0 && !checking {
			if let TaskParams::Image(ref mut p) = info.params {
				p.seed = u64::from_le_bytes([seed[8], seed[9], seed[10], seed[11], seed[12], seed[13], seed[14], seed[15]]);
			}
		}
		let deadline = now.saturating_add(params.commit_window);
		let mut workers = Vec::with_capacity(drawn.len());
		for (who, worker_profile) in drawn {
			if info.workers.try_push(who.clone()).is_err() {
				break;
			}
			if is_text {
				info.profile = Some(worker_profile);
			}
			// No assignment record yet: the commit writes the first (see `Assignments`).
			if !T::Workers::open_task(&who, task) {
				frame_support::defensive!("a drawn worker without room, checked in the draw");
			}
			workers.push(who);
		}
		if checking {
			Self::deposit_event(Event::SamplingDecided { task, verified: true });
		}
		info.status = TaskStatus::Committing { round: info.round, deadline };
		Self::schedule(task, info, deadline, Deadline::Commit { round: info.round });
		Self::deposit_event(Event::TaskAssigned { task, round: info.round, workers, commit_deadline: deadline });
		(true, weight)
	}

	/// Sampled mode: rolls, with randomness unknown when the executor committed, whether
	/// checkers join. Unchecked: the executor reveals and decides alone. Checked: round 1 is
	/// drawn at once, or the task fails with a refund (`NoCheckers`).
	pub(crate) fn roll_sample(task: TaskId, info: &mut TaskOf<T>, now: BlockNumberFor<T>) {
		let Verification::Sampled { probability } = info.verification else { return };
		let TaskStatus::Sampling { committed_by } = info.status else { return };
		let check = match Self::fresh_seed(b"sample", task, info.round, info.draw_after) {
			Some((seed, _)) => {
				let roll = u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]]);
				// `roll / 2^32 < p` without floats.
				(roll as u64) * (Perbill::ACCURACY as u64) < (probability.deconstruct() as u64) << 32
			},
			None if now < committed_by.saturating_add(Self::params().reveal_window) => {
				Self::schedule(task, info, now.saturating_add(One::one()), Deadline::Sample);
				return;
			},
			// No fresh randomness in time: an executor must not gain by a stalled source, so it
			// counts as checked (and without randomness for checkers, the task fails).
			None => true,
		};
		if !check {
			Self::deposit_event(Event::SamplingDecided { task, verified: false });
			Self::start_reveal(task, info, now);
			return;
		}
		info.round = 1;
		info.round_size = Self::params().sampled_verifiers;
		info.tally_from = 0;
		info.status = TaskStatus::Pending { timeout_at: now };
		// The checkers are drawn now, with the roll's randomness, from candidates that were
		// there before it could be known. Waiting instead would let the executor, who now
		// knows it is checked, bring its own checkers; so without checkers the task fails.
		// (Charged as a whole draw by the caller.)
		if !Self::draw_round(task, info, now).0 {
			Self::fail(task, info, FailReason::NoCheckers);
		}
	}
}
