"""``toolgym eval --save-trajectories``: every episode as a row, loadable with datasets and back."""

import json

import pytest
from typer.testing import CliRunner

from toolgym.cli import app
from toolgym.eval.run import EvalConfig, run_eval
from toolgym.llm import models
from toolgym.tokens.chat import ChatTokenizer
from toolgym.train.conversations import Conversation, conversation_trajectory
from toolgym.trajectory_rows import read_rows, row_trajectory, tokenizer_hash

ENV = "toolgym/Search-v0"


def evaluate(tmp_path, path, agent="oracle", k=1):
    config = EvalConfig(env=ENV, agent=agent, limit=2, k=k, out=tmp_path / agent,
                        save_trajectories=path)  # fmt: skip
    run_eval(config, progress=False)
    results = [json.loads(line) for line in (config.out / "results.jsonl").read_text().splitlines()]
    return results, read_rows(path)


def test_oracle_eval_rows_hold_the_chat_and_its_token_stream(tmp_path):
    import gymnasium as gym

    results, rows = evaluate(tmp_path, tmp_path / "oracle.parquet", k=2)
    assert len(rows) == len(results) == 4
    tokenizer = models.tiny_tokenizer()
    chat = ChatTokenizer(tokenizer)
    tool_format = gym.make(ENV).unwrapped.tool_format
    for result, (_, row) in zip(results, rows, strict=True):
        assert (row["source"], row["env"], row["agent"], row["tokenizer"]) == (
            "eval", ENV, "oracle", "tiny")  # fmt: skip
        assert row["tokenizer_hash"] == tokenizer_hash(tokenizer)
        assert (row["task_id"], row["sample"], row["success"]) == (
            result["task_id"], result["sample"], True)  # fmt: skip
        assert row["group"] == [r["task_id"] for r in results].index(result["task_id"]) // 2
        assert row["reward"] == pytest.approx(result["reward"])
        assert json.loads(row["components"]) == result["components"]
        assert [m["content"] for m in row["messages"]] == [m["content"] for m in result["messages"]]
        calls = [c for m in row["messages"] if m["role"] == "assistant" for c in m["tool_calls"]]
        assert calls and all(json.loads(c["arguments"]) is not None for c in calls)
        expected = conversation_trajectory(
            Conversation.model_validate({"messages": result["messages"]}), chat, tool_format, "x"
        )
        back = row_trajectory(row)
        assert back.token_ids == expected.token_ids and back.loss_mask == expected.loss_mask
        assert sum(back.loss_mask) == result["tokens"]  # the mask view's trainable count
        assert row["logprobs"] is None  # text-level play: no behaviour log-probs, not zeros
        assert back.turn_rewards == [s["reward"] for s in result["steps"]]
        assert back.components == [s["components"] for s in result["steps"]]


def test_datasets_reads_what_eval_saved(tmp_path):
    datasets = pytest.importorskip("datasets")
    _, rows = evaluate(tmp_path, tmp_path / "oracle.parquet")
    dataset = datasets.Dataset.from_parquet(str(tmp_path / "oracle.parquet"),
                                            cache_dir=str(tmp_path / "cache"))  # fmt: skip
    assert dataset.num_rows == len(rows)
    for record, (_, row) in zip(dataset, rows, strict=True):
        assert record["token_ids"] == row["token_ids"] and record["messages"] == row["messages"]
        same = row_trajectory(record)
        assert same.segments == row_trajectory(row).segments


def test_jsonl_rows_equal_parquet_rows(tmp_path):
    _, parquet = evaluate(tmp_path, tmp_path / "a.parquet", agent="random")
    _, jsonl = evaluate(tmp_path, tmp_path / "a.jsonl", agent="random")
    drop = ("timings",)
    assert [{k: v for k, v in r.items() if k not in drop} for _, r in parquet] == [
        {k: v for k, v in r.items() if k not in drop} for _, r in jsonl]  # fmt: skip


def test_cli_flag_and_its_clear_error(tmp_path):
    runner = CliRunner()
    out = tmp_path / "rows.jsonl"
    ok = runner.invoke(app, ["eval", "--env", ENV, "--agent", "oracle", "--limit", "1",
                             "--out", str(tmp_path / "run"), "--save-trajectories", str(out)])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert len(read_rows(out)) == 1
    bad = runner.invoke(app, ["eval", "--env", ENV, "--limit", "1", "--out", str(tmp_path / "r"),
                              "--save-trajectories", str(tmp_path / "rows.csv")])  # fmt: skip
    assert bad.exit_code == 2
    assert "rows.csv: rows are written as Parquet or JSONL: end the path in .parquet" in bad.output
