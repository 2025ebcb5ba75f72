#!/usr/bin/env bash
# The determinism report of docs/determinism.md, on a machine with a CUDA GPU: the text doctor
# on the embedded text model and the tiny Llama, and the image doctor (CPU vs CUDA, CUDA vs CUDA, deterministic
# settings vs PyTorch's defaults) on the tiny test pipeline, the embedded digits model and a
# mid-size SD-architecture model with random weights (scripts/random-sd-model.py).
#
# Usage: scripts/cuda-doctor.sh [REPLICA_WORKER_BINARY]
#   default binary: $CARGO_TARGET_DIR/ci/replica-worker (built by scripts/test.sh);
#   PYTHON (default python3) must have torch, diffusers and transformers for the mid-size model.
set -euo pipefail
cd "$(dirname "$0")/.."
worker=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/replica/target}/ci/replica-worker}
python=${PYTHON:-python3}
mid=${MID_MODEL_DIR:-/tmp/replica-mid-sd}

section() { printf '\n## %s\n' "$*"; }

section "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$worker" --version

section "text: embedded fortunes-gpt, beam search 4"
"$worker" doctor --model-dir worker/models/fortunes-gpt --prompt "Love is" --beams 4 --max-tokens 64 --runs 5 --device cuda

section "text: tiny Llama (worker/tests/fixtures/tiny-llama), greedy and beam search 3"
"$worker" doctor --model-dir worker/tests/fixtures/tiny-llama --prompt "Love is" --max-tokens 32 --runs 5 --device cuda
"$worker" doctor --model-dir worker/tests/fixtures/tiny-llama --prompt "Love is" --beams 3 --max-tokens 32 --runs 5 --device cuda

section "image: tiny test pipeline (worker/tests/fixtures/tiny-sd)"
"$worker" doctor-image --model-dir worker/tests/fixtures/tiny-sd --prompt "a photo of the digit seven" \
	--steps 30 --runs 5 --device cuda

section "image: embedded digits model (worker/models/digits-sd)"
"$worker" doctor-image --model-dir worker/models/digits-sd --prompt "a photo of the digit 7" \
	--steps 30 --runs 5 --device cuda

section "image: mid-size SD architecture, random weights, 256x256"
[ -d "$mid/unet" ] || "$python" scripts/random-sd-model.py "$mid"
"$worker" doctor-image --model-dir "$mid" --prompt "a photo of the digit 7" --width 256 --height 256 \
	--steps 20 --guidance 7.5 --runs 5 --cpu-runs 2 --device cuda
