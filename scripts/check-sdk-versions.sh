#!/usr/bin/env bash
# Fails if a lock file holds two versions of one polkadot-sdk crate: every SDK crate must come
# from the one release the workspace pins (stable2609), or runtime and node types stop matching.
# Checks the workspace's Cargo.lock and that of the zombienet relay node (its own workspace).
set -euo pipefail
cd "$(dirname "$0")/.."
sdk='^(sp|sc|frame|pallet|cumulus|polkadot|staging-xcm|staging-parachain|xcm|substrate|parachains|binary-merkle-tree|bp|snowbridge|mmr|slot-range|tracing-gum|fork-tree|pallet)-'
locks=(Cargo.lock zombienet/relay-node/Cargo.lock)

# "name version" of every SDK crate in a lock file, one line per version.
versions() {
	awk -v re="$sdk" '
		/^\[\[package\]\]/ { name = "" }
		/^name = / { gsub(/"/, "", $3); name = $3 }
		/^version = / { gsub(/"/, "", $3); if (name ~ re) print name, $3 }
	' "$1" | sort -u
}

for lock in "${locks[@]}"; do
	[ -f "$lock" ] || { echo "check-sdk-versions: $lock is missing" >&2; exit 1; }
	dups=$(versions "$lock" | awk '{ n[$1]++; v[$1] = v[$1] " " $2 } END { for (k in n) if (n[k] > 1) print k ":" v[k] }' | sort)
	if [ -n "$dups" ]; then
		echo "check-sdk-versions: $lock holds more than one version of these polkadot-sdk crates:" >&2
		echo "$dups" >&2
		echo "Pin every SDK crate to the version that polkadot-sdk 2609.2.0 pins." >&2
		exit 1
	fi
	echo "check-sdk-versions: one version of every polkadot-sdk crate in $lock"
done

# The relay node must run the same release as the collator: an SDK crate in both locks has one
# version in both.
differ=$(join <(versions "${locks[0]}") <(versions "${locks[1]}") | awk '$2 != $3')
if [ -n "$differ" ]; then
	echo "check-sdk-versions: these polkadot-sdk crates differ between ${locks[0]} and ${locks[1]}:" >&2
	echo "$differ" >&2
	exit 1
fi
echo "check-sdk-versions: the relay node and the workspace share every polkadot-sdk crate's version"
