#!/usr/bin/env bash
# The chain's verification throughput: starts its own dev node (blocks every
# REPLICA_BENCH_BLOCK_MS, default 6000 as on a relay chain), then runs
# `replica-worker bench-chain` against it (simulated workers commit and reveal through the
# real calls; no model runs) and prints a row per block and a summary with the ceilings.
# Uses the binaries `scripts/test.sh` builds (profile ci); builds them if missing.
#
#   scripts/bench-chain.sh                          defaults (see replica-worker bench-chain --help)
#   scripts/bench-chain.sh --tasks-per-block 100 --workers 200
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

PROFILE=ci
bin="$CARGO_TARGET_DIR/$PROFILE"
if [ ! -x "$bin/replica-node" ] || [ ! -x "$bin/replica-worker" ]; then
	scripts/setup.sh
	cargo build --profile "$PROFILE" --workspace --locked --tests
fi
RPC_PORT="${REPLICA_BENCH_RPC_PORT:-9955}"
BLOCK_MS="${REPLICA_BENCH_BLOCK_MS:-6000}"
base=$(mktemp -d)
cleanup() {
	[ -n "${node_pid:-}" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
	rm -rf "$base"
}
trap cleanup EXIT INT TERM

"$bin/replica-node" --dev --dev-block-time "$BLOCK_MS" --base-path "$base/chain" --rpc-port "$RPC_PORT" \
	--rpc-max-connections 1000 --pool-limit 100000 --pool-kbytes 1000000 \
	--no-prometheus --no-telemetry --no-mdns >"$base/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 180); do
	"$bin/replica-worker" ping --node "ws://127.0.0.1:$RPC_PORT" >/dev/null 2>&1 && break
	if ! kill -0 "$node_pid" 2>/dev/null; then
		echo "[bench-chain] replica-node exited:" >&2
		cat "$base/node.log" >&2
		exit 1
	fi
	sleep 1
done
echo "[bench-chain] dev node, a block every $BLOCK_MS ms (log: $base/node.log, removed at the end)"
"$bin/replica-worker" bench-chain --node "ws://127.0.0.1:$RPC_PORT" --node-log "$base/node.log" "$@"
