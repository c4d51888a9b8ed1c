"""Every bundled environment: Gymnasium's checker, the oracle at the maximum, determinism."""

import json
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.policies import ExpertPolicy, OraclePolicy, RandomPolicy, play
from toolgym.registry import registered_specs

BUNDLED = sorted(i for i in registered_specs() if i.startswith("toolgym/"))
WHOLE_SUITES = [i for i in BUNDLED if not registered_specs()[i].generated.categories]


def test_the_bundled_envs_are_registered():
    assert BUNDLED == [
        "toolgym/Calendar-v0",
        "toolgym/CalendarLookup-v0",
        "toolgym/Files-v0",
        "toolgym/Search-v0",
        "toolgym/SearchLookup-v0",
        "toolgym/Travel-v0",
    ]


@pytest.mark.parametrize("env_id", BUNDLED)
def test_check_env(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        check_env(env.unwrapped)


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("env_id", BUNDLED)
@pytest.mark.parametrize("tool_format", ["hermes", "glm"])
@pytest.mark.parametrize("policy", [OraclePolicy, ExpertPolicy])
def test_oracle_scores_the_maximum_on_every_task(env_id, split, tool_format, policy):
    env = gym.make(env_id, split=split, format=tool_format)
    tasks = env.unwrapped.tasks
    assert len(tasks) >= 10
    for task in tasks:
        result = play(env, policy(), task_id=task.id, seed=0)
        assert result.end_reason == "answered", (task.id, result.end_reason)
        assert result.components["completion"] == 1.0, (task.id, result.components)
        assert all(
            step["format"] == 1.0 and step["step_match"] == 1.0 for step in result.step_components
        ), task.id


def test_bundled_tasks_have_40_per_suite_and_cover_every_category():
    for env_id in WHOLE_SUITES:  # not the curricula of chosen categories (the lookups: below)
        spec = registered_specs()[env_id]
        from toolgym.registry import split_tasks

        tasks = split_tasks(spec, "train") + split_tasks(spec, "test")
        assert len(tasks) >= 40, env_id
        assert len({t.id for t in tasks}) == len(tasks), f"{env_id}: task ids repeat across splits"
        covered = {c for t in tasks for c in t.categories}
        assert covered >= {"single", "multi", "parallel", "dependent", "clarify", "no_call"}, (
            env_id,
            covered,
        )


@pytest.mark.parametrize("env_id", BUNDLED)
def test_same_seed_and_actions_give_identical_episodes(env_id):
    def run():
        env = gym.make(env_id)
        return [play(env, RandomPolicy(seed=3), seed=s) for s in range(5)]

    first, second = run(), run()
    assert [vars(r) for r in first] == [vars(r) for r in second]


@pytest.mark.parametrize("env_id", BUNDLED)
def test_random_policy_episodes_stay_within_the_turn_limit(env_id):
    env = gym.make(env_id)
    results = [play(env, RandomPolicy(seed=s), seed=s) for s in range(20)]
    assert all(r.steps <= env.unwrapped.limits.max_turns for r in results)


@pytest.mark.parametrize("env_id", WHOLE_SUITES)
def test_generated_tasks_are_disjoint_and_solved_by_the_oracle(env_id):
    env = gym.make(env_id, generated={"train": 40, "test": 40, "seed": 1})
    train = [t for t in env.unwrapped.tasks if "-gen-" in t.id]
    test = [
        t
        for t in gym.make(env_id, split="test", generated={"test": 40, "seed": 1}).unwrapped.tasks
        if "-gen-" in t.id
    ]
    assert len(train) == len(test) == 40

    def signature(task):
        return (task.instruction, repr(task.gold_calls))

    assert not {signature(t) for t in train} & {signature(t) for t in test}
    for task in train[:20] + test[:20]:
        env_split = env if task in train else gym.make(env_id, split="test", tasks=[task])
        result = play(env_split, OraclePolicy(), task_id=task.id, seed=0)
        assert result.components["completion"] == 1.0, (task.id, result.components)


def gold_results(env_id, split):
    """Each task of a one-call lookup curriculum, and the tool result its gold call shows."""
    env = gym.make(env_id, split=split)
    tasks = env.unwrapped.tasks
    assert len(tasks) == {"train": 400, "test": 64}[split]
    for task in tasks:
        assert task.categories == ["single"] and len(task.gold_calls) == 1, task.id
        env.reset(options={"task_id": task.id})
        (call,) = task.gold_calls[0]
        arguments = json.dumps({"name": call.name, "arguments": call.arguments})
        observation, *_ = env.step(f"<tool_call>\n{arguments}\n</tool_call>")
        yield task, observation[-1]["content"]


@pytest.mark.parametrize("split", ["train", "test"])
def test_lookup_curriculum_is_one_search_and_its_answer_survives_the_result_cap(split):
    for task, result in gold_results("toolgym/SearchLookup-v0", split):
        answers = [answer.lower() for answer in task.required_outputs]
        assert all(answer in result.lower() for answer in answers), task.id


@pytest.mark.parametrize("split", ["train", "test"])
def test_calendar_lookups_are_one_call_on_the_offered_tools_and_never_cut(split):
    offered = gym.make("toolgym/CalendarLookup-v0").unwrapped.tool_specs
    assert {t["function"]["name"] for t in offered} == {"find_people", "list_events", "get_event"}
    for task, result in gold_results("toolgym/CalendarLookup-v0", split):
        assert not result.startswith("Error") and "[truncated:" not in result, task.id
