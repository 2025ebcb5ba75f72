#!/usr/bin/env bash
# Replica end to end on one machine: builds (same profile as the tests, so a tested tree starts
# at once), starts a dev chain on ws://127.0.0.1:9944, has governance (sudo, Alice) register
# the two embedded models, starts three workers (Bob, Charlie, Dave) on the CPU, and as a dapp
# (Eve) submits an image task and a text task, waits for their verdicts, downloads the image
# from a winner and checks it against the on-chain digest, then asks the three workers' swarm
# an open-ended question (pallet-swarm) and prints the answer they chose. Then it stops
# everything.
#
#   scripts/demo.sh                 the whole flow, then stop
#   scripts/demo.sh --keep-running  leave the chain and the workers running until Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/workers.sh

PROFILE=ci
# Measured on a 2-core, 24 GiB machine from an empty target dir (README › Measured build times).
COLD_BUILD_MINUTES=38
COLD_UNITS=1500
RPC_PORT="${REPLICA_RPC_PORT:-9944}"
NODE="ws://127.0.0.1:$RPC_PORT"
keep=0
[ "${1:-}" = "--keep-running" ] && keep=1

minutes_since() {
	local s=$((SECONDS - $1))
	printf '%d min %02d s' $((s / 60)) $((s % 60))
}

# Only what the demo runs: the two binaries. `--workspace` selects the same packages as
# scripts/test.sh, so cargo resolves the same features and the tests later reuse every crate
# built here. On a terminal cargo draws its own progress bar; otherwise (a log, CI) cargo runs
# quietly and a line per minute says how far the build is. REPLICA_BUILD_TIMINGS=1 adds
# cargo's --timings report (an HTML file under $CARGO_TARGET_DIR/cargo-timings/). The runtime's
# second WASM, which only the tests upgrade a chain to, is not built (runtime/build.rs).
build_binaries() {
	export REPLICA_SKIP_UPGRADE_TEST_WASM=1
	local args=(build --profile "$PROFILE" --workspace --bins --locked)
	[ "${REPLICA_BUILD_TIMINGS:-0}" = 1 ] && args+=(--timings)
	if [ -t 2 ]; then
		cargo "${args[@]}"
		return
	fi
	local fifo status=0 built=0 last=$SECONDS line
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	# Artifacts come as JSON lines on stdout; errors and warnings are rendered on stderr.
	cargo "${args[@]}" --quiet --message-format json-render-diagnostics >"$fifo" &
	local cargo_pid=$!
	exec 3<"$fifo"
	rm -f "$fifo"
	while true; do
		if IFS= read -r -t 5 line <&3; then
			case "$line" in *'"reason":"compiler-artifact"'*) built=$((built + 1)) ;; esac
		elif [ $? -le 128 ]; then
			break # end of cargo's output
		fi
		if [ $((SECONDS - last)) -ge 60 ]; then
			last=$SECONDS
			echo "[demo] still building: $(minutes_since "$build_started"), $built crates and build scripts done"
		fi
	done
	exec 3<&-
	wait "$cargo_pid" || status=$?
	return "$status"
}

scripts/setup.sh
build_started=$SECONDS
if [ -x "$CARGO_TARGET_DIR/$PROFILE/replica-node" ] && [ -x "$CARGO_TARGET_DIR/$PROFILE/replica-worker" ]; then
	echo "[demo] building replica-node and replica-worker (profile $PROFILE; up to date or a short rebuild)"
else
	echo "[demo] building replica-node and replica-worker (profile $PROFILE): the first build compiles" \
		"about $COLD_UNITS crates and build scripts, the polkadot-sdk node and the runtime's WASM among them;" \
		"about $COLD_BUILD_MINUTES min on 2 cores (README › Measured build times), later runs seconds"
fi
build_binaries
echo "[demo] built in $(minutes_since "$build_started")"
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
register_models "$NODE" worker/models

echo "[demo] three workers register, stake and go online (logs: $base/worker-*.log)"
start_workers "$NODE" worker/models "$base" 8081 1540 Bob Charlie Dave
pids+=("$node_pid")
wait_online "$base" 60 Bob Charlie Dave

echo "[demo] Eve submits an image task and waits for its verified result"
"$worker" task submit --node "$NODE" --key //Eve --model digits-sd --prompt "a photo of the digit 7" \
	--guidance 4 --verifiers 3 --wait --out-dir "$out"
echo "[demo] Eve submits a text task (beam search, 4 beams)"
"$worker" task submit --node "$NODE" --key //Eve --model fortunes-gpt --prompt "Love is" \
	--beams 4 --max-tokens 40 --verifiers 3 --wait
echo "[demo] Eve asks the swarm an open-ended question: the three workers answer, rank each other and one is paid"
"$worker" query ask --node "$NODE" --key //Eve --model fortunes-gpt --prompt "Love is" \
	--fee 20 --agents 3 --window 5 --wait

if [ "$keep" = 1 ]; then
	echo "[demo] chain at $NODE and three workers running (results on http://127.0.0.1:8081..8083); Ctrl-C stops them"
	wait "$node_pid"
fi
echo "[demo] done; stopping the workers and the node"
