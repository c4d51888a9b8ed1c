"""The gold cursor: which gold calls an episode still needs, and which it may make now.

A task's gold is a partial order of steps (:attr:`Task.steps`): a step may run once the steps it
comes ``after`` are complete. :class:`GoldPlan` is what a task's gold means on its suite,
computed once per task: the canonical calls, the ids each gold call creates in the gold replay,
and the expected final state. :class:`GoldCursor` follows one episode. Every part of toolgym that
asks "what would the gold do here?" asks it: the env's process rewards, the DAgger expert, the
oracle, and completion's clarify rule.

When does an agent's call *match* a gold call? When it makes the same call (canonical arguments,
after mapping the gold replay's generated ids onto the episode's), or an equivalent one:

- a READ whose result equals what the gold call returns on the current state (``"SFO"`` and
  ``"San Francisco"`` give the same flights: the same information);
- a WRITE whose effect on the current state equals the gold call's, up to generated ids
  (:mod:`toolgym.state_compare`);
- a call that fails with the same error text as the gold call would (error tasks).

Only *reachable* gold calls are matched: those whose earlier steps are complete, or are READ-only
steps (an agent that acts correctly without looking first has done what the look was for: those
READ steps count as served).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from toolgym.state_compare import (
    Canonical,
    GeneratedIds,
    StateComparison,
    canonical,
    compare_states,
    record_ids,
    rename,
)
from toolgym.suite import CallOutcome, ToolSuite, arguments_key, canonical_json
from toolgym.tasks import Task
from toolgym.tooling import ToolCall, ToolKind

CallRef = tuple[int, int]
"""A gold call: (step index, index of the call within its step)."""


def topological_order(after: list[tuple[int, ...]]) -> list[int]:
    """The steps in an order ``after`` allows, preferring the order written (Kahn, lowest first).

    >>> topological_order([(), (), (0, 1)])
    [0, 1, 2]
    >>> topological_order([(1,), ()])
    [1, 0]
    """
    order: list[int] = []
    while len(order) < len(after):
        ready = [i for i in range(len(after)) if i not in order and set(after[i]) <= set(order)]
        order.append(ready[0])  # a cycle is refused when the task is loaded
    return order


def linear_extensions(after: list[tuple[int, ...]], limit: int = 24) -> list[list[int]]:
    """Up to ``limit`` orders of the steps that ``after`` allows (the written order first)."""
    out: list[list[int]] = []

    def extend(prefix: list[int]) -> None:
        if len(out) >= limit:
            return
        if len(prefix) == len(after):
            out.append(list(prefix))
            return
        for i in range(len(after)):
            if i not in prefix and set(after[i]) <= set(prefix):
                extend([*prefix, i])

    extend([])
    return out


@dataclass(frozen=True)
class GoldPlan:
    """A task's gold on its suite: canonical steps, their order, created ids, the end state.

    Attributes:
        task: The task.
        steps: Each step's calls with canonical arguments (defaults filled).
        after: For each step, the steps that must be complete first.
        kinds: READ or WRITE per call (``None`` for a call of an unknown tool).
        created: Generated ids each gold call creates when the gold is replayed in order.
        initial_ids: Record ids of the initial state (never renamed in comparisons).
        expected: The expected final state as a JSON dump.
        ids: The suite's generated ids.
    """

    task: Task
    steps: list[list[ToolCall]]
    after: list[tuple[int, ...]]
    kinds: dict[CallRef, ToolKind | None]
    created: dict[CallRef, tuple[str, ...]]
    initial_ids: frozenset[str]
    expected: dict[str, Any]
    ids: GeneratedIds

    @classmethod
    def build(cls, suite: ToolSuite, task: Task) -> GoldPlan:
        """Replay ``task``'s gold WRITE calls on its initial state (in the written order)."""
        ids = suite.generated_ids
        steps = [[suite.normalize_call(c) for c in step.calls] for step in task.steps]
        after = [tuple(step.after or ()) for step in task.steps]
        kinds = {
            (i, j): suite.tool(c.name).kind if suite.has_tool(c.name) else None
            for i, step in enumerate(steps)
            for j, c in enumerate(step)
        }
        state = suite.initial_state(task)
        initial_ids = record_ids(state, ids)
        created: dict[CallRef, tuple[str, ...]] = {}
        for i in topological_order(after):
            for j, call in enumerate(steps[i]):
                if kinds[(i, j)] is not ToolKind.WRITE:
                    continue
                before = record_ids(state, ids)
                _, state = suite.execute(state, call)
                if ids.records:
                    created[(i, j)] = tuple(sorted(record_ids(state, ids) - before))
        if task.expected_state is not None:
            expected = suite.state_type.model_validate(task.expected_state).model_dump(mode="json")
        else:
            expected = state.model_dump(mode="json")
        return cls(task, steps, after, kinds, created, initial_ids, expected, ids)

    @cached_property
    def refs(self) -> list[CallRef]:
        """Every gold call, step by step in the order written."""
        return [(i, j) for i, step in enumerate(self.steps) for j in range(len(step))]

    def read_only(self, step: int) -> bool:
        """Whether every call of ``step`` is a READ."""
        return all(self.kinds[(step, j)] is ToolKind.READ for j in range(len(self.steps[step])))

    @cached_property
    def expected_canonical(self) -> Canonical:
        """The expected state's canonical form (computed once)."""
        return canonical(self.expected, self.initial_ids, self.ids)

    def compare(self, state: BaseModel) -> StateComparison:
        """Compare ``state`` with the expected final state, up to generated ids."""
        return compare_states(
            state.model_dump(mode="json"), self.expected_canonical, self.initial_ids, self.ids
        )


@dataclass
class GoldCursor:
    """Where one episode stands against its task's gold (see the module docstring).

    Attributes:
        plan: The task's gold plan.
        suite: The suite (equivalent calls are checked by running the gold call).
        done: Gold calls matched (or served, for READs an agent acted without).
        id_map: Gold replay id -> the id the episode's tools generated for the same record.
        revealed: Hidden facts the user revealed so far (indices into ``task.user.hidden``).
        guessed: Hidden facts the agent acted without: it made the gold calls of the step that
            needs the fact before asking for it.
    """

    plan: GoldPlan
    suite: ToolSuite
    done: set[CallRef] = field(default_factory=set)
    id_map: dict[str, str] = field(default_factory=dict)
    revealed: set[int] = field(default_factory=set)
    guessed: set[int] = field(default_factory=set)

    # ------------------------------------------------------------------ queries
    def step_complete(self, step: int) -> bool:
        """Whether every call of ``step`` is done."""
        return all((step, j) in self.done for j in range(len(self.plan.steps[step])))

    @property
    def complete(self) -> bool:
        """Whether every gold call is done."""
        return all(self.step_complete(i) for i in range(len(self.plan.steps)))

    def enabled_steps(self) -> list[int]:
        """Incomplete steps whose earlier steps are all complete (the gold's valid next moves)."""
        return [
            i
            for i in range(len(self.plan.steps))
            if not self.step_complete(i) and all(self.step_complete(j) for j in self.plan.after[i])
        ]

    def reachable_steps(self) -> list[int]:
        """Incomplete steps whose unmet earlier steps are READ-only and reachable themselves."""
        ok: dict[int, bool] = {}

        def reachable(i: int) -> bool:
            if i not in ok:
                ok[i] = False  # no cycles (refused at load); guards recursion anyway
                ok[i] = all(
                    self.step_complete(j) or (self.plan.read_only(j) and reachable(j))
                    for j in self.plan.after[i]
                )
            return ok[i]

        return [
            i for i in range(len(self.plan.steps)) if not self.step_complete(i) and reachable(i)
        ]

    def remaining(self, step: int) -> list[ToolCall]:
        """The calls of ``step`` not done yet, with ids mapped onto the episode's."""
        return [
            self.translate(call)
            for j, call in enumerate(self.plan.steps[step])
            if (step, j) not in self.done
        ]

    def translate(self, call: ToolCall) -> ToolCall:
        """``call`` with every gold replay id in its arguments replaced by the episode's id."""
        if not self.id_map:
            return call
        return ToolCall(name=call.name, arguments=rename(call.arguments, self.id_map))

    def blocked_steps(self) -> set[int]:
        """Steps that need a must-ask hidden fact the user has not revealed yet."""
        return {
            fact.before_step
            for i, fact in enumerate(self.plan.task.user.hidden)
            if fact.must_ask and i not in self.revealed
        }

    def open_steps(self) -> list[list[ToolCall]]:
        """The remaining calls of each reachable gold step the agent may make now."""
        blocked = self.blocked_steps()
        return [self.remaining(i) for i in self.reachable_steps() if i not in blocked]

    def next_calls(self) -> list[ToolCall]:
        """The first enabled step's remaining calls as the task wrote them (ids mapped), or []."""
        enabled = self.enabled_steps()
        if not enabled:
            return []
        step, written = enabled[0], self.plan.task.step_calls[enabled[0]]
        return [self.translate(c) for j, c in enumerate(written) if (step, j) not in self.done]

    def due_facts(self) -> list[int]:
        """Hidden facts to ask for now: unrevealed, and their step is next (or the answer is)."""
        enabled, n = set(self.enabled_steps()), len(self.plan.steps)
        return [
            i
            for i, fact in enumerate(self.plan.task.user.hidden)
            if i not in self.revealed
            and (fact.before_step in enabled or (fact.before_step == n and self.complete))
        ]

    def missing_facts(self) -> list[int]:
        """Must-ask facts never revealed (checked when the agent answers)."""
        return [
            i
            for i, fact in enumerate(self.plan.task.user.hidden)
            if fact.must_ask and i not in self.revealed
        ]

    # ----------------------------------------------------------------- updates
    def match(
        self, call: ToolCall, outcome: CallOutcome, before: BaseModel, after: BaseModel
    ) -> tuple[CallRef, ToolCall] | None:
        """Match one executed call (state ``before`` -> ``after``); marks the gold call done.

        Returns the gold call matched (with mapped ids), or None.
        """
        steps = self.reachable_steps()
        candidates = [
            (i, j)
            for i in steps
            for j, gold in enumerate(self.plan.steps[i])
            if (i, j) not in self.done and gold.name == call.name
        ]
        key = arguments_key(call)
        found = next((r for r in candidates if arguments_key(self._gold(r)) == key), None)
        if found is None:
            found = next(
                (r for r in candidates if self._equivalent(r, outcome, before, after)), None
            )
        if found is None:
            return None
        self._mark(found, before, after)
        return found, self._gold(found)

    def _gold(self, ref: CallRef) -> ToolCall:
        return self.translate(self.plan.steps[ref[0]][ref[1]])

    def _equivalent(
        self, ref: CallRef, outcome: CallOutcome, before: BaseModel, after: BaseModel
    ) -> bool:
        gold_outcome, gold_after = self.suite.execute(before, self._gold(ref))
        if not gold_outcome.ok:
            return not outcome.ok and outcome.error == gold_outcome.error
        if not outcome.ok:
            return False
        if outcome.kind is ToolKind.READ:
            return canonical_json(outcome.result) == canonical_json(gold_outcome.result)
        ids = self.plan.ids
        return compare_states(
            after.model_dump(mode="json"),
            gold_after.model_dump(mode="json"),
            self.plan.initial_ids,
            ids,
        ).same

    def _mark(self, ref: CallRef, before: BaseModel, after: BaseModel) -> None:
        step = ref[0]
        for served in self._unmet_reads(step):
            self.done.update((served, j) for j in range(len(self.plan.steps[served])))
        self.done.add(ref)
        self.guessed.update(
            i
            for i, fact in enumerate(self.plan.task.user.hidden)
            if fact.must_ask and fact.before_step == step and i not in self.revealed
        )
        gold_ids = self.plan.created.get(ref, ())
        if gold_ids:
            new = sorted(record_ids(after, self.plan.ids) - record_ids(before, self.plan.ids))
            if len(new) == len(gold_ids):
                self.id_map.update(zip(gold_ids, new, strict=True))

    def _unmet_reads(self, step: int) -> Iterable[int]:
        for j in self.plan.after[step]:
            if not self.step_complete(j):
                yield from self._unmet_reads(j)
                yield j
