"""toolgym against a server toolgym did not write: ``transformers serve`` (transformers 5.x).

Runs on CPU, offline, on the local SmolLM2 folder (``models.smollm2_folder()``), one server for the
module. Covers ``toolgym eval --agent openai`` in text and native tool mode, the LLM user backend,
and what the server does with the fields toolgym sends: it honours ``seed``, ``max_tokens`` and
``temperature``; it passes ``tools`` to the chat template (SmolLM2's drops them, and it parses no
tool calls for Llama models, so calls come back as text); it answers 422 to fields outside the
OpenAI schema (``ServerTokenPolicy``'s token-id fields, ``extra_body`` extras). Skipped only when
the serving extra (``transformers[serving]``: fastapi, uvicorn, openai) is absent.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import httpx
import pytest
from typer.testing import CliRunner

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.cli import app
from toolgym.formats import get_format
from toolgym.llm.backends import EndpointBackend
from toolgym.llm.client import OpenAIClient
from toolgym.llm.config import OpenAIConfig
from toolgym.llm.request_fields import FieldsRejected
from toolgym.llm.token_client import ServerTokenPolicy, TokenServerConfig
from toolgym.policies import OpenAIPolicy, play
from toolgym.policies.native_tools import native_messages
from toolgym.users import STOP_SIGNAL, LLMUser
from toolgym.users.config import UserConfig

ENV_ID = "toolgym/SearchLookup-v0"  # one search, then the answer; max 4 turns, short results
ENDED = {"answered", "max_turns", "max_invalid_streak", "malformed"}

_MISSING = [m for m in ("fastapi", "uvicorn", "openai") if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(_MISSING),
        reason=f"transformers serving extra not installed (missing {_MISSING}); "
        "pip install -e '.[thirdparty-server]'",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def hf_server() -> Iterator[tuple[str, str]]:
    """Start ``transformers serve`` on a free loopback port; yield (base_url, model); always kill it."""
    from toolgym.llm import models

    models.load_tokenizer("smollm2-135m")  # makes sure the converted folder exists
    folder = str(models.smollm2_folder())
    exe = shutil.which("transformers", path=str(Path(sys.executable).parent)) or "transformers"
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.Popen(
        [exe, "serve", folder, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                pytest.fail(f"transformers serve exited early (rc={proc.returncode}): {err}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("transformers serve not healthy within 120 s")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", folder
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_text_completion_with_seed(hf_server: tuple[str, str]) -> None:
    base_url, model = hf_server
    cfg = OpenAIConfig(base_url=base_url, model=model, max_tokens=8, seed=1, api_key="x")
    with OpenAIClient(cfg) as client:
        out = client.complete_sync([{"role": "user", "content": "Say hello."}], seed=1)
        again = client.complete_sync([{"role": "user", "content": "Say hello."}], seed=1)
    assert out.text.strip(), out
    assert out.completion_tokens > 0
    assert out.finish_reason in {"stop", "length"}
    assert out.text == again.text  # temperature 0: deterministic


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def _eval(base_url: str, model: str, out: Path, *extra: str) -> list[dict]:
    args = ["eval", "--env", ENV_ID, "--agent", "openai", "--base-url", base_url,
            "--model", model, "--limit", "1", "--max-new-tokens", "8", "--temperature", "0",
            "--no-progress", "--out", str(out), *extra]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes"] == 1 and summary["agent"] == "openai"
    return _rows(out)


def test_eval_text_mode(hf_server, tmp_path):
    """``toolgym eval --agent openai --tool-mode text``: the env's prompt lists the tools."""
    base_url, model = hf_server
    (row,) = _eval(base_url, model, tmp_path / "run", "--tool-mode", "text")
    assert row["end_reason"] in ENDED, row
    assert row["tokens"] > 0  # completion tokens as the server reported them
    roles = [m["role"] for m in row["messages"]]
    assert roles[:3] == ["system", "user", "assistant"]
    assert "<tools>" in row["messages"][0]["content"]  # text mode: toolgym lists the tools
    assert all(m["content"].strip() for m in row["messages"] if m["role"] == "assistant")


def test_native_mode_episode_whatever_smollm2_answers(hf_server):
    """Native tool mode: ``tools`` is sent; the server's template drops it and toolgym says so."""
    base_url, model = hf_server
    config = OpenAIConfig(base_url=base_url, model=model, tool_mode="native", max_tokens=8,
                          seed=0, temperature=0.0, api_key="x")  # fmt: skip
    env = gym.make(ENV_ID, split="test")
    replies = []
    with OpenAIPolicy(config, check_tools=True) as policy:
        complete = policy.client.acomplete

        async def recording(messages, tools=None, **kwargs):
            completion = await complete(messages, tools, **kwargs)
            replies.append((tools, completion))
            return completion

        policy.client.acomplete = recording  # type: ignore[method-assign]
        with pytest.warns(RuntimeWarning, match="not shown the tools"):
            result = play(env, policy, seed=0)
    assert result.end_reason in ENDED, result
    assert policy.tools_in_prompt is False  # SmolLM2's chat template ignores tools=
    assert replies and all(tools for tools, _ in replies)  # every turn sent tools=
    # transformers serve parses tool calls only for model families it knows (Qwen, Gemma): for
    # SmolLM2 (llama) a call stays in the text, which toolgym's own parser then reads
    assert all(c.tool_calls == () and c.completion_tokens > 0 for _, c in replies)
    messages, hermes = result.messages, get_format("hermes")
    turns = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    assert [messages[i]["content"] for i in turns] == [c.text.rstrip() for _, c in replies]
    for i in (i for i in turns if i + 1 < len(messages)):
        parsed = hermes.parse(messages[i]["content"], {"search": {}})
        if parsed.calls or parsed.errors:
            assert messages[i + 1]["role"] == "tool"  # a result or an error observation
        else:
            assert messages[i + 1]["role"] == "user"  # plain text went to the user


def test_native_history_with_calls_is_accepted(hf_server):
    """A native follow-up (assistant ``tool_calls`` with null content, a ``tool`` result) is a 200."""
    base_url, model = hf_server
    env = gym.make(ENV_ID, split="test").unwrapped
    env.reset(seed=0)
    call = '<tool_call>\n{"name": "search", "arguments": {"query": "Dune"}}\n</tool_call>'
    conversation = [{"role": "system", "content": "s"}, {"role": "user", "content": "Who?"},
                    {"role": "assistant", "content": call},
                    {"role": "tool", "content": "Dune: a novel."}]  # fmt: skip
    params = {s["function"]["name"]: s["function"]["parameters"] for s in env.tool_specs}
    request = native_messages(conversation, env.tool_format, params, "You are helpful.")
    assert request[2]["content"] is None and request[3]["tool_call_id"] == "call_0_0"
    cfg = OpenAIConfig(base_url=base_url, model=model, max_tokens=4, seed=0, api_key="x")
    with OpenAIClient(cfg) as client:
        out = client.run_sync(client.acomplete(request, tools=env.tool_specs))
    assert out.completion_tokens > 0 and out.finish_reason in {"stop", "length"}


def test_llm_user_turns_come_from_the_server(hf_server, monkeypatch):
    """An env whose LLM user is backed by transformers serve: the user turn is the server's text."""
    base_url, model = hf_server
    user = UserConfig(kind="llm", base_url=base_url, model=model, temperature=0.0, max_tokens=8,
                      max_retries=0).build()  # fmt: skip
    assert isinstance(user, LLMUser) and isinstance(user.backend, EndpointBackend)
    backend, calls = user.backend, []
    complete = backend.complete

    def recording(messages, seed):
        reply = complete(messages, seed)
        calls.append((list(messages), reply))
        return reply

    monkeypatch.setattr(backend, "complete", recording)  # the backend is shared: undo after
    env = gym.make(ENV_ID, split="test", user=user)
    env.reset(seed=0)
    question = "Which year do you mean?"
    observation, _, terminated, _, _ = env.step(question)
    assert env.unwrapped.summary()["user_error"] is None
    ((asked, reply),) = calls  # one user turn, asked of the server
    assert asked[-1] == {"role": "user", "content": question} and reply.completion_tokens > 0
    with OpenAIClient(backend.config) as client:  # greedy: the same prompt gives the same text
        assert client.complete_sync(asked, seed=0).text.strip() == reply.text
    if terminated:  # the server's reply was the stop signal
        assert STOP_SIGNAL in reply.text
    else:  # the user's reply is the server's text
        assert observation == [{"role": "user", "content": reply.text}] and reply.text
    env.close()


def test_token_policy_fields_are_rejected_by_name(hf_server):
    """ServerTokenPolicy (vLLM protocol) needs token ids: transformers serve refuses the fields."""
    base_url, model = hf_server
    config = TokenServerConfig(base_url=base_url, model=model, max_new_tokens=4, max_retries=0)
    with ServerTokenPolicy(config, stop_ids=[2]) as policy, pytest.raises(FieldsRejected) as caught:
        policy.generate([[1, 2, 3]])
    assert caught.value.status_code == 422
    assert {"return_token_ids", "stop_token_ids", "skip_special_tokens"} <= set(caught.value.fields)
    assert "vLLM >= 0.10.2, SGLang or toolgym serve" in str(caught.value)


def test_ignored_and_rejected_chat_fields(hf_server):
    """``logprobs``/``tool_choice`` are ignored (200, no log-probs); extras get a named 422."""
    base_url, model = hf_server
    messages = [{"role": "user", "content": "Say hi."}]
    ignored = OpenAIConfig(base_url=base_url, model=model, max_tokens=2, api_key="x",
                           extra_body={"logprobs": True, "tool_choice": "auto"})  # fmt: skip
    raw = httpx.post(f"{base_url}/chat/completions", timeout=60,
                     json={"model": model, "messages": messages, "max_tokens": 2,
                           "logprobs": True, "top_logprobs": 1})  # fmt: skip
    assert raw.status_code == 200 and raw.json()["choices"][0].get("logprobs") is None
    with OpenAIClient(ignored) as client:
        assert client.complete_sync(messages).completion_tokens > 0
    rejected = ignored.model_copy(update={"extra_body": {"top_k": 5}})
    with OpenAIClient(rejected) as client, pytest.raises(FieldsRejected) as caught:
        client.complete_sync(messages)
    assert caught.value.fields == ("top_k",) and "extra_body" in str(caught.value)
