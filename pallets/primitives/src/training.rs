//! Verified fine-tuning: the rules a training task's chain side and its workers share.
//!
//! A trainer runs `steps` steps and keeps a checkpoint every `checkpoint_interval` steps;
//! segment `i` runs from checkpoint `i` to checkpoint `i + 1`. Before anyone checks it, the
//! trainer commits every checkpoint's digest and, per segment, a salted commitment to the
//! locality-sensitive hashes ([`SegmentHashes`]) of the segment's **probe** (the parameters
//! halfway through the segment, never served) and of its **end** (checkpoint `i + 1`). Then
//! segments are drawn with randomness nobody knew at that commitment, and each drawn segment
//! gets several verifiers, drawn at once. A verifier downloads checkpoint `i`, re-runs the
//! segment with every randomness source fixed by the task seed, and commits its own hashes
//! ([`segment_commitment`], bound to its account). Nothing is revealed until every verifier
//! has committed; the segment's verdict is the majority of its drawn verifiers
//! ([`segment_verdict`]), each agreeing with the trainer when both of its hashes are within
//! the tolerance of the trainer's ([`agrees`]).
//!
//! All of a segment's verifiers commit before any hash of it is public, so there is nothing
//! to copy from the chain. A verifier that obtained checkpoint `i + 1` off chain (say from the
//! verifier of the next segment) still lacks the probe, which nobody but the trainer has.

use crate::{Digest, TaskId, WorkerId};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A training task's id.
pub type TrainingId = u64;

/// Training tasks hold the workers' open-task slots under ids with this bit set, so that they
/// never collide with inference tasks' ids (which count up from 0).
pub const TRAINING_TASK_FLAG: TaskId = 1 << 63;

/// The id under which a training task holds its workers' open-task slots.
pub fn task_id(training: TrainingId) -> TaskId {
	training | TRAINING_TASK_FLAG
}

/// Whether an open-task id is a training task's.
pub fn is_training_task(task: TaskId) -> bool {
	task & TRAINING_TASK_FLAG != 0
}

/// The training task an open-task id stands for; `None` for an inference task's id.
pub fn training_id(task: TaskId) -> Option<TrainingId> {
	is_training_task(task).then_some(task & !TRAINING_TASK_FLAG)
}

/// The locality-sensitive hashes of one segment: 64 bits each of the parameters at the
/// segment's probe (halfway) and at its end.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default,
	serde::Serialize, serde::Deserialize,
)]
pub struct SegmentHashes {
	pub probe: u64,
	pub end: u64,
}

/// Whether a verifier's hashes agree with the trainer's: both within `tolerance` bits.
pub fn agrees(trainer: &SegmentHashes, verifier: &SegmentHashes, tolerance: u32) -> bool {
	(trainer.probe ^ verifier.probe).count_ones() <= tolerance && (trainer.end ^ verifier.end).count_ones() <= tolerance
}

/// Domain tag of a segment commitment.
pub const SEGMENT_TAG: &[u8] = b"replica/training/segment/v1";

/// What the trainer (for every segment) and a verifier (for each segment it checks) commit
/// to: `blake2-256("replica/training/segment/v1" ++ SCALE(training: u64) ++ SCALE(segment:
/// u32) ++ account ++ SCALE(hashes) ++ salt)`, with 32 fresh random bytes of `salt`. It hides
/// the hashes until the reveal and binds the account, so a copied commitment opens for nobody
/// else.
pub fn segment_commitment(
	training: TrainingId,
	segment: u32,
	who: &WorkerId,
	hashes: &SegmentHashes,
	salt: &[u8; 32],
) -> Digest {
	let mut input = Vec::with_capacity(SEGMENT_TAG.len() + 8 + 4 + 32 + 16 + 32);
	input.extend_from_slice(SEGMENT_TAG);
	training.encode_to(&mut input);
	segment.encode_to(&mut input);
	input.extend_from_slice(who);
	hashes.encode_to(&mut input);
	input.extend_from_slice(salt);
	sp_crypto_hashing::blake2_256(&input)
}

/// The segments to check: `min(count, segments)` distinct segment indices, in draw order.
pub fn sampled_segments(seed: [u8; 32], segments: u32, count: u32) -> Vec<u32> {
	let all: Vec<u32> = (0..segments).collect();
	crate::sample_distinct(seed, &all, count as usize)
}

/// The seed of the verifier draw of one sampled segment.
pub fn segment_seed(seed: [u8; 32], segment: u32) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&(b"replica/training/verifiers", seed, segment).encode())
}

/// The verdict on one checked segment.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum SegmentVerdict {
	/// A majority of the drawn verifiers reproduced the trainer's hashes.
	Passed,
	/// A majority of the drawn verifiers did not: the trainer is at fault.
	Failed,
	/// Neither side has a majority of the drawn verifiers (some did not reveal).
	Undecided,
}

/// The verdict on a segment with `drawn` verifiers, of which `agreeing` revealed hashes that
/// agree with the trainer's and `disagreeing` revealed hashes that do not: a side wins with
/// more than half of the *drawn* verifiers, so silence never helps either side.
pub fn segment_verdict(drawn: u32, agreeing: u32, disagreeing: u32) -> SegmentVerdict {
	if agreeing.saturating_mul(2) > drawn {
		SegmentVerdict::Passed
	} else if disagreeing.saturating_mul(2) > drawn {
		SegmentVerdict::Failed
	} else {
		SegmentVerdict::Undecided
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn training_task_ids_never_meet_inference_task_ids() {
		assert!(is_training_task(task_id(0)));
		assert!(is_training_task(task_id(u64::MAX >> 1)));
		assert!(!is_training_task(0));
		assert!(!is_training_task(u64::MAX >> 1));
		assert_eq!(training_id(task_id(42)), Some(42));
		assert_eq!(training_id(42), None);
	}

	#[test]
	fn a_commitment_binds_every_field() {
		let h = SegmentHashes { probe: 0x1234, end: 0x5678 };
		let base = segment_commitment(7, 2, &[1; 32], &h, &[9; 32]);
		assert_ne!(base, segment_commitment(8, 2, &[1; 32], &h, &[9; 32]));
		assert_ne!(base, segment_commitment(7, 3, &[1; 32], &h, &[9; 32]));
		assert_ne!(base, segment_commitment(7, 2, &[2; 32], &h, &[9; 32]));
		assert_ne!(base, segment_commitment(7, 2, &[1; 32], &SegmentHashes { probe: 0x1235, end: 0x5678 }, &[9; 32]));
		assert_ne!(base, segment_commitment(7, 2, &[1; 32], &SegmentHashes { probe: 0x1234, end: 0x5679 }, &[9; 32]));
		assert_ne!(base, segment_commitment(7, 2, &[1; 32], &h, &[8; 32]));
	}

	#[test]
	fn agreement_needs_both_hashes_within_the_tolerance() {
		let t = SegmentHashes { probe: 0, end: 0 };
		assert!(agrees(&t, &SegmentHashes { probe: 0b111, end: 0b11 }, 3));
		assert!(!agrees(&t, &SegmentHashes { probe: 0b1111, end: 0 }, 3));
		assert!(!agrees(&t, &SegmentHashes { probe: 0, end: 0b1111 }, 3));
	}

	#[test]
	fn a_verdict_needs_a_majority_of_the_drawn_verifiers() {
		assert_eq!(segment_verdict(3, 2, 1), SegmentVerdict::Passed);
		assert_eq!(segment_verdict(3, 1, 2), SegmentVerdict::Failed);
		assert_eq!(segment_verdict(3, 1, 1), SegmentVerdict::Undecided);
		assert_eq!(segment_verdict(3, 1, 0), SegmentVerdict::Undecided);
		assert_eq!(segment_verdict(1, 1, 0), SegmentVerdict::Passed);
		assert_eq!(segment_verdict(4, 2, 2), SegmentVerdict::Undecided);
		assert_eq!(segment_verdict(0, 0, 0), SegmentVerdict::Undecided);
	}

	#[test]
	fn sampled_segments_are_distinct_and_in_range() {
		for s in 0..20u8 {
			let picked = sampled_segments([s; 32], 10, 4);
			assert_eq!(picked.len(), 4);
			let mut sorted = picked.clone();
			sorted.sort_unstable();
			sorted.dedup();
			assert_eq!(sorted.len(), 4);
			assert!(picked.iter().all(|i| *i < 10));
		}
		assert_eq!(sampled_segments([0; 32], 2, 5).len(), 2);
	}
}
