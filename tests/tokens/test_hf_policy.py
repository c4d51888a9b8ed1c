"""HFPolicy: budgets, stops, determinism, left padding, top-p, and log-prob consistency."""

import gymnasium as gym
import pytest
import torch

from toolgym.collector import Collector
from toolgym.llm.sampler import HFPolicy, SamplingConfig, _top_p
from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import collate


def policy(tiny, **config):
    model, tokenizer, chat = tiny
    return HFPolicy(model, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(**config))


def test_budgets_and_stop_tokens(tiny):
    _, _, chat = tiny
    prefixes = [chat.encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")] * 3
    gens = policy(tiny, max_new_tokens=12).generate(prefixes, [0, 5, 12])
    assert [len(g.token_ids) <= b for g, b in zip(gens, [0, 5, 12], strict=True)] == [True] * 3
    assert len(gens[0].token_ids) == 0
    for g in gens:
        assert len(g.logprobs) == len(g.token_ids) and all(lp <= 0 for lp in g.logprobs)
        assert all(t not in chat.stop_ids for t in g.token_ids[:-1])  # a stop id can only come last


def test_greedy_left_padding_matches_single_prefix(tiny):
    _, _, chat = tiny
    short = chat.encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    long = chat.encode(
        "<|im_start|>user\n"
        + "tell me about the calendar " * 6
        + "<|im_end|>\n<|im_start|>assistant\n"
    )
    greedy = policy(tiny, temperature=0.0, max_new_tokens=8)
    alone = greedy.generate([short])[0]
    batched = greedy.generate([long, short])[1]
    assert alone.token_ids == batched.token_ids
    assert alone.logprobs == pytest.approx(batched.logprobs, abs=1e-4)


def test_same_seed_same_samples(tiny):
    _, _, chat = tiny
    prefix = [chat.encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")] * 2
    first = policy(tiny, seed=3, max_new_tokens=10).generate(prefix)
    second = policy(tiny, seed=3, max_new_tokens=10).generate(prefix)
    assert first == second
    assert first[0] != first[1]  # rows draw independently


def test_top_p_keeps_the_smallest_nucleus():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    kept = _top_p(probs, 0.7)  # 0.5 alone is < 0.7, so 0.3 stays; 0.5 + 0.3 >= 0.7 cuts the rest
    torch.testing.assert_close(kept, torch.tensor([[0.5, 0.3, 0.0, 0.0]]))
    torch.testing.assert_close(_top_p(torch.tensor([[0.9, 0.1]]), 0.5), torch.tensor([[0.9, 0.0]]))


def test_collector_groups_and_logprob_consistency(tiny):
    model, tokenizer, chat = tiny
    collector = Collector(
        lambda: gym.make("toolgym/Search-v0", split="test"),
        chat,
        policy(tiny, max_new_tokens=16),
        max_tokens=4000,
        progress=False,
    )
    tasks = [t.id for t in collector.make_env().unwrapped.tasks[:2]]
    trajectories, stats = collector.collect(tasks, group_size=3, seed=5)
    assert [t.task_id for t in trajectories] == [tasks[0]] * 3 + [tasks[1]] * 3
    prompts = [t.segments[0].token_ids for t in trajectories]
    assert prompts[0] == prompts[1] == prompts[2]  # one group = one task, one seed
    assert stats.episodes == 6 and stats.generated_tokens == sum(
        sum(t.loss_mask) for t in trajectories
    )
    batch = collate(trajectories, tokenizer.pad_token_id)
    with torch.no_grad():
        recomputed = token_logprobs(model, batch)
    error = ((recomputed - batch.old_logprobs).abs() * batch.loss_mask).max()
    assert float(error) < 1e-4
    assert int(batch.loss_mask.sum()) == stats.generated_tokens
    assert (batch.turn_ids >= 0).eq(batch.loss_mask.bool()).all()
