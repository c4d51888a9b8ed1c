"""``LLMJudge``: an optional model-graded reward for open-ended final answers.

The judge fills a prompt template (``prompts/judge.md`` by default, ``string.Template``
placeholders ``$instruction``, ``$context``, ``$answer``, ``$reference``, ``$required``) from the
task and the episode's final answer, sends it to a chat backend (a local model or any
OpenAI-compatible endpoint, see :mod:`toolgym.llm.backends`) and reads the reply strictly: the
reply must end with exactly one line ``VERDICT: PASS`` or ``VERDICT: FAIL``. Anything else is a
judge failure, reported with its reason, never guessed at.

In an env (``ToolEnv(..., judge=LLMJudge(backend))``) the judge runs once, when an episode ends,
as the rubric components of :class:`~toolgym.rewards.judge_reward.JudgeReward`, which add two
end-of-episode components: ``judge`` (1.0 on PASS, else 0.0) and ``judge_failed``
(1.0 when no verdict could be obtained: backend error or unreadable reply). The verdict, its raw
reply and its error are in ``info["toolgym"]["judge"]``. An episode that ended without a final
answer is not sent to the model: there is nothing to judge, so it fails (``passed=False``) without
a judge error.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from importlib import resources
from string import Template

from toolgym.answers.model import Fact, RequiredOutput
from toolgym.episode import Episode, Verdict
from toolgym.llm.backends import BackendError, ChatBackend
from toolgym.tasks import Task

PLACEHOLDERS: frozenset[str] = frozenset(
    {"instruction", "context", "answer", "reference", "required"}
)
"""The placeholders a judge template may use (``$answer`` is required)."""

VERDICT_LINE = re.compile(r"VERDICT: (PASS|FAIL)")
"""A verdict line, matched against a whole stripped line (case-sensitive)."""

_EXPECTED = "expected a last line 'VERDICT: PASS' or 'VERDICT: FAIL'"


def default_judge_prompt() -> str:
    """The bundled judge prompt template (``string.Template`` placeholders)."""
    return (
        resources.files("toolgym.rewards").joinpath("prompts/judge.md").read_text(encoding="utf-8")
    )


def parse_verdict(text: str) -> Verdict:
    r"""Read a judge reply strictly.

    The reply must hold exactly one line that is, once stripped of surrounding whitespace,
    ``VERDICT: PASS`` or ``VERDICT: FAIL`` (case-sensitive, nothing else on the line), and that
    line must be the last non-empty one. Anything else gives ``passed=None`` and an ``error``
    naming what was wrong: no verdict line, several verdict lines, or text after the verdict.

    Args:
        text: The judge model's reply.

    Returns:
        The verdict, with ``raw=text``.

    Examples:
        >>> parse_verdict("The answer states 3 events.\nVERDICT: PASS").passed
        True
        >>> parse_verdict("verdict: pass").error
        "no verdict line, expected a last line 'VERDICT: PASS' or 'VERDICT: FAIL' (closest: 'verdict: pass')"
    """
    lines = [line.strip() for line in text.splitlines()]
    hits = [i for i, line in enumerate(lines) if VERDICT_LINE.fullmatch(line)]
    if not hits:
        if not any(lines):
            return Verdict(None, text, f"no verdict line (the reply is empty), {_EXPECTED}")
        near = next((line for line in lines if "verdict" in line.lower()), None)
        closest = f" (closest: {near[:80]!r})" if near is not None else ""
        return Verdict(None, text, f"no verdict line, {_EXPECTED}{closest}")
    if len(hits) > 1:
        shown = ", ".join(repr(lines[i]) for i in hits[:4])
        return Verdict(None, text, f"several verdict lines ({len(hits)}: {shown}), {_EXPECTED}")
    (hit,) = hits
    last = max(i for i, line in enumerate(lines) if line)
    if hit != last:
        return Verdict(
            None,
            text,
            f"verdict not on the last line: {lines[hit]!r} is followed by {lines[last][:80]!r}",
        )
    return Verdict(lines[hit] == "VERDICT: PASS", text, None)


def render_required(required: Sequence[RequiredOutput]) -> str:
    """A task's required outputs as a readable list (``"(none)"`` when there are none).

    Examples:
        >>> print(render_required(["yuki@example.com", ["3", "three"]]))
        - "yuki@example.com"
        - any one of: "3", "three"
        >>> print(render_required([Fact(value="10:00", kind="time", subject="standup"),
        ...     Fact(value=332477, kind="number", tolerance=0.01),
        ...     Fact(value="Ashen Tide", subject="Heira", distractors=["The Glass River"])]))
        - 10:00 (time) for "standup"
        - 332477 (number, within 1%)
        - "Ashen Tide" (text, not "The Glass River") for "Heira"
    """
    if not required:
        return "(none)"
    lines = []
    for item in required:
        if isinstance(item, str):
            lines.append(f"- {_quote(item)}")
        elif isinstance(item, list):
            lines.append("- any one of: " + ", ".join(map(_quote, item)))
        else:
            lines.append(f"- {_render_fact(item)}")
    return "\n".join(lines)


def _render_fact(fact: Fact) -> str:
    if fact.kind == "number":
        value = fact.value
        shown = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    elif fact.kind in ("text", "id"):
        shown = _quote(str(fact.value))
    else:
        shown = str(fact.value)
    notes: list[str] = [fact.kind]
    if fact.alternatives:
        notes.append("or " + " / ".join(map(_quote, fact.alternatives)))
    if fact.tolerance:
        notes.append(f"within {fact.tolerance * 100:g}%")
    if fact.distractors:
        notes.append("not " + " / ".join(map(_quote, fact.distractors)))
    subject = f" for {' / '.join(map(_quote, fact.subjects))}" if fact.subjects else ""
    return f"{shown} ({', '.join(notes)}){subject}"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


class LLMJudge:
    """Grades an episode's final answer with a chat model; see the module docstring."""

    def __init__(
        self, backend: ChatBackend, *, prompt_template: str | None = None, seed: int = 0
    ) -> None:
        """Wrap ``backend``.

        Args:
            backend: The judge model (``LocalBackend``, ``EndpointBackend``, or any
                :class:`~toolgym.llm.backends.ChatBackend`). Use greedy or low-temperature
                sampling for reproducible verdicts.
            prompt_template: A ``string.Template`` with placeholders among ``$instruction``,
                ``$context``, ``$answer`` (required), ``$reference`` and ``$required``; write a
                literal dollar sign as ``$$``. Default: :func:`default_judge_prompt`. It must ask
                for a last line ``VERDICT: PASS`` or ``VERDICT: FAIL``.
            seed: Sampling seed sent with every request (same prompt and seed, same verdict on
                backends that honour seeds).

        Raises:
            ValueError: the template is malformed, uses an unknown placeholder or lacks
                ``$answer``.
        """
        text = prompt_template if prompt_template is not None else default_judge_prompt()
        template = Template(text)
        if not template.is_valid():
            raise ValueError(
                "judge prompt template: invalid '$' placeholder (write a literal '$' as '$$')"
            )
        names = set(template.get_identifiers())
        unknown = sorted(names - PLACEHOLDERS)
        if unknown:
            raise ValueError(
                f"judge prompt template: unknown placeholder(s) {unknown}; "
                f"allowed: {sorted(PLACEHOLDERS)}"
            )
        if "answer" not in names:
            raise ValueError("judge prompt template: it must contain $answer")
        self.backend, self.template, self.seed = backend, template, seed
        self.calls = 0
        """Backend requests made so far."""

    @property
    def fingerprint(self) -> str:
        """The backend's fingerprint, a hash of the template and the seed."""
        digest = hashlib.sha256(self.template.template.encode("utf-8")).hexdigest()[:12]
        return f"judge:{self.backend.fingerprint}:prompt={digest}:seed={self.seed}"

    def prompt(self, task: Task, answer: str) -> str:
        """The filled template for ``answer`` to ``task``."""
        return self.template.substitute(
            instruction=task.instruction,
            context=task.context or "(none)",
            answer=answer,
            reference=task.gold_answer if task.gold_answer is not None else "(none)",
            required=render_required(task.required_outputs),
        )

    def judge(self, episode: Episode) -> Verdict:
        """Grade ``episode``'s final answer with one backend request.

        Args:
            episode: A finished episode.

        Returns:
            The parsed verdict. ``Verdict(False, "", None)`` without a request when the episode
            did not end with an answer (nothing to judge). ``passed=None`` with an ``error`` when
            the backend failed or its reply holds no strict verdict.
        """
        if episode.end_reason != "answered" or episode.final_answer is None:
            return Verdict(False, "", None)
        messages = [{"role": "user", "content": self.prompt(episode.task, episode.final_answer)}]
        self.calls += 1
        try:
            reply = self.backend.complete(messages, self.seed)
        except BackendError as exc:
            return Verdict(None, "", f"judge backend failed: {exc}")
        verdict = parse_verdict(reply.text)
        if verdict.error is not None and reply.finish_reason == "length":
            verdict = Verdict(
                None, verdict.raw, f"{verdict.error} (the reply was cut at the token limit)"
            )
        return verdict
