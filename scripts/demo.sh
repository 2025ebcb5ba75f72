#!/usr/bin/env bash
# Replica end to end on one machine: builds (same profile as the tests, so a tested tree starts
# at once), starts a dev chain on ws://127.0.0.1:9944, has governance (sudo, Alice) register
# the two embedded models, starts three workers (Bob, Charlie, Dave) on the CPU, and as a dapp
# (Eve) submits an image task and a text task, waits for their verdicts, downloads the image
# from a winner and checks it against the on-chain digest. Then it stops everything.
#
#   scripts/demo.sh                 the whole flow, then stop
#   scripts/demo.sh --keep-running  leave the chain and the workers running until Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

PROFILE=ci
RPC_PORT="${REPLICA_RPC_PORT:-9944}"
NODE="ws://127.0.0.1:$RPC_PORT"
keep=0
[ "${1:-}" = "--keep-running" ] && keep=1

scripts/setup.sh
echo "[demo] building replica-node and replica-worker (profile $PROFILE)"
cargo build --profile "$PROFILE" --workspace --locked --all-targets
bin="$CARGO_TARGET_DIR/$PROFILE"
worker="$bin/replica-worker"

base=$(mktemp -d)
out=demo-output
mkdir -p "$out"
pids=()
cleanup() {
	# Workers first (SIGTERM: they stop gracefully), then the node.
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$base"
}
trap cleanup EXIT INT TERM

"$bin/replica-node" --dev --base-path "$base/chain" --rpc-port "$RPC_PORT" --no-prometheus \
	--no-telemetry --no-mdns >"$base/node.log" 2>&1 &
node_pid=$!
echo "[demo] dev node starting (log: $base/node.log)"
for _ in $(seq 1 120); do
	if "$worker" ping --node "$NODE" 2>/dev/null; then
		break
	fi
	if ! kill -0 "$node_pid" 2>/dev/null; then
		echo "[demo] replica-node exited:" >&2
		cat "$base/node.log" >&2
		exit 1
	fi
	sleep 1
done

echo "[demo] governance (sudo) registers the embedded models"
"$worker" model register --node "$NODE" --sudo-key //Alice worker/models/digits-sd
"$worker" model register --node "$NODE" --sudo-key //Alice worker/models/fortunes-gpt

echo "[demo] three workers register, stake and go online (logs: $base/worker-*.log)"
port=8081
for name in Bob Charlie Dave; do
	"$worker" run --node "$NODE" --key "//$name" --device cpu --models worker/models --store "$base/store-$name" \
		--listen "127.0.0.1:$port" --metrics "127.0.0.1:$((port + 1540))" \
		>"$base/worker-$name.log" 2>&1 &
	pids=("$!" "${pids[@]}")
	port=$((port + 1))
done
pids+=("$node_pid")
for name in Bob Charlie Dave; do
	for _ in $(seq 1 60); do
		grep -q "online: models" "$base/worker-$name.log" && break
		sleep 1
	done
	grep -q "online: models" "$base/worker-$name.log" || { cat "$base/worker-$name.log" >&2; exit 1; }
done

echo "[demo] Eve submits an image task and waits for its verified result"
"$worker" task submit --node "$NODE" --key //Eve --model digits-sd --prompt "a photo of the digit 7" \
	--guidance 4 --verifiers 3 --wait --out-dir "$out"
echo "[demo] Eve submits a text task (beam search, 4 beams)"
"$worker" task submit --node "$NODE" --key //Eve --model fortunes-gpt --prompt "Love is" \
	--beams 4 --max-tokens 40 --verifiers 3 --wait

if [ "$keep" = 1 ]; then
	echo "[demo] chain at $NODE and three workers running (results on http://127.0.0.1:8081..8083); Ctrl-C stops them"
	wait "$node_pid"
fi
echo "[demo] done; stopping the workers and the node"
