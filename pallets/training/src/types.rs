//! The types pallet-training stores and takes.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::ConstU32, BoundedVec};
use replica_primitives::{training::SegmentHashes, Digest, ModelId};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

pub use replica_primitives::training::TrainingId;

/// The most prompt templates of a task.
pub type MaxTemplates = ConstU32<8>;
/// The most bytes of one template.
pub type MaxTemplateLen = ConstU32<128>;
/// A prompt template: `{}` marks the new token, exactly once.
pub type Template = BoundedVec<u8, MaxTemplateLen>;
/// The most bytes of the token the new embedding starts from.
pub type MaxTokenLen = ConstU32<64>;
/// The most bytes of the training data's URL.
pub type MaxUrlLen = ConstU32<256>;
/// The most bits a locality-sensitive hash has.
pub const LSH_BITS: u32 = 64;

/// What to train: textual inversion of one new token on a registered image model. Every
/// randomness source of the run is drawn from `seed` (the worker's `engines::training`).
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
	serde::Serialize, serde::Deserialize,
)]
pub struct TrainingSpec {
	/// A registered, unretired image model.
	pub model: ModelId,
	pub seed: u64,
	/// The Adam learning rate (0.005 is `Perbill::from_parts(5_000_000)`).
	pub learning_rate: Perbill,
	/// Steps in all: a positive multiple of `checkpoint_interval`.
	pub steps: u32,
	/// Examples per step (positive).
	pub batch_size: u32,
	/// Steps between checkpoints (at least 2, so that a segment has a probe halfway through);
	/// `steps / checkpoint_interval` segments, at most `MaxSegments`.
	pub checkpoint_interval: u32,
	/// The vocabulary token whose embedding the new token starts from (not empty).
	pub init_token: BoundedVec<u8, MaxTokenLen>,
	/// Prompt templates, each with `{}` exactly once (at least one).
	pub templates: BoundedVec<Template, MaxTemplates>,
	/// The standard deviation of the noise added to a target latent.
	pub latent_noise: Perbill,
	/// blake2-256 of the training data (the target latents' file).
	pub data_digest: Digest,
	/// Where the trainer and the verifiers download the training data.
	pub data_url: BoundedVec<u8, MaxUrlLen>,
}

impl TrainingSpec {
	/// How many segments the run has (`steps / checkpoint_interval`; 0 for a bad interval).
	pub fn segments(&self) -> u32 {
		self.steps.checked_div(self.checkpoint_interval).unwrap_or(0)
	}
}

/// How long each phase of a training task may last, in blocks.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
	serde::Serialize, serde::Deserialize,
)]
pub struct Windows<BlockNumber> {
	/// The trainer runs the whole training and commits its checkpoints.
	pub train: BlockNumber,
	/// Each verifier re-runs its segment and commits its hashes.
	pub verify: BlockNumber,
	/// The trainer and the verifiers reveal their hashes.
	pub reveal: BlockNumber,
}

/// Governance-set parameters.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
	serde::Serialize, serde::Deserialize,
)]
pub struct TrainingParams<Balance, BlockNumber> {
	/// How many segments of a task are checked (fewer if it has fewer): a trainer that
	/// corrupts a fraction `f` of its segments escapes with probability `(1 - f)^s`.
	pub sampled_segments: u32,
	/// Verifiers drawn for each checked segment, all at once; a verdict needs a majority of
	/// them.
	pub verifiers_per_segment: u32,
	/// The most bits in which a verifier's probe or end hash may differ from the trainer's
	/// and still agree (at most 64).
	pub lsh_tolerance: u32,
	/// The share of the fee paid to verifiers, split evenly over the check slots; a verifier
	/// is paid its slots on the winning side of a decided segment.
	pub verifier_share: Perbill,
	/// The least fee of a task.
	pub min_fee: Balance,
	/// The stake fraction slashed from a trainer whose segment fails or who withholds its
	/// hashes, and from a verifier on the losing side of a verdict or who withholds: at
	/// least the task's fee either way.
	pub fault_slash: Perbill,
	/// The stake fraction slashed from a drawn worker who never committed.
	pub no_show_slash: Perbill,
	/// The longest any one window may be.
	pub max_window: BlockNumber,
	/// How long a task waits for a draw (fresh randomness and enough candidates) before it
	/// fails with a refund.
	pub draw_timeout: BlockNumber,
	/// How long a finished task stays in storage before it is pruned.
	pub retention: BlockNumber,
}

/// The terms a task runs under, fixed when it is created.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub struct Terms {
	pub sampled_segments: u32,
	pub verifiers_per_segment: u32,
	pub lsh_tolerance: u32,
	pub verifier_share: Perbill,
}

/// Where a training task is in its life.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum TrainingStatus<BlockNumber> {
	/// Waiting for randomness fresher than the creation to draw the trainer; fails at
	/// `timeout_at`.
	AwaitingTrainer { timeout_at: BlockNumber },
	/// The trainer trains and commits its checkpoints until `deadline`.
	Training { deadline: BlockNumber },
	/// Waiting for randomness fresher than the trainer's commitment to draw the checked
	/// segments and their verifiers; fails at `timeout_at`.
	AwaitingVerifiers { timeout_at: BlockNumber },
	/// Verifiers re-run their segments and commit until `deadline`, or until all have.
	Verifying { deadline: BlockNumber },
	/// The trainer and the verifiers reveal until `deadline`, or until all have.
	Revealing { deadline: BlockNumber },
	/// Every checked segment passed; the trainer was paid.
	Finalized,
	/// Failed; what was not paid to verifiers went back to the creator.
	Failed { reason: FailReason },
}

impl<BlockNumber> TrainingStatus<BlockNumber> {
	/// Whether the task is over (it awaits pruning).
	pub fn is_finished(&self) -> bool {
		matches!(self, Self::Finalized | Self::Failed { .. })
	}
}

/// Why a training task failed.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum FailReason {
	/// No trainer could be drawn before the timeout.
	NoTrainer,
	/// The trainer did not commit its checkpoints in time (slashed as a no-show).
	TrainerMissed,
	/// No verifiers could be drawn before the timeout: nobody is at fault.
	NoVerifiers,
	/// The trainer did not reveal its hashes (slashed).
	TrainerWithheld,
	/// A majority of a segment's verifiers did not reproduce the trainer's hashes (the
	/// trainer was slashed).
	SegmentFailed,
	/// A segment had no majority either way (too many verifiers were silent).
	Undecided,
	/// The trainer declined (it could not get the training data): nobody is at fault.
	Declined,
}

/// What the trainer commits once it has trained, per segment.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct SegmentClaim {
	/// blake2-256 of the checkpoint that ends the segment (the worker's `Checkpoint::digest`).
	pub end: Digest,
	/// `training::segment_commitment` of the trainer's hashes of the segment's probe and end.
	pub commitment: Digest,
}

/// What a verifier commits for its segment.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum CheckCommitment {
	/// `training::segment_commitment` of its hashes of the re-run segment.
	Hashes(Digest),
	/// The trainer did not serve the checkpoint that starts the segment, or the training
	/// data: a vote against the trainer (who answers for serving its verifiers), revealed at
	/// once.
	Unavailable,
}

/// A verifier's check of one segment, as far as it got.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum CheckState {
	/// Drawn, not committed.
	Drawn,
	/// Committed to this `training::segment_commitment`.
	Committed(Digest),
	/// Revealed.
	Revealed(SegmentHashes),
	/// Reported that the trainer did not serve what the segment needs.
	Unavailable,
}

/// One verifier on one checked segment.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Check<AccountId> {
	pub segment: u32,
	pub verifier: AccountId,
	pub state: CheckState,
}

/// A training task as stored.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[scale_info(skip_type_params(MaxChecks))]
pub struct TrainingInfo<AccountId, Balance, BlockNumber, MaxChecks: frame_support::traits::Get<u32>> {
	pub creator: AccountId,
	pub spec: TrainingSpec,
	/// Held from the creator until the task ends.
	pub fee: Balance,
	pub windows: Windows<BlockNumber>,
	pub terms: Terms,
	pub status: TrainingStatus<BlockNumber>,
	/// The drawn trainer.
	pub trainer: Option<AccountId>,
	/// The checked segments, in draw order (set by the verifier draw).
	pub sampled: BoundedVec<u32, MaxChecks>,
	/// The trainer's revealed hashes of the checked segments, in `sampled` order (empty until
	/// it reveals).
	pub trainer_hashes: BoundedVec<SegmentHashes, MaxChecks>,
	/// Every verifier on every checked segment: `verifiers_per_segment` per segment, grouped
	/// by segment in `sampled` order.
	pub checks: BoundedVec<Check<AccountId>, MaxChecks>,
	/// The distinct verifiers of `checks`, each holding one open-task slot for the task.
	pub verifiers: BoundedVec<AccountId, MaxChecks>,
	/// `Config::Clock` time after which the next draw's randomness must be known: the
	/// creation for the trainer, the trainer's commitment for the segments.
	pub draw_after: BlockNumber,
	/// The block of the task's one agenda entry.
	pub agenda_at: BlockNumber,
}

/// The models a training task may use: registered image models that take new work.
pub trait ImageModels {
	/// Whether `model` is a registered image model that is not retired.
	fn is_open_image_model(model: ModelId) -> bool;
}
