//! Types of pallet-tasks.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::{ConstU32, Get},
	BoundedVec,
};
use replica_primitives::{Digest, ModelId, ProfileId, Quorum, ResultPayload, Round, TaskId, Tolerances};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// The most bytes of a model's name.
pub type MaxModelNameLen = ConstU32<64>;
/// The most bytes of a prompt or negative prompt.
pub type MaxPromptLen = ConstU32<1024>;
/// A prompt.
pub type Prompt = BoundedVec<u8, MaxPromptLen>;

/// What a model produces.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelKind {
	/// Images, compared by perceptual-hash tolerance voting.
	Image,
	/// Text, compared by exact match among identical execution profiles.
	Text,
}

/// A model registered by governance.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ModelInfo<Balance> {
	pub name: BoundedVec<u8, MaxModelNameLen>,
	pub kind: ModelKind,
	/// blake2-256 of the weights, so workers can check what they load.
	pub weights_digest: Digest,
	/// Device memory a worker needs to run it.
	pub vram_mib: u32,
	/// Hash algorithms compared for its images and the tolerance of each: per model, because
	/// one global threshold slashes honest nodes whose hardware differs.
	pub tolerances: Tolerances,
	/// Most denoising steps of an image task.
	pub max_steps: u32,
	/// Largest image side, in pixels.
	pub max_side: u32,
	/// Most images of one task.
	pub max_images: u32,
	/// Most generated tokens of a text task (less than `context_len`).
	pub max_tokens: u32,
	/// Text models: the positions of the model's context (prompt and output together).
	pub context_len: u32,
	/// The least fee a task must offer.
	pub min_fee: Balance,
	/// Retired models take no new tasks.
	pub retired: bool,
}

/// How a text task decodes.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Decoding {
	/// Greedy decoding: deterministic.
	Greedy,
	/// Beam search with `width` beams (1..=10): deterministic.
	Beam { width: u8 },
	/// Multinomial sampling: not reproducible across machines, so always rejected.
	Sampling,
}

/// Parameters of an image task.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ImageParams {
	pub prompt: Prompt,
	pub negative_prompt: Prompt,
	/// The seed the current round runs with: the creator's in round 0; each escalation round
	/// replaces it with a fresh one drawn after the previous round's results were public, so
	/// that those results are worthless to the new round's verifiers.
	pub seed: u64,
	pub steps: u32,
	/// Classifier-free guidance scale × 1000 (7.5 → 7500).
	pub guidance_milli: u32,
	pub width: u32,
	pub height: u32,
	/// Number of images.
	pub count: u32,
}

/// Parameters of a text task.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct TextParams {
	pub prompt: Prompt,
	pub max_tokens: u32,
	pub decoding: Decoding,
}

/// What to generate.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum TaskParams {
	Image(ImageParams),
	Text(TextParams),
}

/// How a task is verified.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verification {
	/// `verifiers` workers run it from the start.
	Replicated { verifiers: u32 },
	/// One executor runs it; after it has committed, verifiers are drawn with `probability`.
	Sampled { probability: Perbill },
}

/// What `create_task` takes.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct TaskSpec<Balance> {
	pub model: ModelId,
	pub params: TaskParams,
	/// `None`: replicated with the default number of verifiers.
	pub verification: Option<Verification>,
	/// `None`: the default quorum.
	pub quorum: Option<Quorum>,
	/// Held until the task ends; paid to the winners or refunded.
	pub fee: Balance,
}

/// Why a task failed (and was refunded).
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum FailReason {
	/// Not enough eligible workers within the assignment timeout.
	NoWorkers,
	/// No quorum even with the most verifiers allowed.
	NoQuorum,
	/// A sampled task was drawn for a check and no checker could be drawn in time.
	NoCheckers,
	/// A quorum of workers answered that the task cannot be run (`ResultPayload::CannotExecute`).
	Unrunnable,
}

/// Where a task is in its lifecycle.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum TaskStatus<BlockNumber> {
	/// Waiting for the draw of its current round (round 0: its first workers; later rounds:
	/// an escalation), until `timeout_at`.
	Pending { timeout_at: BlockNumber },
	/// Assigned workers of `round` commit until `deadline`.
	Committing { round: Round, deadline: BlockNumber },
	/// Sampled mode: the executor committed (until block `committed_by`); a later block decides,
	/// with randomness unknown at `committed_by`, whether verifiers join.
	Sampling { committed_by: BlockNumber },
	/// Committed workers reveal until `deadline`.
	Revealing { round: Round, deadline: BlockNumber },
	/// Decided; fee paid to the winners.
	Finalized,
	/// Refunded.
	Failed { reason: FailReason },
	/// Cancelled by its creator before assignment; refunded.
	Cancelled,
}

/// A task.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[scale_info(skip_type_params(MaxVerifiers))]
pub struct TaskInfo<AccountId, Balance, BlockNumber, MaxVerifiers: frame_support::traits::Get<u32>> {
	pub creator: AccountId,
	pub model: ModelId,
	pub params: TaskParams,
	pub verification: Verification,
	pub quorum: Quorum,
	/// Fee still held for this task.
	pub fee: Balance,
	/// Tolerances snapshot of the model at creation.
	pub tolerances: Tolerances,
	/// VRAM needed (model snapshot).
	pub vram_mib: u32,
	pub status: TaskStatus<BlockNumber>,
	/// Current round: 0, +1 per escalation or sampled draw.
	pub round: Round,
	/// How many workers the current round draws.
	pub round_size: u32,
	/// The first round whose results the next verdict counts: the current round, or 0 while a
	/// sampled executor is checked by round 1. Earlier rounds ended without quorum and were
	/// settled then.
	pub tally_from: Round,
	/// The next draw (assignment, sampling roll, escalation) only uses randomness that was
	/// unknown at this time of `Config::Clock`, and only candidates that entered their model's
	/// index before that randomness could be known.
	pub draw_after: BlockNumber,
	/// The block of the task's one entry in the deadline agenda.
	pub agenda_at: BlockNumber,
	/// Every worker assigned so far, in assignment order.
	pub workers: BoundedVec<AccountId, MaxVerifiers>,
	/// How the workers of the rounds settled so far ended, in the order of `workers`: rounds
	/// settle in the order they were drawn, so these are the first `settled.len()` workers.
	/// Settling a round deletes its workers' assignment records; the outcomes stay here.
	pub settled: BoundedVec<Outcome, MaxVerifiers>,
	/// Text tasks: the one execution profile all their workers share.
	pub profile: Option<ProfileId>,
	pub created_at: BlockNumber,
	/// Set when the task ends.
	pub result: Option<ResultPayload>,
}

/// How a worker's assignment ended.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
	/// Still open.
	Open,
	/// Agreed with the verdict; paid.
	Won,
	/// Disagreed with the verdict; slashed.
	Outlier,
	/// Did not commit; slashed (`no_show_slash`).
	NoShow,
	/// Committed but did not reveal; slashed at least as much as an outlier.
	Withheld,
	/// The reveal did not open the commitment; slashed.
	BadReveal,
	/// Revealed correctly but the task failed for lack of quorum; not slashed.
	Unpaid,
}

/// One worker's assignment to a task.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[scale_info(skip_type_params(MaxCiphertext))]
pub struct Assignment<MaxCiphertext: frame_support::traits::Get<u32>> {
	/// The round it was drawn in (part of its commitment context).
	pub round: Round,
	/// The execution profile it was assigned under (snapshot).
	pub profile: ProfileId,
	pub commitment: Option<Digest>,
	pub ciphertext: Option<BoundedVec<u8, MaxCiphertext>>,
	/// The opened result.
	pub revealed: Option<ResultPayload>,
	/// Whether it revealed (validly or not).
	pub reveal_attempted: bool,
	pub outcome: Outcome,
}

/// A scheduled check in `on_initialize`.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Deadline {
	/// Assign a pending task, or fail it at its timeout.
	Assign,
	/// End the commit window of `round`.
	Commit { round: Round },
	/// Sampled mode: draw whether verifiers join (and draw them).
	Sample,
	/// End the reveal window of `round`.
	Reveal { round: Round },
	/// Remove a finished task.
	Prune,
}

/// Governance-set parameters.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
	serde::Serialize, serde::Deserialize,
)]
pub struct TaskParamsConfig<BlockNumber> {
	/// Verifiers of a replicated task that names none.
	pub default_verifiers: u32,
	/// Quorum of a task that names none.
	pub default_quorum: Quorum,
	/// Blocks assigned workers have to commit.
	pub commit_window: BlockNumber,
	/// Blocks committed workers have to reveal.
	pub reveal_window: BlockNumber,
	/// Verifiers added by each escalation.
	pub escalation_step: u32,
	/// Verifiers drawn when a sampled task is checked.
	pub sampled_verifiers: u32,
	/// Stake fraction slashed from an outlier.
	pub outlier_slash: Perbill,
	/// Stake fraction slashed from a worker that did not commit.
	pub no_show_slash: Perbill,
	/// Stake fraction slashed for a reveal that does not open its commitment (≥ outlier).
	pub bad_reveal_slash: Perbill,
	/// Stake fraction slashed from a worker that committed and did not reveal (≥ outlier).
	pub withhold_slash: Perbill,
	/// Every outlier, withholding or bad reveal slash takes at least this many times the
	/// task's fee (capped by the worker's stake): the deterrent grows with what a cheat
	/// could win, not only with the bond.
	pub fee_slash_multiple: u32,
	/// Blocks a pending task waits for enough eligible workers.
	pub assignment_timeout: BlockNumber,
	/// Blocks a finished task stays in storage.
	pub retention: BlockNumber,
	/// The least probability a sampled task may ask for.
	pub sampled_min_probability: Perbill,
}

/// One item of `commit_results`: what `commit_result` takes for one task, the ciphertext
/// bounded by `MaxCiphertextLen`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	frame_support::CloneNoBound,
	frame_support::PartialEqNoBound,
	frame_support::EqNoBound,
	frame_support::DebugNoBound,
)]
#[scale_info(skip_type_params(MaxCiphertextLen))]
pub struct SealedResult<MaxCiphertextLen: Get<u32>> {
	pub task: TaskId,
	pub ciphertext: BoundedVec<u8, MaxCiphertextLen>,
	pub commitment: Digest,
}
