"""A run directory's ``run.log``: every warning and error toolgym logs while the run is going.

Env errors (with their tracebacks), tool crashes, steps without reward signal and user-simulator
failures go through the ``toolgym`` logger; a run writes them next to its metrics so that they
outlive the terminal::

    with run_log(out / "run.log"):
        ...
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOGGER = "toolgym"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextmanager
def run_log(path: Path, level: int = logging.WARNING) -> Iterator[Path]:
    """Append the ``toolgym`` logger's records at ``level`` and above to ``path`` while open."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8", errors="backslashreplace")
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        handler.close()


def log_env_error(task_id: str) -> str:
    """Log the exception being handled as an env error of ``task_id``; returns its traceback."""
    error = traceback.format_exc()
    logging.getLogger(LOGGER).error(
        "env error in task %s (the episode ends as env_error):\n%s", task_id, error
    )
    return error
