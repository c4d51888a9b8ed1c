"""A stateful third-party-style MCP server: a key-value store with a state resource.

``python kv_server.py [--http PORT] [--state-uri URI] [--bad-state] [--crash-on KEY]``

- tools ``put(key, value)``, ``delete(key)`` (writes), ``get(key)`` (read-only), ``clear()``;
- the resource at ``--state-uri`` (default ``state://current``) is the store as a JSON object;
  with ``--bad-state`` its text is not JSON;
- ``--crash-on KEY``: the process exits when ``put`` is given that key;
- ``--http PORT``: streamable HTTP on 127.0.0.1:PORT/mcp instead of stdio;
- the environment variable ``KV_INITIAL`` (a JSON object) is the store at start.
"""

import argparse
import json
import os

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations


def build(args: argparse.Namespace) -> MCPServer:
    """The server, its store starting from ``KV_INITIAL``."""
    server = MCPServer("kv")
    store: dict[str, str] = json.loads(os.environ.get("KV_INITIAL", "{}"))

    @server.tool()
    def put(key: str, value: str) -> str:
        """Store a value under a key."""
        if key == args.crash_on:
            os._exit(3)
        store[key] = value
        return f"stored {key}"

    @server.tool()
    def delete(key: str) -> str:
        """Remove a key."""
        if key not in store:
            raise ToolError(f"no key {key!r}")
        del store[key]
        return f"deleted {key}"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def get(key: str) -> str:
        """The value stored under a key."""
        if key not in store:
            raise ToolError(f"no key {key!r}")
        return store[key]

    @server.tool()
    def clear() -> str:
        """Forget every key (the suite's reset tool)."""
        store.clear()
        return "cleared"

    @server.resource(args.state_uri, mime_type="application/json")
    def state() -> str:
        """The whole store as a JSON object."""
        return "{not json" if args.bad_state else json.dumps(store)

    return server


def main() -> None:
    """Parse the command line and serve on stdio or streamable HTTP."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, default=None)
    parser.add_argument("--state-uri", default="state://current")
    parser.add_argument("--bad-state", action="store_true")
    parser.add_argument("--crash-on", default=None)
    args = parser.parse_args()
    server = build(args)
    if args.http is None:
        server.run()
    else:
        server.run(transport="streamable-http", host="127.0.0.1", port=args.http)


if __name__ == "__main__":
    main()
