"""Typed settings from a TOML file, ``KEY=VALUE`` overrides and keyword values, in one order.

Defaults < the config file < each ``--set KEY=VALUE`` (dotted keys reach nested models:
``user.kind=llm``) < explicit values (typed command-line options, ``load_config``'s overrides).
Validation errors name where each bad value came from, the field and the fix
(``did you mean 'steps'?``). The command line (:mod:`toolgym.cli_config`) and the Python API
(:func:`toolgym.train.load_config`) load configs through this one module.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A config that cannot be read or does not validate; the message says where and how to fix."""


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``--set`` items as a nested dict: ``user.kind=llm`` -> ``{"user": {"kind": "llm"}}``.

    A value is read as JSON (numbers, booleans, lists, objects), else as a TOML value (inline
    tables ``{completion = 1.0}``, single-quoted strings), else kept as the string given.

    Raises:
        ConfigError: an item is not ``KEY=VALUE``.
    """
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE (e.g. --set seed=1)")
        value: Any = _scalar(raw)
        *parents, name = key.strip().split(".")
        for parent in reversed(parents):
            value, name = {name: value}, parent
        parsed = deep_merge(parsed, {name: value})
    return parsed


def read_config(path: Path) -> dict[str, Any]:
    """A ``--config`` TOML file as a dict.

    Raises:
        ConfigError: the file cannot be read or is not TOML.
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc}") from None


def load_settings(
    model: type[M],
    path: Path | None = None,
    sets: Sequence[str] = (),
    flags: Mapping[str, Any] | None = None,
    *,
    command: str = "",
    flag_names: Mapping[str, str] | None = None,
) -> M:
    """Merge defaults < ``path`` < ``sets`` < ``flags`` (dotted keys; ``None``: not given); validate.

    Args:
        model: The command's pydantic model.
        path: The ``--config`` TOML file, if any.
        sets: The ``--set KEY=VALUE`` items.
        flags: Typed options by dotted field key (``None``: not given).
        command: The command, for the ``--help`` hint of an error.
        flag_names: The option name of each flag key, to say where a bad value came from.

    Raises:
        ConfigError: naming the file or option each bad field came from, the field and the fix.
    """
    layers: list[tuple[str, dict[str, Any]]] = []
    if path is not None:
        layers.append((str(path), read_config(path)))
    layers.append(("--set", parse_sets(sets)))
    for key, value in (flags or {}).items():
        if value is not None:
            name = (flag_names or {}).get(key, f"--{key}")
            layers.append((name, _nest({key: value})))
    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = deep_merge(merged, data)
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, model, layers, command)) from None


def deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``extra``; nested tables merge key by key (``[user]`` + ``user.seed``)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def submodel(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model of a field's type (``Model`` or ``Model | None``), if any."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys as nested dicts."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, name = key.split(".")
        for parent in reversed(parents):
            value, name = {name: value}, parent
        nested = deep_merge(nested, {name: value})
    return nested


def _scalar(raw: str) -> Any:
    """A ``--set`` value: JSON, else a TOML value of a plain type, else the string itself."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        pass
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw
    return value if isinstance(value, str | int | float | bool | list | dict) else raw


def _explain(
    exc: ValidationError,
    model: type[BaseModel],
    layers: list[tuple[str, dict[str, Any]]],
    command: str,
) -> str:
    """Each error as ``SOURCE: FIELD: what is wrong; the fix``, joined by newlines."""
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        key = ".".join(loc) or "config"
        source = _source(loc, layers)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = f"{message}: {_suggest(model, loc)}"
        elif error["type"] == "literal_error":
            message = f"{message} (got {error['input']!r})"
        elif error["type"] == "value_error":  # a validator's own message, without pydantic's prefix
            message = str(error.get("ctx", {}).get("error", message))
        where = f"{source}: " if source else ""
        lines.append(f"{where}{key}: {message}")
    help_hint = f" (`{command} --help` lists every field)" if command else ""
    return "; ".join(lines) + help_hint


def _source(loc: list[str], layers: list[tuple[str, dict[str, Any]]]) -> str:
    """The last layer (file, --set, option) that set the value at ``loc``, or ``""``.

    A whole-config error (empty ``loc``: fields that disagree) has no one source: ``""``.
    """
    if not loc:
        return ""
    found = ""
    for label, data in layers:
        node: Any = data
        for part in loc:
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                break
        else:
            found = label
    return found


def _suggest(model: type[BaseModel], loc: list[str]) -> str:
    """``did you mean 'steps'?``, or the fields the key's model has."""
    owner: Any = model
    for part in loc[:-1]:
        sub = submodel(owner.model_fields[part].annotation) if part in owner.model_fields else None
        if sub is None:
            return "remove it"
        owner = sub
    names = list(owner.model_fields)
    close = difflib.get_close_matches(loc[-1], names, n=1)
    if close:
        return f"did you mean {'.'.join([*loc[:-1], close[0]])!r}?"
    if len(names) > 12:
        return "not a field of this command"
    return f"expected one of {', '.join(names)}"
