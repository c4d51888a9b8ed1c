"""SFT cold start: oracle token trajectories and the masked cross-entropy step."""

import logging

import gymnasium as gym
import torch

from toolgym.llm import models
from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Segment, Trajectory, collate
from toolgym.train.algos.sft import sft_step, turn_budget_warning
from toolgym.train.config import TrainConfig
from toolgym.train.data import oracle_trajectories
from toolgym.train.loop import Trainer
from toolgym.train.losses import sft_loss


def test_oracle_trajectories_replay_the_gold_and_mask_only_assistant_tokens(tiny):
    _, tokenizer, chat = tiny
    make = lambda: gym.make("toolgym/Calendar-v0", split="test")  # noqa: E731
    trajectories = oracle_trajectories(make, chat)
    tasks = make().unwrapped.tasks
    assert len(trajectories) == len(tasks) == 19
    assert all(t.total_reward == 1.0 and t.end_reason == "answered" for t in trajectories)
    for traj, task in zip(trajectories, tasks, strict=True):
        assistant = [s for s in traj.segments if s.role == "assistant"]
        assert sum(traj.loss_mask) == sum(len(s.token_ids) for s in assistant)
        assert all(s.token_ids[-1] == chat.end_of_turn_id for s in assistant)
        calling = [s for s in assistant if "<tool_call>" in tokenizer.decode(list(s.token_ids))]
        assert len(calling) == len(task.gold_calls)


def test_sft_lowers_the_loss_on_oracle_turns(tiny):
    _, tokenizer, chat = tiny
    model = models.tiny_model(seed=1)
    batch = collate(
        oracle_trajectories(
            lambda: gym.make("toolgym/Search-v0"), chat, ["search-train-001", "search-train-002"]
        ),
        tokenizer.pad_token_id,
    )
    with torch.no_grad():
        before = float(sft_loss(token_logprobs(model, batch), batch.loss_mask))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    start = {name: p.detach().clone() for name, p in model.named_parameters()}
    for _ in range(25):
        stats = sft_step(model, optimizer, batch)
    assert stats["loss"] < 0.7 * before
    assert all(not torch.equal(start[name], p) for name, p in model.named_parameters())


def _episode(*lengths: tuple[str, int]) -> Trajectory:
    """A trajectory of segments of the given roles and lengths (assistant ones trainable)."""
    segments = [Segment(role, (7,) * n, role == "assistant") for role, n in lengths]
    return Trajectory("t", segments)


def test_turn_budget_warning_counts_only_generated_turns_longer_than_the_budget():
    episodes = [
        _episode(("prompt", 100), ("assistant", 5), ("observation", 50), ("assistant", 9)),
        _episode(("prompt", 100), ("assistant", 3)),
    ]
    assert turn_budget_warning(episodes, 9) is None  # a turn of exactly the budget can be written
    assert turn_budget_warning(episodes, 8) == (
        "1 of 3 demonstrated assistant turns are longer than max_new_tokens=8 (the longest is 9 "
        "tokens with its end-of-turn token): sampled turns are cut there, so the policy can never "
        "finish them. Set max_new_tokens to at least 9."
    )
    assert (turn_budget_warning(episodes, 4) or "").startswith("2 of 3 ")
    assert turn_budget_warning([_episode(("prompt", 100))], 1) is None  # prompts never count


def test_sft_warns_once_per_run_when_demonstrations_outgrow_max_new_tokens(tmp_path, caplog):
    def warnings(max_new_tokens: int) -> list[str]:
        config = TrainConfig(
            env="toolgym/Search-v0", algo="sft", model="tiny", steps=2, tasks_per_step=2,
            group_size=1, max_new_tokens=max_new_tokens, eval_tasks=1,
            out=tmp_path / str(max_new_tokens),
        )  # fmt: skip
        trainer = Trainer(config, progress=False)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="toolgym.train.algos.sft"):
            for _ in range(2):
                trainer.train_step()
        return [r.getMessage() for r in caplog.records if r.name == "toolgym.train.algos.sft"]

    short = warnings(4)
    assert len(short) == 1 and "max_new_tokens=4 " in short[0], short
    assert warnings(512) == []
