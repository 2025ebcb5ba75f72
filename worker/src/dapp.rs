//! The client side of the binary: `replica-worker task submit|show` and `query ask|show` for
//! dapp developers and
//! `replica-worker model register` (also `gov register-model`) for governance. The daemon library does not depend on it.

use replica_worker::{
	hex,
	chain::{self, runtime, to_runtime, AccountId, Client, ModelInfo, ModelKind, SubmitError, TaskStatus},
	config::{format_amount, parse_amount, parse_key},
	models::{self, LocalKind},
};
use anyhow::Context;
use replica_primitives::{HashAlg, ResultPayload, Tolerances};
use replica_primitives::swarm;
use runtime::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec,
	pallet_swarm::types::{QuerySpec, QueryStatus, Windows},
	pallet_tasks::types::{Decoding, ImageParams, TaskParams, TaskSpec, TextParams, Verification},
};
use std::path::{Path, PathBuf};

/// `task submit`'s flags.
#[derive(clap::Args, Debug)]
pub struct SubmitArgs {
	/// WebSocket RPC endpoint of a Replica node.
	#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
	pub node: String,
	/// The paying account's secret URI (`//Eve`, a mnemonic, a 0x seed) or a file holding one.
	#[arg(long, env = "REPLICA_KEY")]
	pub key: String,
	/// The model: its on-chain id or its registered name.
	#[arg(long)]
	pub model: String,
	/// The prompt.
	#[arg(long)]
	pub prompt: String,
	/// Image tasks: what the image should not show.
	#[arg(long, default_value = "")]
	pub negative_prompt: String,
	/// The task seed (image latents); random when absent.
	#[arg(long)]
	pub seed: Option<u64>,
	/// Image tasks: DDIM steps (default: 30, or the model's maximum if lower).
	#[arg(long)]
	pub steps: Option<u32>,
	/// Image tasks: classifier-free guidance scale.
	#[arg(long, default_value_t = 7.5)]
	pub guidance: f64,
	/// Image tasks: width and height in pixels (default: the model's largest side, at most 512).
	#[arg(long)]
	pub size: Option<u32>,
	/// Image tasks: number of images.
	#[arg(long, default_value_t = 1)]
	pub count: u32,
	/// Text tasks: most tokens to generate.
	#[arg(long, default_value_t = 64)]
	pub max_tokens: u32,
	/// Text tasks: beam search with this many beams (1..=10); greedy decoding when absent.
	#[arg(long)]
	pub beams: Option<u8>,
	/// How many workers run it (default: the chain's default).
	#[arg(long)]
	pub verifiers: Option<u32>,
	/// Fee in RPL, split among the winners (default: the model's minimum fee).
	#[arg(long)]
	pub fee: Option<String>,
	/// Follow the task to its verdict, download the result from a winner and check it
	/// against the chain.
	#[arg(long)]
	pub wait: bool,
	/// With --wait: where downloaded images are saved.
	#[arg(long, default_value = ".")]
	pub out_dir: PathBuf,
	/// With --wait: give up after this many blocks.
	#[arg(long, default_value_t = 600)]
	pub timeout_blocks: u64,
}

/// `task show`'s flags.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
	/// WebSocket RPC endpoint of a Replica node.
	#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
	pub node: String,
	/// The task id.
	pub task: u64,
}

/// `model register`'s flags.
#[derive(clap::Args, Debug)]
pub struct RegisterModelArgs {
	#[command(flatten)]
	pub authority: crate::gov::Authority,
	/// The model directory (a diffusers image pipeline or a GPT-2 text model); its digest is
	/// what workers match.
	pub dir: PathBuf,
	/// The on-chain name (default: the directory's name).
	#[arg(long)]
	pub name: Option<String>,
	/// Least fee of a task, in RPL.
	#[arg(long, default_value = "1")]
	pub min_fee: String,
	/// Image models: compare aHash, pHash and dHash, each at this largest Hamming distance.
	/// By default the tolerances calibrated for the model (its directory's tolerances.toml,
	/// written by `replica-worker stats --recommend`), else 2 for each of the three.
	#[arg(long)]
	pub tolerance: Option<u8>,
	/// Image models: most denoising steps.
	#[arg(long, default_value_t = 50)]
	pub max_steps: u32,
	/// Image models: largest side (default: the size the model was trained at).
	#[arg(long)]
	pub max_side: Option<u32>,
	/// Image models: most images per task.
	#[arg(long, default_value_t = 4)]
	pub max_images: u32,
	/// Text models: most generated tokens per task (at most the model's context minus one).
	#[arg(long, default_value_t = 256)]
	pub max_tokens: u32,
}

/// Creates a task; with `--wait`, follows it to its verdict and fetches the verified result.
pub async fn submit(args: SubmitArgs) -> anyhow::Result<()> {
	let signer = parse_key(&args.key)?;
	let client = chain::connect(&args.node).await?;
	let (model, info) = find_model(&client, &args.model).await?;
	let params = match info.kind {
		ModelKind::Image => {
			let size = args.size.unwrap_or(info.max_side.min(512));
			let steps = args.steps.unwrap_or(info.max_steps.min(30));
			TaskParams::Image(ImageParams {
				prompt: BoundedVec(args.prompt.clone().into_bytes()),
				negative_prompt: BoundedVec(args.negative_prompt.clone().into_bytes()),
				seed: args.seed.unwrap_or_else(random_seed),
				steps,
				guidance_milli: (args.guidance * 1000.0).round().clamp(0.0, u32::MAX as f64) as u32,
				width: size,
				height: size,
				count: args.count,
			})
		},
		ModelKind::Text => TaskParams::Text(TextParams {
			prompt: BoundedVec(args.prompt.clone().into_bytes()),
			max_tokens: args.max_tokens,
			decoding: args.beams.map_or(Decoding::Greedy, |width| Decoding::Beam { width }),
		}),
	};
	let fee = match &args.fee {
		Some(fee) => parse_amount(fee).with_context(|| format!("--fee {fee}"))?,
		None => info.min_fee,
	};
	let spec = TaskSpec {
		model,
		params,
		verification: args.verifiers.map(|verifiers| Verification::Replicated { verifiers }),
		quorum: None,
		fee,
	};
	// Follow blocks from before the task exists, so no event of it is missed.
	let mut blocks = client.stream_blocks().await?;
	let events = chain::submit(&client, &runtime::transactions().tasks().create_task(spec), &signer)
		.await
		.map_err(|e| match e {
			SubmitError::Rejected(e) => anyhow::anyhow!("the chain refused the task: {e}"),
			e => anyhow::anyhow!("creating the task: {e}"),
		})?;
	let task = events
		.find_first::<runtime::tasks::events::TaskCreated>()
		.context("no TaskCreated event")??
		.task;
	println!("task {task} created: model {model} ({}), fee {}", String::from_utf8_lossy(&info.name.0), format_amount(fee));
	if !args.wait {
		return Ok(());
	}

	let mut last_block = None;
	let finalized = loop {
		let block = blocks.next().await.context("the node closed the block stream")??;
		let number = block.number();
		let first = *last_block.get_or_insert(number);
		anyhow::ensure!(number < first + args.timeout_blocks, "task {task}: no verdict after {} blocks", args.timeout_blocks);
		let events = block.at().await?.events().fetch().await?;
		use runtime::tasks::events as ev;
		for e in events.find::<ev::TaskAssigned>() {
			let e = e?;
			if e.task == task {
				println!("#{number}: round {} assigned to {} worker(s), commit by #{}", e.round, e.workers.len(), e.commit_deadline);
			}
		}
		for e in events.find::<ev::RevealPhaseStarted>() {
			let e = e?;
			if e.task == task {
				println!("#{number}: all committed; revealing until #{}", e.deadline);
			}
		}
		for e in events.find::<ev::TaskEscalated>() {
			let e = e?;
			if e.task == task {
				println!("#{number}: no quorum; round {} will be drawn afresh with {} worker(s)", e.round, e.verifiers);
			}
		}
		let failed = events.find::<ev::TaskFailed>().filter_map(Result::ok).find(|e| e.task == task);
		if let Some(e) = failed {
			anyhow::bail!("task {task} failed ({:?}); the fee was refunded", e.reason);
		}
		let finalized = events.find::<ev::TaskFinalized>().filter_map(Result::ok).find(|e| e.task == task);
		if let Some(e) = finalized {
			println!("#{number}: finalized");
			break e;
		}
	};
	println!("winners, each credited {}:", format_amount(finalized.share));
	for winner in &finalized.winners {
		println!("  {winner}");
	}
	let result: ResultPayload = codec::Decode::decode(&mut &codec::Encode::encode(&finalized.result)[..])
		.context("the verdict's result does not decode")?;
	match result {
		ResultPayload::Text(text) => {
			println!("verified text (tokens digest 0x{}):", hex(&text.tokens_digest));
			println!("{}", String::from_utf8_lossy(&text.text));
		},
		ResultPayload::CannotExecute(reason) => println!("the workers agreed the task cannot run: {reason:?}"),
		ResultPayload::Image(images) => {
			std::fs::create_dir_all(&args.out_dir).with_context(|| format!("creating {}", args.out_dir.display()))?;
			for (i, image) in images.iter().enumerate() {
				let png = download_verified(&client, &finalized.winners, task, i, &image.png_digest).await?;
				let path = args.out_dir.join(format!("task-{task}-image-{i}.png"));
				std::fs::write(&path, &png).with_context(|| format!("writing {}", path.display()))?;
				println!("verified image {} (blake2-256 0x{} as on chain)", path.display(), hex(&image.png_digest));
			}
		},
	}
	Ok(())
}

/// How long a download waits for winners that answer "not revealed yet": a worker learns that
/// its reveal was included a moment after the block that holds it, which a dapp may see first.
const REVEAL_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// The PNG `index` of `task` from the first winner whose copy has the on-chain digest.
async fn download_verified(client: &Client, winners: &[AccountId], task: u64, index: usize, digest: &[u8; 32]) -> anyhow::Result<Vec<u8>> {
	let give_up = std::time::Instant::now() + REVEAL_GRACE;
	loop {
		let mut problems = Vec::new();
		let mut not_yet = false;
		for winner in winners {
			let Some(info) = chain::worker_info(client, winner).await? else { continue };
			let endpoint = String::from_utf8_lossy(&info.endpoint.0).trim_end_matches('/').to_string();
			let url = format!("{endpoint}/tasks/{task}/image-{index}.png");
			match replica_worker::http::get(&url).await {
				Ok(png) if sp_crypto_hashing::blake2_256(&png) == *digest => return Ok(png),
				Ok(_) => problems.push(format!("{url}: digest differs from the chain's")),
				Err(e) => {
					not_yet |= e
						.downcast_ref::<replica_worker::http::BadStatus>()
						.is_some_and(|bad| bad.status == hyper::StatusCode::FORBIDDEN);
					problems.push(format!("{e:#}"));
				},
			}
		}
		if !not_yet || std::time::Instant::now() >= give_up {
			anyhow::bail!("no winner served image {index} of task {task} with the on-chain digest: {}", problems.join("; "));
		}
		tokio::time::sleep(std::time::Duration::from_secs(1)).await;
	}
}

/// Prints a task as the chain has it.
pub async fn show(args: ShowArgs) -> anyhow::Result<()> {
	let client = chain::connect(&args.node).await?;
	let info = chain::task_info(&client, args.task).await?.with_context(|| format!("no task {} (never created, or pruned)", args.task))?;
	let status = match &info.status {
		TaskStatus::Pending { timeout_at } => format!("pending (times out at #{timeout_at})"),
		TaskStatus::Committing { round, deadline } => format!("round {round}: committing until #{deadline}"),
		TaskStatus::Sampling { committed_by } => format!("sampled: executor committed by #{committed_by}; verification draw pending"),
		TaskStatus::Revealing { round, deadline } => format!("round {round}: revealing until #{deadline}"),
		TaskStatus::Finalized => "finalized".into(),
		TaskStatus::Failed { reason } => format!("failed ({reason:?}), refunded"),
		TaskStatus::Cancelled => "cancelled, refunded".into(),
	};
	println!("task {}: {status}", args.task);
	println!("  model {}, created at #{} by {}", info.model, info.created_at, info.creator);
	println!("  fee held {}", format_amount(info.fee));
	match &info.params {
		TaskParams::Image(p) => println!(
			"  image: \"{}\", seed {}, {} steps, guidance {}, {}x{}, {} image(s)",
			String::from_utf8_lossy(&p.prompt.0),
			p.seed,
			p.steps,
			p.guidance_milli as f64 / 1000.0,
			p.width,
			p.height,
			p.count
		),
		TaskParams::Text(p) => println!("  text: \"{}\", {} tokens, {:?}", String::from_utf8_lossy(&p.prompt.0), p.max_tokens, p.decoding),
	}
	for worker in &info.workers.0 {
		if let Some(outcome) = chain::settled_outcome(&info, worker) {
			println!("  worker {worker}: settled, {outcome:?}");
			continue;
		}
		match chain::assignment(&client, args.task, worker).await? {
			Some(a) => println!(
				"  worker {worker}: round {}, {}, {}, {:?}",
				a.round,
				if a.commitment.is_some() { "committed" } else { "not committed" },
				if a.reveal_attempted { "revealed" } else { "not revealed" },
				a.outcome
			),
			None => println!("  worker {worker}: round {}, not committed", info.round),
		}
	}
	Ok(())
}

/// `query ask`'s flags.
#[derive(clap::Args, Debug)]
pub struct AskArgs {
	/// WebSocket RPC endpoint of a Replica node.
	#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
	pub node: String,
	/// The paying account's secret URI (`//Eve`, a mnemonic, a 0x seed) or a file holding one.
	#[arg(long, env = "REPLICA_KEY")]
	pub key: String,
	/// The text model: its on-chain id or its registered name.
	#[arg(long)]
	pub model: String,
	/// The question.
	#[arg(long)]
	pub prompt: String,
	/// Fee in RPL, paid to the agent whose answer wins (default: the chain's minimum).
	#[arg(long)]
	pub fee: Option<String>,
	/// The most agents that may answer.
	#[arg(long, default_value_t = 8)]
	pub agents: u32,
	/// Blocks for each phase: answering, revealing answers, ranking, revealing rankings.
	#[arg(long, default_value_t = 10)]
	pub window: u32,
	/// Follow the query to its end and print every answer with the rankings' verdict.
	#[arg(long)]
	pub wait: bool,
	/// With --wait: give up after this many blocks.
	#[arg(long, default_value_t = 600)]
	pub timeout_blocks: u64,
}

/// `query show`'s flags.
#[derive(clap::Args, Debug)]
pub struct ShowQueryArgs {
	/// WebSocket RPC endpoint of a Replica node.
	#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
	pub node: String,
	/// The query id.
	pub query: u64,
}

/// Asks the swarm a question; with `--wait`, follows it to the chosen answer.
pub async fn ask(args: AskArgs) -> anyhow::Result<()> {
	let signer = parse_key(&args.key)?;
	let client = chain::connect(&args.node).await?;
	let (model, info) = find_model(&client, &args.model).await?;
	anyhow::ensure!(matches!(info.kind, ModelKind::Text), "model {model} is not a text model: the swarm answers text");
	let at = client.at_current_block().await?;
	let params = at.storage().try_fetch(runtime::storage().swarm().params(), ()).await?.map(|p| p.decode()).transpose()?;
	let fee = match (&args.fee, &params) {
		(Some(fee), _) => parse_amount(fee).with_context(|| format!("--fee {fee}"))?,
		(None, Some(params)) => params.min_fee,
		(None, None) => anyhow::bail!("the chain publishes no swarm parameters: give --fee"),
	};
	let window = args.window;
	let spec = QuerySpec {
		model,
		prompt: BoundedVec(args.prompt.clone().into_bytes()),
		fee,
		max_agents: args.agents,
		windows: Windows { answer: window, reveal: window, rank: window, rank_reveal: window },
	};
	let mut blocks = client.stream_blocks().await?;
	let events = chain::submit(&client, &runtime::transactions().swarm().create_query(spec), &signer)
		.await
		.map_err(|e| match e {
			SubmitError::Rejected(e) => anyhow::anyhow!("the chain refused the query: {e}"),
			e => anyhow::anyhow!("creating the query: {e}"),
		})?;
	let created = events.find_first::<runtime::swarm::events::QueryCreated>().context("no QueryCreated event")??;
	let query = created.query;
	println!(
		"query {query} created: model {model} ({}), fee {}, ticket {}; answers until #{}",
		String::from_utf8_lossy(&info.name.0),
		format_amount(fee),
		format_amount(created.ticket),
		created.deadline
	);
	if !args.wait {
		return Ok(());
	}
	let mut first = None;
	loop {
		let block = blocks.next().await.context("the node closed the block stream")??;
		let number = block.number();
		let started = *first.get_or_insert(number);
		anyhow::ensure!(number < started + args.timeout_blocks, "query {query}: no end after {} blocks", args.timeout_blocks);
		let events = block.at().await?.events().fetch().await?;
		use runtime::swarm::events as ev;
		let answered = events.find::<ev::AnswerCommitted>().filter_map(Result::ok).filter(|e| e.query == query).count();
		if answered > 0 {
			println!("#{number}: {answered} agent(s) answered");
		}
		for e in events.find::<ev::RankingDrawn>().filter_map(Result::ok).filter(|e| e.query == query) {
			println!("#{number}: {} answers to rank; each agent ranks {} of them", e.answerers.len(), swarm::ranking_size(e.answerers.len() as u32));
		}
		let failed = events.find::<ev::QueryFailed>().filter_map(Result::ok).find(|e| e.query == query);
		if let Some(e) = failed {
			anyhow::bail!("query {query} failed ({:?}); the fee was refunded", e.reason);
		}
		let finalized = events.find::<ev::QueryFinalized>().filter_map(Result::ok).find(|e| e.query == query);
		if let Some(e) = finalized {
			println!("#{number}: decided; {} paid {}", e.winner, format_amount(e.reward));
			println!("chosen answer:\n{}", String::from_utf8_lossy(&e.answer.text.0));
			return print_query(&client, query).await;
		}
	}
}

/// Prints a swarm query as the chain has it.
pub async fn show_query(args: ShowQueryArgs) -> anyhow::Result<()> {
	let client = chain::connect(&args.node).await?;
	print_query(&client, args.query).await
}

async fn print_query(client: &Client, query: u64) -> anyhow::Result<()> {
	let info = replica_worker::swarm::query_info(client, query)
		.await?
		.with_context(|| format!("no query {query} (never created, or pruned)"))?;
	let status = match &info.status {
		QueryStatus::Answering { deadline } => format!("answering until #{deadline}"),
		QueryStatus::RevealingAnswers { deadline } => format!("revealing answers until #{deadline}"),
		QueryStatus::Drawing { timeout_at } => format!("drawing who ranks what (times out at #{timeout_at})"),
		QueryStatus::Ranking { deadline } => format!("ranking until #{deadline}"),
		QueryStatus::RevealingRankings { deadline } => format!("revealing rankings until #{deadline}"),
		QueryStatus::Finalized { winner } => format!("decided: agent {winner}'s answer"),
		QueryStatus::Failed { reason } => format!("failed ({reason:?}), refunded"),
		QueryStatus::Cancelled => "cancelled, refunded".into(),
	};
	println!("query {query}: {status}");
	println!("  \"{}\" to model {}, fee {}, ticket {}", String::from_utf8_lossy(&info.prompt.0), info.model, format_amount(info.fee), format_amount(info.ticket));
	for (index, agent) in info.agents.0.iter().enumerate() {
		let answer = match replica_worker::swarm::answer_text(client, query, index as u32).await {
			Ok(text) => format!("\"{text}\""),
			Err(_) => format!("{:?}", agent.answer),
		};
		let rating = replica_worker::swarm::rating(client, &agent.who).await?;
		println!("  agent {index} {} (rating {:.3}): answer {answer}; ranking {:?}", agent.who, rating, agent.ranking);
	}
	Ok(())
}

/// Registers a local model directory on chain through sudo (the dev chain's governance).
pub async fn register_model(args: RegisterModelArgs) -> anyhow::Result<()> {
	let kind = models::kind_of(&args.dir).with_context(|| {
		format!("{} is not a model directory (a diffusers image pipeline or a GPT-2 text model)", args.dir.display())
	})?;
	let digest = models::digest(&args.dir)?;
	let name = match &args.name {
		Some(name) => name.clone(),
		None => args.dir.file_name().map(|n| n.to_string_lossy().into_owned()).context("give --name")?,
	};
	let min_fee = parse_amount(&args.min_fee).with_context(|| format!("--min-fee {}", args.min_fee))?;
	let weights: u64 = dir_size(&args.dir);
	// Room for the weights, activations and libtorch itself.
	let vram_mib = u32::try_from((weights * 2 / (1 << 20)).max(512)).unwrap_or(u32::MAX);
	let (kind, tolerances, max_side) = match kind {
		LocalKind::Image => {
			let side = match args.max_side {
				Some(side) => side,
				None => native_side(&args.dir)?,
			};
			let tolerances = match args.tolerance {
				Some(t) => uniform_tolerances(t),
				None => replica_worker::stats::tolerances::read(&args.dir)?
					.unwrap_or_else(|| uniform_tolerances(replica_worker::stats::tolerances::UNCALIBRATED_TOLERANCE)),
			};
			(ModelKind::Image, tolerances, side)
		},
		LocalKind::Text => (ModelKind::Text, Tolerances::default(), 0),
	};
	// The chain refuses a text model whose tasks could leave no room for a prompt.
	let context_len = match kind {
		ModelKind::Text => u32::try_from(replica_worker::engines::text::context_len(&args.dir)?).unwrap_or(u32::MAX),
		_ => 0,
	};
	let max_tokens = match kind {
		ModelKind::Text => args.max_tokens.min(context_len.saturating_sub(1)),
		_ => 0,
	};
	let is_image = matches!(kind, ModelKind::Image);
	let info = ModelInfo {
		name: BoundedVec(name.clone().into_bytes()),
		kind,
		weights_digest: digest,
		vram_mib,
		tolerances: to_runtime(&tolerances)?,
		max_steps: if is_image { args.max_steps } else { 0 },
		max_side,
		max_images: if is_image { args.max_images } else { 0 },
		max_tokens,
		context_len,
		min_fee,
		retired: false,
	};
	let client = chain::connect(&args.authority.node).await?;
	let call = runtime::runtime_types::replica_runtime::RuntimeCall::Tasks(
		runtime::runtime_types::pallet_tasks::pallet::Call::register_model { info },
	);
	let enacted = crate::gov::enact(&client, &args.authority, call, "Tasks.register_model")
		.await
		.with_context(|| format!("registering {name}"))?;
	let Some(events) = enacted else {
		println!("{name} is registered once the Council motion passes");
		return Ok(());
	};
	let model = events.find_first::<runtime::tasks::events::ModelRegistered>().context("no ModelRegistered event")??.model;
	let compared = if is_image { format!(", tolerances {}", replica_worker::stats::describe(&tolerances)) } else { String::new() };
	println!("model {model} registered: {name}, digest 0x{}{compared}", hex(&digest));
	Ok(())
}

/// aHash, pHash and dHash compared, each at `t`.
fn uniform_tolerances(t: u8) -> Tolerances {
	Tolerances::of(&[(HashAlg::Average, t), (HashAlg::Perceptual, t), (HashAlg::Difference, t)])
}

/// A model by id or name.
pub(crate) async fn find_model(client: &Client, wanted: &str) -> anyhow::Result<(u32, ModelInfo<u128>)> {
	let all = chain::models(client).await?;
	let found = match wanted.parse::<u32>() {
		Ok(id) => all.into_iter().find(|(m, _)| *m == id),
		Err(_) => all.into_iter().rev().find(|(_, info)| info.name.0 == wanted.as_bytes() && !info.retired),
	};
	let (id, info) = found.with_context(|| format!("no model `{wanted}` on chain"))?;
	anyhow::ensure!(!info.retired, "model {id} is retired");
	Ok((id, info))
}

/// The image size a diffusers pipeline was trained at: the VAE's `sample_size`.
fn native_side(dir: &Path) -> anyhow::Result<u32> {
	let path = dir.join("vae").join("config.json");
	let config: serde_json::Value =
		serde_json::from_slice(&std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?)
			.with_context(|| format!("parsing {}", path.display()))?;
	Ok(config.get("sample_size").and_then(|v| v.as_u64()).unwrap_or(512) as u32)
}

fn dir_size(dir: &Path) -> u64 {
	std::fs::read_dir(dir)
		.map(|entries| {
			entries
				.filter_map(Result::ok)
				.map(|e| {
					let path = e.path();
					if path.is_dir() { dir_size(&path) } else { path.metadata().map(|m| m.len()).unwrap_or(0) }
				})
				.sum()
		})
		.unwrap_or(0)
}

fn random_seed() -> u64 {
	let mut bytes = [0u8; 8];
	let _ = getrandom::getrandom(&mut bytes);
	u64::from_le_bytes(bytes)
}
