"""``toolgym/MCP-v0`` (and env specs with an ``[mcp]`` table): any MCP server's tools as a suite.

The server's tools (listed once, when the env is built, from a probe connection) become
:class:`~toolgym.mcp.tools.MCPTool` objects, validated like toolgym's own tools before anything is
sent; each call goes through the official ``mcp`` SDK (:mod:`toolgym.mcp.client`). A result is
shown like a toolgym tool result (structured content as JSON, else the text), a tool error as an
error observation. Isolation: a fresh server process (or HTTP session) per episode by default; with
``reset_tool`` one server lives across episodes and that tool is called at each reset. Each env
owns its connections, so GRPO siblings never share a server.

**Completion.** By the task's required outputs (or a judge), and by state when the server has a
*state resource*: a resource whose text is the server's world as a JSON object, at the URI
``state_resource`` names, or ``state://current`` when the server lists that. For a task with an
``expected_state`` the env reads the resource (``resources/read``) at reset, after every successful
WRITE call (a tool without ``readOnlyHint``) and when the agent answers, keeps it as the episode's
state, and compares it with ``expected_state`` exactly as a native suite's state is compared
(:mod:`toolgym.state_compare`, canonical JSON: key order never matters, list order does). A
resource that cannot be read or is not a JSON object makes the state differ, saying why. Gold calls
are never sent to the server: on an MCP suite an agent's call matches a gold call when it has the
same canonical arguments (no equivalence by effect), and ``expected_state`` is what says the world
is right. Tasks without ``expected_state`` score no state.

**A dead server ends only its episode.** A server that exits, or does not answer a request within
``timeout_s``, turns that call into an error observation and ends the episode at once with
``truncated=True`` and ``end_reason="env_error"`` (never scored as the agent's failure: trainers
and evaluations leave such episodes out) and ``info["toolgym"]["server_error"]`` saying why. The
next ``reset`` starts a fresh server; the dead one's process is ended.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from toolgym.episode import EndReason, Turn
from toolgym.limits import Limits
from toolgym.suite import CallOutcome, ToolSuite
from toolgym.tasks import Task, load_tasks
from toolgym.tooling import ToolCall, ToolKind
from toolgym.users.config import UserConfig

from .client import (
    MCPConnection,
    MCPRequestError,
    MCPUnavailable,
    RemoteTool,
    ServerSpec,
    check_server,
)
from .spec import DEFAULT_INSTRUCTIONS, DEFAULT_STATE_URI, MCPSpec
from .tools import STATE_ERROR_KEY, ConnectionBox, MCPState, mcp_tool


class MCPEnvError(ValueError):
    """An MCP env is misconfigured (bad server spec, tasks it cannot score, unknown tool/resource)."""


def make_mcp_env(
    server: ServerSpec,
    tasks: Sequence[Task] | str | Mapping[str, Sequence[Task] | str] | None = None,
    *,
    split: str = "train",
    suite_name: str = "mcp",
    instructions: str = DEFAULT_INSTRUCTIONS,
    **options: Any,
) -> MCPEnv:
    """Build ``toolgym/MCP-v0``; see :class:`MCPEnv` for ``options``.

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
    user = options.get("user")
    if isinstance(user, str | dict | UserConfig):  # a config (as the trainer passes): build it
        config = UserConfig.model_validate({"kind": user} if isinstance(user, str) else user)
        options["user"] = config.build()
    return MCPEnv(
        server, list(tasks or []), suite_name=suite_name, instructions=instructions, **options
    )


def make_spec_env(
    spec: MCPSpec, root: Path | None, suite_name: str, tasks: Sequence[Task], **env_kwargs: Any
) -> MCPEnv:
    """The env of an env spec's ``[mcp]`` table (``root``: the spec's content root)."""
    server: ServerSpec = spec.url if spec.url is not None else list(spec.command or ())
    cwd = None
    if spec.command is not None and root is not None:
        cwd = root / spec.cwd if spec.cwd is not None else root
    return MCPEnv(
        server,
        tasks,
        suite_name=suite_name,
        instructions=spec.instructions,
        reset_tool=spec.reset_tool,
        timeout_s=spec.call_timeout_s,
        start_timeout_s=spec.start_timeout_s,
        server_env=spec.env,
        cwd=cwd,
        state_resource=spec.state_resource,
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
        start_timeout_s: float | None = None,
        server_env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        state_resource: str | None = None,
        **env_kwargs: Any,
    ) -> None:
        """List the server's tools and resources (one probe connection) and build the env.

        Args:
            server: A stdio command (argv list) or a streamable HTTP URL.
            tasks: The tasks (their ``suite`` must be ``suite_name``; no ``initial_state``: the
                server starts its own world).
            suite_name: The suite name the tasks use.
            instructions: System-prompt text.
            reset_tool: A tool the server offers to reset its world: then one server serves every
                episode and this tool is called (no arguments) at each reset, hidden from the agent.
            timeout_s: Seconds one call may take; past it the episode ends (``env_error``).
            start_timeout_s: Seconds a server may take to start (default: ``timeout_s``).
            server_env: Extra environment variables of a stdio server's process.
            cwd: Working directory of a stdio server's process.
            state_resource: URI of the server's state resource (default: ``state://current``
                when listed); tasks with ``expected_state`` are scored against it.
            **env_kwargs: ToolEnv options (format, rewards, limits, user, judge, ...).

        Raises:
            MCPEnvError: a task sets ``initial_state``, or sets ``expected_state`` and the server has
                no state resource; ``reset_tool`` or ``state_resource`` is not the server's.
            MCPUnavailable: the server did not start or answer.
        """
        self.server = check_server(server)
        self.reset_tool, self.timeout_s = reset_tool, timeout_s
        self.start_timeout_s = start_timeout_s or timeout_s
        self._server_env, self._cwd = dict(server_env or {}), cwd
        self._box = ConnectionBox()
        self.server_error: str | None = None
        self.state_error: str | None = None
        tasks = list(tasks)
        _check_no_initial_state(tasks)
        probe = self._connect()
        try:
            remote, self.state_uri = self._probe(probe, state_resource)
            _check_scorable(tasks, self.state_uri)
        except BaseException:
            probe.close()
            raise
        if reset_tool is None:
            probe.close()
        else:
            self._box.conn = probe
        tools = tuple(mcp_tool(t, self._box) for t in remote if t.name != reset_tool)
        suite = ToolSuite(suite_name, MCPState, tools, lambda seed: MCPState(), instructions)
        env_kwargs.setdefault("limits", Limits())
        super().__init__(suite, tasks, **env_kwargs)

    def _connect(self) -> MCPConnection:
        return MCPConnection(
            self.server,
            timeout_s=self.timeout_s,
            start_s=self.start_timeout_s,
            env=self._server_env,
            cwd=self._cwd,
        )

    def _probe(
        self, probe: MCPConnection, state_resource: str | None
    ) -> tuple[list[RemoteTool], str | None]:
        """The server's tools and the state resource's URI (None: it has none)."""
        remote = probe.list_tools()
        names = [t.name for t in remote]
        if self.reset_tool is not None and self.reset_tool not in names:
            raise MCPEnvError(
                f"reset_tool {self.reset_tool!r} is not among the server's tools {names}"
            )
        try:
            uris = probe.list_resource_uris()
        except MCPRequestError:  # a server without resources
            uris = []
        if state_resource is None:
            return remote, DEFAULT_STATE_URI if DEFAULT_STATE_URI in uris else None
        try:
            probe.read_resource(state_resource)
        except MCPRequestError as exc:
            raise MCPEnvError(
                f"state_resource {state_resource!r} cannot be read: {exc} (the server lists {uris})"
            ) from None
        return remote, state_resource

    # ----------------------------------------------------------- the episode
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """Start an episode on a fresh server (or on the shared one after its reset tool)."""
        keep = self._box.conn if self.reset_tool is not None else None
        if keep is None or keep.broken is not None:
            self._close_conn()
            keep = None
        self._box.conn = None  # the gold replay inside ToolEnv.reset must not reach the server
        self.server_error = self.state_error = None
        observation, info = super().reset(seed=seed, options=options)
        self._box.conn = self._start_episode(keep)
        if self._scores_state():
            self.state = self._server_state()
        return observation, info

    def _start_episode(self, keep: MCPConnection | None) -> MCPConnection:
        """A connection ready for a new episode: the kept one after its reset tool, or a new one."""
        conn = keep or self._connect()
        if self.reset_tool is None:
            return conn
        try:
            self._call_reset_tool(conn)
            return conn
        except (MCPUnavailable, MCPRequestError):
            conn.close()
        conn = self._connect()  # once more, on a fresh server
        try:
            self._call_reset_tool(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _call_reset_tool(self, conn: MCPConnection) -> None:
        assert self.reset_tool is not None
        result = conn.call_tool(self.reset_tool, {})
        if result.is_error:
            raise MCPUnavailable(f"reset tool {self.reset_tool!r} failed: {result.text}")

    def _scores_state(self) -> bool:
        """Whether this episode's state is the server's (a state resource and an expected state)."""
        return self.state_uri is not None and self.task.expected_state is not None

    def _server_state(self) -> MCPState:
        """The server's state resource as the episode's state (or a state saying why it is not)."""
        assert self.state_uri is not None
        try:
            conn = self._box.conn
            if conn is None:
                raise MCPUnavailable("no MCP server is running")
            text = conn.read_resource(self.state_uri)
            try:
                data = json.loads(text)
            except (ValueError, RecursionError) as exc:
                raise ValueError(f"its text is not JSON ({exc}): {text[:80]!r}") from None
            if not isinstance(data, dict):
                raise ValueError(f"its text is a JSON {type(data).__name__}, not an object")
            return MCPState.model_validate(data)
        except (MCPUnavailable, MCPRequestError, ValueError) as exc:
            self.state_error = f"state resource {self.state_uri!r}: {exc}"
            return MCPState.model_validate({STATE_ERROR_KEY: self.state_error})

    def _run_call(self, turn: Turn, call: ToolCall) -> dict[str, str]:
        message = super()._run_call(turn, call)
        outcome = turn.outcomes[-1]
        if outcome.ok and outcome.kind is ToolKind.WRITE and self._scores_state():
            self.state = self._server_state()
        return message

    def _judge_call(self, outcome: CallOutcome, before: Any) -> Any:
        """Match against the gold with the server out of reach: gold calls are never sent."""
        conn, self._box.conn = self._box.conn, None
        try:
            return super()._judge_call(outcome, before)
        finally:
            self._box.conn = conn

    def _respond(self, turn: Turn) -> tuple[list[dict[str, str]], EndReason | None]:
        observation, end = super()._respond(turn)
        conn = self._box.conn
        if conn is not None and conn.broken is not None and end != "user_error":
            self.server_error = conn.broken
            return observation, "env_error"
        return observation, end

    def _check_answer(self, answer: str) -> bool:
        if self._scores_state():
            self.state = self._server_state()
        return super()._check_answer(answer)

    def _finish(self, end: EndReason, components: dict[str, float], reward: float) -> float:
        episode = self.episode
        if episode is not None and episode.state is None and end != "env_error":
            if self._scores_state():  # the world as the episode left it
                self.state = self._server_state()
        return super()._finish(end, components, reward)

    def summary(self) -> dict[str, Any]:
        """ToolEnv's summary plus ``server_error`` and ``state_error`` (None when all went well)."""
        return super().summary() | {
            "server_error": self.server_error,
            "state_error": self.state_error,
        }

    # ------------------------------------------------------------- lifetime
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


def _check_no_initial_state(tasks: Sequence[Task]) -> None:
    with_start = [t.id for t in tasks if t.initial_state is not None]
    if with_start:
        raise MCPEnvError(
            f"tasks {with_start[:5]} set initial_state, but an MCP server starts its own world: "
            "drop the field (reset the server's world with reset_tool instead)"
        )


def _check_scorable(tasks: Sequence[Task], state_uri: str | None) -> None:
    wanting = [t.id for t in tasks if t.expected_state is not None]
    if wanting and state_uri is None:
        raise MCPEnvError(
            f"tasks {wanting[:5]} set expected_state, but the server has no state resource: "
            f"serve the state as JSON at {DEFAULT_STATE_URI!r} or name its URI in state_resource"
        )
