"""Trajectory variants of one task: correct alternatives and wrong trajectories that look right.

Correct (``expect="correct"``, used in the process-reward pairs): the gold in every order its
``after`` links allow, with a harmless READ inserted, with a call respelled (the suite's audit
kit), with a paraphrased answer. Correct but not clean (``correct_unclean``): a harmful write
made and undone before the gold (completion must pass; process rewards may charge for it).
Wrong state (``wrong_state``): a WRITE on another record, a WRITE missing, an extra WRITE, the
last WRITE undone. Wrong answer (``wrong_answer``): facts swapped, a fact contradicted, a success
claim after an error, a not-found claim, a guess instead of asking for a hidden fact. Wrong
process (``wrong_process``, pairs only): a gold READ replaced by one with another result.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from toolgym.answers.model import Fact
from toolgym.audit import answers
from toolgym.audit.kit import AuditKit
from toolgym.audit.play import Move, NotApplicable, Play
from toolgym.gold import GoldPlan, linear_extensions
from toolgym.suite import ToolSuite, arguments_key
from toolgym.tasks import Task
from toolgym.tooling import ToolCall, ToolKind

Expect = Literal["correct", "correct_unclean", "wrong_state", "wrong_answer", "wrong_process"]


@dataclass(frozen=True)
class Variant:
    """One scripted trajectory of a task and what a right reward must make of it."""

    name: str
    expect: Expect
    moves: tuple[Move, ...]


@dataclass
class Pools:
    """Calls and argument values seen across a suite's tasks (material for variants)."""

    reads: list[ToolCall] = field(default_factory=list)
    writes: list[ToolCall] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, suite: ToolSuite, tasks: Sequence[Task]) -> Pools:
        """Every distinct gold call of ``tasks``, split by kind, and their string arguments."""
        pools, seen = cls(), set()
        for task in tasks:
            for call in task.flat_gold_calls:
                if not suite.has_tool(call.name) or arguments_key(call) in seen:
                    continue
                seen.add(arguments_key(call))
                kind = suite.tool(call.name).kind
                (pools.writes if kind is ToolKind.WRITE else pools.reads).append(call)
                for key, value in call.arguments.items():
                    if isinstance(value, str):
                        pools.values.setdefault(key, []).append(value)
            pools.texts += [
                str(f.value)
                for f in task.required_outputs
                if isinstance(f, Fact) and f.kind in ("text", "id")
            ]
        return pools


@dataclass
class Builder:
    """Builds the variants of one task (see the module docstring)."""

    task: Task
    plan: GoldPlan
    suite: ToolSuite
    pools: Pools
    kit: AuditKit
    rng: random.Random

    def __post_init__(self) -> None:
        self._salt = self.rng.random()  # which pool calls a variant picks follows the seed

    # ------------------------------------------------------------------ moves
    def say(self, text: str) -> Move:
        """A turn saying ``text``."""
        return lambda play: (text, None)

    def step(self, index: int, edit: Callable[[ToolCall, Play], ToolCall] | None = None) -> Move:
        """Gold step ``index`` as written (ids mapped), its first call edited by ``edit``."""

        def move(play: Play) -> tuple[str, int | None]:
            calls = [play.rename_call(c) for c in self.task.step_calls[index]]
            if edit is not None:
                calls[0] = edit(calls[0], play)
            return play.env.tool_format.render_calls(calls), index

        return move

    def answer(self, text: Callable[[Play], str]) -> Move:
        """The final answer ``text(play)``."""
        return lambda play: (text(play), None)

    def gold_answer(self, play: Play) -> str:
        """The task's gold answer with this episode's ids."""
        return play.rename(self.task.answer())

    def extra(self, pick: Callable[[Play], ToolCall]) -> Move:
        """A turn making the call ``pick`` chooses in the current state."""
        return lambda play: (play.env.tool_format.render_calls([pick(play)]), None)

    # --------------------------------------------------------------- scripts
    def script(
        self,
        order: Sequence[int] | None = None,
        *,
        asks: bool = True,
        edits: dict[int, Callable[[ToolCall, Play], ToolCall]] | None = None,
        skip: frozenset[int] = frozenset(),
        insert: dict[int, list[Move]] | None = None,
        answer: Callable[[Play], str] | None = None,
    ) -> tuple[Move, ...]:
        """The gold script: asks before the steps that need them, steps, the answer."""
        order = list(order if order is not None else linear_extensions(self.plan.after, 1)[0])
        edits, insert = edits or {}, insert or {}
        hidden, n = self.task.user.hidden, len(self.plan.steps)
        moves: list[Move] = []
        for position, index in enumerate([*order, n]):
            moves += insert.get(position, [])
            questions = [f.question for f in hidden if f.before_step == index]
            if questions and asks:
                moves.append(self.say(" ".join(questions)))
            if index < n and index not in skip:
                moves.append(self.step(index, edits.get(index)))
        return (*moves, self.answer(answer or self.gold_answer))

    # -------------------------------------------------------------- variants
    def all(self) -> list[Variant]:
        """Every variant that applies to the task."""
        out = [Variant("gold", "correct", self.script())]
        out += self.correct()
        out += self.wrong_states()
        out += self.wrong_answers()
        out += self.wrong_reads()
        return out

    def correct(self) -> list[Variant]:
        """Other orders, an inserted READ, respelled calls, a paraphrased answer."""
        out = [
            Variant(f"order{order}", "correct", self.script(order))
            for order in linear_extensions(self.plan.after, 6)[1:]
        ]
        if self.task.gold_calls:
            out.append(
                Variant(
                    "extra_read_first",
                    "correct",
                    self.script(insert={0: [self.extra(self.harmless_read)]}),
                )
            )
            middle = len(self.plan.steps) // 2 or 1
            out.append(
                Variant(
                    "extra_read_middle",
                    "correct",
                    self.script(insert={middle: [self.extra(self.harmless_read)]}),
                )
            )
        if self.kit.respell is not None:
            for index in range(len(self.plan.steps))[:3]:
                if len(self.task.step_calls[index]) == 1:
                    out.append(
                        Variant(
                            f"respell{index}", "correct", self.script(edits={index: self.respelled})
                        )
                    )
        id_rng = random.Random(self.rng.random())
        out.append(
            Variant(
                "paraphrase",
                "correct",
                self.script(answer=lambda p: answers.paraphrase(self.task, id_rng, p.id_map)),
            )
        )
        if self.changing_steps():
            moves = [self.extra(self.harmful_write), self.extra(self.undo_last)]
            out.append(Variant("self_corrected", "correct_unclean", self.script(insert={0: moves})))
        return out

    def wrong_states(self) -> list[Variant]:
        """A WRITE on the wrong record, a WRITE missing, an extra WRITE, the last WRITE undone."""
        changing = self.changing_steps()
        writes = [i for i in range(len(self.plan.steps)) if self._first_is_write(i)]
        out = [
            Variant(f"wrong_id{i}", "wrong_state", self.script(edits={i: self.wrong_record}))
            for i in writes[:2]
        ]
        out += [
            Variant(f"missing{i}", "wrong_state", self.script(skip=frozenset({i})))
            for i in changing[:2]
        ]
        if self.task.gold_calls:
            n = len(self.plan.steps)
            out.append(
                Variant(
                    "extra_write",
                    "wrong_state",
                    self.script(insert={n: [self.extra(self.harmful_write)]}),
                )
            )
        if changing and self.kit.undo is not None:
            n = len(self.plan.steps)
            out.append(
                Variant(
                    "undone", "wrong_state", self.script(insert={n: [self.extra(self.undo_last)]})
                )
            )
        return out

    def wrong_answers(self) -> list[Variant]:
        """Swapped and contradicted facts, false claims, a guessed hidden fact."""
        task, out = self.task, []
        rng = random.Random(self.rng.random())
        pair = answers.swappable_pair(task)
        if pair is not None:
            i, j = pair
            fi, fj = task.required_outputs[i], task.required_outputs[j]
            assert isinstance(fi, Fact) and isinstance(fj, Fact)

            def swapped(play: Play) -> str:
                return answers.paraphrase(
                    task,
                    rng,
                    play.id_map,
                    {
                        i: answers.spell(fj, rng, play.id_map),
                        j: answers.spell(fi, rng, play.id_map),
                    },
                )

            out.append(Variant("swapped_facts", "wrong_answer", self.script(answer=swapped)))
        facts = [(i, f) for i, f in enumerate(task.required_outputs) if isinstance(f, Fact)]
        if facts:
            index, fact = self.rng.choice(facts)
            wrong = answers.wrong_value(fact, rng, self.pools.texts)
            if wrong is not None:
                out.append(
                    Variant(
                        "contradicted_fact",
                        "wrong_answer",
                        self.script(
                            answer=lambda p: answers.paraphrase(task, rng, p.id_map, {index: wrong})
                        ),
                    )
                )
        if "error" in task.categories:
            out.append(
                Variant(
                    "success_claim",
                    "wrong_answer",
                    self.script(
                        answer=lambda p: (
                            answers.paraphrase(task, rng, p.id_map) + answers.SUCCESS_TAIL
                        )
                    ),
                )
            )
        if answers.forbids(task, "not_found"):
            out.append(
                Variant(
                    "not_found_claim",
                    "wrong_answer",
                    self.script(
                        answer=lambda p: (
                            answers.NOT_FOUND_HEAD + answers.paraphrase(task, rng, p.id_map)
                        )
                    ),
                )
            )
        if any(f.must_ask for f in task.user.hidden) and task.gold_calls:
            out.append(Variant("guessed", "wrong_answer", self.script(asks=False)))
        return out

    def wrong_reads(self) -> list[Variant]:
        """A gold READ step replaced by a READ of the same tool with another result."""
        reads = [i for i in range(len(self.plan.steps)) if self.plan.read_only(i)]
        return [
            Variant(f"wrong_read{i}", "wrong_process", self.script(edits={i: self.other_read}))
            for i in reads[:1]
        ]

    # ------------------------------------------------------------ call picks
    def changing_steps(self) -> list[int]:
        """Gold steps whose WRITEs change the state when the gold is replayed in order."""
        state, out = self.suite.initial_state(self.task), []
        for index in linear_extensions(self.plan.after, 1)[0]:
            before = state.model_dump(mode="json")
            for call in self.task.step_calls[index]:
                _, state = self.suite.execute(state, call)
            if state.model_dump(mode="json") != before:
                out.append(index)
        return out

    def _first_is_write(self, index: int) -> bool:
        return self.plan.kinds[(index, 0)] is ToolKind.WRITE

    def _gold_keys(self) -> set[str]:
        return {arguments_key(c) for step in self.plan.steps for c in step}

    def harmless_read(self, play: Play) -> ToolCall:
        """A READ of the pool that runs and is no gold call."""
        for call in self._shuffled(self.pools.reads):
            if arguments_key(self.suite.normalize_call(call)) in self._gold_keys():
                continue
            outcome, _ = self.suite.execute(play.env.state, call)
            if outcome.ok:
                return call
        raise NotApplicable("no harmless READ in the pool runs here")

    def harmful_write(self, play: Play) -> ToolCall:
        """A WRITE of the pool that runs, changes the state and is no gold call."""
        state = play.env.state
        for call in self._shuffled(self.pools.writes):
            if arguments_key(self.suite.normalize_call(call)) in self._gold_keys():
                continue
            outcome, after = self.suite.execute(state, call)
            if outcome.ok and after.model_dump(mode="json") != state.model_dump(mode="json"):
                return call
        raise NotApplicable("no harmful WRITE in the pool runs here")

    def undo_last(self, play: Play) -> ToolCall:
        """The suite kit's reversal of the last successful WRITE."""
        if not play.writes or self.kit.undo is None:
            raise NotApplicable("nothing to undo")
        last = play.writes[-1]
        call = self.kit.undo(last.call, last.outcome, last.before)
        if call is None:
            raise NotApplicable(f"the kit cannot undo {last.call.name}")
        return call

    def respelled(self, call: ToolCall, play: Play) -> ToolCall:
        """The kit's other spelling of ``call`` (NotApplicable when it has none)."""
        other = self.kit.respell(call, play.env.state) if self.kit.respell else None
        if other is None or arguments_key(other) == arguments_key(call):
            raise NotApplicable(f"no other spelling of {call.name}")
        return other

    def wrong_record(self, call: ToolCall, play: Play) -> ToolCall:
        """``call`` with one string argument naming another record: it runs, with another effect."""
        state = play.env.state
        _, gold_after = self.suite.execute(state, call)
        for key, value in call.arguments.items():
            if not isinstance(value, str):
                continue
            for other in self._shuffled(sorted(set(self.pools.values.get(key, [])) - {value})):
                candidate = ToolCall(name=call.name, arguments={**call.arguments, key: other})
                outcome, after = self.suite.execute(state, candidate)
                if outcome.ok and after.model_dump(mode="json") != gold_after.model_dump(
                    mode="json"
                ):
                    return candidate
        raise NotApplicable(f"no other record for {call.name}")

    def other_read(self, call: ToolCall, play: Play) -> ToolCall:
        """A READ of the same tool from the pool with another result than ``call``'s."""
        state = play.env.state
        gold, _ = self.suite.execute(state, call)
        for other in self._shuffled([c for c in self.pools.reads if c.name == call.name]):
            outcome, _ = self.suite.execute(state, other)
            if outcome.ok and outcome.result != gold.result:
                return other
        raise NotApplicable(f"no other {call.name} in the pool")

    def _shuffled(self, items: Sequence[ToolCall] | Sequence[str]) -> list:
        out = list(items)
        random.Random(f"{self._salt}:{len(out)}").shuffle(out)
        return out
