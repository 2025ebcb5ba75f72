#!/usr/bin/env bash
# Regenerates the weights.rs of Replica's pallets from their frame-benchmarking v2 benchmarks:
# builds the runtime WASM with `runtime-benchmarks` (it then carries the benchmarks) and
# replica-node (as it is: its `benchmark-pallet` subcommand needs no benchmark build), runs
# `replica-node benchmark-pallet` on that WASM with the `development` genesis preset, and writes
# each pallet's `src/weights.rs` through scripts/frame-weight-template.hbs. The benchmark WASM
# is copied aside; the next normal build puts the normal runtime WASM back (a few minutes).
#
# Usage: scripts/benchmark-weights.sh [pallet ...]   (default: workers tasks swarm training relay-randomness)
# Env: STEPS (50), REPEAT (20). Weights are only as good as the machine that measures them:
# run on the reference hardware before a release.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
PROFILE=ci
STEPS="${STEPS:-50}"
REPEAT="${REPEAT:-20}"
pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(workers tasks swarm training relay-randomness)

scripts/setup.sh
# The same package selections and features as scripts/test.sh, so that cargo's feature
# unification matches and the artifacts of a test run are reused instead of rebuilt.
cargo build --profile "$PROFILE" --workspace --tests --bins --examples --locked
node="$CARGO_TARGET_DIR/$PROFILE/replica-node"
cargo test --profile "$PROFILE" --locked --lib --no-run \
	-p pallet-workers -p pallet-tasks -p pallet-swarm -p pallet-training -p pallet-relay-randomness -p replica-runtime \
	--features pallet-workers/runtime-benchmarks,pallet-tasks/runtime-benchmarks,pallet-swarm/runtime-benchmarks,pallet-training/runtime-benchmarks,pallet-relay-randomness/runtime-benchmarks,replica-runtime/runtime-benchmarks
wasm="$CARGO_TARGET_DIR/$PROFILE/benchmark-runtime.compact.compressed.wasm"
cp "$CARGO_TARGET_DIR/$PROFILE/wbuild/replica-runtime/replica_runtime.compact.compressed.wasm" "$wasm"

for pallet in "${pallets[@]}"; do
	crate="pallet_${pallet//-/_}"
	echo "==> $crate"
	"$node" benchmark-pallet \
		--runtime "$wasm" \
		--genesis-builder runtime \
		--genesis-builder-preset development \
		--pallet "$crate" \
		--extrinsic '*' \
		--steps "$STEPS" \
		--repeat "$REPEAT" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/frame-weight-template.hbs \
		--output "pallets/$pallet/src/weights.rs"
done
