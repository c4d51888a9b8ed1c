"""files: a sandboxed virtual file system over a small project workspace.

The whole workspace lives in the pydantic state (:class:`~.state.Workspace`): a mapping of
normalised relative path to file text plus an explicit, sorted list of folders. Tools never touch
the real file system; paths are validated and normalised as plain strings (see :mod:`.paths`).
"""

from toolgym import ToolSuite
from toolgym.generation import LazyGenerator

from .catalog import TOOLS
from .state import Workspace
from .world import make_state

INSTRUCTIONS = (
    "You are a coding assistant working inside a sandboxed project workspace. Paths are relative "
    "to the workspace root and use '/' (for example 'src/app.py'); absolute paths and '..' above "
    "the root are refused. Look before you change: list folders, read files or grep before "
    "editing, and copy text for edit_file exactly as read_file shows it (without the line-number "
    "prefix). You cannot run programs or reach the internet. If a request is ambiguous (which "
    "file, which key, what new name), ask the user instead of guessing, and never invent file "
    "contents or paths. When you are done, say briefly what you found or changed."
)

suite = ToolSuite(
    name="files",
    state_type=Workspace,
    tools=TOOLS,
    make_state=make_state,
    instructions=INSTRUCTIONS,
    generate_tasks=LazyGenerator(f"{__name__}.generate"),
)
