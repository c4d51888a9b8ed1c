"""toolgym/MCP-v0 behaves like a Gymnasium env over a real MCP server (tests/test_gym_interop.py
covers the envs that need no arguments): the checker, standard wrappers, a vector env, and a clear
refusal to be copied mid-episode."""

from __future__ import annotations

import copy
import functools
import pickle
import sys

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker, RecordEpisodeStatistics, TimeLimit

import toolgym  # noqa: F401  (registers toolgym/MCP-v0)

pytest.importorskip("mcp", reason="the mcp extra is not installed")
from mcp_helpers import HERE
from test_third_party import _task

from toolgym.policies.reference import OraclePolicy

SERVER = [sys.executable, str(HERE / "third_party_server.py")]
make = functools.partial(gym.make, "toolgym/MCP-v0", server=SERVER, tasks=[_task()], timeout_s=20)


def play_oracle(env: gym.Env) -> list[tuple]:
    env.reset(seed=0)
    policy = OraclePolicy()
    policy.reset(env.unwrapped, env.unwrapped.task)
    played: list[tuple] = []
    while not played or not (played[-1][2] or played[-1][3]):
        played.append(env.step(policy.act([])))
    return played


def test_check_env_and_standard_wrappers_over_two_episodes():
    base = make().unwrapped
    try:
        check_env(base, skip_render_check=True)
        env = RecordEpisodeStatistics(
            TimeLimit(OrderEnforcing(PassiveEnvChecker(base)), max_episode_steps=10)
        )
        for _ in range(2):
            played = play_oracle(env)
            info = played[-1][4]
            assert info["reward_components"]["completion"] == 1.0
            assert info["end_reason"] == "answered" and info["episode"]["l"] == len(played)
        assert list(env.length_queue) == [len(played)] * 2
    finally:
        base.close()


def test_sync_vector_env_plays_the_oracle_in_two_copies():
    envs = SyncVectorEnv([make] * 2, autoreset_mode=AutoresetMode.NEXT_STEP)
    try:
        envs.reset(seed=[0, 1])
        policies = []
        for env in envs.envs:
            policies.append(OraclePolicy())
            policies[-1].reset(env.unwrapped, env.unwrapped.task)
        done: list[float | None] = [None, None]
        while None in done:
            actions = tuple(
                "" if d is not None else p.act([]) for d, p in zip(done, policies, strict=True)
            )
            _, _, terminated, truncated, infos = envs.step(actions)
            for i in range(2):
                if (terminated[i] or truncated[i]) and done[i] is None:
                    done[i] = float(infos["reward_components"]["completion"][i])
        assert done == [1.0, 1.0]
    finally:
        envs.close()


@pytest.mark.parametrize("how", [pickle.dumps, copy.deepcopy])
def test_copying_a_live_env_is_refused_with_what_to_do_instead(how):
    env = make()
    try:
        env.reset(seed=0)
        with pytest.raises(TypeError, match="world lives in the MCP server.*factory"):
            how(env)
        env.step('<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>')
    finally:
        env.close()
