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
