"""SmolLM2-135M-Instruct (the embedded default) end to end on CPU: all four suites, exact log-probs."""

import gymnasium as gym
import pytest
import torch

from toolgym.collector import Collector
from toolgym.llm import models
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import collate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2():
    model, tokenizer = models.load("smollm2-135m")
    return model, tokenizer, ChatTokenizer(tokenizer)


def test_smollm2_loads_from_the_packaged_gguf(smollm2):
    model, tokenizer, chat = smollm2
    assert models.smollm2_gguf().name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert (
        chat.turn_end == "<|im_end|>\n"
        and chat.end_of_turn_id == tokenizer.convert_tokens_to_ids("<|im_end|>")
    )


@pytest.mark.parametrize(
    "env_id", ["toolgym/Search-v0", "toolgym/Files-v0", "toolgym/Travel-v0", "toolgym/Calendar-v0"]
)
def test_smollm2_episodes_end_to_end_with_exact_logprobs(smollm2, env_id):
    model, tokenizer, chat = smollm2
    policy = HFPolicy(
        model, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(max_new_tokens=12, seed=1)
    )
    collector = Collector(
        lambda: gym.make(env_id, split="test", limits={"max_turns": 2}),
        chat,
        policy,
        max_tokens=6000,
        progress=False,
    )
    task = collector.make_env().unwrapped.tasks[0].id
    trajectories, stats = collector.collect([task], group_size=1)
    (traj,) = trajectories
    assert traj.terminated or traj.truncated
    assert stats.generated_tokens == sum(traj.loss_mask) > 0
    batch = collate(trajectories, tokenizer.pad_token_id)
    with torch.no_grad():
        recomputed = token_logprobs(model, batch)
    assert float(((recomputed - batch.old_logprobs).abs() * batch.loss_mask).max()) < 1e-4


def test_smollm2_kv_cache_matches_uncached_over_a_calendar_episode(smollm2):
    """Three turns of two Calendar episodes: cache on gives the uncached greedy tokens and log-probs."""
    from toolgym.tokens.env import TokenEnv

    model, tokenizer, chat = smollm2
    env = TokenEnv(gym.make("toolgym/Calendar-v0", split="test"), chat, max_tokens=100_000)
    firsts = []
    for index in range(2):
        env.reset(seed=index, options={"task_id": env.unwrapped.tasks[index].id})
        firsts.append(list(env.trajectory.token_ids))
    tool = [{"role": "tool", "name": "list_events", "content": '{"events": [], "count": 0}'}]
    delta = list(chat.observation_ids(tool, chat.end_of_turn_id))
    runs = []
    for kv_cache in (False, True):
        config = SamplingConfig(temperature=0.0, max_new_tokens=6, kv_cache=kv_cache)
        policy = HFPolicy(model, chat.stop_ids, tokenizer.pad_token_id, config)
        streams, turns = [list(s) for s in firsts], []
        for _ in range(3):
            gens = policy.generate(streams)
            turns.append(gens)
            streams = [s + list(g.token_ids) + delta for s, g in zip(streams, gens, strict=True)]
        runs.append((turns, policy.prefill_tokens))
    (plain, plain_prefill), (cached, cached_prefill) = runs
    for plain_turn, cached_turn in zip(plain, cached, strict=True):
        for a, b in zip(plain_turn, cached_turn, strict=True):
            assert a.token_ids == b.token_ids
            assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)
    assert cached_prefill < plain_prefill
