"""BFCL's per-turn checks, turn by turn: the ``turns`` reward component of the multi-turn envs.

bfcl-eval's ``multi_turn_checker`` walks the turns in order and, after each turn ``k`` whose
ground truth is not empty, applies three checks, returning at the first that fails:

1. the model made calls in turn ``k`` (``is_empty_execute_response``);
2. ``state_checker``: every instance the model's calls of turns ``0..k`` acted on equals (public
   attributes) the ground truth's instance after the ground truth's calls of turns ``0..k``;
3. ``response_checker``: the execution results of turn ``k``'s ground-truth calls are contained
   (unordered, with multiplicity) in the results of *all* the model's calls of turns ``0..k``.

A turn whose ground truth is empty (miss_func / miss_param: the model cannot do what is asked)
is executed -- its calls change the state later turns are compared on -- but not checked.

:func:`turn_results` replays the model's calls and the ground truth the same way (the same
bfcl-eval ``execute_multi_turn_func_call``, model name, ``_ground_truth`` suffix, eval-run and
long-context flags) and applies those same bfcl-eval functions after *every* turn instead of
stopping at the first failure. So "turn ``k`` passes" means: the model called something in turn
``k`` (when the ground truth does), the cumulative state after the model's turns ``0..k`` equals
the ground truth's cumulative state after its turns ``0..k``, and turn ``k``'s ground-truth
results appear among the model's results so far; a turn with empty ground truth passes (BFCL
checks nothing there). Turn ``k``'s result depends on earlier turns only through the state and the
results they left, never on whether those turns passed, and never on later turns.

Why not run ``multi_turn_checker`` on turn prefixes: on the prefix ``0..k`` it answers "all of
turns ``0..k`` pass", so it cannot judge turn ``k`` after an earlier failure. The two agree where
both answer: ``multi_turn_checker`` on turns ``0..k`` is valid exactly when turns ``0..k`` all pass
here (the checks do not change the instances, so skipping the early return changes nothing
before it); the tests assert this on every prefix of gold and mutated trajectories.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from toolgym.bfcl.multi_turn_exec import forget_instances

Execute = Callable[[list[str], str], tuple[list[str], dict[str, Any]]]


def _executor(raw: dict[str, Any]) -> Execute:
    """``(calls, model_name) -> (results, instances)`` with the arguments the checker passes."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import (
        execute_multi_turn_func_call,
    )

    entry_id = str(raw["id"])
    category = entry_id.rsplit("_", 1)[0]
    long_context = "long_context" in category or "composite" in category

    def execute(calls: list[str], model_name: str) -> tuple[list[str], dict[str, Any]]:
        results, instances = execute_multi_turn_func_call(
            func_call_list=calls,
            initial_config=raw["initial_config"],
            involved_classes=raw["involved_classes"],
            model_name=model_name,
            test_entry_id=entry_id,
            long_context=long_context,
            is_evaL_run=True,
        )
        return list(results), dict(instances)

    return execute


def _turn_passes(
    turn_index: int,
    steps: Sequence[list[str]],
    ground_truth: list[str],
    checked: tuple[dict[str, Any], dict[str, Any], list[str], list[str]],
) -> bool:
    """bfcl-eval's checks after one turn (see the module docstring), without the early return.

    ``checked`` is ``(model_instances, ground_truth_instances, all_model_results,
    turn_ground_truth_results)`` as ``multi_turn_checker`` holds them at that point.
    """
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import (
        response_checker,
        state_checker,
    )
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import is_empty_execute_response

    if not ground_truth:
        return True
    if not steps or is_empty_execute_response(list(steps)):
        return False
    model_instances, truth_instances, model_results, truth_results = checked
    if set(model_instances) != set(truth_instances):  # the checker asserts (and so fails) here
        return False
    if not state_checker(model_instances, truth_instances)["valid"]:
        return False
    return bool(response_checker(model_results, truth_results, turn_index)["valid"])


def turn_results(
    raw: dict[str, Any], decoded: Sequence[Sequence[list[str]]], ground_truth: list[list[str]]
) -> list[bool]:
    """Per turn of ``ground_truth``, whether it passes BFCL's checks (see the module docstring).

    ``decoded`` is what :func:`~toolgym.bfcl.multi_turn_exec.bfcl_verdict` takes: per turn, the
    call strings of each step that made calls (missing turns count as turns without calls).
    A crash while replaying (untrusted calls) fails that turn and every later one.
    """
    execute = _executor(raw)
    name = f"toolgym_turns_{uuid.uuid4().hex}"
    passed: list[bool] = []
    model_results: list[str] = []
    try:
        for turn_index, truth in enumerate(ground_truth):
            steps = list(decoded[turn_index]) if turn_index < len(decoded) else []
            model_instances: dict[str, Any] = {}
            for step in steps:
                results, model_instances = execute(list(step), name)
                model_results.extend(results)
            truth_results, truth_instances = execute(list(truth), f"{name}_ground_truth")
            checked = (model_instances, truth_instances, model_results, truth_results)
            passed.append(_turn_passes(turn_index, steps, truth, checked))
    except Exception:  # untrusted calls must never crash an episode
        passed += [False] * (len(ground_truth) - len(passed))
    finally:
        forget_instances(name)
    return passed


def turn_fraction(passed: Sequence[bool]) -> float:
    """The ``turns`` component: the fraction of the entry's turns that pass (1.0 for none)."""
    return sum(passed) / len(passed) if passed else 1.0


#: The multi-turn envs' reward components, and their default weights (BFCL's verdict only).
REWARD_COMPONENTS = ("completion", "turns")
DEFAULT_WEIGHTS: dict[str, float] = {"completion": 1.0}


def reward_weights(rewards: Mapping[str, float] | None) -> dict[str, float]:
    """A weight for every component (unnamed ones 0), like ToolEnv's ``rewards=`` weights.

    Raises:
        ValueError: a weight names a component these envs do not have.
    """
    weights = rewards or DEFAULT_WEIGHTS
    unknown = sorted(set(weights) - set(REWARD_COMPONENTS))
    if unknown:
        raise ValueError(
            f"unknown reward component(s) {unknown}; known components: {list(REWARD_COMPONENTS)}"
        )
    return {name: float(weights.get(name, 0.0)) for name in REWARD_COMPONENTS}
