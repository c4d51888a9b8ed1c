"""Task templates that change the workspace: writes, renames, moves, deletes, and their failures.

Templates return None when the drawn parameters do not fit the world (a name already taken, a
file missing), and the generator simply draws again.
"""

from __future__ import annotations

import random

from toolgym.generation import Draft

from ..paths import basename, is_within, join, parent
from .helpers import (
    EXISTS_FACT,
    MISSING_FACT,
    OUTSIDE_FACT,
    World,
    call,
    path_fact,
    text,
)

NOTE_NAMES = ("standup", "retro", "plan", "questions", "release", "links", "decisions", "backlog")
NOTE_LINES = (
    "Review the loader TODOs",
    "Ask about the new data source",
    "Clean up old CSV files",
    "Pair on the report tests",
    "Draft the release notes",
    "Check the config defaults",
    "Book the planning meeting",
    "Update the README usage section",
)
NEW_FOLDERS = (
    "docs",
    "scripts",
    "archive",
    "archive/2025",
    "build",
    "notes/old",
    "data/raw",
    "data/processed",
    "tests/unit",
    "backup",
)
HOMES = {
    "notes": ("archive", "archive/2025", "notes/old", "backup"),
    "tests": ("tests/unit", "tests/old", "backup"),
    "data": ("data/raw", "data/processed", "archive", "backup"),
}
"""Plausible new folders for a file, by its top-level folder."""
SUFFIXES = ("old", "2026", "archive", "v2", "backup", "final")


def write_note(rng: random.Random, w: World) -> Draft | None:
    """Create a small note with exact content (single write)."""
    name, line = rng.choice(NOTE_NAMES), rng.choice(NOTE_LINES)
    path, title = f"notes/{name}.md", name.capitalize()
    if w.state.is_file(path):
        return None
    return Draft(
        f'Create {path} with exactly two lines, each ending in a newline: "# {title}" and '
        f'"- {line}".',
        [[call("write_file", path=path, content=f"# {title}\n- {line}\n")]],
        [path_fact(path, w.paths())],
        f"Created {path} with the heading and the item.",
        ["single"],
    )


def _renamed(path: str, suffix: str) -> str:
    """'data/x.csv' -> 'data/x-<suffix>.csv'."""
    stem, dot, ext = basename(path).rpartition(".")
    return join(parent(path), f"{stem}-{suffix}.{ext}" if dot else f"{basename(path)}-{suffix}")


def rename_file(rng: random.Random, w: World) -> Draft | None:
    """Rename a data file or a note (single move)."""
    source = rng.choice([w.params.theme.csv_path, *w.files("notes")])
    target = _renamed(source, rng.choice(SUFFIXES))
    if w.state.is_file(target):
        return None
    return Draft(
        f"Rename {source} to {target}. Don't change anything else.",
        [[call("move", source=source, destination=target)]],
        [path_fact(target, w.paths())],
        f"Renamed {source} to {target}.",
        ["single"],
    )


def delete_file(rng: random.Random, w: World) -> Draft:
    """Delete one named file (single delete)."""
    path = rng.choice([*w.files("notes"), *w.files("data"), *w.files("tests")])
    return Draft(
        rng.choice(["Delete {}.", "Please remove the file {}."]).format(path),
        [[call("delete", path=path)]],
        [path_fact(path, w.paths())],
        f"Deleted {path}.",
        ["single"],
    )


def parallel_deletes(rng: random.Random, w: World) -> Draft:
    """Delete two named files (two independent writes in one step)."""
    a, b = sorted(rng.sample([*w.files("notes"), *w.files("data"), ".gitignore"], 2))
    return Draft(
        f"Delete {a} and {b}.",
        [[call("delete", path=a), call("delete", path=b)]],
        [
            path_fact(a, w.paths()),
            path_fact(b, w.paths()),
        ],
        f"Deleted {a} and {b}.",
        ["parallel"],
    )


def parallel_folders(rng: random.Random, w: World) -> Draft | None:
    """Create two new folders (two independent writes in one step)."""
    a, b = sorted(rng.sample(NEW_FOLDERS, 2))
    if w.state.is_dir(a) or w.state.is_dir(b) or is_within(b, a):
        return None  # 'archive' and 'archive/2025': naming the second would state the first
    return Draft(
        f"Create two empty folders: {a} and {b}.",
        [[call("make_dir", path=a), call("make_dir", path=b)]],
        [text(a), text(b)],
        f"Created the folders {a} and {b}.",
        ["parallel"],
    )


NEW_NAMES = {
    "date": ("parse_iso_date", "parse_date_text", "date_from_string", "parse_ymd", "text_to_date"),
    "loader": ("read_rows", "load_csv", "load_records", "read_csv_rows"),
    "summary": ("sum_by_week", "weekly_totals", "totals_per_week", "summarise_weeks"),
    "format_date": ("date_to_text", "format_ymd", "render_date"),
    "week_start": ("monday_of", "start_of_week", "first_day_of_week"),
}


def rename_function(rng: random.Random, w: World) -> Draft | None:
    """Rename a function everywhere: grep its name, then edit every file that uses it."""
    p = w.params
    role = rng.choice(list(NEW_NAMES))
    old = {"date": p.date_fn, "loader": p.theme.loader, "summary": p.theme.summary}.get(role, role)
    new = rng.choice(NEW_NAMES[role])
    if any(new in text for text in w.state.files.values()):
        return None
    steps = []
    if role == "date" and rng.random() < 0.5:
        instruction = (
            f"Find the function that parses date strings (it is in {w.pkg}/dates.py) and rename "
            f"it to {new} everywhere it is used."
        )
        steps.append([call("read_file", path=f"{w.pkg}/dates.py")])
    else:
        instruction = f"Rename the function {old} to {new} everywhere it is used."
    files = sorted({m.split(":")[0] for m in w.read("grep", pattern=old, limit=500)["matches"]})
    steps.append([call("grep", pattern=old)])
    steps.append(
        [call("edit_file", path=f, old_string=old, new_string=new, replace_all=True) for f in files]
    )
    return Draft(
        instruction,
        steps,
        [text(new)],
        f"Renamed {old} to {new} in {', '.join(files)}.",
        ["multi", "dependent"],
    )


def fix_typo(rng: random.Random, w: World) -> Draft:
    """Fix 'recieve' everywhere: grep it, then edit each file (replace_all where it repeats)."""
    files = sorted(
        {m.split(":")[0] for m in w.read("grep", pattern="recieve", limit=500)["matches"]}
    )
    edits = [
        call("edit_file", path=f, old_string="recieve", new_string="receive", replace_all=True)
        if w.state.files[f].count("recieve") > 1
        else call("edit_file", path=f, old_string="recieve", new_string="receive")
        for f in files
    ]
    ask = rng.choice(
        [
            "Fix the typo 'recieve' (should be 'receive') everywhere in the workspace.",
            "'receive' is misspelled as 'recieve' in a few places. Please fix all of them.",
        ]
    )
    return Draft(
        ask,
        [[call("grep", pattern="recieve")], edits],
        [text("receive")],
        f"Replaced 'recieve' with 'receive' in {', '.join(files)}.",
        ["multi", "dependent"],
    )


def mark_done(rng: random.Random, w: World) -> Draft | None:
    """Tick an item in the todo list: read the list, then edit its line."""
    open_items = [text for text, done in w.params.todo_items if not done]
    if not open_items:
        return None
    item = rng.choice(open_items)
    return Draft(
        f"Mark '{item}' as done in my todo list.",
        [
            [call("read_file", path="notes/todo.md")],
            [
                call(
                    "edit_file",
                    path="notes/todo.md",
                    old_string=f"- [ ] {item}",
                    new_string=f"- [x] {item}",
                )
            ],
        ],
        [text("done", "checked", "ticked", "[x]", "completed")],
        f"Marked '{item}' as done ([x]) in notes/todo.md.",
        ["multi", "dependent"],
    )


def add_todo(rng: random.Random, w: World) -> Draft | None:
    """Append an unchecked item to the todo list: read it, then edit after the last line."""
    item = rng.choice(NOTE_LINES)
    todo = w.state.files["notes/todo.md"]
    if item in todo:
        return None
    last = todo.rstrip("\n").rsplit("\n", 1)[-1] + "\n"
    return Draft(
        f"Add '{item}' as a new unchecked item at the end of my todo list (notes/todo.md).",
        [
            [call("read_file", path="notes/todo.md")],
            [
                call(
                    "edit_file",
                    path="notes/todo.md",
                    old_string=last,
                    new_string=f"{last}- [ ] {item}\n",
                )
            ],
        ],
        [text(item)],
        f"Added '- [ ] {item}' at the end of notes/todo.md.",
        ["multi", "dependent"],
    )


def copy_file(rng: random.Random, w: World) -> Draft:
    """Copy a file (there is no copy tool): read it, then write its text to the new path."""
    source = rng.choice(
        [w.params.theme.csv_path, "README.md", "config/settings.toml", *w.files("notes")]
    )
    target = rng.choice([_renamed(source, "copy"), f"backup/{basename(source)}"])
    return Draft(
        f"Make a copy of {source} at {target}.",
        [
            [call("read_file", path=source)],
            [call("write_file", path=target, content=w.state.files[source])],
        ],
        [path_fact(target, w.paths())],  # not by a file name the source shares
        f"Copied {source} to {target}.",
        ["multi", "dependent"],
    )


def move_into_new_folder(rng: random.Random, w: World) -> Draft | None:
    """Create a folder, then move a file into it."""
    source = rng.choice([*w.files("notes"), *w.files("tests"), w.params.theme.csv_path])
    folder = rng.choice(HOMES[source.split("/")[0]])
    if w.state.is_dir(folder):
        return None
    target = f"{folder}/{basename(source)}"
    return Draft(
        f"Move {source} into a new folder {folder}.",
        [[call("make_dir", path=folder)], [call("move", source=source, destination=folder)]],
        [path_fact(target, w.paths())],  # not by its file name: the source's
        f"Created {folder} and moved the file there; it is now {target}.",
        ["multi"],
    )


def archive_notes(rng: random.Random, w: World) -> Draft:
    """Move every note into a new folder: list the notes, then move the folder."""
    target = rng.choice(["archive", "old-notes", "notes-2025", "archive/notes"])
    return Draft(
        f"Move all my notes into a new {target}/ folder: every file in notes/ should end up "
        f"directly in {target}/ with the same name, and no notes folder should be left.",
        [[call("list_dir", path="notes")], [call("move", source="notes", destination=target)]],
        [text(target)],
        f"Moved all {len(w.files('notes'))} notes into {target}/; notes/ is gone.",
        ["multi"],
    )


def ignore_pattern(rng: random.Random, w: World) -> Draft:
    """Add a last line to .gitignore: read it, then edit."""
    pattern = rng.choice([".venv/", "dist/", "build/", "*.log", ".env", ".coverage"])
    return Draft(
        f"Add {pattern} as a new last line of .gitignore.",
        [
            [call("read_file", path=".gitignore")],
            [
                call(
                    "edit_file",
                    path=".gitignore",
                    old_string="reports/\n",
                    new_string=f"reports/\n{pattern}\n",
                )
            ],
        ],
        [text(pattern)],
        f"Added {pattern} as the last line of .gitignore.",
        ["multi"],
    )


def move_onto_existing(rng: random.Random, w: World) -> Draft:
    """Rename a file onto another existing file: the move fails and nothing is overwritten."""
    folder = rng.choice(["notes", "tests", w.pkg])
    source, target = rng.sample(w.files(folder), 2)
    return Draft(
        f"Rename {source} to {target}.",
        [[call("move", source=source, destination=target)]],
        [EXISTS_FACT],
        f"I didn't rename {source}: {target} already exists, and I won't overwrite it without "
        "your OK.",
        ["error"],
    )


def delete_missing(rng: random.Random, w: World) -> Draft | None:
    """Delete a file that does not exist: the call fails and the agent says so."""
    path = rng.choice(
        [
            "data/old.csv",
            "notes/draft.md",
            "tests/test_report.py",
            "TODO.txt",
            f"{w.pkg}/helpers.py",
            "config/local.toml",
            _renamed(w.params.theme.csv_path, "old"),
        ]
    )
    if w.state.is_file(path):
        return None
    return Draft(
        f"Delete {path}.",
        [[call("delete", path=path)]],
        [MISSING_FACT],
        f"There is no file {path}, so nothing was deleted.",
        ["error"],
    )


def write_outside(rng: random.Random, w: World) -> Draft:
    """Write a file outside the workspace: the call fails and the agent explains why."""
    path = rng.choice(
        [
            "../notes.txt",
            "/tmp/out.txt",
            "../../backup.md",
            "/etc/cron.d/report",
            "data/../../dump.csv",
        ]
    )
    line = rng.choice(NOTE_LINES)
    return Draft(
        f"Save the text '{line}' to {path}.",
        [[call("write_file", path=path, content=line)]],
        [OUTSIDE_FACT],
        f"I can't write {path}: it is outside the workspace. I can save it inside the workspace "
        "instead.",
        ["error"],
    )


def delete_if_empty(rng: random.Random, w: World) -> Draft:
    """Delete a folder only if empty: the non-recursive delete fails because it has files."""
    folder = rng.choice(["notes", "tests", "data", "config"])
    return Draft(
        f"Delete the {folder} folder, but only if it is empty.",
        [[call("delete", path=folder)]],
        [text("not empty", "isn't empty", "is not empty", "contains", "still has", "has files")],
        f"I left {folder}/ alone: it is not empty ({len(w.files(folder))} file(s) inside).",
        ["error"],
    )
