r"""Line matchers for grep: literal text by default, or a regular expression kept cheap to run.

Python's ``re`` backtracks, so a careless pattern can take exponential time (``(a+)+b``) or a
high polynomial one (``\w*\w*\w*!``) on a long line. Regex mode therefore accepts only patterns
whose worst case can be bounded, and bounds it deterministically (no timers):

* at most ``MAX_PATTERN_CHARS`` characters;
* no backreferences, conditionals or lookarounds;
* no variable quantifier or alternation inside a quantified group (``(a+)+``, ``(a|ab)*``);
* at most ``MAX_VARIABLE_QUANTIFIERS`` quantifiers whose count may vary (``*``, ``+``, ``?``,
  ``{m,n}``), and at most ``MAX_ALTERNATIVES`` combinations of ``|`` alternatives;
* only the first ``REGEX_LINE_CHARS`` characters of each line are examined, and a search stops
  once the estimated number of backtracking steps passes ``REGEX_STEP_BUDGET``. Lines without
  the pattern's required literal text (``def`` in ``\s*def\s+\w+``) are skipped at no cost.

With k variable quantifiers a line of n characters costs at most about C(n + k, k + 1) steps
per alternative, which is what :meth:`LineMatcher.cost` charges against the budget.
"""

from __future__ import annotations

import math
import re
import re._constants as sre_constants
import re._parser as sre_parser
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from toolgym import ToolError

MAX_PATTERN_CHARS = 200
MAX_VARIABLE_QUANTIFIERS = 3
MAX_ALTERNATIVES = 64
REGEX_LINE_CHARS = 500
REGEX_STEP_BUDGET = 50_000_000

_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)
_REFUSED = {
    sre_constants.GROUPREF: "backreferences are not supported",
    sre_constants.GROUPREF_EXISTS: "conditional groups are not supported",
    sre_constants.ASSERT: "lookahead and lookbehind are not supported",
    sre_constants.ASSERT_NOT: "lookahead and lookbehind are not supported",
}


@dataclass(frozen=True)
class LineMatcher:
    """Decides whether one line matches; regex matchers also carry their cost model."""

    matches: Callable[[str], bool]
    is_regex: bool = False
    variable_quantifiers: int = 0
    alternatives: int = 1
    required: str = ""
    """Text every match contains (lines without it are skipped at no cost); '' if unknown."""

    def cost(self, line_chars: int) -> int:
        """Upper estimate of the backtracking steps a regex needs on a line this long."""
        k = self.variable_quantifiers
        return math.comb(line_chars + k, k + 1) * self.alternatives


def make_matcher(pattern: str, *, regex: bool, ignore_case: bool) -> LineMatcher:
    """A matcher for ``pattern``, or ToolError if it is empty, too long or unsafe."""
    if not pattern:
        raise ToolError("empty pattern; give the text to search for")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ToolError(
            f"pattern is too long ({len(pattern)} characters; the limit is {MAX_PATTERN_CHARS})"
        )
    if not regex:
        return _literal(pattern, ignore_case)
    return _regex(pattern, ignore_case)


def _literal(pattern: str, ignore_case: bool) -> LineMatcher:
    if ignore_case:
        needle = pattern.casefold()
        return LineMatcher(lambda line: needle in line.casefold())
    return LineMatcher(lambda line: pattern in line)


def _regex(pattern: str, ignore_case: bool) -> LineMatcher:
    flags = re.IGNORECASE if ignore_case else 0
    try:
        with warnings.catch_warnings():  # e.g. FutureWarning "possible nested set" for '[['
            warnings.simplefilter("ignore")
            parsed = sre_parser.parse(pattern, flags)
            compiled = re.compile(pattern, flags)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        raise ToolError(f"invalid regular expression {pattern!r}: {exc}") from None
    stats = _Stats()
    _inspect(list(parsed), stats, in_repeat=False)
    if stats.variable > MAX_VARIABLE_QUANTIFIERS:
        raise ToolError(
            f"regular expression has {stats.variable} variable quantifiers (*, +, ?, {{m,n}}); "
            f"at most {MAX_VARIABLE_QUANTIFIERS} are allowed. Simplify it or search literally"
        )
    if stats.alternatives > MAX_ALTERNATIVES:
        raise ToolError(
            f"regular expression has too many '|' alternatives ({stats.alternatives} "
            f"combinations; the limit is {MAX_ALTERNATIVES})"
        )
    search = compiled.search
    case_blind = (parsed.state.flags | flags) & re.IGNORECASE
    return LineMatcher(
        lambda line: search(line) is not None,
        is_regex=True,
        variable_quantifiers=stats.variable,
        alternatives=stats.alternatives,
        required="" if case_blind else _required_literal(list(parsed)),
    )


def _required_literal(items: list[tuple[Any, Any]]) -> str:
    r"""The longest run of plain characters at the pattern's top level: every match holds it.

    >>> _required_literal(list(sre_parser.parse(r"\s*def\s+(\w+)\(")))
    'def'
    """
    best = run = ""
    for op, arg in items:
        run = run + chr(arg) if op is sre_constants.LITERAL else ""
        best = max(best, run, key=len)
    return best


@dataclass
class _Stats:
    variable: int = 0
    alternatives: int = 1


def _inspect(items: list[tuple[Any, Any]], stats: _Stats, *, in_repeat: bool) -> None:
    """Walk the parsed pattern, counting choices and refusing constructs that can explode."""
    for op, arg in items:
        if op in _REFUSED:
            raise ToolError(f"unsupported regular expression: {_REFUSED[op]}")
        if op in _REPEATS:
            low, high, body = arg
            if low != high:
                if in_repeat:
                    raise ToolError(
                        "unsupported regular expression: a quantifier inside a quantified group "
                        "(like '(a+)+') can take exponential time; rewrite it without nesting"
                    )
                stats.variable += 1
            _inspect(list(body), stats, in_repeat=in_repeat or low != high or high > 1)
        elif op is sre_constants.BRANCH:
            if in_repeat:
                raise ToolError(
                    "unsupported regular expression: '|' inside a quantified group (like "
                    "'(a|ab)*') can take exponential time; use a character class or rewrite it"
                )
            branches = arg[1]
            stats.alternatives *= len(branches)
            for branch in branches:
                _inspect(list(branch), stats, in_repeat=in_repeat)
        elif op is sre_constants.SUBPATTERN:
            _inspect(list(arg[3]), stats, in_repeat=in_repeat)
        elif op is sre_constants.ATOMIC_GROUP:
            _inspect(list(arg), stats, in_repeat=in_repeat)
