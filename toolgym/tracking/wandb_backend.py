"""Weights & Biases: offline by default (files under ``OUT/wandb/``; ``wandb sync`` uploads them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from toolgym.tracking.config import LogConfig


class WandbTracker:
    """Scalars with ``run.log``, tables as ``wandb.Table``, images as ``wandb.Image``."""

    def __init__(
        self, config: LogConfig, out: Path, params: Mapping[str, Any], name: str
    ) -> None:
        """Start a run in ``config.wandb_mode`` (offline unless set) writing under ``out``."""
        import wandb

        self.wandb = wandb
        self.run = wandb.init(
            mode=config.wandb_mode,
            dir=str(out),
            project=config.project,
            name=name,
            config=dict(params),
            settings=wandb.Settings(silent=True, console="off"),
            reinit="create_new",
        )

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        """One history row at ``step``."""
        self.run.log(dict(values), step=step)

    def log_table(self, name: str, rows: Sequence[Mapping[str, Any]], step: int) -> None:
        """A ``wandb.Table`` (non-scalar cells as text)."""
        columns: list[str | int] = list(dict.fromkeys(key for row in rows for key in row))
        data = [[_cell(row.get(str(c))) for c in columns] for row in rows]
        self.run.log({name: self.wandb.Table(columns=columns, data=data)}, step=step)

    def log_image(self, name: str, path: Path, step: int) -> None:
        """The image file as ``wandb.Image``."""
        self.run.log({name: self.wandb.Image(str(path))}, step=step)

    def close(self) -> None:
        """Finish the run and wait until wandb's service has written it.

        ``run.finish()`` alone can return before the service flushes the offline ``.wandb``
        file (seen with wandb 0.31: 2 runs in 6 left only its 7-byte header), so the service
        is torn down too; ``wandb.init`` starts a new one for a later run.
        """
        self.run.finish()
        self.wandb.teardown()


def _cell(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def open_backend(
    config: LogConfig, out: Path, params: dict[str, Any], resumed_at: int | None = None
) -> WandbTracker:
    """The wandb tracker of a run directory (resumed: a run named for the resumption)."""
    return WandbTracker(config, out, params, run_name(out, resumed_at))


def run_name(out: Path, resumed_at: int | None) -> str:
    """``OUT``'s name, or ``OUT (resumed at step N)`` for a resumed run's second tracker run.

    >>> run_name(Path("runs/a"), None), run_name(Path("runs/a"), 3)
    ('a', 'a (resumed at step 3)')
    """
    return out.name if resumed_at is None else f"{out.name} (resumed at step {resumed_at})"
