"""OpenAIPolicy against a real OpenAI-compatible HTTP server on 127.0.0.1 (no mocks)."""

import asyncio
import json
import socket
import time

import gymnasium as gym
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.formats import get_format
from toolgym.policies import (
    Completion,
    EndpointError,
    EndpointTimeout,
    EndpointUnavailable,
    MalformedResponse,
    OpenAIConfig,
    OpenAIPolicy,
    OraclePolicy,
    play,
)
from toolgym.policies.native_tools import render_native_reply

try:  # tests/policies as a package, or as a plain folder on sys.path (pytest's default)
    from .openai_server import (
        FakeOpenAIServer,
        Reply,
        completion,
        error,
        fail_then,
        replay,
        tool_call,
    )
except ImportError:
    from openai_server import (  # type: ignore[no-redef]
        FakeOpenAIServer,
        Reply,
        completion,
        error,
        fail_then,
        replay,
        tool_call,
    )

ENV_ID = "toolgym/Calendar-v0"
PARALLEL_TASK = "calendar-test-003"  # two check_availability calls in one step
FAST = {"backoff_base": 0.01, "backoff_cap": 0.05, "connect_timeout": 1.0, "read_timeout": 2.0}
USER = [{"role": "user", "content": "Hi"}]


def make_env(**overrides):
    return gym.make(ENV_ID, split="test", **overrides)


def oracle_scripts(task_ids):
    """Assistant messages of the oracle's episode of each task, keyed by the task's instruction."""
    env = make_env()
    scripts = {}
    for task_id in task_ids:
        result = play(env, OraclePolicy(), task_id=task_id)
        assert result.total_reward == 1.0
        instruction = result.messages[1]["content"]
        scripts[instruction] = [m["content"] for m in result.messages if m["role"] == "assistant"]
    return scripts


def run(policy, coroutine):
    """Run ``coroutine`` in a fresh event loop, closing the policy's client of that loop."""

    async def main():
        async with policy:
            return await coroutine

    return asyncio.run(main())


def task_of(env, task_id):
    return next(t for t in env.unwrapped.tasks if t.id == task_id)


@pytest.fixture
def server():
    with FakeOpenAIServer() as running:
        yield running
        assert not running.errors, running.errors


@pytest.fixture
def policy_for(server):
    """policy_for(**config) -> an OpenAIPolicy on the fake server, closed after the test."""
    made = []

    def build(**config):
        policy = OpenAIPolicy(
            OpenAIConfig(**{"base_url": server.base_url, "model": "fake-model", **FAST, **config})
        )
        made.append(policy)
        return policy

    yield build
    for policy in made:
        policy.close()


# ------------------------------------------------------------------------------------ text mode
def test_text_mode_plays_a_real_episode(server, policy_for):
    scripts = oracle_scripts([PARALLEL_TASK])
    server.responder = replay(scripts)
    policy = policy_for(temperature=0.3, seed=7, extra_body={"top_k": 20})
    result = play(make_env(), policy, task_id=PARALLEL_TASK)
    assert (result.total_reward, result.end_reason) == (1.0, "answered")
    assert len(server.requests) == result.steps == 2
    first = server.requests[0]
    assert first["model"] == "fake-model" and "tools" not in first
    assert (first["temperature"], first["seed"], first["top_k"]) == (0.3, 7, 20)
    assert "<tools>" in first["messages"][0]["content"]  # the env's prompt, sent as is
    assert server.requests[1]["messages"][3]["role"] == "tool"
    stats = policy.stats
    assert (stats.requests, stats.completions, stats.retries, stats.failures) == (2, 2, 0, 0)
    assert (stats.prompt_tokens, stats.completion_tokens) == (22, 14)
    assert stats.latency_s > 0


def test_api_key_from_environment_variable(server, policy_for, monkeypatch):
    monkeypatch.setenv("MY_TEST_KEY", "sk-test-123")
    policy_for(api_key_env="MY_TEST_KEY").act(USER)
    policy_for(api_key="explicit").act(USER)
    assert server.headers[0]["Authorization"] == "Bearer sk-test-123"
    assert server.headers[1]["Authorization"] == "Bearer explicit"
    assert "explicit" not in repr(
        OpenAIConfig(base_url="http://x/v1", model="m", api_key="explicit")
    )


# ---------------------------------------------------------------------------------- native mode
def native_round_trip(env):
    """Responder for PARALLEL_TASK that checks the native protocol at each turn."""
    task = task_of(env, PARALLEL_TASK)
    gold = task.gold_calls[0]
    tool_names = {s["function"]["name"] for s in env.unwrapped.tool_specs}

    def respond(request):
        messages = request["messages"]
        assert {t["function"]["name"] for t in request["tools"]} == tool_names
        assert "<tools>" not in messages[0]["content"] and messages[0]["role"] == "system"
        if len(messages) == 2:
            calls = [
                tool_call(f"srv_{i}", c.name, json.dumps(c.arguments)) for i, c in enumerate(gold)
            ]
            return completion("Checking both.", calls)
        assistant, results = messages[2], messages[3:]
        assert assistant["content"] == "Checking both."
        ids = [c["id"] for c in assistant["tool_calls"]]
        assert ids == ["call_0_0", "call_0_1"]
        assert [json.loads(c["function"]["arguments"]) for c in assistant["tool_calls"]] == [
            c.arguments for c in gold
        ]
        assert [(m["role"], m["tool_call_id"]) for m in results] == [("tool", i) for i in ids]
        assert "Yuki Tanaka" in results[0]["content"] and "Elena Rossi" in results[1]["content"]
        return completion(task.answer())

    return respond


@pytest.mark.parametrize("fmt", ["hermes", "glm", "pythonic"])
def test_native_mode_round_trips_tool_calls(server, policy_for, fmt):
    env = make_env(format=fmt)
    server.responder = native_round_trip(env)
    result = play(env, policy_for(tool_mode="native"), task_id=PARALLEL_TASK)
    assert (result.total_reward, result.end_reason, result.steps) == (1.0, "answered", 2)
    action = result.messages[2]["content"]
    assert action.startswith(
        "Checking both.\n" + get_format(fmt).render_calls(env.unwrapped.task.step_calls[0])[:5]
    )
    parsed = get_format(fmt).parse(action, {})
    assert len(parsed.calls) == 2 and not parsed.errors


@pytest.mark.parametrize("fmt", ["hermes", "glm", "pythonic"])
def test_native_invalid_arguments_are_scored_as_malformed(server, policy_for, fmt):
    def respond(request):
        assert all(m["role"] != "tool" for m in request["messages"])  # no orphan tool results
        if len(request["messages"]) > 2:
            assert request["messages"][-1]["role"] == "user"
            assert request["messages"][-1]["content"].startswith("Error: malformed tool call")
        return completion(None, [tool_call("x", "list_events", '{"start_date": "2026-03-0')])

    server.responder = respond
    result = play(make_env(format=fmt), policy_for(tool_mode="native"), task_id=PARALLEL_TASK)
    assert (result.end_reason, result.truncated, result.steps) == ("max_invalid_streak", True, 3)
    assert "2026-03-0" in result.messages[2]["content"]


@pytest.mark.parametrize("fmt", ["hermes", "glm", "pythonic"])
@pytest.mark.parametrize(
    "raw",
    [
        tool_call("a", "find_people", "[1, 2]"),
        tool_call("a", "", "{}"),
        tool_call("a", "find_people", '{}, "name": "list_events"'),
        tool_call("a", "find_people", '"</tool_call><tool_call>"'),
        {"type": "function"},
    ],
)
def test_render_native_reply_never_turns_a_bad_call_into_a_good_one(fmt, raw):
    reply = Completion("", (raw,), "tool_calls", 0, 0, 0.0, 1)
    parsed = get_format(fmt).parse(render_native_reply(reply, get_format(fmt)), {})
    assert parsed.errors and not parsed.calls


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    calls=st.lists(
        st.fixed_dictionaries(
            {
                "function": st.fixed_dictionaries(
                    {"name": json_values, "arguments": json_values | st.text()}
                )
            }
        )
        | json_values,
        max_size=3,
    ),
    content=st.none() | st.text(max_size=20),
    fmt=st.sampled_from(["hermes", "glm", "pythonic"]),
)
def test_render_native_reply_never_raises(calls, content, fmt):
    reply = Completion(content or "", tuple(calls), None, 0, 0, 0.0, 1)
    text = render_native_reply(reply, get_format(fmt))
    get_format(fmt).parse(text, {})


def test_render_native_reply_accepts_empty_and_dict_arguments():
    calls = (tool_call("a", "ping", ""), {"function": {"name": "echo", "arguments": {"x": 1}}})
    text = render_native_reply(
        Completion("Hi.", calls, "tool_calls", 0, 0, 0.0, 1), get_format("hermes")
    )
    parsed = get_format("hermes").parse(text, {})
    assert parsed.content == "Hi." and not parsed.errors
    assert [(c.name, c.arguments) for c in parsed.calls] == [("ping", {}), ("echo", {"x": 1})]


# ------------------------------------------------------------------------------------ robustness
def test_retries_500_then_succeeds_and_counts(server, policy_for):
    server.responder = fail_then(
        [error(500, "boom"), error(503, "busy")], lambda r: completion("ok")
    )
    policy = policy_for(max_retries=3)
    assert policy.act(USER) == "ok"
    assert len(server.requests) == 3
    assert (policy.stats.requests, policy.stats.retries, policy.stats.completions) == (3, 2, 1)


def test_persistent_500_raises_endpoint_error(server, policy_for):
    server.responder = lambda request: error(500, "model crashed")
    policy = policy_for(max_retries=2)
    with pytest.raises(EndpointError) as caught:
        policy.act(USER)
    exc = caught.value
    assert (exc.status_code, exc.attempts, exc.server_message) == (500, 3, "model crashed")
    assert "HTTP 500" in str(exc) and "3 attempt" in str(exc) and server.base_url in str(exc)
    assert (policy.stats.requests, policy.stats.retries, policy.stats.failures) == (3, 2, 1)


def test_other_4xx_is_not_retried(server, policy_for):
    server.responder = lambda request: error(404, "The model `x` does not exist.")
    with pytest.raises(EndpointError, match="does not exist.*hint: check that base_url"):
        policy_for(max_retries=3).act(USER)
    assert len(server.requests) == 1


def test_429_honours_retry_after(server, policy_for):
    limited = error(429, "slow down", {"Retry-After": "0.3"})
    server.responder = fail_then([limited], lambda r: completion("ok"))
    policy = policy_for(backoff_cap=5.0)
    start = time.perf_counter()
    completed = run(policy, policy.client.acomplete(USER))
    assert 0.3 <= time.perf_counter() - start < 2.0
    assert (completed.text, completed.attempts, policy.stats.retries) == ("ok", 2, 1)


def test_retry_after_is_capped(server, policy_for):
    server.responder = fail_then(
        [error(429, "later", {"Retry-After": "3600"})], lambda r: completion("ok")
    )
    start = time.perf_counter()
    assert policy_for(backoff_cap=0.1).act(USER) == "ok"
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("retries", [0, 1])
def test_timeout_raises_within_the_configured_time(server, policy_for, retries):
    server.responder = lambda request: Reply(completion("late").body, delay=3.0)
    policy = policy_for(read_timeout=0.2, max_retries=retries)
    start = time.perf_counter()
    with pytest.raises(EndpointTimeout, match=f"{retries + 1} attempt"):
        policy.act(USER)
    assert time.perf_counter() - start < 0.2 * (retries + 1) + 0.5
    assert policy.stats.requests == retries + 1


def test_attempt_timeout_bounds_the_whole_attempt(server, policy_for):
    server.responder = lambda request: Reply(completion("late").body, delay=3.0)
    start = time.perf_counter()
    with pytest.raises(EndpointTimeout):
        policy_for(read_timeout=10.0, attempt_timeout=0.2, max_retries=0).act(USER)
    assert time.perf_counter() - start < 1.0


def test_connection_refused_raises_endpoint_unavailable():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = OpenAIConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=2, **FAST)
    with OpenAIPolicy(config) as policy, pytest.raises(EndpointUnavailable, match="3 attempt"):
        policy.act(USER)
    assert policy.stats.retries == 2


@pytest.mark.parametrize(
    "reply", [Reply(b"{not json"), Reply({"object": "chat.completion"}), Reply({"choices": []})]
)
def test_malformed_response_raises(server, policy_for, reply):
    server.responder = lambda request: reply
    policy = policy_for()
    with pytest.raises(MalformedResponse, match="not JSON|choices"):
        policy.act(USER)
    assert len(server.requests) == 1 and policy.stats.failures == 1


# ----------------------------------------------------------------------------------- concurrency
def test_concurrency_is_bounded(server, policy_for):
    task_ids = [t.id for t in make_env().unwrapped.tasks][:10]
    server.responder = replay(oracle_scripts(task_ids), delay=0.05)
    policy = policy_for(max_concurrency=3)

    results = run(policy, policy.arun_episodes(make_env, task_ids))
    assert [r.task_id for r in results] == task_ids
    assert all(r.total_reward == 1.0 for r in results)
    assert 1 < server.max_active <= 3
    assert policy.stats.completions == sum(r.steps for r in results) == len(server.requests)


def test_arun_episodes_can_return_failures_in_place(server, policy_for):
    server.responder = lambda request: error(400, "context length exceeded")
    policy = policy_for()
    results = run(
        policy, policy.arun_episodes(make_env, ["calendar-test-001"] * 2, return_exceptions=True)
    )
    assert all(isinstance(r, EndpointError) and r.status_code == 400 for r in results)
    with pytest.raises(EndpointError, match="context length"):
        run(policy, policy.arun_episodes(make_env, ["calendar-test-001"]))


def test_arun_episodes_stops_the_others_on_the_first_failure(server, policy_for):
    failing = task_of(make_env(), "calendar-test-001").instruction

    def respond(request):
        if request["messages"][1]["content"] == failing:
            return error(400, "context length exceeded")
        return Reply(completion("slow").body, delay=3.0)

    server.responder = respond
    policy = policy_for(max_concurrency=4)
    start = time.perf_counter()
    with pytest.raises(EndpointError, match="context length"):
        run(policy, policy.arun_episodes(make_env, ["calendar-test-002", "calendar-test-001"]))
    assert time.perf_counter() - start < 1.5


def test_act_inside_an_event_loop_points_to_the_async_api(policy_for):
    async def call_act():
        return policy_for().act(USER)

    with pytest.raises(RuntimeError, match="await policy.aact"):
        asyncio.run(call_act())


def test_list_models_and_unset_sampling_fields(server, policy_for):
    policy = policy_for(temperature=None, top_p=None, max_tokens=None)
    assert run(policy, policy.client.alist_models()) == ["fake-model"]
    policy.act(USER)
    assert set(server.requests[0]) == {"model", "messages"}


def test_config_rejects_an_endpoint_url():
    with pytest.raises(ValueError, match="drop '/chat/completions'"):
        OpenAIConfig(base_url="http://localhost:8000/v1/chat/completions", model="m")
    with pytest.raises(ValueError, match="http://"):
        OpenAIConfig(base_url="localhost:8000/v1", model="m")
