//! Benchmarks (frame-benchmarking v2) of every call and hook at its worst case: `MaxAgents`
//! agents, the model's index full of workers (joining scans it), the longest answers, the
//! largest rankings, rated rounds whose rankers' windows are full. The hooks that touch every
//! agent (failing, settling, pruning) charge the proof they measure, not `MaxEncodedLen` per
//! item: an account's balance and holds, and an answer, are far below their bounds, and the
//! estimate at the bounds would not fit one query of `MaxAgents` agents in the hook.

use super::*;
use crate::pallet::{Call, Config, Pallet};
use alloc::{vec, vec::Vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		EnsureOrigin, Get, Hooks,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_workers::WorkerRegistry;
use replica_primitives::{
	commitment::seal_in,
	swarm::{answer_context, ranking_commitment, ranking_subset, Deviations, ONE},
	ModelId, ResultPayload, TextResult, MAX_TEXT_BYTES,
};
use sp_runtime::{
	traits::{BlockNumberProvider, One, Saturating},
	Perbill,
};

/// What the benchmarks need from the runtime around this pallet.
pub trait BenchmarkHelper<AccountId> {
	/// An open text model (registered if need be).
	fn text_model() -> ModelId;
	/// `who` becomes an online worker serving `model`.
	fn online_worker(who: &AccountId, model: ModelId);
}

/// Plenty for any fee, ticket and existential deposit.
fn funds<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance().max(1u32.into()).saturating_mul(1_000_000_000u32.into())
}

/// Every window long, so no phase ends while a benchmark sets it up.
fn windows<T: Config>() -> Windows<BlockNumberFor<T>> {
	let w: BlockNumberFor<T> = 50u32.into();
	Windows { answer: w, reveal: w, rank: w, rank_reveal: w }
}

fn bench_params<T: Config>() {
	let params = SwarmParams {
		ticket: 1_000u32.into(),
		winner_share: Perbill::from_percent(50),
		min_fee: 1u32.into(),
		min_answers: 3,
		max_window: 100u32.into(),
		seed_timeout: 50u32.into(),
		retention: 100u32.into(),
	};
	Params::<T>::put(params);
}

fn key(i: u32) -> [u8; 32] {
	sp_io::hashing::blake2_256(&(b"bench-key", i).encode())
}

fn salt(i: u32) -> [u8; 32] {
	sp_io::hashing::blake2_256(&(b"bench-salt", i).encode())
}

/// The longest text answer.
fn answer_payload(i: u32) -> ResultPayload {
	let mut text = vec![b'a'; MAX_TEXT_BYTES as usize];
	text[..4].copy_from_slice(&i.to_le_bytes());
	ResultPayload::Text(TextResult {
		tokens_digest: sp_io::hashing::blake2_256(&text),
		text: text.try_into().expect("MAX_TEXT_BYTES"),
	})
}

fn sealed<T: Config>(query: QueryId, who: &T::AccountId, i: u32) -> (BoundedVec<u8, T::MaxCiphertextLen>, [u8; 32]) {
	let s = seal_in(&answer_payload(i), &answer_context(query, &Pallet::<T>::agent_bytes(who)), &key(i));
	(s.ciphertext.try_into().expect("MaxCiphertextLen fits a sealed answer"), s.commitment)
}

/// `n` online workers serving the text model, with the model's index filled up to its limit
/// by others (joining scans it); a query for `max_agents` agents.
fn query_with_workers<T: Config>(n: u32, max_agents: u32) -> (QueryId, Vec<T::AccountId>) {
	bench_params::<T>();
	let model = T::BenchmarkHelper::text_model();
	let agents: Vec<T::AccountId> = (0..n).map(|i| account("agent", i, 0)).collect();
	let indexed = T::Workers::eligible(model, 0, None).len() as u32;
	let fill = T::Workers::max_candidates().saturating_sub(indexed).saturating_sub(n);
	for i in 0..fill {
		T::BenchmarkHelper::online_worker(&account("other", i, 0), model);
	}
	for a in &agents {
		T::BenchmarkHelper::online_worker(a, model);
		T::Currency::set_balance(a, funds::<T>());
	}
	let creator: T::AccountId = account("creator", 0, 0);
	T::Currency::set_balance(&creator, funds::<T>());
	let spec = QuerySpec {
		model,
		prompt: vec![b'p'; 1024].try_into().expect("fits"),
		fee: T::Currency::minimum_balance().max(1u32.into()).saturating_mul(100u32.into()),
		max_agents,
		windows: windows::<T>(),
	};
	let query = Pallet::<T>::do_create(creator, spec).expect("create");
	(query, agents)
}

fn commit_answers<T: Config>(query: QueryId, agents: &[T::AccountId]) {
	for (i, a) in agents.iter().enumerate() {
		let (ciphertext, commitment) = sealed::<T>(query, a, i as u32);
		Pallet::<T>::commit_answer(RawOrigin::Signed(a.clone()).into(), query, ciphertext, commitment).expect("commit");
	}
}

fn reveal_answers<T: Config>(query: QueryId, agents: &[T::AccountId]) {
	for (i, a) in agents.iter().enumerate() {
		Pallet::<T>::reveal_answer(RawOrigin::Signed(a.clone()).into(), query, key(i as u32)).expect("reveal");
	}
}

/// Runs the query's agenda entry now (whatever it is due for).
fn process<T: Config>(query: QueryId) {
	let info = Queries::<T>::get(query).expect("query");
	frame_system::Pallet::<T>::set_block_number(info.agenda_at);
	Agenda::<T>::remove(info.agenda_at, query);
	Pallet::<T>::process_deadline(info.agenda_at, query);
}

/// Moves the `Clock` on, so that the randomness source's output counts as unknown when the
/// answer reveals ended (the runtime's clock is the relay parent number, which no block
/// advances in a benchmark).
fn advance_clock<T: Config>() {
	let now = T::Clock::current_block_number();
	T::Clock::set_block_number(now.saturating_add(One::one()));
}

/// `n` agents answered and revealed; the ranking is drawn.
fn drawn<T: Config>(n: u32) -> (QueryId, Vec<T::AccountId>) {
	let (query, agents) = query_with_workers::<T>(n, n);
	commit_answers::<T>(query, &agents);
	reveal_answers::<T>(query, &agents);
	process::<T>(query);
	advance_clock::<T>();
	process::<T>(query);
	assert!(matches!(Queries::<T>::get(query).expect("query").status, QueryStatus::Ranking { .. }), "drawn");
	(query, agents)
}

fn order_of<T: Config>(query: QueryId, n: u32, ranker: u32) -> Vec<u32> {
	let seed = Queries::<T>::get(query).expect("query").seed.expect("drawn");
	ranking_subset(seed, n, ranker)
}

fn commit_rankings<T: Config>(query: QueryId, agents: &[T::AccountId]) {
	let n = agents.len() as u32;
	for (i, a) in agents.iter().enumerate() {
		let order = order_of::<T>(query, n, i as u32);
		let c = ranking_commitment(query, &Pallet::<T>::agent_bytes(a), &order, &salt(i as u32));
		Pallet::<T>::commit_ranking(RawOrigin::Signed(a.clone()).into(), query, c).expect("commit ranking");
	}
}

fn reveal_ranking_of<T: Config>(query: QueryId, agents: &[T::AccountId], i: usize) {
	let order = order_of::<T>(query, agents.len() as u32, i as u32);
	Pallet::<T>::reveal_ranking(RawOrigin::Signed(agents[i].clone()).into(), query, order.try_into().expect("fits"), salt(i as u32))
		.expect("reveal ranking");
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_query() {
		bench_params::<T>();
		let model = T::BenchmarkHelper::text_model();
		let creator: T::AccountId = whitelisted_caller();
		T::Currency::set_balance(&creator, funds::<T>());
		let spec = QuerySpec {
			model,
			prompt: vec![b'p'; 1024].try_into().expect("fits"),
			fee: T::Currency::minimum_balance().max(1u32.into()).saturating_mul(100u32.into()),
			max_agents: T::MaxAgents::get(),
			windows: windows::<T>(),
		};
		#[extrinsic_call]
		_(RawOrigin::Signed(creator), spec);
		assert_eq!(QueryCount::<T>::get(), 1);
	}

	#[benchmark]
	fn cancel_query() {
		let (query, _) = query_with_workers::<T>(0, T::MaxAgents::get());
		let creator = Queries::<T>::get(query).expect("query").creator;
		#[extrinsic_call]
		_(RawOrigin::Signed(creator), query);
		assert!(matches!(Queries::<T>::get(query).expect("query").status, QueryStatus::Cancelled));
	}

	/// The last agent joins a full index and fills the swarm: the answer phase ends.
	#[benchmark]
	fn commit_answer() {
		let n = T::MaxAgents::get();
		let (query, agents) = query_with_workers::<T>(n, n);
		commit_answers::<T>(query, &agents[..n as usize - 1]);
		let last = agents[n as usize - 1].clone();
		let (ciphertext, commitment) = sealed::<T>(query, &last, n - 1);
		#[extrinsic_call]
		_(RawOrigin::Signed(last), query, ciphertext, commitment);
		assert!(matches!(Queries::<T>::get(query).expect("query").status, QueryStatus::RevealingAnswers { .. }));
	}

	/// The last of `MaxAgents` reveals the longest answer.
	#[benchmark]
	fn reveal_answer() {
		let n = T::MaxAgents::get();
		let (query, agents) = query_with_workers::<T>(n, n);
		commit_answers::<T>(query, &agents);
		reveal_answers::<T>(query, &agents[..n as usize - 1]);
		let last = agents[n as usize - 1].clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(last), query, key(n - 1));
		assert!(matches!(Answers::<T>::get(query, n - 1), Some(AnswerOf::<T>::Opened(_))));
	}

	/// The last of `MaxAgents` commits its ranking: the reveal phase starts.
	#[benchmark]
	fn commit_ranking() {
		let n = T::MaxAgents::get();
		let (query, agents) = drawn::<T>(n);
		commit_rankings::<T>(query, &agents[..n as usize - 1]);
		let last = agents[n as usize - 1].clone();
		let order = order_of::<T>(query, n, n - 1);
		let c = ranking_commitment(query, &Pallet::<T>::agent_bytes(&last), &order, &salt(n - 1));
		#[extrinsic_call]
		_(RawOrigin::Signed(last), query, c);
		assert!(matches!(Queries::<T>::get(query).expect("query").status, QueryStatus::RevealingRankings { .. }));
	}

	/// The last of `MaxAgents` reveals the largest ranking.
	#[benchmark]
	fn reveal_ranking() {
		let n = T::MaxAgents::get();
		let (query, agents) = drawn::<T>(n);
		commit_rankings::<T>(query, &agents);
		for i in 0..n as usize - 1 {
			reveal_ranking_of::<T>(query, &agents, i);
		}
		let last = agents[n as usize - 1].clone();
		let order: BoundedVec<u32, T::MaxAgents> = order_of::<T>(query, n, n - 1).try_into().expect("fits");
		#[extrinsic_call]
		_(RawOrigin::Signed(last), query, order, salt(n - 1));
		assert!(Rankings::<T>::contains_key(query, n - 1));
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin = T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = Pallet::<T>::default_params();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);
		assert_eq!(Params::<T>::get(), Some(params));
		Ok(())
	}

	/// The hook with nothing due.
	#[benchmark]
	fn on_initialize_base() {
		let now = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}
	}

	/// The answer reveals end with none of `n` answers revealed: the query fails and every
	/// ticket is taken.
	#[benchmark(pov_mode = Measured)]
	fn deadline_fail(n: Linear<3, { T::MaxAgents::get() }>) {
		let (query, agents) = query_with_workers::<T>(n, n);
		commit_answers::<T>(query, &agents);
		let at = Queries::<T>::get(query).expect("query").agenda_at;
		frame_system::Pallet::<T>::set_block_number(at);
		Agenda::<T>::remove(at, query);
		#[block]
		{
			Pallet::<T>::process_deadline(at, query);
		}
		assert!(matches!(Queries::<T>::get(query).expect("query").status, QueryStatus::Failed { .. }));
	}

	/// The ranking draw over `n` answers.
	#[benchmark]
	fn deadline_draw(n: Linear<3, { T::MaxAgents::get() }>) {
		let (query, agents) = query_with_workers::<T>(n, n);
		commit_answers::<T>(query, &agents);
		reveal_answers::<T>(query, &agents);
		process::<T>(query);
		advance_clock::<T>();
		let at = Queries::<T>::get(query).expect("query").agenda_at;
		frame_system::Pallet::<T>::set_block_number(at);
		Agenda::<T>::remove(at, query);
		#[block]
		{
			Pallet::<T>::process_deadline(at, query);
		}
		assert!(matches!(Queries::<T>::get(query).expect("query").status, QueryStatus::Ranking { .. }));
	}

	/// Settling `n` answers, every ranking revealed, a rated round, every ranker's window full.
	#[benchmark(pov_mode = Measured)]
	fn deadline_settle(n: Linear<3, { T::MaxAgents::get() }>) {
		let (query, agents) = drawn::<T>(n);
		commit_rankings::<T>(query, &agents);
		for i in 0..n as usize {
			reveal_ranking_of::<T>(query, &agents, i);
		}
		let full: BoundedVec<Deviations, T::RatingWindow> = vec![
			Deviations { count: 10, sum: ONE as i64, sum_of_squares: u128::from(ONE) * u128::from(ONE) };
			T::RatingWindow::get() as usize
		]
		.try_into()
		.expect("RatingWindow");
		for a in &agents {
			Ratings::<T>::insert(a, full.clone());
		}
		let at = Queries::<T>::get(query).expect("query").agenda_at;
		frame_system::Pallet::<T>::set_block_number(at);
		Agenda::<T>::remove(at, query);
		#[block]
		{
			Pallet::<T>::process_deadline(at, query);
		}
		assert!(matches!(Queries::<T>::get(query).expect("query").status, QueryStatus::Finalized { .. }));
	}

	/// Pruning a query with `n` stored answers, the longest there are.
	#[benchmark(pov_mode = Measured)]
	fn deadline_prune(n: Linear<3, { T::MaxAgents::get() }>) {
		let (query, agents) = query_with_workers::<T>(n, n);
		commit_answers::<T>(query, &agents);
		reveal_answers::<T>(query, &agents);
		let mut info = Queries::<T>::get(query).expect("query");
		Pallet::<T>::fail(query, &mut info, FailReason::NoRandomness, &vec![false; n as usize]);
		let at = info.agenda_at;
		Queries::<T>::insert(query, info);
		frame_system::Pallet::<T>::set_block_number(at);
		Agenda::<T>::remove(at, query);
		#[block]
		{
			Pallet::<T>::process_deadline(at, query);
		}
		assert!(!Queries::<T>::contains_key(query));
	}

	/// An agenda entry whose query is gone.
	#[benchmark]
	fn deadline_stale() {
		let now = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		#[block]
		{
			Pallet::<T>::process_deadline(now, 42);
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
