"""What the file tools return: small pydantic models the agent reads as JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Entry(BaseModel):
    """One file or folder."""

    path: str = Field(description="Path relative to the workspace root.")
    type: Literal["file", "dir"] = Field(description="'file' or 'dir'.")
    size: int = Field(description="Bytes of the file, or of all files under the folder.")


class Listing(BaseModel):
    """The entries of a folder, sorted by path."""

    path: str = Field(description="The folder listed ('.' is the workspace root).")
    entries: list[Entry] = Field(description="Entries shown, sorted by path.")
    total: int = Field(description="How many entries there are in all.")
    truncated: bool = Field(description="True when fewer than `total` entries are shown.")


class FileText(BaseModel):
    """A range of lines of a file, each prefixed with its number."""

    path: str = Field(description="The file read.")
    total_lines: int = Field(description="Lines in the whole file.")
    size: int = Field(description="Bytes in the whole file.")
    start_line: int = Field(description="First line shown (1-based).")
    end_line: int = Field(description="Last line shown (0 for an empty file).")
    content: str = Field(description="Lines as '<number>: <text>', separated by newlines.")
    ends_with_newline: bool = Field(description="Whether the file ends with a line break.")
    note: str | None = Field(default=None, description="Set when not everything was shown.")


class WriteResult(BaseModel):
    """Outcome of writing a whole file."""

    path: str = Field(description="The file written.")
    size: int = Field(description="Its size in bytes now.")
    created: bool = Field(description="True for a new file, False when one was overwritten.")


class EditResult(BaseModel):
    """Outcome of a string replacement in a file."""

    path: str = Field(description="The file edited.")
    replacements: int = Field(description="How many occurrences were replaced.")
    size: int = Field(description="Its size in bytes now.")


class GrepResult(BaseModel):
    """Matching lines as 'path:line: text', sorted by path then line number."""

    matches: list[str] = Field(description="Matching lines shown.")
    total_matches: int = Field(description="Matching lines in all (shown or not).")
    files_with_matches: int = Field(description="Files holding at least one match.")
    files_searched: int = Field(description="Files searched.")
    truncated: bool = Field(description="True when fewer than `total_matches` lines are shown.")
    note: str | None = Field(default=None, description="Set when the search stopped early.")


class MoveResult(BaseModel):
    """Outcome of moving or renaming a file or folder."""

    source: str = Field(description="The old path.")
    destination: str = Field(description="The new path.")
    files_moved: int = Field(description="Files that changed path.")


class DeleteResult(BaseModel):
    """Outcome of deleting a file or folder."""

    path: str = Field(description="The path deleted.")
    files_deleted: int = Field(description="Files removed.")
    folders_deleted: int = Field(description="Folders removed (the path itself included).")


class MakeDirResult(BaseModel):
    """Outcome of creating a folder."""

    path: str = Field(description="The folder.")
    created: bool = Field(description="False when it already existed.")
