//! Draws: the trainer, then the checked segments and their verifiers. Called only from
//! `on_initialize`, with randomness unknown at the task's `draw_after`, over candidates whose
//! index entries are older than that randomness.

use alloc::vec::Vec;
use codec::Encode;
use frame_support::traits::Randomness;
use pallet_workers::WorkerRegistry;
use replica_primitives::{
	training::{sampled_segments, segment_seed, task_id},
	WeightedOrder,
};
use sp_runtime::traits::{One, Saturating};

use crate::*;
use frame_support::{pallet_prelude::Get, weights::Weight, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// The seed of a draw, bound to the task and the purpose, from randomness nobody could
	/// know at `draw_after`, with the `Clock` time since which it may be known; `None` while
	/// there is no such randomness yet.
	fn fresh_seed(
		purpose: &[u8],
		training: TrainingId,
		draw_after: BlockNumberFor<T>,
	) -> Option<([u8; 32], BlockNumberFor<T>)> {
		let subject = (b"replica/training", purpose, training).encode();
		let (random, known_since) = T::Randomness::random(&subject);
		(known_since > draw_after).then(|| (sp_io::hashing::blake2_256(&(subject, random).encode()), known_since))
	}

	/// How many workers one draw looks at, at most.
	pub fn draw_look_limit() -> u32 {
		T::MaxChecks::get().saturating_mul(2).saturating_add(2)
	}

	/// The stake-weighted candidates of `info`'s model whose index entries are older than
	/// `known_since`, without the creator and the trainer.
	fn candidates(info: &TrainingOf<T>, known_since: BlockNumberFor<T>) -> Vec<(T::AccountId, u128)> {
		T::Workers::eligible(info.spec.model, 0, None)
			.into_iter()
			.filter(|c| c.since < known_since)
			.filter(|c| c.who != info.creator && Some(&c.who) != info.trainer.as_ref())
			.map(|c| (c.who, c.weight))
			.collect()
	}

	/// The first `count` distinct workers of `order` that `skip` lets through, each confirmed
	/// against its record (a stale index weight is corrected and the worker moves to its
	/// place under the true weight: the draw over current weights). `None` when the order or
	/// `looks` runs out.
	fn confirmed_picks(
		model: replica_primitives::ModelId,
		order: &mut WeightedOrder<T::AccountId>,
		count: u32,
		skip: impl Fn(&T::AccountId) -> bool,
		looks: &mut u32,
	) -> Option<Vec<T::AccountId>> {
		let mut drawn = Vec::with_capacity(count as usize);
		while (drawn.len() as u32) < count {
			let (who, indexed) = order.first().map(|(id, w)| (id.clone(), w))?;
			*looks = looks.checked_sub(1)?;
			if skip(&who) {
				order.take_first();
				continue;
			}
			match T::Workers::confirm_drawn(model, &who, indexed) {
				Some(weight) if weight == indexed => {
					drawn.push(who);
					order.take_first();
				},
				Some(weight) => order.lower_first(weight),
				None => order.lower_first(0),
			}
		}
		Some(drawn)
	}

	/// The weight of a draw over an index of `candidates` entries.
	pub(crate) fn draw_weight(candidates: u32) -> Weight {
		T::WeightInfo::deadline_draw(candidates.max(1))
	}

	/// Draws the trainer if fresh randomness and a candidate with room exist; otherwise
	/// waits for the next block, or fails the task with a refund at the timeout.
	pub(crate) fn draw_trainer(training: TrainingId, info: &mut TrainingOf<T>, now: BlockNumberFor<T>) -> Weight {
		let TrainingStatus::AwaitingTrainer { timeout_at } = info.status else { return Weight::zero() };
		let drawn = Self::fresh_seed(b"trainer", training, info.draw_after).and_then(|(seed, known_since)| {
			let candidates = Self::candidates(info, known_since);
			let mut order = WeightedOrder::new_with_hasher(seed, &candidates, sp_io::hashing::blake2_256);
			let mut looks = Self::draw_look_limit();
			let full = |who: &T::AccountId| !T::Workers::has_room(who);
			Self::confirmed_picks(info.spec.model, &mut order, 1, full, &mut looks)
				.and_then(|picks| picks.into_iter().next())
		});
		let weight = Self::draw_weight(T::Workers::max_candidates());
		let Some(trainer) = drawn else {
			if now >= timeout_at {
				Self::fail(training, info, FailReason::NoTrainer);
			} else {
				Self::schedule(training, info, now.saturating_add(One::one()));
			}
			return weight;
		};
		if !T::Workers::open_task(&trainer, task_id(training)) {
			frame_support::defensive!("a drawn trainer without room, checked in the draw");
		}
		let deadline = now.saturating_add(info.windows.train);
		info.trainer = Some(trainer.clone());
		info.status = TrainingStatus::Training { deadline };
		Self::schedule(training, info, deadline);
		Self::deposit_event(Event::TrainerDrawn { training, trainer, deadline });
		weight
	}

	/// Draws the checked segments and `verifiers_per_segment` verifiers for each, all at
	/// once, if fresh randomness and enough candidates with room exist; otherwise waits for
	/// the next block, or fails the task with a refund at the timeout (nobody is at fault).
	pub(crate) fn draw_verifiers(training: TrainingId, info: &mut TrainingOf<T>, now: BlockNumberFor<T>) -> Weight {
		let TrainingStatus::AwaitingVerifiers { timeout_at } = info.status else { return Weight::zero() };
		let weight = Self::draw_weight(T::Workers::max_candidates());
		let drawn = Self::fresh_seed(b"verifiers", training, info.draw_after).and_then(|(seed, known_since)| {
			let candidates = Self::candidates(info, known_since);
			let segments = sampled_segments(seed, info.spec.segments(), info.terms.sampled_segments);
			let mut looks = Self::draw_look_limit();
			let mut checks: Vec<(u32, T::AccountId)> = Vec::new();
			let mut verifiers: Vec<T::AccountId> = Vec::new();
			for segment in segments.iter() {
				let mut order =
					WeightedOrder::new_with_hasher(segment_seed(seed, *segment), &candidates, sp_io::hashing::blake2_256);
				// A worker already checking another segment of this task needs no more room.
				let full = |who: &T::AccountId| !verifiers.contains(who) && !T::Workers::has_room(who);
				let picks = Self::confirmed_picks(
					info.spec.model,
					&mut order,
					info.terms.verifiers_per_segment,
					full,
					&mut looks,
				)?;
				for who in picks {
					if !verifiers.contains(&who) {
						verifiers.push(who.clone());
					}
					checks.push((*segment, who));
				}
			}
			Some((segments, checks, verifiers))
		});
		let Some((segments, checks, verifiers)) = drawn else {
			if now >= timeout_at {
				Self::fail(training, info, FailReason::NoVerifiers);
			} else {
				Self::schedule(training, info, now.saturating_add(One::one()));
			}
			return weight;
		};
		// Params keep sampled × per-segment within `MaxChecks`, which bounds all three.
		info.sampled = BoundedVec::truncate_from(segments);
		info.checks = BoundedVec::truncate_from(
			checks
				.iter()
				.map(|(segment, verifier)| Check { segment: *segment, verifier: verifier.clone(), state: CheckState::Drawn })
				.collect::<Vec<_>>(),
		);
		for who in verifiers.iter() {
			if !T::Workers::open_task(who, task_id(training)) {
				frame_support::defensive!("a drawn verifier without room, checked in the draw");
			}
		}
		info.verifiers = BoundedVec::truncate_from(verifiers);
		let deadline = now.saturating_add(info.windows.verify);
		info.status = TrainingStatus::Verifying { deadline };
		Self::schedule(training, info, deadline);
		Self::deposit_event(Event::VerifiersDrawn { training, checks, deadline });
		weight
	}
}
