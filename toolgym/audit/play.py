"""Play a scripted trajectory through ``env.step`` and keep what the audit needs.

A script is a list of :data:`Move` functions. Each move sees the :class:`Play` so far (the env,
the id map the audit derives itself from the states, the last WRITEs) and returns the next
assistant message, or raises :class:`NotApplicable` when the variant cannot be built here (no
candidate call exists in this state): the variant is then skipped, not scored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolgym.env import ToolEnv
from toolgym.state_compare import record_ids, rename, rename_ids
from toolgym.suite import CallOutcome
from toolgym.tooling import ToolCall, ToolKind


class NotApplicable(Exception):
    """The variant cannot be built for this task or state."""


@dataclass
class WriteRecord:
    """A successful WRITE call made while playing: the call, its outcome, the state before."""

    call: ToolCall
    outcome: CallOutcome
    before: Any


@dataclass
class Play:
    """A scripted episode in progress (see the module docstring).

    Attributes:
        env: The env being played (reset on the task).
        id_map: Gold replay id -> the id the same record got in this episode, derived by the
            audit from the state before and after each gold step (not from the gold cursor).
        writes: Successful WRITE calls so far, in order.
        step_components: Each step's reward components.
        components: The last step's components (the episode components included).
        end_reason: Why the episode ended ("" while it runs).
        summary: ``info["toolgym"]`` at the end.
    """

    env: ToolEnv
    id_map: dict[str, str] = field(default_factory=dict)
    writes: list[WriteRecord] = field(default_factory=list)
    step_components: list[dict[str, float]] = field(default_factory=list)
    components: dict[str, float] = field(default_factory=dict)
    end_reason: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """Whether the episode has ended."""
        return bool(self.end_reason)

    def send(self, message: str, gold_step: int | None = None) -> None:
        """Step the env with ``message``; map ids when it plays gold step ``gold_step``."""
        env = self.env
        ids = env.suite.generated_ids
        before_state = env.state
        before_ids = record_ids(before_state.model_dump(mode="json"), ids) if ids.records else None
        _, _, terminated, truncated, info = env.step(message)
        turn = env.episode.turns[-1]  # type: ignore[union-attr]
        state = before_state
        for call, outcome in zip(turn.calls, turn.outcomes, strict=False):
            if outcome.ok and outcome.kind is ToolKind.WRITE:
                self.writes.append(WriteRecord(call, outcome, state))
                state = _state_after(env, state, call)
        if gold_step is not None and before_ids is not None:
            self._map_ids(gold_step, before_ids)
        self.step_components.append(info["reward_components"])
        self.components = info["reward_components"]
        if terminated or truncated:
            self.end_reason = info["end_reason"]
            self.summary = info["toolgym"]

    def _map_ids(self, step: int, before_ids: frozenset[str]) -> None:
        plan = self.env.cursor.plan
        gold_new = sorted(
            i for j in range(len(plan.steps[step])) for i in plan.created.get((step, j), ())
        )
        now = record_ids(self.env.state.model_dump(mode="json"), self.env.suite.generated_ids)
        new = sorted(now - before_ids)
        if len(new) == len(gold_new):
            self.id_map.update(zip(gold_new, new, strict=True))

    def rename(self, text: str) -> str:
        """``text`` with gold replay ids replaced by this episode's (whole tokens)."""
        return rename_ids(text, self.id_map)

    def rename_call(self, call: ToolCall) -> ToolCall:
        """``call`` with gold replay ids in its arguments replaced by this episode's."""
        return ToolCall(name=call.name, arguments=rename(call.arguments, self.id_map))


def _state_after(env: ToolEnv, state: Any, call: ToolCall) -> Any:
    """The state after ``call`` on ``state`` (replayed; WRITE tools never mutate their input)."""
    _, after = env.suite.execute(state, call)
    return after


Move = Callable[[Play], tuple[str, int | None]]
"""A scripted turn: ``play -> (assistant message, gold step it plays or None)``."""


def play_script(env: ToolEnv, task_id: str, moves: Sequence[Move]) -> Play:
    """Reset ``env`` on ``task_id`` and play ``moves`` until they run out or the episode ends.

    Raises:
        NotApplicable: a move could not be built, or the episode ended before the last move
            (the variant is not what it claims to be).
    """
    env.reset(seed=0, options={"task_id": task_id})
    play = Play(env)
    for index, move in enumerate(moves):
        if play.done:
            raise NotApplicable(f"the episode ended ({play.end_reason}) before move {index}")
        message, step = move(play)
        play.send(message, step)
    if not play.done:
        raise NotApplicable("the script ran out before the episode ended")
    return play
