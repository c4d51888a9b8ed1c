"""Atomic checkpoints: a killed run loses at most the step in flight.

A checkpoint is a folder ``checkpoints/step-NNNNNN`` written under a temporary name and renamed
into place, then named in ``checkpoints/latest`` (also replaced atomically). It holds the model (a
LoRA run: its adapter only, see ``lora.py``) and optimizer state, the scheduler, every RNG state and
the position in the task order.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch


def save(run_dir: Path, step: int, state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors and picklable values) as the checkpoint of ``step``."""
    folder = run_dir / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{step:06d}"
    staging = Path(tempfile.mkdtemp(prefix=".saving-", dir=folder))
    torch.save(state, staging / "state.pt")
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    pointer = folder / ".latest.tmp"
    pointer.write_text(json.dumps({"step": step, "path": final.name}))
    os.replace(pointer, folder / "latest")
    return final


def load_latest(run_dir: Path) -> dict[str, Any] | None:
    """The newest complete checkpoint of a run, or None if it has none."""
    pointer = run_dir / "checkpoints" / "latest"
    if not pointer.is_file():
        return None
    name = json.loads(pointer.read_text())["path"]
    # on the CPU: a run checkpointed on a GPU resumes anywhere; load_state_dict moves the tensors
    return torch.load(
        run_dir / "checkpoints" / name / "state.pt", map_location="cpu", weights_only=False
    )


def truncate_metrics(path: Path, step: int) -> None:
    """On resume, drop the log lines written after the checkpoint (the steps that will be redone).

    A line torn by a kill in the middle of a write does not parse and is dropped with them.
    """
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row.get("step", 0) <= step and not row.get("final"):
            kept.append(line)
    staging = path.with_suffix(".jsonl.tmp")
    staging.write_text("".join(line + "\n" for line in kept))
    os.replace(staging, path)  # a kill during the rewrite leaves the old log whole
