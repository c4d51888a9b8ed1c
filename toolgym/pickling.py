"""Pickling by reference for what toolgym loads from a suite folder (tools, suites).

toolgym imports a suite folder by path, under the private module namespace ``_toolgym_suites``
(:mod:`toolgym.content`), so a process that never loaded the suite cannot import those modules
by name, and ``@tool`` replaces each decorated function by its :class:`~toolgym.tooling.Tool`, so
pickle cannot find the function under its own name. Suites and tools therefore pickle as a
reference to the suite folder (and, for a tool, its attribute path there): loading one imports
the folder through :func:`toolgym.content.load_suite` if the loading process (a spawned worker,
a fresh interpreter) has not, then looks the object up again. The same process gets back the
very same objects, which also makes ``copy.deepcopy`` of an env share its immutable suite.
"""

from __future__ import annotations

import importlib
import pickle
import sys
from pathlib import Path
from typing import Any


def find_attribute(owner: Any, qualname: str) -> Any:
    """``owner.a.b`` for ``qualname`` ``"a.b"``; None where a part is missing (or ``<locals>``)."""
    for part in qualname.split("."):
        owner = getattr(owner, part, None)
    return owner


def suite_folder(module: str) -> str | None:
    """The folder of the suite package that ``module`` belongs to, if toolgym loaded it by path."""
    from toolgym.content import _NAMESPACE  # lazy: toolgym.content imports the suite classes

    parts = module.split(".")
    if len(parts) < 2 or parts[0] != _NAMESPACE:
        return None
    package = sys.modules.get(".".join(parts[:2]))
    paths = list(getattr(package, "__path__", []))
    return str(paths[0]) if paths else None


def loaded_suite_folder(suite: object) -> str | None:
    """The folder that :func:`toolgym.content.load_suite` loaded ``suite`` from, if it did."""
    from toolgym import content  # lazy: toolgym.content imports the suite classes

    return next((str(folder) for folder, s in content._suites.items() if s is suite), None)


def import_suite_folder(folder: str) -> Any:
    """The suite loaded from ``folder`` (``<root>/tools/<name>``), importing it if not yet done.

    Raises:
        pickle.UnpicklingError: ``folder`` holds no suite any more (another root's would load).
    """
    from toolgym.content import load_suite  # lazy: toolgym.content imports the suite classes

    path = Path(folder)
    suite = load_suite(path.name, prefer=path.parent.parent)
    if loaded_suite_folder(suite) != folder:
        raise pickle.UnpicklingError(f"cannot unpickle suite {path.name!r}: {folder} is gone")
    return suite


def load_by_reference(module: str, qualname: str, folder: str | None) -> Any:
    """The object at ``module.qualname``, importing the suite ``folder`` first if ``module`` is not.

    Raises:
        pickle.UnpicklingError: nothing is found there.
    """
    if module not in sys.modules and folder is not None:
        import_suite_folder(folder)
    found = find_attribute(importlib.import_module(module), qualname)
    if found is None:
        raise pickle.UnpicklingError(f"cannot unpickle {module}.{qualname}: it does not exist")
    return found
