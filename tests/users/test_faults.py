"""Fault injection: a misbehaving user endpoint ends only its own episodes, with a clear status."""

import gymnasium as gym
import pytest

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.collector import Collector
from toolgym.policies import OpenAIConfig
from toolgym.serve import background_server
from toolgym.tokens.env import Generation
from toolgym.users import EndpointBackend, LLMUser

try:
    from .fault_server import fault_app
except ImportError:
    from fault_server import fault_app  # type: ignore[no-redef]

ENV_ID = "toolgym/Calendar-v0"
BEHAVIOURS = ["ok", "http500", "timeout", "malformed", "never_ends", "ok"]


class AskingPolicy:
    """Always asks the user a question (so every turn goes to the user simulator)."""

    def __init__(self, chat):
        self.ids = (*chat.encode("Which day would suit you?"), chat.end_of_turn_id)

    def generate(self, prefixes, max_new_tokens=None):
        return [Generation(self.ids) for _ in prefixes]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    tasks = gym.make(ENV_ID, split="test").unwrapped.tasks[: len(BEHAVIOURS)]
    behaviours = {t.instruction: b for t, b in zip(tasks, BEHAVIOURS, strict=True)}
    app = fault_app(behaviours, sleep_s=3.0)
    with background_server(app) as url:
        yield url, app, [t.id for t in tasks]


def test_each_fault_ends_only_its_episode_and_the_batch_finishes(faulty, tiny):
    url, app, task_ids = faulty
    _, _, chat = tiny
    config = OpenAIConfig(
        base_url=url, model="fault", max_retries=2, backoff_base=0.01, attempt_timeout=0.5,
        read_timeout=0.5,
    )  # fmt: skip
    backend = EndpointBackend(config)
    users = []

    def make_env():
        users.append(LLMUser(backend))
        return gym.make(ENV_ID, split="test", user=users[-1])

    collector = Collector(make_env, chat, AskingPolicy(chat), progress=False)
    trajectories, stats = collector.collect(task_ids)
    ends = {t.task_id: (t.end_reason, t.terminated, t.truncated) for t in trajectories}
    by_behaviour = dict(zip(BEHAVIOURS, [ends[i] for i in task_ids], strict=False))
    assert by_behaviour["ok"] == ("answered", True, False)
    assert ends[task_ids[-1]] == ("answered", True, False)  # the last ok episode, after the faults
    for fault in ("http500", "timeout", "malformed"):
        assert by_behaviour[fault] == ("user_error", False, True), fault
    assert by_behaviour["never_ends"] == ("max_turns", False, True)  # cut by the env's limit
    # retries: 500s are retried (1 + 2 attempts), malformed JSON is not (a server bug)
    assert app.state.hits["http500"] == 3 and app.state.hits["malformed"] == 1
    assert app.state.hits["timeout"] == 3
    # the status carries the reason, and the episode is not blamed on the agent
    errors = [env.env.unwrapped.episode.user_error for env in collector._pool[: len(task_ids)]]
    assert "500" in errors[1] and "TimeoutError" in errors[2] and "JSON" in errors[3]
    assert errors[0] is None and errors[4] is None
    assert sum(u.stats.failures for u in users) == 3
    assert stats.seconds["user"] > 0
