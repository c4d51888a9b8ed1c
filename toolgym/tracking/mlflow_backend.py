"""MLflow: a local sqlite store ``OUT/mlflow.db`` by default (``mlflow ui --backend-store-uri``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from toolgym.tracking.config import LogConfig


class MlflowTracker:
    """Scalars as metrics, tables as JSON artifacts (``tables/NAME-STEP.json``), images as artifacts."""

    def __init__(
        self, config: LogConfig, out: Path, params: Mapping[str, Any], name: str
    ) -> None:
        """Create (or reuse) the experiment ``config.project`` and start a run named after ``out``."""
        from mlflow.tracking import MlflowClient

        out = out.resolve()
        self.uri = config.mlflow_uri or f"sqlite:///{out / 'mlflow.db'}"
        self.client = MlflowClient(tracking_uri=self.uri)
        experiment = self.client.get_experiment_by_name(config.project)
        experiment_id = (
            experiment.experiment_id
            if experiment is not None
            else self.client.create_experiment(
                config.project, artifact_location=(out / "mlflow-artifacts").as_uri()
            )
        )
        self.run_id = self.client.create_run(experiment_id, run_name=name).info.run_id
        for key, value in _flat(params).items():
            self.client.log_param(self.run_id, key, str(value)[:6000])

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        """One metric per value at ``step``."""
        from mlflow.entities import Metric

        stamp = _now_ms()
        metrics = [Metric(_key(k), float(v), stamp, step) for k, v in values.items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def log_table(self, name: str, rows: Sequence[Mapping[str, Any]], step: int) -> None:
        """The rows as ``tables/NAME-STEP.json`` (``{"rows": [...]}``)."""
        table = {"rows": [dict(r) for r in rows]}  # log_dict takes a mapping
        self.client.log_dict(self.run_id, table, f"tables/{name}-{step}.json")

    def log_image(self, name: str, path: Path, step: int) -> None:
        """The image file as an artifact under ``images/``."""
        self.client.log_artifact(self.run_id, str(path), "images")

    def close(self) -> None:
        """Mark the run finished."""
        self.client.set_terminated(self.run_id)


def _key(name: str) -> str:
    """MLflow keys allow ``/``, ``.``, ``-``, ``_``, spaces and alphanumerics only."""
    return "".join(c if c.isalnum() or c in "/._- " else "_" for c in name)


def _flat(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def open_backend(
    config: LogConfig, out: Path, params: dict[str, Any], resumed_at: int | None = None
) -> MlflowTracker:
    """The MLflow tracker of a run directory (resumed: a run named for the resumption)."""
    from toolgym.tracking.wandb_backend import run_name

    return MlflowTracker(config, out, params, run_name(out, resumed_at))
