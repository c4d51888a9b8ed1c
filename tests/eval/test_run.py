"""`toolgym eval` end to end: the oracle on every bundled suite, summaries, an endpoint agent."""

import json

import pytest

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.eval.run import EvalConfig, run_eval, summarise

BUNDLED = ["toolgym/Calendar-v0", "toolgym/Files-v0", "toolgym/Search-v0",
           "toolgym/SearchLookup-v0", "toolgym/Travel-v0"]  # fmt: skip


@pytest.mark.parametrize("env_id", BUNDLED)
def test_the_oracle_scores_100_percent_on_every_bundled_suite(env_id, tmp_path):
    summary = run_eval(EvalConfig(env=env_id, agent="oracle", out=tmp_path), progress=False)
    assert summary["success_rate"] == 1.0 and summary["pass_at_k"] == {"1": 1.0}
    assert summary["failures"] == dict.fromkeys(summary["failures"], 0)
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(rows) == summary["episodes"] == summary["tasks"]
    for row in rows:  # the mask view covers exactly the assistant turns
        view = row["mask_view"]
        assert len(view["pieces"]) == len(view["trainable"])
        trained = "".join(p for p, t in zip(view["pieces"], view["trainable"], strict=True) if t)
        said = [m["content"] for m in row["messages"] if m["role"] == "assistant"]
        assert trained.replace("<|im_end|>", "") == "".join(said)


def row(task, success, failure=None, tokens=10):
    return {"task_id": task, "success": success, "failure": failure, "tokens": tokens,
            "components": {"completion": float(success)}, "turns": 2,
            "seconds": {"agent": 1.0, "tool": 0.5, "user": 0.25}}  # fmt: skip


def test_summary_of_hand_written_rows():
    rows = [row("a", True), row("a", False), row("a", True), row("a", False),
            row("b", True), row("b", True), row("b", True), row("b", False, "user_backend")]  # fmt: skip
    summary = summarise(rows, EvalConfig(env="x", k=4))
    assert summary["episodes"] == 8 and summary["tasks"] == 2 and summary["user_errors"] == 1
    assert summary["success_rate"] == pytest.approx(5 / 7)  # the user's failure is left out
    # task a: n=4, c=2; task b: n=3, c=3 (only 3 scored samples: no pass@4 for b)
    assert summary["pass_at_k"]["1"] == pytest.approx((0.5 + 1.0) / 2)
    assert summary["pass_at_k"]["2"] == pytest.approx((5 / 6 + 1.0) / 2)
    assert summary["pass_hat_k"]["2"] == pytest.approx((1 / 6 + 1.0) / 2)
    assert summary["pass_at_k"]["4"] == pytest.approx(1.0) and summary["pass_hat_k"]["4"] == 0.0
    assert summary["seconds"] == {"agent": 8.0, "tool": 4.0, "user": 2.0, "total": 14.0}
    assert summary["failures"]["user_backend"] == 1


def test_an_openai_compatible_endpoint_is_evaluated_end_to_end(tmp_path, tiny_model):
    """`toolgym eval --agent openai` against `toolgym serve` (the tiny model) on loopback."""
    from typer.testing import CliRunner

    from toolgym.cli import app
    from toolgym.serve import background_server, create_app

    model, tokenizer = tiny_model
    out = tmp_path / "run"
    with background_server(create_app(model, tokenizer, model_name="tiny-served")) as url:
        args = ["eval", "--env", "toolgym/Search-v0", "--agent", "openai", "--base-url", url,
                "--model", "tiny-served", "--k", "2", "--limit", "2", "--max-new-tokens", "8",
                "--tool-mode", "native", "--no-progress", "--out", str(out)]  # fmt: skip
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes"] == 4 and summary["tasks"] == 2 and summary["agent"] == "openai"
    assert set(summary["pass_at_k"]) == {"1", "2"} and summary["success_rate"] == 0.0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert all(r["tokens"] > 0 for r in rows)  # reported by the server, not re-tokenised
    assert sum(r["failure"] is not None for r in rows) == 4
    assert (out / "report.html").is_file() and "success" in result.output.lower()


def test_a_local_model_agent_samples_k_times_and_its_tokenizer_draws_the_mask_view(tmp_path):
    summary = run_eval(
        EvalConfig(
            env="toolgym/Search-v0",
            agent="hf",
            model="tiny",
            k=2,
            limit=2,
            max_new_tokens=8,
            out=tmp_path,
        ),  # fmt: skip
        progress=False,
    )
    assert summary["episodes"] == 4 and set(summary["pass_at_k"]) == {"1", "2"}
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    first, second = rows[0], rows[1]  # two samples of the same task differ (seeded sampling)
    assert first["task_id"] == second["task_id"] and first["messages"] != second["messages"]
    assert all(r["tokens"] == sum(r["mask_view"]["trainable"]) for r in rows if r["mask_view"])
