#!/usr/bin/env bash
# Installs everything a fresh machine needs to build and test Replica. Idempotent: a second run
# only checks and returns in seconds.
#   - Rust: the wasm32-unknown-unknown target and rust-src (the runtime is built to WASM)
#   - Debian: protobuf-compiler (libp2p), clang + libclang-dev (rocksdb bindings), pkg-config
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
debian_packages=(protobuf-compiler clang libclang-dev pkg-config libssl-dev curl)
missing=()
for pkg in "${debian_packages[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing Debian packages: ${missing[*]}"
	sudo_cmd=()
	[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	"${sudo_cmd[@]}" apt-get update -qq
	"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python ---------------------------------------------------------------------------------
venv="${REPLICA_VENV:-$HOME/.cache/replica/venv}"
if [ ! -x "$venv/bin/python" ]; then
	log "creating the Python venv $venv"
	python3 -m venv "$venv"
fi
TORCH_VERSION=2.13.0
if ! "$venv/bin/python" -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
	log "installing torch==$TORCH_VERSION into $venv (libtorch for tch; about 4 GB with its CUDA libraries)"
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "torch==$TORCH_VERSION"
fi

log "ok"
