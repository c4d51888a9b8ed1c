"""The learning curve of a run as a PNG (matplotlib, no display needed)."""

from __future__ import annotations

import json
from pathlib import Path


def plot_learning_curve(metrics_path: Path, png_path: Path, title: str = "") -> Path:
    """Plot training reward per step and evaluation success (when logged) from ``metrics.jsonl``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _rows(metrics_path)
    train = [(r["step"], r["reward_mean"]) for r in rows if "reward_mean" in r]
    train_loss = [(r["step"], r["loss"]) for r in rows if "loss" in r and "reward_mean" not in r]
    evals = [(r["step"], r["eval_success"]) for r in rows if "eval_success" in r]
    figure, axis = plt.subplots(figsize=(7, 4))
    if train:
        axis.plot(*zip(*train, strict=True), label="train reward (mean)", color="tab:blue")
    if train_loss:
        axis.plot(
            *zip(*train_loss, strict=True), label="loss (SFT, DPO from data)", color="tab:gray"
        )
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


def plot_recipe(
    sft_metrics: Path,
    rl_metrics: Path,
    success: tuple[float, float, float],
    png_path: Path,
    eval_tasks: int,
    title: str = "",
) -> Path:
    """Two panels: SFT loss then RL reward per step, and held-out success before/after each stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def series(path: Path, key: str) -> list[tuple[int, float]]:
        return [(r["step"], r[key]) for r in _rows(path) if key in r and not r.get("final")]

    sft_loss = series(sft_metrics, "loss")
    rl_reward = series(rl_metrics, "reward_mean")
    figure, (curve, bars) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=(2, 1))
    offset = len(sft_loss)
    if sft_loss:
        curve.plot(*zip(*sft_loss, strict=True), "o-", color="tab:gray", label="SFT loss")
    if rl_reward:
        steps, rewards = zip(*rl_reward, strict=True)
        curve.plot([s + offset for s in steps], rewards, "o-", label="RL train reward (mean)")
    curve.axvline(offset + 0.5, color="black", alpha=0.3, linestyle="--")
    curve.set_xlabel("step (SFT, then RL)")
    curve.grid(alpha=0.3)
    curve.legend()
    names = ["before", "after SFT", "after SFT + RL"]
    bars.bar(names, success, color=["tab:gray", "tab:orange", "tab:green"])
    for x, rate in enumerate(success):
        bars.text(x, rate + 0.02, f"{rate:.0%}", ha="center")
    bars.set_ylim(0, 1.1)
    bars.set_ylabel(f"held-out success rate ({eval_tasks} tasks, greedy)")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(png_path, dpi=120)
    plt.close(figure)
    return png_path


def _rows(metrics_path: Path) -> list[dict]:
    return [json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()]


def plot_bands(
    curves: dict[str, list[list[tuple[float, float]]]],
    png_path: Path,
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    baseline: tuple[str, float] | None = None,
    finals: dict[str, list[float]] | None = None,
    finals_label: str = "final value (mean +- std)",
) -> Path:
    """One line per label: the mean over seeds of its (x, y) curves, with a +- 1 std band.

    Every seed's curve of a label must have the same x values (the same steps); ``baseline``
    draws a labelled horizontal line (e.g. the starting checkpoint's success); ``finals`` draws,
    per label, one value per seed (e.g. held-out success after training) as a diamond with a
    mean +- std bar just right of the label's last x (labels side by side), in its colour.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for index, (label, runs) in enumerate(curves.items()):
        xs = [x for x, _ in runs[0]]
        if any([x for x, _ in run] != xs for run in runs):
            raise ValueError(f"plot_bands: the seeds of {label!r} were logged at different x")
        ys = np.array([[y for _, y in run] for run in runs])
        mean, std = ys.mean(axis=0), ys.std(axis=0)
        (line,) = axis.plot(xs, mean, "o-", label=f"{label} ({len(runs)} seeds)")
        axis.fill_between(xs, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        if finals and label in finals:
            ends = np.array(finals[label])
            axis.errorbar(xs[-1] * (1.02 + 0.015 * index), ends.mean(), yerr=ends.std(), fmt="D",
                          color=line.get_color(), capsize=4)  # fmt: skip
    if baseline is not None:
        axis.axhline(baseline[1], color="black", linestyle="--", alpha=0.5, label=baseline[0])
    if finals:
        axis.plot([], [], "D", color="gray", label=finals_label)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(png_path, dpi=120)
    plt.close(figure)
    return png_path
