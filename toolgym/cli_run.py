"""``toolgym run``: play agents on environments and print what happened, env by env.

The quick look next to ``toolgym eval``: the same agents (:mod:`toolgym.policies.factory`), users
(``--user*``) and success, several envs and agents at once, one table row per pair.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import cast

import gymnasium as gym
import typer
from pydantic import Field

from toolgym.cli_config import Flag
from toolgym.cli_content import ContentOption, require_envs, use_content
from toolgym.cli_user import USER_FLAGS, EpisodeClock, ready_user
from toolgym.episode import UNSCORED_REASONS, succeeded
from toolgym.policies.factory import AgentConfig, AgentName, AgentOptions, make_agent
from toolgym.tasks import Split
from toolgym.users.config import UserConfig


class RunConfig(AgentOptions):
    """Which agents play which envs, and how many episodes each."""

    envs: list[str] = Field(
        default_factory=list, description="Env ids (default: every registered toolgym env)."
    )
    agents: list[AgentName] = Field(
        default=["oracle", "random"],
        description="Agents to play (oracle, random, hf, openai); repeat the option for several.",
    )
    split: Split = Field(default="test", description="Which task split.")
    episodes: int = Field(
        default=0, ge=0, description="Episodes per env and agent (0 = one per task)."
    )
    max_new_tokens: int = Field(default=128, ge=1, description="hf/openai tokens per turn.")
    out: Path | None = Field(default=None, description="Write one JSON line per episode here.")
    user: UserConfig = Field(default_factory=UserConfig, description="The simulated user.")


RUN_FLAGS = (
    Flag("envs", argument=True, metavar="ENV_IDS"),
    Flag("agents", ("--agent", "-p")),
    Flag("model"),
    Flag("split"),
    Flag("episodes"),
    Flag("seed"),
    Flag("out"),
    *USER_FLAGS,
)


def run(settings: RunConfig, content: ContentOption = None) -> None:
    """Play agents on environments and print success rate, rewards and where the time went.

    Episodes whose simulated user failed (end reason user_error) or whose env raised (env_error,
    the traceback logged) are counted apart and left out of the success rate and rewards.
    """
    from toolgym.env import ToolEnv
    from toolgym.policies import play
    from toolgym.registry import registered_specs

    use_content(content)
    ids = settings.envs or [i for i in registered_specs() if i.startswith("toolgym/")]
    require_envs(ids)
    user_config = ready_user(settings.user, settings.seed)
    options = settings.model_dump(include=set(AgentOptions.model_fields))
    try:
        agents = {
            _label(name, settings.model): make_agent(AgentConfig(agent=name, **options))
            for name in dict.fromkeys(settings.agents)
        }
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    seed, episodes = settings.seed, settings.episodes
    lines = []
    typer.echo(
        f"{'environment':<24} {'policy':<13} {'episodes':>8} {'success':>8} {'reward':>8} {'turns':>6}  end reasons"
    )
    for env_id in ids:
        env = gym.make(env_id, split=settings.split, user=user_config.build())
        base = cast(ToolEnv, env.unwrapped)
        count = episodes or len(base.tasks)
        for name, agent in agents.items():
            results = []
            label = f"{env_id} {name}"
            clock = EpisodeClock(base)
            with typer.progressbar(
                range(count), label=label, file=sys.stderr, show_pos=True
            ) as bar:
                for i in bar:
                    task_id = base.tasks[i % len(base.tasks)].id if not episodes else None
                    results.append(
                        play(env, agent.policy(seed + i), task_id=task_id, seed=seed + i)
                    )
            scored = [r for r in results if r.end_reason not in UNSCORED_REASONS]
            success = sum(succeeded(r.components) for r in scored) / max(len(scored), 1)
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
    if settings.out:
        settings.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        typer.echo(f"wrote {len(lines)} episodes to {settings.out}")


def _label(agent: AgentName, model: str | None) -> str:
    """An agent's name in the table: ``oracle``, ``random``, ``hf:tiny``, ``openai:MODEL``."""
    if agent == "hf":
        return f"hf:{model or 'smollm2-135m'}"
    return f"openai:{model}" if agent == "openai" else agent


def _result_row(result: object) -> dict[str, object]:
    """An episode as a JSON-able row (its conversation included)."""
    return dict(vars(result))
