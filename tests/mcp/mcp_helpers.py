"""Shared helpers of the MCP tests: skip without the mcp extra, child-process checks."""

from __future__ import annotations

import os
from pathlib import Path

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
