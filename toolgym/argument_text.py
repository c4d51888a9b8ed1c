r"""What a string in a tool call may hold, checked once by the engine before any tool runs.

Model output is untrusted. A JSON escape such as ``"\udfff"`` decodes to a lone surrogate, which
no UTF-8 writer, tokenizer or hash accepts; a NUL or an escape character in a name or a title is
never meant; a megabyte string in a one-line field is an attack on memory. So every string in the
arguments (values at any depth, and object keys) and the tool name must be:

- valid Unicode: no lone surrogate;
- free of control characters (Unicode category Cc: NUL, ESC, DEL, C1 codes, also newline and tab),
  except that a parameter declared :data:`Multiline` (file contents, a patch) may hold newlines,
  carriage returns and tabs;
- no longer than the parameter's ``maxLength`` or, without one, :data:`DEFAULT_MAX_CHARS`
  (:data:`DEFAULT_MAX_MULTILINE_CHARS` for a multiline parameter); keys at most
  :data:`MAX_KEY_CHARS`.

A refused call is an ``invalid_arguments`` error observation; the state is unchanged. Messages
show offending characters as code points (``U+0000``), never raw, so the error text itself is
always safe to log, tokenize and hash.

Declare a multiline parameter with the annotation::

    @tool(kind=ToolKind.WRITE)
    def write_file(db: Workspace, path: str, content: Multiline) -> WriteResult: ...
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import Field

MULTILINE_KEY = "x-multiline"
"""The JSON Schema keyword (an extension) that marks a string parameter as multiline text."""

DEFAULT_MAX_CHARS = 2048
DEFAULT_MAX_MULTILINE_CHARS = 1 << 20
MAX_KEY_CHARS = 256

Multiline = Annotated[str, Field(json_schema_extra={MULTILINE_KEY: True})]
"""A string parameter that may hold newlines, carriage returns and tabs (file contents)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NAMES = {0: "NUL", 9: "a tab", 10: "a newline", 13: "a carriage return", 27: "ESC", 127: "DEL"}


def lone_surrogate_at(text: str) -> int | None:
    """Where ``text`` holds a lone surrogate (not valid Unicode, not UTF-8-encodable), or None."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def text_problem(
    text: str, *, multiline: bool = False, max_chars: int = DEFAULT_MAX_CHARS
) -> str | None:
    """Why ``text`` cannot be an argument string (a phrase such as "holds a NUL ..."), or None."""
    if len(text) > max_chars:
        return f"is {len(text)} characters long; at most {max_chars} are allowed"
    at = lone_surrogate_at(text)
    if at is not None:
        return (
            f"holds a lone surrogate (U+{ord(text[at]):04X}) at character {at}; "
            "it is not valid Unicode text"
        )
    found = (_CONTROL_BUT_LAYOUT if multiline else _CONTROL).search(text)
    if found is None:
        return None
    code = ord(found.group())
    name = _NAMES.get(code, "a control character")
    where = "" if multiline else " (only multiline text fields may hold newlines and tabs)"
    return f"holds {name} (U+{code:04X}) at character {found.start()}; control characters are not allowed{where}"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a tool name, or None (short, one line, valid Unicode)."""
    return text_problem(name, max_chars=MAX_KEY_CHARS)


def argument_problems(arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """One message per string in ``arguments`` that breaks the rules above, by argument path.

    ``schema`` is the tool's parameters schema; each string's rules come from the schema node at
    its path (``$ref``, ``anyOf``/``oneOf``, ``items``, ``properties``, ``additionalProperties``
    are followed); where the schema says nothing, the single-line defaults apply.
    """
    problems = []
    for path, text, node, is_key in _strings(arguments, schema, schema):
        if is_key:
            problem = text_problem(text, max_chars=MAX_KEY_CHARS)
            what = f"a key of argument {path!r}" if path else "an argument name"
        else:
            multiline, max_chars = string_rules(node, schema)
            problem = text_problem(text, multiline=multiline, max_chars=max_chars)
            what = f"argument {path!r}"
        if problem:
            problems.append(f"{what} {problem}")
    return problems


def string_rules(node: Mapping[str, Any] | None, root: Mapping[str, Any]) -> tuple[bool, int]:
    """(multiline?, max characters) for a string at schema ``node``."""
    branches = [_resolve(b, root) for b in _branches(_resolve(node, root))]
    multiline = any(b.get(MULTILINE_KEY) is True for b in branches)
    default = DEFAULT_MAX_MULTILINE_CHARS if multiline else DEFAULT_MAX_CHARS
    caps = [b["maxLength"] for b in branches if isinstance(b.get("maxLength"), int)]
    return multiline, max(caps) if caps else default


def _strings(
    value: Any, node: Mapping[str, Any] | None, root: Mapping[str, Any]
) -> Iterator[tuple[str, str, Mapping[str, Any] | None, bool]]:
    """Every string under ``value``: (path, text, schema node, is it an object key?).

    Breadth first, in declaration order, and iterative: a deeply nested value cannot exhaust the
    stack.
    """
    queue: deque[tuple[str, Any, Mapping[str, Any] | None]] = deque([("", value, node)])
    while queue:
        path, item, here = queue.popleft()
        if isinstance(item, str):
            yield path, item, here, False
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str):
                    yield path, key, None, True
                child_path = f"{path}.{key}" if path else str(key)
                queue.append((child_path, child, _child(here, root, "properties", key)))
        elif isinstance(item, list | tuple):
            for index, child in enumerate(item):
                queue.append((f"{path}[{index}]", child, _child(here, root, "items", None)))


def _child(
    node: Mapping[str, Any] | None, root: Mapping[str, Any], kind: str, key: str | None
) -> Mapping[str, Any] | None:
    """The schema node of a property (``kind="properties"``) or of list items, if declared."""
    for branch in _branches(_resolve(node, root)):
        branch = _resolve(branch, root)
        if kind == "items" and isinstance(branch.get("items"), Mapping):
            return branch["items"]
        if kind == "properties":
            declared = branch.get("properties", {})
            if isinstance(declared, Mapping) and key in declared:
                return declared[key]
            if isinstance(branch.get("additionalProperties"), Mapping):
                return branch["additionalProperties"]
    return None


def _branches(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The node itself and the alternatives of its ``anyOf`` / ``oneOf`` / ``allOf``."""
    out = [node]
    for keyword in ("anyOf", "oneOf", "allOf"):
        out += [b for b in node.get(keyword, ()) if isinstance(b, Mapping)]
    return out


def _resolve(node: Mapping[str, Any] | None, root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/Name``); an absent node is the empty schema."""
    seen = 0
    while node is not None and isinstance(node.get("$ref"), str) and seen < 32:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        node, seen = (target if isinstance(target, Mapping) else None), seen + 1
    return node or {}
