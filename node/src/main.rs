//! `replica-node`: the Replica collator.
//!
//! Built on `polkadot-omni-node-lib`, polkadot-sdk's recommended node for FRAME parachains,
//! with Replica's chain specs built in (`--dev`, `--chain local`, or a chain-spec file). It
//! collates for a relay chain, or with `--dev` runs a one-node chain that seals and finalizes
//! a block every `--dev-block-time` milliseconds (default 1000 here) or, with
//! `--instant-seal`, one block per transaction. A new chain directory gets ParityDB unless
//! `--database` says otherwise.

mod chain_spec;

use polkadot_omni_node_lib::{run, runtime::DefaultRuntimeResolver, CliConfig, RunConfig};
use std::os::unix::process::CommandExt;

/// `--dev` seals a block every this many milliseconds unless `--dev-block-time` or
/// `--instant-seal` is given. The omni-node's own default is 3000 ms; Replica's deadlines are
/// in blocks, so a faster dev chain makes local work and tests quicker.
const DEV_BLOCK_TIME_MS: &str = "1000";

struct ReplicaCli;

impl CliConfig for ReplicaCli {
	fn impl_version() -> String {
		env!("CARGO_PKG_VERSION").to_string()
	}

	fn description(executable_name: String) -> String {
		format!(
			"Replica collator: verifiable decentralized AI inference.\n\n\
			Chains: --dev (one-node dev chain), --chain local, or --chain <spec.json>.\n\
			Arguments after -- go to the embedded relay chain node.\n\n\
			Example: {executable_name} --dev --rpc-port 9944"
		)
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").to_string()
	}

	fn support_url() -> String {
		"https://github.com/replica-network/replica/issues".to_string()
	}

	fn copyright_start_year() -> u16 {
		2026
	}
}

/// The arguments with Replica's defaults added where they are not given (the omni-node parses
/// the process arguments itself, so `main` re-enters with them); `None` when nothing is added.
/// Only running a node gets them, not a subcommand (`build-spec`, `purge-chain`, …), and only
/// the parachain's arguments, not the relay chain's after `--`:
/// - `--database auto`: a new chain directory gets ParityDB (an existing RocksDB one is still
///   opened), where sc-cli's own default is RocksDB — whose C++ the `ci` profile compiles
///   unoptimised to save a cold build 18 minutes;
/// - with `--dev` and neither `--dev-block-time` nor `--instant-seal`: a block every
///   [`DEV_BLOCK_TIME_MS`].
fn with_defaults(args: &[String]) -> Option<Vec<String>> {
	if args.get(1).is_some_and(|a| !a.starts_with('-')) {
		return None;
	}
	let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
	let para_args = &args[1..split];
	let given = |flag: &str| para_args.iter().any(|a| a == flag || a.starts_with(&format!("{flag}=")));
	let mut added: Vec<String> = Vec::new();
	if !given("--database") && !given("--db") {
		added.extend(["--database".into(), "auto".into()]);
	}
	if given("--dev") && !given("--instant-seal") && !given("--dev-block-time") {
		added.extend(["--dev-block-time".into(), DEV_BLOCK_TIME_MS.into()]);
	}
	if added.is_empty() {
		return None;
	}
	let mut out = args[..split].to_vec();
	out.extend(added);
	out.extend_from_slice(&args[split..]);
	Some(out)
}

/// `replica-node benchmark-pallet …`: frame-benchmarking's `benchmark pallet` on a runtime WASM
/// built with `runtime-benchmarks` (`--runtime`, `--genesis-builder runtime`), as
/// `frame-omni-bencher` runs it. The node itself needs no `runtime-benchmarks` build for this
/// (the benchmarks live in the WASM), so `scripts/benchmark-weights.sh` does not rebuild the
/// node's whole dependency graph with that feature.
fn benchmark_pallet(args: &[String]) -> color_eyre::eyre::Result<()> {
	use sc_cli::clap::Parser;
	let cmd = frame_benchmarking_cli::PalletCmd::parse_from(
		std::iter::once(format!("{} benchmark-pallet", args[0])).chain(args[2..].iter().cloned()),
	);
	cmd.run_with_spec::<sp_runtime::traits::BlakeTwo256, cumulus_primitives_proof_size_hostfunction::storage_proof_size::HostFunctions>(None)
		.map_err(|e| color_eyre::eyre::eyre!("{e}"))
}

fn main() -> color_eyre::eyre::Result<()> {
	let args: Vec<String> = std::env::args().collect();
	if args.get(1).is_some_and(|a| a == "benchmark-pallet") {
		return benchmark_pallet(&args);
	}
	if let Some(args) = with_defaults(&args) {
		let err = std::process::Command::new(std::env::current_exe()?).args(&args[1..]).exec();
		return Err(err.into());
	}

	color_eyre::install()?;
	let config = RunConfig::new(
		Box::new(DefaultRuntimeResolver),
		Box::new(chain_spec::ReplicaChainSpecLoader),
	);
	Ok(run::<ReplicaCli>(config)?)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn args(s: &str) -> Vec<String> {
		s.split_whitespace().map(String::from).collect()
	}

	#[test]
	fn dev_gets_the_default_block_time_and_database() {
		assert_eq!(
			with_defaults(&args("node --dev --tmp")),
			Some(args("node --dev --tmp --database auto --dev-block-time 1000"))
		);
	}

	#[test]
	fn explicit_choices_are_kept() {
		assert_eq!(with_defaults(&args("node --dev --dev-block-time 200 --database rocksdb")), None);
		assert_eq!(with_defaults(&args("node --dev --dev-block-time=200 --db=paritydb")), None);
		assert_eq!(with_defaults(&args("node --dev --instant-seal --database auto")), None);
		assert_eq!(with_defaults(&args("node --chain local --database rocksdb")), None);
		assert_eq!(with_defaults(&args("node --chain local")), Some(args("node --chain local --database auto")));
	}

	#[test]
	fn subcommands_get_nothing() {
		assert_eq!(with_defaults(&args("node purge-chain --dev -y")), None);
		assert_eq!(with_defaults(&args("node build-spec --chain local")), None);
	}

	#[test]
	fn relay_chain_arguments_stay_after_the_separator() {
		assert_eq!(
			with_defaults(&args("node --dev -- --dev")),
			Some(args("node --dev --database auto --dev-block-time 1000 -- --dev"))
		);
		assert_eq!(with_defaults(&args("node --tmp --database paritydb -- --dev")), None);
	}
}
