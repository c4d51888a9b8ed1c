"""The text of every file in a seeded workspace, rendered from the world's parameters."""

from __future__ import annotations

from dataclasses import dataclass

from .themes import Theme

TODO_TEXTS = {
    "format": "# TODO: support other output formats",
    "header": "# TODO: check the CSV header before reading rows",
    "validate": "# TODO: validate the payload fields",
    "skip": "# TODO: skip rows with a missing value",
    "cli": "# TODO: add a --since option",
    "test": "# TODO: cover payloads with missing fields",
}
"""TODO comments a world may contain, by site; all but 'test' are under src/."""


@dataclass(frozen=True)
class Meeting:
    """One meeting note: its date, who came, what was said, what was decided."""

    day: str
    people: tuple[str, ...]
    points: tuple[str, ...]
    decision: str


@dataclass(frozen=True)
class WorldParams:
    """Everything that varies between seeded workspaces."""

    seed: int
    theme: Theme
    date_fn: str
    typo_sites: tuple[str, ...]
    todo_sites: tuple[str, ...]
    max_rows: int
    timezone: str
    version: str
    report_title: str
    meetings: tuple[Meeting, ...]
    todo_items: tuple[tuple[str, bool], ...]
    ideas: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def package_dir(self) -> str:
        """Folder of the Python package, such as 'src/weatherlog'."""
        return f"src/{self.theme.package}"

    def spelling(self, site: str) -> str:
        """'recieve' where the world has the typo at ``site``, else 'receive'."""
        return "recieve" if site in self.typo_sites else "receive"

    def todo(self, site: str, indent: str = "    ") -> str:
        """The TODO comment line for ``site`` (with newline), or '' when absent."""
        return f"{indent}{TODO_TEXTS[site]}\n" if site in self.todo_sites else ""


def render(p: WorldParams) -> dict[str, str]:
    """Every file of the world, by path."""
    t, pkg = p.theme, p.package_dir
    files = {
        "README.md": readme(p),
        ".gitignore": "__pycache__/\n*.pyc\nreports/\n",
        "config/settings.toml": settings(p),
        f"{pkg}/__init__.py": f'"""{t.package}: {t.blurb}"""\n\n__version__ = "{p.version}"\n',
        f"{pkg}/dates.py": dates_py(p),
        f"{pkg}/loader.py": loader_py(p),
        f"{pkg}/report.py": report_py(p),
        "tests/test_dates.py": test_dates_py(p),
        "tests/test_loader.py": test_loader_py(p),
        "notes/todo.md": todo_md(p),
        t.csv_path: ",".join(t.header) + "\n" + "".join(",".join(r) + "\n" for r in p.rows),
    }
    for meeting in p.meetings:
        files[f"notes/meeting-{meeting.day}.md"] = meeting_md(p, meeting)
    if p.ideas:
        files["notes/ideas.md"] = "# Ideas\n\n" + "".join(f"- {idea}\n" for idea in p.ideas)
    return files


def readme(p: WorldParams) -> str:
    """README.md."""
    t = p.theme
    return (
        f"# {t.title}\n\n{t.blurb}\n\n## Usage\n\n"
        f"    python -m {t.package}.report {t.csv_path}\n\n"
        "Settings live in `config/settings.toml`; run the tests with `pytest`.\n\n"
        f"## Data\n\nEvery {t.noun} we {p.spelling('readme')} is checked before it is stored.\n"
    )


def settings(p: WorldParams) -> str:
    """config/settings.toml."""
    return (
        f'[report]\ntitle = "{p.report_title}"\noutput_dir = "reports"\nmax_rows = {p.max_rows}\n\n'
        f'[data]\nsource = "{p.theme.csv_path}"\ndate_format = "%Y-%m-%d"\n'
        f'timezone = "{p.timezone}"\n'
    )


def dates_py(p: WorldParams) -> str:
    """src/<package>/dates.py."""
    return (
        f'"""Date helpers used across {p.theme.package}."""\n\n'
        "from datetime import datetime\n\n"
        'DATE_FORMAT = "%Y-%m-%d"\n\n\n'
        f"def {p.date_fn}(text):\n"
        '    """Turn a \'YYYY-MM-DD\' string into a date."""\n'
        "    return datetime.strptime(text.strip(), DATE_FORMAT).date()\n\n\n"
        "def format_date(day):\n"
        '    """Turn a date back into \'YYYY-MM-DD\'."""\n'
        f"{p.todo('format')}"
        "    return day.strftime(DATE_FORMAT)\n\n\n"
        "def week_start(day):\n"
        '    """The Monday of the week that holds day."""\n'
        "    return day.fromordinal(day.toordinal() - day.weekday())\n"
    )


def loader_py(p: WorldParams) -> str:
    """src/<package>/loader.py (the upload function's name carries the 'code' typo)."""
    t, code = p.theme, p.spelling("code")
    return (
        f'"""Read {t.noun}s from CSV files."""\n\n'
        "import csv\n\n"
        f"from .dates import {p.date_fn}\n\n\n"
        f"def {t.loader}(path):\n"
        '    """Load every row of the CSV file at path as a dict."""\n'
        f"{p.todo('header')}"
        "    rows = []\n"
        '    with open(path, newline="") as handle:\n'
        "        for row in csv.DictReader(handle):\n"
        f'            row["date"] = {p.date_fn}(row["date"])\n'
        "            rows.append(row)\n"
        "    return rows\n\n\n"
        f"def {code}_upload(payload):\n"
        f'    """Store a {t.noun} that we {code} from {t.partner}."""\n'
        f"{p.todo('validate')}"
        "    return dict(payload)\n"
    )


def report_py(p: WorldParams) -> str:
    """src/<package>/report.py."""
    t = p.theme
    return (
        '"""Summaries for the weekly report."""\n\n'
        "from collections import defaultdict\n\n"
        f"from .dates import {p.date_fn}, week_start\n"
        f"from .loader import {t.loader}\n\n\n"
        f"def {t.summary}(rows):\n"
        f'    """Total {t.metric} per week, keyed by the Monday of each week."""\n'
        "    totals = defaultdict(float)\n"
        "    for row in rows:\n"
        f"{p.todo('skip', '        ')}"
        f'        totals[week_start(row["date"])] += float(row["{t.metric_column}"])\n'
        "    return dict(totals)\n\n\n"
        "def since(rows, first_day):\n"
        '    """Rows on or after first_day (\'YYYY-MM-DD\')."""\n'
        f"    # Rows we {p.spelling('report')} late still count for their own week.\n"
        f"    start = {p.date_fn}(first_day)\n"
        '    return [row for row in rows if row["date"] >= start]\n\n\n'
        "def main(path):\n"
        '    """Print the weekly totals for the CSV file at path."""\n'
        f"{p.todo('cli')}"
        f"    for week, total in sorted({t.summary}({t.loader}(path)).items()):\n"
        "        print(week, round(total, 1))\n"
    )


def test_dates_py(p: WorldParams) -> str:
    """tests/test_dates.py (test names never contain the date function's name)."""
    return (
        "from datetime import date\n\n"
        f"from {p.theme.package}.dates import {p.date_fn}, format_date, week_start\n\n\n"
        "def test_round_trip():\n"
        f'    assert format_date({p.date_fn}("2026-03-02")) == "2026-03-02"\n\n\n'
        "def test_weeks_begin_on_monday():\n"
        "    assert week_start(date(2026, 3, 5)) == date(2026, 3, 2)\n"
    )


def test_loader_py(p: WorldParams) -> str:
    """tests/test_loader.py."""
    code = p.spelling("code")
    return (
        f"from {p.theme.package}.loader import {code}_upload\n\n\n"
        "def test_upload_copies_payload():\n"
        f"{p.todo('test')}"
        f'    assert {code}_upload({{"id": 1}}) == {{"id": 1}}\n'
    )


def todo_md(p: WorldParams) -> str:
    """notes/todo.md: a checklist."""
    items = "".join(f"- [{'x' if done else ' '}] {text}\n" for text, done in p.todo_items)
    return f"# To do\n\n{items}"


def meeting_md(p: WorldParams, meeting: Meeting) -> str:
    """notes/meeting-<date>.md (the first meeting carries the 'notes' typo site)."""
    points = "".join(f"- {point}\n" for point in meeting.points)
    extra = ""
    if meeting is p.meetings[0]:
        extra = f"- We still {p.spelling('notes')} duplicate rows from {p.theme.partner}.\n"
    return (
        f"# Meeting {meeting.day}\n\nPresent: {', '.join(meeting.people)}\n\n{points}{extra}"
        f"\nDecision: {meeting.decision}\n"
    )
