#!/usr/bin/env bash
# Installs everything a fresh machine needs to build and test Replica. Idempotent: a second run
# only checks and returns in seconds.
#   - Rust: the wasm32-unknown-unknown target and rust-src (the runtime is built to WASM)
#   - Debian: protobuf-compiler (libp2p), clang + libclang-dev (rocksdb bindings), pkg-config,
#     fonts-dejavu-core (the text of the plots of `replica-worker stats` and `swarm-sim`)
#   - Node.js >= 18 (Debian's nodejs and npm when missing) and clients/js's npm packages
#     (@polkadot/api, pinned by its package-lock.json): the polkadot.js dapp client
#   - Python: a venv at $REPLICA_VENV (default ~/.cache/replica/venv) holding the PyPI torch
#     wheel (2.13.0) whose libtorch the worker links through tch, and used by the scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
# rustup installs cargo in ~/.cargo/bin, which a non-login shell may not have on PATH.
command -v cargo >/dev/null 2>&1 || export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '[setup] %s\n' "$*"; }

# --- Rust -----------------------------------------------------------------------------------
if ! command -v rustup >/dev/null 2>&1; then
	echo "[setup] rustup is required (https://rustup.rs)" >&2
	exit 1
fi
installed_targets=$(rustup target list --installed)
if ! grep -qx wasm32-unknown-unknown <<<"$installed_targets"; then
	log "adding rust target wasm32-unknown-unknown"
	rustup target add wasm32-unknown-unknown
fi
if ! rustup component list --installed | grep -q '^rust-src'; then
	log "adding rust component rust-src"
	rustup component add rust-src
fi

# --- Debian packages ------------------------------------------------------------------------
apt_install() {
	log "installing Debian packages: $*"
	sudo_cmd=()
	[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	"${sudo_cmd[@]}" apt-get update -qq
	"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
# g++: the worker's libtorch shim (cc crate) and torch-sys' own C++ wrapper.
debian_packages=(protobuf-compiler clang libclang-dev pkg-config libssl-dev curl g++ fonts-dejavu-core)
missing=()
for pkg in "${debian_packages[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# --- Python ---------------------------------------------------------------------------------
venv="${REPLICA_VENV:-$HOME/.cache/replica/venv}"
if [ ! -x "$venv/bin/python" ]; then
	if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
		# Debian's own python3 needs python3-venv (pyenv or python.org builds carry venv).
		apt_install python3 python3-venv
	fi
	log "creating the Python venv $venv"
	python3 -m venv "$venv"
fi
TORCH_VERSION=2.13.0
if ! "$venv/bin/python" -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
	log "installing torch==$TORCH_VERSION into $venv (libtorch for tch; about 4 GB with its CUDA libraries)"
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "torch==$TORCH_VERSION"
fi

# --- Node.js: clients/js -------------------------------------------------------------------
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' >/dev/null 2>&1; then
	apt_install nodejs npm
fi
# npm records the installed tree in node_modules/.package-lock.json: reinstall when the lock
# file is newer (or nothing is installed).
if [ ! -f clients/js/node_modules/.package-lock.json ] || [ clients/js/package-lock.json -nt clients/js/node_modules/.package-lock.json ]; then
	log "installing clients/js's npm packages (@polkadot/api)"
	(cd clients/js && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

log "ok"
