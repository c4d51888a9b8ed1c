"""GLM-4.5 end-to-end reward: format correct on every turn AND task completed, on real episodes."""

import gymnasium as gym
import pytest

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.policies import OraclePolicy, play
from toolgym.rewards import EPISODE_REWARDS, Rubric
from toolgym.rewards.components import end_to_end

ENV_ID = "toolgym/Calendar-v0"
TASKS = ["calendar-train-001", "calendar-train-012"]  # a lookup, and a booking (a WRITE)
MALFORMED = '<tool_call>{"name": "list_events", "arguments": {oops</tool_call>'


class MalformedFirst:
    """The oracle, after one malformed tool call it then recovers from."""

    def __init__(self):
        self.oracle, self.sent = OraclePolicy(), False

    def reset(self, env, task):
        self.oracle.reset(env, task)
        self.sent = False

    def act(self, messages):
        if not self.sent:
            self.sent = True
            return MALFORMED
        return self.oracle.act(messages)


class GivesUp:
    """Answers at once without calling a tool (well-formed, but the task is not done)."""

    def reset(self, env, task):
        pass

    def act(self, messages):
        return "Sorry, I cannot help with that."


@pytest.fixture
def env():
    return gym.make(ENV_ID, rewards={"end_to_end": 1.0})


def test_registered_with_the_other_episode_components():
    assert "end_to_end" in EPISODE_REWARDS
    assert Rubric({"end_to_end": 1.0}).weights["end_to_end"] == 1.0


@pytest.mark.parametrize("task_id", TASKS)
def test_oracle_episode_scores_one(env, task_id):
    result = play(env, OraclePolicy(), task_id=task_id, seed=0)
    assert result.end_reason == "answered"
    assert result.components["completion"] == 1.0
    assert result.components["end_to_end"] == 1.0
    assert result.total_reward == 1.0
    assert all(step["format"] == 1.0 for step in result.step_components)


@pytest.mark.parametrize("task_id", TASKS)
def test_one_malformed_turn_zeroes_it_although_the_task_completes(env, task_id):
    result = play(env, MalformedFirst(), task_id=task_id, seed=0)
    assert [step["format"] for step in result.step_components][:2] == [0.0, 1.0]
    assert "malformed tool call" in result.messages[3]["content"]  # the error the agent saw
    assert result.end_reason == "answered" and result.components["completion"] == 1.0
    assert result.components["end_to_end"] == 0.0
    assert result.total_reward == 0.0
    episode = env.unwrapped.episode
    assert not episode.turns[0].parsed.well_formed and end_to_end(episode) == 0.0


def test_a_failed_task_scores_zero(env):
    result = play(env, GivesUp(), task_id=TASKS[1], seed=0)
    assert result.end_reason == "answered"
    assert all(step["format"] == 1.0 for step in result.step_components)  # well-formed throughout
    assert result.components["completion"] == 0.0 and result.components["end_to_end"] == 0.0


def test_halted_on_malformed_scores_zero():
    env = gym.make(ENV_ID, rewards={"end_to_end": 1.0}, halt_on_malformed=True)
    result = play(env, MalformedFirst(), task_id=TASKS[0], seed=0)
    assert result.end_reason == "malformed" and result.steps == 1
    assert result.components["end_to_end"] == 0.0 and result.total_reward == 0.0


def test_truncated_episode_scores_zero():
    env = gym.make(ENV_ID, rewards={"end_to_end": 1.0}, limits={"max_turns": 1})
    result = play(env, OraclePolicy(), task_id=TASKS[0], seed=0)  # cut after the tool call
    assert result.truncated and result.end_reason == "max_turns"
    assert result.components["end_to_end"] == 0.0
