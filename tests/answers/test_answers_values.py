"""Finding values in answers, hand-computed: numbers, times, dates, ids, text; both sides."""

import pytest

from toolgym.answers import Fact, output_holds


def number(answer: str, value: float, tolerance: float = 0.0) -> bool:
    return output_holds(Fact(value=value, kind="number", tolerance=tolerance), answer)


def time(answer: str, value: str) -> bool:
    return output_holds(Fact(value=value, kind="time"), answer)


def date(answer: str, value: str) -> bool:
    return output_holds(Fact(value=value, kind="date"), answer)


# ------------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("It has 332,477 residents.", 332477),
        ("It has 332 477 residents.", 332477),
        ("It has 332\u2009477 residents.", 332477),  # thin space
        ("It has 332\u202f477 residents.", 332477),  # narrow no-break space
        ("It has 332477 residents.", 332477),
        ("It has ３３２,４７７ residents.", 332477),  # full-width digits (NFKC)
        ("The room is $290 a night.", 290),
        ("The room is 290 USD a night.", 290),
        ("Rates rose 15% this year.", 15),
        ("The flight takes 3.5 hours.", 3.5),
        ("There are twenty-one of them.", 21),
        ("There are twenty one of them.", 21),
        ("There are seven of them.", 7),
        ("I ordered a dozen.", 12),
        ("I ordered half a dozen.", 6),
        ("It costs two hundred ninety dollars.", 290),
        ("It costs a hundred and twenty dollars.", 120),
        ("It has one hundred thousand books.", 100_000),
        ("Revenue was 1.2 million dollars.", 1_200_000),
        ("About 390 thousand", 390_000),
        ("It cost 2 billion.", 2_000_000_000),
        ("a 10k run", 10_000),
        ("raised $1.2m", 1_200_000),
        ("raised 1.2bn", 1_200_000_000),
        ("It was -5 degrees.", -5),
        ("Read pages 10-12.", 10),
        ("Read pages 10-12.", 12),
        ("a 3-night stay", 3),
        ("There are 0 rooms left.", 0),
        ("one room is free", 1),
        ("The total is 1,234.50.", 1234.5),
        ("It has 5km of trails.", 5),
        ("It was founded on March 5, 1992.", 1992),  # a written-out date's year is a number
        ("It was founded on 5 March 1992.", 1992),
    ],
)
def test_number_spellings_are_found(answer: str, value: float) -> None:
    assert number(answer, value)


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("On 2026-03-05 we meet.", 2026),
        ("On 2026-03-05 we meet.", 3),
        ("On 2026-03-05 we meet.", 5),
        ("We meet at 09:30.", 9),
        ("We meet at 09:30.", 30),
        ("We meet at 3 pm.", 3),
        ("We meet on March 5.", 5),
        ("It was founded on March 5, 1992.", 5),
        ("The event is ev-0042.", 42),
        ("The event is ev-0042.", 0),
        ("Booking BK0005 is held.", 5),
        ("Take bus H-BOS-1.", 1),
        ("Flight SJ160 leaves.", 160),
        ("Version 0.3.1 is out.", 0.3),
        ("Version 0.3.1 is out.", 1),
        ("Version v2.1 is out.", 2.1),
        ("A 1:1 with Marcus.", 1),
        ("Seat 12B is free.", 12),
        ("The phone is 555-123-4567.", 555),
        ("It happened on 3/5/2026.", 3),
        ("It is the one with the view.", 1),
        ("one of them is free", 1),
        ("It has 332,478 residents.", 332477),
        ("It has 3,324,770 residents.", 332477),
        ("Someone said 42.", 4),
    ],
)
def test_digits_inside_dates_times_ids_and_versions_are_not_numbers(
    answer: str, value: float
) -> None:
    assert not number(answer, value)


@pytest.mark.parametrize(
    ("answer", "value", "states"),
    [
        ("roughly 390,000 visitors", 389_512, True),
        ("roughly 390,000 visitors", 391_004, True),
        ("roughly 390,000 visitors", 385_000, True),  # rounds half up to 390,000
        ("roughly 390,000 visitors", 384_999, False),
        ("roughly 390,000 visitors", 375_000, False),
        ("390,000 visitors", 389_512, False),  # not hedged: exact only
        ("about 400,000 visitors", 389_512, True),  # precision: nearest 100,000
        ("about 400,000 visitors", 350_000, True),
        ("about 400,000 visitors", 349_999, False),
        ("~1.2 million", 1_234_567, True),  # nearest 100,000
        ("~1.2 million", 1_260_000, False),
        ("1.2 million", 1_234_567, False),
        ("approximately 3.5 km", 3.46, True),
        ("approximately 3.5 km", 3.44, False),
        ("close to $400", 395, True),
        ("some 390 thousand people", 387_000, True),
        ("nearly twenty guests", 17, True),
        ("almost 5 hours", 4.6, True),
        ("almost 5 hours", 4.4, False),
        ("it took 40 minutes or so", 38, True),
        ("approx. USD 390,000", 389_512, True),  # hedge two words before
        ("about the 3 rooms for 390,000", 389_512, False),  # hedge too far back
        ("circa 1900", 1_903, True),
    ],
)
def test_hedged_numbers_match_at_their_precision(answer: str, value: float, states: bool) -> None:
    assert number(answer, value) is states


def test_tolerance_is_relative() -> None:
    assert number("390,000 visitors", 389_512, tolerance=0.01)
    assert not number("380,000 visitors", 389_512, tolerance=0.01)
    assert number("0.99", 1, tolerance=0.01)
    assert not number("0.98", 1, tolerance=0.01)


# -------------------------------------------------------------------------------------- times
@pytest.mark.parametrize(
    "spelled",
    [
        "15:00",
        "3 pm",
        "3pm",
        "3 PM",
        "3:00 pm",
        "3:00 p.m.",
        "3:00PM",
        "3 p.m.",
        "15:00:00",
        "3.00pm",
    ],
)
def test_time_spellings_of_15_00(spelled: str) -> None:
    assert time(f"The call is at {spelled} today.", "15:00")
    assert not time(f"The call is at {spelled} today.", "03:00")


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("at 9:30", "09:30"),
        ("at 09:30", "09:30"),
        ("at 9:30 a.m.", "09:30"),
        ("at noon", "12:00"),
        ("at 12 noon", "12:00"),
        ("at midnight", "00:00"),
        ("at 12 am", "00:00"),
        ("at 12 pm", "12:00"),
        ("09:30-09:45", "09:30"),
        ("09:30-09:45", "09:45"),
        ("09:30–09:45", "09:45"),  # en dash
        ("3-4 pm", "15:00"),
        ("3-4 pm", "16:00"),
        ("11-1 pm", "11:00"),
        ("11-1 pm", "13:00"),
        ("from 9:30 to 10:15 pm", "21:30"),
        ("on 2026-03-05T10:00", "10:00"),
        ("at 3 o'clock", "03:00"),
    ],
)
def test_times_are_found(answer: str, value: str) -> None:
    assert time(answer, value)


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("we have 15 rooms", "15:00"),  # a bare integer is not a time
        ("it takes 3.50 hours", "03:50"),
        ("a 16:9 screen", "16:09"),
        ("at 25:00", "01:00"),
        ("at 3:75", "03:00"),
        ("seat a3 pm", "15:00"),
        ("in the afternoon", "12:00"),
        ("at 3 pm", "03:00"),
    ],
)
def test_non_times_are_not_times(answer: str, value: str) -> None:
    assert not time(answer, value)


# -------------------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    "spelled",
    [
        "2026-03-05",
        "March 5",
        "Mar 5",
        "Mar. 5",
        "March 5th",
        "5 March",
        "5th of March",
        "the 5th of March",
        "March 5, 2026",
        "March 5 2026",
        "Thursday, March 5",
        "Thu 5 March 2026",
        "5 Mar 2026",
        "MARCH 5TH, 2026",
        "March 5-7",
    ],
)
def test_date_spellings_of_2026_03_05(spelled: str) -> None:
    assert date(f"It is on {spelled}.", "2026-03-05")


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("on 3/5/2026", "2026-03-05"),  # slashed dates are ambiguous: not read
        ("on 5/3/2026", "2026-03-05"),
        ("on March 6", "2026-03-05"),
        ("on March 15", "2026-03-05"),
        ("on March 5, 2025", "2026-03-05"),
        ("on 2026-03-50", "2026-03-05"),
        ("in March 1935", "1935-03-19"),
        ("the top 5 may differ", "2026-05-05"),
        ("on February 30", "2026-02-28"),
    ],
)
def test_non_dates_are_not_dates(answer: str, value: str) -> None:
    assert not date(answer, value)


# ----------------------------------------------------------------------------------- ids, text
@pytest.mark.parametrize(
    ("answer", "value", "states"),
    [
        ("The event is ev-0042.", "ev-0042", True),
        ("The event is EV-0042.", "ev-0042", True),
        ("The event is ev-00421.", "ev-0042", False),
        ("The event is xev-0042.", "ev-0042", False),
        ("The event is ev-0042_b.", "ev-0042", False),
        ("Booking (BK0005) is held.", "BK0005", True),
        ("Booking BK0005: held.", "BK0005", True),
        ("Booking BK00050 is held.", "BK0005", False),
        ("Booking BK0005—confirmed.", "BK0005", True),  # em dash is a pause, not a hyphen
    ],
)
def test_id_is_a_whole_token(answer: str, value: str, states: bool) -> None:
    assert output_holds(Fact(value=value, kind="id"), answer) is states


@pytest.mark.parametrize(
    ("answer", "value", "states"),
    [
        ("It was founded in 1935.", "1935", True),
        ("It was founded in 19350.", "1935", False),
        ("Painted by Heira  Gaezani.", "heira gaezani", True),
        ("Painted by HEIRA\nGAEZANI.", "Heira Gaezani", True),
        ("The capital is Kreteth's.", "Kreteth", True),
        ("The capital is Kretethia.", "Kreteth", False),
        ("Meet at the “Café Luna”.", "Café Luna", True),
        ("Meet at the Cafe Luna.", "Café Luna", False),  # accents are kept (use alternatives)
        ("Ask the C++ team.", "C++", True),
        ('{"files_deleted": 1}', "deleted", True),  # "_" is not alphanumeric: a boundary
        ("It is Brira Grantamont, not Heira Gaezani.", "Heira Gaezani", False),  # denied
    ],
)
def test_text_is_whole_words(answer: str, value: str, states: bool) -> None:
    assert output_holds(Fact(value=value), answer) is states


def test_text_alternatives() -> None:
    fact = Fact(value="Cafe Luna", alternatives=["Café Luna"])
    assert output_holds(fact, "Lunch at Café Luna.")
    assert output_holds(fact, "Lunch at Cafe Luna.")
    assert not output_holds(fact, "Lunch at Luna.")
