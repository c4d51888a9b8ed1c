"""check_answer: subject binding, forbidden outputs, claims, old substring forms, id maps."""

import pytest

from toolgym.answers import AnswerCheck, Claim, Fact, check_answer, output_holds
from toolgym.tasks import output_present

STANDUP = Fact(value="10:00", kind="time", subject="standup")
REVIEW = Fact(value="14:00", kind="time", subject="review")


def passes(answer: str, required: list, forbidden: list = ()) -> bool:  # type: ignore[assignment]
    return check_answer(answer, required, forbidden).passed


# ------------------------------------------------------------------------------------ binding
@pytest.mark.parametrize(
    ("answer", "standup", "review"),
    [
        ("Standup at 10:00 and review at 14:00.", True, True),
        ("Standup at 14:00 and review at 10:00.", False, False),  # swapped: neither
        ("The standup is at 10:00. The review is at 14:00.", True, True),
        ("The standup is at 14:00. The review is at 10:00.", False, False),
        ("standup: 10:00; review: 14:00", True, True),
        ("- Standup 10:00\n- Review 14:00", True, True),
        ("| Standup | 10:00 |\n| Review | 14:00 |", True, True),
        ("At 10:00 the standup, at 14:00 the review.", True, True),
        ("The standup (10 am) comes before the review (2 pm).", True, True),
        ("Standup 10:00 review 14:00", True, True),
        ("The standup is at 10:00, not 14:00; the review is at 14:00.", True, True),
        ("Standup at 10:00.", True, False),  # the review is not mentioned
        ("Standup and review are on Thursday.", False, False),  # no times at all
        ("The times are 10:00 and 14:00; standup and review.", False, False),  # not attached
        ("Standup at 10:00. Earlier I said the standup was at 14:00.", False, False),
    ],
)
def test_times_bind_to_their_subjects(answer: str, standup: bool, review: bool) -> None:
    subjects = ["standup", "review"]
    assert output_holds(STANDUP, answer, subjects=subjects) is standup
    assert output_holds(REVIEW, answer, subjects=subjects) is review


def test_a_range_states_both_ends_for_its_subject() -> None:
    start = Fact(value="09:30", kind="time", subject=["Platform standup", "standup"])
    end = Fact(value="09:45", kind="time", subject=["Platform standup", "standup"])
    leads = Fact(value="11:00", kind="time", subject="Eng leads")
    answer = "Platform standup 09:30-09:45 (ev-0032), Eng leads 11:00-12:00"
    assert check_answer(answer, [start, end, leads]).passed
    swapped = "Platform standup 11:00-12:00 (ev-0032), Eng leads 09:30-09:45"
    check = check_answer(swapped, [start, end, leads])
    assert check.score == 0.0
    assert check.failures[0] == (
        "missing 09:30 (time) for 'Platform standup': the answer pairs it with 11:00, 12:00"
    )


@pytest.mark.parametrize(
    ("answer", "passed"),
    [
        ("Harbor Inn costs $290 and Grand Plaza costs $870.", True),
        ("Harbor Inn costs $870 and Grand Plaza costs $290.", False),
        ("$290 for Harbor Inn and $870 for Grand Plaza.", True),
        ("$870 for Harbor Inn and $290 for Grand Plaza.", False),
        ("Harbor Inn is cheaper at $290 than Grand Plaza at $870.", True),
        ("Harbor Inn ($290/night) vs Grand Plaza ($870/night)", True),
        ("Harbor Inn ($870/night) vs Grand Plaza ($290/night)", False),
        ("Harbor Inn: $290 for 3 nights. Grand Plaza: $870.", True),
        ("Harbor Inn costs $290, while the Grand Plaza is $870.", True),
        ("Both cost $290 and $870: Harbor Inn and Grand Plaza.", False),
    ],
)
def test_prices_bind_to_their_hotels(answer: str, passed: bool) -> None:
    harbor = Fact(value=290, kind="number", subject="Harbor Inn")
    plaza = Fact(value=870, kind="number", subject="Grand Plaza")
    assert passes(answer, [harbor, plaza]) is passed


@pytest.mark.parametrize(
    ("answer", "passed"),
    [
        ("Heira Gaezani wrote Ashen Tide.", True),
        ("Ashen Tide was written by Heira Gaezani.", True),
        ("Heira Gaezani wrote Ashen Tide, not The Glass River.", True),
        ("Heira Gaezani wrote Ashen Tide rather than The Glass River.", True),
        ("Heira Gaezani wrote Ashen Tide; The Glass River is by Brira Grantamont.", True),
        ("Heira Gaezani wrote Ashen Tide, while The Glass River is by Brira Grantamont.", True),
        ("Heira Gaezani wrote The Glass River.", False),
        ("Heira Gaezani wrote The Glass River; Ashen Tide is by Brira Grantamont.", False),
        ("Heira Gaezani wrote The Glass River, and Ashen Tide is by Brira Grantamont.", False),
        ("Ashen Tide and The Glass River: Heira Gaezani wrote The Glass River.", False),
        ("Heira Gaezani wrote The Glass River, not Ashen Tide.", False),
        ("Ashen Tide is a novel.", False),  # the subject is not mentioned
    ],
)
def test_wrong_novel_fails_even_when_both_titles_appear(answer: str, passed: bool) -> None:
    novel = Fact(value="Ashen Tide", subject="Heira Gaezani", distractors=["The Glass River"])
    assert passes(answer, [novel]) is passed


def test_value_inside_the_subject_is_not_a_candidate() -> None:
    room = Fact(value=4, kind="number", subject="Room 101")
    assert output_holds(room, "Room 101 has 4 beds.")
    assert not output_holds(room, "Room 101 has 5 beds.")


def test_other_tasks_subjects_compete_for_values() -> None:
    # Without knowing the review is a subject, its time continues the standup's sentence.
    answer = "Standup at 14:00, review at 10:00."
    assert output_holds(STANDUP, answer)
    assert not output_holds(STANDUP, answer, subjects=["review"])


def test_date_and_id_bound() -> None:
    lunch = Fact(value="2026-03-11", kind="date", subject="lunch")
    demo = Fact(value="ev-0089", kind="id", subject="demo")
    subjects = ["lunch", "demo"]
    answer = "Lunch is on March 11 (ev-0077); the demo is ev-0089 on March 12."
    assert output_holds(lunch, answer, subjects=subjects)
    assert output_holds(demo, answer, subjects=subjects)
    swapped = "Lunch is on March 12 (ev-0089); the demo is ev-0077 on March 11."
    assert not output_holds(lunch, swapped, subjects=subjects)
    assert not output_holds(demo, swapped, subjects=subjects)


# ---------------------------------------------------------------------------------- forbidden
@pytest.mark.parametrize(
    ("answer", "stated"),
    [
        ("Done, it's booked.", True),
        ("Your booking is confirmed.", True),
        ("Error: the hotel is sold out. Your booking is confirmed.", True),
        ("I've moved the standup to 15:00.", True),
        ("I have rescheduled it.", True),
        ("It was cancelled successfully.", True),
        ("You're all set!", True),
        ("The meeting is scheduled for Friday.", True),
        ("No problem, it's booked.", True),  # "no" is in another clause
        ("I've already moved it.", True),
        ("Your booking is complete.", True),
        ("I went ahead and reserved it.", True),
        ("The slot is already booked.", False),
        ("Sorry, that time is booked by someone else.", False),
        ("I couldn't book it: the hotel is sold out.", False),
        ("The room could not be booked.", False),
        ("Unfortunately the booking wasn't confirmed.", False),
        ("I was unable to complete the booking.", False),
        ("Nothing was moved.", False),
        ("The booking failed and nothing was created.", False),
        ("The hotel is fully booked.", False),
        ("It will be confirmed once you reply.", False),
        ("Once it's confirmed, I'll let you know.", False),
        ("I confirmed that the hotel is sold out.", False),
        ("I tried to book it but the hotel has no rooms.", False),
        ("The booking hasn't been updated.", False),
    ],
)
def test_success_claim(answer: str, stated: bool) -> None:
    check = check_answer(answer, [], [Claim(claim="success")])
    assert check.passed is not stated
    assert check.score == (0.0 if stated else 1.0)


@pytest.mark.parametrize(
    ("answer", "stated"),
    [
        ("I couldn't find X.", True),
        ("I could not find any record of X.", True),
        ("I was unable to locate the article.", True),
        ("There is no information about X.", True),
        ("No results for X.", True),
        ("I don't know.", True),
        ("The page was not found.", True),
        ("The article could not be found.", True),
        ("There is nothing about X in the encyclopedia.", True),
        ("The encyclopedia doesn't mention X.", True),
        ("Dervorn Press was founded in 1992.", False),
        ("I found the article: X was born in 1926.", False),
        ("If I can't find it, I will tell you.", False),
    ],
)
def test_not_found_claim(answer: str, stated: bool) -> None:
    assert passes(answer, [], [Claim(claim="not_found")]) is not stated


def test_forbidden_claim_failure_message() -> None:
    check = check_answer("Done! It's booked.", ["booked"], [Claim(claim="success")])
    assert check == AnswerCheck(False, 0.0, ("forbidden claim 'success': 'done' (not negated)",))


@pytest.mark.parametrize(
    ("answer", "stated"),
    [
        ("Yes, it is.", True),
        ("YES", True),
        ("yesterday", False),
        ("eyes", False),
        ("yes-man", True),
    ],
)
def test_forbidden_string_is_whole_word(answer: str, stated: bool) -> None:
    assert passes(answer, [], ["yes"]) is not stated


def test_forbidden_string_has_no_negation_logic() -> None:
    assert not passes("It is not @example.com.", [], ["@example.com"])


def test_forbidden_fact_bound_and_unbound() -> None:
    old = Fact(value="14:00", kind="time", subject="standup")
    assert passes("I moved the standup to 10:00.", [], [old])
    assert not passes("The standup is still at 14:00.", [], [old])
    assert passes("The standup is at 10:00 and the review at 14:00.", [REVIEW], [old])
    assert not passes("The standup is at 14:00 and the review at 14:00.", [REVIEW], [old])
    assert passes("The standup is at 10:00, not 14:00.", [], [old])  # denied
    count = Fact(value=119, kind="number")
    assert not passes("There are 119 rooms.", [], [count])
    assert passes("There are 118 rooms.", [], [count])


# ---------------------------------------------------------------------------------- old forms
@pytest.mark.parametrize(
    ("item", "answer"),
    [
        ("1992", "Founded in 1992."),
        ("1992", "Founded in 19921."),  # substring: matches inside a longer number
        ("heira gaezani", "Painted by HEIRA\n  Gaezani."),
        ("Kreteth", "in kretethia"),
        (["3", "three"], "You have three events."),
        (["3", "three"], "You have 4 events."),
        ("", "anything"),
        ([], "anything"),
        ("café", "CAFÉ"),
    ],
)
def test_old_forms_keep_substring_semantics(item: str | list[str], answer: str) -> None:
    assert output_holds(item, answer) is output_present(item, answer)


# ------------------------------------------------------------------------------------ id maps
def test_id_map_renames_every_form() -> None:
    id_map = {"hb0003": "HB0004"}
    answer = "Your booking HB0004 is confirmed."
    for item in (Fact(value="HB0003", kind="id"), "HB0003", ["HB0003", "x"], Fact(value="hb0003")):
        assert output_holds(item, answer, id_map=id_map)
        assert not output_holds(item, "Your booking HB0003 is confirmed.", id_map=id_map)
    assert passes(answer, [], ["HB0003"])  # unmapped: HB0003 is not in the answer
    check = check_answer(answer, [], ["HB0003"], id_map={"HB0003": "HB0004"})
    assert check.failures == ("forbidden 'HB0004': stated",)


def test_id_map_renames_subjects() -> None:
    fact = Fact(value="confirmed", subject="HB0003")
    assert output_holds(fact, "HB0004 is confirmed.", id_map={"HB0003": "HB0004"})


def test_id_map_needs_whole_value_equality() -> None:
    check = check_answer("See ev-0042.", [Fact(value="ev-0042", kind="id")], id_map={"ev-004": "x"})
    assert check.passed


# ------------------------------------------------------------------------------ score, report
def test_score_and_failures() -> None:
    required = [STANDUP, REVIEW, "Thursday", Fact(value=3, kind="number")]
    check = check_answer("Standup at 14:00, review at 10:00 on Thursday.", required)
    assert check.score == 0.25
    assert not check.passed
    assert check.failures == (
        "missing 10:00 (time) for 'standup': the answer pairs it with 14:00",
        "missing 14:00 (time) for 'review': the answer pairs it with 10:00",
        "missing 3 (number): not in the answer",
    )
    assert check_answer("anything", []) == AnswerCheck(True, 1.0, ())
    assert check_answer("anything", [], [Claim(claim="success")]).passed


@pytest.mark.parametrize(
    ("fact", "answer", "reason"),
    [
        (
            STANDUP,
            "The review is at 10:00.",
            "missing 10:00 (time) for 'standup': 'standup' is not mentioned",
        ),
        (
            STANDUP,
            "The standup is on Thursday.",
            "missing 10:00 (time) for 'standup': no time next to 'standup'",
        ),
        (
            STANDUP,
            "Standup at 10:00. The standup moved to 11:00.",
            "missing 10:00 (time) for 'standup': another mention of 'standup' pairs it with 11:00",
        ),
        (
            Fact(value="2026-03-05", kind="date"),
            "on 2026-03-06",
            "missing 2026-03-05 (date): the answer states 2026-03-06",
        ),
        (
            Fact(value="2026-3-5", kind="date"),
            "on 2026-03-05",
            "missing 2026-3-5 (date): the fact's value '2026-3-5' is not a date (YYYY-MM-DD)",
        ),
        (Fact(value="ev-0042", kind="id"), "ev-0043", "missing 'ev-0042' (id): not in the answer"),
    ],
)
def test_failure_reasons(fact: Fact, answer: str, reason: str) -> None:
    assert check_answer(answer, [fact]).failures == (reason,)


def test_time_values_may_be_any_spelling() -> None:
    assert output_holds(Fact(value="3 pm", kind="time"), "at 15:00")
    assert output_holds(Fact(value="9:30", kind="time"), "at 09:30")


def test_non_finite_number_never_holds() -> None:
    fact = Fact(value=float("nan"), kind="number")
    assert not output_holds(fact, "nan NaN 0")
    assert not output_holds(Fact(value=float("inf"), kind="number"), "inf infinity 1e309")


def test_a_subject_inside_a_longer_value_is_not_a_mention():
    email = Fact(value="ben.carter@example.com", subject=["Ben", "Ben Carter"])
    assert check_answer("Ben Carter: ben.carter@example.com.", [email]).passed
    assert check_answer("Ben's email is ben.carter@example.com.", [email]).passed
    other = Fact(value="elena.rossi@example.com", subject=["Elena"])
    wrong = "Ben: elena.rossi@example.com. Elena: ben.carter@example.com."
    assert not check_answer(wrong, [email, other]).passed
