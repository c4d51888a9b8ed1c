"""MCP both ways: MCP servers as toolgym suites, toolgym suites as MCP servers.

Any MCP server as a suite: ``toolgym/MCP-v0``, or an env spec's ``[mcp]`` table
(:mod:`toolgym.mcp.spec`); tasks are scored by state when the server has a state resource
(:mod:`toolgym.mcp.env`). A bundled suite as a server: ``toolgym mcp serve``. The ``mcp`` SDK is
imported only when one of them is used.
"""

from __future__ import annotations

import gymnasium as gym

MCP_ENV_ID = "toolgym/MCP-v0"


def register_mcp() -> None:
    """Register ``toolgym/MCP-v0`` (``gym.make(MCP_ENV_ID, server=..., tasks=...)``)."""
    if MCP_ENV_ID not in gym.registry:
        gym.register(id=MCP_ENV_ID, entry_point="toolgym.mcp.env:make_mcp_env")
