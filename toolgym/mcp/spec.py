"""The ``[mcp]`` table of an env spec: an MCP server's tools as the env's suite.

An env spec with an ``[mcp]`` table builds ``toolgym/MCP-v0``-style envs over that server instead
of a ``tools/`` folder; its ``suite`` is then only the name its tasks give in their ``suite``
field::

    id = "myns/Notes-v0"
    suite = "notes"                      # the tasks' "suite"; no tools/notes folder needed

    [mcp]
    command = ["python", "server.py"]    # run in the content root (see cwd); or url = "http://..."
    call_timeout_s = 10

    [tasks]
    test = ["notes/test.jsonl"]

This module is plain pydantic (no ``mcp`` SDK import), so loading specs costs nothing.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_STATE_URI = "state://current"
"""The state resource toolgym reads when the server lists it and the spec names none."""

DEFAULT_INSTRUCTIONS = "You are a helpful assistant. Use the tools to answer."


class MCPSpec(BaseModel):
    """An MCP server whose tools are the env's suite: set `command` (stdio) or `url` (HTTP).

    Without either the env uses the `tools/` folder named by `suite`, as usual.
    """

    model_config = ConfigDict(extra="forbid")

    command: list[str] | None = Field(
        default=None,
        min_length=1,
        description="The stdio server's argv, e.g. ['python', 'server.py']; a fresh process "
        "per episode unless reset_tool is set.",
    )
    url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="A streamable HTTP server's URL, e.g. 'http://127.0.0.1:8000/mcp' (a fresh "
        "session per episode: the server's world persists unless reset_tool resets it).",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Extra environment variables for the stdio server process.",
    )
    cwd: Path | None = Field(
        default=None,
        description="Working directory of the stdio server, relative to the content root "
        "(the folder holding envs/); unset: the content root itself.",
    )
    call_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Seconds one call may take; past it (or when the server exits) the episode "
        "ends with end_reason 'env_error' and info['toolgym']['server_error'] says why.",
    )
    start_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds the server may take to start and initialize."
    )
    reset_tool: str | None = Field(
        default=None,
        description="A tool (called with no arguments, hidden from the agent) that resets the "
        "server's world: one server then serves every episode.",
    )
    state_resource: str | None = Field(
        default=None,
        description="URI of a resource whose text is the server's state as a JSON object; "
        "tasks with expected_state are scored against it. Unset: 'state://current' when the "
        "server lists it.",
    )
    instructions: str = Field(
        default=DEFAULT_INSTRUCTIONS, description="The system prompt's instructions."
    )

    @property
    def active(self) -> bool:
        """Whether the table names a server (else the env is a plain tools/ suite)."""
        return self.command is not None or self.url is not None

    @model_validator(mode="after")
    def _one_server(self) -> MCPSpec:
        if self.command is not None and self.url is not None:
            raise ValueError("set either command (a stdio server) or url (HTTP), not both")
        changed = [
            name
            for name, field in type(self).model_fields.items()
            if getattr(self, name) != field.get_default(call_default_factory=True)
        ]
        if not self.active and changed:
            raise ValueError(
                f"{changed} given without a server: add command = ['python', 'server.py'] or "
                "url = 'http://host:port/mcp'"
            )
        if self.url is not None and (self.env or self.cwd is not None):
            raise ValueError("env and cwd apply to a stdio server (command), not to a url")
        if self.command is not None and not all(self.command):
            raise ValueError("command: every argv entry must be a non-empty string")
        return self
