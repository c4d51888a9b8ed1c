"""``toolgym mcp serve ENV --task ID``: a bundled suite's tools as an MCP server on stdio.

The server drives a real :class:`~toolgym.env.ToolEnv` on the task: each MCP ``tools/call`` is
written as one tool call in the env's format and stepped, so the call is validated, executed on
the simulated world and recorded exactly as in a native episode; the tool result is the env's
observation. The extra tool ``score`` (argument ``answer``: the agent's final answer) ends the
episode and returns toolgym's verdict: reward, components and the completion report. With
``--episode-file PATH`` that verdict is also written there as JSON (on ``score`` or on exit).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym

from toolgym.env import ToolEnv
from toolgym.tooling import ToolCall

SCORE_TOOL = "score"
SCORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string", "description": "Your final answer to the user."}},
    "required": ["answer"],
    "additionalProperties": False,
}


class ServedEpisode:
    """One toolgym episode behind an MCP server: calls in, observations and a verdict out."""

    def __init__(self, env_id: str, task_id: str, split: str = "test") -> None:
        """Build the env and start the episode of ``task_id`` (ValueError if unknown)."""
        env = gym.make(env_id, split=split).unwrapped
        if not isinstance(env, ToolEnv):
            raise ValueError(f"{env_id} is not a toolgym ToolEnv")
        self.env = env
        if task_id not in {t.id for t in env.tasks}:
            raise ValueError(f"{env_id} ({split}): no task {task_id!r}; see `toolgym list`")
        self.env.reset(options={"task_id": task_id})
        self.verdict: dict[str, Any] | None = None

    def tool_specs(self) -> list[dict[str, Any]]:
        """The suite's tools (OpenAI form) plus ``score``."""
        score = {
            "name": SCORE_TOOL,
            "parameters": SCORE_SCHEMA,
            "description": "Give your final answer; ends the episode and scores it.",
        }
        return [s["function"] for s in self.env.tool_specs] + [score]

    def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """Step the env with one call (or the answer); returns ``(text, is_error)``."""
        if self.verdict is not None:
            return "the episode is over; it was scored: " + json.dumps(self.verdict), True
        if name == SCORE_TOOL:
            _, reward, _, _, info = self.env.step(str(arguments.get("answer", "")))
            self._finish(reward, info)
            return json.dumps(self.verdict), False
        action = self.env.tool_format.render_calls([ToolCall(name=name, arguments=arguments)])
        observation, reward, terminated, truncated, info = self.env.step(action)
        turn = self.env.episode.turns[-1] if self.env.episode else None
        failed = turn is None or not turn.outcomes or not turn.outcomes[0].ok
        text = "\n".join(m["content"] for m in observation)
        if terminated or truncated:
            self._finish(reward, info)
        return text, failed

    def _finish(self, reward: float, info: dict[str, Any]) -> None:
        summary = info.get("toolgym", {})
        self.verdict = {
            "task_id": self.env.task.id,
            "reward": reward,
            "end_reason": info.get("end_reason"),
            "reward_components": info.get("reward_components", {}),
            "completion": summary.get("completion"),
        }


def serve_stdio(
    env_id: str, task_id: str, split: str = "test", episode_file: Path | None = None
) -> None:
    """Run the MCP server on stdin/stdout until the client disconnects."""
    import anyio
    from mcp import types
    from mcp.server.lowlevel import Server
    from mcp.server.stdio import stdio_server

    episode = ServedEpisode(env_id, task_id, split)

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        tools = [
            types.Tool(name=s["name"], description=s["description"], input_schema=s["parameters"])
            for s in episode.tool_specs()
        ]
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: Any) -> types.CallToolResult:
        text, failed = episode.call(params.name, dict(params.arguments or {}))
        if episode_file is not None and episode.verdict is not None:
            episode_file.write_text(json.dumps(episode.verdict, indent=2), encoding="utf-8")
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)], is_error=failed
        )

    server = Server(f"toolgym-{env_id}", on_list_tools=list_tools, on_call_tool=call_tool)

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)
