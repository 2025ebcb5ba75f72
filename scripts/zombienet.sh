#!/usr/bin/env bash
# Replica on a real relay chain (zombienet/): a Westend-local relay chain of two validators and
# Replica as parachain 2000 with two collators, all local processes, with the test
# zombienet/zombienet.zndsl run on it: the parachain is registered and produces blocks, both
# collators author, and an image task is assigned with the relay chain's BABE randomness and
# verified by three workers attached to a collator's RPC.
#
# Everything comes from the package registries: the zombienet CLI from npm (zombienet/
# package.json), the relay-chain node and its two PVF workers built from crates.io
# (zombienet/relay-node: polkadot-cli 42.0.0, the SDK release the rest of Replica pins), sharing
# the target dir and the `ci` profile. The first relay build is long (README › A relay-chain
# network); later runs build nothing.
#
#   scripts/zombienet.sh            build what is missing, run the network test, stop
#   scripts/zombienet.sh --spawn    build, then only start the network and keep it up (Ctrl-C)
#
# Network files and every node's log go to $REPLICA_ZOMBIENET_DIR (default: a new temp dir),
# printed at the start; the workers' logs are in its charlie/ directory.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

PROFILE=ci
mode=test
[ "${1:-}" = "--spawn" ] && mode=spawn

minutes_since() {
	local s=$(($(date +%s) - $1))
	printf '%d min %02d s' $((s / 60)) $((s % 60))
}
log() { echo "[zombienet] $*"; }

scripts/setup.sh

# npm records the installed tree in node_modules/.package-lock.json: reinstall when the lock
# is newer.
if [ ! -f zombienet/node_modules/.package-lock.json ] ||
	[ zombienet/package-lock.json -nt zombienet/node_modules/.package-lock.json ]; then
	log "installing the zombienet CLI (npm: @zombienet/cli)"
	(cd zombienet && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

bin="$CARGO_TARGET_DIR/$PROFILE"
started=$(date +%s)
log "building replica-node and replica-worker (profile $PROFILE)"
cargo build --profile "$PROFILE" --workspace --bins --locked --quiet
log "built in $(minutes_since "$started")"

started=$(date +%s)
if [ -x "$bin/polkadot" ] && [ -x "$bin/polkadot-prepare-worker" ] && [ -x "$bin/polkadot-execute-worker" ]; then
	log "building the relay-chain node (up to date or a short rebuild)"
else
	log "building the relay-chain node from crates.io (polkadot-cli 42.0.0, Westend runtime and its WASM," \
		"PVF workers): the first build takes about 25 min on 2 cores after the workspace's (README › A relay-chain network)"
fi
# substrate-wasm-builder looks the Westend runtime up in the metadata of the workspace it is
# built for, which it cannot find from a crates.io package on its own.
WASM_BUILD_WORKSPACE_HINT="$PWD/zombienet/relay-node" \
	cargo build --profile "$PROFILE" --locked --manifest-path zombienet/relay-node/Cargo.toml --quiet
log "relay-chain node built in $(minutes_since "$started"): $("$bin/polkadot" --version)"

dir="${REPLICA_ZOMBIENET_DIR:-$(mktemp -d -t replica-zombienet.XXXXXX)}"
# zombienet writes the network into a directory of its own making.
rmdir "$dir" 2>/dev/null || true
export REPLICA_ROOT="$PWD"
export REPLICA_RELAY_BIN="$bin"
export REPLICA_NODE="$bin/replica-node"
export REPLICA_WORKER="$bin/replica-worker"
export REPLICA_MODELS="$PWD/worker/models"
export REPLICA_PARA_RPC_PORT="${REPLICA_PARA_RPC_PORT:-9988}"
log "network files and logs: $dir (<node>.log per node; workers in $dir/charlie/worker-*.log)"
log "parachain RPC (charlie): ws://127.0.0.1:$REPLICA_PARA_RPC_PORT"

zombienet=(zombienet/node_modules/.bin/zombienet --provider native --logType text --dir "$dir" --force)
started=$(date +%s)
if [ "$mode" = spawn ]; then
	exec "${zombienet[@]}" spawn zombienet/network.toml
fi
status=0
"${zombienet[@]}" test zombienet/zombienet.zndsl || status=$?
log "network test $([ "$status" = 0 ] && echo passed || echo "FAILED ($status)") in $(minutes_since "$started"); logs: $dir"
exit "$status"
