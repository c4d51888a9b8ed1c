"""Suite folders imported by path, under the private module namespace ``_toolgym_suites``.

A suite folder (``<root>/tools/<name>``) is a Python package that is never installed and never a
top-level ``tools`` module: :func:`import_folder` imports it as ``_toolgym_suites.<name>_<digest>``
(the digest tells apart suites of one name in distinct roots). ``sys.modules`` is the one cache, so
:mod:`toolgym.content` (which finds folders) and :mod:`toolgym.pickling` (which re-imports them in a
fresh process) always get the same module, and the same ``suite`` object, for a folder.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import types
from pathlib import Path

NAMESPACE = "_toolgym_suites"


def module_name(folder: Path) -> str:
    """The module name of a suite folder (stable across processes)."""
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:10]
    return f"{NAMESPACE}.{folder.name}_{digest}"


def import_folder(folder: Path) -> types.ModuleType:
    """The package at ``folder``, imported on first use (a failed import leaves no trace)."""
    name = module_name(folder)
    if name in sys.modules:
        return sys.modules[name]
    if NAMESPACE not in sys.modules:
        namespace = types.ModuleType(NAMESPACE)
        namespace.__path__ = []
        sys.modules[NAMESPACE] = namespace
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def import_part(folder: Path, part: str) -> types.ModuleType:
    """The module ``<folder>/<part>.py`` of an imported suite folder (``audit``, ...)."""
    import_folder(folder)
    return importlib.import_module(f"{module_name(folder)}.{part}")


def folder_of_module(module: str) -> str | None:
    """The folder of the suite package that ``module`` belongs to, if it was imported by path."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != NAMESPACE:
        return None
    package = sys.modules.get(".".join(parts[:2]))
    paths = list(getattr(package, "__path__", []))
    return str(paths[0]) if paths else None


def folder_of_suite(suite: object) -> str | None:
    """The folder whose package defines ``suite`` as its module-level ``suite``, if any."""
    for name, module in list(sys.modules.items()):
        if name.startswith(NAMESPACE + ".") and name.count(".") == 1:
            if getattr(module, "suite", None) is suite:
                return str(module.__path__[0])
    return None
