"""The reward audit (bench/reward_audit.py) at a small size: the targets hold, and it can fail."""

from __future__ import annotations

import pytest

import toolgym  # noqa: F401
from toolgym.answers import AnswerCheck
from toolgym.audit import audit_env, format_summary, summarize
from toolgym.tasks import output_present

ENVS = ["toolgym/Calendar-v0", "toolgym/Travel-v0", "toolgym/Search-v0", "toolgym/Files-v0"]


@pytest.fixture(scope="module")
def outcomes():
    return [o for env_id in ENVS for o in audit_env(env_id, max_tasks=8, seed=1)]


def test_the_audit_targets_hold_on_a_sample_of_every_suite(outcomes):
    summary = summarize(outcomes)
    assert summary.variants.get("correct", 0) >= 60 and summary.variants.get("wrong_state", 0) >= 20
    assert summary.variants.get("wrong_answer", 0) >= 20
    failed = [target for target, ok in summary.passes().items() if not ok]
    assert not failed, format_summary(summary)


def test_the_audit_catches_a_substring_answer_check(monkeypatch):
    """With the old substring check, wrong answers that mention the right values are paid."""

    def substring_check(answer, required, forbidden=(), *, id_map=None):
        ok = [
            output_present(r if not hasattr(r, "value") else str(r.value), answer) for r in required
        ]
        return AnswerCheck(all(ok), sum(ok) / len(ok) if ok else 1.0, ())

    monkeypatch.setattr("toolgym.env.check_answer", substring_check)
    summary = summarize(audit_env("toolgym/Travel-v0", max_tasks=10, seed=1))
    assert not summary.passes()["completion FP on wrong answers <= 1%"]


def test_the_audit_catches_a_hash_state_check(monkeypatch):
    """Comparing raw states (ids included) fails correct trajectories in another order."""
    from toolgym.gold import GoldPlan
    from toolgym.state_compare import StateComparison

    def exact(self, state):
        return StateComparison(state.model_dump(mode="json") == self.expected)

    monkeypatch.setattr(GoldPlan, "compare", exact)
    summary = summarize(audit_env("toolgym/Travel-v0", max_tasks=None, seed=1))
    assert not summary.passes()["completion FN on correct <= 1%"]
