"""The files suite's reward-audit hooks: undo a WRITE, and spell a call another way.

``undo`` reverses one successful WRITE with one call, and only where that call restores the
workspace exactly (files, folders and texts): a new file is deleted together with the folders the
write created for it, an overwritten or edited file gets its old text back (a reverse edit when
that restores the text exactly), a move goes back, a deleted file is written again, a new folder
is deleted. It gives None where one call cannot restore the state: a move that replaced a file or
created folders for its destination, the delete of a folder holding several files, a make_dir
that found the folder already there.

``respell`` writes a call's paths as ``./a/b.txt`` (paths are normalised) and its omitted
optional arguments explicitly with their default values, and returns that only after checking
that it has the same outcome (result or error text) and the same effect as the call on the state
given; otherwise it tries each change alone, and gives None when neither holds.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticUndefined

from toolgym.audit.kit import AuditKit
from toolgym.canonical import canonical_json
from toolgym.suite import CallOutcome
from toolgym.tooling import ToolCall

from .catalog import TOOLS
from .paths import ancestors
from .state import Workspace

PATH_ARGUMENTS = ("path", "source", "destination")
"""Arguments that hold a workspace path (normalised by every tool)."""

_BY_NAME = {t.name: t for t in TOOLS}


def _workspace(state: Any) -> Workspace:
    return state if isinstance(state, Workspace) else Workspace.model_validate(state)


def _call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


def _new_folders(before: Workspace, folders: list[str]) -> list[str]:
    """The folders of ``folders`` (outermost first) that did not exist in ``before``."""
    return [f for f in folders if not before.is_dir(f)]


def undo(call: ToolCall, outcome: CallOutcome, state_before: Any) -> ToolCall | None:
    """One call that turns the state after ``call`` back into ``state_before`` (or None)."""
    if not outcome.ok or not isinstance(outcome.result, dict):
        return None
    before, result = _workspace(state_before), outcome.result
    arguments = (outcome.normalized or call).arguments
    if call.name == "write_file":
        return _undo_write(before, result["path"])
    if call.name == "edit_file":
        return _undo_edit(before, result["path"], arguments, int(result["replacements"]))
    if call.name == "move":
        return _undo_move(before, result["source"], result["destination"])
    if call.name == "delete":
        return _undo_delete(before, result["path"])
    if call.name == "make_dir":
        return _undo_make_dir(before, result["path"], bool(result["created"]))
    return None


def _undo_write(before: Workspace, path: str) -> ToolCall:
    if before.is_file(path):
        return _call("write_file", path=path, content=before.files[path])
    created = _new_folders(before, ancestors(path))
    if created:  # the write made these folders: delete the outermost with the file inside
        return _call("delete", path=created[0], recursive=True)
    return _call("delete", path=path)


def _undo_edit(
    before: Workspace, path: str, arguments: dict[str, Any], replacements: int
) -> ToolCall:
    old_text = before.files[path]
    old, new = arguments["old_string"], arguments["new_string"]
    new_text = old_text.replace(old, new, -1 if arguments.get("replace_all") else 1)
    if new and new_text.count(new) == replacements and new_text.replace(new, old) == old_text:
        reverse = {"path": path, "old_string": new, "new_string": old}
        if replacements > 1:
            reverse["replace_all"] = True
        return ToolCall(name="edit_file", arguments=reverse)
    return _call("write_file", path=path, content=old_text)


def _undo_move(before: Workspace, source: str, target: str) -> ToolCall | None:
    if before.is_file(target) or _new_folders(before, ancestors(target)):
        return None  # a replaced file, or folders made for the destination: one call can't
    return _call("move", source=target, destination=source)


def _undo_delete(before: Workspace, path: str) -> ToolCall | None:
    if before.is_file(path):
        return _call("write_file", path=path, content=before.files[path])
    files = before.files_under(path)
    folders = [path, *before.dirs_under(path)]
    if not files:
        deepest = max(folders, key=len)
        if all(f in (*ancestors(deepest), deepest) for f in folders):
            return _call("make_dir", path=deepest)  # an empty chain of folders
        return None
    if len(files) == 1 and all(f in ancestors(files[0]) for f in folders):
        return _call("write_file", path=files[0], content=before.files[files[0]])
    return None


def _undo_make_dir(before: Workspace, folder: str, created: bool) -> ToolCall | None:
    if not created:
        return None  # it changed nothing
    made = _new_folders(before, [*ancestors(folder), folder])
    if len(made) > 1:
        return _call("delete", path=made[0], recursive=True)
    return _call("delete", path=made[0])


def respell(call: ToolCall, state: Any) -> ToolCall | None:
    """``call`` with './'-prefixed paths and explicit defaults, if that changes nothing (or None)."""
    tool = _BY_NAME.get(call.name)
    if tool is None:
        return None
    workspace = _workspace(state)
    paths = {
        k: "./" + v
        for k, v in call.arguments.items()
        if k in PATH_ARGUMENTS and isinstance(v, str) and v and not v.startswith("/")
    }
    defaults = {
        name: info.default
        for name, info in tool.args_model.model_fields.items()
        if name not in call.arguments
        and info.default is not PydanticUndefined
        and info.default is not None
    }
    for change in ({**paths, **defaults}, paths, defaults):
        if not change:
            continue
        candidate = ToolCall(name=call.name, arguments={**call.arguments, **change})
        if _same_outcome(workspace, call, candidate):
            return candidate
    return None


def _same_outcome(state: Workspace, a: ToolCall, b: ToolCall) -> bool:
    """Whether ``a`` and ``b`` give the same result or error and the same state on ``state``."""
    from . import suite  # the package's suite (this module is imported after it)

    (out_a, after_a), (out_b, after_b) = suite.execute(state, a), suite.execute(state, b)
    same_state = canonical_json(after_a.model_dump(mode="json")) == canonical_json(
        after_b.model_dump(mode="json")
    )
    return out_a.error == out_b.error and out_a.result == out_b.result and same_state


kit = AuditKit(undo=undo, respell=respell)
