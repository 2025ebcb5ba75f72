//! `replica-worker`: Replica's off-chain GPU worker.

use clap::Parser;

/// Replica's off-chain GPU worker. Follows a Replica node, runs the inference it is assigned,
/// and commits and reveals its results on chain. (The daemon lands with the worker issues;
/// today this binary checks that it can reach a node.)
#[derive(Parser, Debug)]
#[command(name = "replica-worker", version)]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
	/// Connects to a node and prints its chain and best block.
	Ping {
		/// WebSocket or HTTP RPC endpoint of a Replica node.
		#[arg(long, env = "REPLICA_NODE_URL", default_value = "ws://127.0.0.1:9944")]
		node: String,
	},
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| "info".into()),
		)
		.init();
	match run(Cli::parse()).await {
		Ok(()) => std::process::ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("replica-worker: {e:#}");
			std::process::ExitCode::FAILURE
		},
	}
}

async fn run(cli: Cli) -> anyhow::Result<()> {
	match cli.command {
		Command::Ping { node } => {
			let client = replica_worker::chain::connect(&node).await?;
			let block = client.at_current_block().await?;
			println!(
				"connected to {node}: spec version {}, finalized block #{}",
				block.spec_version(),
				block.block_number()
			);
			Ok(())
		},
	}
}
