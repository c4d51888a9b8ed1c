"""Text-level reference policies: the oracle, the expert (DAgger) and random messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from toolgym.env import ToolEnv
from toolgym.gold import topological_order
from toolgym.spaces import random_text
from toolgym.tasks import Task
from toolgym.tooling import ToolCall


class OraclePolicy:
    """Plays the gold trajectory: asks for hidden facts, makes the gold calls, gives the answer.

    The steps run in the written order where the task's partial order allows it
    (:func:`toolgym.gold.topological_order`); each hidden fact is asked for just before the step
    that needs it. An env whose gold is known only from its live state (``gold_from_state =
    True``, e.g. BFCL multi-turn, whose gold turns follow the dataset's user turns) is played by
    its expert instead, so ``reset`` must be given the env that is being played.
    """

    def reset(self, env: ToolEnv, task: Task) -> None:
        """Write the script of assistant messages for ``task`` in the env's tool format."""
        self._expert = env if getattr(env, "gold_from_state", False) else None
        self._script: Iterator[str] = iter(())
        if self._expert is not None:
            return
        script: list[str] = []
        steps = task.steps
        order = topological_order([tuple(step.after or ()) for step in steps])
        for index in [*order, len(steps)]:
            questions = [f.question for f in task.user.hidden if f.before_step == index]
            if questions:
                script.append(" ".join(questions))
            if index < len(steps):
                script.append(env.tool_format.render_calls(steps[index].calls))
        script.append(task.answer())
        self._script = iter(script)

    def act(self, messages: list[dict[str, str]]) -> str:
        """The next message of the script (an empty reply once it runs out)."""
        if self._expert is not None:
            return self._expert.expert_message()
        return next(self._script, "")


class ExpertPolicy:
    """Asks the env for its expert move at every state (:meth:`ToolEnv.expert_message`).

    Unlike the oracle's fixed script it follows the episode as it went, so it can take over from
    another policy mid-episode (DAgger's expert).
    """

    def reset(self, env: ToolEnv, task: Task) -> None:
        """Remember the env."""
        self._env = env

    def act(self, messages: list[dict[str, str]]) -> str:
        """The env's gold next message from its current state."""
        return self._env.expert_message()


class RandomPolicy:
    """Random messages: plain text, calls of real tools with random arguments, and noise."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self, env: ToolEnv, task: Task) -> None:
        """Remember the env's tools and format."""
        self._env = env

    def act(self, messages: list[dict[str, str]]) -> str:
        """Half the time a call of a random tool with random-typed arguments, else text."""
        env, rng = self._env, self.rng
        if rng.random() < 0.5:
            return random_text(rng)
        spec = env.tool_specs[int(rng.integers(len(env.tool_specs)))]["function"]
        names = list(spec["parameters"].get("properties", {})) + ["bogus"]
        arguments = {n: _random_value(rng) for n in names if rng.random() < 0.6}
        name = spec["name"] if rng.random() < 0.9 else "no_such_tool"
        return env.tool_format.render_calls([ToolCall(name=name, arguments=arguments)])


def _random_value(rng: np.random.Generator) -> Any:
    choices: list[Any] = [
        "x", "", "2026-03-02", "10:00", -1, 0, 3, 1e9, True, None, [], {}, ["a"], "../../etc/passwd", "\x00",
    ]  # fmt: skip
    return choices[int(rng.integers(len(choices)))]
