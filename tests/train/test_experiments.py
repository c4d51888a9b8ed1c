"""Variants x seeds runner: summaries by hand, band plots, reuse of finished runs, start points."""

import json
from dataclasses import dataclass, field

import pytest

from toolgym.train import experiments
from toolgym.train.experiments import (
    RunResult,
    curves,
    parse_dataclass,
    run_all,
    slug,
    starting_point,
    summary,
    winner,
)
from toolgym.train.plot import plot_bands

SMALL = {"env": "toolgym/SearchLookup-v0", "model": "tiny", "max_new_tokens": 6, "eval_tasks": 2,
         "checkpoint_every": 10_000}  # fmt: skip
GRPO = {"algo": "grpo", "steps": 2, "tasks_per_step": 2, "group_size": 2, "lr": 1e-3}


def result(variant, seed, held_out, success=(0.5, 1.0), entropy=1.0):
    steps = [(4 * (k + 1), s) for k, s in enumerate(success)]
    return RunResult(variant, seed, held_out, steps, steps, [(8, entropy)], [], 0, 10.0 + seed)


def test_summary_and_winner_by_hand():
    results = [result("a", 0, 0.25), result("b", 0, 0.5), result("a", 1, 0.75, (0.0, 0.5), 2.0)]
    table = summary(results)
    assert list(table) == ["a", "b"]
    assert table["a"]["held_out_mean"] == 0.5 and table["a"]["held_out_std"] == 0.25
    assert table["a"]["held_out_min"] == 0.25 and table["a"]["held_out_by_seed"] == [0.25, 0.75]
    assert table["a"]["seed_ids"] == [0, 1] and table["b"]["seed_ids"] == [0]
    assert table["a"]["last_train_success_mean"] == 0.75  # last steps 1.0 and 0.5
    assert table["a"]["train_seconds_mean"] == 10.5 and table["b"]["seeds"] == 1
    assert table["a"]["last_entropy_mean"] == 1.5
    assert winner(table) == "tie: a, b"  # 0.5 each
    table["b"]["held_out_mean"] = 0.625
    assert winner(table) == "b"
    assert curves(results)["a"] == [[(4, 0.5), (8, 1.0)], [(4, 0.0), (8, 0.5)]]


def test_slug_names_a_folder():
    assert slug("mean/std (GRPO)") == "mean-std--GRPO"
    assert slug("Dr. GRPO") == "Dr.-GRPO" and slug("///") == "variant"


def test_plot_bands_draws_and_refuses_seeds_at_different_steps(tmp_path):
    good = {"a": [[(1, 0.1), (2, 0.3)], [(1, 0.2), (2, 0.5)]], "b": [[(1, 0.0), (2, 0.1)]]}
    path = plot_bands(good, tmp_path / "p.png", xlabel="x", ylabel="y", baseline=("start", 0.2))
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="'a' were logged at different x"):
        plot_bands({"a": [[(1, 0.1)], [(2, 0.1)]]}, tmp_path / "q.png", xlabel="x", ylabel="y")


def test_run_all_trains_each_variant_and_seed_then_reads_finished_runs_back(tmp_path, monkeypatch):
    start, start_success = starting_point(SMALL, None, tmp_path / "start")
    assert start == tmp_path / "start" and 0.0 <= start_success <= 1.0
    variants = {"lr 1e-3": {}, "lr 1e-2": {"lr": 1e-2}}
    first = run_all(variants, [0, 1], SMALL | GRPO, start, tmp_path, report=lambda r: None)
    assert [(r.variant, r.seed) for r in first] == [
        ("lr 1e-3", 0), ("lr 1e-2", 0), ("lr 1e-3", 1), ("lr 1e-2", 1)
    ]  # fmt: skip
    saved = json.loads((tmp_path / "lr-1e-2" / "seed-1" / "config.json").read_text())
    assert saved["lr"] == 1e-2 and saved["seed"] == 1 and saved["init"] == str(start)
    assert all([x for x, _ in r.success] == [4, 8] for r in first)  # episodes after each step

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(experiments, "_trainer", no_training)
    again = run_all(variants, [0, 1], SMALL | GRPO, start, tmp_path, report=lambda r: None)
    assert again == first
    with pytest.raises(AssertionError, match="trained again"):  # another config: a new run
        run_all({"lr 1e-3": {"steps": 3}}, [0], SMALL | GRPO, start, tmp_path)


def test_starting_point_reads_a_given_run_or_evaluates_it_never_trains(tmp_path):
    start, success = starting_point(SMALL, None, tmp_path / "start")
    before = (start / "metrics.jsonl").read_text()
    assert starting_point(SMALL, start, tmp_path / "other") == (start, success)
    assert not (tmp_path / "other-eval").exists()  # read from its own final evaluation
    again, _ = starting_point(SMALL | {"eval_tasks": 1}, start, tmp_path / "other")
    assert again == start and (tmp_path / "other-eval").is_dir()  # other tasks: evaluated once
    assert (start / "metrics.jsonl").read_text() == before


@dataclass
class Settings:
    model: str = "tiny"
    seeds: list[int] = field(default_factory=lambda: [0, 1])
    eval_tasks: int = 4
    lr: float = 1e-5


def test_parse_dataclass_flags():
    helps = {"model": "m", "seeds": "s", "eval_tasks": "e", "lr": "l"}
    assert parse_dataclass(Settings, helps, "d", []) == Settings()
    got = parse_dataclass(Settings, helps, "d", ["--seeds", "3", "4", "--eval-tasks", "8"])
    assert got == Settings(seeds=[3, 4], eval_tasks=8)
    with pytest.raises(SystemExit):
        parse_dataclass(Settings, helps, "d", ["--seeds", "x"])
