"""toolgym: Gymnasium environments for training and evaluating tool-calling LLM agents."""

from toolgym.argument_text import Multiline
from toolgym.bfcl import register_bfcl
from toolgym.env import ToolEnv
from toolgym.limits import Limits
from toolgym.mcp import register_mcp
from toolgym.registry import make_env, register_envs
from toolgym.suite import ToolSuite, state_hash
from toolgym.tasks import Category, HiddenFact, Task, UserProfile, load_tasks
from toolgym.tooling import InvalidArguments, Tool, ToolCall, ToolError, ToolKind, tool

__all__ = [
    "Category",
    "HiddenFact",
    "InvalidArguments",
    "Limits",
    "Multiline",
    "Task",
    "Tool",
    "ToolCall",
    "ToolEnv",
    "ToolError",
    "ToolKind",
    "ToolSuite",
    "UserProfile",
    "load_tasks",
    "make_env",
    "register_bfcl",
    "register_envs",
    "state_hash",
    "tool",
]

register_envs()
register_bfcl()  # toolgym/BFCL-*-v0: ids only; the data is read when an env is built
register_mcp()  # toolgym/MCP-v0: the mcp SDK is imported when an env is built
