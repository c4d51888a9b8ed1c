"""Task templates that only look at the workspace: counts, lookups, parallel reads, refusals.

Each template takes the generator's random stream and a :class:`World` and returns a
:class:`Draft`, or None when the world does not suit it. Answers are computed by running the gold
READ calls on the world, so they are right by construction.
"""

from __future__ import annotations

import random

from toolgym.generation import Draft

from ..themes import PEOPLE
from .helpers import (
    CANT,
    MISSING_FACT,
    NOT_FOUND,
    OUTSIDE_FACT,
    SUCCESS,
    World,
    call,
    number,
    path_fact,
    path_spellings,
    text,
)

CONFIG = "config/settings.toml"

NoCall = tuple[str, list[str | list[str]], str]
"""(instruction, required outputs, gold answer) of a request that needs no tool."""


def config_value(text: str, key: str) -> str:
    """The value of ``key`` in a settings file such as ``key = "value"`` (quotes removed)."""
    for line in text.splitlines():
        name, _, value = line.partition(" = ")
        if name == key:
            return value.strip('"')
    raise KeyError(key)


def count_todos(rng: random.Random, w: World) -> Draft:
    """How many TODO comments are there under a folder (single grep)."""
    folder, where = rng.choice(
        [
            ("src", "under src/"),
            (w.pkg, f"in the {w.params.theme.package} package"),
            ("tests", "in the tests folder"),
            (".", "in the whole workspace"),
        ]
    )
    ask = rng.choice(["How many TODO comments are there {}?", "Count the TODO comments {}."])
    result = w.read("grep", pattern="TODO", path=folder)
    n = result["total_matches"]
    files = sorted({m.split(":")[0] for m in result["matches"]})
    answer = f"There are {n} TODO comments {where}" + (
        f", in {', '.join(files)}." if files else "."
    )
    return Draft(
        ask.format(where),
        [[call("grep", pattern="TODO", path=folder)]],
        [number(n)] if n else [["0", "no TODO", "none"]],
        answer,
        ["single"],
        # "I found no TODO comments" is the right answer when there are none
        forbidden=[NOT_FOUND] if n else [],
    )


def setting(rng: random.Random, w: World) -> Draft:
    """What is a key set to in the config (single read)."""
    key = rng.choice(["title", "output_dir", "max_rows", "source", "date_format", "timezone"])
    value = config_value(w.state.files[CONFIG], key)
    ask = rng.choice(
        ["What is {} set to in config/settings.toml?", "Look up the {} setting in the config."]
    )
    return Draft(
        ask.format(key),
        [[call("read_file", path=CONFIG)]],
        [_setting_fact(key, value, w.paths())],
        f"In config/settings.toml, {key} is {value}.",
        ["single"],
        forbidden=[NOT_FOUND],
    )


def _setting_fact(key: str, value: str, paths: list[str]):
    """The fact a config value states: a number, a path, a timezone (or its city), or text."""
    if key == "max_rows":
        return number(int(value))
    if key == "source":
        return path_fact(value, paths)
    if key == "timezone" and "/" in value:
        return text(value, value.rsplit("/", 1)[1].replace("_", " "))
    return text(value)


def version(rng: random.Random, w: World) -> Draft:
    """Which version does the package declare (single read)."""
    path = f"{w.pkg}/__init__.py"
    value = w.state.files[path].split('__version__ = "')[1].split('"')[0]
    ask = rng.choice(["What version does {} declare?", "Which __version__ is set in {}?"]).format(
        path
    )
    return Draft(
        ask,
        [[call("read_file", path=path)]],
        [text(value)],
        f'{path} sets __version__ = "{value}".',
        ["single"],
        forbidden=[NOT_FOUND],
    )


def csv_mentions(rng: random.Random, w: World) -> Draft:
    """How many CSV rows mention a name (single grep)."""
    theme = w.params.theme
    name = rng.choice(theme.groups)
    n = w.read("grep", pattern=name, path=theme.csv_path)["total_matches"]
    return Draft(
        f"How many rows of {theme.csv_path} mention {name}?",
        [[call("grep", pattern=name, path=theme.csv_path)]],
        [number(n)] if n else [["0", "no rows", "none"]],
        f"{n} rows of {theme.csv_path} mention {name}.",
        ["single"],
        forbidden=[NOT_FOUND] if n else [],
    )


def definition(rng: random.Random, w: World) -> Draft:
    """Where is a function defined (single grep)."""
    p = w.params
    fn = rng.choice([p.date_fn, p.theme.loader, p.theme.summary, "format_date", "week_start"])
    match = w.read("grep", pattern=f"def {fn}(")["matches"][0]
    path, line, _ = match.split(":", 2)
    return Draft(
        rng.choice(["Which file defines {}, and on which line?", "Where is {} defined?"]).format(
            fn
        ),
        [[call("grep", pattern=f"def {fn}(")]],
        [path_fact(path, w.paths()), number(int(line))],
        f"{fn} is defined in {path} on line {line}.",
        ["single"],
        forbidden=[NOT_FOUND],
    )


def find_by_extension(rng: random.Random, w: World) -> Draft:
    """Which files of one type are in a folder (single find_files)."""
    ext = rng.choice(["py", "md", "csv", "toml"])
    folder = rng.choice([".", "src", "tests", "notes", "data"])
    found = w.read("find_files", name=f"*.{ext}", path=folder)["entries"]
    where = "the workspace" if folder == "." else f"{folder}/"
    names = [e["path"] for e in found]
    answer = (
        f"The .{ext} files in {where}: {', '.join(names)}."
        if names
        else (f"There are no .{ext} files in {where}.")
    )
    required: list = [path_fact(n, w.paths()) for n in names] or [["no ", "none", "0"]]
    return Draft(
        f"Which .{ext} files are there in {where}?",
        [[call("find_files", name=f"*.{ext}", path=folder)]],
        required,
        answer,
        ["single"],
        forbidden=[NOT_FOUND] if names else [],  # "I found no .toml files" may be right
    )


def _two_files(rng: random.Random, w: World) -> tuple[str, str]:
    first, second = rng.sample(w.files(), 2)
    return first, second


def parallel_line_counts(rng: random.Random, w: World) -> Draft:
    """How many lines do two files have (two independent reads in one step)."""
    a, b = _two_files(rng, w)
    la, lb = w.lines(a), w.lines(b)
    return Draft(
        f"How many lines do {a} and {b} each have?",
        [[call("read_file", path=a), call("read_file", path=b)]],
        [number(la, path_spellings(a, w.paths())), number(lb, path_spellings(b, w.paths()))],
        f"{a} has {la} lines and {b} has {lb} lines.",
        ["parallel"],
        forbidden=[NOT_FOUND],
    )


def parallel_first_lines(rng: random.Random, w: World) -> Draft:
    """What is the first line of two files (two independent reads in one step)."""
    a, b = _two_files(rng, w)
    fa, fb = (w.state.files[p].split("\n", 1)[0].strip() for p in (a, b))
    return Draft(
        f"What is the first line of {a} and of {b}?",
        [[call("read_file", path=a, end_line=1), call("read_file", path=b, end_line=1)]],
        [
            text(_gist(fa), subject=path_spellings(a, w.paths()), distractors=(_gist(fb),)),
            text(_gist(fb), subject=path_spellings(b, w.paths()), distractors=(_gist(fa),)),
        ],
        f"The first line of {a} is `{fa}`, and of {b} it is `{fb}`.",
        ["parallel"],
        forbidden=[NOT_FOUND],
    )


def _gist(line: str) -> str:
    """A line without a markdown '#' or the quotes of a docstring (what an answer must quote).

    >>> _gist("# To do"), _gist('"Read runs."'), _gist("date,km")
    ('To do', 'Read runs.', 'date,km')
    """
    return line.lstrip("#").strip().strip('"').strip() or line


NO_CALL: tuple[NoCall, ...] = (
    (
        "Can you run the test suite and tell me if it passes?",
        [CANT],
        "I can't run programs or tests here; I can only read, search and edit files in the workspace.",
    ),
    (
        "Please push my changes to GitHub.",
        [CANT],
        "I can't push to GitHub: I have no git or internet access, only the workspace files.",
    ),
    (
        "Can you install the requests package for me?",
        [CANT],
        "I can't install packages; I can only work with the files in this workspace.",
    ),
    (
        "Open the project's website and check whether it is up.",
        [CANT],
        "I can't reach the internet; I can only work with the files in this workspace.",
    ),
    (
        "Thanks, that's everything for now!",
        [["welcome", "glad", "happy to help"]],
        "You're welcome! Let me know if you need anything else.",
    ),
    (
        "Hello! What can you do for me?",
        ["files"],
        "Hi! I can list, read, search, create, edit, move and delete files in this workspace.",
    ),
    (
        "In general, what is a .gitignore file for?",
        [["ignore", "untracked"]],
        "A .gitignore file lists patterns of files that git should ignore, such as build output.",
    ),
    ("What does the acronym CSV stand for?", ["comma"], "CSV stands for comma-separated values."),
    (
        "Is TOML or YAML better for config files, in your opinion? Just a quick take.",
        ["TOML"],
        "Both work; TOML is simpler and less ambiguous, YAML is more expressive.",
    ),
    (
        "Send the weekly report by email to the team.",
        [CANT],
        "I can't send email; I can only work with the files in this workspace.",
    ),
)


PERSONAL_NO_CALL: tuple[NoCall, ...] = (
    (
        "Can you run the {package} tests and tell me whether they pass?",
        [CANT],
        "I can't run programs or tests; I can only read, search and edit the workspace files.",
    ),
    (
        "Please deploy {package} to the production server.",
        [CANT],
        "I can't deploy anything; I only have access to the files in this workspace.",
    ),
    (
        "Email the weekly {metric} report to {person}.",
        [CANT],
        "I can't send email; I can only work with the files in this workspace.",
    ),
    (
        "Could you ask {person} whether the next meeting is still on?",
        [CANT],
        "I can't contact people; I can only work with the files in this workspace.",
    ),
    (
        "Install {dependency} into the {package} virtual environment, please.",
        [CANT],
        "I can't install packages; I can only work with the files in this workspace.",
    ),
    (
        "Thanks for the help with {package}, {person} will be happy!",
        [["welcome", "glad"]],
        "You're welcome, glad I could help!",
    ),
)


def no_call(rng: random.Random, w: World) -> Draft:
    """Chit-chat, general knowledge or a request outside the suite: no tool call."""
    if rng.random() < 0.3:
        instruction, required, answer = rng.choice(NO_CALL)
        return Draft(
            instruction, [], required, answer, ["no_call"], forbidden=_no_call_claims(required)
        )
    template, required, answer = rng.choice(PERSONAL_NO_CALL)
    instruction = template.format(
        package=w.params.theme.package,
        metric=w.params.theme.metric,
        person=rng.choice(PEOPLE),
        dependency=rng.choice(["requests", "pandas", "numpy", "pytest-cov", "rich"]),
    )
    return Draft(
        instruction, [], required, answer, ["no_call"], forbidden=_no_call_claims(required)
    )


def _no_call_claims(required: list[str | list[str]]) -> list:
    """A refusal must not claim it was done; a question must not be given up on; thanks: none."""
    if required == [CANT]:
        return [SUCCESS]
    if required and isinstance(required[0], list) and "welcome" in required[0]:
        return []
    return [NOT_FOUND]


OUTSIDE_PATHS = (
    "/etc/passwd",
    "/etc/hosts",
    "/root/.ssh/id_rsa",
    "/home/dana/.bashrc",
    "../secrets.env",
    "../../etc/shadow",
    "src/../../config.toml",
    "/var/log/syslog",
    "../other-project/README.md",
)


def read_outside(rng: random.Random, w: World) -> Draft:
    """Read a path outside the workspace: the call fails and the agent explains why."""
    path = rng.choice(OUTSIDE_PATHS)
    ask = rng.choice(["Show me the contents of {}.", "Read {} for me, please."]).format(path)
    return Draft(
        ask,
        [[call("read_file", path=path)]],
        [OUTSIDE_FACT],
        f"I can't read {path}: it is outside the workspace (absolute paths and '..' above the "
        "root are not allowed).",
        ["error"],
    )


def read_missing(rng: random.Random, w: World) -> Draft | None:
    """Read a file that does not exist: the call fails and the agent says so."""
    path = rng.choice(
        [
            "CHANGELOG.md",
            "docs/setup.md",
            "config/settings.yaml",
            f"{w.pkg}/utils.py",
            "notes/meeting-2026-04-01.md",
            "data/archive.csv",
            "tests/test_report.py",
        ]
    )
    if w.state.is_file(path):
        return None
    return Draft(
        f"What does {path} say?",
        [[call("read_file", path=path)]],
        [MISSING_FACT],
        f"There is no file {path} in the workspace, so there is nothing to read.",
        ["error"],
    )
