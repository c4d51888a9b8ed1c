"""The learning curve of a run as a PNG (matplotlib, no display needed)."""

from __future__ import annotations

import json
from pathlib import Path


def plot_learning_curve(metrics_path: Path, png_path: Path, title: str = "") -> Path:
    """Plot training reward per step and evaluation success (when logged) from ``metrics.jsonl``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()]
    train = [(r["step"], r["reward_mean"]) for r in rows if "reward_mean" in r]
    train_loss = [(r["step"], r["loss"]) for r in rows if "loss" in r and "reward_mean" not in r]
    evals = [(r["step"], r["eval_success"]) for r in rows if "eval_success" in r]
    figure, axis = plt.subplots(figsize=(7, 4))
    if train:
        axis.plot(*zip(*train, strict=True), label="train reward (mean)", color="tab:blue")
    if train_loss:
        axis.plot(*zip(*train_loss, strict=True), label="SFT loss", color="tab:gray")
    if evals:
        axis.plot(*zip(*evals, strict=True), "o-", label="test success rate", color="tab:green")
    axis.set_xlabel("step")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(png_path, dpi=120)
    plt.close(figure)
    return png_path
