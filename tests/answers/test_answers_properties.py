"""Property tests: every supported spelling is found, binding separates subjects, nothing raises."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from toolgym.answers import Claim, Fact, check_answer, output_holds
from toolgym.tasks import output_present

UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
HEDGES = [
    "about",
    "around",
    "roughly",
    "approximately",
    "approx.",
    "nearly",
    "almost",
    "circa",
    "some",
    "close to",
    "~",
]
GROUP_SPACES = [" ", "\u2009", "\u202f", "\u00a0"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def in_sentence(spelled: str) -> str:
    return f"The total is {spelled} in all."


def grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def round_half_up(v: int, unit: int) -> int:
    return int((Decimal(v) / unit).to_integral_value(rounding=ROUND_HALF_UP)) * unit


def number_word(n: int, joiner: str = " ") -> str:
    if n >= 100:
        hundreds, rest = divmod(n, 100)
        head = f"{UNITS[hundreds]} hundred"
        return head if rest == 0 else f"{head}{joiner}{number_word(rest)}"
    if n < 20:
        return UNITS[n]
    tens, unit = divmod(n, 10)
    return TENS[tens - 2] + ("" if unit == 0 else "-" + UNITS[unit])


# ------------------------------------------------------------------------------------ numbers
@given(
    st.integers(0, 10**9),
    st.sampled_from(["plain", "commas", "spaces"]),
    st.sampled_from(GROUP_SPACES),
    st.sampled_from(["{}", "${}", "{} USD", "{}%", "€{}"]),
)
def test_integer_in_any_spelling_is_found(v: int, style: str, sep: str, frame: str) -> None:
    digits = {"plain": str(v), "commas": f"{v:,}", "spaces": grouped(v, sep)}[style]
    answer = in_sentence(frame.format(digits))
    assert output_holds(Fact(value=v, kind="number"), answer)
    assert not output_holds(Fact(value=v + 1, kind="number"), answer)


@given(st.integers(0, 10**7), st.integers(1, 3))
def test_decimal_is_found(n: int, places: int) -> None:
    value = Decimal(n).scaleb(-places)
    answer = in_sentence(f"{value:,.{places}f}")
    assert output_holds(Fact(value=float(value), kind="number"), answer)


@given(st.integers(0, 999), st.sampled_from([" ", " and "]))
def test_number_words_are_found(n: int, joiner: str) -> None:
    answer = f"There are {number_word(n, joiner)} of them."
    assume(n != 1)  # "one of them" is a pronoun
    assert output_holds(Fact(value=n, kind="number"), answer)


@given(st.integers(1000, 10**9), st.data(), st.sampled_from(HEDGES))
def test_hedged_number_states_what_rounds_to_it(v: int, data: st.DataObject, hedge: str) -> None:
    places = data.draw(st.integers(1, len(str(v)) - 1))
    rounded = round_half_up(v, 10**places)
    assume(rounded > 0)
    spelled = f"{rounded:,}"
    answer = in_sentence(f"{hedge} {spelled}")
    assert output_holds(Fact(value=v, kind="number"), answer)
    written = str(rounded)
    precision = 10 ** (len(written) - len(written.rstrip("0")))
    outside = rounded + precision // 2 + 1  # rounds to the next step at the written precision
    assert not output_holds(Fact(value=outside, kind="number"), answer)
    assert not output_holds(Fact(value=v, kind="number"), in_sentence(spelled)) or v == rounded


@given(st.integers(10**6, 10**11), st.sampled_from(HEDGES))
def test_scale_words_carry_precision(v: int, hedge: str) -> None:
    rounded = round_half_up(v, 10**5)
    spelled = f"{Decimal(rounded).scaleb(-6):.1f} million"
    assert output_holds(Fact(value=v, kind="number"), in_sentence(f"{hedge} {spelled}"))
    assert output_holds(Fact(value=rounded, kind="number"), in_sentence(spelled))
    thousands = round_half_up(v, 10**3)
    spelled = f"{thousands // 1000:,} thousand"
    assert output_holds(Fact(value=v, kind="number"), in_sentence(f"{hedge} {spelled}"))
    assert output_holds(Fact(value=thousands, kind="number"), in_sentence(spelled))


# -------------------------------------------------------------------------------------- times
def time_spellings(hour: int, minute: int) -> list[str]:
    h12, mer = (hour % 12 or 12), ("am" if hour < 12 else "pm")
    out = [
        f"{hour:02d}:{minute:02d}",
        f"{hour}:{minute:02d}",
        f"{h12}:{minute:02d} {mer}",
        f"{h12}:{minute:02d}{mer.upper()}",
        f"{h12}:{minute:02d} {mer[0]}.m.",
        f"{h12}.{minute:02d}{mer}",
    ]
    if minute == 0:
        out += [f"{h12} {mer}", f"{h12}{mer}", f"{h12} {mer[0].upper()}.M."]
    if (hour, minute) == (12, 0):
        out += ["noon", "12 noon"]
    if (hour, minute) == (0, 0):
        out.append("midnight")
    return out


TIMES = st.tuples(st.integers(0, 23), st.integers(0, 59) | st.just(0))


@given(TIMES, TIMES, st.data())
def test_time_in_any_spelling_is_found(
    t: tuple[int, int], other: tuple[int, int], data: st.DataObject
) -> None:
    spelled = data.draw(st.sampled_from(time_spellings(*t)))
    answer = f"The meeting is at {spelled} tomorrow."
    assert output_holds(Fact(value=f"{t[0]:02d}:{t[1]:02d}", kind="time"), answer)
    assume(other != t)
    assert not output_holds(Fact(value=f"{other[0]:02d}:{other[1]:02d}", kind="time"), answer)


# -------------------------------------------------------------------------------------- dates
def ordinal(d: int) -> str:
    suffix = "th" if 10 <= d % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return f"{d}{suffix}"


def date_spellings(day: dt.date) -> list[str]:
    month = MONTHS[day.month - 1]
    short = month[:3]
    weekday = day.strftime("%A")
    d, y = day.day, day.year
    return [
        day.isoformat(),
        f"{month} {d}",
        f"{short} {d}",
        f"{short}. {d}",
        f"{month} {ordinal(d)}",
        f"{d} {month}",
        f"{ordinal(d)} of {month}",
        f"the {ordinal(d)} of {month}",
        f"{month} {d}, {y}",
        f"{month} {d} {y}",
        f"{d} {month} {y}",
        f"{d} {short} {y}",
        f"{weekday}, {month} {d}",
        f"{weekday[:3]} {d} {month} {y}",
        f"{month.upper()} {ordinal(d)}, {y}",
    ]


DATES = st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))


@given(DATES, DATES, st.data())
def test_date_in_any_spelling_is_found(day: dt.date, other: dt.date, data: st.DataObject) -> None:
    spelled = data.draw(st.sampled_from(date_spellings(day)))
    answer = f"It happens on {spelled} at the office."
    assert output_holds(Fact(value=day.isoformat(), kind="date"), answer)
    assume((other.month, other.day) != (day.month, day.day))
    assert not output_holds(Fact(value=other.isoformat(), kind="date"), answer)


# ------------------------------------------------------------------------------------ binding
SUBJECTS = [
    "standup",
    "review",
    "Harbor Inn",
    "Grand Plaza",
    "Eng leads",
    "design sync",
    "Kravamouth",
    "Lantern Lloyd",
]
TITLES = ["Ashen Tide", "The Glass River", "Fog at Lelvin", "Novane Bathhouse", "Wekek Exchange"]


@st.composite
def bound_pair(draw: st.DrawFn) -> tuple[str, tuple[object, str], tuple[object, str]]:
    """A kind and two distinct values with their spellings."""
    kind = draw(st.sampled_from(["number", "time", "date", "id", "text"]))
    if kind == "number":
        a, b = draw(st.lists(st.integers(0, 10**7), min_size=2, max_size=2, unique=True))
        return kind, (a, f"{a:,}"), (b, f"{b:,}")
    if kind == "time":
        a, b = draw(st.lists(TIMES, min_size=2, max_size=2, unique=True))
        return kind, *(
            (f"{t[0]:02d}:{t[1]:02d}", draw(st.sampled_from(time_spellings(*t)))) for t in (a, b)
        )  # type: ignore[return-value]
    if kind == "date":
        a, b = draw(st.lists(DATES, min_size=2, max_size=2, unique_by=lambda d: (d.month, d.day)))
        return kind, *((d.isoformat(), draw(st.sampled_from(date_spellings(d)))) for d in (a, b))  # type: ignore[return-value]
    if kind == "id":
        a, b = draw(st.lists(st.integers(0, 9999), min_size=2, max_size=2, unique=True))
        return kind, (f"ev-{a:04d}", f"ev-{a:04d}"), (f"ev-{b:04d}", f"ev-{b:04d}")
    a, b = draw(st.lists(st.sampled_from(TITLES), min_size=2, max_size=2, unique=True))
    return kind, (a, a), (b, b)


@given(bound_pair(), st.lists(st.sampled_from(SUBJECTS), min_size=2, max_size=2, unique=True))
def test_two_subjects_two_values_and_swapped(pair: tuple, subjects: list[str]) -> None:
    kind, (v1, r1), (v2, r2) = pair
    s1, s2 = subjects
    extra = {"distractors": [str(v2)]} if kind == "text" else {}
    f1 = Fact(value=v1, kind=kind, subject=s1, **extra)
    extra = {"distractors": [str(v1)]} if kind == "text" else {}
    f2 = Fact(value=v2, kind=kind, subject=s2, **extra)
    right = check_answer(f"{s1} {r1}. {s2} {r2}.", [f1, f2])
    assert right.passed, right.failures
    swapped = check_answer(f"{s1} {r2}. {s2} {r1}.", [f1, f2])
    assert swapped.score == 0.0, swapped.failures
    assert len(swapped.failures) == 2


# ---------------------------------------------------------------------------------- old forms
@given(st.text(max_size=60), st.text(max_size=8) | st.lists(st.text(max_size=8), max_size=3))
def test_old_forms_are_output_present(answer: str, item: str | list[str]) -> None:
    assert output_holds(item, answer) is output_present(item, answer)


# ------------------------------------------------------------------------------ never raising
FRAGMENTS = [
    "standup",
    " at ",
    "10:00",
    "-",
    "–",
    "—",
    ":",
    ".",
    ",",
    ";",
    "\n",
    " ",
    "$",
    "~",
    "roughly ",
    "332,477",
    "3.5",
    "0.3.1",
    "ev-0042",
    "BK0005",
    "March",
    " 5",
    "th",
    "2026-03-05",
    "pm",
    "a.m.",
    "noon",
    "twenty",
    "-one",
    "dozen",
    " million",
    "k",
    "not ",
    "couldn't find",
    "booked",
    "n't",
    "9",
    "99999999999999999999999999999999999999999",
    "'",
    '"',
    "(",
    ")",
    "\u2009",
    "\x00",
    "\ud800",
    "é",
    "İ",
    "ß",
    "½",
    "Harbor Inn",
    "of ",
]
FACTS = [
    Fact(value="10:00", kind="time", subject="standup"),
    Fact(value=332477, kind="number", subject=["Harbor Inn", "harbor"]),
    Fact(value=3.5, kind="number", tolerance=0.1),
    Fact(value="2026-03-05", kind="date"),
    Fact(value="ev-0042", kind="id", subject="standup"),
    Fact(value="Ashen Tide", subject="standup", distractors=["The Glass River"]),
    Fact(value="x\x00\ud800", alternatives=[""]),
    "standup",
    ["332,477", "\ud800"],
]
FORBIDDEN = [
    Claim(claim="success"),
    Claim(claim="not_found"),
    "yes",
    Fact(value=5, kind="number"),
    Fact(value="09:30", kind="time", subject="review"),
]


def check_everything(answer: str) -> None:
    check = check_answer(answer, FACTS, FORBIDDEN, id_map={"ev-0042": "ev-0043", "\ud800": ""})
    assert 0.0 <= check.score <= 1.0
    assert check.passed is (not check.failures)
    assert all(isinstance(f, str) for f in check.failures)


@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=300))
def test_any_text_never_raises(answer: str) -> None:
    check_everything(answer)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=80).map("".join))
def test_tricky_fragments_never_raise(answer: str) -> None:
    check_everything(answer)


@pytest.mark.slow
@pytest.mark.parametrize(
    "unit",
    [
        "Platform standup 09:30-09:45 (ev-0042), Harbor Inn costs roughly $332,477; I couldn't book it. ",
        "1 ",
        "9",
        "standup ",
        "\ud800\x00 ",
    ],
)
def test_a_long_answer_is_checked_without_raising(unit: str) -> None:
    answer = (unit * (200_000 // len(unit) + 1))[:200_000]
    check_everything(answer)  # bench/answer_checks.py times it
