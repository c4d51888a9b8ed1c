"""Formatting of report values: numbers, percentages, times, bars, escaped text (a dash if absent)."""

from __future__ import annotations

import html
import json
from typing import Any

from toolgym.eval.results import num


def fmt(value: Any, digits: int) -> str:
    """A number with ``digits`` decimals, or a dash."""
    x = num(value)
    return "–" if x is None else f"{x:.{digits}f}"


def pct(value: Any) -> str:
    """A fraction as a percentage with one decimal, or a dash."""
    x = num(value)
    return "–" if x is None else f"{100 * x:.1f}%"


def seconds_text(value: Any) -> str:
    """Seconds, readable at any size, or a dash."""
    x = num(value)
    if x is None:
        return "–"
    if x >= 120:
        return f"{x / 60:.1f} min"
    return f"{x:.2f} s"


def int_text(value: Any) -> str:
    """A count with thousands separators (two decimals if not whole), or a dash."""
    x = num(value)
    return "–" if x is None else f"{x:,.0f}" if x == int(x) else f"{x:,.2f}"


def bar(value: Any, *, percent: bool = True) -> str:
    """A fraction as a small horizontal bar with its label (HTML)."""
    x = num(value)
    if x is None:
        return "<span class='dim'>–</span>"
    width = 100 * min(max(x, 0.0), 1.0)
    label = pct(x) if percent else fmt(x, 3)
    return (
        f"<span class='bar'><i style='width:{width:.1f}%'></i></span><span class='n'>{label}</span>"
    )


def k_order(k: str) -> tuple[int, str]:
    """Sort key of pass@k keys: numbers in order, anything else last."""
    return (int(k), "") if k.isdigit() else (1 << 30, k)


def as_text(value: Any) -> str:
    """A value as text: strings as they are, other values as indented JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, indent=1)
    except (TypeError, ValueError):
        return str(value)


def esc(value: Any) -> str:
    """HTML-escaped text of a value (a dash for None); model output is untrusted."""
    return html.escape("–" if value is None else str(value), quote=True)
