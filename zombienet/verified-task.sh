#!/usr/bin/env bash
# Run by zombienet (zombienet.zndsl) in charlie's directory of the network: the dapp's path on a
# relay-chain-backed Replica. Governance (sudo, Alice) registers the embedded models, three
# workers (Bob, Charlie, Dave, on the CPU) register, stake and go online on charlie's RPC, and
# Eve submits an image task and waits for its verified image. Worker logs: worker-*.log here.
# Writes replica-task.env (the task and the parachain block its verifiers were drawn in) for
# relay-randomness.js. scripts/zombienet.sh sets REPLICA_ROOT, REPLICA_WORKER, REPLICA_MODELS
# and REPLICA_PARA_RPC_PORT.
set -euo pipefail
node="ws://127.0.0.1:${REPLICA_PARA_RPC_PORT:?}"
worker="${REPLICA_WORKER:?}"
models="${REPLICA_MODELS:?}"
here=$(pwd)
pids=()
source "${REPLICA_ROOT:?}/scripts/workers.sh"
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

echo "governance (sudo) registers the embedded models on $node"
register_models "$node" "$models"
start_workers "$node" "$models" "$here" 18081 100 Bob Charlie Dave
wait_online "$here" 300 Bob Charlie Dave
echo "workers Bob, Charlie and Dave online"

echo "Eve submits an image task and waits for its verified result"
"$worker" task submit --node "$node" --key //Eve --model digits-sd --prompt "a photo of the digit 7" \
	--guidance 4 --verifiers 3 --wait --out-dir "$here/task-output" | tee "$here/task.log"
task=$(sed -n 's/^task \([0-9]*\) created.*/\1/p' "$here/task.log")
assigned=$(sed -n 's/^#\([0-9]*\): round 0 assigned.*/\1/p' "$here/task.log" | head -1)
grep -q "^verified image" "$here/task.log"
[ -n "$task" ] && [ -n "$assigned" ]
printf 'TASK=%s\nASSIGNED_AT=%s\n' "$task" "$assigned" >"$here/replica-task.env"
