"""pass@k, pass^k and failure kinds: hand-computed values, and a brute-force check over subsets."""

from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolgym.eval.metrics import failure_kind, ks_up_to, mean_over_tasks, pass_at_k, pass_hat_k


def test_hand_computed_values():
    # n=4 samples, c=2 successes
    assert pass_at_k(4, 2, 1) == pytest.approx(0.5)
    assert pass_at_k(4, 2, 2) == pytest.approx(1 - 1 / 6)  # 1 - C(2,2)/C(4,2)
    assert pass_hat_k(4, 2, 2) == pytest.approx(1 / 6)  # C(2,2)/C(4,2)
    assert pass_at_k(4, 2, 3) == 1.0  # any 3 of 4 include a success
    assert pass_hat_k(4, 2, 3) == 0.0
    assert pass_at_k(5, 0, 3) == 0.0 and pass_hat_k(5, 5, 5) == 1.0
    assert pass_at_k(10, 3, 4) == pytest.approx(1 - 35 / 210)  # C(7,4)/C(10,4)
    assert pass_hat_k(10, 3, 2) == pytest.approx(3 / 45)  # C(3,2)/C(10,2)


@given(
    st.integers(1, 8).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n)))
)
def test_both_estimators_equal_counting_every_subset_of_k_samples(case):
    n, c, k = case
    outcomes = [True] * c + [False] * (n - c)
    subsets = list(combinations(outcomes, k))
    assert pass_at_k(n, c, k) == pytest.approx(sum(any(s) for s in subsets) / len(subsets))
    assert pass_hat_k(n, c, k) == pytest.approx(sum(all(s) for s in subsets) / len(subsets))
    assert pass_hat_k(n, c, k) <= pass_at_k(n, c, k) + 1e-12
    if k == 1:
        assert pass_at_k(n, c, 1) == pytest.approx(c / n) == pass_hat_k(n, c, 1)


def test_task_means_skip_tasks_with_fewer_than_k_samples():
    counts = {"a": (4, 2), "b": (4, 4), "c": (1, 1)}
    assert mean_over_tasks(counts, 1, "pass_at_k") == pytest.approx((0.5 + 1 + 1) / 3)
    assert mean_over_tasks(counts, 2, "pass_hat_k") == pytest.approx((1 / 6 + 1) / 2)
    assert mean_over_tasks(counts, 8, "pass_at_k") is None
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(2, 1, 3)


def test_reported_ks():
    assert ks_up_to(1) == [1] and ks_up_to(4) == [1, 2, 4] and ks_up_to(10) == [1, 2, 4, 8, 10]


def step(**components):
    return {"reward": 0.0, "components": components}


def test_failure_kinds_most_specific_first():
    assert failure_kind(True, "answered", []) is None
    assert failure_kind(False, "user_error", [step(format=0.0)]) == "user_backend"
    assert failure_kind(False, "max_invalid_streak", [step(format=0.0)]) == "format"
    assert (
        failure_kind(False, "max_turns", [step(format=1.0, valid_calls=0.5)]) == "invalid_arguments"
    )
    assert failure_kind(False, "max_turns", [step(format=1.0, valid_calls=1.0)]) == "limits"
    assert failure_kind(False, "answered", [step(format=1.0)]) == "wrong_answer"
