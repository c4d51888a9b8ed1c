"""Batched rollouts: N tasks x G samples, one batched generate call per round.

Every round gathers the token streams of all live episodes, asks the policy for one turn each in a
single batched call, then steps each episode's env. Finished episodes leave the batch. A GRPO group
is G episodes of the same task and seed: identical, independent copies of the start state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import gymnasium as gym
from tqdm.auto import tqdm

from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.env import Generation, TokenEnv
from toolgym.tokens.trajectory import Trajectory
from toolgym.users.base import UserStats


class TokenPolicy(Protocol):
    """Generates one turn for each prefix (e.g. :class:`toolgym.llm.sampler.HFPolicy`)."""

    def generate(
        self, prefixes: Sequence[Sequence[int]], max_new_tokens: Sequence[int] | int | None = None
    ) -> list[Generation]:
        """One continuation per prefix."""
        ...


@dataclass
class RolloutStats:
    """Where the time of one ``collect`` call went.

    Attributes:
        episodes: Episodes collected. rounds: Batched generate calls.
        generated_tokens: Tokens the policy produced.
        user: Calls, cache hits, failures and tokens of model-backed simulated users.
        seconds: Wall time per phase: ``generate``, ``env`` (parse / validate / execute / rewards),
            ``user`` (the simulated user's model), ``render`` (chat-template deltas and
            tokenisation), ``total``.
    """

    episodes: int = 0
    rounds: int = 0
    generated_tokens: int = 0
    user: UserStats = field(default_factory=UserStats)
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("generate", "env", "user", "render", "total"), 0.0)
    )

    @classmethod
    def merged(cls, parts: Sequence[RolloutStats]) -> RolloutStats:
        """The stats of parts collected side by side (ranks, Ray workers) as one collect's.

        Counts (episodes, rounds, tokens, user calls) are summed; ``seconds`` keep each phase's
        slowest part: the wall time the step waited, so ``tokens_per_second`` is the throughput.
        """
        merged = cls()
        for part in parts:
            merged.episodes += part.episodes
            merged.rounds += part.rounds
            merged.generated_tokens += part.generated_tokens
            merged.user.add(part.user)
            for phase, seconds in part.seconds.items():
                merged.seconds[phase] = max(merged.seconds.get(phase, 0.0), seconds)
        return merged

    @property
    def tokens_per_second(self) -> float:
        """Generated tokens per second of total wall time."""
        return self.generated_tokens / self.seconds["total"] if self.seconds["total"] else 0.0


class Collector:
    """Plays many token-level episodes at once with one policy."""

    def __init__(
        self,
        make_env: Callable[[], gym.Env],
        chat: ChatTokenizer,
        policy: TokenPolicy,
        *,
        max_tokens: int = 8192,
        progress: bool = True,
    ) -> None:
        """Set up a collector.

        Args:
            make_env: Builds one text-level env (e.g. ``lambda: gym.make("toolgym/Search-v0")``).
            chat: Tokenizer and chat template.
            policy: The token policy.
            max_tokens: Token budget per episode.
            progress: Show a progress bar.
        """
        self.make_env, self.chat, self.policy = make_env, chat, policy
        self.max_tokens, self.progress = max_tokens, progress
        self._pool: list[TokenEnv] = []

    def collect(
        self, task_ids: Sequence[str], group_size: int = 1, seed: int = 0
    ) -> tuple[list[Trajectory], RolloutStats]:
        """Play ``group_size`` episodes of each task; returns trajectories grouped task by task."""
        start = time.perf_counter()
        envs = self._envs(len(task_ids) * group_size)
        stats = RolloutStats(episodes=len(envs))
        for index, env in enumerate(envs):
            task_number = index // group_size
            env.reset(seed=seed + task_number, options={"task_id": task_ids[task_number]})
        live = [env for env in envs if not env.trajectory.truncated]  # type: ignore[union-attr]
        bar = tqdm(
            total=len(envs), desc="rollout", unit="ep", disable=not self.progress, leave=False
        )
        bar.update(len(envs) - len(live))  # envs that failed to reset (env_error)
        while live:
            live = self._round(live, stats, bar)
        bar.close()
        trajectories = [env.trajectory for env in envs]
        for env, traj in zip(envs, trajectories, strict=True):
            assert traj is not None
            for phase in ("env", "user", "render"):
                stats.seconds[phase] += traj.timings[phase]
            user = getattr(env.unwrapped, "user", None)
            episode_user = getattr(user, "episode_stats", None)  # model-backed users only
            if episode_user is not None:
                stats.user.add(episode_user)
        stats.seconds["total"] = time.perf_counter() - start
        return trajectories, stats  # type: ignore[return-value]

    def _round(self, live: list[TokenEnv], stats: RolloutStats, bar: tqdm) -> list[TokenEnv]:
        prefixes = [env.trajectory.token_ids for env in live]  # type: ignore[union-attr]
        budgets = [env.remaining_tokens for env in live]
        start = time.perf_counter()
        generations = self.policy.generate(prefixes, budgets)
        elapsed = time.perf_counter() - start
        stats.rounds += 1
        stats.seconds["generate"] += elapsed
        still = []
        for env, generation in zip(live, generations, strict=True):
            env.trajectory.timings["generate"] += elapsed / len(live)  # type: ignore[union-attr]
            stats.generated_tokens += len(generation.token_ids)
            _, _, terminated, truncated, _ = env.step(generation)
            if terminated or truncated:
                bar.update(1)
            else:
                still.append(env)
        return still

    def _envs(self, count: int) -> list[TokenEnv]:
        while len(self._pool) < count:
            self._pool.append(TokenEnv(self.make_env(), self.chat, max_tokens=self.max_tokens))
        return self._pool[:count]
