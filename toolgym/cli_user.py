"""The simulated-user side of the command line, shared by ``toolgym run`` and ``toolgym eval``.

The ``--user*`` options (one Annotated type each, so both commands declare them the same way),
``user_settings`` that turns them into a checked ``UserConfig``, and ``EpisodeClock`` that reports
where a block of episodes spent its time (agent, tools, user) with the user model's counters.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from toolgym.users.cache import CacheMode
from toolgym.users.config import UserConfig
from toolgym.users.llm import Ending

if TYPE_CHECKING:
    from toolgym.env import ToolEnv

UserKind = Literal["scripted", "llm"]

# The options, fields of UserConfig.
UserOption = Annotated[
    UserKind, typer.Option("--user", help="Simulated user: scripted (rules) or llm (a model).")
]
UserModelOption = Annotated[
    str,
    typer.Option(help="llm user: local model (smollm2-135m, tiny) or the endpoint's model id."),
]
UserBaseUrlOption = Annotated[
    str | None,
    typer.Option(help="llm user: OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1."),
]
UserCacheOption = Annotated[
    Path | None, typer.Option(help="llm user: record/replay cache file (SQLite).")
]
UserCacheModeOption = Annotated[
    CacheMode, typer.Option(help="record (replay hits, record misses) or replay (no model).")
]
UserMaxTokensOption = Annotated[
    int, typer.Option(min=1, help="llm user: longest user turn, in tokens.")
]
UserEndingOption = Annotated[
    Ending, typer.Option(help="llm user: signal (only ###STOP### ends) or signal_or_answer.")
]


def user_settings(
    kind: UserKind,
    model: str,
    base_url: str | None,
    cache: Path | None,
    cache_mode: CacheMode,
    max_tokens: int,
    ending: Ending,
    seed: int,
) -> UserConfig:
    """The options as a ``UserConfig``, its model loaded and cache opened now (exit 2 if bad)."""
    try:
        config = UserConfig(
            kind=kind, model=model, base_url=base_url, cache=cache, cache_mode=cache_mode,
            ending=ending, seed=seed, max_tokens=max_tokens,
        )  # fmt: skip
        config.build()  # fail before any episode, not in the middle of a run
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    return config


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
