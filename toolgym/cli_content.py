"""The content side of the command line: ``--content DIR`` and the check of env ids.

Every command that reads content (suites, env specs, tasks) declares ``content: ContentOption``
and calls :func:`use_content` first, which adds each folder as a content root and registers its
env specs; :func:`require_envs` stops a command before any slow work when an env id is not
registered, naming the content roots searched and how to add one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import gymnasium as gym
import typer

from toolgym.content import add_root_hint, check_content_root, searched_roots

CONTENT_EPILOG = (
    "Suites (tools/), env specs (envs/) and tasks (tasks/) are read from the content roots: "
    f"--content DIR, then TOOLGYM_PATH=DIR1{os.pathsep}DIR2, then the bundled content."
)
"""The line ``toolgym --help`` ends with."""

ContentOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--content",
        metavar="DIR",
        help="Read content from DIR first: a folder with tools/, envs/ and/or tasks/ (repeatable).",
    ),
]


def use_content(folders: list[Path] | None) -> None:
    """Add each ``--content`` folder as a content root and register its env specs (exit 2 if bad).

    The first folder given is searched first.
    """
    from toolgym.registry import register_envs

    try:
        roots = [check_content_root(folder) for folder in folders or []]
        for root in reversed(roots):  # each added root goes first: add the first one last
            register_envs(root)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: --content: {exc}", err=True)
        raise typer.Exit(2) from None


def require_envs(env_ids: Iterable[str]) -> None:
    """Exit 2 with a message naming the content roots searched if an env id is not registered."""
    for env_id in env_ids:
        try:
            gym.spec(env_id)
        except gym.error.Error as exc:
            typer.echo(
                f"error: {exc}\n"
                "toolgym registers the envs/*.toml of each content root (`toolgym list` shows "
                f"them); searched, in order: {searched_roots()}.\n"
                f"If {env_id!r} is yours, {add_root_hint(envs=True)}.",
                err=True,
            )
            raise typer.Exit(2) from None
