"""Trackers: a tiny SFT run's metrics.jsonl reaches TensorBoard, MLflow and wandb files, offline."""

from __future__ import annotations

import importlib.util
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from toolgym.tracking import LogConfig, open_trackers, scalars
from toolgym.train.config import TrainConfig


def _run(tmp_path: Path, trackers: str) -> Path:
    from toolgym.train.loop import Trainer

    config = TrainConfig.model_validate({
        "env": "toolgym/Search-v0", "algo": "sft", "model": "tiny", "steps": 2,
        "tasks_per_step": 1, "group_size": 1, "out": tmp_path / "run", "eval_tasks": 1,
        "max_new_tokens": 4, "checkpoint_every": 2, "log": {"to": trackers},
    })  # fmt: skip
    Trainer(config, progress=False).run()
    return config.out


def _jsonl_scalars(out: Path) -> dict[tuple[str, int], float]:
    """Every numeric value of metrics.jsonl by (name, step): what the trackers must hold."""
    expected = {}
    for line in (out / "metrics.jsonl").read_text().splitlines():
        values = scalars(json.loads(line))
        step = int(values.pop("step"))
        expected |= {(name, step): value for name, value in values.items()}
    return expected


def test_comma_list_and_unknown_tracker_is_refused():
    assert LogConfig.model_validate({"to": "tensorboard, mlflow,tensorboard"}).to == [
        "tensorboard",
        "mlflow",
    ]
    with pytest.raises(ValueError, match="tensorboard"):
        LogConfig.model_validate({"to": "comet"})


def test_tensorboard_and_mlflow_get_every_metric_the_table_and_the_curve(tmp_path):
    """One tiny run for both (mlflow checked when installed: setup.sh installs both extras)."""
    pytest.importorskip("tensorboard")
    with_mlflow = importlib.util.find_spec("mlflow") is not None
    out = _run(tmp_path, "tensorboard,mlflow" if with_mlflow else "tensorboard")
    expected = _jsonl_scalars(out)
    assert ("loss", 1) in expected and ("eval_success", 2) in expected

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"scalars": 0}).Reload()
    got = {(tag, e.step): e.value for tag in events.Tags()["scalars"] for e in events.Scalars(tag)}
    assert got.keys() == expected.keys()
    assert all(got[key] == pytest.approx(value, rel=1e-6) for key, value in expected.items())
    assert "learning_curve" in events.Tags()["images"]
    assert any("eval_samples" in tag for tag in events.Tags()["tensors"])

    if with_mlflow:
        _check_mlflow(out, expected)


def _check_mlflow(out: Path, expected: dict[tuple[str, int], float]) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{out.resolve() / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("toolgym").experiment_id])
    assert run.info.status == "FINISHED" and run.data.params["algo"] == "sft"
    mlflow_values = {
        (name, m.step): m.value
        for name in run.data.metrics
        for m in client.get_metric_history(run.info.run_id, name)
    }
    assert mlflow_values.keys() == expected.keys()
    assert all(mlflow_values[k] == pytest.approx(v, rel=1e-6) for k, v in expected.items())
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "tables")}
    assert artifacts == {"tables/eval_samples-2.json"}
    assert [a.path for a in client.list_artifacts(run.info.run_id, "images")] == [
        "images/learning_curve.png"
    ]


def _wandb_history(path: Path) -> list[dict[str, str]]:
    """The history rows of an offline ``.wandb`` file (a LevelDB-style log of Record protos)."""
    from wandb.proto import wandb_internal_pb2 as pb

    data, block, position, pending, rows = path.read_bytes(), 32768, 7, b"", []
    while position + 7 <= len(data):
        left = block - position % block
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        if left < 7 or (kind == 0 and length == 0):
            position += left
            continue
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a full record, or the last piece of one
            record = pb.Record()
            record.ParseFromString(pending)
            pending = b""
            if record.WhichOneof("record_type") == "history":
                rows.append(
                    {i.key or "/".join(i.nested_key): i.value_json for i in record.history.item}
                )
    return rows


def test_wandb_offline_history_holds_the_values(tmp_path):
    pytest.importorskip("wandb")
    trackers = open_trackers(LogConfig(to=["wandb"]), tmp_path, {"lr": 0.1})
    trackers.log_metrics({"step": 1, "loss": 0.5, "seconds": {"generate": 2.0}, "note": "x"})
    trackers.log_metrics({"step": 2, "loss": 0.25})
    trackers.log_table("eval_samples", [{"task_id": "t1", "reward": 1.0}], 2)
    trackers.close()
    (file,) = (tmp_path / "wandb").glob("offline-run-*/run-*.wandb")
    history = _wandb_history(file)
    assert [(r["_step"], float(r["loss"])) for r in history] == [("1", 0.5), ("2", 0.25)]
    assert float(history[0]["seconds/generate"]) == 2.0 and "note" not in history[0]
    assert history[1]["eval_samples/nrows"] == "1"


def test_a_run_without_trackers_imports_none_of_them(tmp_path):
    code = (
        "import sys, toolgym.train.loop, toolgym.tracking\n"
        "from toolgym.tracking import LogConfig, open_trackers\n"
        f"t = open_trackers(LogConfig(), __import__('pathlib').Path({str(tmp_path)!r}))\n"
        "t.log_metrics({'step': 1, 'loss': 1.0}); t.close()\n"
        "print(sorted(m for m in ('tensorboard', 'wandb', 'mlflow') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_toolgym_eval_log_to_tensorboard_holds_the_summary(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from typer.testing import CliRunner

    from toolgym.cli import app

    out = tmp_path / "eval"
    args = ["eval", "--env", "toolgym/Search-v0", "--agent", "oracle", "--limit", "2",
            "--out", str(out), "--log-to", "tensorboard", "--no-progress"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    events = EventAccumulator(str(out / "tensorboard")).Reload()
    got = {tag: events.Scalars(tag)[0].value for tag in events.Tags()["scalars"]}
    assert got == pytest.approx(scalars(summary))
    assert got["success_rate"] == 1.0 and got["episodes"] == 2.0
    assert any("episodes" in tag for tag in events.Tags()["tensors"])


def test_a_resumed_run_shows_each_redone_step_once_in_tensorboard(tmp_path):
    """Steps after the checkpoint were logged before the kill; the resumed run's values replace them."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    first = open_trackers(LogConfig(to=["tensorboard"]), tmp_path, {"lr": 0.1})
    for step in (1, 2, 3):  # killed after step 3; the last checkpoint is step 1
        first.log_scalars({"loss": float(step)}, step)
    first.close()
    resumed = open_trackers(LogConfig(to=["tensorboard"]), tmp_path, {"lr": 0.1}, resumed_at=1)
    for step in (2, 3, 4):
        resumed.log_scalars({"loss": 10.0 * step}, step)
    resumed.close()
    events = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"scalars": 0}).Reload()
    shown = [(e.step, e.value) for e in events.Scalars("loss")]
    assert shown == [(1, 1.0), (2, 20.0), (3, 30.0), (4, 40.0)]
