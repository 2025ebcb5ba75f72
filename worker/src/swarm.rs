//! The daemon's side of pallet-swarm: it answers the swarm queries for the text models it
//! serves, then ranks the answers the chain gives it to rank, and reveals both in turn.
//!
//! - **Answer**: on `QueryCreated` for a served text model whose ticket is at most
//!   `--swarm-max-ticket`, the device thread samples an answer (open-ended: a sampling decoder
//!   with a random seed, so agents give different answers); it is sealed under
//!   `swarm::answer_context(query, account)` with a fresh key, stored, and committed (the
//!   chain holds the ticket).
//! - **Reveal**: once the answer reveal phase is on, the key.
//! - **Rank**: once the ranking is drawn, if its answer is among the ranked ones, it reads the
//!   answers of its subset (`swarm::ranking_subset`) from the chain and has the same model
//!   judge each by one forward pass — the mean log-likelihood of the answer given the
//!   question — far cheaper than generating. The order, best first, is stored with a fresh
//!   salt, and its commitment (`swarm::ranking_commitment`) committed.
//! - **Reveal the ranking**: once the ranking reveal phase is on, the order and salt.
//!
//! On the device thread, swarm work waits while tasks are queued ([`crate::pipeline::next_work`]):
//! a task risks stake against its commit deadline, a swarm answer only a ticket.
//!
//! Every key, answer, order and salt is in the store before the chain sees its commitment.
//! The steps after the answer follow the query's phase as the chain has it, read each block
//! ([`Agent::resume`]), so a restart or a late inclusion loses none of them.

use crate::{
	chain::{runtime, AccountId, Client, SubmitError, Submitter},
	config::format_amount,
	pipeline::{SwarmWork, Work},
	store::{Store, SwarmPhase, SwarmRecord},
};
use anyhow::Context;
use replica_primitives::{
	commitment::seal_in,
	swarm::{answer_context, ranking_commitment, ranking_subset},
	ResultPayload,
};
use runtime::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec,
	pallet_swarm::{pallet::AnswerOf, types::QueryStatus},
};
use std::{collections::HashSet, sync::Arc};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

/// The most tokens of an answer.
pub const ANSWER_TOKENS: u32 = 48;
/// The sampling temperature of answers.
pub const TEMPERATURE: f64 = 0.9;

/// What the swarm agent works with; cheap to clone into each step.
#[derive(Clone)]
pub struct Agent {
	pub client: Client,
	pub submitter: Arc<Submitter>,
	pub store: Arc<Store>,
	pub jobs: mpsc::Sender<Work>,
	pub account: AccountId,
	/// The text models this worker serves (chain ids).
	pub models: Vec<u32>,
	/// The largest ticket it pays to answer (0: it never answers).
	pub max_ticket: u128,
	/// Steps under way, so that an event and a reconciliation never run one twice.
	pub busy: Arc<std::sync::Mutex<HashSet<(u64, SwarmPhase)>>>,
}

/// The span of everything done for one query.
pub fn query_span(query: u64) -> tracing::Span {
	tracing::info_span!("query", query)
}

impl Agent {
	/// Acts on a block's swarm events.
	pub async fn on_block(&self, events: &subxt::events::Events<crate::chain::ReplicaConfig>) -> anyhow::Result<()> {
		use runtime::swarm::events as swarm;
		for event in events.find::<swarm::QueryCreated>() {
			let event = event?;
			if self.models.contains(&event.model) && event.ticket <= self.max_ticket && self.max_ticket > 0 {
				self.spawn(event.query, SwarmPhase::Sealed, None);
			}
		}
		for event in events.find::<swarm::QueryFinalized>() {
			let event = event?;
			if self.phase(event.query)?.is_some() {
				let outcome = if event.winner == self.account {
					format!("won {} with: {}", format_amount(event.reward), String::from_utf8_lossy(&event.answer.text.0))
				} else if event.forfeited.contains(&self.account) {
					"lost its ticket".to_string()
				} else {
					"not chosen; ticket returned".to_string()
				};
				self.done(event.query, outcome)?;
			}
		}
		for event in events.find::<swarm::QueryFailed>() {
			let event = event?;
			if self.phase(event.query)?.is_some() {
				let lost = if event.forfeited.contains(&self.account) { "; lost its ticket" } else { "" };
				self.done(event.query, format!("failed: {:?}{lost}", event.reason))?;
			}
		}
		// Every later step follows the query's phase on chain, read afresh each block: a step
		// whose event came before this worker's own commitment was in a block is not lost.
		self.resume().await
	}

	/// Takes every unfinished query one step on from where the chain is: after a start or a
	/// reconnect, and on every block.
	pub async fn resume(&self) -> anyhow::Result<()> {
		for record in self.store.swarm_unfinished()? {
			let query = record.query;
			let Some(info) = query_info(&self.client, query).await? else {
				self.done(query, "pruned while away".into())?;
				continue;
			};
			match (info.status, record.phase) {
				(QueryStatus::Answering { .. }, SwarmPhase::Sealed) => self.spawn(query, SwarmPhase::Sealed, None),
				(QueryStatus::RevealingAnswers { .. }, SwarmPhase::Sealed | SwarmPhase::Committed) =>
					self.spawn(query, SwarmPhase::Revealed, None),
				// A ranking stored but not yet committed is committed as it is.
				(QueryStatus::Ranking { .. }, SwarmPhase::Revealed) => {
					let seed = info.seed.context("a query in its ranking phase has a seed")?;
					let answerers = info.answerers.0.iter().filter_map(|i| info.agents.0.get(*i as usize)).map(|a| a.who.clone()).collect();
					self.spawn(query, SwarmPhase::Ranked, Some((seed, answerers)));
				},
				(QueryStatus::RevealingRankings { .. }, SwarmPhase::Ranked) => self.spawn(query, SwarmPhase::RankRevealed, None),
				(QueryStatus::Finalized { .. } | QueryStatus::Failed { .. } | QueryStatus::Cancelled, _) =>
					self.done(query, "ended while away".into())?,
				_ => {},
			}
		}
		Ok(())
	}

	fn phase(&self, query: u64) -> anyhow::Result<Option<SwarmPhase>> {
		Ok(self.store.swarm_get(query)?.map(|r| r.phase))
	}

	fn done(&self, query: u64, outcome: String) -> anyhow::Result<()> {
		let _span = query_span(query).entered();
		tracing::info!("swarm query: {outcome}");
		self.store.swarm_update(query, |r| {
			r.phase = SwarmPhase::Done;
			r.outcome = Some(outcome);
		})?;
		Ok(())
	}

	/// Runs the step that reaches `phase` in the background, once at a time.
	fn spawn(&self, query: u64, phase: SwarmPhase, drawn: Option<([u8; 32], Vec<AccountId>)>) {
		if !self.busy.lock().unwrap_or_else(|p| p.into_inner()).insert((query, phase)) {
			return;
		}
		let agent = self.clone();
		tokio::spawn(
			async move {
				let outcome = match (phase, drawn) {
					(SwarmPhase::Sealed, _) => agent.answer(query).await,
					(SwarmPhase::Revealed, _) => agent.reveal_answer(query).await,
					(SwarmPhase::Ranked, Some((seed, answerers))) => agent.rank(query, seed, answerers).await,
					(SwarmPhase::RankRevealed, _) => agent.reveal_ranking(query).await,
					_ => Ok(()),
				};
				if let Err(e) = outcome {
					tracing::warn!("swarm {phase:?}: {e:#}");
				}
				agent.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&(query, phase));
			}
			.instrument(query_span(query)),
		);
	}

	/// Samples an answer, seals and stores it, then commits it (the chain holds the ticket).
	async fn answer(&self, query: u64) -> anyhow::Result<()> {
		let record = match self.store.swarm_get(query)? {
			Some(record) => record,
			None => {
				let Some(info) = query_info(&self.client, query).await? else { return Ok(()) };
				let prompt = String::from_utf8_lossy(&info.prompt.0).into_owned();
				let mut seed = [0u8; 8];
				getrandom::getrandom(&mut seed).context("no randomness from the OS for the answer's seed")?;
				let (done, answered) = oneshot::channel();
				let work = SwarmWork::Answer {
					model: info.model,
					prompt,
					max_tokens: ANSWER_TOKENS,
					temperature: TEMPERATURE,
					seed: u64::from_le_bytes(seed),
					done,
				};
				self.jobs.send(Work::Swarm(work)).await.map_err(|_| anyhow::anyhow!("the device thread has stopped"))?;
				let output = answered.await.map_err(|_| anyhow::anyhow!("the device thread has stopped"))??;
				let mut key = [0u8; 32];
				getrandom::getrandom(&mut key).context("no randomness from the OS for the sealing key")?;
				let sealed = seal_in(&ResultPayload::Text(output.to_result()), &answer_context(query, &self.account.0), &key);
				let record = SwarmRecord {
					query,
					model: info.model,
					key,
					commitment: sealed.commitment,
					ciphertext: sealed.ciphertext,
					answer: output.text,
					phase: SwarmPhase::Sealed,
					ranking: None,
					outcome: None,
				};
				// Stored before the chain sees the commitment: the key must survive a crash.
				self.store.swarm_put(&record)?;
				record
			},
		};
		if record.phase != SwarmPhase::Sealed {
			return Ok(());
		}
		tracing::info!("answering: {}", record.answer);
		let call = runtime::tx().swarm().commit_answer(query, BoundedVec(record.ciphertext.clone()), record.commitment);
		match self.submitter.in_block(&call).await {
			Ok(()) => self.set_phase(query, SwarmPhase::Committed),
			Err(e) if e.is("Swarm::AlreadyAnswered") => self.set_phase(query, SwarmPhase::Committed),
			Err(SubmitError::Rejected(e)) => self.done(query, format!("not joined: {e}")),
			Err(e) => Err(e.into()),
		}
	}

	async fn reveal_answer(&self, query: u64) -> anyhow::Result<()> {
		let Some(record) = self.store.swarm_get(query)? else { return Ok(()) };
		match self.submitter.in_block(&runtime::tx().swarm().reveal_answer(query, record.key)).await {
			Ok(()) => self.set_phase(query, SwarmPhase::Revealed),
			Err(e) if e.is("Swarm::AlreadyRevealed") => self.set_phase(query, SwarmPhase::Revealed),
			Err(SubmitError::Rejected(e)) => self.refused(query, "answer reveal", &e),
			Err(e) => Err(e.into()),
		}
	}

	/// Judges the answers of its subset with its model, stores the order and a salt, commits.
	async fn rank(&self, query: u64, seed: [u8; 32], answerers: Vec<AccountId>) -> anyhow::Result<()> {
		let Some(record) = self.store.swarm_get(query)? else { return Ok(()) };
		let ranking = match record.ranking {
			Some(ranking) => ranking,
			None => {
				let me = answerers.iter().position(|a| *a == self.account).context("not among the ranked answers")?;
				let subset = ranking_subset(seed, answerers.len() as u32, me as u32);
				let info = query_info(&self.client, query).await?.context("the query is gone")?;
				let mut texts = Vec::with_capacity(subset.len());
				for answer in &subset {
					let who = &answerers[*answer as usize];
					let index = info.agents.0.iter().position(|a| a.who == *who).context("an answerer is not an agent")?;
					texts.push(answer_text(&self.client, query, index as u32).await?);
				}
				let (done, judged) = oneshot::channel();
				let prompt = String::from_utf8_lossy(&info.prompt.0).into_owned();
				let work = SwarmWork::Judge { model: record.model, prompt, answers: texts, done };
				self.jobs.send(Work::Swarm(work)).await.map_err(|_| anyhow::anyhow!("the device thread has stopped"))?;
				let scores = judged.await.map_err(|_| anyhow::anyhow!("the device thread has stopped"))??;
				let mut order: Vec<(u32, f64)> = subset.into_iter().zip(scores).collect();
				// Best first; equal judgements keep the subset's order.
				order.sort_by(|a, b| b.1.total_cmp(&a.1));
				let order: Vec<u32> = order.into_iter().map(|(a, _)| a).collect();
				let mut salt = [0u8; 32];
				getrandom::getrandom(&mut salt).context("no randomness from the OS for the ranking's salt")?;
				self.store.swarm_update(query, |r| r.ranking = Some((order.clone(), salt)))?;
				(order, salt)
			},
		};
		tracing::info!("ranking {:?}", ranking.0);
		let commitment = ranking_commitment(query, &self.account.0, &ranking.0, &ranking.1);
		match self.submitter.in_block(&runtime::tx().swarm().commit_ranking(query, commitment)).await {
			Ok(()) => self.set_phase(query, SwarmPhase::Ranked),
			Err(e) if e.is("Swarm::AlreadyCommitted") => self.set_phase(query, SwarmPhase::Ranked),
			Err(SubmitError::Rejected(e)) => self.refused(query, "ranking", &e),
			Err(e) => Err(e.into()),
		}
	}

	async fn reveal_ranking(&self, query: u64) -> anyhow::Result<()> {
		let Some((order, salt)) = self.store.swarm_get(query)?.and_then(|r| r.ranking) else { return Ok(()) };
		match self.submitter.in_block(&runtime::tx().swarm().reveal_ranking(query, BoundedVec(order), salt)).await {
			Ok(()) => self.set_phase(query, SwarmPhase::RankRevealed),
			Err(e) if e.is("Swarm::AlreadyRevealed") => self.set_phase(query, SwarmPhase::RankRevealed),
			Err(SubmitError::Rejected(e)) => self.refused(query, "ranking reveal", &e),
			Err(e) => Err(e.into()),
		}
	}

	/// Records that `phase` is reached. Steps run concurrently (a reveal may be sent while
	/// the commit's inclusion is still being confirmed), so a phase only ever moves forward.
	fn set_phase(&self, query: u64, phase: SwarmPhase) -> anyhow::Result<()> {
		self.store.swarm_update(query, |r| r.phase = r.phase.max(phase))?;
		Ok(())
	}

	/// The chain refused a step: the query's phase on chain, read each block, decides what
	/// comes next (the phase may have ended, or a concurrent step done it already).
	fn refused(&self, query: u64, step: &str, error: &str) -> anyhow::Result<()> {
		let _span = query_span(query).entered();
		tracing::warn!("the chain refused the {step}: {error}");
		Ok(())
	}
}

/// A swarm query, until it is pruned.
pub async fn query_info(client: &Client, query: u64) -> anyhow::Result<Option<crate::chain::QueryInfo>> {
	let at = client.at_current_block().await?;
	let value = at.storage().try_fetch(runtime::storage().swarm().queries(), (query,)).await?;
	Ok(value.map(|v| v.decode()).transpose()?)
}

/// The revealed answer of agent `index` of `query`.
pub async fn answer_text(client: &Client, query: u64, index: u32) -> anyhow::Result<String> {
	let at = client.at_current_block().await?;
	let value = at.storage().try_fetch(runtime::storage().swarm().answers(), (query, index)).await?;
	match value.map(|v| v.decode()).transpose()? {
		Some(AnswerOf::Opened(answer)) => Ok(String::from_utf8_lossy(&answer.text.0).into_owned()),
		_ => anyhow::bail!("answer {index} of query {query} is not revealed"),
	}
}

/// `who`'s swarm rating now (1 - sigma over its window of rated rounds, or the prior), as the
/// chain computes it.
pub async fn rating(client: &Client, who: &AccountId) -> anyhow::Result<f64> {
	let at = client.at_current_block().await?;
	let window = at.storage().try_fetch(runtime::storage().swarm().ratings(), (who.clone(),)).await?;
	let window: Vec<replica_primitives::swarm::Deviations> = match window {
		Some(value) => crate::chain::to_runtime(&value.decode()?.0)?,
		None => Vec::new(),
	};
	Ok(f64::from(replica_primitives::swarm::rating(window.iter()).deconstruct()) / 1e9)
}
