"""The play loop: one episode of a ``TextPolicy`` in an env, recorded as an ``EpisodeResult``.

``EpisodeRecorder`` holds one episode's bookkeeping, shared by the sync loop :func:`play` and
async loops such as ``OpenAIPolicy.aplay``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import gymnasium as gym

from toolgym.env import ToolEnv
from toolgym.runlog import log_env_error
from toolgym.tasks import Task


class TextPolicy(Protocol):
    """Chooses the next assistant message from the conversation so far."""

    def reset(self, env: ToolEnv, task: Task) -> None:
        """Prepare for an episode of ``task`` in ``env``."""
        ...

    def act(self, messages: list[dict[str, str]]) -> str:
        """The next assistant message."""
        ...


@dataclass
class EpisodeResult:
    """Outcome of one played episode."""

    task_id: str
    total_reward: float
    terminated: bool
    truncated: bool
    steps: int
    end_reason: str
    components: dict[str, float] = field(default_factory=dict)
    step_components: list[dict[str, float]] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)
    step_rewards: list[float] = field(default_factory=list)
    error: str | None = None
    """The traceback of the exception that escaped the env (``end_reason == "env_error"``)."""

    @classmethod
    def from_steps(
        cls, rewards: list[float], step_infos: list[dict[str, Any]], truncated: bool
    ) -> EpisodeResult:
        """Summarise an episode from each step's reward and info (the last one ended it)."""
        last = step_infos[-1]
        return cls(
            task_id=last["task_id"],
            total_reward=sum(rewards),
            terminated=not truncated,
            truncated=truncated,
            steps=len(step_infos),
            end_reason=last["end_reason"],
            components=last["reward_components"],
            step_components=[info["reward_components"] for info in step_infos],
            messages=last["messages"],
            step_rewards=list(rewards),
        )

    @classmethod
    def env_error(
        cls,
        task_id: str,
        history: list[dict[str, str]],
        rewards: list[float],
        step_infos: list[dict[str, Any]],
        error: str,
    ) -> EpisodeResult:
        """An episode the env broke: an exception escaped ``reset`` or ``step``.

        The steps before the failure keep their rewards and components; the failed one has none.
        """
        return cls(
            task_id=task_id,
            total_reward=sum(rewards),
            terminated=False,
            truncated=True,
            steps=len(rewards),
            end_reason="env_error",
            step_components=[info["reward_components"] for info in step_infos],
            messages=history,
            step_rewards=list(rewards),
            error=error,
        )


class EpisodeRecorder:
    """One episode's bookkeeping, shared by the sync and async play loops.

    Resets ``env`` on creation, then :meth:`step` takes each action until :attr:`done`. An
    exception escaping the env ends the episode, never the caller's run: the result has
    ``end_reason="env_error"`` and the traceback in ``error`` (also logged).
    """

    def __init__(
        self, env: gym.Env[Any, Any], *, task_id: str | None = None, seed: int | None = None
    ) -> None:
        self.env, self.history = env, []
        self.rewards: list[float] = []
        self.infos: list[dict[str, Any]] = []
        self._truncated = False
        self._error: str | None = None
        self._task_id = task_id or "?"
        self.done = False
        options = {"task_id": task_id} if task_id is not None else None
        try:
            messages, _ = env.reset(seed=seed, options=options)
        except Exception:
            self._fail()
            return
        self.base = cast(ToolEnv, env.unwrapped)
        self._task_id = self.base.task.id
        self.history = list(messages)

    def step(self, action: str) -> None:
        """Send one assistant message; the env's limits end every episode."""
        try:
            observation, reward, terminated, truncated, info = self.env.step(action)
        except Exception:
            self.history.append({"role": "assistant", "content": action})
            self._fail()
            return
        self.history += [{"role": "assistant", "content": action}, *observation]
        self.rewards.append(float(reward))
        self.infos.append(info)
        self.done, self._truncated = terminated or truncated, truncated

    def result(self) -> EpisodeResult:
        """The finished episode."""
        if self._error is not None:
            return EpisodeResult.env_error(
                self._task_id, self.history, self.rewards, self.infos, self._error
            )
        return EpisodeResult.from_steps(self.rewards, self.infos, self._truncated)

    def _fail(self) -> None:
        self._error = log_env_error(self._task_id)
        self.done = True


def play(
    env: gym.Env[Any, Any],
    policy: TextPolicy,
    *,
    task_id: str | None = None,
    seed: int | None = None,
) -> EpisodeResult:
    """Run one episode of ``policy`` in ``env`` (an unwrapped ToolEnv or a gymnasium.make wrapper).

    An exception escaping the env ends the episode as ``env_error`` (see
    :class:`EpisodeRecorder`); the policy's own exceptions propagate.
    """
    episode = EpisodeRecorder(env, task_id=task_id, seed=seed)
    if not episode.done:
        policy.reset(episode.base, episode.base.task)
    while not episode.done:
        episode.step(policy.act(episode.history))
    return episode.result()
