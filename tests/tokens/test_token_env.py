"""TokenEnv over the counters suite: streams, masks, rewards, budgets, garbage ids."""

import gymnasium as gym
import numpy as np
import pytest

from toolgym.formats import get_format
from toolgym.tokens.env import Generation, TokenEnv
from toolgym.tooling import ToolCall

CALL = get_format("hermes").render_calls([ToolCall(name="get", arguments={"name": "apples"})])


@pytest.fixture
def token_env(counters_env_id, tiny):
    _, _, chat = tiny
    return TokenEnv(gym.make(counters_env_id, rewards={"completion": 1.0}), chat), chat


def generate(chat, text, stop=True):
    ids = chat.encode(text) + ([chat.end_of_turn_id] if stop else [])
    return Generation(tuple(ids), tuple(-0.5 for _ in ids))


def test_episode_stream_masks_and_rewards(token_env):
    env, chat = token_env
    prompt, info = env.reset(seed=0, options={"task_id": "c-1"})
    assert prompt == chat.encode(
        chat.render(env.unwrapped.episode.messages, add_generation_prompt=True)
    )
    obs, reward, terminated, truncated, _ = env.step(generate(chat, CALL))
    assert chat.tokenizer.decode(obs) == "\n<|im_start|>tool\n3<|im_end|>\n<|im_start|>assistant\n"
    stream = env.trajectory.token_ids
    assert stream == chat.encode(
        chat.render(env.unwrapped.episode.messages, add_generation_prompt=True)
    )
    _, reward, terminated, truncated, info = env.step(generate(chat, "You have 3 apples."))
    traj = env.trajectory
    assert terminated and not truncated and traj.end_reason == "answered"
    assert traj.turn_rewards == [0.0, 1.0] and traj.total_reward == 1.0
    assert [s.role for s in traj.segments] == ["prompt", "assistant", "observation", "assistant"]
    assert sum(traj.loss_mask) == len(traj.segments[1].token_ids) + len(traj.segments[3].token_ids)
    assert traj.turn_ends == [len(prompt) + len(traj.segments[1].token_ids) - 1, len(traj) - 1]
    assert traj.logprobs[len(prompt)] == -0.5 and traj.logprobs[0] == 0.0
    with pytest.raises(RuntimeError, match="call reset"):
        env.step([1, 2])


def test_token_budget_truncates(token_env):
    _, chat = token_env
    env = TokenEnv(token_env[0].env, chat, max_tokens=10)
    prompt, _ = env.reset(seed=0, options={"task_id": "c-1"})
    assert env.remaining_tokens < 0  # the prompt alone is over budget: the next step must end it
    _, reward, terminated, truncated, info = env.step(
        Generation(())
    )  # what a 0-token budget yields
    assert truncated and not terminated and info["end_reason"] == "max_tokens" and reward == 0.0
    assert env.trajectory.end_reason == "max_tokens" and env.unwrapped.episode.turns == []

    env = TokenEnv(token_env[0].env, chat, max_tokens=len(prompt) + 12)
    env.reset(seed=0, options={"task_id": "c-1"})
    _, _, terminated, truncated, info = env.step(
        generate(chat, CALL)
    )  # the reply and result overflow
    assert truncated and not terminated and info["end_reason"] == "max_tokens"


def test_random_ids_never_crash(token_env):
    env, chat = token_env
    rng = np.random.default_rng(0)
    for episode in range(30):
        env.reset(seed=episode)
        done = False
        while not done:
            ids = [
                int(i) for i in rng.integers(0, len(chat.tokenizer), size=int(rng.integers(0, 40)))
            ]
            _, _, terminated, truncated, _ = env.step(ids)
            done = terminated or truncated
        assert len(env.trajectory.turn_rewards) <= env.unwrapped.limits.max_turns
