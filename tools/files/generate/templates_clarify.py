"""Task templates whose instruction leaves out a detail the user reveals only when asked."""

from __future__ import annotations

import random

from toolgym import HiddenFact
from toolgym.generation import Draft

from .helpers import World, call, number, path_fact, text
from .templates_queries import CONFIG, config_value

KEY_RENAMES = {
    "title": ("report_title", "heading"),
    "output_dir": ("out_dir", "output_folder"),
    "max_rows": ("row_limit", "max_lines"),
    "source": ("input_file", "data_file"),
    "date_format": ("date_pattern", "day_format"),
    "timezone": ("tz", "time_zone"),
}
MORE_TIMEZONES = ("Europe/Berlin", "Europe/Paris", "Europe/London", "America/New_York", "UTC")


def rename_key(rng: random.Random, w: World) -> Draft:
    """Rename a config key; which key and its new name are hidden."""
    key = rng.choice(list(KEY_RENAMES))
    new = rng.choice(KEY_RENAMES[key])
    ask = rng.choice(
        [
            "Please rename a key in config/settings.toml.",
            "I'd like to rename one of the settings in the config file.",
        ]
    )
    return Draft(
        ask,
        [
            [call("read_file", path=CONFIG)],
            [call("edit_file", path=CONFIG, old_string=f"{key} =", new_string=f"{new} =")],
        ],
        [text(new)],
        f"Renamed the key {key} to {new} in config/settings.toml; its value is unchanged.",
        ["clarify", "multi"],
        [
            HiddenFact(
                before_step=1,
                keywords=["key", "which", "setting", "new name"],
                question="Which key should I rename, and what should its new name be?",
                answer=f"Rename {key} to {new}.",
            )
        ],
    )


def change_timezone(rng: random.Random, w: World) -> Draft | None:
    """Change the configured timezone; the new one is hidden."""
    current = config_value(w.state.files[CONFIG], "timezone")
    new = rng.choice(MORE_TIMEZONES)
    if new == current:
        return None
    return Draft(
        rng.choice(["Please update the timezone in the config.", "Change the config's timezone."]),
        [
            [call("read_file", path=CONFIG)],
            [
                call(
                    "edit_file",
                    path=CONFIG,
                    old_string=f'timezone = "{current}"',
                    new_string=f'timezone = "{new}"',
                )
            ],
        ],
        [text(new, *([new.rsplit("/", 1)[1].replace("_", " ")] if "/" in new else []))],
        f"Changed the timezone in config/settings.toml from {current} to {new}.",
        ["clarify", "multi"],
        [
            HiddenFact(
                before_step=1,
                keywords=["timezone", "which", "what"],
                question="Which timezone should the config use?",
                answer=f"{new}.",
            )
        ],
    )


def change_limit(rng: random.Random, w: World) -> Draft | None:
    """Change max_rows in the config; the new value is hidden."""
    current = config_value(w.state.files[CONFIG], "max_rows")
    new = str(rng.choice([10, 25, 75, 100, 250, 500, 1000]))
    if new == current:
        return None
    return Draft(
        "Change the max_rows limit in the config.",
        [
            [call("read_file", path=CONFIG)],
            [
                call(
                    "edit_file",
                    path=CONFIG,
                    old_string=f"max_rows = {current}",
                    new_string=f"max_rows = {new}",
                )
            ],
        ],
        [number(int(new))],
        f"Changed max_rows in config/settings.toml from {current} to {new}.",
        ["clarify", "multi"],
        [
            HiddenFact(
                before_step=1,
                keywords=["value", "what", "how many", "number"],
                question="What value should max_rows have?",
                answer=f"Set it to {new}.",
            )
        ],
    )


def delete_meeting(rng: random.Random, w: World) -> Draft | None:
    """Delete one of several meeting notes; which one is hidden."""
    meetings = [m.day for m in w.params.meetings]
    if len(meetings) < 2:
        return None
    day = rng.choice(meetings)
    path = f"notes/meeting-{day}.md"
    return Draft(
        rng.choice(["Delete my meeting notes file, please.", "Remove one of my meeting notes."]),
        [[call("list_dir", path="notes")], [call("delete", path=path)]],
        [text(path, f"meeting-{day}.md", f"meeting-{day}")],
        f"Deleted {path}; the other meeting notes are untouched.",
        ["clarify", "multi"],
        [
            HiddenFact(
                before_step=1,
                keywords=["which", "meeting", "date"],
                question=f"Which meeting notes should I delete ({', '.join(meetings)})?",
                answer=f"The one from {day}.",
            )
        ],
    )


def rename_data_file(rng: random.Random, w: World) -> Draft:
    """Rename the CSV data file; the new name is hidden."""
    source = w.params.theme.csv_path
    target = f"data/{rng.choice(['export', 'records', 'history', 'latest'])}-{rng.randint(2024, 2027)}.csv"
    return Draft(
        "Rename the CSV data file, please.",
        [[call("find_files", name="*.csv")], [call("move", source=source, destination=target)]],
        [path_fact(target, w.paths())],
        f"Renamed {source} to {target}.",
        ["clarify", "multi"],
        [
            HiddenFact(
                before_step=1,
                keywords=["name", "call"],
                question="What should the new file name be?",
                answer=f"Call it {target}.",
            )
        ],
    )
