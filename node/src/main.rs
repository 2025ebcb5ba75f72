//! `replica-node`: the Replica collator.
//!
//! Built on `polkadot-omni-node-lib`, polkadot-sdk's recommended node for FRAME parachains,
//! with Replica's chain specs built in (`--dev`, `--chain local`, or a chain-spec file). It
//! collates for a relay chain, or with `--dev` runs a one-node chain that seals and finalizes
//! a block every `--dev-block-time` milliseconds (default 1000 here) or, with
//! `--instant-seal`, one block per transaction.

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

/// The arguments with Replica's default dev block time added, when `--dev` is given alone.
fn with_dev_block_time(args: &[String]) -> Option<Vec<String>> {
	let para_args = args.iter().take_while(|a| a.as_str() != "--");
	let mut dev = false;
	for arg in para_args {
		match arg.as_str() {
			"--dev" => dev = true,
			a if a == "--instant-seal" || a.starts_with("--dev-block-time") => return None,
			_ => {},
		}
	}
	if !dev {
		return None;
	}
	let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
	let mut out = args[..split].to_vec();
	out.push("--dev-block-time".into());
	out.push(DEV_BLOCK_TIME_MS.into());
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
	if let Some(args) = with_dev_block_time(&args) {
		// The omni-node parses the process arguments itself, so re-enter with the default added.
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
	fn dev_gets_the_default_block_time() {
		assert_eq!(
			with_dev_block_time(&args("node --dev --tmp")),
			Some(args("node --dev --tmp --dev-block-time 1000"))
		);
	}

	#[test]
	fn explicit_block_time_or_instant_seal_is_kept() {
		assert_eq!(with_dev_block_time(&args("node --dev --dev-block-time 200")), None);
		assert_eq!(with_dev_block_time(&args("node --dev --dev-block-time=200")), None);
		assert_eq!(with_dev_block_time(&args("node --dev --instant-seal")), None);
		assert_eq!(with_dev_block_time(&args("node --chain local")), None);
	}

	#[test]
	fn relay_chain_arguments_stay_after_the_separator() {
		assert_eq!(
			with_dev_block_time(&args("node --dev -- --dev")),
			Some(args("node --dev --dev-block-time 1000 -- --dev"))
		);
		assert_eq!(with_dev_block_time(&args("node --tmp -- --dev")), None);
	}
}
