#!/usr/bin/env bash
# Fails if Cargo.lock holds two versions of one polkadot-sdk crate: every SDK crate must come
# from the one release the workspace pins (stable2609), or runtime and node types stop matching.
set -euo pipefail
cd "$(dirname "$0")/.."
lock=Cargo.lock
[ -f "$lock" ] || { echo "check-sdk-versions: $lock is missing" >&2; exit 1; }
sdk='^(sp|sc|frame|pallet|cumulus|polkadot|staging-xcm|staging-parachain|xcm|substrate|parachains|binary-merkle-tree|bp|snowbridge|mmr|slot-range|tracing-gum|fork-tree|pallet)-'
dups=$(awk -v re="$sdk" '
	/^\[\[package\]\]/ { name = ""; ver = "" }
	/^name = / { gsub(/"/, "", $3); name = $3 }
	/^version = / { gsub(/"/, "", $3); if (name ~ re) print name, $3 }
' "$lock" | sort -u | awk '{ n[$1]++; v[$1] = v[$1] " " $2 } END { for (k in n) if (n[k] > 1) print k ":" v[k] }' | sort)
if [ -n "$dups" ]; then
	echo "check-sdk-versions: Cargo.lock holds more than one version of these polkadot-sdk crates:" >&2
	echo "$dups" >&2
	echo "Pin every SDK crate to the version that polkadot-sdk 2609.2.0 pins." >&2
	exit 1
fi
echo "check-sdk-versions: one version of every polkadot-sdk crate in Cargo.lock"
