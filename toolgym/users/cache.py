"""Record/replay of user turns, keyed by (task, conversation-prefix hash, user model).

A model-backed user asks the cache before its backend. A hit replays the recorded reply, so a
re-evaluation, or a GRPO sibling whose conversation so far is identical, gets the same user turn
without a model call; with a warm cache an evaluation is byte-identical run to run. The store is
one SQLite file (stdlib ``sqlite3``: atomic writes, safe across threads and processes, nothing
lost if a run is killed mid-write), readable with any SQLite tool.

Modes: ``"record"`` replays hits and records misses; ``"replay"`` never calls the backend, and a
miss is a :class:`CacheMiss` (e.g. to check that an evaluation is fully cached, offline).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

CacheMode = Literal["record", "replay"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS user_turns (
    key TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    user_model TEXT NOT NULL,
    reply TEXT NOT NULL
)
"""


class CacheMiss(KeyError):
    """A replay-only cache has no recorded turn for this conversation."""


def prefix_key(task_id: str, user_model: str, messages: Sequence[dict[str, str]]) -> str:
    """SHA-256 over the task, the user model's fingerprint and the conversation so far."""
    payload = json.dumps(
        {"task": task_id, "user_model": user_model, "messages": list(messages)},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class UserCache:
    """A SQLite file of recorded user turns."""

    def __init__(self, path: str | Path, mode: CacheMode = "record") -> None:
        """Open (or create) the cache at ``path``.

        Raises:
            ValueError: ``mode="replay"`` and there is no file at ``path``.
        """
        self.path, self.mode = Path(path), mode
        if mode == "replay" and not self.path.exists():
            raise ValueError(
                f"{self.path}: no user cache to replay (record one with mode='record')"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the file and mode: the loading process opens the file again."""
        return UserCache, (self.path, self.mode)

    def __deepcopy__(self, memo: dict[int, Any]) -> UserCache:
        """This very cache: a copied env or user records into the same file."""
        return self

    def get(self, key: str) -> str | None:
        """The recorded reply, or None (``record`` mode) / :class:`CacheMiss` (``replay`` mode)."""
        with self._lock:
            row = self._db.execute("SELECT reply FROM user_turns WHERE key = ?", (key,)).fetchone()
        if row is None and self.mode == "replay":
            raise CacheMiss(f"{self.path}: no recorded user turn for key {key[:12]}...")
        return None if row is None else str(row[0])

    def put(self, key: str, task_id: str, user_model: str, reply: str) -> None:
        """Record a reply (the first recording of a key wins; replay mode records nothing)."""
        if self.mode == "replay":
            return
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO user_turns VALUES (?, ?, ?, ?)",
                (key, task_id, user_model, reply),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM user_turns").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
