"""The simulated-user side of the command line, shared by ``toolgym run`` and ``toolgym eval``.

``USER_FLAGS``: the ``--user*`` options, each a flag of a ``UserConfig`` field (``user.*``; help
and type come from the field); ``ready_user`` gives the user the command's seed (unless
``user.seed`` was set) and builds it once, so a bad user config fails before any episode; and
``EpisodeClock`` reports where a block of episodes spent its time (agent, tools, user) with the
user model's counters.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import typer

from toolgym.cli_config import Flag
from toolgym.users.config import UserConfig

if TYPE_CHECKING:
    from toolgym.env import ToolEnv

USER_FLAGS = (
    Flag("user.kind", ("--user",)),
    Flag("user.model", ("--user-model",)),
    Flag("user.base_url", ("--user-base-url",)),
    Flag("user.cache", ("--user-cache",)),
    Flag("user.cache_mode", ("--user-cache-mode",)),
    Flag("user.max_tokens", ("--user-max-tokens",)),
    Flag("user.ending", ("--user-ending",)),
)
"""The ``--user*`` options of ``toolgym run`` and ``toolgym eval``."""


def ready_user(user: UserConfig, seed: int) -> UserConfig:
    """``user`` seeded with the command's ``seed`` (unless it sets ``user.seed``), built once now.

    The model is loaded and the cache opened here (exit 2 if bad): a bad user config fails
    before any episode, not in the middle of a run.
    """
    if "seed" not in user.model_fields_set:
        user = user.model_copy(update={"seed": seed})
    try:
        user.build()
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    return user


class EpisodeClock:
    """Where the wall time of a block of episodes went: agent, tools, user (and its counters)."""

    def __init__(self, env: ToolEnv) -> None:
        self.env, self.start = env, time.perf_counter()
        self.timings = dict(env.timings)
        stats = getattr(env.user, "stats", None)
        self.user_stats = dataclasses.replace(stats) if stats is not None else None

    def report(self) -> str:
        """``time: agent and env 1.2 s, tools 0.01 s, user 3.4 s (user model: 5 calls, ...)``."""
        now = self.env.timings
        spent = {k: now[k] - self.timings.get(k, 0.0) for k in ("validate", "execute", "user")}
        tools, user = spent["validate"] + spent["execute"], spent["user"]
        total = time.perf_counter() - self.start
        line = f"time: agent and env {total - tools - user:.1f} s, tools {tools:.2f} s, user {user:.1f} s"
        stats = getattr(self.env.user, "stats", None)
        if stats is None or self.user_stats is None:
            return line
        d = {k: v - getattr(self.user_stats, k) for k, v in stats.as_dict().items()}
        return (
            f"{line} (user model: {d['calls']:.0f} calls, {d['cache_hits']:.0f} cache hits, "
            f"{d['failures']:.0f} failures, {d['prompt_tokens']:.0f} prompt + "
            f"{d['completion_tokens']:.0f} generated tokens)"
        )
