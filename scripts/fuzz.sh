#!/usr/bin/env bash
# Fuzzes replica-primitives' `open` and `tally` (cargo-fuzz, libFuzzer) for a bounded time each.
#   scripts/fuzz.sh            # 60 s per target
#   FUZZ_SECONDS=600 scripts/fuzz.sh
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz once.
# Crashes are saved under pallets/primitives/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../pallets/primitives/fuzz"
seconds="${FUZZ_SECONDS:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
# A target dir of its own: sanitizer builds share nothing with the main build.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/replica/fuzz-target}"
for target in open tally; do
	echo "[fuzz] $target for ${seconds}s"
	cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=4096
done
echo "[fuzz] no crash"
