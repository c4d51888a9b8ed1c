"""Final answers for the audit: the task's facts said another way, and wrong look-alikes.

A *paraphrase* states every required output in a spelling other than the gold answer's (a time
as "3:00 pm", a date as "March 5, 2026", a number with other separators, hedged and rounded, or
in words) and groups bound facts by subject, one sentence each: ``"Design review: 3 pm, Birch
room."``. The wrong answers keep that shape and change one thing: two bound facts' values
swapped, one value contradicted, a success claim added to an error task's answer, a not-found
claim added to an answerable one.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence

from toolgym.answers.model import Claim, Fact, RequiredOutput
from toolgym.tasks import Task

NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()

SUCCESS_TAIL = " All done: it went through successfully and is confirmed."
NOT_FOUND_HEAD = "I couldn't find a definite answer, but here is my best guess. "


def spell(fact: Fact, rng: random.Random, id_map: Mapping[str, str]) -> str:
    """``fact``'s value in a spelling drawn from those the checker must accept."""
    value = fact.value
    if fact.kind == "number":
        return _spell_number(float(value), fact.tolerance, rng)
    if fact.kind == "time":
        return _spell_time(str(value), rng)
    if fact.kind == "date":
        return _spell_date(str(value), rng)
    if fact.kind == "id":
        return id_map.get(str(value), str(value))
    return rng.choice([str(value), *fact.alternatives])


def _spell_number(value: float, tolerance: float, rng: random.Random) -> str:
    if value != int(value):
        return f"{value:g}"
    n = int(value)
    options = [str(n), f"{n:,}"]
    if abs(n) >= 1000:
        options += [f"{n:,}".replace(",", " "), "roughly " + f"{_round_2sf(n):,}"]
    if 0 <= n <= 20:
        options.append(NUMBER_WORDS[n])
    return rng.choice(options)


def _round_2sf(n: int) -> int:
    digits = len(str(abs(n)))
    step = 10 ** max(digits - 2, 0)
    return int(round(n / step) * step)


def _spell_time(value: str, rng: random.Random) -> str:
    hour, minute = map(int, value.split(":"))
    h12 = hour % 12 or 12
    half = "am" if hour < 12 else "pm"
    options = [f"{h12}:{minute:02d} {half}", f"{h12}:{minute:02d}{half.upper()}"]
    if minute == 0:
        options.append(f"{h12} {half[0]}.m.")
    if (hour, minute) == (12, 0):
        options.append("noon")
    return rng.choice(options)


def _spell_date(value: str, rng: random.Random) -> str:
    day = dt.date.fromisoformat(value)
    month = day.strftime("%B")
    return rng.choice(
        [
            f"{month} {day.day}, {day.year}",
            f"{day.day} {month} {day.year}",
            f"{day.strftime('%A')}, {month} {day.day}",
            f"{month[:3]} {day.day}",
        ]
    )


def wrong_value(fact: Fact, rng: random.Random, pool: Sequence[str]) -> str | None:
    """A value of ``fact``'s kind that contradicts it (None when none can be made)."""
    if fact.kind == "number":
        v = float(fact.value)
        wrong = v + max(abs(v) * (0.3 + fact.tolerance), 7.0)
        return f"{int(wrong)}" if wrong == int(wrong) else f"{wrong:g}"
    if fact.kind == "time":
        hour, minute = map(int, str(fact.value).split(":"))
        return f"{(hour + 2) % 24:02d}:{minute:02d}"
    if fact.kind == "date":
        return (dt.date.fromisoformat(str(fact.value)) + dt.timedelta(days=2)).isoformat()
    spellings = {s.lower() for s in [str(fact.value), *fact.alternatives]}
    options = [d for d in fact.distractors] or [
        p for p in pool if p.lower() not in spellings and not any(s in p.lower() for s in spellings)
    ]
    if fact.kind == "id":
        options = [
            p for p in pool if p.lower() not in spellings and _same_shape(p, str(fact.value))
        ]
    return rng.choice(options) if options else None


def _same_shape(a: str, b: str) -> bool:
    return len(a) == len(b) and all(x.isdigit() == y.isdigit() for x, y in zip(a, b, strict=True))


def paraphrase(
    task: Task,
    rng: random.Random,
    id_map: Mapping[str, str],
    replace: Mapping[int, str] | None = None,
) -> str:
    """The required outputs, each in another spelling; ``replace`` overrides values by index."""
    replace = replace or {}
    by_subject: dict[str, list[str]] = {}
    loose: list[str] = []
    for index, item in enumerate(task.required_outputs):
        text = replace.get(index) or _spell_item(item, rng, id_map)
        if isinstance(item, Fact) and item.subjects:
            by_subject.setdefault(item.subjects[0], []).append(text)
        else:
            loose.append(text)
    sentences = [
        f"{rng.choice(_subject_spellings(task, s))}: {', '.join(v)}." for s, v in by_subject.items()
    ]
    sentences += [f"{text}." for text in loose]
    rng.shuffle(sentences)
    return "Here is the result. " + " ".join(sentences) if sentences else "Here is the result."


def _subject_spellings(task: Task, first: str) -> list[str]:
    for item in task.required_outputs:
        if isinstance(item, Fact) and item.subjects and item.subjects[0] == first:
            return item.subjects
    return [first]


def _spell_item(item: RequiredOutput, rng: random.Random, id_map: Mapping[str, str]) -> str:
    if isinstance(item, Fact):
        return spell(item, rng, id_map)
    if isinstance(item, str):
        return id_map.get(item, item)
    return item[-1]


def swappable_pair(task: Task) -> tuple[int, int] | None:
    """Two bound facts of one kind with different subjects and values (None if there are none)."""
    facts = [
        (i, f) for i, f in enumerate(task.required_outputs) if isinstance(f, Fact) and f.subjects
    ]
    for a, (i, fi) in enumerate(facts):
        for j, fj in facts[a + 1 :]:
            if fi.kind == fj.kind and fi.subjects[0] != fj.subjects[0] and fi.value != fj.value:
                return i, j
    return None


def forbids(task: Task, claim: str) -> bool:
    """Whether the task forbids the claim family ``claim``."""
    return any(isinstance(f, Claim) and f.claim == claim for f in task.forbidden)
