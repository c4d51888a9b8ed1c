"""BFCL's prompting-model decoder, re-implemented: a Python list of calls read from the raw text.

The ``"prompting"`` handler family is BFCL's for models without native function calling that
are asked for ``[func(param=value, ...)]``: ``QwenHandler`` (``Qwen/Qwen3-*`` in prompt mode,
``bfcl_eval/model_handler/local_inference/qwen.py``, bfcl-eval 2026.3.23) keeps the text after
the last ``</think>`` (leading newlines stripped) and decodes it with
``bfcl_eval.model_handler.utils.default_decode_ast_prompting`` -- the decoder of every
``OSSHandler`` and of OpenAI's prompting handler, which keep all the text instead. Its steps:

1. strip ``` ` ```, newlines and spaces from both ends; add ``[`` in front and ``]`` at the end
   where missing; ``ast.parse`` the result (any syntax error: the message fails to decode);
2. the expression must be one call or a list/tuple/set of calls; each call's name is its dotted
   attribute path, its keyword arguments are kept and **its positional arguments dropped**;
3. each value by its node type (``resolve_ast_by_type``): a literal as is (``...`` as ``"..."``);
   a bare name as its name string (``unit=celsius`` gives ``"celsius"``); a call without keywords
   as its source text, a call with keywords as ``{name: {key: value}}``; a subscript as its
   source text; lists, tuples and dicts element-wise; a unary operator on a literal as the
   literal negated *whatever the operator* (so ``+5`` gives ``-5``); anything else (an
   attribute, a comparison, an f-string, a lambda, ``**`` in a dict, ...) fails the message.

One deliberate difference: BFCL computes a value with a binary operator (``2**10``, ``'a' + x``)
by ``eval``-ing its source, which runs whatever code a model writes. toolgym computes such a
value only when every operand is a literal, with Python's semantics and size bounds
(:data:`MAX_RESULT`); any other operand (a name, a call, an attribute) or a result past the
bounds is a decode failure here, where BFCL would run the code and use what it returns.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from toolgym.tooling import ToolCall

#: Bounds on a computed value: digits of an int, items of a str, bytes, list or tuple.
MAX_RESULT = 100_000

#: A message that opens like a call (``[name(`` or ``name(``): a decode failure there is a
#: format problem; any other failure is a reply in words, which BFCL's decoder also rejects.
_CALL_START = re.compile(r"\[?\s*[A-Za-z_][\w.]*\(")


class DecodeFailure(ValueError):
    """BFCL's decoder raises on this message (the text says why)."""


def decode_prompting(text: str) -> list[ToolCall]:
    """The calls BFCL's prompting decoder reads in ``text`` (already cut after ``</think>``).

    Raises:
        DecodeFailure: where BFCL's ``decode_ast`` raises, so the message fails to decode.
    """
    result = text.strip("`\n ")
    if not result.startswith("["):
        result = "[" + result
    if not result.endswith("]"):
        result = result + "]"
    try:
        tree = ast.parse(result.strip().strip("'"), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise DecodeFailure(f"not a Python list of calls ({type(exc).__name__}: {exc})") from None
    if isinstance(tree, ast.Call):
        nodes: list[ast.expr] = [tree]
    elif isinstance(tree, ast.List | ast.Tuple | ast.Set):
        nodes = list(tree.elts)
    else:
        raise DecodeFailure(f"a {type(tree).__name__} expression, not a list of calls")
    calls = []
    for number, node in enumerate(nodes, start=1):
        if not isinstance(node, ast.Call):
            raise DecodeFailure(f"item {number} is a {type(node).__name__}, not a call")
        try:
            name, arguments = _call(node)
        except Exception as exc:  # BFCL's runner counts any exception as a decode failure
            raise DecodeFailure(f"call {number}: {exc}") from None
        calls.append(ToolCall(name=name, arguments=arguments))
    return calls


def looks_like_a_call(text: str) -> bool:
    """Whether ``text`` opens like a call, so that failing to decode it is a format problem."""
    return _CALL_START.match(text.strip("`\n ")) is not None


def jsonable(value: Any) -> Any:
    """A decoded value as JSON can hold it: tuples and sets as lists, odd keys and leaves as repr."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else repr(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float):
        return value
    return repr(value)


def _call(node: ast.Call) -> tuple[str, dict[str, Any]]:
    """``resolve_ast_call``: the dotted name and the keyword arguments (positional ones dropped)."""
    parts = []
    func = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    arguments: dict[str, Any] = {}
    for keyword in node.keywords:
        # ``f(**x)`` has no name: BFCL keys it None, which no function has; "**" does the same.
        arguments["**" if keyword.arg is None else keyword.arg] = _value(keyword.value)
    return ".".join(reversed(parts)), arguments


def _value(node: ast.expr) -> Any:
    """``resolve_ast_by_type``, node type by node type (see the module docstring)."""
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):  # BFCL negates the operand's value, whatever the operator
        if not isinstance(node.operand, ast.Constant):
            raise DecodeFailure(f"{ast.unparse(node)[:60]!r}: BFCL reads only literals here")
        return -node.operand.value  # type: ignore[operator]  # a TypeError fails the message
    if isinstance(node, ast.List):
        return [_value(item) for item in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(item) for item in node.elts)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise DecodeFailure("'**' in a dict: BFCL cannot read it")
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, ast.BinOp):
        return _computed(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        if not node.keywords:
            return ast.unparse(node)
        name, arguments = _call(node)
        return {name: arguments}
    if isinstance(node, ast.Subscript):
        return f"{ast.unparse(node.value)}[{ast.unparse(node.slice)}]"
    raise DecodeFailure(f"BFCL cannot read a {type(node).__name__} value")


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.BitAnd: operator.and_,
    ast.MatMult: operator.matmul,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
    ast.Not: operator.not_,
}


def _computed(node: ast.expr) -> Any:
    """What ``eval`` gives for an expression of literals, or DecodeFailure (see the docstring)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_computed(item) for item in node.elts]
        return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Dict) and all(key is not None for key in node.keys):
        return {_computed(k): _computed(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_computed(node.operand))
    if isinstance(node, ast.BinOp):
        left, right = _computed(node.left), _computed(node.right)
        _check_size(type(node.op), left, right)
        return _bounded(_BINARY[type(node.op)](left, right))
    raise DecodeFailure(
        f"{ast.unparse(node)[:60]!r} in an operator's operand: BFCL would eval() it; "
        "toolgym computes operators on literals only"
    )


def _check_size(op: type[ast.operator], left: Any, right: Any) -> None:
    """Refuse a power, shift or repetition whose result would pass :data:`MAX_RESULT`."""
    ints = type(left) in (int, bool) and type(right) in (int, bool)
    if op is ast.Pow and ints and right > 0 and abs(left) > 1:
        if right * math.log10(abs(left)) > MAX_RESULT:
            raise DecodeFailure("a power past toolgym's bound on computed values")
    if op is ast.LShift and ints and right > MAX_RESULT * 3:
        raise DecodeFailure("a shift past toolgym's bound on computed values")
    if op is ast.Mult:
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | bytes | list | tuple) and type(times) in (int, bool):
                if len(seq) * max(times, 0) > MAX_RESULT:
                    raise DecodeFailure("a repetition past toolgym's bound on computed values")


def _bounded(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_RESULT * 3.33:
        raise DecodeFailure("an integer past toolgym's bound on computed values")
    if isinstance(value, str | bytes | list | tuple) and len(value) > MAX_RESULT:
        raise DecodeFailure("a value past toolgym's bound on computed values")
    return value
