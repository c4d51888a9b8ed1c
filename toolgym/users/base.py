"""What every simulated user shares: the reply type, the protocol, counters and the failure type."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

from toolgym.tasks import Task, normalize_text


@dataclass(frozen=True)
class UserReply:
    """The user's next message, or ``text=None`` when the user ends the conversation.

    Attributes:
        text: What the user says; None means the conversation is over.
        revealed: Indices into ``task.user.hidden`` of the facts this reply reveals.
    """

    text: str | None
    revealed: tuple[int, ...] = ()

    @property
    def stop(self) -> bool:
        """True when the user ends the conversation."""
        return self.text is None


class UserSimulator(Protocol):
    """Plays the user of one episode at a time. Its tokens are never trainable."""

    def start(self, task: Task) -> str:
        """Begin an episode of ``task``; returns the user's first message."""
        ...

    def reply(self, message: str) -> UserReply:
        """Answer an assistant message that contains no tool call.

        Raises:
            UserUnavailable: the user's model could not answer (the env ends the episode with
                ``end_reason="user_error"``, which is never scored as an agent failure).
        """
        ...


class UserUnavailable(RuntimeError):
    """The user simulator could not produce a turn (its backend failed after retries)."""


@dataclass
class UserStats:
    """Counters of a model-backed user, per episode or accumulated over many.

    Attributes:
        calls: Replies asked of the backend (cache hits excluded).
        cache_hits: Replies replayed from the record/replay cache.
        failures: Replies that raised :class:`UserUnavailable`.
        prompt_tokens: Prompt tokens of the backend calls.
        completion_tokens: Tokens the backend generated.
        seconds: Wall time waiting for the backend (retries included).
    """

    calls: int = 0
    cache_hits: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def add(self, other: UserStats) -> None:
        """Accumulate ``other`` into these counters."""
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, float]:
        """The counters as a flat dict."""
        return asdict(self)


def facts_asked_about(task: Task, message: str, revealed: set[int]) -> tuple[int, ...]:
    """Hidden facts not yet revealed that a question in ``message`` asks about (by keyword)."""
    if "?" not in message:
        return ()
    text = normalize_text(message)
    return tuple(
        i
        for i, fact in enumerate(task.user.hidden)
        if i not in revealed and any(normalize_text(k) in text for k in fact.keywords)
    )
