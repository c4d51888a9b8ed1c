"""Pickling by reference for what toolgym loads from a suite folder (tools, suites).

toolgym imports a suite folder by path, under the private module namespace ``_toolgym_suites``
(:mod:`toolgym.suite_folders`), so a process that never loaded the suite cannot import those modules
by name, and ``@tool`` replaces each decorated function by its :class:`~toolgym.tooling.Tool`, so
pickle cannot find the function under its own name. Suites and tools therefore pickle as a
reference to the suite folder (and, for a tool, its attribute path there): loading one imports
the folder (:func:`toolgym.suite_folders.import_folder`) if the loading process (a spawned worker,
a fresh interpreter) has not, then looks the object up again. The same process gets back the
very same objects, which also makes ``copy.deepcopy`` of an env share its immutable suite.
"""

from __future__ import annotations

import importlib
import pickle
import sys
from pathlib import Path
from typing import Any

from toolgym.suite_folders import import_folder


def find_attribute(owner: Any, qualname: str) -> Any:
    """``owner.a.b`` for ``qualname`` ``"a.b"``; None where a part is missing (or ``<locals>``)."""
    for part in qualname.split("."):
        owner = getattr(owner, part, None)
    return owner


def import_suite_folder(folder: str) -> Any:
    """The suite of ``folder`` (``<root>/tools/<name>``), importing the folder if not yet done.

    Raises:
        pickle.UnpicklingError: ``folder`` holds no suite any more.
    """
    path = Path(folder)
    if not (path / "__init__.py").is_file():
        raise pickle.UnpicklingError(f"cannot unpickle suite {path.name!r}: {folder} is gone")
    return import_folder(path).suite


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
