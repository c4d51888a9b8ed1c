"""``toolgym run``: play policies on environments and print what happened, env by env."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, cast

import gymnasium as gym
import typer

from toolgym.cli_content import ContentOption, require_envs, use_content
from toolgym.cli_user import (
    EpisodeClock,
    UserBaseUrlOption,
    UserCacheModeOption,
    UserCacheOption,
    UserEndingOption,
    UserMaxTokensOption,
    UserModelOption,
    UserOption,
    user_settings,
)
from toolgym.episode import UNSCORED_REASONS

if TYPE_CHECKING:
    from toolgym.policies import TextPolicy

Split = Literal["train", "test"]


def run(
    env_ids: Annotated[
        list[str] | None, typer.Argument(help="Env ids (default: every registered toolgym env).")
    ] = None,
    policy: Annotated[
        list[str],
        typer.Option(
            "--policy",
            "-p",
            help="oracle, random, or a local model (smollm2-135m, tiny); repeat for several.",
        ),
    ] = ["oracle", "random"],  # noqa: B006
    split: Annotated[Split, typer.Option(help="Which task split.")] = "test",
    episodes: Annotated[
        int, typer.Option(help="Episodes per env and policy (0 = one per task).")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the first episode.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write one JSON line per episode here.")] = None,
    user: UserOption = "scripted",
    user_model: UserModelOption = "smollm2-135m",
    user_base_url: UserBaseUrlOption = None,
    user_cache: UserCacheOption = None,
    user_cache_mode: UserCacheModeOption = "record",
    user_max_tokens: UserMaxTokensOption = 96,
    user_ending: UserEndingOption = "signal",
    content: ContentOption = None,
) -> None:
    """Play policies on environments and print success rate, rewards and where the time went.

    Episodes whose simulated user failed (end reason user_error) or whose env raised (env_error,
    the traceback logged) are counted apart and left out of the success rate and rewards.
    """
    from toolgym.env import ToolEnv
    from toolgym.policies import OraclePolicy, RandomPolicy, play
    from toolgym.registry import registered_specs

    use_content(content)
    ids = env_ids or [i for i in registered_specs() if i.startswith("toolgym/")]
    require_envs(ids)
    user_config = user_settings(user, user_model, user_base_url, user_cache, user_cache_mode,
                                user_max_tokens, user_ending, seed)  # fmt: skip

    makers: dict[str, Callable[[int], TextPolicy]] = {
        "oracle": lambda episode: OraclePolicy(),
        "random": lambda episode: RandomPolicy(seed + episode),
    }
    for name in set(policy) & {"smollm2-135m", "tiny"}:
        makers[name] = _local_model_policy(name, seed)
    for name in policy:
        if name not in makers:
            raise typer.BadParameter(
                f"unknown policy {name!r}; choose from {sorted(makers)}", param_hint="--policy"
            )
    lines = []
    typer.echo(
        f"{'environment':<24} {'policy':<13} {'episodes':>8} {'success':>8} {'reward':>8} {'turns':>6}  end reasons"
    )
    for env_id in ids:
        env = gym.make(env_id, split=split, user=user_config.build())
        base = cast(ToolEnv, env.unwrapped)
        count = episodes or len(base.tasks)
        for name in policy:
            results = []
            label = f"{env_id} {name}"
            clock = EpisodeClock(base)
            with typer.progressbar(
                range(count), label=label, file=sys.stderr, show_pos=True
            ) as bar:
                for i in bar:
                    task_id = base.tasks[i % len(base.tasks)].id if not episodes else None
                    results.append(play(env, makers[name](i), task_id=task_id, seed=seed + i))
            scored = [r for r in results if r.end_reason not in UNSCORED_REASONS]
            success = sum(r.components["completion"] for r in scored) / max(len(scored), 1)
            reward = sum(r.total_reward for r in scored) / max(len(scored), 1)
            turns = sum(r.steps for r in results) / count
            ends = dict(Counter(r.end_reason for r in results).most_common())
            typer.echo(
                f"{env_id:<24} {name:<13} {count:>8} {success:>8.1%} {reward:>8.3f} {turns:>6.1f}  {ends}"
            )
            typer.echo(f"{'':<24} {clock.report()}")
            lines += [
                json.dumps({"env": env_id, "policy": name, **_result_row(r)}) for r in results
            ]
        env.close()
    if out:
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        typer.echo(f"wrote {len(lines)} episodes to {out}")


def _local_model_policy(name: str, seed: int) -> Callable[[int], TextPolicy]:
    """One loaded model shared by every episode, sampling with a per-run seed."""
    from toolgym import models
    from toolgym.policies.hf import HFTextPolicy, SamplingConfig

    model, tokenizer = models.load(name)  # type: ignore[arg-type]
    shared = HFTextPolicy(
        model, tokenizer, SamplingConfig(temperature=0.7, max_new_tokens=128, seed=seed)
    )
    return lambda episode: shared


def _result_row(result: object) -> dict[str, object]:
    """An episode as a JSON-able row (its conversation included)."""
    return dict(vars(result))
