#!/usr/bin/env bash
# Times Replica's perceptual hashes against Python `imagehash` on the same in-memory 512x512
# RGB images, in one run, and prints the time per image of each and the ratio.
# Usage: scripts/bench-hash.sh [images] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
IMAGES="${1:-16}"
ROUNDS="${2:-20}"

scripts/setup.sh >/dev/null
PY="${REPLICA_VENV:-$HOME/.cache/replica/venv}/bin/python"
"$PY" -m pip install --quiet --disable-pip-version-check numpy pillow imagehash==4.3.2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" scripts/bench_hash.py generate "$work" "$IMAGES"

cargo build --quiet --profile ci --locked -p replica-worker --example bench_hash
"$CARGO_TARGET_DIR/ci/examples/bench_hash" "$work" "$ROUNDS" > "$work/rust.txt"
"$PY" scripts/bench_hash.py compare "$work" "$ROUNDS" "$work/rust.txt"
