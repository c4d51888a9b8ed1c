"""A READ repeated on an unchanged state is not free: stalling must not out-earn an answer."""

from __future__ import annotations

import json

import gymnasium as gym

import toolgym  # noqa: F401  (registers the envs)
from toolgym.tooling import ToolCall


def call_text(name: str, **arguments: object) -> str:
    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


def play(env_id: str, task_id: str, actions: list[str]) -> tuple[dict[str, float], list[list[str]]]:
    """Summed reward components and every turn's call roles."""
    env = gym.make(env_id, split="test")
    env.reset(seed=0, options={"task_id": task_id})
    totals: dict[str, float] = {}
    for action in actions:
        *_, terminated, truncated, info = env.step(action)
        for name, value in info["reward_components"].items():
            totals[name] = totals.get(name, 0.0) + value
        if terminated or truncated:
            break
    roles = [list(turn.gold.roles) for turn in env.unwrapped.episode.turns]
    return totals, roles


def test_a_search_loop_earns_less_than_a_wrong_answer_under_every_process_reward() -> None:
    env = gym.make("toolgym/SearchLookup-v0", split="test")
    env.reset(seed=0)
    task = env.unwrapped.task
    search: ToolCall = task.gold_calls[0][0]
    first = call_text(search.name, **search.arguments)
    loop, loop_roles = play("toolgym/SearchLookup-v0", task.id, [first] * 6)
    wrong, _ = play("toolgym/SearchLookup-v0", task.id, [first, "It is Nobody Atall."])
    right, _ = play("toolgym/SearchLookup-v0", task.id, [first, task.gold_answer])
    assert loop_roles[0] == ["match"] and all(r == ["wrong"] for r in loop_roles[1:])
    assert loop["completion"] == wrong["completion"] == 0.0 and right["completion"] == 1.0
    for name in ("toolrl", "toolrl_coarse"):  # each repeat costs R_correct -3 (nothing is open)
        assert loop[name] == 4.0 + 3 * (1.0 - 3.0), name
        assert right[name] > wrong[name] > loop[name], name
    assert loop["step_match"] == wrong["step_match"] == 1.0  # the first search only


def test_a_read_repeated_after_a_write_changed_the_state_is_still_free() -> None:
    people = call_text("find_people", query="Ben")
    slots = call_text("find_free_slots", people=["alice.chen@example.com", "ben.carter@example.com"],
                      start_date="2026-03-12", duration_minutes=30, count=1)  # fmt: skip
    create = call_text("create_event", title="Onboarding check-in", date="2026-03-12",
                       start="09:00", end="09:30", attendees=["ben.carter@example.com"],
                       location="Alice's office")  # fmt: skip
    _, roles = play("toolgym/Calendar-v0", "calendar-test-004",
                    [people, people, slots, create, slots])  # fmt: skip
    assert roles == [["match"], ["wrong"], ["match"], ["match"], ["extra_read"]]
    # the same READ with other arguments is a new READ, not a repeat
    other = call_text("find_people", query="Alice")
    _, roles = play("toolgym/Calendar-v0", "calendar-test-004", [people, other])
    assert roles == [["match"], ["extra_read"]]
