"""``BFCLMultiTurnEnv``: one BFCL multi-turn entry per episode, run on BFCL's own simulated APIs.

``reset`` shows the system prompt (the tools, rendered by the tool format) and the first user turn.
Each ``step(text)`` reads the calls in the assistant message with BFCL's Hermes-style decoder
(:mod:`toolgym.bfcl.decode`), executes them against the entry's instances (GorillaFileSystem,
TwitterAPI, ... from ``bfcl_eval``, loaded with the entry's ``initial_config``) and answers with one
``tool`` message per call. A message without calls (or that BFCL cannot decode) ends the turn, and
the next user turn comes (miss_func: at the turn BFCL adds the held-out functions, the user message
is BFCL's "I have updated some more functions..." with the new functions). More than
``MAXIMUM_STEP_LIMIT`` (20, BFCL's) steps in one turn force-quits the entry, which then fails.

Reward: 0 on every step; on the last step, the weighted sum of two components. ``completion`` is
BFCL's per-entry verdict (1.0 when ``multi_turn_checker`` -- state check and response check after
every turn -- passes, else 0.0), the all-turns success BFCL's multi-turn accuracy averages;
``turns`` is the fraction of the entry's turns that pass BFCL's checks of that turn
(:mod:`toolgym.bfcl.multi_turn_turns`; a force-quit fails the turn it stopped in and every later
one). The default weights ``{"completion": 1.0}`` keep the reward BFCL's number; ``rewards=
{"completion": 1.0, "turns": 0.5}`` adds a denser signal. Both components are always in
``info["reward_components"]`` at the end. ``info`` has the keys every toolgym env's has
(``task_id``, ``turn``, ``messages``, ``reward_components``; at the end ``end_reason`` and the
``toolgym`` summary, which adds ``reward_components`` and ``turns_passed``, one bool per turn), and
``info["bfcl"]`` the checker's result.

Calls are checked before bfcl-eval ``eval``s them (:meth:`Session.refusal`): a name that is not a
method of the entry's APIs gets BFCL's undefined-name error and is neither run nor scored.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

from toolgym.bfcl.data import tool_spec
from toolgym.bfcl.decode import decode_message
from toolgym.bfcl.multi_turn_data import MultiTurnEntry, load_multi_turn
from toolgym.bfcl.multi_turn_exec import Session, bfcl_verdict, call_string, gold_calls
from toolgym.bfcl.multi_turn_turns import reward_weights, turn_fraction, turn_results
from toolgym.episode import copy_messages
from toolgym.formats import FormatName, get_format
from toolgym.formats.base import action_problem
from toolgym.spaces import Messages, Text
from toolgym.tasks import Task, choose_task
from toolgym.tooling import ToolCall

MAX_ACTION_CHARS = 32_768
#: BFCL's ``MAXIMUM_STEP_LIMIT``: steps one turn may take before the entry is force-quit.
MAXIMUM_STEP_LIMIT = 20
#: BFCL's ``DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_FC``.
ADDED_FUNCTIONS_PROMPT = "I have updated some more functions you can choose from. What about now?"


class BFCLMultiTurnEnv(gym.Env[list[dict[str, str]], str]):
    """Multi-turn BFCL: the user's turns in order, the agent's calls run on BFCL's APIs."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}
    #: The oracle plays :meth:`expert_message` (the gold of each turn depends on the dataset's
    #: user turns, not on a static script).
    gold_from_state = True

    def __init__(
        self,
        entries: Sequence[MultiTurnEntry],
        *,
        format: FormatName = "hermes",
        render_mode: str | None = None,
        rewards: Mapping[str, float] | None = None,
        turn_rewards: bool = False,
    ) -> None:
        """Build an env over ``entries`` (from :func:`load_multi_turn`); Hermes format only.

        ``rewards``: weights of the components ``completion`` and ``turns`` (default
        ``{"completion": 1.0}``, BFCL's verdict); unnamed components get weight 0.
        ``turn_rewards``: pay the ``turns`` weight as it is earned, ``weight / n_turns`` on the
        step that ends each passing turn (the last step pays the rest, so the step rewards still
        sum to the episode's weighted total).
        """
        if not entries:
            raise ValueError("BFCLMultiTurnEnv needs at least one entry")
        if format != "hermes":
            raise ValueError(
                f"BFCLMultiTurnEnv reads calls with BFCL's Hermes decoder; got format={format!r}, "
                "use format='hermes'"
            )
        self.entries = {e.id: e for e in entries}
        self.ids = list(self.entries)
        self.tasks: list[Task] = [e.task for e in entries]
        self._tasks_by_id = {t.id: t for t in self.tasks}
        self.tool_format = get_format(format)
        self.render_mode = render_mode
        self.weights = reward_weights(rewards)
        self.turn_rewards = turn_rewards
        self.action_space = Text(MAX_ACTION_CHARS)
        self.observation_space = Messages()
        self.entry: MultiTurnEntry = entries[0]
        self.tool_specs: list[dict[str, Any]] = []
        self._session: Session | None = None
        self._messages: list[dict[str, str]] = []
        self._summary: dict[str, Any] | None = None
        self._done = True
        #: Seconds per phase (reset / parse / execute / score) and the step count, like ToolEnv's.
        self.timings: defaultdict[str, float] = defaultdict(float)

    @property
    def task(self) -> Task:
        """The running (or last) entry as a toolgym Task."""
        return self._tasks_by_id[self.entry.id]

    # -- episode --------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """Start an episode; ``options={"task_id": ...}`` picks the entry (else one at random)."""
        super().reset(seed=seed)
        task_id = choose_task(options or {}, self._tasks_by_id, self.np_random).id
        self.entry = self.entries[task_id]
        self.close()
        start = time.perf_counter()
        self._session = Session(self.entry.raw)
        self.timings["reset"] += time.perf_counter() - start
        self.tool_specs = self.entry.specs
        self._turn = 0
        self._steps = 0
        self._decoded: list[list[list[str]]] = [[]]
        self._calls = 0
        self._paid = 0.0
        self._messages = [
            {"role": "system", "content": self.tool_format.render_tools(self.tool_specs)}
        ]
        self._messages += self._user_messages(0)
        self._done = False
        info = {"task_id": task_id, "turn": 0, "messages": copy_messages(self._messages)}
        return copy_messages(self._messages), info

    def _user_messages(self, turn: int) -> list[dict[str, str]]:
        added = self.entry.held_out.get(turn)
        if added:
            self.tool_specs = self.tool_specs + [tool_spec(f) for f in added]
            text = self.tool_format.render_tools([tool_spec(f) for f in added])
            return [{"role": "user", "content": f"{text}\n{ADDED_FUNCTIONS_PROMPT}"}]
        turns = self.entry.raw["question"]
        return [{"role": str(m["role"]), "content": str(m["content"])} for m in turns[turn]]

    def step(self, action: str) -> tuple[list[dict[str, str]], float, bool, bool, dict[str, Any]]:
        """Run one assistant message (see the module docstring)."""
        if self._done or self._session is None:
            raise RuntimeError("the episode is over (or never started): call reset() first")
        if not isinstance(action, str):
            raise TypeError(f"action must be a str, got {type(action).__name__}")
        self._messages.append({"role": "assistant", "content": action[:MAX_ACTION_CHARS]})
        self._steps += 1
        self.timings["steps"] += 1
        start = time.perf_counter()
        calls = (
            [] if action_problem(action, MAX_ACTION_CHARS) else list(decode_message(action).calls)
        )
        self.timings["parse"] += time.perf_counter() - start
        obs: list[dict[str, str]]
        reward = 0.0
        if calls:
            results = self._run(calls)
            obs = [
                {"role": "tool", "name": c.name, "content": r}
                for c, r in zip(calls, results, strict=True)
            ]
            if self._steps > MAXIMUM_STEP_LIMIT:
                return self._end(obs, "step_limit")
        else:
            if self._turn + 1 < len(self.entry.raw["question"]):
                reward = self._turn_reward()
            self._turn += 1
            self._steps = 0
            if self._turn >= len(self.entry.raw["question"]):
                return self._end([], "answered")
            self._decoded.append([])
            obs = self._user_messages(self._turn)
        self._messages += obs
        info = {
            "task_id": self.entry.id,
            "turn": self._turn,
            "messages": copy_messages(self._messages),
            "reward_components": {},
        }
        return copy_messages(obs), reward, False, False, info

    def _run(self, calls: list[ToolCall]) -> list[str]:
        """Each call's result; only the calls :meth:`Session.refusal` accepts are run and scored."""
        assert self._session is not None
        refusals = [self._session.refusal(c) for c in calls]
        strings = [call_string(c) for c, r in zip(calls, refusals, strict=True) if r is None]
        start = time.perf_counter()
        executed, _ = self._session.execute(strings) if strings else ([], {})
        self.timings["execute"] += time.perf_counter() - start
        self._decoded[-1].append(strings)
        self._calls += len(calls)
        ran = iter(executed)
        return [r if r is not None else next(ran) for r in refusals]

    def _end(
        self, obs: list[dict[str, str]], reason: str
    ) -> tuple[list[dict[str, str]], float, bool, bool, dict[str, Any]]:
        self._messages += obs
        self._done = True
        if reason == "step_limit":
            verdict: dict[str, Any] = {"valid": False, "error_type": "multi_turn:force_quit"}
        else:
            start = time.perf_counter()
            verdict = bfcl_verdict(self.entry.raw, self._decoded, self.entry.ground_truth)
            self.timings["score"] += time.perf_counter() - start
        passed = self._turns_passed(reason)
        self.close()
        components = {
            "completion": float(bool(verdict.get("valid"))),
            "turns": turn_fraction(passed),
        }
        reward = sum(self.weights[name] * value for name, value in components.items()) - self._paid
        verdict = json.loads(json.dumps(verdict, default=str))
        self._summary = {
            "task_id": self.entry.id,
            "category": self.entry.category,
            "end_reason": reason,
            "turns": self._turn,
            "calls": self._calls,
            "reward_components": components,
            "turns_passed": passed,
            "bfcl": verdict,
        }
        info = {
            "task_id": self.entry.id,
            "turn": self._turn,
            "messages": copy_messages(self._messages),
            "end_reason": reason,
            "reward_components": dict(components),
            "toolgym": self.summary(),
            "bfcl": verdict,
        }
        return copy_messages(obs), reward, True, False, info

    def _turn_reward(self) -> float:
        """With ``turn_rewards``: the ``turns`` weight's share for the turn now ending, if it passes."""
        weight, turns = self.weights["turns"], len(self.entry.ground_truth)
        if not (self.turn_rewards and weight):
            return 0.0
        done = self._turn + 1
        start = time.perf_counter()
        passed = turn_results(self.entry.raw, self._decoded[:done], self.entry.ground_truth[:done])
        self.timings["score"] += time.perf_counter() - start
        reward = weight / turns if passed[-1] else 0.0
        self._paid += reward
        return reward

    def _turns_passed(self, reason: str) -> list[bool]:
        """Per turn, whether it passes BFCL's checks; a force-quit fails its turn and the rest."""
        truth = self.entry.ground_truth
        done = self._turn if reason == "step_limit" else len(truth)
        start = time.perf_counter()
        passed = turn_results(self.entry.raw, self._decoded[:done], truth[:done])
        self.timings["score"] += time.perf_counter() - start
        return passed + [False] * (len(truth) - done)

    def summary(self) -> dict[str, Any]:
        """JSON-able summary of the last finished episode (entry, turns, calls, BFCL's verdict)."""
        if self._summary is None:
            raise RuntimeError("no finished episode yet: reset() then step() to the end")
        return json.loads(json.dumps(self._summary))

    # -- oracle ---------------------------------------------------------------------------
    def expert_message(self) -> str:
        """The oracle's next message: the turn's gold calls in one message, then a plain reply."""
        if self._done or self._session is None:
            raise RuntimeError("no running episode: call reset() first")
        gold = (
            self.entry.ground_truth[self._turn] if self._turn < len(self.entry.ground_truth) else []
        )
        if gold and not self._decoded[-1]:
            instances = self._session.instances
            return self.tool_format.render_calls([gold_calls(g, instances) for g in gold])
        return "Done."

    def close(self) -> None:
        """Free the episode's BFCL instances."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def render(self) -> str | None:
        """The conversation so far as plain text (``render_mode="ansi"``)."""
        if self.render_mode != "ansi":
            return None
        return "\n\n".join(f"[{m['role']}] {m['content']}" for m in self._messages)


def make_bfcl_multi_turn_env(
    category: str,
    split: str = "test",
    *,
    format: FormatName = "hermes",
    limit: int | None = None,
    render_mode: str | None = None,
    user: Any = None,
    rewards: Mapping[str, float] | None = None,
    turn_rewards: bool = False,
) -> BFCLMultiTurnEnv:
    """The env of one multi-turn category (entry point of ``toolgym/BFCL-multi-turn-*-v0``).

    ``rewards`` weighs the components ``completion`` and ``turns``; ``turn_rewards`` pays the
    ``turns`` weight turn by turn (see :class:`BFCLMultiTurnEnv`).
    """
    if split != "test":
        raise ValueError(f"BFCL has only a test split (got split={split!r})")
    entries = load_multi_turn(category)
    return BFCLMultiTurnEnv(
        entries[:limit] if limit is not None else entries,
        format=format,
        render_mode=render_mode,
        rewards=rewards,
        turn_rewards=turn_rewards,
    )
