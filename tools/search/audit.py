"""The search suite's reward-audit hooks: respell a call (there is nothing to undo).

Both tools only read, so the suite has no ``undo``. ``respell`` gives the same call in another
spelling the tools accept, with the same result:

- ``search``: the query in another letter case (search tokens are lower-cased, so the hits,
  snippets and scores are the same) with the default ``k`` given explicitly;
- ``open``: the doc id in upper case, or lower case if it is upper (``open`` lower-cases it).

A respelling is returned only when it really gives the same result on the state: a call that
fails has none (its error message quotes the argument as spelled, so another spelling is another
error).
"""

from __future__ import annotations

from toolgym.audit.kit import AuditKit
from toolgym.canonical import canonical_json
from toolgym.tooling import ToolCall

from . import suite
from .state import SearchState
from .tools import MAX_K

DEFAULT_K = 5
"""``search``'s default ``k`` (kept equal to the tool's signature)."""

assert DEFAULT_K <= MAX_K


def other_case(text: str) -> str:
    """``text`` in another letter case: lower case, or title case when it already is lower."""
    lowered = text.lower()
    return lowered if lowered != text else text.title()


def respell(call: ToolCall, state: SearchState) -> ToolCall | None:
    """The same call spelled another way, with the same result (None if there is none)."""
    args = dict(call.arguments)
    if call.name == "search" and isinstance(args.get("query"), str):
        args["query"] = other_case(args["query"])
        args.setdefault("k", DEFAULT_K)
    elif call.name == "open" and isinstance(args.get("doc_id"), str):
        doc_id = args["doc_id"]
        args["doc_id"] = doc_id.upper() if doc_id != doc_id.upper() else doc_id.lower()
    else:
        return None
    if args == call.arguments:
        return None  # a query or doc id without letters
    respelled = ToolCall(name=call.name, arguments=args)
    before, _ = suite.execute(state, call)
    after, _ = suite.execute(state, respelled)
    if not (before.ok and after.ok):
        return None
    if canonical_json(before.result) != canonical_json(after.result):
        return None
    return respelled


kit = AuditKit(undo=None, respell=respell)
