"""Config-first commands: a pydantic model, ``--config FILE`` (TOML), ``--set KEY=VALUE`` and flags.

Every ``toolgym`` command is a pydantic model (fields with descriptions, ``extra="forbid"``)
registered with :func:`config_command`. Its values merge in one order: the model's defaults <
the ``--config`` file < each ``--set KEY=VALUE`` (dotted keys reach nested models:
``--set user.kind=llm``) < the command's typed flags (``--env``, ``--agent``, ...), each flag just
another source of one field. Validation errors name the file or option, the field and the fix, and
``--help`` lists every field (type, choices, default, description) from the model itself.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import textwrap
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import typer
from pydantic import BaseModel, ValidationError

from toolgym.spec_docs import default_text, type_text
from toolgym.train.config import deep_merge

__all__ = [
    "ConfigError",
    "Flag",
    "config_command",
    "deep_merge",
    "fields_help",
    "load_settings",
    "parse_sets",
    "read_config",
]

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])
HELP_WIDTH = 88
"""Columns of the field list in ``--help`` (descriptions are wrapped to fit)."""


class ConfigError(ValueError):
    """A config that cannot be read or does not validate; the message says where and how to fix."""


@dataclass(frozen=True)
class Flag:
    """A typed command-line option (or argument) that sets one field of a command's model.

    Attributes:
        key: The field, dotted for a nested model (``user.cache_mode``).
        names: The option's names (``("--agent", "-p")``); default ``--`` + the key with dashes.
        argument: A positional argument instead of an option.
        metavar: How the value is shown in the usage line.
    """

    key: str
    names: tuple[str, ...] = ()
    argument: bool = False
    metavar: str | None = None

    @property
    def options(self) -> tuple[str, ...]:
        """The option's names: ``names``, else ``--`` + the key with dashes (``--user-cache-mode``)."""
        return self.names or ("--" + self.key.replace(".", "-").replace("_", "-"),)

    @property
    def param(self) -> str:
        """The Python parameter name of the flag (``user.cache_mode`` -> ``user_cache_mode``)."""
        return self.key.replace(".", "_")


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


def fields_help(model: type[BaseModel]) -> str:
    """The ``--help`` epilog: every field of ``model`` (nested models grouped), wrapped to fit."""
    intro = (
        "Fields (set with --config FILE.toml, --set KEY=VALUE or the options above; later wins: "
        "defaults < file < --set < options):"
    )
    blocks = [textwrap.fill(intro, HELP_WIDTH)]
    for title, rows in _groups(model, ""):
        lines = [title]
        for key, kind, default, description in rows:
            lines.append(f"  {key}: {kind}, default {default}")
            lines += textwrap.wrap(
                description, HELP_WIDTH, initial_indent="      ", subsequent_indent="      "
            )
        blocks.append("\b\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def config_command(
    app: typer.Typer,
    model: type[BaseModel],
    *,
    name: str | None = None,
    flags: Sequence[Flag] = (),
    check: Callable[[Any], object] | None = None,
) -> Callable[[F], F]:
    """Register a command whose ``settings`` parameter is built from ``model``.

    The command gets ``--config FILE``, ``--set KEY=VALUE`` (repeatable) and one typed option per
    flag (type and help from the field, so they never drift); its other parameters are plain typer
    parameters (``--progress``, ``--content``). A bad config exits 2 with the explanation.

    Args:
        app: The typer app to add the command to.
        model: The command's pydantic model.
        name: The command's name (default: the function's).
        flags: The fields that are also typed options or arguments.
        check: Run on the validated settings; a ``ValueError`` it raises is reported (after the
            config file's name) and exits 2 like a validation error.
    """

    def register(func: F) -> F:
        command = f"toolgym {name or func.__name__}"
        names = {flag.key: flag.options[0] for flag in flags}

        @functools.wraps(func)
        def run(**kwargs: Any) -> Any:
            path, sets = kwargs.pop("config_file"), kwargs.pop("sets") or []
            given = {flag.key: kwargs.pop(flag.param) for flag in flags}
            try:
                settings = load_settings(
                    model, path, sets, given, command=command, flag_names=names
                )
                if check is not None:
                    check(settings)
            except ValueError as exc:
                where = "" if isinstance(exc, ConfigError) or path is None else f"{path}: "
                typer.echo(f"error: {where}{exc}", err=True)
                raise typer.Exit(2) from None
            return func(settings=settings, **kwargs)

        keyword = inspect.Parameter.KEYWORD_ONLY
        hints = get_type_hints(func, include_extras=True)  # the typer options, resolved
        own = [
            p.replace(kind=keyword, annotation=hints[p.name])
            for p in inspect.signature(func).parameters.values()
            if p.name != "settings"
        ]
        arguments = [_flag_parameter(model, flag) for flag in flags if flag.argument]
        options = [_flag_parameter(model, flag) for flag in flags if not flag.argument]
        params = [*arguments, *options, *own, *_config_parameters()]
        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        app.command(name, epilog=fields_help(model))(run)
        return func

    return register


# ---------------------------------------------------------------------------------- internals


def _config_parameters() -> list[inspect.Parameter]:
    config = Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE", help="TOML file of the fields listed below."),
    ]
    sets = Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Set a field (dotted for nested fields: user.kind=llm); repeatable.",
        ),
    ]
    keyword = inspect.Parameter.KEYWORD_ONLY
    return [
        inspect.Parameter("config_file", keyword, default=None, annotation=config),
        inspect.Parameter("sets", keyword, default=None, annotation=sets),
    ]


def _flag_parameter(model: type[BaseModel], flag: Flag) -> inspect.Parameter:
    """The typer parameter of a flag: its field's type (or ``None``: not given) and description."""
    field = _field(model, flag.key)
    help_text = (field.description or "").rstrip(".")
    hint = field.annotation
    if get_origin(hint) is list and get_origin(get_args(hint)[0]) is Literal:
        hint = list[str]  # typer takes no list of choices: the model checks each item
    if get_origin(hint) is not None and type(None) in get_args(hint):
        annotation: Any = hint
    else:
        annotation = hint | None
    if flag.argument:
        info: Any = typer.Argument(help=help_text, metavar=flag.metavar, show_default=False)
    else:
        info = typer.Option(*flag.options, help=help_text, metavar=flag.metavar, show_default=False)
    return inspect.Parameter(
        flag.param,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[annotation, info],
    )


def _field(model: type[BaseModel], key: str) -> Any:
    """The ``FieldInfo`` of a dotted key."""
    *parents, name = key.split(".")
    for parent in parents:
        model = model.model_fields[parent].annotation  # type: ignore[assignment]
    return model.model_fields[name]


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


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model of a field's type (``Model`` or ``Model | None``), if any."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _groups(model: type[BaseModel], prefix: str) -> list[tuple[str, list[tuple[str, ...]]]]:
    """(title, rows) of a model's own fields, then one group per nested model, recursively."""
    rows: list[tuple[str, ...]] = []
    nested: list[tuple[str, list[tuple[str, ...]]]] = []
    for name, field in model.model_fields.items():
        sub = _submodel(field.annotation)
        if sub is not None:
            nested += _groups(sub, f"{prefix}{name}.")
            continue
        description = field.description or ""
        rows.append((prefix + name, type_text(field), default_text(field), description))
    title = f"{prefix}* ({model.__name__}):" if prefix else f"{model.__name__}:"
    return [(title, rows), *nested] if rows else nested


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
        sub = _submodel(owner.model_fields[part].annotation) if part in owner.model_fields else None
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
