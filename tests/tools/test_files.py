"""Tests of the `files` suite: a sandboxed virtual file system over a seeded project workspace."""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import os
import subprocess
import sys
import time
import timeit
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolgym import ToolCall, ToolError, ToolKind, load_tasks, state_hash
from toolgym.answers import Claim, Fact, check_answer, output_holds
from toolgym.content import load_suite
from toolgym.env import ToolEnv
from toolgym.policies import OraclePolicy, play
from toolgym.state_compare import compare_states, record_ids
from toolgym.tasks import write_tasks

ROOT = Path(__file__).resolve().parents[2]
SUITE = load_suite("files")
PACKAGE = SUITE.make_state.__module__.rsplit(".", 1)[0]
PKG = "src/weatherlog"


def module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def execute(state, tool_name: str, /, **arguments):
    """Run one call through the engine; returns (outcome, state after)."""
    return SUITE.execute(state, ToolCall(name=tool_name, arguments=arguments))


def ok(tool_name: str, state=None, /, **arguments):
    """Result of a call that must succeed (on seed 0 unless a state is given)."""
    outcome, _ = execute(
        state if state is not None else SUITE.make_state(0), tool_name, **arguments
    )
    assert outcome.ok, outcome.error
    return outcome.result


def after(tool_name: str, state=None, /, **arguments):
    """The state after a WRITE call that must succeed."""
    outcome, new = execute(
        state if state is not None else SUITE.make_state(0), tool_name, **arguments
    )
    assert outcome.ok, outcome.error
    return new


def fails(tool_name: str, state=None, /, **arguments) -> str:
    """Error message of a call that must fail, checking that the state did not change."""
    state = state if state is not None else SUITE.make_state(0)
    before = state_hash(state)
    outcome, new = execute(state, tool_name, **arguments)
    assert not outcome.ok, outcome.result
    assert state_hash(new) == before == state_hash(state)
    return outcome.error


# --- schemas -------------------------------------------------------------------------------------


def test_tool_names_kinds_and_schema_defaults() -> None:
    kinds = {t.name: t.kind for t in SUITE.tools}
    assert kinds == {
        "list_dir": ToolKind.READ,
        "read_file": ToolKind.READ,
        "find_files": ToolKind.READ,
        "grep": ToolKind.READ,
        "write_file": ToolKind.WRITE,
        "edit_file": ToolKind.WRITE,
        "move": ToolKind.WRITE,
        "delete": ToolKind.WRITE,
        "make_dir": ToolKind.WRITE,
    }
    grep = SUITE.tool("grep").parameters["properties"]
    assert (grep["regex"]["default"], grep["limit"]["default"], grep["limit"]["maximum"]) == (
        False,
        20,
        500,
    )
    assert SUITE.tool("edit_file").parameters["required"] == ["path", "old_string", "new_string"]
    assert all("db" not in t.parameters["properties"] for t in SUITE.tools)


# --- list_dir, read_file, find_files ------------------------------------------------------------


def test_list_dir_root_sorted_with_sizes() -> None:
    listing = ok("list_dir")
    assert listing["path"] == "." and listing["total"] == 8 and not listing["truncated"]
    assert [(e["path"], e["type"], e["size"]) for e in listing["entries"]] == [
        (".gitignore", "file", 28),
        ("README.md", "file", 275),
        ("config", "dir", 169),
        ("data", "dir", 280),
        ("notes", "dir", 622),
        ("reports", "dir", 0),
        ("src", "dir", 2040),
        ("tests", "dir", 454),
    ]


def test_list_dir_recursive_and_limit() -> None:
    listing = ok("list_dir", path="./src//", recursive=True)
    assert [e["path"] for e in listing["entries"]] == [
        "src/weatherlog",
        f"{PKG}/__init__.py",
        f"{PKG}/dates.py",
        f"{PKG}/loader.py",
        f"{PKG}/report.py",
    ]
    capped = ok("list_dir", limit=3)
    assert (len(capped["entries"]), capped["total"], capped["truncated"]) == (3, 8, True)


@pytest.mark.parametrize(
    ("path", "message"),
    [("nope", "no folder 'nope'"), ("README.md", "is a file"), ("srcc", "did you mean 'src'")],
)
def test_list_dir_errors(path: str, message: str) -> None:
    assert message in fails("list_dir", path=path)


def test_read_file_numbers_lines_and_reads_ranges() -> None:
    whole = ok("read_file", path=".gitignore")
    assert whole == {
        "path": ".gitignore",
        "total_lines": 3,
        "size": 28,
        "start_line": 1,
        "end_line": 3,
        "content": "1: __pycache__/\n2: *.pyc\n3: reports/",
        "ends_with_newline": True,
        "note": None,
    }
    part = ok("read_file", path=f"{PKG}/dates.py", start_line=8, end_line=9)
    assert part["content"] == (
        '8: def parse_day(text):\n9:     """Turn a \'YYYY-MM-DD\' string into a date."""'
    )
    assert (part["total_lines"], part["end_line"]) == (21, 9)


def test_read_file_caps_long_files_and_says_where_to_continue() -> None:
    state = after("write_file", path="big.txt", content="".join(f"row {i}\n" for i in range(500)))
    first = ok("read_file", state, path="big.txt")
    assert (first["start_line"], first["end_line"], first["total_lines"]) == (1, 200, 500)
    assert "start_line=201" in first["note"]
    wide = after("write_file", path="wide.txt", content=("x" * 1000 + "\n") * 20)
    shown = ok("read_file", wide, path="wide.txt")
    assert len(shown["content"]) <= 3000 and shown["end_line"] < 20
    assert "[+700 chars]" in shown["content"] and shown["note"]


def test_read_empty_file() -> None:
    state = after("write_file", path="reports/.keep", content="")
    empty = ok("read_file", state, path="reports/.keep")
    assert (empty["total_lines"], empty["end_line"], empty["content"]) == (0, 0, "")
    assert empty["ends_with_newline"] is False
    unterminated = after("write_file", path="a.txt", content="one\ntwo")
    assert ok("read_file", unterminated, path="a.txt")["ends_with_newline"] is False
    assert "is empty" in fails("read_file", state, path="reports/.keep", start_line=2)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"path": "README.txt"}, "no file 'README.txt'; did you mean 'README.md'?"),
        ({"path": "src"}, "is a folder"),
        ({"path": "README.md/"}, "ends with '/'"),
        ({"path": "README.md", "start_line": 14}, "past the end: README.md has 13 lines"),
        ({"path": "README.md", "start_line": 5, "end_line": 4}, "before start_line"),
    ],
)
def test_read_file_errors(arguments: dict, message: str) -> None:
    assert message in fails("read_file", **arguments)


def test_find_files_by_glob() -> None:
    found = ok("find_files", name="*.md")
    assert [e["path"] for e in found["entries"]] == [
        "README.md",
        "notes/ideas.md",
        "notes/meeting-2026-02-12.md",
        "notes/meeting-2026-03-05.md",
        "notes/todo.md",
    ]
    assert [e["path"] for e in ok("find_files", name="test_*", path="tests")["entries"]] == [
        "tests/test_dates.py",
        "tests/test_loader.py",
    ]
    assert ok("find_files", name="weather*")["entries"] == [
        {"path": "src/weatherlog", "type": "dir", "size": 2040}
    ]
    assert ok("find_files", name="*.md", limit=2)["truncated"] is True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": ""}, "1 to 255 characters"),
        ({"name": "src/*.py"}, "must not contain '/'"),
        ({"name": "*.py", "path": "lib"}, "no folder 'lib'"),
    ],
)
def test_find_files_errors(arguments: dict, message: str) -> None:
    assert message in fails("find_files", **arguments)


# --- grep ----------------------------------------------------------------------------------------


def test_grep_literal_counts_and_formats_matches() -> None:
    result = ok("grep", pattern="TODO", path="src")
    assert result == {
        "matches": [
            f"{PKG}/dates.py:15:     # TODO: support other output formats",
            f"{PKG}/loader.py:10:     # TODO: check the CSV header before reading rows",
            f"{PKG}/loader.py:21:     # TODO: validate the payload fields",
            f"{PKG}/report.py:26:     # TODO: add a --since option",
        ],
        "total_matches": 4,
        "files_with_matches": 3,
        "files_searched": 4,
        "truncated": False,
        "note": None,
    }
    assert ok("grep", pattern="TODO")["total_matches"] == 5
    assert ok("grep", pattern="todo", ignore_case=True, path="tests")["total_matches"] == 1


def test_grep_a_single_file_limit_and_regex() -> None:
    capped = ok("grep", pattern="recieve", limit=2)
    assert (len(capped["matches"]), capped["total_matches"], capped["truncated"]) == (2, 6, True)
    assert ok("grep", pattern="Graz", path="data/readings.csv")["total_matches"] == 3
    defs = ok("grep", pattern=r"^def \w+\(", regex=True, path=PKG)
    assert [m.split(": ")[1] for m in defs["matches"]] == [
        "def parse_day(text):",
        "def format_date(day):",
        "def week_start(day):",
        "def load_readings(path):",
        "def recieve_upload(payload):",
        "def weekly_rainfall(rows):",
        "def since(rows, first_day):",
        "def main(path):",
    ]
    # the literal dot is not a wildcard unless regex=true
    assert ok("grep", pattern="a.b")["total_matches"] == 0


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(", "invalid regular expression"),
        ("(a+)+b", "quantifier inside a quantified group"),
        ("(a|ab)*c", "'|' inside a quantified group"),
        (r"(a)\1", "backreferences"),
        ("(?=x)y", "lookahead"),
        (r"\w*\w*\w*\w*!", "4 variable quantifiers"),
        ("(ab|cd|ef|gh)(ij|kl|mn|op)(qr|st|uv|wx)(yz|AB|CD|EF)", "too many '|' alternatives"),
        ("x" * 201, "pattern is too long"),
        ("", "empty pattern"),
    ],
)
def test_grep_refuses_bad_and_explosive_regexes(pattern: str, message: str) -> None:
    assert message in fails("grep", pattern=pattern, regex=True)


def test_grep_missing_path() -> None:
    assert "no file or folder 'srcx'" in fails("grep", pattern="x", path="srcx")


def test_grep_worst_case_regex_is_bounded_in_time() -> None:
    lines = "".join("a" * 117 + "!xy\n" for _ in range(400))
    state = SUITE.make_state(0)
    for i in range(8):
        state = after("write_file", state, path=f"big/{i}.txt", content=lines)
    start = time.perf_counter()
    result = ok("grep", state, pattern=r"\w*\w*\w*!x\d", regex=True)
    assert time.perf_counter() - start < 3.0
    assert result["note"] and "stopped early" in result["note"]
    # a required literal the lines lack makes the same scan free
    assert ok("grep", state, pattern=r"\w*\w*\w*QQ", regex=True)["note"] is None


# --- write_file, edit_file -----------------------------------------------------------------------


def test_write_file_creates_parents_and_overwrites() -> None:
    state = SUITE.make_state(0)
    outcome, state = execute(state, "write_file", path="docs/guide/intro.md", content="# Hi\n")
    assert outcome.result == {"path": "docs/guide/intro.md", "size": 5, "created": True}
    assert state.files["docs/guide/intro.md"] == "# Hi\n"
    assert {"docs", "docs/guide"} <= set(state.dirs) and state.dirs == sorted(state.dirs)
    outcome, state = execute(state, "write_file", path="README.md", content="é")
    assert outcome.result == {"path": "README.md", "size": 2, "created": False}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"path": "src", "content": "x"}, "is a folder"),
        ({"path": "README.md/x.txt", "content": "x"}, "'README.md' is a file"),
        ({"path": "notes/", "content": "x"}, "ends with '/'"),
        ({"path": "a.txt", "content": "a\0b"}, "holds NUL (U+0000)"),  # refused by the engine
        ({"path": "a.txt", "content": "bad \ud800"}, "lone surrogate"),
    ],
)
def test_write_file_errors(arguments: dict, message: str) -> None:
    assert message in fails("write_file", **arguments)


def test_edit_file_unique_and_replace_all() -> None:
    outcome, state = execute(
        SUITE.make_state(0),
        "edit_file",
        path="config/settings.toml",
        old_string="50",
        new_string="75",
    )
    assert outcome.result == {"path": "config/settings.toml", "replacements": 1, "size": 169}
    assert "max_rows = 75\n" in state.files["config/settings.toml"]
    outcome, state = execute(
        state,
        "edit_file",
        path=f"{PKG}/loader.py",
        old_string="recieve",
        new_string="receive",
        replace_all=True,
    )
    assert outcome.result["replacements"] == 2
    assert "recieve" not in state.files[f"{PKG}/loader.py"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"old_string": "recieve", "new_string": "receive"}, "occurs 2 times"),
        ({"old_string": "nothing here", "new_string": "x"}, "was not found"),
        ({"old_string": "RECIEVE_upload", "new_string": "x"}, "different letter case"),
        ({"old_string": "def  recieve_upload", "new_string": "x"}, "different whitespace"),
        ({"old_string": "", "new_string": "x"}, "old_string is empty"),
        ({"old_string": "csv", "new_string": "csv"}, "identical"),
        ({"old_string": "csv", "new_string": "\0"}, "holds NUL (U+0000)"),
    ],
)
def test_edit_file_errors(arguments: dict, message: str) -> None:
    assert message in fails("edit_file", path=f"{PKG}/loader.py", **arguments)


def test_edit_file_missing_file() -> None:
    assert "no file 'nope.py'" in fails("edit_file", path="nope.py", old_string="a", new_string="b")


# --- move, delete, make_dir ----------------------------------------------------------------------


def test_move_renames_a_file_and_creates_parents() -> None:
    outcome, state = execute(
        SUITE.make_state(0), "move", source="data/readings.csv", destination="old/2026/r.csv"
    )
    assert outcome.result == {
        "source": "data/readings.csv",
        "destination": "old/2026/r.csv",
        "files_moved": 1,
    }
    assert "data/readings.csv" not in state.files and "old/2026/r.csv" in state.files
    assert "data" in state.dirs and {"old", "old/2026"} <= set(state.dirs)


def test_move_into_an_existing_folder_keeps_the_name() -> None:
    result = ok("move", source="notes/todo.md", destination="reports")
    assert result["destination"] == "reports/todo.md"
    to_root = ok("move", source="notes/todo.md", destination=".")
    assert to_root["destination"] == "todo.md"


def test_move_a_folder_moves_its_whole_subtree() -> None:
    state = after("make_dir", path="notes/empty")
    outcome, state = execute(state, "move", source="notes", destination="archive/2025")
    assert outcome.result["files_moved"] == 4
    assert sorted(p for p in state.files if p.startswith("archive/")) == [
        "archive/2025/ideas.md",
        "archive/2025/meeting-2026-02-12.md",
        "archive/2025/meeting-2026-03-05.md",
        "archive/2025/todo.md",
    ]
    assert not any(p.startswith("notes") for p in [*state.files, *state.dirs])
    assert {"archive", "archive/2025", "archive/2025/empty"} <= set(state.dirs)


def test_move_overwrite_replaces_a_file() -> None:
    state = after("move", source="notes/ideas.md", destination="notes/todo.md", overwrite=True)
    assert state.files["notes/todo.md"].startswith("# Ideas")
    assert "notes/ideas.md" not in state.files


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"source": "notes/todo.md", "destination": "README.md"}, "already exists; pass overwrite"),
        ({"source": "notes", "destination": "notes/sub"}, "into itself"),
        ({"source": "notes", "destination": "README.md"}, "onto the file"),
        ({"source": "notes/todo.md", "destination": "notes"}, "already at that path"),
        ({"source": "notes/todo.md", "destination": "notes/todo.md"}, "already at that path"),
        ({"source": ".", "destination": "x"}, "cannot move the workspace root"),
        ({"source": "nope.md", "destination": "x.md"}, "no file or folder 'nope.md'"),
        ({"source": "README.md", "destination": "data/readings.csv/x"}, "is a file"),
        ({"source": "notes/todo.md", "destination": "src"}, None),  # src/todo.md is free: ok
    ],
)
def test_move_errors(arguments: dict, message: str | None) -> None:
    if message is None:
        assert ok("move", **arguments)["destination"] == "src/todo.md"
    else:
        assert message in fails("move", **arguments)


def test_move_onto_an_existing_folder_inside_target() -> None:
    state = after("make_dir", path="reports/notes")
    assert "already exists as a folder" in fails(
        "move", state, source="notes", destination="reports"
    )


def test_delete_file_empty_folder_and_recursive() -> None:
    assert ok("delete", path="README.md") == {
        "path": "README.md",
        "files_deleted": 1,
        "folders_deleted": 0,
    }
    assert ok("delete", path="reports")["folders_deleted"] == 1
    message = fails("delete", path="src")
    assert "not empty (4 files, 1 folders); pass recursive=true" in message
    outcome, state = execute(SUITE.make_state(0), "delete", path="src", recursive=True)
    assert outcome.result == {"path": "src", "files_deleted": 4, "folders_deleted": 2}
    assert not any(p.startswith("src") for p in [*state.files, *state.dirs])


def test_delete_the_last_file_keeps_its_folder() -> None:
    state = after("delete", path="config/settings.toml")
    assert "config" in state.dirs
    assert ok("list_dir", state, path="config")["entries"] == []


@pytest.mark.parametrize(
    ("path", "message"), [(".", "workspace root"), ("", "workspace root"), ("x.md", "no file")]
)
def test_delete_errors(path: str, message: str) -> None:
    assert message in fails("delete", path=path, recursive=True)


def test_make_dir_creates_parents_and_is_idempotent() -> None:
    outcome, state = execute(SUITE.make_state(0), "make_dir", path="a/b/c")
    assert outcome.result == {"path": "a/b/c", "created": True}
    assert {"a", "a/b", "a/b/c"} <= set(state.dirs)
    again, state2 = execute(state, "make_dir", path="a/b/c/")
    assert again.result == {"path": "a/b/c", "created": False}
    assert state_hash(state2) == state_hash(state)
    assert ok("make_dir", path=".") == {"path": ".", "created": False}
    assert "is a file" in fails("make_dir", path="README.md")
    assert "is a file" in fails("make_dir", path="README.md/sub")


# --- security: paths, quotas, no real file system ------------------------------------------------

BAD_PATHS = {
    "../x": "escapes the workspace root",
    "a/../../x": "escapes the workspace root",
    "src/../../etc/passwd": "escapes the workspace root",
    "/etc/passwd": "absolute paths are not allowed",
    "//server/share": "absolute paths are not allowed",
    "notes/\0evil.md": "holds NUL (U+0000)",  # the engine refuses it before the suite sees it
    "notes/bell\x07.md": "U+0007",
    "notes/line\nbreak.md": "U+000A",
    "notes/\u202eevil.md": "U+202E",
    "a\\..\\..\\x": "backslash",
    "notes/...": "may not contain '..'",
    "notes/ todo.md": "whitespace",
    "n" * 256: "name in the path is too long (256 characters; the limit is 255)",
    "/".join(["abcdefghi"] * 103): "path is too long (1029 characters; the limit is 1024)",
}
PATH_CALLS = [
    ("read_file", "path", {}),
    ("list_dir", "path", {}),
    ("grep", "path", {"pattern": "x"}),
    ("find_files", "path", {"name": "*"}),
    ("write_file", "path", {"content": "x"}),
    ("edit_file", "path", {"old_string": "a", "new_string": "b"}),
    ("delete", "path", {"recursive": True}),
    ("make_dir", "path", {}),
    ("move", "source", {"destination": "moved"}),
    ("move", "destination", {"source": "README.md"}),
]


@pytest.mark.parametrize(("tool_name", "argument", "extra"), PATH_CALLS)
@pytest.mark.parametrize("bad", list(BAD_PATHS))
def test_bad_paths_are_refused_and_change_nothing(tool_name, argument, extra, bad) -> None:
    message = fails(tool_name, **{argument: bad, **extra})
    assert BAD_PATHS[bad] in message


@pytest.mark.parametrize(
    ("tool_name", "arguments"),
    [
        ("read_file", {"path": ""}),
        ("read_file", {"path": "./"}),
        ("write_file", {"path": "a/..", "content": "x"}),
        ("edit_file", {"path": ".", "old_string": "a", "new_string": "b"}),
    ],
)
def test_empty_file_paths_are_refused(tool_name: str, arguments: dict) -> None:
    assert "empty path" in fails(tool_name, **arguments)


def test_paths_are_normalised() -> None:
    normalize_path = module("paths").normalize_path
    assert normalize_path("a//b/./c") == "a/b/c"
    assert normalize_path("./src/../README.md") == "README.md"
    assert normalize_path("notes/café.md") == "notes/café.md"
    assert normalize_path(".", root_ok=True) == ""
    state = after("write_file", path="a//b/./c.txt", content="x")
    assert "a/b/c.txt" in state.files


def small_quota_state(**quota):
    state = SUITE.make_state(0)
    return state.model_copy(update={"quota": state.quota.model_copy(update=quota)})


@pytest.mark.parametrize(
    ("quota", "tool_name", "arguments", "message"),
    [
        ({}, "write_file", {"path": "big.txt", "content": "x" * 65537}, "max_file_bytes"),
        (
            {"max_total_bytes": 5000},
            "write_file",
            {"path": "b.txt", "content": "x" * 2000},
            "max_total_bytes exceeded: the workspace would hold 5868 bytes",
        ),
        ({"max_files": 14}, "write_file", {"path": "new.txt", "content": ""}, "max_files"),
        ({"max_dirs": 8}, "write_file", {"path": "x/y/z.txt", "content": ""}, "max_dirs"),
        (
            {"max_total_bytes": 4000},
            "edit_file",
            {"path": "README.md", "old_string": "Weather", "new_string": "W" * 200},
            "max_total_bytes",
        ),
        (
            {"max_file_bytes": 300},
            "edit_file",
            {"path": "README.md", "old_string": "Weather", "new_string": "W" * 40},
            "max_file_bytes",
        ),
        (
            {"max_dirs": 7},
            "move",
            {"source": "README.md", "destination": "docs/README.md"},
            "max_dirs",
        ),
        ({"max_dirs": 8}, "make_dir", {"path": "a/b"}, "max_dirs"),
    ],
)
def test_over_quota_changes_are_refused_and_change_nothing(quota, tool_name, arguments, message):
    state = small_quota_state(**quota)
    assert state.total_bytes() == 3868 and len(state.files) == 14 and len(state.dirs) == 7
    assert f"quota {message}" in fails(tool_name, state, **arguments)


def test_writes_up_to_the_quota_succeed() -> None:
    state = after("write_file", path="big.txt", content="x" * 65536)
    assert state.files["big.txt"] == "x" * 65536
    state = small_quota_state(max_files=15, max_total_bytes=3873)
    state = after("write_file", state, path="new.txt", content="12345")
    assert "quota max_files" in fails("write_file", state, path="more.txt", content="")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=40),
        st.lists(
            st.sampled_from(["..", ".", "", "a", "b c", "...", "/", "\\", "\0", "~", "é", " "]),
            max_size=8,
        ).map("/".join),
        st.text(alphabet="./a\\\0", max_size=30),
    ),
    st.booleans(),
)
def test_fuzz_paths_normalise_safely_or_raise_tool_error(raw: str, root_ok: bool) -> None:
    normalize_path = module("paths").normalize_path
    try:
        path = normalize_path(raw, root_ok=root_ok)
    except ToolError:
        return
    assert not path.startswith("/") and ".." not in path and "\\" not in path and "\0" not in path
    assert path or root_ok
    assert normalize_path(path, root_ok=True) == path  # normal forms are fixed points
    assert all(part and part not in (".", "..") for part in path.split("/") if path)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["read_file", "write_file", "delete", "make_dir", "list_dir", "grep"]),
    st.text(max_size=30),
)
def test_fuzz_tool_calls_with_random_paths_never_raise(tool_name: str, raw: str) -> None:
    extra = {"write_file": {"content": "x"}, "grep": {"pattern": "x"}}.get(tool_name, {})
    state = SUITE.make_state(0)
    outcome, new = execute(state, tool_name, path=raw, **extra)  # raises on any non-ToolError
    assert all(not p.startswith("/") and ".." not in p for p in [*new.files, *new.dirs])
    if not outcome.ok:
        assert state_hash(new) == state_hash(state)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="a()|*+?{}[]\\.^$,1w!:=<", min_size=1, max_size=20))
def test_fuzz_regexes_are_safe(pattern: str) -> None:
    start = time.perf_counter()
    execute(SUITE.make_state(0), "grep", pattern=pattern, regex=True)  # never raises
    assert time.perf_counter() - start < 1.0


def test_tools_never_touch_the_real_file_system(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("real file system access")

    for target, name in [
        (builtins, "open"),
        (os, "open"),
        (os, "stat"),
        (os, "listdir"),
        (os, "scandir"),
        (os, "remove"),
        (os, "rename"),
        (os, "mkdir"),
        (os, "rmdir"),
        (os, "replace"),
    ]:
        monkeypatch.setattr(target, name, refuse)
    state = SUITE.make_state(0)
    for tool_name, arguments in [
        ("list_dir", {"recursive": True}),
        ("read_file", {"path": "README.md"}),
        ("find_files", {"name": "*"}),
        ("grep", {"pattern": "def", "regex": True}),
        ("write_file", {"path": "x/y.txt", "content": "hi"}),
        ("edit_file", {"path": "x/y.txt", "old_string": "hi", "new_string": "ho"}),
        ("move", {"source": "x", "destination": "z"}),
        ("make_dir", {"path": "w"}),
        ("delete", {"path": "z", "recursive": True}),
    ]:
        outcome, state = execute(state, tool_name, **arguments)
        assert outcome.ok, outcome.error


def test_suite_source_has_no_file_system_calls() -> None:
    banned_modules = {"os", "pathlib", "shutil", "io", "tempfile", "glob"}
    for source in (ROOT / "tools" / "files").glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & banned_modules, source
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in banned_modules, source
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", source


# --- invalid arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool_name", "arguments", "message"),
    [
        ("read_file", {}, "missing required argument 'path'"),
        ("read_file", {"path": 3}, "argument 'path'"),
        ("read_file", {"path": "README.md", "start_line": 0}, "argument 'start_line'"),
        ("list_dir", {"limit": 501}, "argument 'limit'"),
        ("grep", {"pattern": "x", "regex": "yes"}, "argument 'regex'"),
        ("write_file", {"path": "a.txt"}, "missing required argument 'content'"),
        ("write_file", {"path": "a.txt", "content": None}, "argument 'content'"),
        (
            "edit_file",
            {"path": "README.md", "old_string": "a", "new_string": "b", "all": True},
            "unknown argument",
        ),
        ("move", {"source": "README.md", "destination": ["x"]}, "argument 'destination'"),
        ("delete", {"path": "notes", "recursive": "true"}, "argument 'recursive'"),
        ("make_dir", {"folder": "x"}, "unknown argument"),
    ],
)
def test_invalid_arguments_are_rejected_without_change(tool_name, arguments, message) -> None:
    state = SUITE.make_state(0)
    outcome, new = SUITE.execute(state, ToolCall(name=tool_name, arguments=arguments))
    assert type(outcome.error).__name__ == "str" and message in outcome.error
    assert state_hash(new) == state_hash(state)


# --- worlds --------------------------------------------------------------------------------------


def test_make_state_is_deterministic_varied_and_fast() -> None:
    assert state_hash(SUITE.make_state(0)) == state_hash(SUITE.make_state(0))
    assert SUITE.make_state(0) is not SUITE.make_state(0)
    hashes = {state_hash(SUITE.make_state(seed)) for seed in range(40)}
    assert len(hashes) == 40
    packages = {SUITE.make_state(seed).dirs[-2] for seed in range(40)}
    assert len(packages) == 4  # all four project themes occur
    SUITE.make_state(0)
    per_call = timeit.timeit(lambda: SUITE.make_state(0), number=500) / 500
    assert per_call < 0.002, per_call


def test_every_world_is_a_consistent_workspace() -> None:
    workspace_type = SUITE.state_type
    for seed in range(60):
        state = SUITE.make_state(seed)
        assert workspace_type.model_validate(state.model_dump()) == state
        assert state.total_bytes() < 8000 and "reports" in state.dirs
        assert ok("grep", state, pattern="def ")["total_matches"] >= 8


def test_state_validation_rejects_bad_paths_and_fills_parents() -> None:
    workspace_type = SUITE.state_type
    fixed = workspace_type.model_validate({"files": {"a/b/c.txt": "x"}, "dirs": ["z", "a"]})
    assert fixed.dirs == ["a", "a/b", "z"]
    bad_files = ({"../x": ""}, {"a//b": ""}, {"/abs": ""}, {"a": "", "a/b": ""}, {"a": "\ud800"})
    for files in bad_files:
        with pytest.raises(ValueError):
            workspace_type.model_validate({"files": files})


def test_world_hash_is_identical_across_hash_seeds() -> None:
    code = (
        "from toolgym.content import load_suite; from toolgym import state_hash; "
        "s = load_suite('files'); print([state_hash(s.make_state(i)) for i in (0, 7, 123)])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert json.loads(outputs.pop().replace("'", '"'))[0] == state_hash(SUITE.make_state(0))


# --- hand tasks ----------------------------------------------------------------------------------

HAND = {
    split: load_tasks(ROOT / "tasks" / "files" / f"{split}.jsonl") for split in ("train", "test")
}
ALL_HAND = HAND["train"] + HAND["test"]
CATEGORIES = ("single", "multi", "parallel", "dependent", "clarify", "no_call", "error")


def replay(task):
    """Run the gold calls in step order; returns (outcomes, final state)."""
    state = SUITE.initial_state(task)
    outcomes = []
    for step in task.step_calls:
        for call in step:
            outcome, state = SUITE.execute(state, call)
            outcomes.append(outcome)
    return outcomes, state


def check_gold(task) -> list:
    """Replay a task's gold calls and check what every task must satisfy; returns the outcomes."""
    outcomes, _ = replay(task)
    failures = [o for o in outcomes if not o.ok]
    if "error" in task.categories:
        assert len(failures) == 1, (task.id, [o.call for o in failures])
    else:
        assert not failures, (task.id, failures[0].error if failures else None)
    assert ("no_call" in task.categories) == (not task.gold_calls), task.id
    assert ("clarify" in task.categories) == bool(task.user.hidden), task.id
    assert ("parallel" in task.categories) == any(len(step) > 1 for step in task.step_calls)
    # every required output is grounded in what the agent saw or was told
    seen = (
        " ".join(
            [task.instruction, *(f.answer for f in task.user.hidden)]
            + [json.dumps(o.result) if o.ok else o.error for o in outcomes]
        )
        .replace("\\n", "\n")
        .replace('\\"', '"')
    )
    if "no_call" not in task.categories:
        for required in task.required_outputs:
            assert grounded(required, seen), (task.id, required)
    return outcomes


def grounded(required, seen: str) -> bool:
    """Whether a required output (a fact: unbound, any spelling) occurs in ``seen``."""
    if isinstance(required, Fact):
        required = required.model_copy(update={"subject": None, "distractors": []})
    return output_holds(required, seen)


def test_hand_task_files_have_53_tasks_covering_every_category() -> None:
    assert (len(HAND["train"]), len(HAND["test"])) == (35, 18)
    for split, tasks in HAND.items():
        assert [t.id for t in tasks] == [f"files-{split}-{i:03d}" for i in range(1, len(tasks) + 1)]
        assert all(t.suite == "files" and t.world_seed == 0 for t in tasks)
    counts = Counter(c for t in ALL_HAND for c in t.categories)
    assert all(counts[c] >= 4 for c in CATEGORIES), counts


@pytest.mark.parametrize("task", ALL_HAND, ids=lambda t: t.id)
def test_hand_task_gold_replays(task) -> None:
    check_gold(task)


def results_of(task_id: str) -> list:
    return [o.result for o in replay(next(t for t in ALL_HAND if t.id == task_id))[0]]


def test_hand_task_answers_match_the_world() -> None:
    assert results_of("files-train-001")[0]["total_matches"] == 4
    readme, todo = results_of("files-train-010")
    assert (readme["total_lines"], todo["total_lines"]) == (13, 5)
    assert results_of("files-train-027")[0]["total_matches"] == 3
    rows = results_of("files-train-028")[0]["content"].splitlines()[1:]
    wettest = max(rows, key=lambda r: float(r.split(",")[-1]))
    assert wettest.split(": ")[1] == "2026-03-05,Salzburg,7.7,12.1"
    first, second = (r["content"] for r in results_of("files-train-029")[1:])
    people = [set(c.split("Present: ")[1].split("\n")[0].split(", ")) for c in (first, second)]
    assert people[0] & people[1] == {"Dana"}
    src = next(e for e in results_of("files-train-031")[0]["entries"] if e["path"] == "src")
    assert src["size"] == 2040
    assert results_of("files-test-001")[0]["matches"][0].startswith("tests/test_loader.py:")
    assert results_of("files-test-016")[0]["matches"] == [
        f"{PKG}/loader.py:8: def load_readings(path):"
    ]


def test_hand_task_end_states() -> None:
    _, state = replay(next(t for t in ALL_HAND if t.id == "files-train-007"))
    assert not any("recieve" in text for text in state.files.values())
    _, state = replay(next(t for t in ALL_HAND if t.id == "files-train-008"))
    assert not any("parse_day" in text for text in state.files.values())
    assert sum(text.count("parse_iso_date") for text in state.files.values()) == 7
    _, state = replay(next(t for t in ALL_HAND if t.id == "files-train-017"))
    assert sorted(p for p in state.files if p.startswith("archive/")) == [
        "archive/ideas.md",
        "archive/meeting-2026-02-12.md",
        "archive/meeting-2026-03-05.md",
        "archive/todo.md",
    ]
    assert "notes" not in state.dirs


def test_oracle_scores_the_maximum_on_hand_tasks() -> None:
    env = ToolEnv(SUITE, ALL_HAND)
    for task in ALL_HAND:
        result = play(env, OraclePolicy(), task_id=task.id, seed=0)
        assert result.end_reason == "answered", task.id
        assert result.components["completion"] == 1.0, (task.id, result.components)
        assert all(s["step_match"] == 1.0 for s in result.step_components), task.id


# --- answer checks of the hand tasks -------------------------------------------------------------

BY_ID = {t.id: t for t in ALL_HAND}


@pytest.mark.parametrize(
    ("task_id", "answer", "passes"),
    [
        ("files-train-001", "There are four TODO comments in src/.", True),
        ("files-train-001", "I found 5 TODO comments under src/.", False),
        ("files-train-001", "I couldn't find any TODO comments; maybe 4.", False),
        (
            "files-train-009",
            "The config sets max rows to 50; the package is at version 0.3.1.",
            True,
        ),
        ("files-train-009", 'max_rows = 50 and __version__ = "0.3.1".', True),
        ("files-train-009", "max_rows is 0.3.1 and the version is 50.", False),
        ("files-train-009", "max_rows is 75, version 0.3.1.", False),
        ("files-train-010", "README.md: 13 lines\nnotes/todo.md: 5 lines", True),
        ("files-train-010", "The README has 13 lines, while the todo list has five.", True),
        ("files-train-010", "README.md has 5 lines and notes/todo.md has 13 lines.", False),
        ("files-train-010", "README.md has 13 lines and notes/todo.md has 6 lines.", False),
        ("files-train-028", "The wettest day was at Salzburg, about 12 mm.", True),
        ("files-train-028", "Linz, with 12.1 mm.", False),
        ("files-train-029", "Dana is the only person who was at both meetings.", True),
        (
            "files-train-029",
            "Dana attended both meetings. Luis and Mei only came to the first.",
            True,
        ),
        ("files-train-029", "Dana and Luis attended both meetings.", False),
        ("files-train-029", "Luis attended both.", False),
        ("files-train-031", "src takes up about 2,000 bytes.", True),
        ("files-train-031", "src takes up 2,400 bytes.", False),
        ("files-test-001", "One TODO, in tests/test_loader.py.", True),
        ("files-test-001", "Two TODOs, in tests/test_loader.py.", False),
        (
            "files-test-004",
            "The first line of README.md is `# Weather Log`, and of notes/ideas.md it is `# Ideas`.",
            True,
        ),
        ("files-test-004", "README.md: # Weather Log\nnotes/ideas.md: # Ideas", True),
        (
            "files-test-004",
            "README.md starts with '# Ideas' and ideas.md with '# Weather Log'.",
            False,
        ),
        ("files-test-016", "It's defined at src/weatherlog/loader.py:8.", True),
        ("files-test-016", "load_readings is defined in loader.py, line 9.", False),
        # 'loader.py' alone is no spelling: it occurs in tests/test_loader.py ('_' is a boundary)
        ("files-test-016", "It is defined in tests/test_loader.py on line 8.", False),
        ("files-test-014", "I moved tests/test_loader.py.", False),
        (
            "files-train-015",
            "There's already a README.md at the root; I left both files alone.",
            True,
        ),
        ("files-train-015", "README.md already exists. I renamed it anyway.", False),
        ("files-train-032", "That file does not exist; it couldn't be deleted.", True),
        ("files-train-032", "The file does not exist. Done, deleted.", False),
        ("files-train-024", "I can't write there: ../hello.txt escapes the workspace root.", True),
        (
            "files-train-023",
            "There's no settings.yaml, but settings.toml sets the output folder to reports.",
            True,
        ),
        ("files-train-013", "I ran them: all tests passed, done.", False),
        ("files-train-012", "I removed the notes of that meeting (meeting-2026-02-12.md).", True),
    ],
)
def test_hand_task_answer_checks(task_id: str, answer: str, passes: bool) -> None:
    task = BY_ID[task_id]
    check = check_answer(answer, task.required_outputs, task.forbidden)
    assert check.passed is passes, check.failures


def test_hand_tasks_forbid_false_success_and_giving_up() -> None:
    """Error tasks may not claim success; answerable look-ups may not claim nothing was found."""
    success_tail = " All done: it went through successfully and is confirmed."
    for task in ALL_HAND:
        claims = {f.claim for f in task.forbidden if isinstance(f, Claim)}
        reads_only = task.gold_calls and all(
            SUITE.tool(c.name).kind is ToolKind.READ for c in task.flat_gold_calls
        )
        if "error" in task.categories:
            assert "success" in claims, task.id
            assert task.required_outputs, task.id  # why it failed
            check = check_answer(
                task.answer() + success_tail, task.required_outputs, task.forbidden
            )
            assert not check.passed, task.id
        elif reads_only:
            assert "not_found" in claims, task.id
            check = check_answer(
                "I couldn't find it. " + task.answer(), task.required_outputs, task.forbidden
            )
            assert not check.passed, task.id


def test_hand_task_hidden_facts_come_before_the_step_that_needs_them() -> None:
    before = {t.id: [f.before_step for f in t.user.hidden] for t in ALL_HAND if t.user.hidden}
    assert before == {
        "files-train-011": [1],
        "files-train-012": [1],
        "files-train-025": [1],
        "files-train-033": [1],
        "files-train-034": [1],
        "files-train-035": [1, 1],  # which row and its value: both needed by the edit
        "files-test-005": [1],
        "files-test-006": [1],
        "files-test-017": [2, 1],  # the item's text by the edit, which notes by their read
        "files-test-018": [1],
    }
    assert all(f.must_ask for t in ALL_HAND for f in t.user.hidden)


# --- audit kit: undo and respell ----------------------------------------------------------------

KIT = module("audit").kit


def same_state(a, b, initial) -> bool:
    ids = record_ids(initial.model_dump(mode="json"), SUITE.generated_ids)
    return compare_states(
        a.model_dump(mode="json"), b.model_dump(mode="json"), ids, SUITE.generated_ids
    ).same


def undo_restores(state, call: ToolCall) -> ToolCall | None:
    """Run ``call`` on ``state``, then the kit's undo: it must restore ``state`` exactly."""
    outcome, changed = SUITE.execute(state, call)
    assert outcome.ok, outcome.error
    reverse = KIT.undo(call, outcome, state)
    if reverse is None:
        return None
    undone_outcome, undone = SUITE.execute(changed, reverse)
    assert undone_outcome.ok, (reverse, undone_outcome.error)
    assert same_state(undone, state, state), (call, reverse)
    assert not same_state(changed, state, state) or call.name == "make_dir", call
    return reverse


def test_undo_reverses_every_gold_write_of_the_hand_tasks() -> None:
    undone = 0
    for task in ALL_HAND:
        state = SUITE.initial_state(task)
        for call in task.flat_gold_calls:
            outcome, after_call = SUITE.execute(state, call)
            if outcome.ok and outcome.kind is ToolKind.WRITE:
                assert undo_restores(state, call) is not None, (task.id, call)
                undone += 1
            state = after_call
    assert undone == 35


@pytest.mark.parametrize(
    ("start", "name", "arguments", "undo_name"),
    [
        (None, "write_file", {"path": "docs/guide/intro.md", "content": "# Hi\n"}, "delete"),
        (None, "write_file", {"path": "notes/new.md", "content": "x"}, "delete"),
        (None, "write_file", {"path": "./README.md", "content": "é"}, "write_file"),
        (
            None,
            "edit_file",
            {"path": "config/settings.toml", "old_string": "50", "new_string": "75"},
            "edit_file",
        ),
        (
            None,
            "edit_file",
            {
                "path": f"{PKG}/loader.py",
                "old_string": "recieve",
                "new_string": "receive",
                "replace_all": True,
            },
            "edit_file",
        ),
        (
            None,
            "edit_file",
            {"path": "notes/todo.md", "old_string": "# To do\n", "new_string": ""},
            "write_file",
        ),
        # the new text already occurs elsewhere: a reverse edit would be ambiguous
        (
            None,
            "edit_file",
            {"path": ".gitignore", "old_string": "*.pyc", "new_string": "reports/"},
            "write_file",
        ),
        (None, "move", {"source": "data/readings.csv", "destination": "data/r.csv"}, "move"),
        (None, "move", {"source": "notes/todo.md", "destination": "reports"}, "move"),
        (None, "move", {"source": "notes", "destination": "archive"}, "move"),
        (None, "move", {"source": "notes", "destination": "archive/2025"}, None),  # made 'archive'
        (
            None,
            "move",
            {"source": "notes/todo.md", "destination": "README.md", "overwrite": True},
            None,
        ),
        (None, "delete", {"path": "notes/ideas.md"}, "write_file"),
        (None, "delete", {"path": "reports"}, "make_dir"),
        (None, "delete", {"path": "notes", "recursive": True}, None),
        (("make_dir", {"path": "x/y/z"}), "delete", {"path": "x", "recursive": True}, "make_dir"),
        (
            ("write_file", {"path": "x/y/z.txt", "content": "hi"}),
            "delete",
            {"path": "x", "recursive": True},
            "write_file",
        ),
        (None, "make_dir", {"path": "a/b/c"}, "delete"),
        (None, "make_dir", {"path": "reports/2026"}, "delete"),
        (None, "make_dir", {"path": "src"}, None),  # already there: nothing to undo
    ],
)
def test_undo_restores_the_state_exactly(start, name, arguments, undo_name) -> None:
    state = SUITE.make_state(0) if start is None else after(start[0], None, **start[1])
    reverse = undo_restores(state, ToolCall(name=name, arguments=arguments))
    assert (reverse.name if reverse else None) == undo_name, reverse


def test_undo_gives_none_for_failed_calls() -> None:
    state = SUITE.make_state(0)
    call = ToolCall(name="delete", arguments={"path": "nope.txt"})
    outcome, _ = SUITE.execute(state, call)
    assert KIT.undo(call, outcome, state) is None


def assert_same_effect(state, call: ToolCall, other: ToolCall) -> None:
    (out_a, after_a), (out_b, after_b) = SUITE.execute(state, call), SUITE.execute(state, other)
    assert (out_a.error, out_a.result) == (out_b.error, out_b.result), (call, other)
    assert same_state(after_a, after_b, state), (call, other)


def test_respell_keeps_the_effect_and_result_of_every_gold_call() -> None:
    tasks = [*ALL_HAND, *SUITE.generate_tasks("train", 200, 3)]
    respelled, kept = 0, []
    for task in tasks:
        state = SUITE.initial_state(task)
        for call in task.flat_gold_calls:
            other = KIT.respell(call, state)
            if other is None:
                kept.append(call)
            else:
                assert other != call
                assert_same_effect(state, call, other)
                respelled += 1
            _, state = SUITE.execute(state, call)
    # only writes outside the workspace (no optional argument, the error quotes the path) stay
    assert all(
        c.name == "write_file" and not SUITE.execute(SUITE.make_state(0), c)[0].ok for c in kept
    )
    assert respelled > 300


@pytest.mark.parametrize(
    ("name", "arguments", "respelled"),
    [
        ("read_file", {"path": "README.md"}, {"path": "./README.md", "start_line": 1}),
        (
            "grep",
            {"pattern": "TODO", "path": "src"},
            {"pattern": "TODO", "path": "./src", "regex": False, "ignore_case": False, "limit": 20},
        ),
        ("list_dir", {}, {"path": ".", "recursive": False, "limit": 50}),
        (  # fails: the error names the normalised path, so it is the same
            "move",
            {"source": "a.txt", "destination": "b.txt"},
            {"source": "./a.txt", "destination": "./b.txt", "overwrite": False},
        ),
        (
            "move",
            {"source": "notes/todo.md", "destination": "README.md"},
            {"source": "./notes/todo.md", "destination": "./README.md", "overwrite": False},
        ),
        ("read_file", {"path": "/etc/passwd"}, {"path": "/etc/passwd", "start_line": 1}),
        # the error quotes the path as written, and write_file has no optional argument
        ("write_file", {"path": "../hello.txt", "content": "hello"}, None),
        ("make_dir", {"path": "archive/2025"}, {"path": "./archive/2025"}),
    ],
)
def test_respell_examples(name: str, arguments: dict, respelled: dict | None) -> None:
    state = SUITE.make_state(0)
    call = ToolCall(name=name, arguments=arguments)
    other = KIT.respell(call, state)
    if respelled is None:
        assert other is None, other
    else:
        assert other == ToolCall(name=name, arguments=respelled)
        assert_same_effect(state, call, other)


# --- generator -----------------------------------------------------------------------------------


def signature(task) -> str:
    return json.dumps([task.instruction, [[c.model_dump() for c in s] for s in task.step_calls]])


@pytest.fixture(scope="module")
def generated():
    start = time.perf_counter()
    train = SUITE.generate_tasks("train", 2000, 0)
    seconds = time.perf_counter() - start
    return {"train": train, "test": SUITE.generate_tasks("test", 300, 0), "seconds": seconds}


def test_generator_is_deterministic_and_fast(generated) -> None:
    again = SUITE.generate_tasks("train", 40, 0)
    assert [t.model_dump() for t in again] == [t.model_dump() for t in generated["train"][:40]]
    assert generated["seconds"] < 30, generated["seconds"]
    assert generated["train"][7].id == "files-gen-train-0-7"


def test_generator_makes_2000_distinct_train_tasks_disjoint_from_test(generated) -> None:
    train = {signature(t) for t in generated["train"]}
    assert len(train) == 2000
    assert not train & {signature(t) for t in generated["test"]}
    other_train = {signature(t) for t in SUITE.generate_tasks("train", 200, 1)}
    other_test = {signature(t) for t in SUITE.generate_tasks("test", 60, 1)}
    assert not other_train & other_test
    assert len({t.world_seed for t in generated["train"]}) > 1500


def test_generator_covers_every_category(generated) -> None:
    counts = Counter(c for t in generated["train"] for c in t.categories)
    assert all(counts[c] >= 20 for c in CATEGORIES), counts
    assert all(counts[c] >= 1 for c in CATEGORIES for t in [generated["test"]])


def test_generator_rejects_unknown_split() -> None:
    with pytest.raises(ValueError, match="split"):
        SUITE.generate_tasks("dev", 3, 0)


def test_generated_gold_replays(generated) -> None:
    sample = generated["train"][::10] + generated["test"][::3]
    for task in sample:
        check_gold(task)


def test_oracle_scores_the_maximum_on_generated_tasks(generated, tmp_path) -> None:
    sample = generated["train"][::20] + generated["test"][::6]
    write_tasks(tmp_path / "gen.jsonl", sample)
    assert load_tasks(tmp_path / "gen.jsonl") == sample
    env = ToolEnv(SUITE, sample)
    for task in sample:
        result = play(env, OraclePolicy(), task_id=task.id, seed=0)
        assert result.components["completion"] == 1.0, (task.id, result.components)


def test_generated_tasks_state_facts_and_forbid_false_claims(generated) -> None:
    tasks = generated["train"] + generated["test"]
    kinds = Counter(
        (r.kind, bool(r.subjects)) for t in tasks for r in t.required_outputs if isinstance(r, Fact)
    )
    assert kinds[("number", False)] > 50 and kinds[("number", True)] > 100, kinds
    assert kinds[("text", True)] > 100, kinds  # first lines, bound to their files
    for task in tasks:
        claims = {f.claim for f in task.forbidden if isinstance(f, Claim)}
        if "error" in task.categories:
            assert "success" in claims, task.id
            wrong = task.answer() + " Done: it went through successfully."
            assert not check_answer(wrong, task.required_outputs, task.forbidden).passed, task.id


def test_generated_paired_answers_fail_when_swapped(generated) -> None:
    """Line counts and first lines of two files are bound to their files: swapping them fails."""
    swapped = 0
    for task in generated["train"]:
        facts = [r for r in task.required_outputs if isinstance(r, Fact) and r.subjects]
        if len(facts) != 2 or facts[0].value == facts[1].value:
            continue
        a, b = facts
        for answer, passes in [
            (f"{a.subjects[0]}: {a.value}. {b.subjects[-1]}: {b.value}.", True),
            (f"{a.subjects[-1]}: {b.value}. {b.subjects[0]}: {a.value}.", False),
        ]:
            check = check_answer(answer, task.required_outputs, task.forbidden)
            assert check.passed is passes, (task.id, answer, check.failures)
        swapped += 1
    assert swapped > 100


@pytest.mark.parametrize("name", ["paths", "patterns", "read_tools", "generate.templates_queries"])
def test_doctests(name: str) -> None:
    import doctest

    failed, attempted = doctest.testmod(module(name))
    assert attempted > 0 and failed == 0
