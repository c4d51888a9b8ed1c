"""report.html of an eval run: summary, task table, episodes, mask view; escaping; Chromium render."""

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from toolgym.eval.mask_view import FOLD_KEEP
from toolgym.eval.report import write_report
from toolgym.eval.results import load_run

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SCRIPT = "<script>alert(1)</script>"
TRAIN_GREEN = (0xB7, 0xF0, 0xC0)  # --train in assets/report.css

SYSTEM = (
    (
        "You are a calendar assistant for Alice Chen (alice.chen@example.com). Dates are YYYY-MM-DD "
        "and times HH:MM. Use find_people when you only have a first name, and list_events to find "
        "event ids; never invent emails or ids. "
    )
    * 4
    + "\n\n# Tools\n<tools>\n"
    + json.dumps(
        {"name": "list_events", "parameters": {"start_date": "string", "attendee": "string"}}
    )
    + "\n</tools>"
)
CALL = (
    '<tool_call>\n{"name": "list_events", "arguments": {"start_date": "2026-03-13", '
    '"attendee": "alice.chen@example.com"}}\n</tool_call>'
)


def tokenize(text: str) -> list[str]:
    """A toy tokenizer: words with their leading space, punctuation runs, newlines."""
    return re.findall(r"\n| ?\w+| ?[^\w\s]+| +", text)


def mask_view(messages: list[dict]) -> dict:
    """A ChatML token stream with assistant contents (and their end marker) trainable."""
    pieces, trainable = [], []
    for message in messages:
        train = message["role"] == "assistant"
        head = ["<|im_start|>", *tokenize(message["role"]), "\n"]
        body = [*tokenize(message["content"]), "<|im_end|>"]
        pieces += [*head, *body, "\n"]
        trainable += [0] * len(head) + [int(train)] * len(body) + [0]
    return {"pieces": pieces, "trainable": trainable}


def conversation(answer: str) -> list[dict]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "How many events are on my calendar on Friday next week?"},
        {"role": "assistant", "content": CALL},
        {
            "role": "tool",
            "name": "list_events",
            "content": '{"total": 2, "events": [{"id": "ev-0066", "title": "Standup"}, '
            '{"id": "ev-0067", "title": "1:1 Alice / Ben"}]}',
        },
        {"role": "assistant", "content": answer},
    ]


def steps(final: float) -> list[dict]:
    return [
        {"reward": 0.0, "components": {"format": 1.0, "step_match": 1.0}},
        {
            "reward": final,
            "components": {"format": 1.0, "step_match": final, "completion": final},
        },
    ]


def rows() -> list[dict]:
    good = conversation("You have 2 events on Friday 2026-03-13: Standup (ev-0066) and a 1:1.")
    bad = conversation(f"Done. {SCRIPT} You have <b>3</b> events & more.")
    return [
        {
            "task_id": "calendar-test-001",
            "sample": 0,
            "success": True,
            "reward": 1.0,
            "components": {"completion": 1.0, "state_match": 1.0},
            "steps": steps(1.0),
            "turns": 2,
            "tokens": 60,
            "end_reason": "answered",
            "failure": None,
            "seconds": {"agent": 0.8, "tool": 0.01, "user": 0.0},
            "messages": good,
            "mask_view": mask_view(good),
        },
        {
            "task_id": "calendar-test-001",
            "sample": 1,
            "success": False,
            "reward": 0.0,
            "components": {"completion": 0.0, "state_match": 1.0},
            "steps": steps(0.0),
            "turns": 2,
            "tokens": 58,
            "end_reason": "answered",
            "failure": "wrong_answer",
            "seconds": {"agent": 0.7, "tool": 0.02, "user": 0.0},
            "messages": bad,
            "mask_view": mask_view(bad),
        },
        {  # no tokens field, no mask view
            "task_id": "calendar-test-002",
            "sample": 0,
            "success": False,
            "reward": -0.5,
            "components": {"completion": 0.0},
            "steps": [{"reward": -0.5, "components": {"format": 0.0}}],
            "turns": 1,
            "end_reason": "max_turns",
            "failure": "limits",
            "seconds": {"agent": 0.1, "tool": 0.0, "user": 0.0},
            "messages": [{"role": "user", "content": "Book it"}],
            "mask_view": None,
        },
        {"task_id": "calendar-test-002", "sample": 1},  # almost nothing: must not crash
    ]


SUMMARY = {
    "env": "toolgym/Calendar-v0",
    "agent": "oracle",
    "model": None,
    "split": "test",
    "k": 2,
    "tasks": 2,
    "episodes": 4,
    "success_rate": 0.25,
    "pass_at_k": {"1": 0.25, "2": 0.5},
    "pass_hat_k": {"1": 0.25, "2": 0.0},
    "components": {"completion": 0.25, "state_match": 0.5, "toolrl": -1.25},
    "turns": 1.6667,
    "tokens": 59.0,
    "seconds": {"agent": 1.6, "tool": 0.03, "user": 0.0, "total": 1.63},
    "failures": {
        "format": 0,
        "invalid_arguments": 0,
        "limits": 1,
        "user_backend": 0,
        "wrong_answer": 1,
    },
    "user_errors": 0,
    "created": "2026-11-30T13:10:00Z",
    "command": "toolgym eval --env toolgym/Calendar-v0 --k 2",
}


def write_run(path: Path, episodes: list[dict], summary: dict | None, extra: str = "") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(row) for row in episodes]
    (path / "results.jsonl").write_text("\n".join(lines) + "\n" + extra)
    if summary is not None:
        (path / "summary.json").write_text(json.dumps(summary, indent=2))
    return path


class Spans(HTMLParser):
    """Per mask view (div.mask): the classes of its token spans, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.views: list[list[set[str]]] = []
        self.depth = 0  # open <div>s inside the current mask view
        self.open_details: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "a" and a.get("href", "").startswith("#ep-"):
            self.hrefs.append(a["href"][1:])
        if tag == "details" and "open" in a and "ep" in classes:
            self.open_details.append(a.get("id", ""))
        if tag == "div" and "mask" in classes:
            self.views.append([])
            self.depth = 1
        elif tag == "div" and self.depth:
            self.depth += 1
        elif tag == "span" and self.depth and not classes & {"folded", "gap"}:
            self.views[-1].append(classes)

    def handle_endtag(self, tag):
        if tag == "div" and self.depth:
            self.depth -= 1


def parse(page: str) -> Spans:
    parser = Spans()
    parser.feed(page)
    return parser


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_run(tmp_path / "run", rows(), SUMMARY, extra="not json\n[1, 2]\n")


def test_report_is_one_self_contained_file(run_dir: Path) -> None:
    path = write_report(run_dir)
    assert path == run_dir / "report.html"
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=['"](https?:)?//""", page)  # nothing fetched
    assert "<link" not in page and "@import" not in page
    assert page.count("<script>") == 1  # the report's own


def test_untrusted_text_is_escaped(run_dir: Path) -> None:
    page = write_report(run_dir).read_text()
    assert SCRIPT not in page
    assert "<b>3</b>" not in page
    # in the conversation, verbatim but escaped
    assert (
        "Done. &lt;script&gt;alert(1)&lt;/script&gt; You have &lt;b&gt;3&lt;/b&gt; events &amp; more."
        in page
    )
    # in the mask view, piece by piece
    assert "<span class='t'><em>·</em>&lt;</span><span class='t'>script</span>" in page


def test_summary_header(run_dir: Path) -> None:
    page = write_report(run_dir).read_text()
    head = page[page.index("id='summary'") : page.index("id='tasks'")]
    for text in (
        "toolgym/Calendar-v0",
        "25.0%",  # success rate, pass@1, pass^1
        "50.0%",  # pass@2
        "0.0%",  # pass^2
        "pass@k",
        "pass^k",
        "state_match",
        "-1.250",  # a component outside [0, 1] as a number
        "1.67",  # turns
        "59.0",  # tokens
        "1.60 s",  # agent time
        "1.63 s",  # total
        "invalid_arguments",
        "wrong_answer",
        "toolgym eval --env toolgym/Calendar-v0 --k 2",
        "2 line(s) of results.jsonl could not be read",
    ):
        assert text in head, text


def test_task_table_links_every_episode(run_dir: Path) -> None:
    page = write_report(run_dir).read_text()
    table = page[page.index("id='tasks'") : page.index("id='episodes'")]
    assert table.count("<tr><td class='task'>") == 2
    assert "1/2" in table and "0/2" in table
    assert "answered ×2" in table and "max_turns" in table
    assert "wrong_answer" in table and "limits" in table
    assert "0.500" in table  # mean reward of calendar-test-001
    assert parse(table).hrefs == ["ep-0", "ep-1", "ep-2", "ep-3"]
    parsed = parse(page)
    assert set(parsed.hrefs) <= set(parsed.ids)
    assert parsed.open_details == ["ep-0"]  # the first episode is open


def test_system_prompt_in_full_once(run_dir: Path) -> None:
    page = write_report(run_dir).read_text()
    assert page.count("# Tools\n&lt;tools&gt;") == 1
    second = page[page.index("id='ep-1'") : page.index("id='ep-2'")]
    assert "(the system prompt of <a href='#ep-0'>episode 1</a>, 992 characters)" in second


def test_mask_view_spans_match_the_loss_mask(run_dir: Path) -> None:
    page = write_report(run_dir).read_text()
    views = parse(page).views
    expected = [r["mask_view"] for r in rows() if r.get("mask_view")]
    assert len(views) == len(expected) == 2
    for spans, view in zip(views, expected, strict=True):
        assert len(spans) == len(view["pieces"])
        assert sum("t" in classes for classes in spans) == sum(view["trainable"])
        assert [int("t" in c) for c in spans] == view["trainable"]
    assert "<span class='sp'>&lt;|im_start|&gt;</span>" in page  # special tokens marked
    assert "<span class='t sp'>&lt;|im_end|&gt;</span>" in page
    assert "<em>·</em>are" in page  # a leading space shows
    assert "<span><em>↵</em>\n</span>" in page  # a newline shows, and breaks the line
    assert "class='legend'" in page and "trainable" in page
    # the long system prompt is folded behind a button, its tokens still in the page
    assert (
        "<button class='fold' type='button' title='show or hide'>⋯ 176 context tokens ⋯</button>"
        in page
    )


def test_null_mask_view_missing_tokens_and_bare_rows(run_dir: Path) -> None:
    page = write_report(run_dir).read_text()
    third = page[page.index("id='ep-2'") : page.index("id='ep-3'")]
    assert "no mask view for this episode" in third
    assert "– tokens" in third
    fourth = page[page.index("id='ep-3'") :]
    assert "no messages" in fourth and "no steps" in fourth


def test_rewards_per_step(run_dir: Path) -> None:
    page = write_report(run_dir).read_text()
    first = page[page.index("id='ep-0'") : page.index("id='ep-1'")]
    steps_table = first[first.index("class='small steps'") :]
    steps_table = steps_table[: steps_table.index("</table>")]
    assert "<th class='n'>1</th><th class='n'>2</th>" in steps_table
    assert "<td class='n'>0.000</td><td class='n pos'>1.000</td>" in steps_table
    assert "<td>completion</td><td class='n'>–</td><td class='n'>1.000</td>" in steps_table
    third = page[page.index("id='ep-2'") : page.index("id='ep-3'")]
    assert "<td class='n neg'>-0.500</td>" in third


def test_long_stream_is_capped(tmp_path: Path) -> None:
    pieces = [f" w{i}" for i in range(20_000)] + [" answer"] * 50
    flags = [0] * 20_000 + [1] * 50
    row = rows()[0] | {"mask_view": {"pieces": pieces, "trainable": flags}}
    page = write_report(write_run(tmp_path / "run", [row], SUMMARY)).read_text()
    spans = parse(page).views[0]
    assert sum("t" in c for c in spans) == 50  # every trainable token stays
    assert len(spans) == 2 * FOLD_KEEP + 50
    assert "19,904 context tokens left out" in page
    assert "results.jsonl has every token" in page
    assert len(page) < 100_000


def test_odd_rows_do_not_crash(tmp_path: Path) -> None:
    odd = [
        {"task_id": 7, "success": "yes", "reward": "high", "tokens": None, "turns": None},
        {"mask_view": {"pieces": ["a", None, "\x00", "\t", ""], "trainable": [1, 0]}},
        {"messages": [None, {"role": "assistant", "content": None, "tool_calls": [{"id": 1}]}]},
        {"steps": [None, {"reward": float("nan")}], "seconds": "slow", "components": []},
        {"messages": [{"role": "user", "content": "\ud800 lone surrogate"}]},
    ]
    path = write_run(tmp_path / "run", odd, None)
    page = write_report(path).read_text()
    assert "summary.json is missing" in page
    assert "2 pieces but 2 flags" not in page and "5 pieces but 2 flags" in page
    assert "&quot;id&quot;: 1" in page  # tool_calls shown as JSON


def test_summary_from_rows_when_summary_is_missing(tmp_path: Path) -> None:
    run = load_run(write_run(tmp_path / "run", rows(), None))
    assert run.summary["episodes"] == 4
    assert run.summary["success_rate"] == 0.25
    assert run.summary["failures"]["limits"] == 1
    assert run.summary["tokens"] == 59.0


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a toolgym eval run directory"):
        write_report(tmp_path)


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def test_report_renders_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI installs it")
    page = write_report(run_dir)
    url = page.resolve().as_uri()
    shot = tmp_path / "report.png"
    done = chromium(
        "--window-size=1280,2000", f"--screenshot={shot}", url, profile=tmp_path / "profile-1"
    )
    assert shot.is_file(), done.stderr[-2000:]
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "report.png")
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 50_000  # a page of text and colour, not a blank one

    try:
        from PIL import Image  # Pillow comes with matplotlib
    except ImportError:  # pragma: no cover - fall back to the bytes: a blank page compresses well
        assert len(set(data[100:])) > 200
    else:
        with Image.open(shot) as image:
            assert image.size == (1280, 2000)
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 200  # not one colour: text, bars, bubbles
        # the mask view of the open first episode is on screen: its trainable green is painted
        green = sum(
            n
            for n, rgb in colours
            if max(abs(a - b) for a, b in zip(rgb, TRAIN_GREEN, strict=True)) <= 3
        )
        assert green > 500

    # the page's script ran: following a link to an episode opens it
    dom = chromium("--dump-dom", url + "#ep-2", profile=tmp_path / "profile-2")
    assert dom.returncode == 0, dom.stderr[-2000:]
    parsed = parse(dom.stdout)
    view = rows()[0]["mask_view"]
    assert len(parsed.views) == 2
    assert [int("t" in c) for c in parsed.views[0]] == view["trainable"]
    assert parsed.open_details == ["ep-0", "ep-2"]
    assert SCRIPT not in dom.stdout and "alert(1)" in dom.stdout  # text, not a script
