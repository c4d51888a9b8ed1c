"""The BFCL envs: registration, Gymnasium's checker, the oracle at 100%, wrong answers at 0."""

import importlib.util
import json
import random
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from toolgym.bfcl import ENV_IDS, register_bfcl
from toolgym.bfcl.env import BFCLEnv, make_bfcl_env
from toolgym.policies import ExpertPolicy, OraclePolicy, RandomPolicy, play
from toolgym.tooling import ToolCall

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None,
    reason="pip install --no-deps bfcl-eval==2026.3.23",
)

register_bfcl()


def test_the_bfcl_envs_are_registered():
    assert register_bfcl() == list(ENV_IDS.values())  # idempotent
    assert sorted(ENV_IDS.values()) == [
        "toolgym/BFCL-irrelevance-v0",
        "toolgym/BFCL-multiple-v0",
        "toolgym/BFCL-parallel-multiple-v0",
        "toolgym/BFCL-parallel-v0",
        "toolgym/BFCL-simple-v0",
    ]
    assert all(env_id in gym.registry for env_id in ENV_IDS.values())


@pytest.mark.parametrize("env_id", list(ENV_IDS.values()))
def test_check_env(env_id):
    env = gym.make(env_id, split="test")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        check_env(env.unwrapped)


@pytest.mark.parametrize(
    "policy", [OraclePolicy, ExpertPolicy]
)  # the expert labels DAgger's states
@pytest.mark.parametrize("tool_format", ["hermes", "glm", "pythonic"])
@pytest.mark.parametrize("category", list(ENV_IDS))
def test_the_oracle_scores_100_percent_on_every_entry(category, tool_format, policy):
    env = gym.make(ENV_IDS[category], split="test", format=tool_format)
    tasks = env.unwrapped.tasks
    for task in tasks:
        result = play(env, policy(), task_id=task.id)
        assert result.steps == 1 and result.end_reason == "answered" and result.terminated
        assert result.components["completion"] == 1.0 == result.total_reward, (
            task.id,
            env.unwrapped.summary()["bfcl_reason"],
        )
        assert result.components["format"] == 1.0
        assert result.components["num_calls"] == len(task.flat_gold_calls)
    print(f"oracle on {ENV_IDS[category]} ({tool_format}): {len(tasks)}/{len(tasks)}")


def first_step(env, task_id, action):
    messages, info = env.reset(options={"task_id": task_id})
    return messages, info, env.step(action)


def test_reset_shows_the_tools_and_the_question():
    env = make_bfcl_env("simple")
    messages, info, _ = first_step(env, "simple_python_1", "")
    system, user = messages
    assert system["role"] == "system" and '"name": "math.factorial"' in system["content"]
    assert "<tool_call>" in system["content"]  # the hermes instructions
    assert user == {"role": "user", "content": "Calculate the factorial of 5 using math functions."}
    assert info["task_id"] == "simple_python_1" and info["turn"] == 0
    assert info["tools"] == env.tool_specs and env.tool_specs[0]["function"]["name"] == "math.factorial"  # fmt: skip
    assert "<tools>" not in env.system_prompt(env.task, with_tools=False)


def test_a_right_call_scores_1_and_ends_the_episode():
    env = make_bfcl_env("simple", format="glm")
    call = ToolCall(name="math.factorial", arguments={"number": 5})
    _, _, (obs, reward, terminated, truncated, info) = first_step(
        env, "simple_python_1", env.tool_format.render_calls([call])
    )
    assert (obs, reward, terminated, truncated) == ([], 1.0, True, False)
    assert info["reward_components"] == {"completion": 1.0, "format": 1.0, "num_calls": 1.0}
    assert info["end_reason"] == "answered" and info["turn"] == 1
    assert info["toolgym"]["bfcl_reason"] is None
    assert info["toolgym"]["calls_made"] == [call.model_dump()]
    assert [m["role"] for m in info["messages"]] == ["system", "user", "assistant"]
    with pytest.raises(RuntimeError, match="reset"):
        env.step("again")


@pytest.mark.parametrize(
    ("action", "components", "reason"),
    [
        ("The factorial of 5 is 120.", (0.0, 1.0, 0.0), "wrong number of calls: expected 1, got 0"),
        (
            '<tool_call>\n{"name": "math.factorial", \n</tool_call>',
            (0.0, 0.0, 0.0),
            "wrong number of calls: expected 1, got 0",
        ),  # fmt: skip
        (
            '<tool_call>\n{"name": "math.factorial", "arguments": {"number": 6}}\n</tool_call>',
            (0.0, 1.0, 1.0),
            "wrong value for parameter 'number'",
        ),  # fmt: skip
        (
            '<tool_call>\n{"name": "math_factorial", "arguments": {"number": 5}}\n</tool_call>',
            (0.0, 1.0, 1.0),
            "wrong function",
        ),  # fmt: skip
        (  # BFCL's Hermes decoder needs the newlines inside the tags: no call is seen
            '<tool_call>{"name": "math.factorial", "arguments": {"number": 5}}</tool_call>',
            (0.0, 0.0, 0.0),
            "wrong number of calls: expected 1, got 0",
        ),  # fmt: skip
        (  # a block of other JSON fails the whole message, even beside the right call
            '<tool_call>\n{"name": "math.factorial", "arguments": {"number": 5}}\n</tool_call>'
            "\n<tool_call>\n[1, 2]\n</tool_call>",
            (0.0, 0.0, 0.0),
            "BFCL could not decode the message: call 2: a block holds list JSON",
        ),  # fmt: skip
    ],
)
def test_wrong_or_malformed_answers_score_0_with_a_reason(action, components, reason):
    env = make_bfcl_env("simple")
    _, _, (_, reward, terminated, _, info) = first_step(env, "simple_python_1", action)
    assert reward == 0.0 and terminated
    got = info["reward_components"]
    assert (got["completion"], got["format"], got["num_calls"]) == components
    assert info["toolgym"]["bfcl_reason"].startswith(reason)


def test_irrelevance_rewards_answering_without_a_call():
    env = make_bfcl_env("irrelevance")
    task_id = env.tasks[0].id
    _, _, (_, reward, *_) = first_step(env, task_id, "I cannot do that with these tools.")
    assert reward == 1.0
    name = env.tool_specs[0]["function"]["name"]
    call = env.tool_format.render_calls([ToolCall(name=name, arguments={})])
    _, _, (_, reward, _, _, info) = first_step(env, task_id, call)
    assert reward == 0.0 and info["toolgym"]["bfcl_reason"].startswith("no function should be called")  # fmt: skip


def test_handler_is_a_parameter_and_toolgym_keeps_its_own_parser():
    action = '<tool_call>{"name": "math.factorial", "arguments": {"number": 5}}</tool_call>'
    for handler, reward in [("hermes", 0.0), ("toolgym", 1.0)]:
        env = gym.make("toolgym/BFCL-simple-v0", handler=handler, limit=3)
        assert env.unwrapped.handler == handler
        _, _, (_, got, *_) = first_step(env.unwrapped, "simple_python_1", action)
        assert got == reward, handler
    assert make_bfcl_env("simple", limit=1).handler == "hermes"
    assert make_bfcl_env("simple", format="glm", limit=1).handler == "toolgym"
    with pytest.raises(ValueError, match="unknown handler 'qwen'"):
        make_bfcl_env("simple", handler="qwen", limit=1)
    with pytest.raises(ValueError, match="format='hermes' or handler='toolgym'"):
        make_bfcl_env("simple", format="glm", handler="hermes", limit=1)


def test_the_prompting_handler_reads_bfcls_way_and_runs_no_code(tmp_path):
    env = make_bfcl_env("simple", format="pythonic", limit=3)
    assert env.handler == "prompting" and "Python list of calls" in env.system_prompt(env.tasks[1])
    task_id = "simple_python_1"  # math.factorial(number=5)
    for action, reward, well_formed in [
        ("math.factorial(number=5)", 1.0, 1.0),  # BFCL adds the brackets
        ("[math.factorial(number=4 + 1)]", 1.0, 1.0),  # an operator on literals is computed
        ("[math.factorial(number=+5)]", 0.0, 1.0),  # BFCL negates any unary operand: -5
        ("[math.factorial(5)]", 0.0, 1.0),  # positional arguments are dropped
        ("```python\n[math.factorial(number=5)]\n```", 0.0, 1.0),  # "python" becomes a name
        ("[math.factorial(number=5", 0.0, 0.0),  # opens like a call, fails: a format problem
        ("I would call the factorial function.", 0.0, 1.0),  # a reply in words
    ]:
        _, _, (_, got, _, _, info) = first_step(env, task_id, action)
        assert (got, info["reward_components"]["format"]) == (reward, well_formed), action
    marker = tmp_path / "ran"
    attack = f"[math.factorial(number=open({str(marker)!r}, 'w').write('x') + 5)]"
    _, _, (_, got, _, _, info) = first_step(env, task_id, attack)
    assert got == 0.0 and not marker.exists()  # BFCL would eval() this; toolgym refuses it
    assert "literals only" in info["toolgym"]["format_errors"][0]
    _, _, (_, got, *_) = first_step(env, task_id, "[math.factorial(number=9**9**9)]")
    assert got == 0.0  # bounded: refused, not computed
    odd = "[math.factorial(number=5, a=b'x', b=1j, c={(1, 2): 3})]"
    _, _, (_, got, _, _, info) = first_step(env, task_id, odd)
    assert got == 0.0 and json.dumps(info["toolgym"])  # odd Python values stay JSON-able
    with pytest.raises(ValueError, match="format='pythonic' or handler='toolgym'"):
        make_bfcl_env("simple", format="hermes", handler="prompting", limit=1)


ODD_VALUES = ["b'x'", "1j", "(1, 2)", "{1, 2}", "{(1,): 2}", "{None: 1}", "...", "x", "f(1)", "g(k=1)", "a[0]", "+2.5", "-True", "[b'a', 1j]", "{'a': b'x'}", "2**10", "'a'*3", "{1: [2]}", "1e308*10", "None", "[None]"]  # fmt: skip


@pytest.mark.parametrize("category", list(ENV_IDS))
def test_odd_python_values_never_crash_the_prompting_env(category):
    env = make_bfcl_env(category, format="pythonic", limit=40)
    rng = random.Random(category)
    for _ in range(150):
        env.reset(options={"task_id": rng.choice(env.tasks).id})
        calls = []
        for _ in range(rng.randint(1, 3)):
            function = rng.choice(env.tool_specs)["function"]
            names = [*function["parameters"].get("properties", {}), "zz"]
            chosen = rng.sample(names, rng.randint(0, len(names)))
            calls.append(function["name"] + "(" + ", ".join(f"{n}={rng.choice(ODD_VALUES)}" for n in chosen) + ")")  # fmt: skip
        _, reward, done, _, info = env.step("[" + ", ".join(calls) + "]")
        assert done and reward in (0.0, 1.0) and json.dumps(info["toolgym"])


def test_irrelevance_counts_a_decode_failure_as_no_call():
    env = make_bfcl_env("irrelevance")
    task_id = env.tasks[0].id
    env.reset(options={"task_id": task_id})
    name = env.tool_specs[0]["function"]["name"]
    only_name = "<tool_call>\n" + json.dumps({"name": name}) + "\n</tool_call>"
    _, _, (_, reward, _, _, info) = first_step(env, task_id, only_name)
    assert reward == 1.0 and info["reward_components"]["format"] == 0.0
    with_id = "<tool_call>\n" + json.dumps({"name": name, "arguments": {}, "id": "c1"})
    with_id += "\n</tool_call>"
    _, _, (_, reward, *_) = first_step(env, task_id, with_id)
    assert reward == 0.0  # extra keys are ignored: that is a call


def test_random_answers_score_0_with_a_reason():
    env = make_bfcl_env("simple", limit=60)
    for number, task in enumerate(env.tasks):
        result = play(env, RandomPolicy(seed=number), task_id=task.id)
        assert result.components["completion"] == 0.0, task.id
        assert env.summary()["bfcl_reason"]


def test_splits_limits_and_unknown_ids():
    env = gym.make("toolgym/BFCL-parallel-v0", limit=5)  # split defaults to test
    assert len(env.unwrapped.tasks) == 5
    assert isinstance(env.unwrapped, BFCLEnv)
    with pytest.raises(ValueError, match="only a test split"):
        gym.make("toolgym/BFCL-simple-v0", split="train")
    with pytest.raises(KeyError, match="no task 'nope' in this env"):
        env.reset(options={"task_id": "nope"})
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"seed": 1})


def test_registering_needs_no_data_and_building_says_how_to_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert register_bfcl()
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps bfcl-eval"):
        gym.make("toolgym/BFCL-simple-v0")


def test_render_shows_the_conversation():
    env = make_bfcl_env("simple", render_mode="ansi", limit=1)
    assert env.render() is None
    env.reset(seed=0)
    env.step("No call.")
    text = env.render()
    assert text.startswith("[system] ") and "[user] Find the area" in text and text.endswith("[assistant] No call.")  # fmt: skip


def test_a_huge_or_non_unicode_message_is_refused_unread():
    import gymnasium as gym

    from toolgym.bfcl.env import MAX_ACTION_CHARS

    env = gym.make("toolgym/BFCL-simple-v0", split="test").unwrapped
    env.reset(seed=0)
    call = env.expert_message()
    *_, info = env.step(call + " " * MAX_ACTION_CHARS)
    assert info["reward_components"]["format"] == 0.0 and info["toolgym"]["calls_made"] == []
    assert "at most 32768 are allowed" in info["toolgym"]["format_errors"][0]
    assert len(info["messages"][-1]["content"]) < MAX_ACTION_CHARS + 100
    env.reset(seed=0)
    *_, info = env.step(call + "\udfff")
    assert (
        info["toolgym"]["calls_made"] == []
        and "lone surrogate" in info["toolgym"]["format_errors"][0]
    )
