//! `polkadot`: the relay-chain node of Replica's zombienet test network (`zombienet/`).
//!
//! polkadot-cli's own entry point, unchanged, built with the Westend runtime so that
//! `--chain westend-local` gives a two-validator relay chain whose BABE randomness the
//! parachain's task assignment reads.

fn main() {
	if let Err(error) = polkadot_cli::run() {
		eprintln!("Error: {error}");
		std::process::exit(1);
	}
}
