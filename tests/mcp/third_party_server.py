"""A small third-party-style MCP server (the SDK's FastMCP API, ``MCPServer`` in mcp 2).

Run as ``python third_party_server.py [mode]``; mode ``crash`` exits on the first ``add`` call,
mode ``hang`` never answers ``add``. A counter lets the tests see per-episode isolation.
"""

import os
import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

MODE = sys.argv[1] if len(sys.argv) > 1 else "ok"
server = MCPServer("notes")
NOTES: list[str] = []


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def add(a: int, b: int) -> int:
    """Add two integers."""
    if MODE == "crash":
        os._exit(3)
    if MODE == "hang":
        time.sleep(3600)
    return a + b


@server.tool()
def write_note(text: str) -> str:
    """Store a note; returns how many notes this server process holds."""
    NOTES.append(text)
    return f"{len(NOTES)} notes"


@server.tool()
def fail() -> str:
    """Always fails with a domain error."""
    raise ValueError("the service refused")


@server.tool()
def reset_notes() -> str:
    """Forget every note (the suite's reset tool)."""
    NOTES.clear()
    return "ok"


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def pid() -> int:
    """The server's process id."""
    return os.getpid()


if __name__ == "__main__":
    server.run()
