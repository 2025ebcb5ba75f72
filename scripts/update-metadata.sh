#!/usr/bin/env bash
# Regenerates worker/metadata/replica.scale, the runtime metadata the worker's subxt interface
# is generated from. Run it after any runtime change; the runtime test `metadata_is_current`
# fails until the new file is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo run --quiet --profile "${REPLICA_PROFILE:-ci}" -p replica-runtime --example export-metadata -- \
	worker/metadata/replica.scale
