"""Where toolgym finds content: tool suites (``tools/``), env specs (``envs/``), tasks (``tasks/``).

A *content root* is a folder holding any of those three sub-folders. The bundled root is the
repository checkout (or, in an installed wheel, ``toolgym/_content``); users add their own with
:func:`add_content_root` or the ``TOOLGYM_PATH`` environment variable (``os.pathsep``-separated).
Suites are Python packages loaded by path under the private namespace ``_toolgym_suites``, so no
top-level ``tools`` module is ever imported or installed.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import types
from pathlib import Path

from toolgym.suite import ToolSuite

_PACKAGE_DIR = Path(__file__).resolve().parent
_NAMESPACE = "_toolgym_suites"
_extra_roots: list[Path] = []
_suites: dict[Path, ToolSuite] = {}


def bundled_root() -> Path:
    """The content root shipped with toolgym (wheel: ``toolgym/_content``; checkout: the repo)."""
    installed = _PACKAGE_DIR / "_content"
    return installed if installed.is_dir() else _PACKAGE_DIR.parent


def content_roots() -> list[Path]:
    """All content roots, user-added first, then ``TOOLGYM_PATH`` entries, then the bundled one."""
    from_env = [Path(p) for p in os.environ.get("TOOLGYM_PATH", "").split(os.pathsep) if p]
    roots = [*_extra_roots, *from_env, bundled_root()]
    return list(dict.fromkeys(r.resolve() for r in roots))


def add_content_root(path: str | Path) -> Path:
    """Add a folder with ``tools/``, ``envs/`` and/or ``tasks/`` to the search path."""
    root = Path(path).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"content root {root} is not a directory")
    if root not in _extra_roots:
        _extra_roots.insert(0, root)
    return root


def find_suite_dir(name: str, prefer: Path | None = None) -> Path:
    """The folder of suite ``name``: ``<root>/tools/<name>``, trying ``prefer`` first."""
    roots = ([prefer] if prefer else []) + content_roots()
    for root in roots:
        candidate = root / "tools" / name
        if (candidate / "__init__.py").is_file():
            return candidate
    searched = ", ".join(str(r / "tools") for r in roots)
    raise LookupError(f"no tool suite {name!r} (looked for {name}/__init__.py in: {searched})")


def load_suite(name: str, prefer: Path | None = None) -> ToolSuite:
    """Import the suite folder by path and return its module-level ``suite`` (cached)."""
    folder = find_suite_dir(name, prefer)
    if folder not in _suites:
        module = _import_folder(folder)
        suite = getattr(module, "suite", None)
        if not isinstance(suite, ToolSuite):
            raise TypeError(f"{folder / '__init__.py'} must define `suite = ToolSuite(...)`")
        if suite.name != name:
            raise ValueError(
                f"{folder / '__init__.py'}: suite.name is {suite.name!r}, expected {name!r}"
            )
        _suites[folder] = suite
    return _suites[folder]


def load_suite_part(name: str, part: str) -> types.ModuleType | None:
    """Import the optional module ``tools/<name>/<part>.py`` of a suite (None if it has none).

    E.g. ``load_suite_part("calendar", "audit")`` for the reward audit's hooks.
    """
    folder = find_suite_dir(name)
    if not (folder / f"{part}.py").is_file():
        return None
    load_suite(name)
    return importlib.import_module(f"{_module_name(folder)}.{part}")


def _module_name(folder: Path) -> str:
    """The module name of a suite folder (distinct roots may hold suites of the same name)."""
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:10]  # stable across processes
    return f"{_NAMESPACE}.{folder.name}_{digest}"


def _import_folder(folder: Path) -> types.ModuleType:
    if _NAMESPACE not in sys.modules:
        namespace = types.ModuleType(_NAMESPACE)
        namespace.__path__ = []
        sys.modules[_NAMESPACE] = namespace
    module_name = _module_name(folder)
    spec = importlib.util.spec_from_file_location(
        module_name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
