"""``LLMUser``: a language model plays the user from the task's profile.

The model sees a system prompt written from the profile (``prompts/user.md``: the goal, the facts
stated up front, the facts it may reveal only when asked, whether it confirms actions, its style)
and the conversation from its side: the assistant's messages as ``user`` turns and its own earlier
replies as ``assistant`` turns. It ends the conversation by replying with the stop signal
(``###STOP###``), which the env reads as the end of the episode (``end_reason="answered"``).

Each reply is asked first of the record/replay cache (key: task, conversation-prefix hash, user
model), then of the backend with a seed derived from the run's seed and that key, so identical
prefixes get identical replies in any order. A backend failure (after its retries) raises
:class:`UserUnavailable`; the env ends that episode with ``end_reason="user_error"``. A user that
never stops is cut by the env's ``max_turns``. Its tokens are never trainable: the env passes
them on as observations.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from string import Template
from typing import Literal

from toolgym.llm.backends import BackendError, ChatBackend
from toolgym.tasks import Task
from toolgym.users.base import UserReply, UserStats, UserUnavailable, facts_asked_about
from toolgym.users.cache import CacheMiss, UserCache, prefix_key

STOP_SIGNAL = "###STOP###"
Ending = Literal["signal", "signal_or_answer"]


def default_prompt() -> str:
    """The bundled profile prompt template (``string.Template`` placeholders)."""
    return resources.files("toolgym.users").joinpath("prompts/user.md").read_text(encoding="utf-8")


def profile_prompt(task: Task, template: str, stop: str = STOP_SIGNAL) -> str:
    """The user model's system prompt for ``task``, from its profile."""
    profile = task.user
    known = "".join(f"- {fact}\n" for fact in profile.facts)
    hidden = "".join(f"- If asked {f.question!r}, answer: {f.answer}\n" for f in profile.hidden)
    return Template(template).substitute(
        name=profile.name or "the user",
        goal=task.instruction,
        known=f"What you know and may say at any time:\n{known}" if known else "",
        hidden=f"Facts you reveal only when the assistant asks about them:\n{hidden}"
        if hidden
        else "",
        confirm="say yes." if profile.confirms else "say no: you do not want that.",
        style=f"How you talk: {profile.style}\n" if profile.style else "",
        stop=stop,
    )


class LLMUser:
    """A model-backed :class:`~toolgym.users.UserSimulator` (local model or endpoint)."""

    def __init__(
        self,
        backend: ChatBackend,
        *,
        cache: UserCache | None = None,
        seed: int = 0,
        ending: Ending = "signal",
        prompt_template: str | None = None,
        max_reply_chars: int = 2000,
    ) -> None:
        """Play users with ``backend``.

        Args:
            backend: The model (``LocalBackend`` or ``EndpointBackend``).
            cache: Record/replay cache of user turns (None: always ask the backend).
            seed: Seed of every reply's sampling (combined with the conversation's hash).
            ending: ``"signal"``: only the stop signal ends the conversation. ``"signal_or_answer"``:
                an assistant message without a question also ends it (as ``ScriptedUser`` does),
                for small user models that rarely emit the signal.
            prompt_template: Profile prompt template (default: ``prompts/user.md``).
            max_reply_chars: Longer replies are cut to this many characters.
        """
        self.backend, self.cache, self.seed, self.ending = backend, cache, seed, ending
        self.template = prompt_template or default_prompt()
        self.max_reply_chars = max_reply_chars
        self.stats = UserStats()
        """Counters over every episode."""
        self.episode_stats = UserStats()
        """Counters of the current episode."""
        self._task: Task | None = None
        self._messages: list[dict[str, str]] = []
        self._revealed: set[int] = set()

    def start(self, task: Task) -> str:
        """Begin ``task``: the first message is its instruction (fixed, so tasks stay comparable)."""
        self._task, self._revealed = task, set()
        self.episode_stats = UserStats()
        self._messages = [
            {"role": "system", "content": profile_prompt(task, self.template)},
            {"role": "user", "content": "(The assistant is ready. State your request.)"},
            {"role": "assistant", "content": task.instruction},
        ]
        return task.instruction

    def reply(self, message: str) -> UserReply:
        """The user's answer to an assistant message, or the end of the conversation.

        Raises:
            UserUnavailable: the backend failed after its retries, or a replay-only cache missed.
        """
        task = self._task
        if task is None:
            raise RuntimeError("LLMUser.reply() called before start()")
        if self.ending == "signal_or_answer" and "?" not in message:
            return UserReply(None)
        self._messages.append({"role": "user", "content": message})
        text = self._complete(task)
        self._messages.append({"role": "assistant", "content": text})
        if STOP_SIGNAL in text:
            return UserReply(None)
        revealed = facts_asked_about(task, message, self._revealed)
        self._revealed.update(revealed)
        return UserReply(text, revealed)

    def _complete(self, task: Task) -> str:
        key = prefix_key(task.id, self.backend.fingerprint, self._messages)
        try:
            recorded = self.cache.get(key) if self.cache is not None else None
        except CacheMiss as exc:
            self._count(UserStats(failures=1))
            raise UserUnavailable(str(exc)) from None
        if recorded is not None:
            self._count(UserStats(cache_hits=1))
            return recorded
        try:
            reply = self.backend.complete(list(self._messages), seed=self._call_seed(key))
        except BackendError as exc:
            self._count(UserStats(failures=1))
            raise UserUnavailable(f"user model {self.backend.fingerprint}: {exc}") from exc
        text = reply.text[: self.max_reply_chars]
        self._count(
            UserStats(
                calls=1,
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                seconds=reply.seconds,
            )
        )
        if not text.strip():
            text = "..."  # an empty turn would render as nothing; keep the turn visible
        if self.cache is not None:
            self.cache.put(key, task.id, self.backend.fingerprint, text)
        return text

    def _call_seed(self, key: str) -> int:
        return int(hashlib.sha256(f"{self.seed}:{key}".encode()).hexdigest()[:8], 16)

    def _count(self, delta: UserStats) -> None:
        self.stats.add(delta)
        self.episode_stats.add(delta)
