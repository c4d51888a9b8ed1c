"""The virtual workspace: files and folders held entirely in a pydantic model.

Nothing here touches the real file system. ``files`` maps each normalised file path to its text;
``dirs`` lists every folder explicitly (sorted, the root excluded), so an emptied folder keeps
existing until it is deleted, as on a real disk. Invariant: every folder above a file or a folder
is itself in ``dirs``, and no path is both a file and a folder.
"""

from __future__ import annotations

import bisect
import difflib

from pydantic import BaseModel, ConfigDict, Field, model_validator

from toolgym import ToolError

from .paths import ancestors, display, is_within, normalize_path, parent


class Quota(BaseModel):
    """Limits the workspace enforces on every change (writes over quota change nothing)."""

    model_config = ConfigDict(extra="forbid")

    max_file_bytes: int = Field(default=64 * 1024, description="Largest file, in UTF-8 bytes.")
    max_total_bytes: int = Field(default=1024 * 1024, description="All files together, in bytes.")
    max_files: int = Field(default=200, description="Most files the workspace may hold.")
    max_dirs: int = Field(default=100, description="Most folders the workspace may hold.")


class Workspace(BaseModel):
    """A sandboxed project workspace: file texts by path, the folder list, and the quotas."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(default=0, description="Seed of the generated world this started from.")
    files: dict[str, str] = Field(default_factory=dict, description="File text by path.")
    dirs: list[str] = Field(
        default_factory=list, description="Every folder, sorted; root excluded."
    )
    quota: Quota = Field(default_factory=Quota, description="Size and count limits.")

    @model_validator(mode="after")
    def _consistent(self) -> Workspace:
        """Normal paths, storable texts; ``dirs`` sorted, unique and holding every parent folder."""
        for path in [*self.files, *self.dirs]:
            try:
                normal = normalize_path(path)
            except ToolError as exc:
                raise ValueError(f"bad path {path!r} in the workspace: {exc}") from None
            if normal != path:
                raise ValueError(f"path {path!r} is not normalised; write it as {normal!r}")
        for path, text in self.files.items():
            try:
                check_text(text, f"file {path!r}")
            except ToolError as exc:
                raise ValueError(str(exc)) from None
        dirs = set(self.dirs)
        for path in [*self.files, *self.dirs]:
            dirs.update(ancestors(path))
        clash = dirs.intersection(self.files)
        if clash:
            raise ValueError(f"{sorted(clash)[0]!r} is both a file and a folder")
        self.dirs = sorted(dirs)
        return self

    # ---- lookups -------------------------------------------------------------------------
    def is_file(self, path: str) -> bool:
        """Whether ``path`` is a file."""
        return path in self.files

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a folder (the root '' always is)."""
        if not path:
            return True
        i = bisect.bisect_left(self.dirs, path)
        return i < len(self.dirs) and self.dirs[i] == path

    def text(self, path: str) -> str:
        """The text of file ``path``; ToolError (with a suggestion) if there is none."""
        if path in self.files:
            return self.files[path]
        if self.is_dir(path):
            raise ToolError(f"{display(path)!r} is a folder, not a file; use list_dir to see it")
        raise ToolError(f"no file {path!r}{self._suggestion(path, self.files)}")

    def require_dir(self, path: str) -> None:
        """ToolError unless ``path`` is a folder."""
        if self.is_dir(path):
            return
        if path in self.files:
            raise ToolError(f"{path!r} is a file, not a folder")
        raise ToolError(f"no folder {path!r}{self._suggestion(path, self.dirs)}")

    def require_exists(self, path: str) -> None:
        """ToolError unless ``path`` is a file or a folder."""
        if path not in self.files and not self.is_dir(path):
            raise ToolError(
                f"no file or folder {path!r}{self._suggestion(path, [*self.files, *self.dirs])}"
            )

    def files_under(self, folder: str) -> list[str]:
        """Paths of all files in ``folder`` and its subfolders, sorted."""
        return sorted(p for p in self.files if is_within(p, folder) and p != folder)

    def dirs_under(self, folder: str) -> list[str]:
        """Paths of all folders below ``folder`` (not itself), sorted."""
        return [d for d in self.dirs if d != folder and is_within(d, folder)]

    def children(self, folder: str) -> list[str]:
        """Files and folders directly inside ``folder``, sorted by path."""
        return sorted(p for p in [*self.files, *self.dirs] if parent(p) == folder and p != folder)

    def size(self, path: str) -> int:
        """Bytes of a file, or of every file under a folder."""
        if path in self.files:
            return utf8_size(self.files[path])
        return sum(utf8_size(self.files[p]) for p in self.files_under(path))

    def total_bytes(self) -> int:
        """Bytes of all files together."""
        return sum(utf8_size(t) for t in self.files.values())

    # ---- changes (callers check quotas first) ----------------------------------------------
    def missing_parents(self, path: str) -> list[str]:
        """Folders that must be created to hold ``path``; ToolError if a file is in the way."""
        missing = []
        for folder in ancestors(path):
            if folder in self.files:
                raise ToolError(f"cannot use {path!r}: {folder!r} is a file, not a folder")
            if not self.is_dir(folder):
                missing.append(folder)
        return missing

    def add_dirs(self, folders: list[str]) -> None:
        """Add folders (keeping ``dirs`` sorted and free of duplicates)."""
        for folder in folders:
            if not self.is_dir(folder):
                bisect.insort(self.dirs, folder)

    def remove_dirs(self, folders: list[str]) -> None:
        """Remove folders from ``dirs``."""
        gone = set(folders)
        self.dirs = [d for d in self.dirs if d not in gone]

    # ---- quotas ----------------------------------------------------------------------------
    def check_quota(self, *, files: int, total_bytes: int, dirs: int, largest: int = 0) -> None:
        """ToolError naming the first quota that the proposed totals would break."""
        q = self.quota
        if largest > q.max_file_bytes:
            raise ToolError(
                f"quota max_file_bytes exceeded: the file would be {largest} bytes; each file "
                f"may hold at most {q.max_file_bytes} bytes"
            )
        if files > q.max_files:
            raise ToolError(
                f"quota max_files exceeded: the workspace would hold {files} files; the limit "
                f"is {q.max_files}; delete files first"
            )
        if total_bytes > q.max_total_bytes:
            raise ToolError(
                f"quota max_total_bytes exceeded: the workspace would hold {total_bytes} bytes; "
                f"the limit is {q.max_total_bytes}; delete or shorten files first"
            )
        if dirs > q.max_dirs:
            raise ToolError(
                f"quota max_dirs exceeded: the workspace would hold {dirs} folders; the limit "
                f"is {q.max_dirs}"
            )

    @staticmethod
    def _suggestion(path: str, known: list[str] | dict[str, str]) -> str:
        """'; did you mean ...' for a close match, and where to look otherwise."""
        close = difflib.get_close_matches(path, sorted(known), n=1, cutoff=0.7)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return hint + " (use list_dir or find_files to see what exists)"


def utf8_size(text: str) -> int:
    """Size of ``text`` in UTF-8 bytes (texts in the state are always encodable)."""
    return len(text.encode("utf-8"))


def check_text(text: str, what: str = "content") -> int:
    """Size of a text the agent wants to store; ToolError if it cannot be stored."""
    if "\0" in text:
        raise ToolError(f"{what} contains a NUL byte; only text files are supported")
    try:
        return utf8_size(text)
    except UnicodeEncodeError:
        raise ToolError(f"{what} is not valid Unicode text (it holds a lone surrogate)") from None
