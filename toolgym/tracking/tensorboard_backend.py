"""TensorBoard: event files under ``OUT/tensorboard/`` (``tensorboard --logdir OUT``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from toolgym.tracking.config import LogConfig


class TensorBoardTracker:
    """Scalars as scalar summaries, tables as Markdown text, images as image summaries."""

    def __init__(
        self, folder: Path, params: Mapping[str, Any], resumed_at: int | None = None
    ) -> None:
        """Open torch's ``SummaryWriter`` on ``folder`` (it needs the tensorboard package).

        Resumed at step N, events of steps after N (logged before the kill, about to be redone)
        are purged, so every step keeps one value.
        """
        from torch.utils.tensorboard import SummaryWriter

        self.folder = folder
        purge = None if resumed_at is None else resumed_at + 1
        self.writer = SummaryWriter(str(folder), purge_step=purge)
        if params and resumed_at is None:
            text = "```\n" + json.dumps(params, indent=2, default=str) + "\n```"
            self.writer.add_text("config", text, global_step=0)

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        """One scalar summary per value."""
        for name, value in values.items():
            self.writer.add_scalar(name, float(value), global_step=step)

    def log_table(self, name: str, rows: Sequence[Mapping[str, Any]], step: int) -> None:
        """The rows as a Markdown table (TensorBoard's Text tab renders it)."""
        from toolgym.tracking import table_text

        self.writer.add_text(name, table_text(rows), global_step=step)

    def log_image(self, name: str, path: Path, step: int) -> None:
        """The PNG as an image summary."""
        import numpy as np
        from PIL import Image

        pixels = np.asarray(Image.open(path).convert("RGB"))  # (H, W, 3) uint8
        self.writer.add_image(name, pixels, global_step=step, dataformats="HWC")

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.flush()
        self.writer.close()


def open_backend(
    config: LogConfig, out: Path, params: dict[str, Any], resumed_at: int | None = None
) -> TensorBoardTracker:
    """The TensorBoard tracker of a run directory."""
    return TensorBoardTracker(out / "tensorboard", params, resumed_at)
