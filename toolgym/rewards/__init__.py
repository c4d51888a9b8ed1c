"""Reward components (format, step-wise match, ToolRL, task completion), the Rubric, the LLM judge."""

from toolgym.rewards import components
from toolgym.rewards.components import CompletionCheck, completion_check, completion_report
from toolgym.rewards.judge import LLMJudge, default_judge_prompt, parse_verdict
from toolgym.rewards.judge_reward import JUDGE_REWARDS, JudgeReward
from toolgym.rewards.registry import EPISODE_REWARDS, STEP_REWARDS, episode_reward, step_reward
from toolgym.rewards.rubric import Rubric
from toolgym.rewards.toolrl import toolrl_correctness

__all__ = [
    "CompletionCheck",
    "completion_check",
    "completion_report",
    "EPISODE_REWARDS",
    "JUDGE_REWARDS",
    "JudgeReward",
    "LLMJudge",
    "STEP_REWARDS",
    "Rubric",
    "components",
    "default_judge_prompt",
    "episode_reward",
    "parse_verdict",
    "step_reward",
    "toolrl_correctness",
]
