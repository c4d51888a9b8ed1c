"""Each reward rule of issue 14 on hand-built trajectories of the notes suite (conftest.py).

Order-free gold, ids compared up to renaming, a wrong field failing, facts paired with their
subjects, forbidden claims, a harmless detour, a call on the wrong record, a confirmation
question, and a guessed hidden fact.
"""

from __future__ import annotations

import pytest
from notes_suite import make_notes_env

from toolgym.tooling import ToolCall


@pytest.fixture
def notes_env():
    return make_notes_env()


def calls(env, *pairs):
    return env.tool_format.render_calls([ToolCall(name=n, arguments=a) for n, a in pairs])


def play(env, task_id, messages):
    """Play ``messages``; returns (per-step components, final components, info['toolgym'])."""
    env.reset(seed=0, options={"task_id": task_id})
    steps = []
    for message in messages:
        _, _, terminated, truncated, info = env.step(message)
        steps.append(info["reward_components"])
        if terminated or truncated:
            return steps, info["reward_components"], info["toolgym"]
    raise AssertionError("the episode did not end")


def total(steps, name):
    return sum(s[name] for s in steps)


ALPHA = ("create_note", {"title": "alpha", "body": "one"})
BETA = ("create_note", {"title": "beta", "body": "two"})


def test_the_gold_order_and_the_other_valid_order_both_earn_everything(notes_env):
    gold, final, _ = play(
        notes_env,
        "two-notes",
        [
            calls(notes_env, ALPHA),
            calls(notes_env, BETA),
            "Created alpha as n-003 and beta as n-004.",
        ],
    )
    other, final_other, episode = play(
        notes_env,
        "two-notes",
        # beta first: it gets n-003 and alpha n-004, so the right answer names them so
        [calls(notes_env, BETA), calls(notes_env, ALPHA), "alpha is n-004; beta is n-003."],
    )
    assert final["completion"] == final_other["completion"] == 1.0, episode["completion"]
    assert [s["step_match"] for s in other] == [1.0, 1.0, 1.0]
    assert total(other, "toolrl") == total(gold, "toolrl") == 4 + 4 + 1


def test_the_gold_ids_in_the_answer_are_wrong_after_the_other_order(notes_env):
    _, final, episode = play(
        notes_env,
        "two-notes",
        [
            calls(notes_env, BETA),
            calls(notes_env, ALPHA),
            "Created alpha as n-003 and beta as n-004.",
        ],
    )
    assert final["completion"] == 0.0 and final["state_match"] == 1.0
    assert episode["completion"]["reasons"] == ["answer_failed"]


def test_both_writes_in_one_turn_are_one_matching_step(notes_env):
    steps, final, _ = play(
        notes_env, "two-notes", [calls(notes_env, ALPHA, BETA), "alpha: n-003. beta: n-004."]
    )
    assert final["completion"] == 1.0 and [s["step_match"] for s in steps] == [1.0, 1.0]
    assert steps[0]["toolrl"] == 4.0  # R_correct against the union of both open steps


def test_a_mistake_created_and_deleted_again_is_not_part_of_the_state(notes_env):
    _, final, episode = play(
        notes_env,
        "two-notes",
        [
            calls(notes_env, ("create_note", {"title": "alpah", "body": "one"})),  # n-003, a typo
            calls(notes_env, ("delete_note", {"note_id": "n-003"})),
            calls(notes_env, ALPHA, BETA),  # n-004 and n-005
            "alpha is n-004 and beta is n-005.",
        ],
    )
    assert final["completion"] == 1.0, episode["completion"]


@pytest.mark.parametrize(
    ("first", "difference"),
    [
        (("create_note", {"title": "alpha", "body": "One"}), "body"),  # one field, one letter
        (("create_note", {"title": "alpha", "body": "one", "parent": "n-001"}), "parent"),
    ],
)
def test_a_single_wrong_field_fails(notes_env, first, difference):
    _, final, episode = play(
        notes_env, "two-notes", [calls(notes_env, first, BETA), "alpha: n-003. beta: n-004."]
    )
    assert final["completion"] == 0.0 and final["state_match"] == 0.0
    assert episode["completion"]["reasons"] == ["state_differs"]
    assert difference in " ".join(episode["completion"]["state_differences"])


def test_a_reference_to_the_wrong_new_record_fails(notes_env):
    # 'trip' is n-003; 'packing' must point at it, not at a record created afterwards
    right, _, _ = play(
        notes_env,
        "child-note",
        [
            calls(notes_env, ("create_note", {"title": "decoy", "body": "plan"})),
            calls(notes_env, ("delete_note", {"note_id": "n-003"})),
            calls(notes_env, ("create_note", {"title": "trip", "body": "plan"})),  # n-004
            calls(
                notes_env, ("create_note", {"title": "packing", "body": "socks", "parent": "n-004"})
            ),
            "Done.",
        ],
    )
    _, wrong, _ = play(
        notes_env,
        "child-note",
        [
            calls(notes_env, ("create_note", {"title": "trip", "body": "plan"})),  # n-003
            calls(
                notes_env, ("create_note", {"title": "packing", "body": "socks", "parent": "n-001"})
            ),
            "Done.",
        ],
    )
    assert right[-1]["completion"] == 1.0
    assert wrong["completion"] == 0.0 and wrong["state_match"] == 0.0


def test_facts_must_pair_with_their_subjects(notes_env):
    _, final, episode = play(
        notes_env,
        "two-notes",
        [calls(notes_env, ALPHA), calls(notes_env, BETA), "alpha is n-004 and beta is n-003."],
    )
    assert final["state_match"] == 1.0 and final["completion"] == 0.0
    assert episode["completion"]["answer_failures"]


def test_a_success_claim_after_the_error_fails(notes_env):
    delete = calls(notes_env, ("delete_note", {"note_id": "n-009"}))
    _, right, _ = play(
        notes_env, "delete-missing", [delete, "There is no note n-009, so I couldn't delete it."]
    )
    _, wrong, episode = play(
        notes_env, "delete-missing", [delete, "No note n-009? Done, I deleted it."]
    )
    assert right["completion"] == 1.0
    assert wrong["completion"] == 0.0 and wrong["outputs"] == 0.0
    assert "success" in " ".join(episode["completion"]["answer_failures"])


def test_a_harmless_read_costs_nothing_and_the_rest_still_matches(notes_env):
    steps, final, _ = play(
        notes_env,
        "update-todo",
        [
            calls(notes_env, ("list_notes", {})),  # a detour: a READ outside the gold
            calls(notes_env, ("find_note", {"title": "todo"})),
            calls(notes_env, ("update_note", {"note_id": "n-002", "body": "call dad"})),
            "Updated n-002.",
        ],
    )
    assert final["completion"] == 1.0
    assert [s["step_match"] for s in steps] == [0.0, 1.0, 1.0, 1.0]
    assert [s["toolrl"] for s in steps] == [0.0, 4.0, 4.0, 1.0]


def test_an_equivalent_read_matches_the_gold_read(notes_env):
    steps, _, _ = play(
        notes_env,
        "update-todo",
        [
            calls(notes_env, ("find_note", {"title": "TODO"})),  # same result as 'todo'
            calls(notes_env, ("update_note", {"note_id": "n-002", "body": "call dad"})),
            "Updated n-002.",
        ],
    )
    assert [s["step_match"] for s in steps] == [1.0, 1.0, 1.0]
    assert steps[0]["toolrl"] == 4.0  # scored as the gold call it matched


def test_acting_without_the_read_serves_it(notes_env):
    steps, final, _ = play(
        notes_env,
        "update-todo",
        [
            calls(notes_env, ("update_note", {"note_id": "n-002", "body": "call dad"})),
            "Updated n-002.",
        ],
    )
    assert final["completion"] == 1.0 and [s["step_match"] for s in steps] == [1.0, 1.0]


def test_a_call_on_the_wrong_record_is_no_match(notes_env):
    steps, final, _ = play(
        notes_env,
        "update-todo",
        [
            calls(notes_env, ("find_note", {"title": "todo"})),
            calls(notes_env, ("update_note", {"note_id": "n-001", "body": "call dad"})),
            "Updated it.",
        ],
    )
    assert final["completion"] == 0.0
    assert [s["step_match"] for s in steps] == [1.0, 0.0, 0.0]
    # R_format 1 + R_correct: names 1 + keys 1 + values 1 (body; note_id 0) of S_max 4 -> 6*3/4-3
    assert steps[1]["toolrl"] == 1.0 + 1.5
    assert steps[2]["toolrl"] == 1.0 - 3.0  # the gold update is still open: a premature answer


def test_a_confirmation_question_is_neither_paid_nor_punished(notes_env):
    steps, final, _ = play(
        notes_env,
        "update-todo",
        [
            calls(notes_env, ("find_note", {"title": "todo"})),
            "I'll change n-002 to 'call dad'. Shall I proceed?",
            calls(notes_env, ("update_note", {"note_id": "n-002", "body": "call dad"})),
            "Updated n-002.",
        ],
    )
    assert final["completion"] == 1.0
    assert steps[1]["step_match"] == 0.0 and steps[1]["toolrl"] == 0.0
    assert [s["step_match"] for s in steps] == [1.0, 0.0, 1.0, 1.0]


def test_asking_for_the_hidden_fact_is_paid_and_guessing_it_fails(notes_env):
    write = calls(notes_env, ("create_note", {"title": "reminder", "body": "buy stamps"}))
    asked, right, _ = play(
        notes_env, "reminder", ["What should it say?", write, "Added the reminder."]
    )
    guessed, wrong, episode = play(notes_env, "reminder", [write, "Added the reminder."])
    assert right["completion"] == 1.0 and [s["step_match"] for s in asked] == [1.0, 1.0, 1.0]
    assert asked[0]["toolrl"] == 1.0
    assert wrong["completion"] == 0.0 and wrong["state_match"] == 1.0
    assert episode["completion"]["reasons"] == ["guessed_hidden_fact"]
    assert [s["step_match"] for s in guessed] == [0.0, 0.0]  # a guessed write is no match


def test_the_expert_follows_the_episode_with_its_ids(notes_env):
    notes_env.reset(seed=0, options={"task_id": "two-notes"})
    notes_env.step(calls(notes_env, BETA))  # beta first: n-003
    assert notes_env.expert_message() == calls(notes_env, ALPHA)
    notes_env.step(notes_env.expert_message())
    answer = notes_env.expert_message()
    assert answer == "Created alpha as n-004 and beta as n-003."
    _, _, terminated, _, info = notes_env.step(answer)
    assert terminated and info["reward_components"]["completion"] == 1.0
