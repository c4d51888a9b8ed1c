"""What the server shows the model (rendering) and how it reads the reply (tool calls)."""

import doctest
import json

import gymnasium as gym
import pytest

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.formats import get_format
from toolgym.policies import OraclePolicy, play
from toolgym.policies.native_tools import native_messages
from toolgym.serve import ChatCompletionRequest, ChatEngine
from toolgym.serve import app as serve_app
from toolgym.serve import reply as serve_reply
from toolgym.serve.prompt import conversation
from toolgym.serve.reply import build_choice
from toolgym.tooling import ToolCall

try:  # tests/serve as a package, or as a plain folder on sys.path (pytest's default)
    from .serve_samples import HELLO, PARAMETERS, SEARCH_SPEC
except ImportError:
    from serve_samples import HELLO, PARAMETERS, SEARCH_SPEC  # type: ignore[no-redef]

ENV_ID = "toolgym/Search-v0"


# ------------------------------------------------------------------------------------ rendering
@pytest.mark.parametrize("fmt", ["hermes", "glm", "pythonic"])
def test_tools_in_the_request_reach_the_system_prompt(tiny_model, fmt):
    engine = ChatEngine(*tiny_model, tool_format=fmt)
    request = ChatCompletionRequest(model="m", messages=HELLO, tools=[SEARCH_SPEC])
    prompt = engine.render(request)
    block = get_format(fmt).render_tools([SEARCH_SPEC])
    assert "Be brief.\n\n" + block in prompt and prompt.index(block) < prompt.index("Hello there")
    hidden = ChatCompletionRequest(
        model="m", messages=HELLO, tools=[SEARCH_SPEC], tool_choice="none"
    )
    assert "search_articles" not in engine.render(hidden)


@pytest.mark.parametrize("fmt", ["hermes", "glm", "pythonic"])
def test_a_native_request_renders_exactly_the_env_prompt(tiny_model, fmt):
    """OpenAIPolicy's native protocol of an oracle episode renders as the env's own text would."""
    env = gym.make(ENV_ID, split="test", format=fmt)
    result = play(env, OraclePolicy(), task_id="search-test-005")
    base, history = env.unwrapped, result.messages[:-1]  # up to the last tool/user message
    assert any(m["role"] == "tool" for m in history)
    parameters = {s["function"]["name"]: s["function"]["parameters"] for s in base.tool_specs}
    native = native_messages(
        history, base.tool_format, parameters, base.system_prompt(base.task, with_tools=False)
    )
    assert any(m.get("tool_calls") for m in native)
    request = ChatCompletionRequest(model="m", messages=native, tools=base.tool_specs)
    engine = ChatEngine(*tiny_model, tool_format=fmt)
    assert engine.render(request) == engine.chat.render(history, add_generation_prompt=True)


@pytest.mark.parametrize("fmt", ["hermes", "glm", "pythonic"])
def test_text_before_calls_and_tool_names_round_trip(fmt):
    tool_format = get_format(fmt)
    calls = [ToolCall(name="search_articles", arguments={"query": "Zel", "k": 2})] * 2
    history = [
        *HELLO,
        {"role": "assistant", "content": "Checking.\n" + tool_format.render_calls(calls)},
        {"role": "tool", "name": "search_articles", "content": "no hits"},
        {"role": "tool", "name": "search_articles", "content": "still none"},
    ]
    native = native_messages(history, tool_format, PARAMETERS, HELLO[0]["content"])
    assert native[2]["content"] == "Checking." and len(native[2]["tool_calls"]) == 2
    assert [m.get("name") for m in native[3:]] == [None, None]  # names come back from the ids
    request = ChatCompletionRequest(model="m", messages=native)
    assert conversation(request, tool_format) == history


# ------------------------------------------------------------------------------------ tool calls
def test_generated_calls_become_openai_tool_calls():
    text = (
        "Let me look.\n"
        '<tool_call>\n{"name": "search_articles", "arguments": {"query": "Dervorn"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "search_articles", "arguments": {"query": "Zel", "k": 2}}\n</tool_call>'
    )
    hermes = get_format("hermes")
    choice = build_choice(0, text, stopped=True, tool_format=hermes, parameters=PARAMETERS)
    assert choice.finish_reason == "tool_calls" and choice.message.content == "Let me look."
    calls = choice.message.tool_calls
    assert [c.function.name for c in calls] == ["search_articles"] * 2
    assert [json.loads(c.function.arguments) for c in calls] == [
        {"query": "Dervorn"},
        {"query": "Zel", "k": 2},
    ]
    assert all(c.type == "function" and c.id.startswith("call_") for c in calls)
    assert len({c.id for c in calls}) == 2
    cut = build_choice(0, text, stopped=False, tool_format=hermes, parameters=PARAMETERS)
    assert cut.finish_reason == "length" and len(cut.message.tool_calls) == 2


def test_glm_calls_use_the_schema_for_argument_types():
    text = (
        "<tool_call>search_articles\n<arg_key>query</arg_key>\n<arg_value>42</arg_value>\n"
        "<arg_key>k</arg_key>\n<arg_value>3</arg_value>\n</tool_call>"
    )
    choice = build_choice(
        0, text, stopped=True, tool_format=get_format("glm"), parameters=PARAMETERS
    )
    assert choice.message.content is None and choice.finish_reason == "tool_calls"
    assert json.loads(choice.message.tool_calls[0].function.arguments) == {"query": "42", "k": 3}


@pytest.mark.parametrize(
    ("text", "parameters"),
    [
        ('<tool_call>\n{"name": "search_articles", "arguments": [1]}\n</tool_call>', PARAMETERS),
        ('<tool_call>\n{"name": "search_articles"', PARAMETERS),
        (  # one good call and one malformed: the client sees the whole mistake
            '<tool_call>\n{"name": "search_articles", "arguments": {"query": "a"}}\n</tool_call>\n'
            "<tool_call>\nnot json\n</tool_call>",
            PARAMETERS,
        ),
        ('<tool_call>\n{"name": "search_articles", "arguments": {}}\n</tool_call>', None),
        ("Just an answer.", PARAMETERS),
    ],
)
def test_other_replies_come_back_as_plain_content(text, parameters):
    choice = build_choice(
        0, text, stopped=True, tool_format=get_format("hermes"), parameters=parameters
    )
    assert choice.message.content == text and choice.message.tool_calls == []
    assert choice.finish_reason == "stop"


@pytest.mark.parametrize("module", [serve_app, serve_reply])
def test_docstring_examples(module):
    # toolgym/serve is outside pytest's testpaths, so its doctests run here.
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
