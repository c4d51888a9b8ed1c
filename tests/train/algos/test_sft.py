"""SFT cold start: oracle token trajectories and the masked cross-entropy step."""

import gymnasium as gym
import torch

from toolgym.llm import models
from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import collate
from toolgym.train.algos.sft import sft_step
from toolgym.train.data import oracle_trajectories
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
