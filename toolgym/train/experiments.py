"""Variants x seeds of one training setup from one checkpoint: the examples' and benchmarks' runner.

An experiment is a starting checkpoint (an SFT cold start on oracle episodes), shared
:class:`TrainConfig` fields, and named variants (fields over the shared ones). Each (variant,
seed) is an ordinary :class:`Trainer` run in ``OUT/<variant>/seed-<k>/``, so every run's metrics,
samples and learning curve stay there to inspect. A run whose folder already holds a finished run
of the same config is read back instead of trained again, so an interrupted experiment continues
where it stopped.

>>> shared = {"env": "toolgym/SearchLookup-v0", "model": "tiny", "eval_tasks": 2}
>>> variants = {"lr 1e-5": {"lr": 1e-5}, "lr 1e-4": {"lr": 1e-4}}  # doctest: +SKIP
>>> start, start_success = cold_start(shared, Path("runs/x/start"))  # doctest: +SKIP
>>> results = run_all(variants, [0, 1, 2], shared | {"algo": "grpo"}, start, Path("runs/x"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolgym.train.config import TrainConfig

COLD_START: dict[str, Any] = {"algo": "sft", "group_size": 1, "steps": 2, "tasks_per_step": 8,
                              "lr": 5e-5}  # fmt: skip  # the recipe's first SFT stage


@dataclass(frozen=True)
class RunResult:
    """One (variant, seed) run.

    Attributes:
        variant: The variant's name.
        seed: The run's seed.
        held_out: Held-out success at the end (the first ``eval_tasks`` test tasks, greedy).
        success: (env episodes so far, training success of that step's rollouts) per step.
        reward: (env episodes so far, mean training reward of that step) per step.
        entropy: (env episodes so far, mean entropy of the sampled tokens) per step.
        evals: (env episodes so far, held-out success) at each evaluation during training.
        generated_tokens: Tokens sampled in training rollouts.
        seconds: Wall time of training steps (rollouts and updates, evaluations excluded).
    """

    variant: str
    seed: int
    held_out: float
    success: list[tuple[int, float]]
    reward: list[tuple[int, float]]
    entropy: list[tuple[int, float]]
    evals: list[tuple[int, float]]
    generated_tokens: int
    seconds: float


def cold_start(shared: dict[str, Any], out: Path, **fields: Any) -> tuple[Path, float]:
    """An SFT checkpoint on oracle episodes (``COLD_START`` over ``shared``) and its held-out success."""
    config = TrainConfig(**(shared | COLD_START | fields | {"out": out}))
    return out, _finished(config, lambda: _trainer(config).run())["eval_success"]


def starting_point(
    shared: dict[str, Any], init: Path | None, out: Path, **cold_start_fields: Any
) -> tuple[Path, float]:
    """``init`` and its held-out success on ``shared``'s test tasks, else a cold start in ``out``.

    A given run directory is never trained: its own final evaluation is read when it scored the
    same env's same number of test tasks, else it is evaluated once (in ``out``-eval).
    """
    if init is None:
        return cold_start(shared, out, **cold_start_fields)
    saved, metrics = init / "config.json", init / "metrics.jsonl"
    if saved.is_file() and metrics.is_file():
        config = json.loads(saved.read_text())
        finals = [r for r in _rows(metrics) if r.get("final")]
        if finals and all(config.get(k) == shared.get(k) for k in ("env", "model", "eval_tasks")):
            return init, finals[-1]["eval_success"]
    config = TrainConfig(**(shared | {"init": init, "out": out.with_name(f"{out.name}-eval")}))
    return init, _trainer(config).evaluate()["eval_success"]


def run_variant(
    variant: str, seed: int, fields: dict[str, Any], trainer_class: Any = None
) -> RunResult:
    """Train one run (``fields`` is a whole TrainConfig with ``init`` and ``out``); read its metrics."""
    config = TrainConfig(**(fields | {"seed": seed}))
    _finished(config, lambda: _trainer(config, trainer_class).run())
    rows = _rows(config.out / "metrics.jsonl")
    logged = [r for r in rows if not r.get("final")]
    steps = [r for r in logged if "success" in r]
    final = next(r for r in reversed(rows) if r.get("final"))
    return RunResult(
        variant=variant,
        seed=seed,
        held_out=final["eval_success"],
        success=[(r["episodes"], r["success"]) for r in steps],
        reward=[(r["episodes"], r["reward_mean"]) for r in steps],
        entropy=[(r["episodes"], r["entropy"]) for r in steps if "entropy" in r],
        evals=[(r["episodes"], r["eval_success"]) for r in logged if "eval_success" in r],
        generated_tokens=sum(r.get("generated_tokens", 0) for r in logged),
        seconds=sum(r["seconds"] for r in logged if "seconds" in r),
    )


def run_all(
    variants: dict[str, dict[str, Any]],
    seeds: Sequence[int],
    shared: dict[str, Any],
    start: Path,
    out: Path,
    trainer_classes: dict[str, Any] | None = None,
    report: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Every variant on every seed from ``start``, seed by seed (so each seed sees all variants).

    ``report`` gets each result as it comes (default: a line on stdout).
    """
    results = []
    for seed in seeds:
        for name, fields in variants.items():
            config = shared | fields | {"init": start, "out": out / slug(name) / f"seed-{seed}"}
            result = run_variant(name, seed, config, (trainer_classes or {}).get(name))
            (report or _print_result)(result)
            results.append(result)
    return results


@dataclass
class GRPOSettings:
    """The GRPO examples' settings: plain GRPO (the recipe's first RL stage) after a cold start."""

    env: str = "toolgym/SearchLookup-v0"
    model: str = "smollm2-135m"
    seeds: list[int] = field(default_factory=lambda: [0])
    steps: int = 4
    tasks_per_step: int = 4
    group_size: int = 4
    lr: float = 3e-5
    temperature: float = 0.7
    freeze_layers: int = 20
    eval_tasks: int = 32
    max_new_tokens: int = 64
    init: str = ""
    out: str = "runs/examples/grpo"

    def shared_fields(self) -> dict[str, Any]:
        """What the start point and every run share: env, model, budgets, held-out tasks."""
        return {"env": self.env, "model": self.model, "eval_tasks": self.eval_tasks,
                "max_new_tokens": self.max_new_tokens, "max_tokens": 1400,
                "checkpoint_every": 10_000}  # fmt: skip  # only the final step is saved

    def rl_fields(self) -> dict[str, Any]:
        """Plain GRPO on completion + 0.25 step match (the recipe's first RL stage), sized."""
        return {"algo": "grpo", "steps": self.steps, "tasks_per_step": self.tasks_per_step,
                "group_size": self.group_size, "lr": self.lr, "temperature": self.temperature,
                "freeze_layers": self.freeze_layers,
                "rewards": {"completion": 1.0, "step_match": 0.25}}  # fmt: skip


GRPO_SETTINGS_HELP = {
    "env": "Gymnasium id of the toolgym env",
    "model": "smollm2-135m, or tiny (a random 2-layer model: a smoke run)",
    "seeds": "one run per variant per seed, all from the same start point",
    "steps": "GRPO steps per run",
    "tasks_per_step": "tasks (groups) per step",
    "group_size": "samples per task",
    "lr": "AdamW learning rate",
    "temperature": "rollout sampling temperature",
    "freeze_layers": "bottom decoder layers kept frozen (0 for the tiny model)",
    "eval_tasks": "held-out test tasks scored after training (greedy); the start's too",
    "max_new_tokens": "token budget per assistant turn",
    "init": "start from this SFT run directory (default: an SFT cold start in OUT/start)",
    "out": "folder for plot.png, figures.json and every run's directory",
}


def run_experiment(
    variants: dict[str, dict[str, Any]],
    settings: GRPOSettings,
    *,
    title: str,
    trainer_classes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Start point, every variant on every seed, ``OUT/plot.png``; returns the figures.

    The plot is each variant's training success against rollouts with a band over seeds, its
    held-out success after training as a diamond with a bar, and the start's as a line; the figures are the start's held-out success and
    :func:`summary` (held-out success after training, over seeds).
    """
    from toolgym.train.plot import plot_bands

    out, shared = Path(settings.out), settings.shared_fields()
    init = Path(settings.init) if settings.init else None
    start, start_success = starting_point(shared, init, out / "start")
    results = run_all(variants, settings.seeds, shared | settings.rl_fields(), start, out,
                      trainer_classes)  # fmt: skip
    plot_bands(curves(results), out / "plot.png", xlabel="env episodes (rollouts)",
               ylabel="success: training rollouts (sampled, line)", title=title,
               baseline=(f"SFT start, held-out ({settings.eval_tasks} tasks, greedy)", start_success),
               finals=held_out_by_variant(results),
               finals_label="held-out after training (greedy, mean +- std)")  # fmt: skip
    return {"start_held_out": start_success, "variants": summary(results)}


def summary(results: Sequence[RunResult]) -> dict[str, dict[str, Any]]:
    """Per variant: held-out success by seed (and the seeds), the last training success and entropy.

    The last two are None for a variant that logs none (SFT on oracle episodes samples nothing).
    """
    table: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r.variant for r in results):
        runs = [r for r in results if r.variant == name]
        held_out = [r.held_out for r in runs]
        last = [r.success[-1][1] for r in runs if r.success]
        entropy = [r.entropy[-1][1] for r in runs if r.entropy]
        table[name] = {
            "seeds": len(runs),
            "held_out_mean": statistics.fmean(held_out),
            "held_out_std": statistics.pstdev(held_out),
            "held_out_min": min(held_out),
            "held_out_by_seed": held_out,
            "seed_ids": [r.seed for r in runs],
            "last_train_success_mean": statistics.fmean(last) if last else None,
            "last_entropy_mean": statistics.fmean(entropy) if entropy else None,
            "train_seconds_mean": statistics.fmean(r.seconds for r in runs),
        }
    return table


def held_out_by_variant(results: Sequence[RunResult]) -> dict[str, list[float]]:
    """Per variant, every seed's held-out success after training (in run order)."""
    table: dict[str, list[float]] = {}
    for r in results:
        table.setdefault(r.variant, []).append(r.held_out)
    return table


def winner(table: dict[str, dict[str, Any]], key: str = "held_out_mean") -> str:
    """The variant with the highest ``key``; ``"tie: a, b"`` when several share it."""
    best = max(row[key] for row in table.values())
    top = [name for name, row in table.items() if abs(row[key] - best) < 1e-9]
    return top[0] if len(top) == 1 else "tie: " + ", ".join(top)


def curves(results: Sequence[RunResult], key: str = "success") -> dict[str, list[list[Any]]]:
    """Per variant, every seed's curve (``success`` or ``reward``), ready for ``plot_bands``."""
    table: dict[str, list[list[Any]]] = {}
    for r in results:
        table.setdefault(r.variant, []).append(getattr(r, key))
    return table


def slug(name: str) -> str:
    """A folder name for a variant name ("mean/std" -> "mean-std")."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-") or "variant"


def _print_result(result: RunResult) -> None:
    print(f"{result.variant} seed {result.seed}: held-out {result.held_out:.1%}", flush=True)


def _trainer(config: TrainConfig, trainer_class: Any = None) -> Any:
    from toolgym.train.loop import Trainer

    return (trainer_class or Trainer)(config, progress=False)


def _finished(config: TrainConfig, train: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The final metrics of ``config.out`` when it holds this config's finished run, else train."""
    saved, metrics = config.out / "config.json", config.out / "metrics.jsonl"
    if saved.is_file() and metrics.is_file():
        same = json.loads(saved.read_text()) == json.loads(config.model_dump_json())
        final = [r for r in _rows(metrics) if r.get("final")]
        if same and final:
            return final[-1]
    return train()


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def parse_dataclass(
    cls: Any, helps: dict[str, str], description: str, argv: list[str] | None
) -> Any:
    """A dataclass of settings from the command line: every field a ``--flag`` with its default."""
    import argparse
    from dataclasses import asdict

    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    for name, value in asdict(cls()).items():
        flag = f"--{name.replace('_', '-')}"
        if isinstance(value, list):
            kind = type(value[0]) if value else str
            parser.add_argument(flag, type=kind, nargs="+", default=value, help=helps[name])
        else:
            parser.add_argument(flag, type=type(value), default=value, help=helps[name])
    return cls(**vars(parser.parse_args(argv)))


def write_figures(out: Path | str, args: Any, figures: dict[str, Any]) -> None:
    """``OUT/figures.json``: the settings and the measured figures of one example run."""
    from dataclasses import asdict

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"args": asdict(args), "figures": figures}, indent=2, default=str)
    (out / "figures.json").write_text(text + "\n")
