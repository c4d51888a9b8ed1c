"""An MCP server's tools as toolgym :class:`~toolgym.tooling.Tool` objects, and the suite state.

Each listed tool becomes an :class:`MCPTool` with the server's JSON Schema, so calls are parsed and
validated with ``jsonschema`` like toolgym's own tools before anything is sent; its body is a call
on the env's live connection (:class:`ConnectionBox`). Every failure is a :class:`ToolError`, which
the env shows as an error observation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jsonschema
from pydantic import BaseModel, ConfigDict

from toolgym.tooling import Tool, ToolError, ToolKind

from .client import MCPConnection, MCPRequestError, MCPUnavailable, RemoteTool

STATE_ERROR_KEY = "__state_resource_error__"
"""The one key of the state recorded when the server's state resource could not be read: no
expected state holds it, so the episode's state differs and the difference says why."""


class MCPState(BaseModel):
    """The toolgym-side state of an MCP suite: the server's state as its state resource last showed it.

    Empty for a suite without a state resource, or for tasks that score no state; any JSON object
    otherwise (``extra="allow"``: its keys are the server's). The world itself lives in the server.
    """

    model_config = ConfigDict(extra="allow")


class _Args(BaseModel):
    """Arguments already checked against the server's schema: kept as given."""

    model_config = ConfigDict(extra="allow")


class ConnectionBox:
    """The env's current connection; tools read it at call time (None: no server reachable)."""

    conn: MCPConnection | None = None


@dataclass(frozen=True, eq=False)
class MCPTool(Tool):
    """A tool whose body is a call on the env's live MCP connection."""

    box: ConnectionBox | None = None

    def invoke(self, state: BaseModel, args: BaseModel) -> Any:
        """Send the checked arguments to the server; a failure is a ToolError (an observation)."""
        conn = self.box.conn if self.box is not None else None
        if conn is None:
            raise ToolError(f"{self.name}: no MCP server is reachable for this call")
        try:
            result = conn.call_tool(self.name, args.model_dump(mode="json"))
        except MCPUnavailable as exc:
            raise ToolError(f"{self.name}: {exc}; this episode's server is gone") from None
        except MCPRequestError as exc:
            raise ToolError(f"{self.name}: {exc}") from None
        if result.is_error:
            raise ToolError(result.text or f"{self.name} failed")
        if result.structured is not None:
            return result.structured
        try:
            return json.loads(result.text)
        except (ValueError, RecursionError):
            return result.text


def mcp_tool(remote: RemoteTool, box: ConnectionBox) -> MCPTool:
    """The toolgym tool of one listed MCP tool (ValueError: its input schema is invalid)."""
    schema = remote.input_schema
    try:
        cls = jsonschema.validators.validator_for(schema, jsonschema.Draft202012Validator)
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"MCP tool {remote.name!r}: invalid input schema: {exc.message}") from None
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    kind = ToolKind.READ if remote.read_only else ToolKind.WRITE

    def fn(state: BaseModel, **arguments: Any) -> Any:  # direct __call__: no server involved
        raise ToolError(f"{remote.name}: MCP tools run through the env")

    return MCPTool(remote.name, kind, remote.description, fn, _Args, schema, validator, box=box)
