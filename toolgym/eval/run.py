"""``toolgym eval``: play an agent K times on every task of a split and write what happened.

A run directory gets ``results.jsonl`` (one row per episode, written as it finishes, so a long
run that dies keeps what it did), ``run.log`` (warnings and errors, e.g. the traceback of an
exception that escaped the env: that episode ends as ``env_error`` and is counted apart, like a
user error), ``summary.json`` (success rate, pass@k, pass^k, reward components, turns, tokens,
time split, failures by kind) and ``report.html``.

Agents: ``oracle`` (the gold trajectory), ``random``, ``hf`` (a local transformers model:
``smollm2-135m`` or ``tiny``) and ``openai`` (any OpenAI-compatible endpoint, e.g. ``toolgym
serve``). Each episode's conversation is also tokenised as a token stream with its loss mask
(assistant tokens trainable), the "mask view" of the report, with the hf agent's tokenizer, else
the tiny tokenizer (``tokens`` counts the assistant tokens of that view, or, for endpoints, the
tokens the server reported).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
from pydantic import Field, field_validator
from tqdm.auto import tqdm

from toolgym.episode import succeeded
from toolgym.eval.metrics import (
    FAILURE_KINDS,
    UNSCORED_FAILURES,
    failure_kind,
    ks_up_to,
    mean_over_tasks,
)
from toolgym.policies.factory import AgentConfig, make_agent
from toolgym.policies.play import EpisodeResult, TextPolicy, play
from toolgym.runlog import run_log
from toolgym.tasks import Split
from toolgym.tracking.config import LogConfig
from toolgym.users.config import UserConfig

TOOL_TIMINGS = ("validate", "execute")


class EvalConfig(AgentConfig):
    """What to evaluate (the agent fields of ``AgentConfig``), how many times, and where to write it."""

    env: str = Field(description="Gymnasium id of the env, e.g. toolgym/Calendar-v0.")
    k: int = Field(default=1, ge=1, le=64, description="Samples per task (pass@k, pass^k).")
    split: Split = Field(default="test", description="Which task split.")
    limit: int | None = Field(default=None, ge=1, description="Only the first N tasks.")
    user: UserConfig = Field(default_factory=UserConfig, description="The simulated user.")
    out: Path = Field(default=Path("runs/eval"), description="Run directory.")
    log: LogConfig = Field(
        default_factory=LogConfig,
        description="Trackers that also get the summary and the episode table (--log-to).",
    )
    save_trajectories: Path | None = Field(
        default=None,
        description="Also write every episode as a trajectory row to this .parquet or .jsonl "
        "file (messages, token ids, loss mask, rewards; see toolgym.trajectory_rows), loadable "
        "with datasets and as sft.data / dpo.data.",
    )

    @field_validator("save_trajectories")
    @classmethod
    def _row_format(cls, path: Path | None) -> Path | None:
        """Only the two row formats: Parquet or JSONL, by suffix."""
        from toolgym.trajectory_rows import check_path

        return None if path is None else check_path(path)


def run_eval(config: EvalConfig, *, progress: bool = True, command: str = "") -> dict[str, Any]:
    """Evaluate ``config.agent`` on ``config.env``; write the run directory; return the summary."""
    env = gym.make(config.env, split=config.split, user=config.user)
    base = env.unwrapped
    tasks = [t.id for t in base.tasks][: config.limit]  # type: ignore[attr-defined]
    agent, view, tokenizer = _agent(config)
    config.out.mkdir(parents=True, exist_ok=True)
    saved = None
    if config.save_trajectories is not None:  # --save-trajectories: the episodes as rows
        from toolgym.eval.rows_out import EvalRows

        saved = EvalRows(config.save_trajectories, config, config.env, base, tokenizer)
    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(tasks) * config.k, desc=f"eval {config.agent}", disable=not progress)
    with (
        run_log(config.out / "run.log"),
        (config.out / "results.jsonl").open("w", encoding="utf-8") as file,
    ):
        for number, task_id in enumerate(tasks):
            for sample in range(config.k):
                seed = config.seed + number * config.k + sample
                row = _episode(env, agent(seed), task_id, sample, seed, view)
                file.write(json.dumps(row, ensure_ascii=False) + "\n")
                file.flush()
                rows.append(row)
                if saved is not None:
                    saved.add(row, number, seed)
                bar.update(1)
                bar.set_postfix(success=f"{sum(r['success'] for r in rows) / len(rows):.2f}")
    bar.close()
    env.close()
    if saved is not None:
        saved.write()
    summary = summarise(rows, config) | {
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
    }
    (config.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    _track(config, summary, rows)
    return summary


def _track(config: EvalConfig, summary: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """``log.to``: the summary's numbers (step 0) and one table row per episode."""
    if not config.log.to:
        return
    from toolgym.tracking import open_trackers, scalars

    trackers = open_trackers(config.log, config.out, config.model_dump(mode="json"))
    try:
        trackers.log_scalars(scalars(summary), 0)
        columns = ("task_id", "sample", "success", "reward", "turns", "end_reason", "failure")
        trackers.log_table("episodes", [{c: r[c] for c in columns} for r in rows], 0)
    finally:
        trackers.close()


def summarise(rows: list[dict[str, Any]], config: EvalConfig) -> dict[str, Any]:
    """The run's headline numbers from its rows (episodes the user or the env broke are left out)."""
    scored = [r for r in rows if r["failure"] not in UNSCORED_FAILURES]
    counts: dict[str, tuple[int, int]] = {}
    for row in scored:
        n, c = counts.get(row["task_id"], (0, 0))
        counts[row["task_id"]] = (n + 1, c + int(row["success"]))
    names = sorted({name for r in scored for name in r["components"]})
    tokens = [r["tokens"] for r in scored if r["tokens"] is not None]
    return {
        "env": config.env,
        "agent": config.agent,
        "model": config.model,
        "split": config.split,
        "k": config.k,
        "tasks": len({r["task_id"] for r in rows}),
        "episodes": len(rows),
        "success_rate": _mean([float(r["success"]) for r in scored]),
        "pass_at_k": {str(k): mean_over_tasks(counts, k, "pass_at_k") for k in ks_up_to(config.k)},
        "pass_hat_k": {
            str(k): mean_over_tasks(counts, k, "pass_hat_k") for k in ks_up_to(config.k)
        },
        "components": {n: _mean([r["components"].get(n, 0.0) for r in scored]) for n in names},
        "turns": _mean([float(r["turns"]) for r in scored]),
        "tokens": _mean([float(t) for t in tokens]) if tokens else None,
        "seconds": {
            part: sum(r["seconds"][part] for r in rows) for part in ("agent", "tool", "user")
        }
        | {"total": sum(sum(r["seconds"].values()) for r in rows)},
        "failures": {kind: sum(r["failure"] == kind for r in rows) for kind in FAILURE_KINDS},
        "user_errors": sum(r.get("failure") == "user_backend" for r in rows),
        "env_errors": sum(r.get("failure") == "env_error" for r in rows),
    }


def _episode(
    env: gym.Env, policy: TextPolicy, task_id: str, sample: int, seed: int, view: _MaskView
) -> dict[str, Any]:
    """Play one episode; its row of ``results.jsonl``."""
    base = env.unwrapped
    timings: dict[str, float] = base.timings  # type: ignore[attr-defined]
    before = {k: timings.get(k, 0.0) for k in (*TOOL_TIMINGS, "user")}
    tokens_before = _endpoint_tokens(policy)
    start = time.perf_counter()
    result = play(env, policy, task_id=task_id, seed=seed)
    wall = time.perf_counter() - start
    tool = sum(timings.get(k, 0.0) - before[k] for k in TOOL_TIMINGS)
    user = timings.get("user", 0.0) - before["user"]
    success = succeeded(result.components)
    steps = [
        {"reward": reward, "components": components}
        for reward, components in zip(result.step_rewards, result.step_components, strict=True)
    ]
    mask = view(result, base)
    endpoint = _endpoint_tokens(policy)
    tokens = (
        endpoint - tokens_before
        if endpoint is not None and tokens_before is not None
        else (sum(mask["trainable"]) if mask else None)
    )
    return {
        "task_id": task_id,
        "sample": sample,
        "success": success,
        "reward": result.total_reward,
        "components": result.components,
        "steps": steps,
        "turns": result.steps,
        "tokens": tokens,
        "end_reason": result.end_reason,
        "failure": failure_kind(success, result.end_reason, steps),
        "seconds": {"agent": max(wall - tool - user, 0.0), "tool": tool, "user": user},
        "messages": result.messages,
        "mask_view": mask,
        "error": result.error,
    }


_MaskView = Callable[[EpisodeResult, Any], dict[str, list[Any]] | None]


def _agent(config: EvalConfig) -> tuple[Callable[[int], TextPolicy], _MaskView, Any]:
    """A policy per episode seed, the run's mask view and its tokenizer (the local model's, else tiny's)."""
    from toolgym.llm import models

    agent = make_agent(config)
    tokenizer = agent.tokenizer if agent.tokenizer is not None else models.tiny_tokenizer()
    return agent.policy, _mask_view(tokenizer), tokenizer


def _mask_view(tokenizer: Any) -> _MaskView:
    """Tokenise an episode's conversation as a training stream: pieces and trainable flags."""
    from toolgym.tokens.chat import ChatTokenizer
    from toolgym.train.conversations import Conversation, conversation_trajectory

    chat = ChatTokenizer(tokenizer)

    def view(result: EpisodeResult, env: Any) -> dict[str, list[Any]] | None:
        try:
            conversation = Conversation.model_validate({"messages": result.messages})
            trajectory = conversation_trajectory(conversation, chat, env.tool_format, "view")
        except ValueError:  # e.g. an empty assistant message: no view, the rest of the row stands
            return None
        ids = trajectory.token_ids
        return {
            "pieces": [tokenizer.decode([i]) for i in ids],
            "trainable": trajectory.loss_mask,
        }

    return view


def _endpoint_tokens(policy: TextPolicy) -> int | None:
    stats = getattr(policy, "stats", None)
    return getattr(stats, "completion_tokens", None) if stats is not None else None


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
