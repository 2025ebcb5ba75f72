#!/usr/bin/env bash
# The one test command (README, CI). Installs what is missing, then builds and runs every test
# of the workspace with ONE cargo invocation and ONE profile (`ci`), so the ~1,100-crate
# polkadot-sdk graph compiles once: unit and integration tests, the node binary, and the
# end-to-end tests that start a real `replica-node --dev` (marked #[ignore] for plain
# `cargo test`, run here with --include-ignored). Then the pallets' benchmark test suites, and
# checks that the runtime builds with its runtime-benchmarks and try-runtime features and that
# replica-primitives builds for wasm32 without std.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
PROFILE=ci

started=$(date +%s)
step() {
	printf '\n==> [%4ss] %s\n' "$(($(date +%s) - started))" "$*"
}

step "setup"
scripts/setup.sh

step "one version of every polkadot-sdk crate"
scripts/check-sdk-versions.sh

step "build and run all tests, end-to-end included (profile $PROFILE)"
cargo test --profile "$PROFILE" --workspace --locked -- --include-ignored

step "replica-primitives builds for wasm32 without std"
cargo build --profile "$PROFILE" --locked -p replica-primitives --no-default-features --target wasm32-unknown-unknown

step "benchmark test suites of the Replica pallets; the runtime with runtime-benchmarks"
SKIP_WASM_BUILD=1 cargo test --profile "$PROFILE" --locked --lib \
	-p pallet-workers -p pallet-tasks -p pallet-swarm -p pallet-training -p pallet-relay-randomness -p replica-runtime \
	--features pallet-workers/runtime-benchmarks,pallet-tasks/runtime-benchmarks,pallet-swarm/runtime-benchmarks,pallet-training/runtime-benchmarks,pallet-relay-randomness/runtime-benchmarks,replica-runtime/runtime-benchmarks

step "runtime builds with try-runtime"
SKIP_WASM_BUILD=1 cargo check --profile "$PROFILE" --locked -p replica-runtime --features try-runtime

# The relay-chain network test needs the relay node, whose first build is long (README ›
# A relay-chain network): it runs when that node has been built (scripts/zombienet.sh builds
# it), and says so when it is skipped.
relay="$CARGO_TARGET_DIR/$PROFILE"
if [ -x "$relay/polkadot" ] && [ -x "$relay/polkadot-prepare-worker" ] && [ -x "$relay/polkadot-execute-worker" ]; then
	step "relay-chain network test (zombienet; the relay node is built)"
	scripts/zombienet.sh
else
	step "relay-chain network test skipped: the relay node is not built (scripts/zombienet.sh builds and runs it)"
fi

step "all checks passed"
