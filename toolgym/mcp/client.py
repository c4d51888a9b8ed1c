"""A synchronous MCP client: the async ``mcp`` SDK driven from a private event-loop thread.

Gymnasium's ``step()`` is synchronous, so each :class:`MCPConnection` owns an anyio blocking
portal (one event loop in its own thread). The SDK's transport and session context managers are
entered and left inside that loop, so their cancel scopes never cross tasks; every request is one
``portal.call``. A stdio server is a child process of the portal's loop: ``close()`` ends it (the
SDK terminates the process tree). A call past ``timeout_s`` or a server that died marks the
connection ``broken``: later calls fail fast with the same reason.
"""

from __future__ import annotations

import atexit
import contextlib
import subprocess
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ServerSpec = str | Sequence[str]
"""A stdio command (argv list) or a streamable HTTP URL (``http://`` / ``https://``)."""


class MCPUnavailable(RuntimeError):
    """The MCP server could not be reached, crashed, hung past the timeout, or was closed."""


class MCPRequestError(RuntimeError):
    """The server answered a request with an error (e.g. an unknown resource); still usable."""


@dataclass(frozen=True)
class RemoteTool:
    """One tool as the server lists it: name, description, JSON Schema, read-only hint."""

    name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool


@dataclass(frozen=True)
class CallResult:
    """A tool result: its text (content blocks joined), structured content, and error flag."""

    text: str
    structured: Any
    is_error: bool


def check_server(server: Any) -> ServerSpec:
    """Validate a server spec; raises ValueError naming the fix."""
    if isinstance(server, str):
        if not server.startswith(("http://", "https://")):
            raise ValueError(
                f"MCP server {server!r}: give a streamable HTTP URL (http://...) or a stdio "
                "command as a list of argv strings, e.g. ['python', 'server.py']"
            )
        return server
    if isinstance(server, Sequence) and server and all(isinstance(a, str) and a for a in server):
        return list(server)
    raise ValueError(
        f"MCP server {server!r}: expected a non-empty list of argv strings or an http(s) URL"
    )


_LIVE: weakref.WeakSet[MCPConnection] = weakref.WeakSet()


def _close_all() -> None:
    """At interpreter exit, before the portal threads are joined: end every live server."""
    for conn in list(_LIVE):
        conn.close()


# threading's exit hooks run before non-daemon threads (the portals' executors) are joined, the
# latest first; a plain atexit hook would run only after that join, which would wait forever.
getattr(threading, "_register_atexit", atexit.register)(_close_all)


class MCPConnection:
    """One live session with one MCP server (one process for a stdio server).

    Close it (the envs do on ``reset`` and ``close``); any still open at interpreter exit are
    closed then, so a forgotten env neither hangs the exit nor leaves a server running.
    """

    def __init__(
        self,
        server: ServerSpec,
        *,
        timeout_s: float = 30.0,
        start_s: float = 30.0,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
    ):
        """Start the server (stdio) or connect (HTTP) and initialize the session.

        ``env`` (extra variables) and ``cwd`` apply to a stdio server's process.

        Raises:
            MCPUnavailable: the server did not start or answer within ``start_s`` seconds.
        """
        from anyio.from_thread import start_blocking_portal  # lazy: only MCP users pay

        self.server = check_server(server)
        self.timeout_s = timeout_s
        self._env, self._cwd = (dict(env) if env else None), cwd
        self.broken: str | None = None
        self._stack = contextlib.ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())
        try:
            self._session = self._stack.enter_context(
                self._portal.wrap_async_context_manager(self._open(start_s))
            )
        except BaseException as exc:
            self._stack.close()
            raise MCPUnavailable(f"MCP server {self.server!r} did not start: {exc!r}") from None
        _LIVE.add(self)

    @contextlib.asynccontextmanager
    async def _open(self, start_s: float) -> Any:
        import anyio
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client
        from mcp.client.streamable_http import streamable_http_client

        if isinstance(self.server, str):
            transport: Any = streamable_http_client(self.server)
        else:
            params = StdioServerParameters(
                command=self.server[0], args=list(self.server[1:]), env=self._env, cwd=self._cwd
            )
            transport = stdio_client(params, errlog=subprocess.DEVNULL)  # type: ignore[arg-type]
        async with transport as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                with anyio.fail_after(start_s):
                    await session.initialize()
                yield session

    def _run(self, what: str, coro_fn: Any, *args: Any) -> Any:
        if self.broken is not None:
            raise MCPUnavailable(self.broken)
        import anyio
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        async def bounded() -> Any:
            with anyio.fail_after(self.timeout_s):
                return await coro_fn(*args)

        try:
            return self._portal.call(bounded)
        except MCPError as exc:  # an error reply, unless the SDK reports a closed connection
            if exc.code not in (CONNECTION_CLOSED, REQUEST_TIMEOUT):
                raise MCPRequestError(f"MCP server refused {what}: {exc}") from None
            self.broken = f"MCP server failed during {what}: {exc}"
        except TimeoutError:
            self.broken = f"MCP server did not answer {what} within {self.timeout_s:g} s"
        except Exception as exc:  # a crashed server, a closed pipe, a protocol error
            self.broken = f"MCP server failed during {what}: {type(exc).__name__}: {exc}"
        raise MCPUnavailable(self.broken)

    def list_tools(self) -> list[RemoteTool]:
        """Every tool the server lists (all pages)."""
        tools: list[RemoteTool] = []
        for page in self._pages("tools/list", "list_tools"):
            for t in page.tools:
                hint = getattr(t.annotations, "read_only_hint", None) if t.annotations else None
                schema = dict(t.input_schema or {"type": "object"})
                tools.append(RemoteTool(t.name, t.description or t.name, schema, bool(hint)))
        return tools

    def _pages(self, what: str, method: str) -> Iterator[Any]:
        """Every page of a paginated list request (``method`` of the SDK session), in order."""
        cursor: str | None = None
        while True:
            page = self._run(what, self._page, method, cursor)
            yield page
            cursor = page.next_cursor
            if not cursor:
                return

    async def _page(self, method: str, cursor: str | None) -> Any:
        from mcp import types

        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        return await getattr(self._session, method)(params=params)

    def call_tool(self, name: str, arguments: dict[str, Any]) -> CallResult:
        """Call one tool; raises MCPUnavailable when the server fails (not on a tool error)."""
        result = self._run(f"tools/call {name!r}", self._session.call_tool, name, arguments)
        texts = [getattr(block, "text", None) for block in result.content]
        text = "\n".join(
            t if t is not None else f"[{type(b).__name__}]"
            for t, b in zip(texts, result.content, strict=True)
        )
        structured = getattr(result, "structured_content", None)
        return CallResult(text, structured, bool(result.is_error))

    def list_resource_uris(self) -> list[str]:
        """The URIs of every resource the server lists (all pages; not templates)."""
        pages = self._pages("resources/list", "list_resources")
        return [str(r.uri) for page in pages for r in page.resources]

    def read_resource(self, uri: str) -> str:
        """The text of one resource (e.g. a server's state resource).

        Raises:
            MCPRequestError: the server refused (e.g. no such resource); the session lives on.
            MCPUnavailable: the server is gone or did not answer in time.
        """
        result = self._run(f"resources/read {uri!r}", self._session.read_resource, uri)
        return "\n".join(getattr(c, "text", "") or "" for c in result.contents)

    def close(self) -> None:
        """End the session and the server process; never raises."""
        _LIVE.discard(self)
        with contextlib.suppress(BaseException):
            self._stack.close()
        self.broken = self.broken or "the MCP connection is closed"
