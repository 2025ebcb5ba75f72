//! End to end, pallet-swarm with the real binaries: a `replica-node --dev`, the embedded text
//! model registered by governance, five `replica-worker run` daemons on the CPU that answer a
//! swarm query (sampling), rank each other's answers by log-likelihood and reveal both, and a
//! dapp asking with `replica-worker query ask --wait`. The winner is paid the fee, every other
//! agent gets its ticket back, and the chain's books balance. Needs the node binary: run by
//! scripts/test.sh (--include-ignored).

mod common;

use std::time::Duration;

use common::{
	daemons::{cli_ok, models_dir, wait_until, Worker},
	DevNode, NODE_START,
};
use replica_worker::chain::{runtime, AccountId, Client};
use runtime::runtime_types::pallet_swarm::types::{AnswerState, QueryStatus, RankingState};
use subxt_signer::sr25519::dev;

async fn free_balance(client: &Client, who: &AccountId) -> u128 {
	let at = client.at_current_block().await.unwrap();
	at.storage().fetch(runtime::storage().system().account(), (who.clone(),)).await.unwrap().decode().unwrap().data.free
}

/// The query id of a `query ask` output ("query N created: …").
fn query_id(output: &str) -> u64 {
	let line = output.lines().find(|l| l.starts_with("query ") && l.contains(" created")).expect("a created line");
	line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the replica-node binary; run by scripts/test.sh"]
async fn five_daemons_answer_and_rank_a_swarm_query_and_the_winner_is_paid() {
	let mut node = DevNode::start(&[]);
	let client = node.connect(NODE_START).await;
	node.wait_for_height(&client, 1, Duration::from_secs(60)).await;
	let url = node.url();
	let dir = models_dir().join("fortunes-gpt");
	let out = cli_ok(&["model", "register", "--node", &url, "--sudo-key", "//Alice", dir.to_str().unwrap()]);
	assert!(out.contains("registered: fortunes-gpt"), "{out}");

	let workers = vec![
		Worker::start(&node, "Alice", dev::alice()),
		Worker::start(&node, "Bob", dev::bob()),
		Worker::start(&node, "Charlie", dev::charlie()),
		Worker::start(&node, "Dave", dev::dave()),
		Worker::start(&node, "Ferdie", dev::ferdie()),
	];
	for w in &workers {
		w.wait_online(&client).await;
	}
	let mut before = Vec::new();
	for w in &workers {
		before.push(free_balance(&client, &w.account()).await);
	}

	let out = cli_ok(&[
		"query", "ask", "--node", &url, "--key", "//Eve", "--model", "fortunes-gpt", "--prompt", "Love is",
		"--fee", "20", "--agents", "5", "--window", "5", "--wait",
	]);
	let query = query_id(&out);
	assert!(out.contains("chosen answer:"), "{out}");

	let at = client.at_current_block().await.unwrap();
	let info = at.storage().fetch(runtime::storage().swarm().queries(), (query,)).await.unwrap().decode().unwrap();
	let QueryStatus::Finalized { winner } = info.status else { panic!("query {query}: {:?}\n{out}", info.status) };
	// Every daemon answered, revealed, ranked and revealed its ranking.
	assert_eq!(info.agents.0.len(), 5, "{out}");
	for agent in &info.agents.0 {
		assert!(matches!(agent.answer, AnswerState::Revealed), "{}: {:?}", agent.who, agent.answer);
		assert!(matches!(agent.ranking, RankingState::Revealed), "{}: {:?}", agent.who, agent.ranking);
	}
	let winner = info.agents.0[winner as usize].who.clone();
	let params = at.storage().fetch(runtime::storage().swarm().params(), ()).await.unwrap().decode().unwrap();
	assert_eq!(info.ticket, params.ticket);
	// The winner got the fee (no ticket was lost in a round where every answer ranks the same:
	// five agents rank one answer each, and a lone answer scores 1). The others got their
	// tickets back. Each paid its transactions' fees: four per agent, well under a tenth of an
	// RPL on the dev chain.
	let fee = 20 * 1_000_000_000_000u128;
	let tx_fees = 100_000_000_000u128;
	for (w, before) in workers.iter().zip(&before) {
		let after = free_balance(&client, &w.account()).await;
		if w.account() == winner {
			assert!(after + tx_fees > before + fee && after < before + fee, "{}: {before} -> {after}", w.name);
			wait_until("the winner's daemon to log its win", Duration::from_secs(30), || {
				let log = w.log();
				async move { log.contains("swarm query: won") }
			})
			.await;
		} else {
			assert!(after + tx_fees > *before && after < *before, "{}: {before} -> {after}", w.name);
		}
	}
	// `query show` prints each agent's answer and its rating.
	let shown = cli_ok(&["query", "show", "--node", &url, &query.to_string()]);
	assert!(shown.contains("decided") && shown.matches("rating").count() == 5, "{shown}");
}
