"""``toolgym serve`` over real HTTP: a uvicorn server on 127.0.0.1 serving the tiny random model."""

import json
import os
import socket
import subprocess
import sys
import time

import gymnasium as gym
import httpx
import pytest
from typer.testing import CliRunner

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.cli import app as cli_app
from toolgym.formats import get_format
from toolgym.llm.sampler import SamplingConfig
from toolgym.policies import OpenAIConfig, OpenAIPolicy, play
from toolgym.policies.hf_text import HFTextPolicy
from toolgym.serve import ChatCompletionRequest, background_server, create_app

try:  # tests/serve as a package, or as a plain folder on sys.path (pytest's default)
    from .serve_samples import HELLO, PARAMETERS, SEARCH_SPEC
except ImportError:
    from serve_samples import HELLO, PARAMETERS, SEARCH_SPEC  # type: ignore[no-redef]

MODEL_NAME = "tiny-served"
ENV_ID = "toolgym/Search-v0"
TASK = "search-test-001"


@pytest.fixture(scope="module")
def app(tiny_model):
    model, tokenizer = tiny_model
    return create_app(model, tokenizer, model_name=MODEL_NAME, default_max_tokens=8)


@pytest.fixture(scope="module")
def base_url(app):
    """A real uvicorn server on 127.0.0.1 (an ephemeral port) in a background thread."""
    with background_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url):
    with httpx.Client(base_url=base_url, timeout=60) as http:
        yield http


def chat(client, **fields):
    """POST /chat/completions with the served model and ``fields``; returns the response."""
    return client.post("/chat/completions", json={"model": MODEL_NAME, "messages": HELLO} | fields)


def content_of(response):
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


# ------------------------------------------------------------------------------------ endpoints
def test_models_lists_the_served_model(client):
    body = client.get("/models").json()
    assert body["object"] == "list" and len(body["data"]) == 1
    card = body["data"][0]
    assert card["id"] == MODEL_NAME and card["object"] == "model" and card["owned_by"] == "toolgym"
    assert isinstance(card["created"], int)


def test_greedy_completion_is_what_hf_text_policy_samples(client, app, tiny_model):
    body = chat(client, temperature=0, max_tokens=6).json()
    assert body["object"] == "chat.completion" and body["model"] == MODEL_NAME
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["message"]["role"] == "assistant"
    assert choice["message"]["tool_calls"] == [] and choice["finish_reason"] in ("stop", "length")
    model, tokenizer = tiny_model
    local = HFTextPolicy(model, tokenizer, SamplingConfig(temperature=0, max_new_tokens=6))
    assert choice["message"]["content"] == local.act(HELLO)
    engine = app.state.engine
    prompt = engine.chat.encode(engine.render(ChatCompletionRequest(model="m", messages=HELLO)))
    usage = body["usage"]
    assert usage["prompt_tokens"] == len(prompt)
    assert 1 <= usage["completion_tokens"] <= 6
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert (choice["finish_reason"] == "length") == (usage["completion_tokens"] == 6)


def test_a_seed_makes_sampling_reproducible(client):
    first = content_of(chat(client, temperature=1.0, seed=7, max_tokens=8))
    assert content_of(chat(client, temperature=1.0, seed=7, max_tokens=8)) == first
    others = {content_of(chat(client, temperature=1.0, seed=s, max_tokens=8)) for s in (8, 9, 10)}
    assert others - {first}, "different seeds should give different samples"


def test_n_samples_come_back_as_indexed_choices(client):
    body = chat(client, n=3, seed=1, max_tokens=4).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert 3 <= body["usage"]["completion_tokens"] <= 12
    assert len({c["message"]["content"] for c in body["choices"]}) > 1  # independent samples


def test_stop_strings_cut_the_reply(client):
    full = content_of(chat(client, seed=3, max_tokens=8))
    stop = full.strip()[2:4]
    assert stop, full
    body = chat(client, seed=3, max_tokens=8, stop=[stop]).json()
    assert body["choices"][0]["message"]["content"] == full[: full.index(stop)]
    assert body["choices"][0]["finish_reason"] == "stop"


def test_streaming_sends_the_same_reply_as_chunks(client):
    plain = chat(client, seed=5, max_tokens=6).json()
    streamed = chat(
        client, seed=5, max_tokens=6, stream=True, stream_options={"include_usage": True}
    )
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = [line[len("data: ") :] for line in streamed.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    deltas = [c["choices"][0] for c in chunks if c["choices"]]
    assert (
        "".join(d["delta"].get("content", "") for d in deltas)
        == (plain["choices"][0]["message"]["content"])
    )
    assert deltas[-1]["finish_reason"] == plain["choices"][0]["finish_reason"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == plain["usage"]


# --------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        ({"temperature": 3}, "temperature"),
        ({"n": 9}, "n"),
        ({"logit_bias": {"1": 5}}, "logit_bias"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0]"),
        (
            {
                "messages": [
                    *HELLO,
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {"id": "a", "function": {"name": "f", "arguments": "[1, 2]"}}
                        ],
                    },
                ]
            },
            "messages[2].tool_calls[0].function.arguments",
        ),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(client, fields, named):
    response = chat(client, **fields)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == named
    assert f"{named}:" in error["message"]


def test_a_body_that_is_not_json_is_a_400(client):
    response = client.post("/chat/completions", content=b"{not json")
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]["message"]


def test_an_unknown_model_is_a_404_in_openai_shape(client):
    response = client.post("/chat/completions", json={"model": "gpt-9", "messages": HELLO})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "'gpt-9'" in error["message"] and MODEL_NAME in error["message"]


def test_a_budget_past_the_context_is_a_400(client):
    response = chat(client, max_tokens=10**6)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"


def test_tool_calls_and_finish_reason_agree_end_to_end(client):
    body = chat(client, tools=[SEARCH_SPEC], n=8, seed=0, max_tokens=8).json()
    hermes = get_format("hermes")
    for choice in body["choices"]:
        message, finish = choice["message"], choice["finish_reason"]
        if message["tool_calls"]:
            assert finish in ("tool_calls", "length")
            for call in message["tool_calls"]:
                assert call["function"]["name"] in PARAMETERS
                assert isinstance(json.loads(call["function"]["arguments"]), dict)
        else:
            assert finish in ("stop", "length")
            parsed = hermes.parse(message["content"], PARAMETERS)
            assert parsed.errors or not parsed.calls  # no well-formed call went unreported


# -------------------------------------------------------------------------------- OpenAIPolicy
def test_openai_policy_plays_an_episode_in_text_and_native_modes(base_url):
    """Both modes render the same prompt here, so greedy decoding gives the same first reply."""
    first_actions, prompt_tokens = {}, {}
    for mode in ("text", "native"):
        config = OpenAIConfig(
            base_url=base_url, model=MODEL_NAME, tool_mode=mode, max_tokens=8, max_retries=0
        )
        with OpenAIPolicy(config) as policy:
            result = play(gym.make(ENV_ID, split="test"), policy, task_id=TASK, seed=0)
        assert result.steps >= 1 and result.end_reason is not None
        stats = policy.stats
        assert stats.failures == 0 and stats.completions == result.steps
        assert stats.prompt_tokens > 300 and 0 < stats.completion_tokens <= 8 * result.steps
        first_actions[mode] = next(m for m in result.messages if m["role"] == "assistant")
        prompt_tokens[mode] = stats.prompt_tokens / stats.completions
    assert first_actions["text"]["content"].rstrip() == first_actions["native"]["content"]
    assert prompt_tokens["text"] == prompt_tokens["native"]  # the tools block is in both


# ----------------------------------------------------------------------------------------- CLI
def test_serve_help_reads_well():
    result = CliRunner().invoke(cli_app, ["serve", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for option in ("--model", "--host", "--port", "--tool-format", "--served-name", "smollm2-135m"):
        assert option in result.output


def test_the_serve_command_answers_over_http():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "toolgym", "serve", "--model", "tiny", "--port", str(port)]
    command += ["--served-name", "cli-tiny", "--tool-format", "glm", "--max-tokens", "4"]
    server = subprocess.Popen(command, env=os.environ | {"COLUMNS": "120"})
    try:
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 120
        while True:
            try:
                models = httpx.get(f"{url}/models", timeout=5).json()
                break
            except httpx.TransportError:
                assert server.poll() is None, "toolgym serve exited early"
                assert time.monotonic() < deadline, "toolgym serve did not start in 120 s"
                time.sleep(0.2)
        assert [m["id"] for m in models["data"]] == ["cli-tiny"]
        body = httpx.post(
            f"{url}/chat/completions", json={"model": "cli-tiny", "messages": HELLO}, timeout=60
        ).json()
        assert body["usage"]["completion_tokens"] <= 4
    finally:
        server.terminate()
        server.wait(30)
