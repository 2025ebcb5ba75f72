# The environment every build of Replica needs; sourced by the project's scripts. Developers
# running cargo by hand: `source scripts/env.sh` first (after scripts/setup.sh).
#   - cargo on PATH, the shared target dir
#   - the Python venv of scripts/setup.sh first on PATH, LIBTORCH_USE_PYTORCH=1: torch-sys (tch)
#     links the libtorch of the venv's PyPI torch wheel; the worker's binaries carry an rpath
#     to it, so running them needs nothing from this file.
command -v cargo >/dev/null 2>&1 || export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/replica/target}"
export REPLICA_VENV="${REPLICA_VENV:-$HOME/.cache/replica/venv}"
export VIRTUAL_ENV="$REPLICA_VENV"
case ":$PATH:" in
*":$REPLICA_VENV/bin:"*) ;;
*) export PATH="$REPLICA_VENV/bin:$PATH" ;;
esac
export LIBTORCH_USE_PYTORCH=1
