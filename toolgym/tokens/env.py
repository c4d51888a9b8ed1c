"""``TokenEnv``: a wrapper that makes a ToolEnv speak token ids.

``reset`` returns the prompt ids (system prompt with tool schemas + first user message, through the
chat template, ending with the generation prompt). ``step`` takes the policy's generated ids (a
:class:`Generation` with behaviour log-probs, or a plain list of ids), decodes them only to parse the
action, and returns the observation as the token delta to append. The whole episode accumulates in
``env.trajectory`` with exact loss masks. A token budget (``max_tokens``) truncates the episode.

An exception escaping the wrapped env (or this wrapper's rendering of its observation) ends the
episode, never the run: the trajectory gets ``end_reason="env_error"`` and the traceback in
``error`` (also logged); trainers and evaluations leave such episodes out.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from toolgym.runlog import log_env_error
from toolgym.spaces import TokenIds
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.trajectory import Segment, Trajectory


@dataclass(frozen=True)
class Generation:
    """What a policy generated for one episode: token ids and their behaviour log-probs."""

    token_ids: tuple[int, ...]
    logprobs: tuple[float, ...] | None = None


class TokenEnv(gym.Wrapper):
    """Token-in, token-out view of a text-level ToolEnv."""

    def __init__(self, env: gym.Env, chat: ChatTokenizer, max_tokens: int = 8192) -> None:
        """Wrap ``env`` (a ToolEnv, possibly wrapped).

        Args:
            env: The text-level environment.
            chat: Tokenizer + chat template.
            max_tokens: Token budget of the whole stream; reaching it truncates the episode.
        """
        super().__init__(env)
        self.chat, self.max_tokens = chat, max_tokens
        vocab = len(chat.tokenizer)
        self.action_space = TokenIds(vocab)
        self.observation_space = TokenIds(vocab)
        self.trajectory: Trajectory | None = None

    @property
    def remaining_tokens(self) -> int:
        """Tokens left in the budget."""
        return self.max_tokens - (len(self.trajectory) if self.trajectory else 0)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[list[int], dict[str, Any]]:
        """Reset the text env and return the prompt's token ids.

        If the env fails to reset, the trajectory is born finished (``env_error``, no tokens)
        and ``[]`` is returned: check ``trajectory.truncated`` before stepping.
        """
        task_id = str((options or {}).get("task_id", "?"))
        try:
            messages, info = self.env.reset(seed=seed, options=options)
            start = time.perf_counter()
            ids = self.chat.prompt_ids(messages)
        except Exception:
            self.trajectory = Trajectory(task_id, [Segment("prompt", (), False)])
            return [], self._env_error(self.trajectory)[4]
        self.trajectory = Trajectory(info["task_id"], [Segment("prompt", tuple(ids), False)])
        self.trajectory.timings["render"] += time.perf_counter() - start
        self.trajectory.messages = [dict(m) for m in messages]
        return list(ids), info

    def step(
        self, action: Generation | Sequence[int]
    ) -> tuple[list[int], float, bool, bool, dict[str, Any]]:
        """Append generated ids, step the text env, return the observation delta ids."""
        traj = self.trajectory
        if traj is None or traj.terminated or traj.truncated:
            raise RuntimeError("the episode is over (or never started): call reset() first")
        try:
            return self._step(traj, action)
        except Exception:
            return self._env_error(traj)

    def _step(
        self, traj: Trajectory, action: Generation | Sequence[int]
    ) -> tuple[list[int], float, bool, bool, dict[str, Any]]:
        generation = action if isinstance(action, Generation) else Generation(tuple(action))
        ids = tuple(int(i) for i in generation.token_ids)
        over_budget = self.remaining_tokens <= 0
        traj.segments.append(
            Segment("assistant", ids, True, generation.logprobs or (0.0,) * len(ids))
        )
        if over_budget:  # no room was left for this turn: do not pass a cut-off reply to the env
            return self._out_of_tokens(traj)
        start, timings = time.perf_counter(), self.env.unwrapped.timings  # type: ignore[attr-defined]
        user_before = timings["user"]
        text = self.chat.decode(ids)
        messages, reward, terminated, truncated, info = self.env.step(text)
        self._keep_messages(traj, text, messages, info)
        user = timings["user"] - user_before  # the simulated user's model, reported on its own
        traj.timings["env"] += time.perf_counter() - start - user
        traj.timings["user"] += user
        traj.turn_rewards.append(float(reward))
        traj.components.append(info["reward_components"])
        observation: list[int] = []
        if not (terminated or truncated):
            start = time.perf_counter()
            stop = ids[-1] if ids and ids[-1] in self.chat.stop_ids else None
            observation = self.chat.observation_ids(messages, stop)
            traj.segments.append(Segment("observation", tuple(observation), False))
            traj.timings["render"] += time.perf_counter() - start
            if self.remaining_tokens <= 0:
                truncated, info = True, info | {"end_reason": "max_tokens"}
        traj.terminated, traj.truncated = terminated, truncated
        traj.end_reason = info.get("end_reason")
        return observation, float(reward), terminated, truncated, info

    @staticmethod
    def _keep_messages(
        traj: Trajectory, text: str, observation: list[dict[str, Any]], info: dict[str, Any]
    ) -> None:
        """The conversation after this step: the env's ``info["messages"]``, else appended."""
        if isinstance(info.get("messages"), list):
            traj.messages = info["messages"]  # toolgym envs hand out a fresh copy each step
        elif traj.messages is not None:
            traj.messages += [{"role": "assistant", "content": text}, *map(dict, observation)]

    def _env_error(self, traj: Trajectory) -> tuple[list[int], float, bool, bool, dict[str, Any]]:
        """End the episode on the exception being handled: ``env_error``, traceback kept."""
        traj.error = log_env_error(traj.task_id)
        turns = sum(s.role == "assistant" for s in traj.segments)
        while len(traj.turn_rewards) < turns:  # one reward per assistant turn, as always
            traj.turn_rewards.append(0.0)
            traj.components.append({})
        traj.truncated, traj.end_reason = True, "env_error"
        info = {"task_id": traj.task_id, "end_reason": "env_error", "reward_components": {}}
        return [], 0.0, False, True, info | {"error": traj.error}

    def _out_of_tokens(
        self, traj: Trajectory
    ) -> tuple[list[int], float, bool, bool, dict[str, Any]]:
        traj.turn_rewards.append(0.0)
        traj.components.append({})
        traj.truncated, traj.end_reason = True, "max_tokens"
        info = {"task_id": traj.task_id, "end_reason": "max_tokens", "reward_components": {}}
        return [], 0.0, False, True, info
