"""What toolgym does when a third-party server rejects or ignores a request field (fake server).

The fake server answers as the real ones do: transformers serve's 422 ``Unexpected fields in the
request: {...}``, OpenAI's 400 with ``error.param``, vLLM's 400 for tools without
``--enable-auto-tool-choice``; and a template that drops ``tools`` (equal prompt token counts).
"""

import asyncio
import warnings

import gymnasium as gym
import pytest

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.llm.client import OpenAIClient
from toolgym.llm.request_fields import FieldsRejected, rejected_fields
from toolgym.policies import EndpointError, OpenAIConfig, OpenAIPolicy, play
from toolgym.policies.factory import AgentConfig, make_agent

try:  # tests/policies as a package, or as a plain folder on sys.path (pytest's default)
    from .openai_server import FakeOpenAIServer, Reply, completion, error
except ImportError:
    from openai_server import FakeOpenAIServer, Reply, completion, error  # type: ignore[no-redef]

USER = [{"role": "user", "content": "Hi"}]
FAST = {"backoff_base": 0.01, "backoff_cap": 0.05, "connect_timeout": 1.0, "read_timeout": 5.0}
ENV_ID = "toolgym/SearchLookup-v0"


def client_for(server, **config):
    return OpenAIClient(
        OpenAIConfig(base_url=server.base_url, model="fake-model", **FAST, **config)
    )


def transformers_style(allowed):
    """Answer 422 naming every field outside ``allowed``, as transformers serve does."""

    def respond(request):
        unexpected = set(request) - allowed
        if unexpected:
            return Reply({"detail": f"Unexpected fields in the request: {unexpected}"}, 422)
        return completion("ok")

    return respond


def test_a_field_outside_the_schema_is_named_with_its_fix_and_not_retried():
    standard = {"model", "messages", "temperature", "top_p", "max_tokens", "seed"}
    with FakeOpenAIServer(transformers_style(standard)) as server:
        client = client_for(server, extra_body={"top_k": 5})
        with client, pytest.raises(FieldsRejected) as caught:
            client.complete_sync(USER)
    assert caught.value.fields == ("top_k",) and caught.value.status_code == 422
    assert "'top_k' (remove it from OpenAIConfig.extra_body)" in str(caught.value)
    assert len(server.requests) == 1  # a 4xx is the request's fault: not retried


def test_a_rejected_max_tokens_names_the_replacement_field():
    def respond(request):
        message = "Unsupported parameter: 'max_tokens' is not supported with this model."
        return Reply({"error": {"message": message, "param": "max_tokens"}}, 400)

    with FakeOpenAIServer(respond) as server:
        client = client_for(server)
        with client, pytest.raises(FieldsRejected, match="max_completion_tokens") as caught:
            client.complete_sync(USER)
    assert caught.value.fields == ("max_tokens",)


def test_tools_refused_by_a_server_without_tool_calling_point_at_text_mode():
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    vllm = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
    with FakeOpenAIServer(lambda request: error(400, vllm)) as server:
        client = client_for(server)

        async def ask():
            async with client:
                return await client.acomplete(USER, tools=tools)

        with pytest.raises(FieldsRejected, match="tool_mode='text'") as caught:
            asyncio.run(ask())
    assert caught.value.fields == ("tools",)


def test_a_rejected_seed_alone_is_dropped_once_with_a_warning():
    def respond(request):
        if "seed" in request:
            return Reply({"detail": "Unexpected fields in the request: {'seed'}"}, 422)
        return completion("ok")

    with FakeOpenAIServer(respond) as server, client_for(server, seed=7) as client:
        with pytest.warns(RuntimeWarning, match="rejected seed.*not reproducible"):
            first = client.complete_sync(USER)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the second request neither sends it nor warns
            second = client.complete_sync(USER, seed=8)
    assert first.text == second.text == "ok"
    assert ["seed" in r for r in server.requests] == [True, False, False]
    assert client.dropped_fields == {"seed"} and client.stats.retries == 1


def test_seed_named_with_another_field_is_not_dropped():
    with FakeOpenAIServer(transformers_style({"model", "messages", "max_tokens"})) as server:
        client = client_for(server, seed=1, top_p=None, temperature=None, extra_body={"top_k": 1})
        with client, pytest.raises(FieldsRejected) as caught:
            client.complete_sync(USER)
    assert set(caught.value.fields) == {"seed", "top_k"} and len(server.requests) == 1


def test_an_error_that_names_no_sent_field_stays_a_plain_endpoint_error():
    with FakeOpenAIServer(lambda request: error(400, "messages[0].content: too long")) as server:
        client = client_for(server, seed=3)
        with client, pytest.raises(EndpointError) as caught:
            client.complete_sync(USER)
    assert not isinstance(caught.value, FieldsRejected)


def test_field_names_match_whole_words_only():
    body = {"model": "m", "messages": [], "seed": 1, "top_p": 1.0, "tools": [{}]}
    assert rejected_fields(body, "seeded sampling is off; top_pp unknown", None) == []
    assert rejected_fields(body, "messages: 'model' must be set", None) == []
    assert rejected_fields(body, "unknown field 'top_p'", None) == ["top_p"]


def tools_aware(shows_tools):
    """Report prompt tokens as a template would: tools add tokens only if ``shows_tools``."""

    def respond(request):
        reply = completion("The answer is unknown.")
        tokens = 10 + len(str(request["messages"])) // 4
        if shows_tools and request.get("tools"):
            tokens += 50
        reply.body["usage"] = {"prompt_tokens": tokens, "completion_tokens": 3, "total_tokens": 0}
        return reply

    return respond


@pytest.mark.parametrize("shows_tools", [True, False])
def test_native_mode_checks_once_that_the_server_showed_the_tools(shows_tools):
    with FakeOpenAIServer(tools_aware(shows_tools)) as server:
        config = OpenAIConfig(
            base_url=server.base_url, model="fake-model", tool_mode="native", **FAST
        )
        with (
            OpenAIPolicy(config, check_tools=True) as policy,
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            for seed in (0, 1):
                result = play(gym.make(ENV_ID, split="test"), policy, seed=seed)
                assert result.end_reason in {"answered", "max_turns"}
    tool_warnings = [w for w in caught if "not shown the tools" in str(w.message)]
    assert policy.tools_in_prompt is shows_tools
    assert len(tool_warnings) == (0 if shows_tools else 1)
    assert "tool_mode='text'" in str(tool_warnings[0].message) if tool_warnings else True
    probes = [r for r in server.requests if r.get("max_tokens") == 1]
    assert len(probes) == 1 and "tools" not in probes[0]
    assert policy.stats.requests == len(server.requests) - 1  # the probe is not the episodes'


def test_no_usage_no_verdict_and_a_failed_probe_never_ends_the_episode():
    def respond(request):
        if request.get("max_tokens") == 1:
            return error(500, "probe refused")
        reply = completion("The answer is unknown.")
        reply.body["usage"] = {"prompt_tokens": 40, "completion_tokens": 3, "total_tokens": 43}
        return reply

    with FakeOpenAIServer(respond) as server:
        config = OpenAIConfig(
            base_url=server.base_url, model="fake-model", tool_mode="native", **FAST
        )
        with OpenAIPolicy(config, check_tools=True) as policy:
            result = play(gym.make(ENV_ID, split="test"), policy, seed=0)
    assert result.end_reason in {"answered", "max_turns"} and policy.tools_in_prompt is None
    with FakeOpenAIServer(lambda request: Reply({"choices": [{"message": {"content": "x"}}]})) as s:
        config = OpenAIConfig(base_url=s.base_url, model="fake-model", tool_mode="native", **FAST)
        with OpenAIPolicy(config, check_tools=True) as policy:
            play(gym.make(ENV_ID, split="test"), policy, seed=0)
    assert policy.tools_in_prompt is None
    assert all(r.get("max_tokens") != 1 for r in s.requests)  # no usage: nothing to compare


def test_the_command_line_agent_checks_the_tools():
    agent = make_agent(
        AgentConfig(agent="openai", base_url="http://127.0.0.1:9/v1", model="m", tool_mode="native")
    )
    assert agent.policy(0)._check_tools is True
