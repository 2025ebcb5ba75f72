//! pallet-swarm tests, by topic. Every test ends with both pallets' `do_try_state` (held
//! fees and tickets match the open queries, one agenda entry per query).

mod attacks;
mod errors;
mod lifecycle;
mod ratings;

use crate::{
	mock::*, AnswerOf, Answers, Event, QueryId, QuerySpec, QueryStatus, Queries, Windows,
};
use codec::Encode;
use frame_support::{assert_ok, traits::fungible::Inspect};
use replica_primitives::{
	commitment::seal_in,
	swarm::{answer_context, ranking_commitment, ranking_subset},
	ResultPayload, TextResult,
};

pub(super) fn windows() -> Windows<u64> {
	Windows { answer: WINDOW, reveal: WINDOW, rank: WINDOW, rank_reveal: WINDOW }
}

pub(super) fn spec(max_agents: u32) -> QuerySpec<Balance, u64> {
	QuerySpec {
		model: TEXT_MODEL,
		prompt: b"What is the capital of France?".to_vec().try_into().unwrap(),
		fee: FEE,
		max_agents,
		windows: windows(),
	}
}

pub(super) fn create(max_agents: u32) -> QueryId {
	let id = crate::NextQueryId::<Test>::get();
	assert_ok!(Swarm::create_query(RuntimeOrigin::signed(DAPP), spec(max_agents)));
	id
}

pub(super) fn bytes(who: AccountId) -> [u8; 32] {
	let mut w = [0u8; 32];
	w[..8].copy_from_slice(&who.to_le_bytes());
	w
}

pub(super) fn key_of(query: QueryId, who: AccountId) -> [u8; 32] {
	sp_io::hashing::blake2_256(&(b"key", query, who).encode())
}

pub(super) fn salt_of(query: QueryId, who: AccountId) -> [u8; 32] {
	sp_io::hashing::blake2_256(&(b"salt", query, who).encode())
}

pub(super) fn answer_text(who: AccountId) -> Vec<u8> {
	format!("answer of agent {who}").into_bytes()
}

pub(super) fn payload(text: &[u8]) -> ResultPayload {
	ResultPayload::Text(TextResult {
		tokens_digest: sp_io::hashing::blake2_256(text),
		text: text.to_vec().try_into().unwrap(),
	})
}

/// Seals `payload` as `who` would and commits it.
pub(super) fn commit_payload(query: QueryId, who: AccountId, payload: &ResultPayload) {
	let sealed = seal_in(payload, &answer_context(query, &bytes(who)), &key_of(query, who));
	assert_ok!(Swarm::commit_answer(
		RuntimeOrigin::signed(who),
		query,
		sealed.ciphertext.try_into().unwrap(),
		sealed.commitment
	));
}

pub(super) fn answer(query: QueryId, who: AccountId) {
	commit_payload(query, who, &payload(&answer_text(who)));
}

pub(super) fn reveal(query: QueryId, who: AccountId) {
	assert_ok!(Swarm::reveal_answer(RuntimeOrigin::signed(who), query, key_of(query, who)));
}

pub(super) fn status(query: QueryId) -> QueryStatus<u64> {
	Queries::<Test>::get(query).expect("query").status
}

/// The agents whose answers are ranked, in answer order.
pub(super) fn answerers(query: QueryId) -> Vec<AccountId> {
	let info = Queries::<Test>::get(query).expect("query");
	info.answerers.iter().map(|i| info.agents[*i as usize].who).collect()
}

/// The answers `who` must rank, as agent accounts.
pub(super) fn subset_of(query: QueryId, who: AccountId) -> Vec<u32> {
	let info = Queries::<Test>::get(query).expect("query");
	let all = answerers(query);
	let me = all.iter().position(|a| *a == who).expect("an answerer") as u32;
	ranking_subset(info.seed.expect("drawn"), all.len() as u32, me)
}

pub(super) fn commit_order(query: QueryId, who: AccountId, order: &[u32]) {
	let commitment = ranking_commitment(query, &bytes(who), order, &salt_of(query, who));
	assert_ok!(Swarm::commit_ranking(RuntimeOrigin::signed(who), query, commitment));
}

pub(super) fn reveal_order(query: QueryId, who: AccountId, order: &[u32]) {
	assert_ok!(Swarm::reveal_ranking(
		RuntimeOrigin::signed(who),
		query,
		order.to_vec().try_into().unwrap(),
		salt_of(query, who)
	));
}

/// `who`'s subset ranked by `quality` (higher first, over answer indices).
pub(super) fn ranked_by(query: QueryId, who: AccountId, quality: impl Fn(AccountId) -> i64) -> Vec<u32> {
	let all = answerers(query);
	let mut order = subset_of(query, who);
	order.sort_by_key(|a| -quality(all[*a as usize]));
	order
}

/// Every agent in `agents` answers and reveals; runs to the draw. Returns the query.
pub(super) fn answered(agents: &[AccountId]) -> QueryId {
	let query = create(agents.len() as u32);
	for a in agents {
		answer(query, *a);
	}
	for a in agents {
		reveal(query, *a);
	}
	let now = System::block_number();
	// The reveal phase ends in the next block's hook; the draw comes in the block after.
	run_to(now + 2);
	assert!(matches!(status(query), QueryStatus::Ranking { .. }), "drawn: {:?}", status(query));
	query
}

/// Each ranker ranks its subset by `quality` (higher first), commits and reveals; the query is
/// settled in the block after the last reveal.
pub(super) fn rank_all(query: QueryId, rankers: &[AccountId], quality: impl Fn(AccountId, AccountId) -> i64) {
	let orders: Vec<(AccountId, Vec<u32>)> =
		rankers.iter().map(|r| (*r, ranked_by(query, *r, |answer| quality(*r, answer)))).collect();
	for (r, order) in &orders {
		commit_order(query, *r, order);
	}
	for (r, order) in &orders {
		reveal_order(query, *r, order);
	}
	run_to(System::block_number() + 1);
}

pub(super) fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

pub(super) fn total_issuance() -> Balance {
	<Balances as Inspect<AccountId>>::total_issuance()
}

pub(super) fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Swarm(e) = r.event { Some(e) } else { None })
		.collect()
}

pub(super) fn opened(query: QueryId, index: u32) -> Option<TextResult> {
	match Answers::<Test>::get(query, index) {
		Some(AnswerOf::<Test>::Opened(t)) => Some(t),
		_ => None,
	}
}
