#!/usr/bin/env bash
# Verification statistics of the embedded image model (worker/models/digits-sd) on this
# machine: the consensus table of honest replicas on every execution variant here (CPU with one
# and with every thread, each CUDA device), the Type II collision rate over about a million
# different-seed pairs, the Type I probability for 3/5/7 and 4/7/10 verifiers, three PNG
# plots, and the recommended tolerances, which it writes to the model's tolerances.toml
# (`model register` registers them). Output: docs/verification/ (see docs/verification.md).
# About 10 minutes on 2 CPU cores. Extra arguments go to `replica-worker stats` (see --help),
# e.g. `scripts/stats.sh --type2-seeds 100` for a quick run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

scripts/setup.sh
cargo build --profile ci --workspace --bins --locked
"$CARGO_TARGET_DIR/ci/replica-worker" stats --model-dir worker/models/digits-sd --out-dir docs/verification \
	--recommend "$@"
