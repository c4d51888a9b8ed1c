"""Trainer rollouts as rows (saved per step, trimmed on resume), and rows back as SFT and DPO data."""

import json

import pytest
import torch

from toolgym.eval.run import EvalConfig, run_eval
from toolgym.tokens.trajectory import Segment, Trajectory
from toolgym.train.config import TrainConfig
from toolgym.train.loop import Trainer
from toolgym.train.preferences import preference_dataset
from toolgym.trajectory_rows import (
    episode_row,
    preference_rows,
    read_rows,
    row_trajectory,
    sft_rows,
    tokenizer_hash,
    write_rows,
)

SMALL = {"env": "toolgym/Search-v0", "model": "tiny", "tasks_per_step": 2, "group_size": 2,
         "max_new_tokens": 6, "eval_tasks": 1, "lr": 1e-3}  # fmt: skip


def test_rollouts_saved_per_step_exactly_and_resume_removes_later_steps(tmp_path):
    config = TrainConfig(**SMALL, steps=2, checkpoint_every=1, out=tmp_path / "run",
                         log={"save_rollouts": True})  # fmt: skip
    trainer = Trainer(config, progress=False)
    collected = []
    collect = trainer._collect
    trainer._collect = lambda tasks, seed: collected.append(out := collect(tasks, seed)) or out
    trainer._log(trainer.train_step())
    trainer._save()  # checkpoint at step 1
    trainer._log(trainer.train_step())  # step 2 in flight when the process dies
    folder = tmp_path / "run" / "rollouts"
    assert sorted(p.name for p in folder.iterdir()) == [
        "step-000001.parquet",
        "step-000002.parquet",
    ]
    rows = read_rows(folder / "step-000001.parquet")
    assert len(rows) == 4
    for index, ((_, row), trajectory) in enumerate(zip(rows, collected[0][0], strict=True)):
        back = row_trajectory(row)
        assert back.segments == trajectory.segments  # ids, mask and behaviour log-probs verbatim
        assert back.turn_rewards == trajectory.turn_rewards
        assert back.components == trajectory.components
        assert (row["step"], row["group"], row["sample"]) == (1, index // 2, index % 2)
        assert row["seed"] == trainer._rollout_seed(0) + index // 2
        assert row["policy_version"] == 0 and row["tokenizer"] == "tiny"
        assert row["segments"][0]["text"] == trainer.tokenizer.decode(
            list(trajectory.segments[0].token_ids))  # fmt: skip
        # The conversation the env saw: its assistant turns are the decoded generated tokens.
        roles = [m["role"] for m in row["messages"]]
        assert roles[0] == "system" and "user" in roles and "assistant" in roles
        said = [m["content"] for m in row["messages"] if m["role"] == "assistant"]
        generated = [s for s in trajectory.segments if s.role == "assistant"]
        assert said == [trainer.chat.decode(list(s.token_ids)) for s in generated[: len(said)]]
        assert all(isinstance(m["tool_calls"], list) for m in row["messages"]
                   if m["role"] == "assistant")  # fmt: skip
        assert back.messages == trajectory.messages
    assert [r["policy_version"] for _, r in read_rows(folder / "step-000002.parquet")] == [1] * 4
    del trainer
    resumed = Trainer(config, resume=True, progress=False)
    assert resumed.step == 1
    assert sorted(p.name for p in folder.iterdir()) == ["step-000001.parquet"]
    resumed.run()
    assert [r["step"] for _, r in read_rows(folder)] == [1] * 4 + [2] * 4  # no duplicates

    # The rollouts back as SFT data: rows at or over a reward threshold, trained as they are.
    rewards = sorted(r["reward"] for _, r in read_rows(folder))
    threshold = rewards[len(rewards) // 2]
    kept = sum(reward >= threshold for reward in rewards)
    sft = TrainConfig(env=SMALL["env"], model="tiny", algo="sft", steps=2, tasks_per_step=2,
                      group_size=1, lr=3e-3, eval_tasks=1, max_new_tokens=6, out=tmp_path / "sft",
                      sft={"data": folder, "min_reward": threshold})  # fmt: skip
    learner = Trainer(sft, progress=False)
    assert len(learner.train_tasks) == kept
    assert all(task.startswith(str(folder)) for task in learner.train_tasks)
    start = [p.detach().clone() for p in learner.model.parameters()]
    losses = [learner.train_step()["loss"] for _ in range(2)]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert any(
        not torch.equal(a, b) for a, b in zip(start, learner.model.parameters(), strict=True)
    )


@pytest.fixture(scope="module")
def eval_rows(tmp_path_factory):
    """A folder of rows: the oracle (all successes) and the random agent on the same 3 tasks."""
    root = tmp_path_factory.mktemp("rows")
    for agent in ("oracle", "random"):
        run_eval(EvalConfig(env=SMALL["env"], agent=agent, limit=3, out=root / agent,
                            save_trajectories=root / "data" / f"{agent}.parquet"),
                 progress=False)  # fmt: skip
    return root / "data"


def test_sft_from_eval_rows_keeps_the_successes_and_trains(eval_rows, tmp_path):
    successes = sum(r["success"] for _, r in read_rows(eval_rows))
    assert 0 < successes < len(read_rows(eval_rows))
    config = TrainConfig(env=SMALL["env"], model="tiny", algo="sft", steps=1, tasks_per_step=2,
                         group_size=1, lr=3e-3, eval_tasks=1, max_new_tokens=6,
                         out=tmp_path / "sft", sft={"data": eval_rows})  # fmt: skip
    trainer = Trainer(config, progress=False)
    assert len(trainer.train_tasks) == successes
    assert all("oracle.parquet" in task for task in trainer.train_tasks)
    assert torch.isfinite(torch.tensor(trainer.train_step()["loss"]))


def test_dpo_from_eval_rows(eval_rows, tmp_path):
    from toolgym.llm import models

    pairs = preference_rows(eval_rows, models.tiny_tokenizer(), 4096)
    rows = dict(read_rows(eval_rows))
    assert pairs
    for key, (chosen, rejected) in pairs.items():
        best, worst = key.split(">")
        assert "oracle.parquet" in best and rows[best]["reward"] > rows[worst]["reward"]
        assert chosen.segments[0].token_ids == rejected.segments[0].token_ids  # one prompt
    config = TrainConfig(env=SMALL["env"], model="tiny", algo="dpo", steps=1, tasks_per_step=1,
                         group_size=1, lr=1e-3, eval_tasks=1, max_new_tokens=6,
                         out=tmp_path / "dpo", dpo={"data": eval_rows})  # fmt: skip
    trainer = Trainer(config, progress=False)
    assert sorted(trainer.train_tasks) == sorted(pairs)
    metrics = trainer.train_step()
    assert metrics["pairs"] == 1 and torch.isfinite(torch.tensor(metrics["loss"]))


def rows_of(tmp_path, rewards, vocabulary, prompts=None, name="r.jsonl", **fields):
    """A JSONL of rows of task t1, group 0, with these rewards (and prompts)."""
    prompts = prompts or [(1, 2)] * len(rewards)
    rows = []
    for reward, prompt in zip(rewards, prompts, strict=True):
        traj = Trajectory("t1", [Segment("prompt", prompt, False), Segment("assistant", (3, 4), True)],
                          turn_rewards=[reward], components=[{"completion": float(reward == 1)}])  # fmt: skip
        row = episode_row(traj, source="eval", env="x", task_number=0, tokenizer=vocabulary,
                          tokenizer_name="tiny")  # fmt: skip
        rows.append(row | fields)
    return write_rows(tmp_path / name, rows)


def test_dpo_pair_rule_best_over_worst_within_a_group(tmp_path):
    from toolgym.llm import models

    tokenizer = models.tiny_tokenizer()
    path = rows_of(tmp_path, [0.5, 1.0, 0.0, 1.0, 0.0], tokenizer)
    assert list(preference_rows(path, tokenizer, 100)) == [f"{path}:2>{path}:3"]  # ties: earlier
    flat = rows_of(tmp_path, [1.0, 1.0], tokenizer, name="flat.jsonl")
    with pytest.raises(ValueError, match="every group's rewards are equal"):
        preference_rows(flat, tokenizer, 100)
    apart = rows_of(tmp_path, [1.0, 0.0], tokenizer, prompts=[(1, 2), (1, 5)], name="two.jsonl")
    with pytest.raises(ValueError, match="no pair"):  # different prompts: different groups
        preference_rows(apart, tokenizer, 100)
    chat = type("Chat", (), {"tokenizer": tokenizer})()
    assert list(preference_dataset(path, chat, None, 100)) == [f"{path}:2>{path}:3"]


def test_rows_the_run_cannot_train_on_are_refused_by_file_and_row(tmp_path):
    from toolgym.llm import models

    tokenizer = models.tiny_tokenizer()
    other = rows_of(tmp_path, [1.0], tokenizer, name="o.jsonl", tokenizer_hash="0" * 16,
                    tokenizer="smollm2-135m")  # fmt: skip
    with pytest.raises(ValueError, match=rf"{other}:1: .*'smollm2-135m'.*--set model=smollm2-135m"):
        sft_rows(other, tokenizer, 100)
    big = rows_of(tmp_path, [1.0], tokenizer, name="b.jsonl", tokenizer_hash=None,
                  token_ids=[1, 2, 10**6, 4])  # fmt: skip
    with pytest.raises(ValueError, match=rf"{big}:1: token id 1000000 is outside .* vocabulary"):
        sft_rows(big, tokenizer, 100)
    with pytest.raises(ValueError, match=rf"{big}:1: 4 tokens, over max_tokens=3"):
        sft_rows(rows_of(tmp_path, [1.0], tokenizer, name="b.jsonl"), tokenizer, 3)
    endpoint = tmp_path / "e.jsonl"
    empty = episode_row(Trajectory("t", [], turn_rewards=[1.0], components=[{"completion": 1.0}]),
                        source="eval", env="x")  # fmt: skip
    endpoint.write_text(json.dumps(empty) + "\n")
    with pytest.raises(ValueError, match=rf"{endpoint}: .*of its 1 rows, 0 have token_ids.*openai"):
        sft_rows(endpoint, tokenizer, 100)
    failed = rows_of(tmp_path, [0.0], tokenizer, name="f.jsonl")
    with pytest.raises(ValueError, match="no row with success == true.*sft.min_reward"):
        sft_rows(failed, tokenizer, 100)
    assert list(sft_rows(failed, tokenizer, 100, min_reward=0.0)) == [f"{failed}:1"]
    assert tokenizer_hash(tokenizer) == read_rows(failed)[0][1]["tokenizer_hash"]


def test_row_messages_read_the_assistants_calls_with_the_envs_format():
    import gymnasium as gym

    from toolgym.trajectory_rows import call_parser, chat_messages

    env = gym.make("toolgym/Search-v0").unwrapped
    messages, _ = env.reset(seed=0)
    gold = env.expert_message()
    rows = chat_messages([*messages, {"role": "assistant", "content": gold}], call_parser(env))
    assert rows[-1]["tool_calls"], "the oracle's message holds a call"
    assert rows[-1]["tool_calls"] == [
        {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)}
        for c in env.tool_format.parse(gold, {}).calls
    ]
    assert all(m["tool_calls"] is None for m in rows[:-1])
    assert call_parser(object()) is None  # no tool format: tool_calls stay null
