"""WRITE tools: write, edit, move, delete files and create folders, within the quotas.

Every tool checks paths, existence and quotas before it changes anything, so a refused call
leaves the workspace exactly as it was (the engine also runs WRITE tools on a copy).
"""

from __future__ import annotations

from toolgym import Multiline, ToolError, ToolKind, tool

from .paths import basename, display, is_within, join, normalize_path
from .results import DeleteResult, EditResult, MakeDirResult, MoveResult, WriteResult
from .state import Workspace, check_text, utf8_size


@tool(kind=ToolKind.WRITE)
def write_file(db: Workspace, path: str, content: Multiline) -> WriteResult:
    """Create a file, or replace the whole content of an existing one; missing folders are created.

    Args:
        db: The workspace (passed by the environment, not by the agent).
        path: File path relative to the workspace root, such as 'notes/ideas.md'.
        content: The complete new text of the file.
    """
    file_path = normalize_path(path, dir_ok=False)
    size = check_text(content)
    if db.is_dir(file_path):
        raise ToolError(f"{file_path!r} is a folder; choose a file name inside it")
    new_dirs = db.missing_parents(file_path)
    old = db.files.get(file_path)
    old_size = 0 if old is None else utf8_size(old)
    db.check_quota(
        files=len(db.files) + (old is None),
        total_bytes=db.total_bytes() - old_size + size,
        dirs=len(db.dirs) + len(new_dirs),
        largest=size,
    )
    db.add_dirs(new_dirs)
    db.files[file_path] = content
    return WriteResult(path=file_path, size=size, created=old is None)


@tool(kind=ToolKind.WRITE)
def edit_file(
    db: Workspace,
    path: str,
    old_string: Multiline,
    new_string: Multiline,
    replace_all: bool = False,
) -> EditResult:
    """Replace exact text in a file; old_string must occur exactly once unless replace_all is true.

    Args:
        db: The workspace (passed by the environment, not by the agent).
        path: File path relative to the workspace root.
        old_string: The exact text to replace, including whitespace and line breaks.
        new_string: The text to put in its place (may be empty to delete text).
        replace_all: Replace every occurrence instead of requiring exactly one.
    """
    file_path = normalize_path(path, dir_ok=False)
    text = db.text(file_path)
    if not old_string:
        raise ToolError("old_string is empty; to replace a whole file use write_file")
    if old_string == new_string:
        raise ToolError("old_string and new_string are identical; there is nothing to change")
    check_text(new_string, "new_string")
    count = text.count(old_string)
    if count == 0:
        raise ToolError(f"old_string was not found in {file_path}{_near_miss(text, old_string)}")
    if count > 1 and not replace_all:
        raise ToolError(
            f"old_string occurs {count} times in {file_path}; include more surrounding text to "
            f"pick one, or pass replace_all=true to replace all {count}"
        )
    new_text = text.replace(old_string, new_string, -1 if replace_all else 1)
    size = check_text(new_text)
    db.check_quota(
        files=len(db.files),
        total_bytes=db.total_bytes() - utf8_size(text) + size,
        dirs=len(db.dirs),
        largest=size,
    )
    db.files[file_path] = new_text
    return EditResult(path=file_path, replacements=count if replace_all else 1, size=size)


def _near_miss(text: str, old: str) -> str:
    if old.casefold() in text.casefold():
        return " (it occurs with different letter case; copy the exact text with read_file)"
    if " ".join(old.split()) in " ".join(text.split()):
        return " (it occurs with different whitespace; copy the exact text with read_file)"
    return "; use read_file or grep to copy the exact text"


@tool(kind=ToolKind.WRITE)
def move(db: Workspace, source: str, destination: str, overwrite: bool = False) -> MoveResult:
    """Move or rename a file or folder; moving onto an existing folder puts the source inside it.

    Args:
        db: The workspace (passed by the environment, not by the agent).
        source: File or folder to move.
        destination: New path; if it is an existing folder, the source keeps its name inside it.
            Missing parent folders are created.
        overwrite: Replace an existing file at the destination (files only).
    """
    src = normalize_path(source, root_ok=True)
    if not src:
        raise ToolError("cannot move the workspace root")
    db.require_exists(src)
    dst = normalize_path(destination, root_ok=True)
    target = join(dst, basename(src)) if db.is_dir(dst) else dst
    overwritten = _check_move_target(db, src, target, overwrite)
    new_dirs = db.missing_parents(target)
    db.check_quota(
        files=len(db.files) - overwritten,
        total_bytes=db.total_bytes() - (db.size(target) if overwritten else 0),
        dirs=len(db.dirs) + len(new_dirs),
    )
    moved_files = [src] if db.is_file(src) else db.files_under(src)
    moved_dirs = [] if db.is_file(src) else [src, *db.dirs_under(src)]
    texts = {path: db.files.pop(path) for path in moved_files}
    for path, text in texts.items():
        db.files[target + path[len(src) :]] = text
    db.remove_dirs(moved_dirs)
    db.add_dirs(new_dirs + [target + d[len(src) :] for d in moved_dirs])
    return MoveResult(source=src, destination=target, files_moved=len(moved_files))


def _check_move_target(db: Workspace, src: str, target: str, overwrite: bool) -> int:
    """ToolError if ``src`` cannot move to ``target``; 1 if a file there will be replaced."""
    if target == src:
        raise ToolError(f"{src!r} is already at that path; nothing to move")
    if db.is_dir(src) and is_within(target, src):
        raise ToolError(f"cannot move folder {src!r} into itself ({target!r})")
    if db.is_dir(target):
        raise ToolError(f"{target!r} already exists as a folder")
    if not db.is_file(target):
        return 0
    if db.is_dir(src):
        raise ToolError(f"cannot move folder {src!r} onto the file {target!r}")
    if not overwrite:
        raise ToolError(f"{target!r} already exists; pass overwrite=true to replace it")
    return 1


@tool(kind=ToolKind.WRITE)
def delete(db: Workspace, path: str, recursive: bool = False) -> DeleteResult:
    """Delete a file or an empty folder; a folder with contents needs recursive=true.

    Args:
        db: The workspace (passed by the environment, not by the agent).
        path: File or folder to delete.
        recursive: Also delete everything inside the folder.
    """
    target = normalize_path(path, root_ok=True)
    if not target:
        raise ToolError("cannot delete the workspace root")
    db.require_exists(target)
    if db.is_file(target):
        del db.files[target]
        return DeleteResult(path=target, files_deleted=1, folders_deleted=0)
    files, folders = db.files_under(target), db.dirs_under(target)
    if (files or folders) and not recursive:
        raise ToolError(
            f"folder {target!r} is not empty ({len(files)} files, {len(folders)} folders); "
            "pass recursive=true to delete it with everything inside"
        )
    for file_path in files:
        del db.files[file_path]
    db.remove_dirs([target, *folders])
    return DeleteResult(path=target, files_deleted=len(files), folders_deleted=1 + len(folders))


@tool(kind=ToolKind.WRITE)
def make_dir(db: Workspace, path: str) -> MakeDirResult:
    """Create a folder (and any missing parent folders); does nothing if it already exists.

    Args:
        db: The workspace (passed by the environment, not by the agent).
        path: Folder path relative to the workspace root, such as 'archive/2025'.
    """
    folder = normalize_path(path, root_ok=True)
    if db.is_dir(folder):
        return MakeDirResult(path=display(folder), created=False)
    if db.is_file(folder):
        raise ToolError(f"{folder!r} is a file; a folder cannot have the same path")
    new_dirs = [*db.missing_parents(folder), folder]
    db.check_quota(
        files=len(db.files), total_bytes=db.total_bytes(), dirs=len(db.dirs) + len(new_dirs)
    )
    db.add_dirs(new_dirs)
    return MakeDirResult(path=folder, created=True)
