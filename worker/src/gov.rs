//! `replica-worker gov`: governance without hand-written extrinsics. Every change is one
//! runtime call that Replica's pallets accept from `GovernanceOrigin` (Root, or at least two
//! thirds of the Council); this module wraps it in `Sudo.sudo` (a dev chain) or in a Council
//! motion (`Council.propose`, `vote`, `close`: a chain without sudo), prints the events it
//! caused, and turns a refusal into one line naming the pallet error and its documentation.

use anyhow::Context;
use replica_primitives::{HashAlg, Tolerances};
use replica_worker::{
	chain::{self, runtime, to_runtime, Client},
	config::{format_amount, parse_amount, parse_key},
	hex,
};
use runtime::runtime_types::{
	pallet_tasks::{pallet::Call as TasksCall, types::TaskParamsConfig},
	pallet_workers::{pallet::Call as WorkersCall, types::WorkerParams},
	replica_primitives::voting::Quorum,
	replica_runtime::RuntimeCall,
	sp_arithmetic::per_things::Perbill,
	sp_runtime::DispatchError,
};
use std::path::PathBuf;
use subxt::{ext::scale_encode::EncodeAsType, utils::H256};

/// Who signs a governance change and how it reaches `GovernanceOrigin`.
#[derive(clap::Args, Debug)]
pub struct Authority {
	/// WebSocket RPC endpoint of a Replica node.
	#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
	pub node: String,
	/// The signing account's secret URI or a file holding one: the sudo key with `--via sudo`
	/// (on a dev chain //Alice), a Council member's with `--via council`.
	#[arg(long, alias = "sudo-key", env = "REPLICA_GOV_KEY")]
	pub key: String,
	/// sudo: the call runs at once as Root (chains with pallet-sudo). council: the key's
	/// account proposes a Council motion with the two-thirds threshold the pallets require and
	/// votes aye; the motion is closed (and the call runs) once enough members voted.
	#[arg(long, value_enum, default_value_t = Via::Sudo)]
	pub via: Via,
	/// With `--via council`: further members' keys (comma separated) that vote aye at once —
	/// for a dev chain or members who sign on one machine. Without them the motion stays open
	/// for `replica-worker gov vote` and `gov close`.
	#[arg(long, value_delimiter = ',')]
	pub vote_with: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
	Sudo,
	Council,
}

/// `gov`'s subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum GovCommand {
	/// Prints the governance state: pallet-tasks and pallet-workers parameters (in the form
	/// `--set` takes), the models with their tolerances, the Council and its open motions.
	Show {
		/// WebSocket RPC endpoint of a Replica node.
		#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
		node: String,
	},
	/// Changes pallet-tasks parameters (`Tasks.set_params`): the current values with the
	/// given ones replaced. Fields: default_verifiers, default_quorum (majority or
	/// supermajority), commit_window, reveal_window, escalation_step, sampled_verifiers,
	/// outlier_slash, no_show_slash, bad_reveal_slash, withhold_slash (percentages, e.g.
	/// 12.5%), fee_slash_multiple, assignment_timeout, retention (blocks),
	/// sampled_min_probability (a percentage).
	TasksParams(SetParamsArgs),
	/// Changes pallet-workers parameters (`Workers.set_params`). Fields: min_stake (RPL),
	/// unbonding_period (blocks), max_missed.
	WorkersParams(SetParamsArgs),
	/// Registers a model directory (`Tasks.register_model`); the same as `model register`.
	RegisterModel(crate::dapp::RegisterModelArgs),
	/// Retires a model (`Tasks.retire_model`): no new tasks; open ones finish.
	RetireModel {
		#[command(flatten)]
		authority: Authority,
		/// The model: its on-chain id or its registered name.
		#[arg(long)]
		model: String,
	},
	/// Changes which hashes an image model's tasks compare and at what tolerance
	/// (`Tasks.set_model_tolerances`), in place: tasks created afterwards use them, open tasks
	/// keep theirs.
	SetTolerances(SetTolerancesArgs),
	/// Votes on an open Council motion (the key must be a member's).
	Vote {
		/// WebSocket RPC endpoint of a Replica node.
		#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
		node: String,
		/// The member's secret URI or a file holding one.
		#[arg(long, env = "REPLICA_GOV_KEY")]
		key: String,
		/// The motion's hash (printed when it was proposed, and by `gov show`).
		motion: String,
		/// Vote nay instead of aye.
		#[arg(long)]
		nay: bool,
	},
	/// Closes a Council motion that has enough votes (or whose voting period ended): it is
	/// approved and executed, or disapproved. Anyone may close.
	Close {
		/// WebSocket RPC endpoint of a Replica node.
		#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
		node: String,
		/// The signing account's secret URI or a file holding one.
		#[arg(long, env = "REPLICA_GOV_KEY")]
		key: String,
		/// The motion's hash.
		motion: String,
	},
}

/// `gov tasks-params` and `gov workers-params`.
#[derive(clap::Args, Debug)]
pub struct SetParamsArgs {
	#[command(flatten)]
	pub authority: Authority,
	/// A parameter and its new value, `field=value`; repeat for several.
	#[arg(long = "set", required = true, value_parser = parse_assignment)]
	pub assignments: Vec<(String, String)>,
}

/// `gov set-tolerances`.
#[derive(clap::Args, Debug)]
pub struct SetTolerancesArgs {
	#[command(flatten)]
	pub authority: Authority,
	/// The model: its on-chain id or its registered name.
	#[arg(long)]
	pub model: String,
	/// The compared hashes and their largest Hamming distances, e.g.
	/// `average=0,perceptual=1` (average, perceptual, difference, colour); a hash not named is
	/// not compared.
	#[arg(long, value_delimiter = ',', value_parser = parse_tolerance, conflicts_with = "from", required_unless_present = "from")]
	pub tolerance: Vec<(HashAlg, u8)>,
	/// Take them from a model directory's tolerances.toml (`replica-worker stats --recommend`).
	#[arg(long)]
	pub from: Option<PathBuf>,
}

fn parse_assignment(s: &str) -> Result<(String, String), String> {
	let (field, value) = s.split_once('=').ok_or_else(|| format!("`{s}` is not field=value"))?;
	Ok((field.trim().to_string(), value.trim().to_string()))
}

fn parse_tolerance(s: &str) -> Result<(HashAlg, u8), String> {
	let (alg, t) = s.split_once('=').ok_or_else(|| format!("`{s}` is not hash=tolerance (e.g. perceptual=1)"))?;
	let t = t.trim().parse::<u8>().map_err(|_| format!("`{t}` is not a tolerance (0..=64)"))?;
	Ok((crate::parse_alg(alg.trim())?, t))
}

pub async fn run(command: GovCommand) -> anyhow::Result<()> {
	match command {
		GovCommand::Show { node } => show(&chain::connect(&node).await?).await,
		GovCommand::TasksParams(args) => {
			let client = chain::connect(&args.authority.node).await?;
			let at = client.at_current_block().await?;
			let mut params = at.storage().fetch(runtime::storage().tasks().params(), ()).await?.decode()?;
			for (field, value) in &args.assignments {
				set(&mut task_fields(&mut params), field, value)?;
			}
			let call = RuntimeCall::Tasks(TasksCall::set_params { params });
			enact(&client, &args.authority, call, "Tasks.set_params").await.map(drop)
		},
		GovCommand::WorkersParams(args) => {
			let client = chain::connect(&args.authority.node).await?;
			let at = client.at_current_block().await?;
			let mut params = at.storage().fetch(runtime::storage().workers().params(), ()).await?.decode()?;
			for (field, value) in &args.assignments {
				set(&mut worker_fields(&mut params), field, value)?;
			}
			let call = RuntimeCall::Workers(WorkersCall::set_params { params });
			enact(&client, &args.authority, call, "Workers.set_params").await.map(drop)
		},
		GovCommand::RegisterModel(args) => crate::dapp::register_model(args).await,
		GovCommand::RetireModel { authority, model } => {
			let client = chain::connect(&authority.node).await?;
			let (model, _) = crate::dapp::find_model(&client, &model).await?;
			enact(&client, &authority, RuntimeCall::Tasks(TasksCall::retire_model { model }), "Tasks.retire_model").await.map(drop)
		},
		GovCommand::SetTolerances(args) => {
			let tolerances = match &args.from {
				Some(dir) => replica_worker::stats::tolerances::read(dir)?
					.with_context(|| format!("{} has no {}", dir.display(), replica_worker::stats::tolerances::FILE_NAME))?,
				None => Tolerances::of(&args.tolerance),
			};
			let client = chain::connect(&args.authority.node).await?;
			let (model, _) = crate::dapp::find_model(&client, &args.model).await?;
			println!("model {model}: comparing {}", replica_worker::stats::describe(&tolerances));
			let call = RuntimeCall::Tasks(TasksCall::set_model_tolerances { model, tolerances: to_runtime(&tolerances)? });
			enact(&client, &args.authority, call, "Tasks.set_model_tolerances").await.map(drop)
		},
		GovCommand::Vote { node, key, motion, nay } => {
			let client = chain::connect(&node).await?;
			let signer = parse_key(&key)?;
			let hash = parse_motion(&motion)?;
			let votes = motion_votes(&client, hash).await?;
			let call = runtime::transactions().council().vote(hash, votes.index, !nay);
			let events = chain::submit(&client, &call, &signer).await.map_err(|e| anyhow::anyhow!("voting on {motion}: {e}"))?;
			print_events(events.iter());
			Ok(())
		},
		GovCommand::Close { node, key, motion } => {
			let client = chain::connect(&node).await?;
			close(&client, &parse_key(&key)?, parse_motion(&motion)?).await.map(drop)
		},
	}
}

/// The events of the transaction in which a governance call ran.
pub type Enacted = Option<subxt::extrinsics::ExtrinsicEvents<chain::ReplicaConfig>>;

/// Has `call` executed by `GovernanceOrigin` as `authority` says, and prints its events.
/// A refusal — by the transaction or by the call inside it — is an error naming the pallet
/// error. Returns the events of the transaction in which the call ran, or `None` when it
/// waits in a Council motion for more votes.
pub async fn enact(client: &Client, authority: &Authority, call: RuntimeCall, what: &str) -> anyhow::Result<Enacted> {
	let signer = parse_key(&authority.key)?;
	match authority.via {
		Via::Sudo => {
			let events = chain::submit(client, &runtime::transactions().sudo().sudo(call), &signer)
				.await
				.map_err(|e| anyhow::anyhow!("{what} through sudo: {e}"))?;
			if let Some(sudid) = events.find_first::<runtime::sudo::events::Sudid>() {
				if let Err(e) = sudid?.sudo_result {
					anyhow::bail!("the chain refused {what}: {}", describe(client, &e).await);
				}
			}
			print_events(events.iter());
			Ok(Some(events))
		},
		Via::Council => {
			let at = client.at_current_block().await?;
			let members = at.storage().fetch(runtime::storage().council().members(), ()).await?.decode()?;
			let proposer = signer.public_key().to_account_id();
			anyhow::ensure!(members.contains(&proposer), "{proposer} is not a Council member: it cannot propose");
			let threshold = two_thirds_of(members.len() as u32);
			let length_bound = encoded_len(&at.metadata(), &call)?;
			let propose = runtime::transactions().council().propose(threshold, call, length_bound);
			let events = chain::submit(client, &propose, &signer)
				.await
				.map_err(|e| anyhow::anyhow!("proposing {what} to the Council: {e}"))?;
			print_events(events.iter());
			if let Some(executed) = events.find_first::<runtime::council::events::Executed>() {
				// A threshold of one runs the call at once.
				return match executed?.result {
					Ok(()) => Ok(Some(events)),
					Err(e) => anyhow::bail!("the chain refused {what}: {}", describe(client, &e).await),
				};
			}
			let proposed = events.find_first::<runtime::council::events::Proposed>().context("no Council.Proposed event")??;
			let hash = proposed.proposal_hash;
			println!(
				"motion 0x{} (#{}) proposed: {what}, needs {threshold} of {} members' ayes",
				hex(&hash.0),
				proposed.proposal_index,
				members.len()
			);
			let mut voters = vec![signer.clone()];
			for key in &authority.vote_with {
				voters.push(parse_key(key)?);
			}
			for voter in &voters {
				let votes = motion_votes(client, hash).await?;
				if votes.ayes.contains(&voter.public_key().to_account_id()) {
					continue;
				}
				let vote = runtime::transactions().council().vote(hash, proposed.proposal_index, true);
				let events = chain::submit(client, &vote, voter)
					.await
					.map_err(|e| anyhow::anyhow!("voting aye on {what}: {e}"))?;
				print_events(events.iter());
			}
			let votes = motion_votes(client, hash).await?;
			if (votes.ayes.len() as u32) < threshold {
				println!(
					"{} of {threshold} ayes: other members vote with `replica-worker gov vote 0x{}`, then anyone closes it \
					 with `replica-worker gov close 0x{}`",
					votes.ayes.len(),
					hex(&hash.0),
					hex(&hash.0)
				);
				return Ok(None);
			}
			close(client, &signer, hash).await.with_context(|| format!("closing the motion for {what}")).map(Some)
		},
	}
}

/// The least number of ayes among `members` that `EnsureProportionAtLeast<2, 3>` accepts.
fn two_thirds_of(members: u32) -> u32 {
	(2 * members).div_ceil(3).max(1)
}

type Votes = runtime::runtime_types::pallet_collective::Votes<chain::AccountId, u32>;

async fn motion_votes(client: &Client, hash: H256) -> anyhow::Result<Votes> {
	let at = client.at_current_block().await?;
	let votes = at.storage().try_fetch(runtime::storage().council().voting(), (hash,)).await?;
	votes.map(|v| v.decode()).transpose()?.with_context(|| format!("no open Council motion 0x{}", hex(&hash.0)))
}

/// Closes a motion: the call's weight and length come from the chain (the proposal and
/// `TransactionPaymentCallApi`), so the bound is exactly what it needs.
async fn close(
	client: &Client,
	signer: &subxt_signer::sr25519::Keypair,
	hash: H256,
) -> anyhow::Result<subxt::extrinsics::ExtrinsicEvents<chain::ReplicaConfig>> {
	let votes = motion_votes(client, hash).await?;
	let at = client.at_current_block().await?;
	let proposal = at
		.storage()
		.try_fetch(runtime::storage().council().proposal_of(), (hash,))
		.await?
		.context("the motion's proposal is gone")?
		.decode()?;
	let length = encoded_len(&at.metadata(), &proposal)?;
	let info = at
		.runtime_apis()
		.call(runtime::runtime_apis().transaction_payment_call_api().query_call_info(proposal, length))
		.await
		.context("asking the chain for the proposal's weight")?;
	let close = runtime::transactions().council().close(hash, votes.index, info.weight, length);
	let events = chain::submit(client, &close, signer).await.map_err(|e| anyhow::anyhow!("closing the motion: {e}"))?;
	print_events(events.iter());
	if events.find_first::<runtime::council::events::Disapproved>().is_some() {
		anyhow::bail!("the Council disapproved the motion");
	}
	match events.find_first::<runtime::council::events::Executed>().context("no Council.Executed event")??.result {
		Ok(()) => Ok(events),
		Err(e) => anyhow::bail!("the chain refused the motion's call: {}", describe(client, &e).await),
	}
}

/// The length of `call` as the chain encodes it (the bound `propose` and `close` take).
fn encoded_len(metadata: &subxt::Metadata, call: &RuntimeCall) -> anyhow::Result<u32> {
	let bytes = call
		.encode_as_type(metadata.outer_enums().call_enum_ty(), metadata.types())
		.map_err(|e| anyhow::anyhow!("encoding the call: {e}"))?;
	Ok(bytes.len() as u32)
}

fn parse_motion(motion: &str) -> anyhow::Result<H256> {
	let digits = motion.strip_prefix("0x").unwrap_or(motion);
	let bytes: [u8; 32] = (0..digits.len())
		.step_by(2)
		.map(|i| digits.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
		.collect::<Option<Vec<u8>>>()
		.and_then(|bytes| bytes.try_into().ok())
		.with_context(|| format!("`{motion}` is not a motion hash (0x and 64 hex digits)"))?;
	Ok(H256(bytes))
}

/// A dispatch error as `Pallet::Error (its documentation)`.
async fn describe(client: &Client, error: &DispatchError) -> String {
	if let DispatchError::Module(module) = error {
		let Ok(at) = client.at_current_block().await else { return format!("{error:?}") };
		let metadata = at.metadata();
		if let Some(pallet) = metadata.pallet_by_error_index(module.index) {
			if let Some(variant) = pallet.error_variant_by_index(module.error[0]) {
				let docs = variant.docs.join(" ");
				return if docs.is_empty() {
					format!("{}::{}", pallet.name(), variant.name)
				} else {
					format!("{}::{} ({})", pallet.name(), variant.name, docs.trim())
				};
			}
		}
	}
	format!("{error:?}")
}

fn print_events<'a>(events: impl Iterator<Item = Result<subxt::events::Event<'a, chain::ReplicaConfig>, subxt::error::EventsError>>) {
	for event in events.flatten() {
		if matches!(event.pallet_name(), "System" | "TransactionPayment" | "Balances") {
			continue;
		}
		match event.decode_fields_unchecked_as::<subxt::dynamic::Value>() {
			Ok(fields) => println!("  {}.{} {fields}", event.pallet_name(), event.event_name()),
			Err(_) => println!("  {}.{}", event.pallet_name(), event.event_name()),
		}
	}
}

/// A parameter, as `gov show` prints it and `--set` parses it.
enum Field<'a> {
	Count(&'a mut u32),
	Blocks(&'a mut u32),
	Share(&'a mut Perbill),
	Quorum(&'a mut Quorum),
	Amount(&'a mut u128),
}

impl Field<'_> {
	fn show(&self) -> String {
		match self {
			Field::Count(n) => n.to_string(),
			Field::Blocks(n) => format!("{n} blocks"),
			Field::Share(share) => format!("{}%", share.0 as f64 / 10_000_000.0),
			Field::Quorum(Quorum::Majority) => "majority".into(),
			Field::Quorum(Quorum::Supermajority) => "supermajority".into(),
			Field::Amount(amount) => format_amount(**amount),
		}
	}

	fn set(&mut self, value: &str) -> anyhow::Result<()> {
		match self {
			Field::Count(n) => **n = value.parse().context("expected a whole number")?,
			Field::Blocks(n) => **n = value.trim_end_matches("blocks").trim().parse().context("expected a number of blocks")?,
			Field::Share(share) => {
				let percent: f64 = value
					.strip_suffix('%')
					.and_then(|p| p.trim().parse().ok())
					.filter(|p: &f64| (0.0..=100.0).contains(p))
					.context("expected a percentage from 0% to 100%, e.g. 12.5%")?;
				share.0 = (percent * 10_000_000.0).round() as u32;
			},
			Field::Quorum(quorum) =>
				**quorum = match value {
					"majority" => Quorum::Majority,
					"supermajority" => Quorum::Supermajority,
					_ => anyhow::bail!("expected majority or supermajority"),
				},
			Field::Amount(amount) => **amount = parse_amount(value.trim_end_matches("RPL").trim())?,
		}
		Ok(())
	}
}

fn task_fields(p: &mut TaskParamsConfig<u32>) -> Vec<(&'static str, Field<'_>)> {
	vec![
		("default_verifiers", Field::Count(&mut p.default_verifiers)),
		("default_quorum", Field::Quorum(&mut p.default_quorum)),
		("commit_window", Field::Blocks(&mut p.commit_window)),
		("reveal_window", Field::Blocks(&mut p.reveal_window)),
		("escalation_step", Field::Count(&mut p.escalation_step)),
		("sampled_verifiers", Field::Count(&mut p.sampled_verifiers)),
		("outlier_slash", Field::Share(&mut p.outlier_slash)),
		("no_show_slash", Field::Share(&mut p.no_show_slash)),
		("bad_reveal_slash", Field::Share(&mut p.bad_reveal_slash)),
		("withhold_slash", Field::Share(&mut p.withhold_slash)),
		("fee_slash_multiple", Field::Count(&mut p.fee_slash_multiple)),
		("assignment_timeout", Field::Blocks(&mut p.assignment_timeout)),
		("retention", Field::Blocks(&mut p.retention)),
		("sampled_min_probability", Field::Share(&mut p.sampled_min_probability)),
	]
}

fn worker_fields(p: &mut WorkerParams<u128, u32>) -> Vec<(&'static str, Field<'_>)> {
	vec![
		("min_stake", Field::Amount(&mut p.min_stake)),
		("unbonding_period", Field::Blocks(&mut p.unbonding_period)),
		("max_missed", Field::Count(&mut p.max_missed)),
	]
}

fn set(fields: &mut [(&'static str, Field<'_>)], name: &str, value: &str) -> anyhow::Result<()> {
	let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
	let names = names.join(", ");
	let (_, field) = fields
		.iter_mut()
		.find(|(n, _)| *n == name)
		.with_context(|| format!("no parameter `{name}`: one of {names}"))?;
	field.set(value).with_context(|| format!("{name}={value}"))
}

async fn show(client: &Client) -> anyhow::Result<()> {
	let at = client.at_current_block().await?;
	println!("at block #{}", at.block_number());
	let mut tasks = at.storage().fetch(runtime::storage().tasks().params(), ()).await?.decode()?;
	println!("tasks parameters (gov tasks-params --set field=value):");
	for (name, field) in task_fields(&mut tasks) {
		println!("  {name}={}", field.show());
	}
	let mut workers = at.storage().fetch(runtime::storage().workers().params(), ()).await?.decode()?;
	println!("workers parameters (gov workers-params --set field=value):");
	for (name, field) in worker_fields(&mut workers) {
		println!("  {name}={}", field.show());
	}
	println!("models:");
	for (id, info) in chain::models(client).await? {
		let tolerances: Tolerances = to_runtime(&info.tolerances)?;
		let compared = if tolerances.algs.iter().next().is_some() {
			format!(", compares {}", replica_worker::stats::describe(&tolerances))
		} else {
			String::new()
		};
		println!(
			"  {id}: {}{}{compared}",
			String::from_utf8_lossy(&info.name.0),
			if info.retired { " (retired)" } else { "" }
		);
	}
	let members = at.storage().fetch(runtime::storage().council().members(), ()).await?.decode()?;
	println!("council ({} members, motions pass with {} ayes):", members.len(), two_thirds_of(members.len() as u32));
	for member in &members {
		println!("  {member}");
	}
	let motions = at.storage().fetch(runtime::storage().council().proposals(), ()).await?.decode()?;
	println!("open motions: {}", motions.0.len());
	for hash in motions.0 {
		let votes = motion_votes(client, hash).await?;
		println!(
			"  0x{} (#{}): {} ayes, {} nays of {} needed, voting ends at #{}",
			hex(&hash.0),
			votes.index,
			votes.ayes.len(),
			votes.nays.len(),
			votes.threshold,
			votes.end
		);
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn two_thirds_matches_ensure_proportion_at_least() {
		// EnsureProportionAtLeast<2, 3>: ayes * 3 >= members * 2.
		for members in 1..=100u32 {
			let threshold = two_thirds_of(members);
			assert!(threshold * 3 >= members * 2, "{members}: {threshold} ayes pass");
			assert!((threshold - 1) * 3 < members * 2 || threshold == 1, "{members}: {threshold} is the least");
		}
	}

	#[test]
	fn parameters_parse_and_bad_ones_name_the_choices() {
		let mut params = WorkerParams { min_stake: 0u128, unbonding_period: 0u32, max_missed: 0 };
		set(&mut worker_fields(&mut params), "min_stake", "12.5 RPL").unwrap();
		set(&mut worker_fields(&mut params), "unbonding_period", "100 blocks").unwrap();
		assert_eq!((params.min_stake, params.unbonding_period), (12_500_000_000_000, 100));
		let error = set(&mut worker_fields(&mut params), "min_stak", "1").unwrap_err().to_string();
		assert!(error.contains("min_stake, unbonding_period, max_missed"), "{error}");
		let error = format!("{:#}", set(&mut worker_fields(&mut params), "max_missed", "-1").unwrap_err());
		assert!(error.contains("max_missed=-1") && error.contains("whole number"), "{error}");

		let mut share = Perbill(0);
		Field::Share(&mut share).set("12.5%").unwrap();
		assert_eq!(share.0, 125_000_000);
		assert_eq!(Field::Share(&mut share).show(), "12.5%");
		assert!(Field::Share(&mut share).set("101%").is_err());
		assert!(Field::Share(&mut share).set("0.2").is_err(), "a bare fraction is ambiguous");
	}

	#[test]
	fn motion_hashes_parse() {
		let hash = format!("0x{}", "ab".repeat(32));
		assert_eq!(parse_motion(&hash).unwrap().0, [0xab; 32]);
		assert!(parse_motion("0x1234").is_err());
		assert!(parse_motion(&"zz".repeat(32)).is_err());
	}
}
