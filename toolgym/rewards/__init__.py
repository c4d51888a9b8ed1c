"""Reward components (format, step-wise match, ToolRL, task completion) and the weighted Rubric."""

from toolgym.rewards import components
from toolgym.rewards.components import same_calls
from toolgym.rewards.registry import EPISODE_REWARDS, STEP_REWARDS, episode_reward, step_reward
from toolgym.rewards.rubric import Rubric
from toolgym.rewards.toolrl import toolrl_correctness

__all__ = [
    "EPISODE_REWARDS",
    "STEP_REWARDS",
    "Rubric",
    "components",
    "episode_reward",
    "same_calls",
    "step_reward",
    "toolrl_correctness",
]
