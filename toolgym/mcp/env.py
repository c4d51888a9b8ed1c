"""``toolgym/MCP-v0``: any MCP server's tools as a toolgym tool suite.

The server's tools (listed once, when the env is built, from a probe connection) become
:class:`~toolgym.tooling.Tool` objects with the server's JSON Schemas, so calls are parsed and
validated with ``jsonschema`` exactly like toolgym's own tools before anything is sent. Each call
goes through the official ``mcp`` SDK (:mod:`toolgym.mcp.client`); a result is shown like a toolgym
tool result (structured content as JSON, else the text), a tool error or a failed server as an
error observation. Isolation: a fresh server process (or HTTP session) per episode by default;
with ``reset_tool`` one server lives across episodes and that tool is called at each reset.
Each env owns its connections, so GRPO siblings never share a server.

Completion is by the task's required outputs (or a judge): the suite's state is an empty model,
so the gold replay at reset never touches the server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
from pydantic import BaseModel, ConfigDict

from toolgym.limits import Limits
from toolgym.suite import ToolSuite
from toolgym.tasks import Task, load_tasks
from toolgym.tooling import Tool, ToolError, ToolKind
from toolgym.users.config import UserConfig

from .client import MCPConnection, MCPUnavailable, RemoteTool, ServerSpec, check_server


class MCPState(BaseModel):
    """The (empty) toolgym-side state of an MCP suite: the world lives in the server."""

    model_config = ConfigDict(extra="forbid")


class _Args(BaseModel):
    """Arguments already checked against the server's schema: kept as given."""

    model_config = ConfigDict(extra="allow")


class _Box:
    """The env's current connection; tools read it at call time (None between episodes)."""

    conn: MCPConnection | None = None


@dataclass(frozen=True, eq=False)
class MCPTool(Tool):
    """A tool whose body is a call on the env's live MCP connection."""

    box: _Box | None = None

    def invoke(self, state: BaseModel, args: BaseModel) -> Any:
        """Send the checked arguments to the server; a failure is a ToolError (an observation)."""
        conn = self.box.conn if self.box is not None else None
        if conn is None:
            raise ToolError(f"{self.name}: no MCP server is running for this episode")
        try:
            result = conn.call_tool(self.name, args.model_dump(mode="json"))
        except MCPUnavailable as exc:
            raise ToolError(f"{self.name}: {exc}; this episode's server is gone") from None
        if result.is_error:
            raise ToolError(result.text or f"{self.name} failed")
        if result.structured is not None:
            return result.structured
        try:
            return json.loads(result.text)
        except ValueError:
            return result.text


def _tool(remote: RemoteTool, box: _Box) -> MCPTool:
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


class MCPEnvError(ValueError):
    """An MCP env is misconfigured (bad server spec, tasks of another suite, unknown reset tool)."""


def make_mcp_env(
    server: ServerSpec,
    tasks: Sequence[Task] | str | Mapping[str, Sequence[Task] | str] | None = None,
    *,
    split: str = "train",
    suite_name: str = "mcp",
    instructions: str = "You are a helpful assistant. Use the tools to answer.",
    reset_tool: str | None = None,
    timeout_s: float = 30.0,
    **env_kwargs: Any,
) -> MCPEnv:
    """Build ``toolgym/MCP-v0``; see :class:`MCPEnv`.

    ``tasks``: a list of tasks, a JSONL path, or either of them per split (``{"train": ...,
    "test": ...}``, ``split`` picks one), so that ``gym.register(..., kwargs={"server": ...,
    "tasks": {...}})`` gives an id the trainer and ``toolgym eval`` can use.
    """
    if isinstance(tasks, Mapping):
        if split not in tasks:
            raise MCPEnvError(f"MCP env: no tasks for split {split!r} (have {sorted(tasks)})")
        tasks = tasks[split]
    if isinstance(tasks, str):
        tasks = load_tasks(tasks)
    user = env_kwargs.get("user")
    if isinstance(user, str | dict | UserConfig):  # a config (as the trainer passes): build it
        config = UserConfig.model_validate({"kind": user} if isinstance(user, str) else user)
        env_kwargs["user"] = config.build()
    return MCPEnv(
        server,
        list(tasks or []),
        suite_name=suite_name,
        instructions=instructions,
        reset_tool=reset_tool,
        timeout_s=timeout_s,
        **env_kwargs,
    )


from toolgym.env import ToolEnv  # noqa: E402  (after the helpers: ToolEnv imports much)


class MCPEnv(ToolEnv):
    """A :class:`ToolEnv` whose tools are an MCP server's (fresh server per episode by default)."""

    def __init__(
        self,
        server: ServerSpec,
        tasks: Sequence[Task],
        *,
        suite_name: str = "mcp",
        instructions: str = "",
        reset_tool: str | None = None,
        timeout_s: float = 30.0,
        **env_kwargs: Any,
    ) -> None:
        """List the server's tools (one probe connection) and build the env.

        Args:
            server: A stdio command (argv list) or a streamable HTTP URL.
            tasks: The tasks (their ``suite`` must be ``suite_name``).
            suite_name: The suite name the tasks use.
            instructions: System-prompt text.
            reset_tool: A tool the server offers to reset its world: then one server serves every
                episode and this tool is called at each reset (hidden from the agent).
            timeout_s: Seconds one call (and a server start) may take; past it the episode's
                server counts as gone and every later call of the episode is an error observation.
            **env_kwargs: ToolEnv options (format, rewards, limits, user, judge, ...).
        """
        self.server = check_server(server)
        self.reset_tool, self.timeout_s = reset_tool, timeout_s
        self._box = _Box()
        probe = self._connect()
        try:
            remote = probe.list_tools()
        except MCPUnavailable:
            probe.close()
            raise
        names = [t.name for t in remote]
        if reset_tool is not None and reset_tool not in names:
            probe.close()
            raise MCPEnvError(f"reset_tool {reset_tool!r} is not among the server's tools {names}")
        if reset_tool is None:
            probe.close()
        else:
            self._box.conn = probe
        tools = tuple(_tool(t, self._box) for t in remote if t.name != reset_tool)
        suite = ToolSuite(suite_name, MCPState, tools, lambda seed: MCPState(), instructions)
        env_kwargs.setdefault("limits", Limits())
        super().__init__(suite, tasks, **env_kwargs)

    def _connect(self) -> MCPConnection:
        return MCPConnection(self.server, timeout_s=self.timeout_s, start_s=self.timeout_s)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """Start an episode on a fresh server (or on the shared one after its reset tool)."""
        keep = self._box.conn if self.reset_tool is not None else None
        if keep is None or keep.broken is not None:
            self._close_conn()
        self._box.conn = None  # the gold replay inside ToolEnv.reset must not reach the server
        observation, info = super().reset(seed=seed, options=options)
        conn = keep if keep is not None and keep.broken is None else self._connect()
        if self.reset_tool is not None:
            try:
                conn.call_tool(self.reset_tool, {})
            except MCPUnavailable:
                conn.close()
                conn = self._connect()
                conn.call_tool(self.reset_tool, {})
        self._box.conn = conn
        return observation, info

    def _close_conn(self) -> None:
        conn, self._box.conn = self._box.conn, None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Stop the server process; safe to call twice."""
        self._close_conn()
        super().close()

    def __getstate__(self) -> dict[str, Any]:
        """Refused: the episode's world lives in the server process (pickle and deepcopy)."""
        raise TypeError(
            "a toolgym/MCP-v0 env cannot be pickled or copied: its world lives in the MCP "
            "server it runs. Build another env with the same arguments instead (vector envs: "
            "pass a factory such as functools.partial(gym.make, 'toolgym/MCP-v0', server=...))"
        )

    def __del__(self) -> None:  # a forgotten env must not leave a server behind
        box = getattr(self, "_box", None)
        if box is not None and box.conn is not None:
            box.conn.close()
