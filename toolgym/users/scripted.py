"""The scripted user: answers from the task's profile with simple, fixed rules (no model)."""

from __future__ import annotations

from toolgym.tasks import Task, normalize_text
from toolgym.users.base import UserReply, facts_asked_about

CONFIRMATION_PHRASES = (
    "confirm",
    "proceed",
    "go ahead",
    "shall i",
    "should i",
    "do you want me to",
    "would you like me to",
)


class ScriptedUser:
    """A rule-based user that needs no model (CI, oracle runs, reward checks).

    Rules, applied to each assistant message without tool calls:

    1. A question (contains ``?``) that mentions a keyword of a fact not yet revealed gets that
       fact's answer (all matching facts at once).
    2. A question asking for confirmation ("shall I proceed?") gets yes or no per the profile.
    3. A question that matches nothing while facts are still hidden gets a nudge to ask precisely.
    4. Anything else is taken as the final answer: the user ends the conversation.
    """

    def __init__(self) -> None:
        self._task: Task | None = None
        self._revealed: set[int] = set()

    def start(self, task: Task) -> str:
        """Reset for ``task``; the first message is its instruction."""
        self._task, self._revealed = task, set()
        return task.instruction

    def reply(self, message: str) -> UserReply:
        """Apply the rules above to ``message``."""
        if self._task is None:
            raise RuntimeError("ScriptedUser.reply() called before start()")
        if "?" not in message:
            return UserReply(None)
        text = normalize_text(message)
        hidden = self._task.user.hidden
        matched = facts_asked_about(self._task, message, self._revealed)
        if matched:
            self._revealed.update(matched)
            return UserReply(" ".join(hidden[i].answer for i in matched), matched)
        if any(phrase in text for phrase in CONFIRMATION_PHRASES):
            yes = self._task.user.confirms
            return UserReply("Yes, please go ahead." if yes else "No, please don't do that.")
        if len(self._revealed) < len(hidden):
            return UserReply("I'm not sure what you mean. What exactly do you need to know?")
        return UserReply(None)
