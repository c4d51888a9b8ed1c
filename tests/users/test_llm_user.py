"""``LLMUser`` against a real ``toolgym serve`` server on loopback (the tiny random model)."""

import json
import re
import sqlite3

import gymnasium as gym
import pytest
import torch
from typer.testing import CliRunner

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.cli import app as cli_app
from toolgym.collector import Collector
from toolgym.llm import models
from toolgym.policies import OpenAIConfig
from toolgym.serve import background_server, create_app
from toolgym.tokens.env import Generation, TokenEnv
from toolgym.users import (
    STOP_SIGNAL,
    EndpointBackend,
    LLMUser,
    LocalBackend,
    UserCache,
    UserUnavailable,
    profile_prompt,
)
from toolgym.users.cache import prefix_key
from toolgym.users.llm import default_prompt

ENV_ID = "toolgym/Calendar-v0"
TASK = "calendar-test-006"  # under-specified: "next week at 10:30" -- which day?
SERVED = "tiny-user"


@pytest.fixture(scope="module")
def server(tiny_model):
    model, tokenizer = tiny_model
    with background_server(create_app(model, tokenizer, model_name=SERVED)) as url:
        yield url


def endpoint(url, **fields):
    return EndpointBackend(
        OpenAIConfig(base_url=url, model=SERVED, temperature=1.0, max_tokens=12, **fields)
    )


def task(task_id=TASK):
    return gym.make(ENV_ID, split="test").unwrapped._tasks_by_id[task_id]


class AskingPolicy:
    """Asks the user which day, every turn."""

    def __init__(self, chat, text="Which day next week would you like?"):
        self.ids = (*chat.encode(text), chat.end_of_turn_id)

    def generate(self, prefixes, max_new_tokens=None):
        return [Generation(self.ids) for _ in prefixes]


def test_profile_prompt_states_goal_hidden_facts_and_the_stop_signal():
    t = task()
    prompt = profile_prompt(t, default_prompt())
    assert t.instruction in prompt and STOP_SIGNAL in prompt
    for fact in t.user.hidden:
        assert fact.question in prompt and fact.answer in prompt
    assert "$" not in prompt  # every placeholder was filled


def test_llm_user_talks_to_a_real_openai_server_and_counts_its_calls(server):
    user = LLMUser(endpoint(server), seed=3)
    t = task()
    assert user.start(t) == t.instruction
    reply = user.reply("Which day next week should I book?")
    assert reply.text and not reply.stop
    assert reply.revealed == (0,)  # the question asked about the hidden fact's keyword "day"
    assert user.stats.calls == 1 and user.stats.completion_tokens > 0
    assert user.stats.prompt_tokens > 50 and user.stats.seconds > 0
    second = user.reply("Anything else?")
    assert second.revealed == () and user.episode_stats.calls == 2


def test_user_turns_are_observations_never_trainable(server, tiny):
    _, tokenizer, chat = tiny
    env = TokenEnv(gym.make(ENV_ID, split="test", user=LLMUser(endpoint(server))), chat)
    env.reset(options={"task_id": TASK})
    asking = AskingPolicy(chat)
    env.step(Generation(asking.ids))
    said = env.env.unwrapped.episode.messages[-1]
    assert said["role"] == "user"
    trajectory = env.trajectory
    observation = tokenizer.decode(list(trajectory.segments[-1].token_ids))
    assert trajectory.segments[-1].role == "observation" and not trajectory.segments[-1].trainable
    assert said["content"] in observation
    trainable = [tokenizer.decode(list(s.token_ids)) for s in trajectory.segments if s.trainable]
    assert all(said["content"] not in text for text in trainable)


def test_grpo_siblings_with_the_same_prefix_share_recorded_user_turns(server, tiny, tmp_path):
    _, _, chat = tiny
    backend, cache = endpoint(server), UserCache(tmp_path / "users.sqlite")
    users = []

    def make_env():
        users.append(LLMUser(backend, cache=cache))
        return gym.make(ENV_ID, split="test", user=users[-1])

    collector = Collector(make_env, chat, AskingPolicy(chat), progress=False)
    trajectories, _ = collector.collect([TASK], group_size=4)
    calls = sum(u.stats.calls for u in users)
    hits = sum(u.stats.cache_hits for u in users)
    turns = sum(len(t.turn_rewards) for t in trajectories)
    assert calls + hits == turns  # every assistant turn asked the user
    assert calls == turns // 4 and hits == 3 * turns // 4  # one call per distinct prefix
    assert len(cache) == calls


def test_replay_mode_never_calls_the_backend_and_a_miss_is_a_user_error(server, tmp_path):
    path = tmp_path / "users.sqlite"
    with pytest.raises(ValueError, match="no user cache to replay"):
        UserCache(path, "replay")
    recorder = LLMUser(endpoint(server), cache=UserCache(path))
    recorder.start(task())
    recorded = recorder.reply("Which day?").text
    replayer = LLMUser(endpoint("http://127.0.0.1:9/v1"), cache=UserCache(path, "replay"))
    replayer.start(task())
    assert replayer.reply("Which day?").text == recorded  # no server at port 9: a replay
    with pytest.raises(UserUnavailable, match="no recorded user turn"):
        replayer.reply("Something never asked before?")
    rows = sqlite3.connect(path).execute("SELECT task_id, user_model FROM user_turns").fetchall()
    assert rows == [(TASK, "endpoint:tiny-user:t=1.0:p=1.0:n=12")]


def test_prefix_key_depends_on_task_model_and_every_message():
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    key = prefix_key("t", "m", messages)
    assert key != prefix_key("t2", "m", messages) and key != prefix_key("t", "m2", messages)
    changed = [messages[0], {"role": "user", "content": "u!"}]
    assert key != prefix_key("t", "m", changed) and key != prefix_key("t", "m", messages[:1])
    assert key == prefix_key("t", "m", [dict(m) for m in messages])


def test_local_backend_is_seeded_per_call_and_frozen_copies_do_not_follow_training():
    model, tokenizer = models.load("tiny")  # its own copy: this test changes the weights
    backend = LocalBackend(model, tokenizer, name="tiny", temperature=1.0, max_new_tokens=16)
    messages = [{"role": "user", "content": "Which day?"}]
    first = backend.complete(messages, seed=1)
    assert backend.complete(messages, seed=1).text == first.text
    assert len({backend.complete(messages, seed=s).text for s in range(2, 6)}) > 1
    assert first.prompt_tokens > 0 and first.completion_tokens > 0
    frozen = LocalBackend(model, tokenizer, temperature=1.0, max_new_tokens=16, frozen_copy=True)
    assert frozen.complete(messages, seed=1).text == first.text  # same weights, same reply
    assert not any(p.requires_grad for p in frozen.policy.model.parameters())
    with torch.no_grad():  # "training" moves the live weights
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter))
    assert backend.complete(messages, seed=1).text != first.text
    assert frozen.complete(messages, seed=1).text == first.text


def test_an_evaluation_with_a_warm_cache_is_byte_identical_offline(server, tmp_path):
    """`toolgym run` twice: recorded against the server, then replayed with no server at all."""
    cache, runner = tmp_path / "users.sqlite", CliRunner()

    def evaluate(out, url, mode):
        args = ["run", ENV_ID, "-p", "oracle", "--episodes", "3", "--user", "llm",
                "--user-model", SERVED, "--user-base-url", url, "--user-cache", str(cache),
                "--user-cache-mode", mode, "--user-max-tokens", "8", "--out", str(out)]  # fmt: skip
        result = runner.invoke(cli_app, args)
        assert result.exit_code == 0, result.output
        return result.output

    first = evaluate(tmp_path / "a.jsonl", server, "record")
    assert int(re.search(r"user model: (\d+) calls", first).group(1)) > 0  # recorded turns
    second = evaluate(tmp_path / "b.jsonl", "http://127.0.0.1:9/v1", "replay")
    assert re.search(r"user model: 0 calls, \d+ cache hits, 0 failures", second)
    a, b = (tmp_path / "a.jsonl").read_bytes(), (tmp_path / "b.jsonl").read_bytes()
    assert a == b
    rows = [json.loads(line) for line in a.decode().splitlines()]
    assert any(m["role"] == "user" for r in rows for m in r["messages"][2:])  # user turns in it
