"""Rows on disk: Parquet (pyarrow, explicit schema) or JSONL, written atomically, read back with places.

A file is written under a temporary name and moved into place (``os.replace``), so a killed run
never leaves a torn file that counts as data. Trainer rollouts go one file per step
(``rollouts/step-000003.parquet``); a resumed run removes the files of steps after its checkpoint.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from toolgym.trajectory_rows.columns import COLUMNS, arrow_schema

SUFFIXES = (".parquet", ".jsonl")
STEP_FILE = re.compile(r"^step-(\d+)\.parquet$")


def check_path(path: Path) -> Path:
    """``path`` if its suffix names a row format (.parquet or .jsonl), else a ValueError saying so."""
    if path.suffix not in SUFFIXES:
        raise ValueError(
            f"{path}: rows are written as Parquet or JSONL: end the path in .parquet or .jsonl"
        )
    return path


def write_rows(path: Path | str, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``rows`` to ``path`` (.parquet or .jsonl) atomically; returns ``path``."""
    path = check_path(Path(path))
    rows = list(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    if path.suffix == ".parquet":
        import pyarrow as pa  # the columnar format and its schema: imported only for Parquet
        import pyarrow.parquet as pq

        schema = arrow_schema()
        table = pa.Table.from_pylist([{n: r.get(n) for n in COLUMNS} for r in rows], schema=schema)
        pq.write_table(table, staging)
    else:
        with staging.open("w", encoding="utf-8") as file:
            for row in rows:
                file.write(json.dumps({n: row.get(n) for n in COLUMNS}, ensure_ascii=False) + "\n")
    os.replace(staging, path)  # a kill before this line leaves no file, after it a whole one
    return path


def step_path(folder: Path, step: int) -> Path:
    """The rollout file of ``step`` under ``folder``."""
    return folder / f"step-{step:06d}.parquet"


def remove_steps_after(folder: Path, step: int) -> list[Path]:
    """Delete the rollout files of steps after ``step`` (and stray temporaries); returns them."""
    if not folder.is_dir():
        return []
    removed = []
    for path in sorted(folder.iterdir()):
        match = STEP_FILE.match(path.name)
        if (match and int(match.group(1)) > step) or path.name.endswith(".tmp"):
            path.unlink()
            removed.append(path)
    return removed


def row_files(path: Path) -> list[Path]:
    """The data files ``path`` names: itself, or a folder's ``*.parquet`` files in name order."""
    if path.is_dir():
        files = sorted(p for p in path.glob("*.parquet") if not p.name.startswith("."))
        if not files:
            raise ValueError(f"{path}: a folder of rows needs .parquet files; it has none")
        return files
    if not path.is_file():
        raise ValueError(f"{path}: no such file or folder")
    return [check_path(path)]


def is_rows_data(path: Path) -> bool:
    """Whether ``path`` holds trajectory rows: a .parquet file, a folder, or a JSONL of rows.

    A JSONL file counts when its first non-blank line is an object with ``token_ids`` (the
    conversation files of SFT data have ``messages`` only).
    """
    if path.is_dir() or path.suffix == ".parquet":
        return True
    if path.suffix != ".jsonl" or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as file:
        for line in file:
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError:
                    return False
                return isinstance(first, dict) and "token_ids" in first
    return False


def read_rows(path: Path | str) -> list[tuple[str, dict[str, Any]]]:
    """Every row of a file or folder with its place ``FILE:N`` (N counts from 1; JSONL: the line).

    Raises:
        ValueError: ``FILE: ...`` for a file that cannot be read, ``FILE:N: ...`` for a bad line.
    """
    rows: list[tuple[str, dict[str, Any]]] = []
    for file in row_files(Path(path)):
        rows += _read_parquet(file) if file.suffix == ".parquet" else _read_jsonl(file)
    return rows


def _read_parquet(path: Path) -> list[tuple[str, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow's errors have no common base worth naming
        raise ValueError(f"{path}: not a readable Parquet file ({exc})") from None
    missing = [
        name for name in ("task_id", "token_ids", "loss_mask") if name not in table.schema.names
    ]
    if missing:
        raise ValueError(
            f"{path}: no column {', '.join(missing)}: not trajectory rows (write them with "
            "toolgym eval --save-trajectories or log.save_rollouts)"
        )
    return [(f"{path}:{n}", row) for n, row in enumerate(table.to_pylist(), start=1)]


def _read_jsonl(path: Path) -> list[tuple[str, dict[str, Any]]]:
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines: U+0085 is text
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the file: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path}:{number}: not JSON ({exc.msg} at column {exc.colno})"
            ) from None
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: a row is a JSON object, not {type(row).__name__}")
        rows.append((f"{path}:{number}", row))
    return rows
