"""``log``: which experiment trackers a run also writes to (``--set log.to=tensorboard,mlflow``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

TrackerName = Literal["tensorboard", "wandb", "mlflow"]


class LogConfig(BaseModel):
    """Experiment trackers, each an optional extra imported only when named in ``to``."""

    model_config = ConfigDict(extra="forbid")

    to: list[TrackerName] = Field(
        default_factory=list,
        description="Trackers that also get every metric, the eval tables and the learning "
        "curve: tensorboard (OUT/tensorboard/), wandb (offline by default, OUT/wandb/), mlflow "
        "(sqlite store OUT/mlflow.db by default); several as tensorboard,mlflow "
        "(pip install toolgym[tensorboard|wandb|mlflow]).",
    )
    wandb_mode: Literal["offline", "online", "disabled"] = Field(
        default="offline", description="wandb's mode: offline writes files only (wandb sync later)."
    )
    project: str = Field(default="toolgym", description="wandb project / mlflow experiment name.")
    mlflow_uri: str | None = Field(
        default=None,
        description="mlflow tracking URI (default sqlite:///OUT/mlflow.db, no server needed).",
    )

    @field_validator("to", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """``"tensorboard,mlflow"`` (as ``--set`` gives it) -> a list; duplicates dropped."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            value = list(dict.fromkeys(value))
        return value
