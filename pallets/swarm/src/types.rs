//! The types pallet-swarm stores and takes.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::ConstU32, BoundedVec};
use replica_primitives::{Digest, ModelId};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// A query's id.
pub type QueryId = u64;
/// The most bytes of a query's prompt.
pub type MaxPromptLen = ConstU32<1024>;
/// A query's prompt.
pub type Prompt = BoundedVec<u8, MaxPromptLen>;

/// How long each phase of a query lasts at most, in blocks. Each phase also ends as soon as
/// every agent that can act in it has acted.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
	serde::Serialize, serde::Deserialize,
)]
pub struct Windows<BlockNumber> {
	/// Agents join by committing a sealed answer (and paying the ticket).
	pub answer: BlockNumber,
	/// Agents reveal their answers' keys.
	pub reveal: BlockNumber,
	/// Answering agents commit their rankings.
	pub rank: BlockNumber,
	/// Agents reveal their rankings.
	pub rank_reveal: BlockNumber,
}

/// Governance-set parameters.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
	serde::Serialize, serde::Deserialize,
)]
pub struct SwarmParams<Balance, BlockNumber> {
	/// What an agent pays to answer; lost if its answer ranks poorly, withheld or malformed,
	/// or if it does not reveal a ranking. Fixed per query when it is created.
	pub ticket: Balance,
	/// The winner's share of the forfeited tickets (the rest goes to the slash pot).
	pub winner_share: Perbill,
	/// The least fee of a query.
	pub min_fee: Balance,
	/// The fewest revealed answers a query needs to be ranked (at least 2); with fewer it
	/// fails and its fee is refunded.
	pub min_answers: u32,
	/// The longest any one window may be.
	pub max_window: BlockNumber,
	/// How long a query waits for fresh randomness to draw the ranking subsets before it fails
	/// with a refund (`NoRandomness`).
	pub seed_timeout: BlockNumber,
	/// How long a finished query stays in storage before it is pruned.
	pub retention: BlockNumber,
}

/// Where a query is in its life.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum QueryStatus<BlockNumber> {
	/// Agents commit sealed answers until `deadline`, or until `max_agents` have.
	Answering { deadline: BlockNumber },
	/// Agents reveal their answers' keys until `deadline`, or until all have.
	RevealingAnswers { deadline: BlockNumber },
	/// Waiting for randomness that was unknown when the answer reveals ended, to draw who ranks
	/// what; fails at `timeout_at`.
	Drawing { timeout_at: BlockNumber },
	/// Answering agents commit rankings until `deadline`, or until all have.
	Ranking { deadline: BlockNumber },
	/// Agents reveal their rankings until `deadline`, or until all have.
	RevealingRankings { deadline: BlockNumber },
	/// Decided: the answer of `winner` (an index into `agents`) won.
	Finalized { winner: u32 },
	/// Failed; the fee was refunded.
	Failed { reason: FailReason },
	/// Cancelled by its creator before anyone answered; the fee was refunded.
	Cancelled,
}

impl<BlockNumber> QueryStatus<BlockNumber> {
	/// Whether the query is over (it awaits pruning).
	pub fn is_finished(&self) -> bool {
		matches!(self, Self::Finalized { .. } | Self::Failed { .. } | Self::Cancelled)
	}
}

/// Why a query failed.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum FailReason {
	/// Fewer than `min_answers` answers were revealed.
	TooFewAnswers,
	/// No ranking was revealed: nothing to select by.
	NoRankings,
	/// No fresh randomness came before the timeout.
	NoRandomness,
}

/// An agent's answer, as far as it got.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum AnswerState {
	/// Committed, not revealed.
	Committed,
	/// Revealed: a text answer, stored in `Answers`.
	Revealed,
	/// The key opened the commitment, but not to a text answer: a fault.
	Malformed,
}

/// An agent's ranking, as far as it got.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum RankingState {
	/// Not committed.
	None,
	/// Committed to this digest (`replica_primitives::swarm::ranking_commitment`).
	Committed(Digest),
	/// Revealed and valid: stored in `Rankings`.
	Revealed,
	/// Opened its commitment, but does not rank exactly the agent's subset: a fault.
	Invalid,
}

/// One agent of a query.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Agent<AccountId> {
	pub who: AccountId,
	pub answer: AnswerState,
	pub ranking: RankingState,
}

/// A query as stored.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[scale_info(skip_type_params(MaxAgents))]
pub struct QueryInfo<AccountId, Balance, BlockNumber, MaxAgents: frame_support::traits::Get<u32>> {
	pub creator: AccountId,
	pub model: ModelId,
	pub prompt: Prompt,
	/// Held from the creator until the query ends.
	pub fee: Balance,
	/// Every agent's ticket, held from it until the query ends (the parameter when the query
	/// was created).
	pub ticket: Balance,
	/// The most agents that may answer.
	pub max_agents: u32,
	pub windows: Windows<BlockNumber>,
	pub status: QueryStatus<BlockNumber>,
	/// The agents, in the order they joined.
	pub agents: BoundedVec<Agent<AccountId>, MaxAgents>,
	/// The revealed answers, as indices into `agents`, in join order: answer `i` of the
	/// ranking is the answer of `agents[answerers[i]]`, and it is also that agent's ranker
	/// index. Set when the answer reveals end.
	pub answerers: BoundedVec<u32, MaxAgents>,
	/// The seed the ranking subsets and the tie-break come from; drawn after the answer
	/// reveals ended, with randomness nobody knew then.
	pub seed: Option<[u8; 32]>,
	/// `Config::Clock` time when the answer reveals ended: the draw uses only randomness
	/// known after it.
	pub draw_after: BlockNumber,
	/// The block of the query's one agenda entry.
	pub agenda_at: BlockNumber,
}

/// What a dapp submits to ask the swarm.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct QuerySpec<Balance, BlockNumber> {
	/// A registered, unretired text model; agents must serve it.
	pub model: ModelId,
	/// The question.
	pub prompt: Prompt,
	/// Paid to the winner.
	pub fee: Balance,
	/// The most agents that may answer: at least `min_answers`, at most `MaxAgents`.
	pub max_agents: u32,
	pub windows: Windows<BlockNumber>,
}

/// The models a query may use: registered text models that take new work.
pub trait TextModels {
	/// Whether `model` is a registered text model that is not retired.
	fn is_open_text_model(model: ModelId) -> bool;
}
