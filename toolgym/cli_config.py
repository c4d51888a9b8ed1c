"""Config-first commands: a pydantic model, ``--config FILE`` (TOML), ``--set KEY=VALUE`` and flags.

Every ``toolgym`` command is a pydantic model (fields with descriptions, ``extra="forbid"``)
registered with :func:`config_command`. Its values merge in one order: the model's defaults <
the ``--config`` file < each ``--set KEY=VALUE`` (dotted keys reach nested models:
``--set user.kind=llm``) < the command's typed flags (``--env``, ``--agent``, ...), each flag just
another source of one field. Validation errors name the file or option, the field and the fix, and
``--help`` lists every field (type, choices, default, description) from the model itself.
"""

from __future__ import annotations

import functools
import inspect
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import typer
from pydantic import BaseModel

from toolgym.settings import ConfigError, load_settings, submodel
from toolgym.spec_docs import default_text, type_text

__all__ = ["Flag", "config_command", "fields_help"]

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])
HELP_WIDTH = 88
"""Columns of the field list in ``--help`` (descriptions are wrapped to fit)."""


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


def _groups(model: type[BaseModel], prefix: str) -> list[tuple[str, list[tuple[str, ...]]]]:
    """(title, rows) of a model's own fields, then one group per nested model, recursively."""
    rows: list[tuple[str, ...]] = []
    nested: list[tuple[str, list[tuple[str, ...]]]] = []
    for name, field in model.model_fields.items():
        sub = submodel(field.annotation)
        if sub is not None:
            nested += _groups(sub, f"{prefix}{name}.")
            continue
        description = field.description or ""
        rows.append((prefix + name, type_text(field), default_text(field), description))
    title = f"{prefix}* ({model.__name__}):" if prefix else f"{model.__name__}:"
    return [(title, rows), *nested] if rows else nested
