"""READ tools: list folders, read files, find files by name, grep file contents."""

from __future__ import annotations

import fnmatch
from typing import Annotated, Literal

from pydantic import Field

from toolgym import ToolError, tool

from .paths import basename, display, normalize_path
from .patterns import REGEX_LINE_CHARS, REGEX_STEP_BUDGET, LineMatcher, make_matcher
from .results import Entry, FileText, GrepResult, Listing
from .state import Workspace

MAX_READ_LINES = 200
MAX_READ_CHARS = 3_000
MAX_SHOWN_LINE_CHARS = 300
MAX_GREP_LINE_CHARS = 120


def split_lines(text: str) -> list[str]:
    r"""Lines of ``text`` split on '\n' only; a final newline does not start an extra line.

    >>> split_lines("a\nb\n"), split_lines("a\n\nb"), split_lines("")
    (['a', 'b'], ['a', '', 'b'], [])
    """
    if not text:
        return []
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def _shorten(line: str, limit: int) -> str:
    return line if len(line) <= limit else f"{line[:limit]}... [+{len(line) - limit} chars]"


def _entry(db: Workspace, path: str) -> Entry:
    kind: Literal["file", "dir"] = "file" if db.is_file(path) else "dir"
    return Entry(path=path, type=kind, size=db.size(path))


@tool
def list_dir(
    db: Workspace,
    path: str = ".",
    recursive: bool = False,
    limit: Annotated[int, Field(ge=1, le=500)] = 50,
) -> Listing:
    """List the files and folders in a folder of the workspace, sorted by path, with sizes.

    Args:
        db: The workspace (passed by the environment, not by the agent).
        path: Folder relative to the workspace root; '.' is the root.
        recursive: Also list everything in subfolders.
        limit: Most entries to return (1-500).
    """
    folder = normalize_path(path, root_ok=True)
    db.require_dir(folder)
    if recursive:
        paths = sorted([*db.files_under(folder), *db.dirs_under(folder)])
    else:
        paths = db.children(folder)
    entries = [_entry(db, p) for p in paths[:limit]]
    return Listing(
        path=display(folder), entries=entries, total=len(paths), truncated=len(paths) > limit
    )


@tool
def read_file(
    db: Workspace,
    path: str,
    start_line: Annotated[int, Field(ge=1)] = 1,
    end_line: Annotated[int, Field(ge=1)] | None = None,
) -> FileText:
    """Read a text file, or a range of its lines, with line numbers (up to 200 lines or ~3000 chars).

    Args:
        db: The workspace (passed by the environment, not by the agent).
        path: File path relative to the workspace root, such as 'src/app.py'.
        start_line: First line to show (1-based).
        end_line: Last line to show (inclusive); omit to read to the end (up to 200 lines).
    """
    file_path = normalize_path(path, dir_ok=False)
    text = db.text(file_path)
    lines = split_lines(text)
    if end_line is not None and end_line < start_line:
        raise ToolError(f"end_line ({end_line}) is before start_line ({start_line})")
    if lines and start_line > len(lines):
        raise ToolError(
            f"start_line {start_line} is past the end: {file_path} has {len(lines)} lines"
        )
    if not lines and start_line > 1:
        raise ToolError(f"{file_path} is empty; it has no line {start_line}")
    last = min(len(lines), end_line or len(lines), start_line + MAX_READ_LINES - 1)
    shown: list[str] = []
    used = 0
    for number in range(start_line, last + 1):
        row = f"{number}: {_shorten(lines[number - 1], MAX_SHOWN_LINE_CHARS)}"
        if shown and used + len(row) > MAX_READ_CHARS:
            break
        shown.append(row)
        used += len(row) + 1
    end = start_line + len(shown) - 1 if shown else 0
    wanted_end = min(len(lines), end_line or len(lines))
    note = None
    if end < wanted_end:
        note = f"showing lines {start_line}-{end} of {len(lines)}; call again with start_line={end + 1}"
    return FileText(
        path=file_path,
        total_lines=len(lines),
        size=db.size(file_path),
        start_line=start_line,
        end_line=end,
        content="\n".join(shown),
        ends_with_newline=text.endswith("\n"),
        note=note,
    )


@tool
def find_files(
    db: Workspace,
    name: str,
    path: str = ".",
    limit: Annotated[int, Field(ge=1, le=500)] = 50,
) -> Listing:
    """Find files and folders whose name matches a glob pattern, searching a folder recursively.

    Args:
        db: The workspace (passed by the environment, not by the agent).
        name: Name pattern with * and ? wildcards, matched against the last part of each path
            (case-sensitive), such as '*.py' or 'test_*'.
        path: Folder to search in; '.' is the whole workspace.
        limit: Most entries to return (1-500).
    """
    if not name or len(name) > 255:
        raise ToolError("name pattern must have 1 to 255 characters, such as '*.py'")
    if "/" in name:
        raise ToolError("name pattern must not contain '/'; choose the folder with `path` instead")
    folder = normalize_path(path, root_ok=True)
    db.require_dir(folder)
    candidates = sorted([*db.files_under(folder), *db.dirs_under(folder)])
    found = [p for p in candidates if fnmatch.fnmatchcase(basename(p), name)]
    return Listing(
        path=display(folder),
        entries=[_entry(db, p) for p in found[:limit]],
        total=len(found),
        truncated=len(found) > limit,
    )


@tool
def grep(
    db: Workspace,
    pattern: str,
    path: str = ".",
    regex: bool = False,
    ignore_case: bool = False,
    limit: Annotated[int, Field(ge=1, le=500)] = 20,
) -> GrepResult:
    """Search file contents line by line; returns matching lines as 'path:line: text'.

    Matches are sorted by path, then line number; `total_matches` counts every matching line even
    when only `limit` of them are shown.

    Args:
        db: The workspace (passed by the environment, not by the agent).
        pattern: Text to look for. Matched literally unless `regex` is true.
        path: File, or folder searched recursively; '.' is the whole workspace.
        regex: Treat `pattern` as a Python regular expression (restricted to patterns that run
            fast: no backreferences, lookarounds or nested quantifiers; at most 3 of * + ? {m,n};
            only the first 500 characters of each line are examined).
        ignore_case: Match regardless of letter case.
        limit: Most matching lines to return (1-500).
    """
    matcher = make_matcher(pattern, regex=regex, ignore_case=ignore_case)
    target = normalize_path(path, root_ok=True)
    db.require_exists(target)
    files = [target] if db.is_file(target) else db.files_under(target)
    matches: list[str] = []
    total = with_matches = searched = 0
    budget = REGEX_STEP_BUDGET
    note = None
    for file_path in files:
        searched += 1
        hits, budget, stopped_at = _matching_lines(db.files[file_path], matcher, budget)
        total += len(hits)
        with_matches += bool(hits)
        shown = [f"{file_path}:{n}: {_shorten(line, MAX_GREP_LINE_CHARS)}" for n, line in hits]
        matches += shown[: limit - len(matches)]
        if stopped_at is not None:
            note = (
                f"search stopped early in {file_path} at line {stopped_at}: this regular "
                "expression is too costly for this much text; counts are partial. "
                "Search a smaller path or use a literal pattern"
            )
            break
    return GrepResult(
        matches=matches,
        total_matches=total,
        files_with_matches=with_matches,
        files_searched=searched,
        truncated=total > len(matches),
        note=note,
    )


def _matching_lines(
    text: str, matcher: LineMatcher, budget: int
) -> tuple[list[tuple[int, str]], int, int | None]:
    """(number, line) of each matching line, the step budget left, and the line it ran out at."""
    hits: list[tuple[int, str]] = []
    for number, line in enumerate(split_lines(text), start=1):
        scanned = line[:REGEX_LINE_CHARS] if matcher.is_regex else line
        if matcher.required not in scanned:
            continue
        if matcher.is_regex:
            budget -= matcher.cost(len(scanned))
            if budget < 0:
                return hits, budget, number
        if matcher.matches(scanned):
            hits.append((number, line))
    return hits, budget, None
