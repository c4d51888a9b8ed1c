"""One row per episode: the columns, the Parquet schema, and trajectories to rows and back.

A row holds an episode's chat (when known), its token stream with loss mask and behaviour
log-probs (when known), its rewards and where it came from. ``episode_row`` writes one from a
:class:`~toolgym.tokens.trajectory.Trajectory`; ``row_trajectory`` reads it back exactly
(segments, token ids, loss mask, log-probs, per-turn rewards and components compare equal).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from toolgym.episode import UNSCORED_REASONS, succeeded
from toolgym.tokens.trajectory import Segment, Trajectory
from toolgym.tooling import ToolCall

COLUMNS: dict[str, str] = {
    "source": "Where the episode was played: eval (toolgym eval) or train (trainer rollouts).",
    "env": "Gymnasium id of the env, e.g. toolgym/Calendar-v0.",
    "agent": "eval: the agent (oracle, random, hf, openai); train: the algorithm.",
    "model": "The agent's model (hf: smollm2-135m or tiny; openai: the served id); null if none.",
    "tokenizer": "The tokenizer the token ids are in (a model name); null when there are none.",
    "tokenizer_hash": "A fingerprint of that tokenizer's vocabulary (SFT/DPO refuse a mismatch).",
    "task_id": "The task.",
    "group": "Episodes of one start state: eval: the task's number in the run; train: the "
    "group's number in its step (GRPO group).",
    "sample": "The episode's number within its group.",
    "seed": "The env's reset seed.",
    "step": "train: the trainer step whose update used the rollout (metrics.jsonl's step); "
    "eval: null.",
    "policy_version": "train: updates behind the weights that sampled it; eval: null.",
    "messages": "The chat as role/content/name/tool_calls (tool_calls: the well-formed calls "
    "parsed from the assistant text, arguments as a JSON string). Trainer rollouts: the text "
    "env's conversation, whose assistant turns are the decoded generated tokens.",
    "token_ids": "The token stream. train: exactly what the policy saw and generated; eval: the "
    "chat tokenised with the model's chat template (the tiny tokenizer for oracle/random; the "
    "agent played text, so these are the ids it trains on, not sampled ids); null for openai "
    "agents, whose tokens toolgym never sees, and for chats that do not tokenise (an empty "
    "assistant turn).",
    "loss_mask": "1 exactly on generated (assistant) tokens; null with token_ids.",
    "logprobs": "Behaviour log-prob per token, null at tokens not generated; the whole column "
    "null when unknown (eval episodes).",
    "segments": "The stream's runs: role (prompt, assistant, observation), length, trainable, "
    "has_logprobs, and text (the run decoded, template markup included) when a tokenizer was at hand.",
    "turn_rewards": "The env's reward after each assistant turn (the last includes the "
    "terminal components).",
    "reward": "Sum of turn_rewards.",
    "success": "Task completed (the final completion component is 1.0; false for episodes "
    "ending in user_error or env_error).",
    "terminated": "The conversation ended naturally.",
    "truncated": "A limit (or an error) cut it.",
    "end_reason": "answered, max_turns, max_tokens, env_error, ...",
    "components": "JSON object: the episode's final reward components by name.",
    "turn_components": "JSON list: each turn's reward components.",
    "expert": "DAgger's expert message per turn (empty otherwise).",
    "timings": "JSON object: seconds in generate / env / user / render.",
    "error": "The traceback of an exception that escaped the env, else null.",
}
"""Every column with its meaning (the README's table and the Parquet field docs)."""

TOKEN_COLUMNS = ("token_ids", "loss_mask", "logprobs", "segments")


def arrow_schema() -> Any:
    """The explicit Parquet schema, so an empty or all-null column still has its type."""
    import pyarrow as pa  # imported only when Parquet is used

    call = pa.struct([("name", pa.string()), ("arguments", pa.string())])
    message = pa.struct(
        [("role", pa.string()), ("content", pa.string()), ("name", pa.string()),
         ("tool_calls", pa.list_(call))]
    )  # fmt: skip
    segment = pa.struct(
        [("role", pa.string()), ("length", pa.int32()), ("trainable", pa.bool_()),
         ("has_logprobs", pa.bool_()), ("text", pa.string())]
    )  # fmt: skip
    types = {
        "group": pa.int64(), "sample": pa.int64(), "seed": pa.int64(), "step": pa.int64(),
        "policy_version": pa.int64(), "messages": pa.list_(message),
        "token_ids": pa.list_(pa.int32()), "loss_mask": pa.list_(pa.int8()),
        "logprobs": pa.list_(pa.float64()), "segments": pa.list_(segment),
        "turn_rewards": pa.list_(pa.float64()), "reward": pa.float64(), "success": pa.bool_(),
        "terminated": pa.bool_(), "truncated": pa.bool_(), "expert": pa.list_(pa.string()),
    }  # fmt: skip
    return pa.schema(
        [pa.field(name, types.get(name, pa.string()), metadata={"doc": doc})
         for name, doc in COLUMNS.items()]
    )  # fmt: skip


def tokenizer_hash(tokenizer: Any) -> str:
    """A short fingerprint of a tokenizer's vocabulary (token -> id, added tokens included)."""
    vocab = sorted(tokenizer.get_vocab().items())
    return hashlib.sha256(json.dumps(vocab).encode("utf-8")).hexdigest()[:16]


def call_parser(env: Any) -> Callable[[str], list[ToolCall]] | None:
    """``parse(text) -> calls`` by ``env``'s tool format and tool schemas (None without a format).

    ``env`` is the text-level env, unwrapped: it has ``tool_format`` and ``tool_specs``.
    """
    tool_format = getattr(env, "tool_format", None)
    if tool_format is None:
        return None
    specs = getattr(env, "tool_specs", [])
    parameters = {s["function"]["name"]: s["function"]["parameters"] for s in specs}
    return lambda text: list(tool_format.parse(text, parameters).calls)


def chat_messages(
    messages: Sequence[Mapping[str, Any]],
    parse: Any = None,
) -> list[dict[str, Any]]:
    """Messages in the row's shape; ``parse(text) -> calls`` fills assistant ``tool_calls``.

    ``parse`` (e.g. the env's tool format bound to its tool specs) returns the well-formed
    :class:`~toolgym.tooling.ToolCall` s of an assistant text; without it ``tool_calls`` is null.
    """
    out = []
    for message in messages:
        role, content = str(message.get("role", "")), message.get("content")
        calls = None
        if role == "assistant" and parse is not None and isinstance(content, str):
            calls = [
                {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)}
                for c in parse(content)
            ]
        name = message.get("name")
        out.append(
            {"role": role, "content": None if content is None else str(content),
             "name": None if name is None else str(name), "tool_calls": calls}
        )  # fmt: skip
    return out


def episode_row(
    trajectory: Trajectory,
    *,
    source: str,
    env: str,
    task_number: int | None = None,
    sample: int | None = None,
    seed: int | None = None,
    step: int | None = None,
    agent: str | None = None,
    model: str | None = None,
    tokenizer: Any = None,
    tokenizer_name: str | None = None,
    messages: list[dict[str, Any]] | None = None,
    policy_version: int | None = None,
) -> dict[str, Any]:
    """The row of one episode (see ``COLUMNS``).

    A trajectory without segments (an endpoint agent's episode) gets null token columns;
    ``tokenizer`` (optional) decodes each segment into ``segments.text`` and gives the hash.
    """
    has_tokens = bool(trajectory.segments)
    final = trajectory.components[-1] if trajectory.components else {}
    row: dict[str, Any] = {
        "source": source, "env": env, "agent": agent, "model": model,
        "tokenizer": tokenizer_name if has_tokens else None,
        "tokenizer_hash": tokenizer_hash(tokenizer) if has_tokens and tokenizer else None,
        "task_id": trajectory.task_id, "group": task_number, "sample": sample, "seed": seed,
        "step": step, "policy_version": policy_version, "messages": messages,
        "turn_rewards": list(trajectory.turn_rewards), "reward": trajectory.total_reward,
        "success": succeeded(final) and trajectory.end_reason not in UNSCORED_REASONS,
        "terminated": trajectory.terminated, "truncated": trajectory.truncated,
        "end_reason": trajectory.end_reason, "components": json.dumps(final),
        "turn_components": json.dumps(trajectory.components), "expert": list(trajectory.expert),
        "timings": json.dumps(trajectory.timings), "error": trajectory.error,
    }  # fmt: skip
    row |= dict.fromkeys(TOKEN_COLUMNS)
    if has_tokens:
        row |= _token_columns(trajectory, tokenizer)
    return {name: row[name] for name in COLUMNS}


def _token_columns(trajectory: Trajectory, tokenizer: Any) -> dict[str, Any]:
    segments = trajectory.segments
    known = any(s.logprobs is not None for s in segments)
    return {
        "token_ids": trajectory.token_ids,
        "loss_mask": trajectory.loss_mask,
        "logprobs": [
            lp for s in segments for lp in (s.logprobs or (None,) * len(s.token_ids))
        ] if known else None,
        "segments": [
            {"role": s.role, "length": len(s.token_ids), "trainable": s.trainable,
             "has_logprobs": s.logprobs is not None,
             "text": tokenizer.decode(list(s.token_ids)) if tokenizer is not None else None}
            for s in segments
        ],
    }  # fmt: skip


class RowError(ValueError):
    """A row that is not a trajectory; the message says which field and why."""


def row_trajectory(row: Mapping[str, Any]) -> Trajectory:
    """The trajectory a row holds (no segments when its token columns are null).

    Raises:
        RowError: a missing column, or token columns that disagree with each other.
    """
    missing = [name for name in ("task_id", *TOKEN_COLUMNS, "turn_rewards") if name not in row]
    if missing:
        raise RowError(f"missing column(s) {', '.join(missing)} (not a toolgym trajectory row)")
    trajectory = Trajectory(
        str(row["task_id"]),
        _segments(row) if row["token_ids"] is not None else [],
        turn_rewards=[float(r) for r in row["turn_rewards"] or []],
        components=_json(row, "turn_components", []),
        terminated=bool(row.get("terminated")),
        truncated=bool(row.get("truncated")),
        end_reason=row.get("end_reason"),
        expert=list(row.get("expert") or []),
        error=row.get("error"),
        policy_version=int(row.get("policy_version") or 0),
        messages=_plain_messages(row.get("messages")),
    )
    timings = _json(row, "timings", None)
    if timings is not None:
        trajectory.timings = timings
    return trajectory


def _plain_messages(messages: Any) -> list[dict[str, Any]] | None:
    """A row's messages as the env wrote them: role, content and (where set) name."""
    if not isinstance(messages, list):
        return None
    return [
        {k: m[k] for k in ("role", "content", "name") if m.get(k) is not None} for m in messages
    ]


def _segments(row: Mapping[str, Any]) -> list[Segment]:
    ids, mask, logprobs, runs = (row[name] for name in TOKEN_COLUMNS)
    if not isinstance(ids, list) or not isinstance(mask, list) or not isinstance(runs, list):
        raise RowError("token_ids, loss_mask and segments must be lists (or all null)")
    if len(mask) != len(ids) or (logprobs is not None and len(logprobs) != len(ids)):
        raise RowError(
            f"{len(ids)} token_ids but {len(mask)} loss_mask values"
            + (f" and {len(logprobs)} logprobs" if logprobs is not None else "")
        )
    if sum(int(run["length"]) for run in runs) != len(ids):
        raise RowError(f"segments cover {sum(int(r['length']) for r in runs)} of {len(ids)} tokens")
    segments, start = [], 0
    for number, run in enumerate(runs):
        end = start + int(run["length"])
        trainable = bool(run["trainable"])
        if any(int(m) != int(trainable) for m in mask[start:end]):
            raise RowError(f"segments.{number}: loss_mask disagrees with trainable={trainable}")
        if run["role"] not in ("prompt", "assistant", "observation"):
            raise RowError(
                f"segments.{number}.role: {run['role']!r} is not prompt/assistant/observation"
            )
        segments.append(Segment(
            run["role"], tuple(int(i) for i in ids[start:end]), trainable,
            _logprobs(number, run, None if logprobs is None else logprobs[start:end]),
        ))  # fmt: skip
        start = end
    return segments


def _logprobs(
    number: int, run: Mapping[str, Any], piece: list[Any] | None
) -> tuple[float, ...] | None:
    if not run.get("has_logprobs"):
        return None
    if piece is None or any(lp is None for lp in piece):
        raise RowError(f"segments.{number}: has_logprobs, but its logprobs are null")
    return tuple(float(lp) for lp in piece)


def _json(row: Mapping[str, Any], name: str, default: Any) -> Any:
    value = row.get(name)
    if value is None:
        return default
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as exc:
        raise RowError(f"{name}: not JSON ({exc.msg})") from None
