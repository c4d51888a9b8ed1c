"""Run calls against BFCL's own simulated API instances and score with BFCL's multi-turn checker.

bfcl-eval keeps its instances in ``multi_turn_utils``'s module globals, keyed by model name and
entry id; every :class:`Session` uses a fresh unique model name and deletes its instances when
closed, so episodes never share state. A copy of a session (``pickle``, ``copy.deepcopy``) gets a
new model name and its own copies of the instances, so a copied env never acts on the original's.

bfcl-eval runs each call string with ``eval``; toolgym only hands it calls it has checked
(:meth:`Session.refusal`): a public method of the entry's instances, identifier keywords and
literal (JSON) values. Anything else -- ``open(file=...)``, ``__import__(...)``, a keyword that
smuggles code -- is answered with an error result and never reaches ``eval``.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import re
import uuid
from typing import Any

from toolgym.tooling import ToolCall


def call_string(call: ToolCall) -> str:
    """A call as the Python source BFCL executes: ``name(k=v, ...)`` with ``repr`` values."""
    args = ", ".join(f"{k}={v!r}" for k, v in call.arguments.items())
    return f"{call.name}({args})"


def _utils() -> Any:
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    return multi_turn_utils


def forget_instances(model_name: str) -> None:
    """Drop the API instances bfcl-eval keeps as module globals for ``model_name``."""
    space = vars(_utils())
    for key in [k for k in space if k.startswith(model_name)]:
        del space[key]


def _instance_name(model_name: str, entry_id: str, class_name: str) -> str:
    """The global under which ``execute_multi_turn_func_call`` keeps an instance (its own rule)."""
    return re.sub(r"[-./:]", "_", f"{model_name}_{entry_id}_{class_name}_instance")


def _public_methods(instances: dict[str, Any]) -> frozenset[str]:
    """The method names BFCL maps to the instances (``inspect.ismethod``, no leading ``_``)."""
    return frozenset(
        name
        for instance in instances.values()
        for name, _ in inspect.getmembers(instance, predicate=inspect.ismethod)
        if not name.startswith("_")
    )


class Session:
    """The live instances of one episode (BFCL's ``execute_multi_turn_func_call``)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.model_name = f"toolgym_{uuid.uuid4().hex}"
        category = str(raw["id"]).rsplit("_", 1)[0]
        self.long_context = "long_context" in category
        _, self.instances = self.execute([])
        self.methods = _public_methods(self.instances)

    def refusal(self, call: ToolCall) -> str | None:
        """Why ``call`` must not be executed (BFCL-style error text), or None when it may be.

        A name that is not one of the instances' public methods gets the ``NameError`` text that
        ``eval`` would give for an undefined name; builtins (``open``, ``eval``, ...) included.
        """
        if call.name not in self.methods:
            return f"Error during execution: name {call.name!r} is not defined"
        for key in call.arguments:
            if not key.isidentifier() or keyword.iskeyword(key):
                return f"Error during execution: {call.name}() got an invalid argument name {key!r}"
        return None

    def __getstate__(self) -> dict[str, Any]:
        return {"raw": self.raw, "long_context": self.long_context, "instances": self.instances}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A copy: a new model name, the (already copied) instances installed under it."""
        self.raw, self.long_context = state["raw"], state["long_context"]
        self.model_name = f"toolgym_{uuid.uuid4().hex}"
        self.instances = dict(state["instances"])
        space = vars(_utils())
        for class_name, instance in self.instances.items():
            space[_instance_name(self.model_name, str(self.raw["id"]), class_name)] = instance
        self.methods = _public_methods(self.instances)

    def execute(self, calls: list[str]) -> tuple[list[str], dict[str, Any]]:
        """Execute call strings in order; returns BFCL's result strings and the instances.

        The strings must come from :func:`call_string` of calls :meth:`refusal` accepted (or from
        the ground truth): bfcl-eval ``eval``s them.
        """
        results, instances = _utils().execute_multi_turn_func_call(
            calls,
            self.raw.get("initial_config", {}),
            self.raw["involved_classes"],
            self.model_name,
            str(self.raw["id"]),
            long_context=self.long_context,
        )
        return list(results), dict(instances)

    def close(self) -> None:
        """Drop this session's instances from bfcl-eval's globals."""
        forget_instances(self.model_name)


def bfcl_verdict(
    raw: dict[str, Any], decoded: list[list[list[str]]], ground_truth: list[list[str]]
) -> dict[str, Any]:
    """BFCL's per-entry verdict: ``multi_turn_checker`` run in-process on the decoded steps.

    ``decoded`` holds, per turn, the call strings of each step that made calls. Returns the
    checker's dict (``valid``, and ``error_type``/``error_message`` when invalid).
    """
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    name = f"toolgym_check_{uuid.uuid4().hex}"
    category = str(raw["id"]).rsplit("_", 1)[0]
    turns = [list(t) for t in decoded] + [[] for _ in range(len(ground_truth) - len(decoded))]
    try:
        result = multi_turn_checker(turns, ground_truth, raw, category, name)
    except Exception as exc:  # untrusted calls must never crash an episode
        result = {"valid": False, "error_type": "toolgym:checker_error", "error_message": str(exc)}
    finally:
        forget_instances(name)
    return dict(result)


def gold_calls(call_text: str, instances: dict[str, Any]) -> ToolCall:
    """A ground-truth call string as a ToolCall with named arguments (positional ones named).

    Raises:
        ValueError: if the string is not a plain call with literal arguments.
    """
    node = ast.parse(call_text, mode="eval").body
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ValueError(f"ground truth {call_text!r} is not a plain function call")
    name = node.func.id
    args: dict[str, Any] = {}
    if node.args:
        method = next(getattr(i, name) for i in instances.values() if hasattr(i, name))
        params = list(inspect.signature(method).parameters)
        for pname, value in zip(params, node.args, strict=False):
            args[pname] = ast.literal_eval(value)
    for kw in node.keywords:
        if kw.arg is None:
            raise ValueError(f"ground truth {call_text!r} uses **kwargs")
        args[kw.arg] = ast.literal_eval(kw.value)
    return ToolCall(name=name, arguments=args)
