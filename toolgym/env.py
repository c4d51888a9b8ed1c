"""``ToolEnv``: a Gymnasium environment in which an agent talks and calls tools to solve a task.

One episode = one task. The agent's action is the text of one assistant message; the observation
is the list of messages that came back (tool results, errors, or the user's reply).

``step`` returns Gymnasium's five values:

- ``observation``: the new messages, ``[{"role": "tool" | "user", "content": ..., "name"?: ...}]``.
- ``reward``: the rubric's weighted sum of this turn's components, plus, on the last step, the
  episode components (task completion, ...). Every component is in ``info["reward_components"]``.
- ``terminated``: the episode reached a natural end: the user ended the conversation after an
  answer, or (GLM-4.5 rule, if enabled) a malformed tool call halted it. Do not bootstrap.
- ``truncated``: a limit cut the episode short (max turns, max consecutive invalid turns), or the
  user simulator's model failed (``end_reason="user_error"``, with the
  reason in ``info["toolgym"]["user_error"]``: not the agent's fault, so evaluations and the
  trainer leave such episodes out of success rates). A value estimate may bootstrap.
- A message longer than ``limits.max_action_chars``, not valid Unicode, or with more than
  ``limits.max_calls_per_turn`` calls is refused unread (an error observation, an invalid turn);
  so is a call block over the size, depth or key caps, and a string argument the engine refuses
  (:mod:`toolgym.argument_text`).
- ``info``: ``task_id``, ``turn``, the whole conversation (``messages``), ``reward_components``,
  and at the end ``end_reason`` and ``toolgym`` (the episode summary; not ``episode``, which
  ``gymnasium.wrappers.RecordEpisodeStatistics`` owns). ``reset``'s info adds ``tools``.

Wall-clock time per phase (parse / validate / execute / user / render / reset) accumulates in
``env.unwrapped.timings``; it is kept out of ``info`` so that equal seeds give equal infos.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

from toolgym.answers import check_answer
from toolgym.episode import TRUNCATING_REASONS, CallRole, EndReason, Episode, Turn, copy_messages
from toolgym.formats import FormatName, get_format
from toolgym.formats.base import ParsedTurn, action_problem, shown_action
from toolgym.gold import GoldCursor, GoldPlan
from toolgym.limits import Limits
from toolgym.rewards import JudgeReward, LLMJudge, Rubric, completion_report
from toolgym.spaces import Messages, Text
from toolgym.state_compare import canonical_hash, rename_ids
from toolgym.suite import CallOutcome, ToolSuite
from toolgym.tasks import Task, choose_task
from toolgym.tooling import ToolCall, ToolKind
from toolgym.users import ScriptedUser, UserSimulator, UserUnavailable

DEFAULT_REWARDS: dict[str, float] = {"completion": 1.0}


class ToolEnv(gym.Env[list[dict[str, str]], str]):
    """Text-level tool-use environment over one tool suite and a list of tasks."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        suite: ToolSuite,
        tasks: Sequence[Task],
        *,
        format: FormatName = "hermes",
        user: UserSimulator | None = None,
        rewards: Rubric | Mapping[str, float] | None = None,
        limits: Limits | None = None,
        halt_on_malformed: bool = False,
        render_mode: str | None = None,
        judge: LLMJudge | None = None,
    ) -> None:
        """Build an environment.

        Args:
            suite: The tool suite the agent acts on.
            tasks: Tasks to draw episodes from (``reset`` samples one unless given ``task_id``).
            format: Tool-call format the agent must use.
            user: Simulated user; the scripted user by default.
            rewards: A Rubric, or weights by component name (default: completion only).
            limits: Episode limits.
            halt_on_malformed: GLM-4.5 rule: a malformed tool call ends the episode with reward 0.
            render_mode: ``"ansi"`` to get the conversation as text from ``render()``.
            judge: An LLM judge of the final answer. When given, its components ``judge``
                (1.0 on PASS) and ``judge_failed`` (1.0 when no verdict could be obtained) join
                the rubric (:class:`~toolgym.rewards.JudgeReward`; weight them like any other,
                e.g. ``rewards={"completion": 1.0, "judge": 1.0}``); it is asked once per
                episode, at the end, and the verdict is in ``info["toolgym"]["judge"]``.
        """
        if not tasks:
            raise ValueError(f"ToolEnv for suite {suite.name!r} needs at least one task")
        wrong = [t.id for t in tasks if t.suite != suite.name]
        if wrong:
            raise ValueError(f"tasks {wrong[:5]} belong to another suite than {suite.name!r}")
        self.suite, self.tasks = suite, list(tasks)
        self._tasks_by_id = {t.id: t for t in self.tasks}
        self.tool_format = get_format(format)
        self.user = user or ScriptedUser()
        extra = JudgeReward(judge).components() if judge is not None else None
        if isinstance(rewards, Rubric):
            self.rubric = rewards.with_episode_rewards(extra) if extra else rewards
        else:
            self.rubric = Rubric(rewards or DEFAULT_REWARDS, extra)
        self.judge = judge
        self.limits = limits or Limits()
        self.halt_on_malformed = halt_on_malformed
        self.render_mode = render_mode
        self.action_space = Text(self.limits.max_action_chars)
        self.observation_space = Messages()
        self.tool_specs = suite.specs()
        self._tools_block = self.tool_format.render_tools(self.tool_specs)
        self._parameters = {
            s["function"]["name"]: s["function"]["parameters"] for s in self.tool_specs
        }
        self._parse_limits = self.limits.parse_limits()
        self._plans: dict[str, GoldPlan] = {}
        self.timings: defaultdict[str, float] = defaultdict(float)
        self.episode: Episode | None = None
        self._done = True

    # ------------------------------------------------------------------ reset
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """Start an episode. ``options`` may name ``task_id`` (else a task is drawn at random)."""
        start = time.perf_counter()
        super().reset(seed=seed)
        self.task = choose_task(options or {}, self._tasks_by_id, self.np_random)
        self.state = self.suite.initial_state(self.task)
        self.cursor = GoldCursor(self.gold_plan(self.task), self.suite)
        self._reads_made: list[tuple[ToolCall, Any]] = []  # (READ call, the state it read)
        self._invalid_streak = 0
        first = self.user.start(self.task)
        messages = [
            {"role": "system", "content": self.system_prompt(self.task)},
            {"role": "user", "content": first},
        ]
        self.episode = Episode(
            self.task, messages=messages, halt_on_malformed=self.halt_on_malformed
        )
        self._done = False
        self.timings["reset"] += time.perf_counter() - start
        self.timings["resets"] += 1
        info = {
            "task_id": self.task.id,
            "turn": 0,
            "messages": copy_messages(messages),
            "tools": json.loads(json.dumps(self.tool_specs)),
        }
        return copy_messages(messages), info

    def system_prompt(self, task: Task, *, with_tools: bool = True) -> str:
        """Suite instructions, the task's context, then (unless told not to) the tools block.

        Policies that pass tools natively (OpenAI ``tools=``) use ``with_tools=False``.
        """
        parts = [
            self.suite.instructions,
            task.context or "",
            self._tools_block if with_tools else "",
        ]
        return "\n\n".join(p.strip() for p in parts if p and p.strip())

    def gold_plan(self, task: Task) -> GoldPlan:
        """The task's gold on this env's suite: canonical steps, created ids, end state (cached)."""
        if task.id not in self._plans:
            self._plans[task.id] = GoldPlan.build(self.suite, task)
        return self._plans[task.id]

    # ------------------------------------------------------------------- step
    def step(self, action: str) -> tuple[list[dict[str, str]], float, bool, bool, dict[str, Any]]:
        """Apply one assistant message; see the module docstring for the five return values."""
        if self._done or self.episode is None:
            raise RuntimeError("the episode is over (or never started): call reset() first")
        if not isinstance(action, str):
            raise TypeError(
                f"action must be the assistant's message as a str, got {type(action).__name__}"
            )
        episode = self.episode
        start = time.perf_counter()
        refusal = action_problem(action, self.limits.max_action_chars)
        if refusal is None:
            parsed = self.tool_format.parse(action, self._parameters, self._parse_limits)
        else:  # too long or not valid Unicode: refused unread, kept only as a safe excerpt
            parsed = ParsedTurn("", errors=(refusal,), refused=True)
            action = shown_action(action, self.limits.max_action_chars)
        turn = Turn(len(episode.turns), action, parsed)
        turn.gold.open_steps = self.cursor.open_steps()
        self._matched_refs: list[tuple[int, int]] = []
        self.timings["parse"] += time.perf_counter() - start
        episode.turns.append(turn)
        episode.messages.append({"role": "assistant", "content": action})
        observation, end = self._respond(turn)
        start = time.perf_counter()
        end = end or self._limit_reached(turn)
        components = self.rubric.score_turn(turn)
        reward = self.rubric.total(components)
        if end is not None:
            reward = self._finish(end, components, reward)
        episode.messages.extend(observation)
        info = {
            "task_id": self.task.id,
            "turn": len(episode.turns),
            "messages": copy_messages(episode.messages),
            "reward_components": components,
        }
        if end is not None:
            info |= {"end_reason": end, "toolgym": self.summary()}
        self.timings["render"] += time.perf_counter() - start
        self.timings["steps"] += 1
        return (
            observation,
            reward,
            end in ("answered", "malformed"),
            end in TRUNCATING_REASONS,
            info,
        )

    def _respond(self, turn: Turn) -> tuple[list[dict[str, str]], EndReason | None]:
        """Run the turn's calls or pass its text to the user; returns new messages and an end."""
        parsed = turn.parsed
        if parsed.refused:
            refusal = f"Error: message refused: {'; '.join(parsed.errors)}"
            halted: EndReason | None = "malformed" if self.halt_on_malformed else None
            return [{"role": "tool", "name": "error", "content": refusal}], halted
        observation = [self._run_call(turn, call) for call in parsed.calls]
        touched = {ref[0] for ref in self._matched_refs}
        turn.gold.completes_steps = all(self.cursor.step_complete(i) for i in touched)
        if parsed.errors:
            errors = "; ".join(parsed.errors)
            observation.append(
                {
                    "role": "tool",
                    "name": "error",
                    "content": f"Error: malformed tool call ({self.tool_format.name} format): {errors}",
                }
            )
            return observation, ("malformed" if self.halt_on_malformed else None)
        if parsed.calls:
            return observation, None
        start = time.perf_counter()
        try:
            reply = self.user.reply(parsed.content)
        except UserUnavailable as exc:  # the user's model failed: end the episode, blame no one
            self.episode.user_error = str(exc)  # type: ignore[union-attr]
            return observation, "user_error"
        finally:
            self.timings["user"] += time.perf_counter() - start
        if reply.stop:
            turn.gold.talk = "answered"
            turn.gold.talk_correct = self._check_answer(parsed.content)
            return observation, "answered"
        new = set(reply.revealed) - self.cursor.revealed
        self.cursor.revealed.update(reply.revealed)
        turn.gold.talk, turn.gold.talk_correct = ("asked", True) if new else ("replied", False)
        return [{"role": "user", "content": reply.text or ""}], None

    def _run_call(self, turn: Turn, call: ToolCall) -> dict[str, str]:
        before = self.state
        outcome, self.state = self.suite.execute(before, call)
        self.timings["validate"] += outcome.validate_s
        self.timings["execute"] += outcome.execute_s
        turn.outcomes.append(outcome)
        turn.calls.append(outcome.normalized or call)
        start = time.perf_counter()
        role, gold = self._judge_call(outcome, before)
        self.timings["gold"] += time.perf_counter() - start
        turn.gold.roles.append(role)
        turn.gold.matched.append(gold)
        return {"role": "tool", "name": call.name, "content": self._tool_text(outcome)}

    def _judge_call(self, outcome: CallOutcome, before: Any) -> tuple[CallRole, ToolCall | None]:
        """Match an executed call against the gold cursor; its role for the process rewards."""
        if outcome.kind is None:  # an unknown tool
            return "wrong", None
        blocked = self.cursor.blocked_steps()
        call = outcome.normalized or outcome.call
        repeat = outcome.kind is ToolKind.READ and self._repeats_a_read(call, before)
        found = self.cursor.match(call, outcome, before, self.state)
        if found is not None:
            ref, gold = found
            self._matched_refs.append(ref)
            return ("wrong" if ref[0] in blocked else "match"), gold
        free = outcome.kind is ToolKind.READ and outcome.error_kind != "invalid_arguments"
        if free and not repeat and self.task.extra_reads == "free" and self.task.gold_calls:
            return "extra_read", None
        return "wrong", None

    def _repeats_a_read(self, call: ToolCall, state: Any) -> bool:
        """Whether this READ was already made on this very state (its result is in the chat).

        READs run on the state itself and a successful WRITE replaces it (:meth:`Suite.execute`),
        so the same object means no change since. Records the READ otherwise.
        """
        if any(done == call and seen is state for done, seen in self._reads_made):
            return True
        self._reads_made.append((call, state))
        return False

    def _check_answer(self, answer: str) -> bool:
        """Record the final answer, the final state and the answer checks; whether all hold."""
        episode, cursor = self.episode, self.cursor
        assert episode is not None
        episode.final_answer = answer
        episode.state = cursor.plan.compare(self.state)
        id_map = {**cursor.id_map, **episode.state.id_map}
        episode.answer_check = check_answer(
            answer, self.task.required_outputs, self.task.forbidden, id_map=id_map
        )
        episode.guessed_facts = sorted(cursor.guessed | set(cursor.missing_facts()))
        return (
            cursor.complete
            and episode.state.same
            and not episode.guessed_facts
            and episode.answer_check.passed
            and not (not self.task.gold_calls and episode.num_calls)
        )

    def _tool_text(self, outcome: CallOutcome) -> str:
        text = (
            f"Error: {outcome.error}"
            if outcome.error
            else json.dumps(outcome.result, ensure_ascii=False)
        )
        cap = self.limits.max_result_chars
        if len(text) > cap:
            text = text[:cap] + f"\n[truncated: {len(text) - cap} more characters not shown]"
        return text

    def expert_message(self) -> str:
        """The gold next assistant message from the current state (DAgger's expert).

        The questions for hidden facts that are due and not yet revealed, else the remaining
        calls of the first enabled gold step (as the task wrote them, ids mapped onto the
        episode's) in the env's tool format, else the task's final answer (ids mapped). It
        follows the episode as it went: after an off-gold call the gold steps are still open.
        """
        cursor = self.cursor
        questions = [self.task.user.hidden[i].question for i in cursor.due_facts()]
        if questions:
            return " ".join(questions)
        calls = cursor.next_calls()
        if calls:
            return self.tool_format.render_calls(calls)
        comparison = cursor.plan.compare(self.state)
        return rename_ids(self.task.answer(), {**cursor.id_map, **comparison.id_map})

    def _limit_reached(self, turn: Turn) -> EndReason | None:
        self._invalid_streak = self._invalid_streak + 1 if turn.invalid else 0
        if self._invalid_streak >= self.limits.max_invalid_streak:
            return "max_invalid_streak"
        if len(self.episode.turns) >= self.limits.max_turns:  # type: ignore[union-attr]
            return "max_turns"
        return None

    def _finish(self, end: EndReason, components: dict[str, float], reward: float) -> float:
        """Close the episode: compare states, add the episode components to this step."""
        episode = self.episode
        assert episode is not None
        episode.end_reason = end
        if episode.state is None:
            episode.state = self.cursor.plan.compare(self.state)
        episode.final_state_hash = episode.state.actual_hash
        episode.expected_state_hash = episode.state.expected_hash
        episode_components = self.rubric.score_episode(episode)
        components.update(episode_components)
        self._done = True
        if end == "malformed":
            return 0.0
        return reward + self.rubric.total(episode_components)

    # ------------------------------------------------------------ inspection
    def summary(self) -> dict[str, Any]:
        """JSON-able summary of the current episode (task, end, final answer, counts)."""
        episode = self.episode
        assert episode is not None
        return {
            "task_id": episode.task.id,
            "end_reason": episode.end_reason,
            "final_answer": episode.final_answer,
            "turns": len(episode.turns),
            "calls": episode.num_calls,
            "tool_crashes": episode.num_tool_crashes,
            "write_calls": sum(
                o.kind is ToolKind.WRITE and o.ok for t in episode.turns for o in t.outcomes
            ),
            "state_hash": (
                episode.final_state_hash
                if self._done
                else self._state_key(self.state.model_dump(mode="json"))
            ),
            "expected_state_hash": episode.expected_state_hash,
            "completion": completion_report(episode) if self._done else None,
            "user_error": episode.user_error,
            "judge": episode.judge_verdict.as_dict() if episode.judge_verdict else None,
        }

    def _state_key(self, data: dict[str, Any]) -> str:
        """Hash of a state dump up to generated ids: equal hashes = the same state."""
        return canonical_hash(data, self.cursor.plan.initial_ids, self.suite.generated_ids)

    def render(self) -> str | None:
        """The conversation so far as plain text (``render_mode="ansi"``)."""
        if self.render_mode != "ansi" or self.episode is None:
            return None
        return "\n\n".join(
            f"[{m['role']}{'/' + m['name'] if 'name' in m else ''}] {m['content']}"
            for m in self.episode.messages
        )
