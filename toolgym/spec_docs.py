"""The env spec field reference, rendered as Markdown from the pydantic models themselves.

``env_spec_reference()`` is the README's "Env spec reference" (between its ``env-spec-reference``
markers; a test keeps the two equal) and ``toolgym schema --env-spec`` prints it: one table for the
top-level keys of an ``envs/*.toml`` file (:class:`~toolgym.registry.EnvSpec`), one per sub-table
(``[generated]``, ``[limits]``, ``[user]``), and one of the reward components ``[rewards]`` may
weight.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeGuard, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from toolgym.registry import EnvSpec
from toolgym.rewards import EPISODE_REWARDS, JUDGE_REWARDS, STEP_REWARDS

START = "<!-- env-spec-reference:start -->"
END = "<!-- env-spec-reference:end -->"


def env_spec_reference() -> str:
    """Every env spec field (type, default, meaning) and every reward component, as Markdown."""
    parts = [_section("Top-level keys", EnvSpec)]
    for name, field in EnvSpec.model_fields.items():
        if _is_model(field.annotation) and not field.exclude:
            parts.append(_section(f"`[{name}]`", field.annotation))
    parts.append(rewards_table())
    return "\n\n".join(parts) + "\n"


def model_table(model: type[BaseModel]) -> str:
    """A Markdown table of a model's fields: key, type, default, meaning.

    Raises:
        ValueError: a field has no description (every spec field must say what it means).
    """
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        if field.exclude:  # set by the loader, not written in a spec
            continue
        if not field.description:
            raise ValueError(f"{model.__name__}.{name} has no description")
        default = default_text(field)
        if default not in ("required", "see below"):
            default = _code(default)
        cells = (f"`{name}`", _code(type_text(field)), default, _cell(field.description))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def rewards_table() -> str:
    """The reward components a ``[rewards]`` table may weight, when each is computed, and why."""
    tables: list[tuple[Mapping[str, Callable[..., float]], str]] = [
        (STEP_REWARDS, "each turn"),
        (EPISODE_REWARDS, "episode end"),
        (JUDGE_REWARDS, "episode end, env given a judge"),
    ]
    rows = ["| component | computed | meaning |", "| --- | --- | --- |"]
    for table, when in tables:
        for name, fn in table.items():
            rows.append(f"| `{name}` | {when} | {_cell(_summary(fn))} |")
    intro = (
        "### `[rewards]`\n\nWeights by component name (`format = 0.1`); a per-turn component's "
        "weighted value is paid on every turn, an end-of-episode one's at the end."
    )
    return f"{intro}\n\n" + "\n".join(rows)


def type_text(field: FieldInfo) -> str:
    """A field's type as a spec author writes it, with its bounds: ``int >= 1``."""
    bounds = [
        f"{sign} {getattr(meta, attr)}"
        for meta in field.metadata
        for sign, attr in ((">=", "ge"), (">", "gt"), ("<=", "le"), ("<", "lt"))
        if hasattr(meta, attr)
    ]
    return " ".join([_annotation_text(field.annotation), ", ".join(bounds)]).strip()


def default_text(field: FieldInfo) -> str:
    """A field's default, written as in TOML; ``required`` when it has none."""
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    return _toml(value)


def _section(title: str, model: type[BaseModel]) -> str:
    """A ``###`` heading, the model's docstring summary, and its field table."""
    return f"### {title}\n\n{_summary(model)}\n\n{model_table(model)}"


def _summary(obj: object) -> str:
    """The first paragraph of a docstring on one line, Sphinx roles and double backticks removed."""
    first = (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ")
    return re.sub(r":\w+:`", "`", first).replace("``", "`")


def _annotation_text(annotation: Any) -> str:
    """``Literal["a", "b"]`` as ``"a" | "b"``, ``Path`` as ``path``, a model as ``table``, ..."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " | ".join(_toml(a) for a in args)
    if origin in (Union, types.UnionType):
        return " | ".join(_annotation_text(a) for a in args)
    if origin is not None:
        return f"{origin.__name__}[{', '.join(_annotation_text(a) for a in args)}]"
    if annotation is type(None):
        return "unset"
    if annotation is Path:
        return "path"
    if _is_model(annotation):
        return "table"
    return str(getattr(annotation, "__name__", annotation))


def _toml(value: Any) -> str:
    """A default value as TOML would spell it (``None``: ``unset``, a model: its sub-table)."""
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    """Whether a field's type is a pydantic model (a TOML sub-table)."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _code(text: str) -> str:
    """Text as a code span in a table cell."""
    return _cell(f"`{text}`")


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (pipes escaped)."""
    return text.replace("|", "\\|")
