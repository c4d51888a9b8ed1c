"""Training data from the env itself: oracle trajectories as token streams (the SFT cold start).

The oracle's messages are tokenised as if the policy had generated them (each turn ends with the
template's end-of-turn token), so the trajectories carry the same ``loss_mask`` as RL rollouts:
supervised fine-tuning trains on assistant tokens only, exactly like the RL losses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gymnasium as gym

from toolgym.policies.reference import OraclePolicy
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.env import Generation, TokenEnv
from toolgym.tokens.trajectory import Trajectory


def oracle_trajectories(
    make_env: Callable[[], gym.Env],
    chat: ChatTokenizer,
    task_ids: Sequence[str] | None = None,
    max_tokens: int = 8192,
) -> list[Trajectory]:
    """One oracle trajectory per task (all tasks of the env when ``task_ids`` is None).

    Raises:
        ValueError: if the chat template writes no end-of-turn token (pass ``stop_tokens``).
    """
    if chat.end_of_turn_id is None:
        raise ValueError("the chat template has no end-of-turn token to close oracle turns with")
    env = TokenEnv(make_env(), chat, max_tokens=max_tokens)
    ids = task_ids if task_ids is not None else [t.id for t in env.unwrapped.tasks]  # type: ignore[attr-defined]
    trajectories = []
    for task_id in ids:
        env.reset(seed=0, options={"task_id": task_id})
        oracle = OraclePolicy()
        oracle.reset(env.unwrapped, env.unwrapped.task)  # type: ignore[arg-type, attr-defined]
        done = False
        while not done:
            tokens = (*chat.encode(oracle.act([])), chat.end_of_turn_id)
            _, _, terminated, truncated, _ = env.step(Generation(tokens))
            done = terminated or truncated
        assert env.trajectory is not None
        trajectories.append(env.trajectory)
    return trajectories
