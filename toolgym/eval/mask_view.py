"""The mask view of an episode as HTML: its token stream with the trainable tokens highlighted.

Every piece is escaped, with spaces, tabs, newlines and control characters made visible; special
tokens (``<|im_end|>``-like) are marked. Size: a stream longer than ``MAX_MASK_PIECES`` keeps its
trainable tokens and the ends of each long context run (the middles are left out, with a note);
shorter streams fold long context runs behind a button. ``results.jsonl`` always has the full
stream.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from toolgym.eval.results import as_mapping

MAX_MASK_PIECES = 3000  # an episode's stream longer than this loses its folded middles
FOLD_OVER = 160  # context (untrainable) runs longer than this are folded ...
FOLD_KEEP = 48  # ... keeping this many pieces visible at each end
_SPECIAL = re.compile(r"^<\|[^|<>]{1,40}\|>$|^</?s>$|^\[[A-Z_]{2,20}\]$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def mask_html(view: Any) -> str:
    """The token stream as spans, trainable ones highlighted; long context runs folded."""
    legend = (
        "<div class='legend'><span class='t'>trainable</span><span>context (masked)</span>"
        "<span class='sp'>special</span> <em>·</em> space <em>↵</em> newline <em>→</em> tab</div>"
    )
    v = as_mapping(view)
    pieces, flags = v.get("pieces"), v.get("trainable")
    if not isinstance(pieces, list) or not isinstance(flags, list):
        return "<p class='dim'>no mask view for this episode</p>"
    note = ""
    if len(pieces) != len(flags):
        note = f"<p class='note'>{len(pieces)} pieces but {len(flags)} flags; shown up to the shorter.</p>"
    stream = [(str(p), bool(f)) for p, f in zip(pieces, flags, strict=False)]
    trainable = sum(f for _, f in stream)
    keep_hidden = len(stream) <= MAX_MASK_PIECES
    out: list[str] = []
    shown = 0
    for flag, run in _runs(stream):
        if not flag and len(run) > FOLD_OVER:
            middle = run[FOLD_KEEP:-FOLD_KEEP]
            out.extend(_piece(p, False) for p in run[:FOLD_KEEP])
            if keep_hidden:
                out.append(
                    f"<button class='fold' type='button' title='show or hide'>⋯ {len(middle):,} context tokens ⋯</button>"
                    f"<span class='folded'>{''.join(_piece(p, False) for p in middle)}</span>"
                )
            else:
                out.append(f"<span class='gap'>⋯ {len(middle):,} context tokens left out ⋯</span>")
            out.extend(_piece(p, False) for p in run[-FOLD_KEEP:])
            shown += 2 * FOLD_KEEP
        else:
            room = MAX_MASK_PIECES - shown
            out.extend(_piece(p, flag) for p in run[:room])
            shown += min(len(run), room)
        if shown >= MAX_MASK_PIECES:
            break
    total = f"{len(stream):,} tokens, {trainable:,} trainable"
    if not keep_hidden:
        note += (
            f"<p class='note'>Long stream ({total}): the middles of long context runs are left "
            "out of this page; results.jsonl has every token.</p>"
        )
    if shown >= MAX_MASK_PIECES:
        note += f"<p class='note'>Cut after {MAX_MASK_PIECES:,} tokens ({total}).</p>"
    return (
        f"{legend}<div class='count dim'>{total}</div>{note}<div class='mask'>{''.join(out)}</div>"
    )


def _runs(stream: Sequence[tuple[str, bool]]) -> Iterable[tuple[bool, list[str]]]:
    """Maximal runs of pieces with the same trainable flag."""
    run: list[str] = []
    flag = False
    for piece, f in stream:
        if run and f != flag:
            yield flag, run
            run = []
        flag = f
        run.append(piece)
    if run:
        yield flag, run


def _piece(text: str, trainable: bool) -> str:
    classes = ["t"] if trainable else []
    if _SPECIAL.match(text):
        classes.append("sp")
    attr = f" class='{' '.join(classes)}'" if classes else ""
    return f"<span{attr}>{_visible(text)}</span>"


def _visible(text: str) -> str:
    """Escaped piece text with spaces, tabs, newlines and control characters made visible."""
    if not text:
        return "<em>∅</em>"
    out = html.escape(text)
    out = out.replace(" ", "<em>·</em>").replace("\t", "<em>→</em>").replace("\r", "<em>␍</em>")
    out = out.replace("\n", "<em>↵</em>\n")
    return _CONTROL.sub(lambda m: f"<em>\\x{ord(m.group()):02x}</em>", out)
