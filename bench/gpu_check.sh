#!/usr/bin/env bash
# One short device check when an accelerator is lent (see bench/gpu_check.py for what it checks):
# environment, sampler, scoring, kv_cache, bf16_sampling, server_policy (toolgym serve, and
# vLLM/SGLang if already installed there), train_step, recipe. Under ~5 min on an
# H200 with SmolLM2; installs nothing, every subprocess and HTTP call has a timeout.
# Run from the repository root: bash bench/gpu_check.sh  (results in $OUT/gpu_check.json).
set -uo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "nvidia-smi: not found"
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
"$PY" -c "import toolgym" 2>/dev/null || { echo "toolgym is not importable with $PY: install it first"; exit 1; }
"$PY" bench/gpu_check.py --model "${MODEL:-smollm2-135m}" --device cuda "$@"
