"""BFCL multi-turn envs: registration, Gymnasium's checker, the oracle at 100%, agreement with
bfcl-eval's own ``multi_turn_checker`` on gold and mutated trajectories, a tiny-model rollout."""

import ast
import copy
import importlib.util
import json
import pickle
import uuid
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from toolgym.bfcl import MULTI_TURN_ENV_IDS, register_bfcl_multi_turn
from toolgym.bfcl.multi_turn import MAXIMUM_STEP_LIMIT, BFCLMultiTurnEnv, make_bfcl_multi_turn_env
from toolgym.bfcl.multi_turn_data import MULTI_TURN_FILES, load_multi_turn
from toolgym.bfcl.multi_turn_exec import Session, call_string, gold_calls
from toolgym.formats import get_format

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None,
    reason="pip install --no-deps bfcl-eval==2026.3.23",
)

register_bfcl_multi_turn()
CATEGORIES = list(MULTI_TURN_FILES)
HERMES = get_format("hermes")


def play_oracle(env: BFCLMultiTurnEnv, task_id: str) -> tuple[float, dict]:
    env.reset(options={"task_id": task_id})
    done, reward, info = False, 0.0, {}
    while not done:
        _, reward, done, _, info = env.step(env.expert_message())
    return reward, info


def test_the_multi_turn_envs_are_registered():
    assert register_bfcl_multi_turn() == list(MULTI_TURN_ENV_IDS.values())
    assert sorted(MULTI_TURN_ENV_IDS.values()) == [
        "toolgym/BFCL-multi-turn-base-v0",
        "toolgym/BFCL-multi-turn-long-context-v0",
        "toolgym/BFCL-multi-turn-miss-func-v0",
        "toolgym/BFCL-multi-turn-miss-param-v0",
    ]


@pytest.mark.parametrize("env_id", list(MULTI_TURN_ENV_IDS.values()))
def test_check_env(env_id):
    env = gym.make(env_id, split="test", limit=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


@pytest.mark.parametrize("category", CATEGORIES)
def test_the_oracle_scores_100_percent_on_a_sample(category):
    env = make_bfcl_multi_turn_env(category)
    for task_id in env.ids[::20]:
        reward, info = play_oracle(env, task_id)
        assert reward == 1.0, (task_id, info["bfcl"])


@pytest.mark.slow
def test_the_oracle_scores_100_percent_on_every_entry():
    failed = []
    for category in CATEGORIES:
        env = make_bfcl_multi_turn_env(category)
        assert len(env.ids) == 200
        for task_id in env.ids:
            reward, info = play_oracle(env, task_id)
            if reward != 1.0:
                failed.append((task_id, info["bfcl"]))
    assert failed == []


def test_miss_func_adds_the_held_out_functions_at_bfcls_turn():
    entry = load_multi_turn("multi_turn_miss_func")[0]
    assert list(entry.held_out) == [3] and [f["name"] for f in entry.held_out[3]] == ["sort"]
    env = BFCLMultiTurnEnv([entry])
    env.reset(options={"task_id": entry.id})
    assert "sort" not in {s["function"]["name"] for s in env.tool_specs}
    assert entry.ground_truth[2] == []  # BFCL: turn 2 asks for the missing function
    for _ in range(3):  # turns 0-2
        message = env.expert_message()
        obs, *_ = env.step(message)
        if message != "Done.":
            obs, *_ = env.step("Done.")
    assert (
        "I have updated some more functions" in obs[0]["content"] and '"sort"' in obs[0]["content"]
    )
    assert "sort" in {s["function"]["name"] for s in env.tool_specs}


def test_calls_run_on_bfcls_instances_and_bad_output_never_crashes():
    env = make_bfcl_multi_turn_env("multi_turn_base", limit=1)
    env.reset(options={"task_id": "multi_turn_base_0"})
    obs, reward, done, _, _ = env.step(
        '<tool_call>\n{"name": "cd", "arguments": {"folder": "document"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "no_such_tool", "arguments": {"x": 1}}\n</tool_call>\n'
        '<tool_call>\n{"name": "mkdir", "arguments": {"bogus": [1]}}\n</tool_call>'
    )
    assert obs[0]["content"] == '{"current_working_directory": "document"}'
    assert obs[1]["content"].startswith("Error during execution")
    assert obs[2]["content"].startswith("Error during execution")
    assert (reward, done) == (0.0, False)
    obs, *_ = env.step("<tool_call>\n[1, 2]\n</tool_call>\x00 garbage")  # BFCL: decode fails
    assert obs[0]["role"] == "user"  # the turn ended


def test_too_many_steps_in_a_turn_force_quit_the_entry():
    env = make_bfcl_multi_turn_env("multi_turn_base", limit=1)
    env.reset(options={"task_id": "multi_turn_base_0"})
    ls = '<tool_call>\n{"name": "pwd", "arguments": {}}\n</tool_call>'
    for _ in range(MAXIMUM_STEP_LIMIT):
        assert env.step(ls)[2] is False
    _, reward, done, _, info = env.step(ls)
    assert (reward, done, info["end_reason"]) == (0.0, True, "step_limit")


def test_episodes_do_not_share_state():
    env = make_bfcl_multi_turn_env("multi_turn_base", limit=1)
    for _ in range(2):
        env.reset(options={"task_id": "multi_turn_base_0"})
        obs, *_ = env.step('<tool_call>\n{"name": "pwd", "arguments": {}}\n</tool_call>')
        assert "workspace" in obs[0]["content"] and "document" not in obs[0]["content"]
        env.step('<tool_call>\n{"name": "cd", "arguments": {"folder": "document"}}\n</tool_call>')


def _call(tool: str, **arguments: object) -> str:
    return f"<tool_call>\n{json.dumps({'name': tool, 'arguments': arguments})}\n</tool_call>"


@pytest.mark.parametrize(
    "name, arguments",
    [
        ("open", {"file": "PWNED", "mode": "w"}),  # a builtin: bfcl-eval's eval would run it
        ("__import__", {"name": "os"}),
        ("print", {"sep": "x"}),
        ("cd", {"folder=__import__('os').getcwd(),x": 1}),  # a keyword that smuggles code
        ("cd", {"class": "x"}),  # a Python keyword
    ],
)
def test_calls_outside_the_apis_are_refused_before_bfcl_evals_them(
    name, arguments, tmp_path, monkeypatch
):
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    monkeypatch.chdir(tmp_path)
    evaluated: list[str] = []
    real_eval = eval

    def recording_eval(code: str) -> object:
        evaluated.append(code)
        return real_eval(code, vars(multi_turn_utils))

    monkeypatch.setattr(multi_turn_utils, "eval", recording_eval, raising=False)
    env = make_bfcl_multi_turn_env("multi_turn_base", limit=1)
    env.reset(options={"task_id": "multi_turn_base_0"})
    obs, reward, done, _, _ = env.step(_call(name, **arguments) + "\n" + _call("pwd"))
    assert obs[0]["content"].startswith("Error during execution") and name in obs[0]["content"]
    assert "workspace" in obs[1]["content"]  # the allowed call in the same message still runs
    assert len(evaluated) == 1 and evaluated[0].endswith(".pwd()")
    assert list(tmp_path.iterdir()) == [] and (reward, done) == (0.0, False)
    while not done:  # the checker runs the recorded calls again: the refused one is not there
        _, reward, done, _, info = env.step("Done.")
    assert len(evaluated) > 1 and all(_is_api_call(code) for code in evaluated), evaluated
    assert list(tmp_path.iterdir()) == [] and info["end_reason"] == "answered"


def _is_api_call(code: str) -> bool:
    """``instance.method(k=literal, ...)``: the only shape bfcl-eval should ever ``eval``."""
    node = ast.parse(code, mode="eval").body
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    if not isinstance(node.func.value, ast.Name):
        return False
    for value in [*node.args, *(k.value for k in node.keywords)]:
        try:
            ast.literal_eval(value)
        except ValueError:
            return False
    return all(k.arg is not None for k in node.keywords)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_copy_mid_episode_has_its_own_apis(how):
    env = make_bfcl_multi_turn_env("multi_turn_base", limit=1)
    env.reset(options={"task_id": "multi_turn_base_0"})
    env.step(_call("cd", folder="document"))
    clone = pickle.loads(pickle.dumps(env)) if how == "pickle" else copy.deepcopy(env)
    assert clone._session.model_name != env._session.model_name
    assert "document" in clone.step(_call("pwd"))[0][0]["content"]  # the copy kept the state
    clone.step(_call("cd", folder=".."))
    assert "document" in env.step(_call("pwd"))[0][0]["content"]  # the original is untouched
    assert "document" not in clone.step(_call("pwd"))[0][0]["content"]
    clone.close()
    assert "document" in env.step(_call("pwd"))[0][0]["content"]
    env.close()


# -- agreement with bfcl-eval's checker --------------------------------------------------------

EXTRA = {"GorillaFileSystem": "touch(file_name='toolgym_extra.txt')",
         "TwitterAPI": "post_tweet(content='toolgym extra')"}  # fmt: skip


def mutations(raw: dict, turns: list[list[str]]) -> dict[str, list[list[str]]]:
    """Gold and mutated trajectories (per turn, the call strings of one step)."""
    out = {"gold": [list(t) for t in turns]}
    first = next(i for i, t in enumerate(turns) if t)
    dropped = [list(t) for t in turns]
    dropped[first] = dropped[first][:-1]
    out["drop"] = dropped
    changed = [list(t) for t in turns]
    call = changed[first][-1]
    if "='" in call:  # a string argument: change its value
        head, _, tail = call.rpartition("='")
        changed[first][-1] = f"{head}='toolgym_{tail}"
        out["change_arg"] = changed
    if len(turns) > 1:
        swapped = [list(t) for t in turns]
        swapped[0], swapped[1] = swapped[1], swapped[0]
        out["swap"] = swapped
    for cls, extra in EXTRA.items():
        if cls in raw["involved_classes"]:
            more = [list(t) for t in turns]
            more[first] = [*more[first], extra]
            out["extra_call"] = more
            break
    return out


def env_verdict(entry, turns: list[list[str]]) -> float:
    """Play ``turns`` through the env as Hermes messages: one message of calls, then a reply."""
    env = BFCLMultiTurnEnv([entry])
    env.reset(options={"task_id": entry.id})
    session = Session(entry.raw)
    try:
        reward, done = 0.0, False
        for t in range(len(entry.raw["question"])):
            calls = turns[t] if t < len(turns) else []
            if calls:
                message = HERMES.render_calls([gold_calls(c, session.instances) for c in calls])
                assert env.step(message)[2] is False
            _, reward, done, _, _ = env.step("Done.")
        assert done
        return reward
    finally:
        session.close()


def checker_verdict(entry, turns: list[list[str]]) -> float:
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    decoded = [[t] if t else [] for t in turns]
    name = f"test_{uuid.uuid4().hex}"
    try:
        result = multi_turn_checker(decoded, entry.ground_truth, entry.raw, entry.category, name)
    finally:
        for key in [k for k in vars(multi_turn_utils) if k.startswith(name)]:
            delattr(multi_turn_utils, key)
    return float(result["valid"])


@pytest.mark.parametrize("category", CATEGORIES)
def test_the_env_agrees_with_bfcls_checker_on_gold_and_mutations(category):
    verdicts: dict[str, list[float]] = {}
    for entry in load_multi_turn(category)[::25]:
        for kind, turns in mutations(entry.raw, entry.ground_truth).items():
            ours, theirs = env_verdict(entry, turns), checker_verdict(entry, turns)
            assert ours == theirs, (entry.id, kind, turns)
            verdicts.setdefault(kind, []).append(ours)
    assert set(verdicts["gold"]) == {1.0}
    assert 0.0 in verdicts["drop"] and 0.0 in verdicts["swap"]  # the mutations bite


def test_call_strings_round_trip_through_bfcls_execution():
    entry = load_multi_turn("multi_turn_base")[0]
    session = Session(entry.raw)
    try:
        call = gold_calls("sort('final_report.pdf')", session.instances)
        assert call.arguments == {"file_name": "final_report.pdf"}
        assert call_string(call) == "sort(file_name='final_report.pdf')"
    finally:
        session.close()


def test_a_tiny_model_rollout_through_the_collector(tiny):
    from toolgym.collector import Collector
    from toolgym.llm.sampler import HFPolicy, SamplingConfig

    model, tokenizer, chat = tiny
    policy = HFPolicy(model, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(1.0, 1.0, 16))
    collector = Collector(
        lambda: make_bfcl_multi_turn_env("multi_turn_base", limit=2),
        chat, policy, max_tokens=20_000, progress=False,
    )  # fmt: skip
    trajectories, stats = collector.collect(["multi_turn_base_0"], group_size=2)
    assert len(trajectories) == 2
    for t in trajectories:
        assert t.token_ids and any(s.role == "assistant" for s in t.segments)


def test_closing_an_episode_frees_its_instances_in_bfcl_eval():
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    env = make_bfcl_multi_turn_env("multi_turn_base", limit=1)
    env.reset(options={"task_id": "multi_turn_base_0"})
    assert env._session is not None
    name = env._session.model_name
    assert any(k.startswith(name) for k in vars(multi_turn_utils))
    env.close()
    assert not any(k.startswith(name) for k in vars(multi_turn_utils))


def test_long_context_entries_run_on_bfcls_long_context_state():
    base = load_multi_turn("multi_turn_base")[0]
    long = load_multi_turn("multi_turn_long_context")[0]
    sizes = []
    for entry in (base, long):
        session = Session(entry.raw)
        try:
            calls = ["cd(folder='workspace')", "cd(folder='document')", "ls(a=True)"]
            results, _ = session.execute(calls)
        finally:
            session.close()
        sizes.append(len(results[-1]))
    assert sizes[1] > 2 * sizes[0]  # BFCL's long_context=True adds many files


# -- the ``turns`` component: BFCL's checks turn by turn ---------------------------------------


def play(entry, turns: list[list[str]], **kwargs) -> tuple[list[float], dict]:
    """Like :func:`env_verdict`, with env kwargs; returns the step rewards and the last info."""
    env = BFCLMultiTurnEnv([entry], **kwargs)
    env.reset(options={"task_id": entry.id})
    session = Session(entry.raw)
    rewards: list[float] = []
    try:
        for t in range(len(entry.raw["question"])):
            if turns[t]:
                message = HERMES.render_calls([gold_calls(c, session.instances) for c in turns[t]])
                rewards.append(env.step(message)[1])
            _, reward, done, _, info = env.step("Done.")
            rewards.append(reward)
        assert done
        return rewards, info
    finally:
        session.close()


def prefix_verdicts(entry, turns: list[list[str]]) -> list[bool]:
    """bfcl-eval's ``multi_turn_checker`` on the prefixes: turns ``0..k`` for every ``k``."""
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    out = []
    for k in range(1, len(entry.ground_truth) + 1):
        name = f"test_{uuid.uuid4().hex}"
        decoded = [[t] if t else [] for t in turns[:k]]
        try:
            result = multi_turn_checker(
                decoded, entry.ground_truth[:k], entry.raw, entry.category, name
            )
        finally:
            for key in [key for key in vars(multi_turn_utils) if key.startswith(name)]:
                delattr(multi_turn_utils, key)
        out.append(bool(result["valid"]))
    return out


def test_the_oracle_passes_every_turn_of_every_entry():
    weights = {"completion": 1.0, "turns": 0.5}
    failed = []
    for category in CATEGORIES:
        env = make_bfcl_multi_turn_env(category, rewards=weights)
        for task_id in env.ids:
            reward, info = play_oracle(env, task_id)
            summary = info["toolgym"]
            if (
                (reward, info["reward_components"]) != (1.5, {"completion": 1.0, "turns": 1.0})
                or summary["reward_components"] != info["reward_components"]
                or summary["turns_passed"] != [True] * len(env.entry.ground_truth)
            ):
                failed.append((task_id, info["reward_components"], info["bfcl"]))
    assert failed == []


def _mutate(entry_id: str, turn: int, calls: list[str] | None = None, **extra: str) -> tuple:
    entry = next(e for e in load_multi_turn("multi_turn_base") if e.id == entry_id)
    turns = [list(t) for t in entry.ground_truth]
    turns[turn] = calls if calls is not None else turns[turn] + list(extra.values())
    return entry, turns


#: (entry, turn, the turn's calls) -> the turns that pass, worked out by hand.
CASES = {
    # turn 2's read-only ``sort`` dropped: its result is missing, the state is the same
    "drop_call_turn_2": (
        _mutate("multi_turn_base_5", 1, ["cat(file_name='archive_summary.txt')"]),
        [True, False, True, True],
    ),
    # a wrong read-only argument in turn 1: only turn 1's response check fails
    "wrong_read_arg_turn_1": (
        _mutate(
            "multi_turn_base_8", 0, ["grep(file_name='experiment_log.txt', pattern='toolgym')"]
        ),
        [False, True, True, True],
    ),
    # a wrong state-changing argument in turn 1: the state stays wrong in every later turn
    "wrong_write_arg_turn_1": (
        _mutate("multi_turn_base_7", 0, ["cd(folder='academic_venture')", "mkdir(dir_name='x')"]),
        [False, False, False],
    ),
    # an extra harmful (state-changing) call in the last turn
    "extra_call_last_turn": (
        _mutate("multi_turn_base_7", 2, extra="touch(file_name='toolgym_extra.txt')"),
        [True, True, False],
    ),
    # turn 2 ended early, without calls
    "end_turn_2_early": (_mutate("multi_turn_base_4", 1, []), [True, False, True]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_mutated_trajectory_gets_the_fraction_of_turns_that_pass(case):
    (entry, turns), expected = CASES[case]
    rewards, info = play(entry, turns, rewards={"completion": 1.0, "turns": 1.0})
    assert info["toolgym"]["turns_passed"] == expected
    fraction = sum(expected) / len(expected)
    assert info["reward_components"] == {"completion": 0.0, "turns": fraction}
    assert sum(rewards) == fraction and rewards[:-1] == [0.0] * (len(rewards) - 1)
    # bfcl-eval's checker on each prefix fails from the first failing turn on
    assert prefix_verdicts(entry, turns) == [all(expected[: k + 1]) for k in range(len(expected))]


@pytest.mark.parametrize("category", CATEGORIES)
def test_turns_agree_with_bfcls_checker_on_every_prefix(category):
    for entry in load_multi_turn(category)[::5]:
        for kind, turns in mutations(entry.raw, entry.ground_truth).items():
            _, info = play(entry, turns)
            passed, components = info["toolgym"]["turns_passed"], info["reward_components"]
            assert components["turns"] == sum(passed) / len(passed)
            assert (components["turns"] == 1.0) == (components["completion"] == 1.0), (
                entry.id,
                kind,
            )
            prefixes = prefix_verdicts(entry, turns)
            assert prefixes == [all(passed[: k + 1]) for k in range(len(passed))], (entry.id, kind)


def test_turn_rewards_pay_each_passing_turn_when_it_ends():
    (entry, turns), expected = CASES["drop_call_turn_2"]  # turns 1, 3, 4 of 4 pass
    weights = {"completion": 1.0, "turns": 0.5}
    rewards, info = play(entry, turns, rewards=weights, turn_rewards=True)
    assert rewards == [0.0, 0.125, 0.0, 0.0, 0.0, 0.125, 0.0, pytest.approx(0.125)]
    assert sum(rewards) == pytest.approx(0.5 * 3 / 4)
    gold_rewards, _ = play(entry, entry.ground_truth, rewards=weights, turn_rewards=True)
    assert sum(gold_rewards) == pytest.approx(1.5)
    assert info["toolgym"]["turns_passed"] == expected


def test_a_force_quit_keeps_the_turns_passed_before_it():
    entry = load_multi_turn("multi_turn_base")[4]  # 3 turns
    env = BFCLMultiTurnEnv([entry], rewards={"completion": 1.0, "turns": 1.0}, turn_rewards=True)
    env.reset(options={"task_id": entry.id})
    total = env.step(HERMES.render_calls([gold_calls("ls(a=True)", {})]))[1]
    total += env.step("Done.")[1]
    done = False
    while not done:
        _, reward, done, _, info = env.step(_call("pwd"))
        total += reward
    assert info["end_reason"] == "step_limit"
    assert info["toolgym"]["turns_passed"] == [True, False, False]
    assert info["reward_components"] == {"completion": 0.0, "turns": 1 / 3}
    assert total == pytest.approx(1 / 3)


def test_reward_weights_are_checked_and_default_to_bfcls_verdict():
    entry = load_multi_turn("multi_turn_base")[4]
    (_, turns), _ = CASES["end_turn_2_early"]
    rewards, info = play(entry, turns)
    assert (sum(rewards), info["reward_components"]) == (0.0, {"completion": 0.0, "turns": 2 / 3})
    env = gym.make("toolgym/BFCL-multi-turn-base-v0", limit=1, rewards={"turns": 0.5})
    assert env.unwrapped.weights == {"completion": 0.0, "turns": 0.5}
    with pytest.raises(ValueError, match="unknown reward component"):
        make_bfcl_multi_turn_env("multi_turn_base", limit=1, rewards={"format": 1.0})
