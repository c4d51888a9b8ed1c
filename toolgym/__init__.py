"""toolgym: Gymnasium environments for training and evaluating tool-calling LLM agents."""

from toolgym.suite import ToolSuite, state_hash
from toolgym.tasks import HiddenFact, Task, UserProfile, load_tasks
from toolgym.tooling import InvalidArguments, Tool, ToolCall, ToolError, ToolKind, tool

__all__ = [
    "HiddenFact",
    "InvalidArguments",
    "Task",
    "Tool",
    "ToolCall",
    "ToolError",
    "ToolKind",
    "ToolSuite",
    "UserProfile",
    "load_tasks",
    "state_hash",
    "tool",
]
