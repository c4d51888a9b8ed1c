#!/usr/bin/env bash
# Create .venv and install toolgym with its development tools. Safe to run again.
# torch comes first, pinned to the CPU build this machine kind ships (a bare `torch` may pull CUDA).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -e '.[dev]'
