"""The LLM judge as rubric components: ``judge`` and ``judge_failed``, one verdict per episode.

``JudgeReward(judge).components()`` are end-of-episode components for a :class:`Rubric`. The
first of them to score an episode asks the judge (one backend request, or none when the episode
has no final answer) and keeps the verdict in ``Episode.judge_verdict``; every later read of that
episode reuses it. ``JUDGE_REWARDS`` are the same components reading a verdict already there.
"""

from __future__ import annotations

from toolgym.episode import Episode, Verdict
from toolgym.rewards.judge import LLMJudge
from toolgym.rewards.registry import EpisodeReward


def judge_passed(episode: Episode) -> float:
    """1.0 if the episode's judge verdict is PASS, else 0.0 (FAIL, no verdict, not judged)."""
    verdict = episode.judge_verdict
    return float(verdict is not None and verdict.passed is True)


def judge_failed(episode: Episode) -> float:
    """1.0 if no verdict could be obtained (backend failure, unreadable reply, not judged)."""
    verdict = episode.judge_verdict
    return float(verdict is None or verdict.passed is None)


JUDGE_REWARDS: dict[str, EpisodeReward] = {"judge": judge_passed, "judge_failed": judge_failed}
"""The judge's end-of-episode components, read from ``Episode.judge_verdict``."""


class JudgeReward:
    """An :class:`LLMJudge` as the end-of-episode components ``judge`` and ``judge_failed``."""

    def __init__(self, judge: LLMJudge) -> None:
        """Grade episodes with ``judge``."""
        self.judge = judge

    def verdict(self, episode: Episode) -> Verdict:
        """The episode's verdict: asked of the judge once, then kept in ``episode.judge_verdict``."""
        if episode.judge_verdict is None:
            episode.judge_verdict = self.judge.judge(episode)
        return episode.judge_verdict

    def passed(self, episode: Episode) -> float:
        """The ``judge`` component: 1.0 on PASS, else 0.0."""
        self.verdict(episode)
        return judge_passed(episode)

    def failed(self, episode: Episode) -> float:
        """The ``judge_failed`` component: 1.0 when no verdict could be obtained."""
        self.verdict(episode)
        return judge_failed(episode)

    def components(self) -> dict[str, EpisodeReward]:
        """The components by name, for ``Rubric(..., extra_episode_rewards=...)``."""
        return {"judge": self.passed, "judge_failed": self.failed}
