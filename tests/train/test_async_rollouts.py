"""AsyncCollector with a fake collector: hits, misses, staleness and errors of the prefetch."""

import pytest

from toolgym.tokens.trajectory import Trajectory
from toolgym.train.async_rollouts import AsyncCollector


class Fake:
    def __init__(self, fail_on=None):
        self.calls, self.fail_on = [], fail_on

    def collect(self, tasks, group_size=1, seed=0):
        self.calls.append((tuple(tasks), seed))
        if seed == self.fail_on:
            raise RuntimeError("env broke")
        return [Trajectory(task_id=t) for t in tasks for _ in range(group_size)], {"seed": seed}


def make(inner, plan, bound=1):
    state = {"version": 0, "plan": list(plan)}
    collector = AsyncCollector(
        inner,
        lambda: state["plan"].pop(0) if state["plan"] else None,
        lambda: state["version"],
        bound,
    )
    return collector, state


def test_a_matching_prefetch_is_used_with_its_own_version():
    inner = Fake()
    collector, state = make(inner, [(["b"], 2, 1)])
    first, _ = collector.collect(["a"], 2, seed=0)
    state["version"] = 1
    second, stats = collector.collect(["b"], 2, seed=1)
    assert stats == {"seed": 1} and [t.task_id for t in second] == ["b", "b"]
    assert [t.policy_version for t in first + second] == [0, 0, 0, 0]
    assert inner.calls == [(("a",), 0), (("b",), 1)]  # nothing collected twice
    assert collector.counts == {"stale_episodes": 0, "async_hits": 1, "async_misses": 0}


def test_a_prefetch_for_other_tasks_is_a_miss_and_the_step_collects_afresh():
    inner = Fake()
    collector, _ = make(inner, [(["b"], 1, 1)])
    collector.collect(["a"], 1, seed=0)
    got, _ = collector.collect(["c"], 1, seed=1)
    assert [t.task_id for t in got] == ["c"] and collector.counts["async_misses"] == 1


def test_a_stale_prefetch_is_dropped_and_its_episodes_counted():
    collector, state = make(Fake(), [(["b"], 3, 1)], bound=1)
    collector.collect(["a"], 3, seed=0)
    state["version"] = 2  # two updates since the prefetch began: past the bound of 1
    got, _ = collector.collect(["b"], 3, seed=1)
    assert collector.counts["stale_episodes"] == 3 and {t.policy_version for t in got} == {2}


def test_an_error_in_the_prefetch_reaches_the_step_that_takes_it():
    collector, _ = make(Fake(fail_on=1), [(["b"], 1, 1)])
    collector.collect(["a"], 1, seed=0)
    with pytest.raises(RuntimeError, match="env broke"):
        collector.collect(["b"], 1, seed=1)
