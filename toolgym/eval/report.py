"""The HTML report of an eval run: ``report.html``, one self-contained file.

``write_report(run_dir)`` reads the run's ``results.jsonl`` and ``summary.json`` (see
``toolgym.eval.run``) and writes ``run_dir/report.html``: the summary on top (success rate,
pass@k and pass^k per k, component means, turns, tokens, time split, failures by kind), a sortable
per-task table linking to each episode, then one collapsible section per episode with its
conversation, its token stream with the trainable tokens highlighted (the mask view) and its
per-step rewards.

The page is built with the standard library (``html.escape`` and string building), not Jinja2:
Jinja2 is only here as an optional extra of transformers, and a page of tables and spans needs no
template language. Every piece of run data is escaped (model output is untrusted), inline CSS and
a few lines of inline JS are the only assets, and nothing is fetched. Rows are read defensively: a
missing or odd field shows as a dash, an unreadable line is counted and skipped.

The mask view of each episode is drawn by ``mask_view.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from toolgym.eval.html_text import as_text, bar, esc, fmt, int_text, k_order, pct, seconds_text
from toolgym.eval.mask_view import mask_html
from toolgym.eval.metrics import FAILURE_KINDS
from toolgym.eval.results import Run, TaskStats, as_mapping, load_run, num, task_stats

SYSTEM_PREVIEW = 160  # characters of a system prompt shown before it is opened


def write_report(run_dir: Path) -> Path:
    """Write ``run_dir/report.html`` from the run's ``results.jsonl`` and ``summary.json``."""
    run = load_run(run_dir)
    target = Path(run_dir) / "report.html"
    # errors="replace": a lone surrogate from a "\ud800" escape in a row must not stop the write
    target.write_text(render_report(run), encoding="utf-8", errors="replace")
    return target


def render_report(run: Run) -> str:
    """The report page of ``run`` as one HTML string."""
    s = run.summary
    title = " · ".join(str(x) for x in (s.get("env"), s.get("agent"), s.get("split")) if x)
    tasks = task_stats(run.rows)
    parts = [
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>toolgym eval: {esc(title or run.path.name)}</title>",
        f"<style>{_asset('report.css')}</style></head><body>",
        "<nav><a href='#summary'>Summary</a><a href='#tasks'>Tasks</a>"
        "<a href='#episodes'>Episodes</a></nav><main>",
        _summary_html(run, title),
        _tasks_html(tasks),
        _episodes_html(run.rows),
        f"</main><script>{_asset('report.js')}</script></body></html>\n",
    ]
    return "".join(parts)


# --- summary ----------------------------------------------------------------------------------


def _summary_html(run: Run, title: str) -> str:
    s = run.summary
    meta = [
        ("agent", s.get("agent")),
        ("model", s.get("model")),
        ("split", s.get("split")),
        ("k", s.get("k")),
        ("created", s.get("created")),
    ]
    chips = "".join(
        f"<span class='chip'><b>{esc(k)}</b> {esc(v)}</span>" for k, v in meta if v is not None
    )
    out = [
        "<section id='summary'>",
        f"<h1>toolgym eval <span class='env'>{esc(s.get('env') or run.path.name)}</span></h1>",
        f"<div class='chips'>{chips}</div>",
    ]
    if s.get("command"):
        out.append(f"<pre class='command'>{esc(s['command'])}</pre>")
    out.extend(f"<p class='note'>{esc(note)}</p>" for note in run.notes)
    seconds = as_mapping(s.get("seconds"))
    total = num(seconds.get("total"))
    if total is None:
        total = sum(num(seconds.get(p)) or 0.0 for p in ("agent", "tool", "user")) or None
    cards = [
        ("success rate", pct(s.get("success_rate")), "ok" if num(s.get("success_rate")) else ""),
        ("tasks", int_text(s.get("tasks")), ""),
        ("episodes", int_text(s.get("episodes")), ""),
        ("mean turns", fmt(s.get("turns"), 2), ""),
        ("mean tokens", fmt(s.get("tokens"), 1), ""),
        ("time", seconds_text(total), ""),
        ("user errors", int_text(s.get("user_errors")), "bad" if num(s.get("user_errors")) else ""),
    ]
    if s.get("env_errors") is not None:
        cards.append(
            ("env errors", int_text(s["env_errors"]), "bad" if num(s["env_errors"]) else "")
        )
    out.append("<div class='cards'>")
    out.extend(
        f"<div class='card {cls}'><div class='v'>{esc(value)}</div><div class='k'>{esc(key)}</div></div>"
        for key, value, cls in cards
    )
    out.append("</div><div class='grid'>")
    out.append(_pass_table(s))
    out.append(_components_table(as_mapping(s.get("components"))))
    out.append(_failures_table(as_mapping(s.get("failures")), num(s.get("episodes"))))
    out.append(_time_table(seconds, total))
    out.append("</div></section>")
    return "".join(out)


def _pass_table(s: Mapping[str, Any]) -> str:
    at, hat = as_mapping(s.get("pass_at_k")), as_mapping(s.get("pass_hat_k"))
    ks = sorted({*at, *hat}, key=k_order)
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{bar(at.get(k))}</td><td>{bar(hat.get(k))}</td></tr>" for k in ks
    )
    body = rows or "<tr><td colspan='3' class='dim'>no pass@k in summary.json</td></tr>"
    return (
        "<div class='box'><h3>pass@k and pass^k</h3><table class='small'>"
        "<thead><tr><th>k</th><th title='at least one of k samples succeeds'>pass@k</th>"
        f"<th title='all k samples succeed'>pass^k</th></tr></thead><tbody>{body}</tbody></table>"
        "<p class='dim'>pass@k: at least one of k samples succeeds; pass^k: all k do.</p></div>"
    )


def _components_table(components: Mapping[str, Any]) -> str:
    rows = []
    for name in sorted(components):
        value = num(components[name])
        in_unit = value is not None and 0.0 <= value <= 1.0
        cell = bar(value, percent=False) if in_unit else esc(fmt(value, 3))
        rows.append(f"<tr><td>{esc(name)}</td><td>{cell}</td></tr>")
    body = "".join(rows) or "<tr><td colspan='2' class='dim'>none</td></tr>"
    return (
        "<div class='box'><h3>Reward components (mean)</h3><table class='small'>"
        f"<thead><tr><th>component</th><th>mean</th></tr></thead><tbody>{body}</tbody></table></div>"
    )


def _failures_table(failures: Mapping[str, Any], episodes: float | None) -> str:
    kinds = [*FAILURE_KINDS, *sorted(k for k in failures if k not in FAILURE_KINDS)]
    rows = []
    for kind in kinds:
        count = num(failures.get(kind))
        share = count / episodes if count is not None and episodes else None
        width = 100 * share if share is not None else 0
        cls = "" if not count else " class='bad'"
        rows.append(
            f"<tr{cls}><td>{esc(kind)}</td><td class='n'>{esc(int_text(count))}</td>"
            f"<td><span class='bar fail'><i style='width:{width:.1f}%'></i></span></td></tr>"
        )
    return (
        "<div class='box'><h3>Failures by kind</h3><table class='small'>"
        "<thead><tr><th>kind</th><th>episodes</th><th>share</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _time_table(seconds: Mapping[str, Any], total: float | None) -> str:
    parts = [(p, num(seconds.get(p))) for p in ("agent", "tool", "user")]
    whole = sum(v or 0.0 for _, v in parts)
    stack = "".join(
        f"<i class='{p}' style='width:{100 * (v or 0.0) / whole:.2f}%' title='{p}'></i>"
        for p, v in parts
        if whole > 0
    )
    rows = "".join(
        f"<tr><td><span class='sw {p}'></span>{p}</td><td class='n'>{esc(seconds_text(v))}</td>"
        f"<td class='n'>{esc(pct(v / whole if v is not None and whole else None))}</td></tr>"
        for p, v in parts
    )
    return (
        "<div class='box'><h3>Time</h3>"
        f"<div class='stack'>{stack}</div><table class='small'>"
        f"<thead><tr><th>part</th><th>seconds</th><th>share</th></tr></thead><tbody>{rows}"
        f"<tr class='total'><td>total</td><td class='n'>{esc(seconds_text(total))}</td><td></td></tr>"
        "</tbody></table></div>"
    )


# --- per-task table ---------------------------------------------------------------------------


def _tasks_html(tasks: Sequence[TaskStats]) -> str:
    rows = []
    for task in tasks:
        rate = task.successes / task.samples if task.samples else 0.0
        reward = task.mean_reward
        links = " ".join(
            f"<a href='#ep-{index}' class='{'ok' if row.get('success') else 'bad'}'"
            f" title='sample {esc(row.get('sample'))}'>"
            f"{'✓' if row.get('success') else '✗'}{esc(row.get('sample', ''))}</a>"
            for index, row in task.episodes
        )
        rows.append(
            f"<tr><td class='task'>{esc(task.task_id)}</td>"
            f"<td class='n' data-v='{task.samples}'>{task.samples}</td>"
            f"<td class='rate' data-v='{rate:.6f}'>{task.successes}/{task.samples} {bar(rate)}</td>"
            f"<td class='n' data-v='{reward if reward is not None else -1e9}'>{esc(fmt(reward, 3))}</td>"
            f"<td>{_counter_html(task.counts('end_reason'))}</td>"
            f"<td>{_counter_html(task.counts('failure'), bad=True)}</td>"
            f"<td class='links'>{links}</td></tr>"
        )
    body = "".join(rows) or "<tr><td colspan='7' class='dim'>no episodes</td></tr>"
    return (
        f"<section id='tasks'><h2>Tasks <span class='dim'>({len(tasks)})</span></h2>"
        "<p class='dim'>Click a column title to sort; click an episode to jump to it.</p>"
        "<table class='tasks sortable'><thead><tr>"
        "<th data-type='text'>task</th><th class='n'>samples</th><th>successes</th><th class='n'>mean reward</th>"
        "<th data-type='text'>end reasons</th><th data-type='text'>failures</th>"
        f"<th data-type='none'>episodes</th></tr></thead><tbody>{body}</tbody></table></section>"
    )


def _counter_html(counts: Counter[str], *, bad: bool = False) -> str:
    if not counts:
        return "<span class='dim'>–</span>"
    cls = "tag bad" if bad else "tag"
    return " ".join(
        f"<span class='{cls}'>{esc(value)}{f' ×{n}' if n > 1 else ''}</span>"
        for value, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


# --- episodes ---------------------------------------------------------------------------------


def _episodes_html(rows: Sequence[dict[str, Any]]) -> str:
    out = [
        f"<section id='episodes'><h2>Episodes <span class='dim'>({len(rows)})</span></h2>",
        "<label class='filter'><input type='checkbox' id='only-failed'> only failed episodes</label>",
    ]
    systems: dict[str, int] = {}  # system prompt -> first episode showing it in full
    out.extend(_episode_html(index, row, systems) for index, row in enumerate(rows))
    out.append("</section>")
    return "".join(out)


def _episode_html(index: int, row: Mapping[str, Any], systems: dict[str, int]) -> str:
    success = bool(row.get("success"))
    facts = [
        f"reward {fmt(row.get('reward'), 3)}",
        f"{int_text(row.get('turns'))} turns",
        f"{int_text(row.get('tokens'))} tokens",
        str(row.get("end_reason") or "–"),
    ]
    failure = row.get("failure")
    badge = f"<span class='tag bad'>{esc(failure)}</span>" if failure else ""
    head = (
        f"<summary><span class='mark {'ok' if success else 'bad'}'>{'✓' if success else '✗'}</span>"
        f"<b>{esc(row.get('task_id', '?'))}</b> <span class='dim'>sample {esc(row.get('sample', '?'))}</span>"
        f" {badge}<span class='facts'>{esc(' · '.join(facts))}</span></summary>"
    )
    seconds = as_mapping(row.get("seconds"))
    timing = " · ".join(
        f"{p} {seconds_text(num(seconds.get(p)))}"
        for p in ("agent", "tool", "user")
        if p in seconds
    )
    return (
        f"<details class='ep {'ok' if success else 'bad'}' id='ep-{index}'{' open' if index == 0 else ''}>"
        f"{head}<div class='body'>"
        f"<div class='cols'><div class='col'><h4>Conversation</h4>{_conversation_html(row.get('messages'), index, systems)}</div>"
        f"<div class='col'><h4>Token stream (mask view)</h4>{mask_html(row.get('mask_view'))}</div></div>"
        f"<div class='cols'><div class='col'><h4>Rewards per step</h4>{_steps_html(row.get('steps'))}</div>"
        f"<div class='col'><h4>Episode</h4>{_episode_facts(row, timing)}</div></div>"
        "</div></details>"
    )


def _episode_facts(row: Mapping[str, Any], timing: str) -> str:
    components = as_mapping(row.get("components"))
    comp = "".join(
        f"<tr><td>{esc(k)}</td><td class='n'>{esc(fmt(v, 3))}</td></tr>"
        for k, v in components.items()
    )
    return (
        "<table class='small'><tbody>"
        f"<tr><td>reward</td><td class='n'>{esc(fmt(row.get('reward'), 3))}</td></tr>"
        f"<tr><td>end reason</td><td class='n'>{esc(row.get('end_reason') or '–')}</td></tr>"
        f"<tr><td>time</td><td class='n'>{esc(timing or '–')}</td></tr>"
        f"{comp}</tbody></table>"
    )


def _conversation_html(messages: Any, index: int = 0, systems: dict[str, int] | None = None) -> str:
    """Role-coloured bubbles; a long system prompt folded, and shown in full only once per page."""
    if not isinstance(messages, list) or not messages:
        return "<p class='dim'>no messages</p>"
    systems = {} if systems is None else systems
    out = ["<div class='chat'>"]
    for message in messages:
        m = as_mapping(message)
        role = str(m.get("role", "?"))
        cls = role if role in ("system", "user", "assistant", "tool") else "other"
        content = as_text(m.get("content"))
        calls = m.get("tool_calls")
        name = m.get("name")
        label = f"{esc(role)}{f' · <code>{esc(name)}</code>' if name else ''}"
        body = f"<pre>{esc(content)}</pre>" if content else ""
        if calls:
            body += f"<pre class='calls'>{esc(as_text(calls))}</pre>"
        if role == "system" and len(content) > SYSTEM_PREVIEW:
            first = systems.setdefault(content, index)
            preview = content[:SYSTEM_PREVIEW].replace("\n", " ")
            if (
                first != index
            ):  # the same prompt as an earlier episode: link to it, keep the page small
                body = (
                    f"<p class='dim'>{esc(preview)}… (the system prompt of "
                    f"<a href='#ep-{first}'>episode {first + 1}</a>, {len(content):,} characters)</p>"
                )
            else:
                body = (
                    f"<details><summary>{esc(preview)}… <span class='dim'>"
                    f"({len(content):,} characters)</span></summary>{body}</details>"
                )
        out.append(f"<div class='msg {cls}'><div class='role'>{label}</div>{body}</div>")
    out.append("</div>")
    return "".join(out)


def _steps_html(steps: Any) -> str:
    """Per-step rewards: a column per assistant turn, the reward then each component as rows."""
    if not isinstance(steps, list) or not steps:
        return "<p class='dim'>no steps</p>"
    parts = [as_mapping(step) for step in steps]
    names: list[str] = []
    for step in parts:
        for name in as_mapping(step.get("components")):
            if name not in names:
                names.append(name)
    head = "".join(f"<th class='n'>{number}</th>" for number in range(1, len(parts) + 1))
    rewards = []
    for step in parts:
        reward = num(step.get("reward"))
        cls = (
            " pos" if reward is not None and reward > 0 else " neg" if reward and reward < 0 else ""
        )
        rewards.append(f"<td class='n{cls}'>{esc(fmt(reward, 3))}</td>")
    rows = [f"<tr class='reward'><td>reward</td>{''.join(rewards)}</tr>"]
    for name in names:
        cells = "".join(
            f"<td class='n'>{esc(fmt(as_mapping(step.get('components')).get(name), 3))}</td>"
            for step in parts
        )
        rows.append(f"<tr><td>{esc(name)}</td>{cells}</tr>")
    return (
        "<div class='scroll'><table class='small steps'><thead><tr><th>step</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _asset(name: str) -> str:
    """An inline asset of the page (``assets/report.css``, ``assets/report.js``)."""
    return resources.files("toolgym.eval").joinpath("assets", name).read_text(encoding="utf-8")
