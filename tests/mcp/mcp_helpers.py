"""Shared helpers of the MCP tests: child-process checks, tool calls, the key-value task."""

from __future__ import annotations

import os
from pathlib import Path

from toolgym.tasks import Task

HERE = Path(__file__).parent


def child_pids() -> set[int]:
    """Live (non-zombie) child processes of this test process (Linux /proc)."""
    me, found = str(os.getpid()), set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def call(name: str, **arguments: object) -> str:
    """One tool call in the hermes format."""
    import json

    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


KV_SERVER = HERE / "kv_server.py"

KV_TASK: dict[str, object] = {
    "id": "kv-1",
    "suite": "kv",
    "instruction": "Store blue under the key color.",
    "gold_calls": [[{"name": "put", "arguments": {"key": "color", "value": "blue"}}]],
    "expected_state": {"color": "blue"},
    "required_outputs": ["blue"],
    "gold_answer": "Stored: color is blue.",
}
"""A task of the key-value server scored by its state resource (right words are not enough)."""


def kv_task(**changes: object) -> Task:
    """:data:`KV_TASK` with some fields changed."""
    return Task.model_validate(KV_TASK | changes)
