#!/usr/bin/env bash
# Runs Replica locally: builds (same profile as the tests, so a tested tree starts at once),
# starts a one-node dev chain on ws://127.0.0.1:9944 and checks it with the worker's chain
# client. The node keeps running until Ctrl-C; `scripts/demo.sh --once` stops after the check.
#
# It also runs the worker's embedded text and image models once. The full worker flow (register, submit an
# image and a text task, print the verified results) joins this script with the worker daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

PROFILE=ci
RPC_PORT="${REPLICA_RPC_PORT:-9944}"
once=0
[ "${1:-}" = "--once" ] && once=1

scripts/setup.sh
echo "[demo] building replica-node and replica-worker (profile $PROFILE)"
cargo build --profile "$PROFILE" --workspace --locked --all-targets
bin="$CARGO_TARGET_DIR/$PROFILE"

base=$(mktemp -d)
log="$base/node.log"
"$bin/replica-node" --dev --base-path "$base/chain" --rpc-port "$RPC_PORT" --no-prometheus \
	--no-telemetry --no-mdns >"$log" 2>&1 &
node_pid=$!
cleanup() {
	kill "$node_pid" 2>/dev/null || true
	wait "$node_pid" 2>/dev/null || true
	rm -rf "$base"
}
trap cleanup EXIT INT TERM

echo "[demo] dev node starting (log: $log)"
for _ in $(seq 1 120); do
	if "$bin/replica-worker" ping --node "ws://127.0.0.1:$RPC_PORT" 2>/dev/null; then
		break
	fi
	if ! kill -0 "$node_pid" 2>/dev/null; then
		echo "[demo] replica-node exited:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 1
done
sleep 3
"$bin/replica-worker" ping --node "ws://127.0.0.1:$RPC_PORT"

echo "[demo] the worker's embedded text model, deterministic (beam search, 4 beams), on the CPU:"
"$bin/replica-worker" generate --device cpu --prompt "Love is" --max-tokens 40 --beams 4
echo "[demo] the embedded image model (Stable Diffusion architecture, digits), on the CPU:"
"$bin/replica-worker" generate-image --device cpu --prompt "a photo of the digit 7" --guidance 4 --out-dir demo-output

if [ "$once" = 1 ]; then
	echo "[demo] done"
	exit 0
fi
echo "[demo] dev chain running at ws://127.0.0.1:$RPC_PORT (polkadot.js apps works too); Ctrl-C stops it"
wait "$node_pid"
