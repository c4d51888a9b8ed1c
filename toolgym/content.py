"""Where toolgym finds content: tool suites (``tools/``), env specs (``envs/``), tasks (``tasks/``).

A *content root* is a folder holding any of those three sub-folders. The bundled root is the
repository checkout (or, in an installed wheel, ``toolgym/_content``); users add their own with
:func:`add_content_root` (or ``toolgym.register_envs(DIR)``, which also registers its env specs),
``--content DIR`` on the command line, or the ``TOOLGYM_PATH`` environment variable
(``os.pathsep``-separated). Roots are searched in that order: added ones (the latest first), then
``TOOLGYM_PATH`` entries, then the bundled root; an env spec's suite is looked for in the spec's own
root first. Suites are Python packages loaded by path under the private namespace
``_toolgym_suites``, so no top-level ``tools`` module is ever imported or installed.
"""

from __future__ import annotations

import os
import types
from pathlib import Path

from toolgym.suite import ToolSuite
from toolgym.suite_folders import import_folder, import_part

_PACKAGE_DIR = Path(__file__).resolve().parent
_extra_roots: list[Path] = []


def bundled_root() -> Path:
    """The content root shipped with toolgym (wheel: ``toolgym/_content``; checkout: the repo)."""
    installed = _PACKAGE_DIR / "_content"
    return installed if installed.is_dir() else _PACKAGE_DIR.parent


CONTENT_DIRS = ("tools", "envs", "tasks")
"""The sub-folders a content root may hold; it holds at least one of them."""


def add_root_hint(envs: bool = False) -> str:
    """How to add a content root, for messages about what no root has (``envs``: an env id)."""
    python = (
        "toolgym.register_envs(DIR)"
        if envs
        else "toolgym.content.add_content_root(DIR) or toolgym.register_envs(DIR)"
    )
    return (
        "add a content root (the folder holding tools/, envs/, tasks/) with `--content DIR` on "
        f"the toolgym command, TOOLGYM_PATH=DIR1{os.pathsep}DIR2 in the environment, or "
        f"{python} in Python"
    )


def content_roots() -> list[Path]:
    """All content roots, user-added first, then ``TOOLGYM_PATH`` entries, then the bundled one."""
    return list(_root_origins())


def _root_origins() -> dict[Path, str]:
    """Every content root, each once, in search order, with where it came from."""
    from_env = [Path(p) for p in os.environ.get("TOOLGYM_PATH", "").split(os.pathsep) if p]
    origins: dict[Path, str] = {}
    for roots, origin in ((_extra_roots, "added"), (from_env, "TOOLGYM_PATH")):
        for root in roots:
            origins.setdefault(root.resolve(), origin)
    origins.setdefault(bundled_root().resolve(), "bundled")
    return origins


def searched_roots(prefer: Path | None = None) -> str:
    """The content roots a lookup searches, each once and in order, with their origins.

    For error messages, e.g. ``/home/me/lab (added), /opt/toolgym (bundled)``; ``prefer`` (an env
    spec's or task file's own root) comes first, and a root that does not exist says so.
    """
    origins = _root_origins()
    if prefer is not None:
        first = prefer.resolve()
        also = f", {origins[first]}" if first in origins else ""
        origins = {first: f"own root{also}", **{r: o for r, o in origins.items() if r != first}}
    return ", ".join(
        f"{root} ({origin}{'' if root.is_dir() else ', missing'})"
        for root, origin in origins.items()
    )


def check_content_root(path: str | Path) -> Path:
    """``path`` resolved, if it is a content root: a folder with ``tools/``, ``envs/`` or ``tasks/``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        NotADirectoryError: ``path`` is a file.
        ValueError: the folder holds none of the three (the message suggests its parent when
            ``path`` is itself a ``tools/``, ``envs/`` or ``tasks/`` folder).
    """
    root = Path(path).resolve()
    if not root.exists():
        raise FileNotFoundError(
            f"content root {path} does not exist (expected a folder with tools/, envs/ or tasks/)"
        )
    if not root.is_dir():
        raise NotADirectoryError(
            f"content root {path} is a file (expected a folder with tools/, envs/ or tasks/)"
        )
    if not any((root / sub).is_dir() for sub in CONTENT_DIRS):
        hint = f"; did you mean {root.parent}?" if root.name in CONTENT_DIRS else ""
        raise ValueError(
            f"{path} is not a content root: it holds none of tools/, envs/, tasks/{hint}"
        )
    return root


def add_content_root(path: str | Path) -> Path:
    """Search the folder ``path`` (with ``tools/``, ``envs/`` and/or ``tasks/``) first from now on.

    Raises what :func:`check_content_root` raises for a path that is no content root.
    """
    root = check_content_root(path)
    if root not in _extra_roots:
        _extra_roots.insert(0, root)
    return root


def find_suite_dir(name: str, prefer: Path | None = None) -> Path:
    """The folder of suite ``name``: ``<root>/tools/<name>``, trying ``prefer`` first.

    Raises:
        LookupError: no content root has it; the message lists each root searched, in order,
            and how to add one.
    """
    roots = list(dict.fromkeys([*([prefer.resolve()] if prefer else []), *content_roots()]))
    for root in roots:
        candidate = root / "tools" / name
        if (candidate / "__init__.py").is_file():
            return candidate
    raise LookupError(
        f"no tool suite {name!r}: no tools/{name}/__init__.py in the content roots searched, "
        f"in order: {searched_roots(prefer)}; {add_root_hint()}"
    )


def load_suite(name: str, prefer: Path | None = None) -> ToolSuite:
    """Import the suite folder by path and return its module-level ``suite`` (imported once)."""
    folder = find_suite_dir(name, prefer)
    suite = getattr(import_folder(folder), "suite", None)
    if not isinstance(suite, ToolSuite):
        raise TypeError(f"{folder / '__init__.py'} must define `suite = ToolSuite(...)`")
    if suite.name != name:
        raise ValueError(
            f"{folder / '__init__.py'}: suite.name is {suite.name!r}, expected {name!r}"
        )
    return suite


def load_suite_part(name: str, part: str) -> types.ModuleType | None:
    """Import the optional module ``tools/<name>/<part>.py`` of a suite (None if it has none).

    E.g. ``load_suite_part("calendar", "audit")`` for the reward audit's hooks.
    """
    folder = find_suite_dir(name)
    if not (folder / f"{part}.py").is_file():
        return None
    load_suite(name)
    return import_part(folder, part)
