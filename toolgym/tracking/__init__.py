"""Experiment trackers (TensorBoard, Weights & Biases, MLflow) behind one :class:`Tracker` protocol.

``open_trackers(config, out)`` returns one tracker that fans out to every backend named in
``config.to``; each backend module imports its library only when opened, so a run that names none
never imports tensorboard, wandb or mlflow.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from toolgym.tracking.config import LogConfig, TrackerName

__all__ = ["LogConfig", "Tracker", "TrackerName", "Trackers", "open_trackers", "scalars"]

EXTRAS = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}


class Tracker(Protocol):
    """One experiment-tracking backend."""

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        """Log numeric values at ``step``."""
        ...

    def log_table(self, name: str, rows: Sequence[Mapping[str, Any]], step: int) -> None:
        """Log a table (one mapping per row, same keys) at ``step``."""
        ...

    def log_image(self, name: str, path: Path, step: int) -> None:
        """Log the image file ``path`` (PNG) at ``step``."""
        ...

    def close(self) -> None:
        """Flush and finish the run."""
        ...


def scalars(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric values of a metrics row, nested mappings flattened with ``/``.

    >>> scalars({"step": 1, "loss": 0.5, "final": True, "stopped": "x", "t": {"gen": 2}})
    {'step': 1.0, 'loss': 0.5, 'final': 1.0, 't/gen': 2.0}
    """
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool | int | float):
            out[name] = float(value)
        elif isinstance(value, Mapping):
            out |= scalars(value, f"{name}/")
    return out


class Trackers:
    """Every opened backend as one :class:`Tracker`; a backend that raises is closed and dropped."""

    def __init__(self, backends: Mapping[str, Tracker]) -> None:
        """Wrap the opened backends, by name."""
        self.backends = dict(backends)

    def _each(self, method: str, *args: Any) -> None:
        for name, backend in list(self.backends.items()):
            try:
                getattr(backend, method)(*args)
            except Exception as exc:  # a tracker must never end a training run
                import logging

                logging.getLogger("toolgym").warning("tracker %s failed (%s): dropped", name, exc)
                self.backends.pop(name)

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        """Log numeric values at ``step`` to every backend."""
        if values:
            self._each("log_scalars", values, step)

    def log_metrics(self, metrics: Mapping[str, Any]) -> None:
        """A ``metrics.jsonl`` row: its numeric values at its ``step`` (``step`` itself excluded)."""
        values = scalars(metrics)
        step = int(values.pop("step", 0))
        self.log_scalars(values, step)

    def log_table(self, name: str, rows: Sequence[Mapping[str, Any]], step: int) -> None:
        """Log a table to every backend."""
        if rows:
            self._each("log_table", name, rows, step)

    def log_image(self, name: str, path: Path, step: int) -> None:
        """Log an image file to every backend."""
        if path.is_file():
            self._each("log_image", name, path, step)

    def close(self) -> None:
        """Finish every backend."""
        self._each("close")
        self.backends.clear()


def open_trackers(
    config: LogConfig,
    out: Path,
    params: Mapping[str, Any] | None = None,
    resumed_at: int | None = None,
) -> Trackers:
    """Open the backends of ``config.to`` writing under the run directory ``out``.

    ``resumed_at``: the checkpoint step a resumed run continues from. The steps after it were
    logged before the kill and are about to be redone: TensorBoard purges them from its event
    files (``purge_step``), so each step is shown once; wandb and MLflow start a run named
    ``OUT (resumed at step N)`` holding the steps after N, next to the first run.

    Raises:
        ValueError: a named backend's library is not installed (names the extra to install).
    """
    backends: dict[str, Tracker] = {}
    for name in config.to:
        module = importlib.import_module(f"toolgym.tracking.{name}_backend")
        try:
            backends[name] = module.open_backend(config, out, dict(params or {}), resumed_at)
        except ImportError as exc:
            raise ValueError(
                f"log.to={name}: {exc.name or name} is not installed: "
                f"pip install 'toolgym[{EXTRAS[name]}]' (or drop {name} from log.to)"
            ) from None
    return Trackers(backends)


def table_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as a Markdown table (cells stringified, ``|`` escaped)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [str(row.get(c, "")).replace("|", "\\|").replace("\n", " ") for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
