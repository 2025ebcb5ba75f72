//! # pallet-swarm
//!
//! Ranked consensus for open-ended answers: a swarm of staked agents answers a query, each
//! agent ranks a random third of the *other* answers, and the answer with the largest
//! rating-weighted score wins. The rules (who ranks what, scores, selection, ratings, ticket
//! settlement) are `replica_primitives::swarm`, which the worker and its simulation share.
//!
//! ## Lifecycle
//! ```text
//! create_query ─► Answering ─(deadline, or max_agents)─► RevealingAnswers ─(deadline, or all)─►
//!   Drawing ─(a later block: fresh randomness)─► Ranking ─(deadline, or all)─►
//!   RevealingRankings ─(deadline, or all)─► Finalized | Failed ─(retention)─► pruned
//! ```
//! - **Create** (`create_query`, any signed account): the fee is held. The query names a
//!   registered text model (`Config::TextModels`) and its windows; the ticket in force is
//!   fixed for it.
//! - **Answer** (`commit_answer`): an online worker serving the model (pallet-workers: its
//!   identity and stake) joins by committing a sealed answer and paying the ticket, which is
//!   held. Answers are sealed with `commitment::seal_in` under
//!   `swarm::answer_context(query, agent)`: the context binds the agent, so a copied
//!   commitment or ciphertext opens for nobody else. Sampling decoders are allowed: answers
//!   need not be reproducible.
//! - **Reveal answers** (`reveal_answer`): the key. A key that does not open the commitment is
//!   refused (`CommitmentMismatch`, nothing changes); one that opens it to something other
//!   than a text answer is a fault (`BadAnswer`), and the ticket is lost.
//! - **Draw**: only `on_initialize`, with randomness that was unknown when the answer reveals
//!   ended (`draw_after`, in `Config::Clock` time). The seed fixes who ranks what
//!   (`swarm::ranking_subset`: `max(1, (n - 1) / 3)` others' answers, never one's own) and
//!   the tie-break. Nobody knew it while it could still change its answer or withhold it.
//! - **Rank** (`commit_ranking`, then `reveal_ranking`): an agent whose answer was revealed
//!   commits to `swarm::ranking_commitment(query, agent, order, salt)` and later reveals the
//!   order and salt. The commitment hides the order (nobody can copy a well-rated ranker) and
//!   binds the agent. A revealed order that is not exactly the agent's subset is a fault
//!   (`BadRanking`).
//! - **Settle**: `swarm::select` over the revealed rankings, each weighted by its ranker's
//!   rating. Tickets are lost by answers that rank poorly (`swarm::forfeits`), agents that
//!   withheld or botched their answer, and answering agents that did not reveal a valid
//!   ranking. The winner takes the fee and `winner_share` of the others' lost tickets; the rest
//!   goes to `Config::OnForfeit` (the slash pot); every other ticket goes back
//!   (`swarm::settle_forfeits`: payouts are exactly the fee plus the tickets). Rated rounds
//!   (at least `swarm::MIN_RATED_ANSWERS` answers) add each ranker's deviations to its window
//!   of the last `RatingWindow` rated rounds ([`Ratings`]); its rating is `1 - sigma` over it.
//! - **Fail**: too few answers revealed (`min_answers`), no ranking revealed, or no fresh
//!   randomness before `seed_timeout`: the fee goes back; tickets go back to agents that did
//!   their part so far and are lost by the others.
//! - **Deadlines** are block numbers. Each query has exactly one agenda entry ([`Agenda`]);
//!   `on_initialize` works through due entries, oldest first, as far as `HookWeight` allows,
//!   and carries the rest over ([`IncompleteSince`]); nothing is dropped. `create_query`
//!   refuses a query beyond `MaxQueries`. Anyone may `advance_query` an overdue phase (never
//!   a draw).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

mod answers;
#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
mod creation;
mod deadlines;
mod invariants;
#[cfg(test)]
mod mock;
mod ranking;
mod settlement;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

use frame_support::traits::fungible;

/// The balance type of the fee currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// Funds taken from a hold, on their way to the winner or the slash pot.
pub type CreditOf<T> = fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;
/// A query as stored.
pub type QueryOf<T> = QueryInfo<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	<T as Config>::MaxAgents,
>;
/// The parameters as stored.
pub type ParamsOf<T> = SwarmParams<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;
/// What `create_query` takes.
pub type QuerySpecOf<T> = QuerySpec<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;
/// A revealed ranking: answer indices, best first.
pub type OrderOf<T> = frame_support::BoundedVec<u32, <T as Config>::MaxAgents>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			OnUnbalanced, Randomness,
		},
		weights::WeightMeter,
	};
	use frame_system::pallet_prelude::*;
	use pallet_workers::WorkerRegistry;
	use replica_primitives::{swarm::Deviations, Digest, ModelId, TextResult};
	use sp_runtime::traits::BlockNumberProvider;

	pub(crate) const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency fees and tickets are held and paid in.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::hold::Balanced<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The worker registry: who may answer (online workers serving the model).
		type Workers: WorkerRegistry<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The text models queries may name.
		type TextModels: TextModels;

		/// The clock in which randomness freshness is measured: the relay parent number on a
		/// parachain.
		type Clock: BlockNumberProvider<BlockNumber = BlockNumberFor<Self>>;

		/// Randomness for the ranking draw, with the earliest `Clock` time its output may be
		/// known: the draw waits until that is after the query's `draw_after`.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// Receives the lost tickets the winner does not take (the slash pot).
		type OnForfeit: OnUnbalanced<CreditOf<Self>>;

		/// Sets [`Params`].
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The most agents one query may have (its `max_agents` is at most this).
		#[pallet::constant]
		type MaxAgents: Get<u32>;

		/// The most queries in storage at once (open, or finished and awaiting pruning).
		#[pallet::constant]
		type MaxQueries: Get<u32>;

		/// How many recent rated rounds an agent's rating is computed over.
		#[pallet::constant]
		type RatingWindow: Get<u32>;

		/// The most weight `on_initialize` spends on deadlines; due work beyond it carries
		/// over to the next block.
		#[pallet::constant]
		type HookWeight: Get<Weight>;

		/// The longest ciphertext an answer commitment may carry (≥ the largest sealed
		/// payload).
		#[pallet::constant]
		type MaxCiphertextLen: Get<u32>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;

		/// Makes online workers for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::benchmarking::BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The fee of an open query, held from its creator.
		QueryFee,
		/// An agent's ticket, held until its query is settled.
		Ticket,
	}

	/// Queries, until pruned.
	#[pallet::storage]
	pub type Queries<T: Config> = StorageMap<_, Twox64Concat, QueryId, QueryOf<T>>;

	/// The id the next query gets.
	#[pallet::storage]
	pub type NextQueryId<T> = StorageValue<_, QueryId, ValueQuery>;

	/// How many queries are in storage (at most `MaxQueries`).
	#[pallet::storage]
	pub type QueryCount<T> = StorageValue<_, u32, ValueQuery>;

	/// Each agent's answer, by query and the agent's index in `QueryInfo::agents`: the sealed
	/// answer until it is revealed, then the text. Removed when the query is pruned.
	#[pallet::storage]
	pub type Answers<T: Config> =
		StorageDoubleMap<_, Twox64Concat, QueryId, Twox64Concat, u32, AnswerOf<T>>;

	/// Revealed rankings, by query and ranker (answer) index, until the query is settled.
	#[pallet::storage]
	pub type Rankings<T: Config> = StorageDoubleMap<_, Twox64Concat, QueryId, Twox64Concat, u32, OrderOf<T>>;

	/// Each agent's deviations in its last `RatingWindow` rated rounds, oldest first.
	#[pallet::storage]
	pub type Ratings<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BoundedVec<Deviations, T::RatingWindow>, ValueQuery>;

	/// The agenda: the one next deadline of every query in storage, by block.
	#[pallet::storage]
	pub type Agenda<T: Config> = StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, QueryId, ()>;

	/// The oldest block whose agenda may still hold due entries (work carried over).
	#[pallet::storage]
	pub type IncompleteSince<T: Config> = StorageValue<_, BlockNumberFor<T>, OptionQuery>;

	/// Governance-set parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, ParamsOf<T>, OptionQuery>;

	/// An answer as stored.
	#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
	#[scale_info(skip_type_params(T))]
	pub enum AnswerOf<T: Config> {
		/// Committed: the commitment and the ciphertext it covers.
		Sealed { commitment: Digest, ciphertext: BoundedVec<u8, T::MaxCiphertextLen> },
		/// Revealed.
		Opened(TextResult),
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Initial parameters; `None` keeps [`Pallet::default_params`].
		pub params: Option<ParamsOf<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let params = self.params.unwrap_or_else(Pallet::<T>::default_params);
			assert!(Pallet::<T>::params_are_valid(&params), "invalid pallet-swarm genesis params");
			Params::<T>::put(params);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A query was created and its fee held; agents answer until `deadline`.
		QueryCreated {
			query: QueryId,
			creator: T::AccountId,
			model: ModelId,
			fee: BalanceOf<T>,
			ticket: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		},
		/// An agent joined with a sealed answer and its ticket was held.
		AnswerCommitted { query: QueryId, agent: T::AccountId },
		/// Agents may reveal their answers until `deadline`.
		AnswerRevealPhaseStarted { query: QueryId, deadline: BlockNumberFor<T> },
		/// An agent revealed its answer.
		AnswerRevealed { query: QueryId, agent: T::AccountId },
		/// An agent's key opened its commitment to something that is not a text answer.
		BadAnswer { query: QueryId, agent: T::AccountId },
		/// The ranking seed was drawn: `answerers` (answer `i` is theirs, in this order) rank
		/// their subsets (`swarm::ranking_subset(seed, answerers.len(), i)`) until `deadline`.
		RankingDrawn { query: QueryId, seed: [u8; 32], answerers: Vec<T::AccountId>, deadline: BlockNumberFor<T> },
		/// An agent committed to its ranking.
		RankingCommitted { query: QueryId, agent: T::AccountId },
		/// Agents may reveal their rankings until `deadline`.
		RankingRevealPhaseStarted { query: QueryId, deadline: BlockNumberFor<T> },
		/// An agent revealed a valid ranking.
		RankingRevealed { query: QueryId, agent: T::AccountId },
		/// An agent's revealed ranking is not exactly its subset.
		BadRanking { query: QueryId, agent: T::AccountId },
		/// The query was decided: `winner`'s `answer` won; it was paid `reward` (the fee and
		/// its share of lost tickets). `forfeited` lost their tickets.
		QueryFinalized {
			query: QueryId,
			winner: T::AccountId,
			answer: TextResult,
			reward: BalanceOf<T>,
			forfeited: Vec<T::AccountId>,
		},
		/// The query failed and its fee was refunded; `forfeited` lost their tickets.
		QueryFailed { query: QueryId, reason: FailReason, forfeited: Vec<T::AccountId> },
		/// The creator cancelled the query before anyone answered; its fee was refunded.
		QueryCancelled { query: QueryId },
		/// A finished query was removed from storage.
		QueryPruned { query: QueryId },
		/// Governance changed the parameters.
		ParamsChanged { params: ParamsOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The model is not a registered, unretired text model.
		UnknownModel,
		/// The fee is below `min_fee`.
		FeeTooLow,
		/// The account cannot hold the fee or the ticket.
		InsufficientBalance,
		/// The prompt is empty.
		EmptyPrompt,
		/// `max_agents` is below `min_answers` or above `MaxAgents`.
		InvalidMaxAgents,
		/// A window is zero or longer than `max_window`.
		InvalidWindows,
		/// `MaxQueries` queries are in storage; try again once some are pruned.
		TooManyQueries,
		/// No query with this id.
		UnknownQuery,
		/// Only the query's creator may do this.
		NotCreator,
		/// Someone answered already, or the answer phase is over.
		NotCancellable,
		/// The query is not in its answer phase.
		NotAnswerPhase,
		/// The caller is not an online worker serving the query's model.
		NotServing,
		/// The caller already answered this query.
		AlreadyAnswered,
		/// The query is not in its answer reveal phase.
		NotAnswerRevealPhase,
		/// The caller is not an agent of this query.
		NotAgent,
		/// The caller already revealed.
		AlreadyRevealed,
		/// The reveal does not open the caller's commitment.
		CommitmentMismatch,
		/// The query is not in its ranking phase.
		NotRankingPhase,
		/// The caller's answer was not revealed, so it has nothing to rank.
		NotAnswerer,
		/// The caller already committed its ranking.
		AlreadyCommitted,
		/// The query is not in its ranking reveal phase.
		NotRankingRevealPhase,
		/// The caller committed no ranking.
		NotCommitted,
		/// Parameters out of range: `min_answers` below 2 or above `MaxAgents`, or a zero
		/// `max_window`, `seed_timeout` or `retention`.
		InvalidParams,
		/// The query has no deadline that is overdue (or its due work is a draw, which only
		/// `on_initialize` does).
		NotOverdue,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Works through due deadlines (phase ends, draws, settlements, pruning), oldest
		/// first, within `HookWeight`; the rest waits for the next block.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut meter = WeightMeter::with_limit(T::HookWeight::get());
			Self::service_agenda(now, &mut meter);
			meter.consumed()
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(T::MaxAgents::get() >= 2, "MaxAgents must be at least 2");
			assert!(T::MaxQueries::get() > 0, "MaxQueries must be positive");
			assert!(T::RatingWindow::get() > 0, "RatingWindow must be positive");
			assert!(
				T::MaxCiphertextLen::get() as usize >= replica_primitives::commitment::max_ciphertext_len(),
				"MaxCiphertextLen must fit the largest sealed answer"
			);
			assert!(
				T::HookWeight::get().all_gte(Pallet::<T>::worst_deadline_weight()),
				"HookWeight must fit at least one deadline"
			);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Creates a query and holds its fee. Any signed account. Fails with `UnknownModel`,
		/// `EmptyPrompt`, `FeeTooLow`, `InvalidMaxAgents`, `InvalidWindows`, `TooManyQueries`
		/// or `InsufficientBalance`, changing nothing.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_query())]
		pub fn create_query(origin: OriginFor<T>, spec: QuerySpecOf<T>) -> DispatchResult {
			let creator = ensure_signed(origin)?;
			Self::do_create(creator, spec).map(|_| ())
		}

		/// Cancels a query nobody has answered yet and refunds its fee. Its creator only.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::cancel_query())]
		pub fn cancel_query(origin: OriginFor<T>, query: QueryId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_cancel(who, query)
		}

		/// Joins a query with a sealed answer (`commitment::seal_in` under
		/// `swarm::answer_context(query, caller)`) and holds the query's ticket. An online
		/// worker serving the query's model only, once, during the answer phase; the answer
		/// that fills `max_agents` ends the phase.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::commit_answer())]
		pub fn commit_answer(
			origin: OriginFor<T>,
			query: QueryId,
			ciphertext: BoundedVec<u8, T::MaxCiphertextLen>,
			commitment: Digest,
		) -> DispatchResult {
			let agent = ensure_signed(origin)?;
			Self::do_commit_answer(agent, query, ciphertext, commitment)
		}

		/// Reveals the key of the caller's answer. An agent of the query only, once, during the
		/// answer reveal phase. A key that does not open the commitment changes nothing
		/// (`CommitmentMismatch`); one that opens it to anything but a text answer is a fault
		/// (`BadAnswer`: the ticket will be lost).
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::reveal_answer())]
		pub fn reveal_answer(origin: OriginFor<T>, query: QueryId, key: [u8; 32]) -> DispatchResult {
			let agent = ensure_signed(origin)?;
			Self::do_reveal_answer(agent, query, key)
		}

		/// Commits to a ranking (`swarm::ranking_commitment(query, caller, order, salt)`). An
		/// agent whose answer was revealed only, once, during the ranking phase; the commitment
		/// that completes the set ends the phase.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::commit_ranking())]
		pub fn commit_ranking(origin: OriginFor<T>, query: QueryId, commitment: Digest) -> DispatchResult {
			let agent = ensure_signed(origin)?;
			Self::do_commit_ranking(agent, query, commitment)
		}

		/// Reveals a committed ranking: the caller's subset, best first, and the salt. During
		/// the ranking reveal phase, once. An order and salt that do not open the commitment
		/// change nothing (`CommitmentMismatch`); an opened order that is not exactly the
		/// caller's subset is a fault (`BadRanking`: the ticket will be lost).
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::reveal_ranking())]
		pub fn reveal_ranking(origin: OriginFor<T>, query: QueryId, order: OrderOf<T>, salt: [u8; 32]) -> DispatchResult {
			let agent = ensure_signed(origin)?;
			Self::do_reveal_ranking(agent, query, order, salt)
		}

		/// Sets the parameters; open queries keep the ticket they were created with.
		/// `GovernanceOrigin` only.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: ParamsOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(Self::params_are_valid(&params), Error::<T>::InvalidParams);
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsChanged { params });
			Ok(())
		}

		/// Processes a query's overdue deadline — the end of a phase, a settlement, a timeout
		/// or pruning — when `on_initialize` has not reached it yet. Any signed account. Draws
		/// are never done here (`NotOverdue`). Charged as the worst deadline.
		#[pallet::call_index(7)]
		#[pallet::weight(Pallet::<T>::worst_deadline_weight())]
		pub fn advance_query(origin: OriginFor<T>, query: QueryId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_advance(query)
		}
	}
}
