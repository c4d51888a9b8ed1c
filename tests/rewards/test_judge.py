"""LLM judge: strict verdict parsing, the prompt, env integration, and a real loopback server."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolgym import Limits, ToolEnv, load_tasks
from toolgym.content import bundled_root, load_suite
from toolgym.episode import Episode, Verdict
from toolgym.llm.backends import BackendError, BackendReply, EndpointBackend, LocalBackend
from toolgym.policies import OpenAIConfig, OraclePolicy, play
from toolgym.rewards import JUDGE_REWARDS, LLMJudge, Rubric, parse_verdict
from toolgym.rewards.judge import default_judge_prompt, render_required
from toolgym.tasks import Task

SUITE = load_suite("calendar")
TASKS = load_tasks(bundled_root() / "tasks" / "calendar" / "train.jsonl")
LOOKUP = "calendar-train-001"  # "How many events do I have on Thursday?", required 3 / three
NO_VERDICT = "no verdict line, expected a last line 'VERDICT: PASS' or 'VERDICT: FAIL'"


# ------------------------------------------------------------------------------------ parsing
@pytest.mark.parametrize(
    ("text", "passed", "error"),
    [
        ("It lists the 3 events.\nVERDICT: PASS", True, None),
        ("The count is wrong.\nVERDICT: FAIL", False, None),
        ("VERDICT: PASS", True, None),
        ("Fine.\n   VERDICT: FAIL  \n\n  \n", False, None),  # surrounding whitespace is allowed
        ("Fine.\r\nVERDICT: PASS\r\n", True, None),
        ("The answer looks right to me.", None, NO_VERDICT),
        ("", None, f"no verdict line (the reply is empty), {NO_VERDICT[17:]}"),
        ("  \n\n", None, f"no verdict line (the reply is empty), {NO_VERDICT[17:]}"),
        ("Good.\nverdict: pass", None, f"{NO_VERDICT} (closest: 'verdict: pass')"),
        ("Good.\nVerdict: PASS", None, f"{NO_VERDICT} (closest: 'Verdict: PASS')"),
        ("Good.\nVERDICT: PASS.", None, f"{NO_VERDICT} (closest: 'VERDICT: PASS.')"),
        ("Good.\n**VERDICT: PASS**", None, f"{NO_VERDICT} (closest: '**VERDICT: PASS**')"),
        ("Good.\nVERDICT:PASS", None, f"{NO_VERDICT} (closest: 'VERDICT:PASS')"),
        ("Good.\nVERDICT: PASS because it is right", None, f"{NO_VERDICT} (closest: "
         "'VERDICT: PASS because it is right')"),
        ("Good. VERDICT: PASS", None, f"{NO_VERDICT} (closest: 'Good. VERDICT: PASS')"),
        ("Hmm.\nVERDICT: MAYBE", None, f"{NO_VERDICT} (closest: 'VERDICT: MAYBE')"),
        (
            "VERDICT: PASS\nVERDICT: FAIL",
            None,
            "several verdict lines (2: 'VERDICT: PASS', 'VERDICT: FAIL'), expected a last line "
            "'VERDICT: PASS' or 'VERDICT: FAIL'",
        ),
        (
            "VERDICT: PASS\nOn reflection:\nVERDICT: PASS",
            None,
            "several verdict lines (2: 'VERDICT: PASS', 'VERDICT: PASS'), expected a last line "
            "'VERDICT: PASS' or 'VERDICT: FAIL'",
        ),
        (
            "VERDICT: PASS\nBecause every fact is there.",
            None,
            "verdict not on the last line: 'VERDICT: PASS' is followed by "
            "'Because every fact is there.'",
        ),
    ],
)  # fmt: skip
def test_parse_verdict_is_strict(text, passed, error):
    assert parse_verdict(text) == Verdict(passed, text, error)


def is_verdict_line(line):
    return re.fullmatch(r"VERDICT: (PASS|FAIL)", line.strip()) is not None


NEAR_MISSES = st.sampled_from(
    [
        "verdict: pass", "Verdict: FAIL", "VERDICT: PASS.", "VERDICT:PASS", "VERDICT: PASSED",
        "**VERDICT: PASS**", "`VERDICT: FAIL`", "VERDICT: PASS or FAIL", "VERDICT: pass",
        "The VERDICT: PASS", "VERDICT - PASS", "VERDICT: ",
    ]
)  # fmt: skip
FREE_LINES = st.lists(st.one_of(st.text(max_size=40), NEAR_MISSES), max_size=8)


@given(FREE_LINES)
def test_text_without_a_verdict_line_never_yields_a_verdict(lines):
    text = "\n".join(lines)
    if any(is_verdict_line(line) for line in text.splitlines()):
        return  # a generated line that happens to be a verdict line (practically never)
    verdict = parse_verdict(text)
    assert verdict.passed is None and verdict.error.startswith("no verdict line")
    assert verdict.raw == text


@given(
    FREE_LINES,
    st.sampled_from(["PASS", "FAIL"]),
    st.sampled_from(["", " ", "\t"]),
    st.sampled_from(["", "\n", "\n\n  \n", " \r\n"]),
)
def test_any_text_followed_by_a_final_verdict_line_yields_it(lines, word, pad, tail):
    body = "\n".join(lines)
    if any(is_verdict_line(line) for line in body.splitlines()):
        return
    text = f"{body}\n{pad}VERDICT: {word}{pad}{tail}"
    assert parse_verdict(text) == Verdict(word == "PASS", text, None)


# ------------------------------------------------------------------------------------- prompt
def test_bundled_prompt_uses_every_placeholder_and_asks_for_the_verdict_line():
    prompt = default_judge_prompt()
    for name in ("instruction", "context", "answer", "reference", "required"):
        assert f"${name}" in prompt
    assert "\nVERDICT: PASS\n" in prompt and "\nVERDICT: FAIL\n" in prompt


def test_prompt_is_filled_from_the_task_and_answer():
    task = next(t for t in TASKS if t.id == LOOKUP)
    prompt = LLMJudge(Fixed("")).prompt(task, "You have $3 events {x}.")
    assert task.instruction in prompt and task.context in prompt and task.gold_answer in prompt
    assert render_required(task.required_outputs) in prompt and "3 (number)" in prompt
    assert "You have $3 events {x}." in prompt  # answers are data: '$' in them is kept as is
    bare = Task(id="t", suite="s", instruction="Say hi.")
    prompt = LLMJudge(
        Fixed(""), prompt_template="$instruction|$context|$reference|$required|$answer"
    )
    assert prompt.prompt(bare, "hi") == "Say hi.|(none)|(none)|(none)|hi"
    assert render_required(["a", ["b", "c"]]) == '- "a"\n- any one of: "b", "c"'


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Grade $answer for $user.", r"unknown placeholder\(s\) \['user'\]"),
        ("Grade $answer; it costs $5.", r"invalid '\$' placeholder"),
        ("Grade the answer to $instruction.", r"must contain \$answer"),
    ],
)
def test_bad_templates_are_refused(template, message):
    with pytest.raises(ValueError, match=message):
        LLMJudge(Fixed(""), prompt_template=template)


# ------------------------------------------------------------------------------ in the env
class Fixed:
    """A test double of the ChatBackend protocol: a fixed reply (or error), requests recorded."""

    fingerprint = "fixed"

    def __init__(self, text, *, error=None, finish_reason="stop"):
        self.text, self.error, self.finish_reason = text, error, finish_reason
        self.requests = []

    def complete(self, messages, seed):
        self.requests.append((messages, seed))
        if self.error is not None:
            raise BackendError(self.error)
        return BackendReply(self.text, finish_reason=self.finish_reason)


def make_env(backend, *, rewards=None, **kwargs):
    rewards = {"completion": 1.0, "judge": 1.0} if rewards is None else rewards
    return ToolEnv(SUITE, TASKS, judge=LLMJudge(backend, seed=7), rewards=rewards, **kwargs)


def run(env, policy=None, task_id=LOOKUP):
    result = play(env, policy or OraclePolicy(), task_id=task_id, seed=0)
    return result, env.summary()


def test_pass_verdict_pays_the_judge_component():
    backend = Fixed("All three events are listed.\nVERDICT: PASS")
    result, summary = run(make_env(backend))
    assert result.components["judge"] == 1.0 and result.components["judge_failed"] == 0.0
    assert result.total_reward == 2.0  # completion 1 + judge 1
    assert summary["judge"] == {"passed": True, "error": None, "raw": backend.text}
    ((messages, seed),) = backend.requests  # exactly one request for the episode
    assert seed == 7 and [m["role"] for m in messages] == ["user"]
    task = next(t for t in TASKS if t.id == LOOKUP)
    assert task.instruction in messages[0]["content"]
    assert task.answer() in messages[0]["content"]  # the oracle's final answer is shown


def test_fail_verdict_pays_nothing_and_is_no_judge_failure():
    backend = Fixed("The count is wrong.\nVERDICT: FAIL")
    result, summary = run(make_env(backend))
    assert result.components["judge"] == 0.0 and result.components["judge_failed"] == 0.0
    assert result.components["completion"] == 1.0 and result.total_reward == 1.0
    assert summary["judge"] == {"passed": False, "error": None, "raw": backend.text}
    assert len(backend.requests) == 1


def test_backend_failure_is_surfaced_not_raised():
    backend = Fixed("", error="endpoint unreachable after 3 retries")
    result, summary = run(make_env(backend))
    assert result.components["judge"] == 0.0 and result.components["judge_failed"] == 1.0
    assert summary["judge"] == {
        "passed": None,
        "error": "judge backend failed: endpoint unreachable after 3 retries",
        "raw": "",
    }
    assert len(backend.requests) == 1


def test_unreadable_reply_is_a_judge_failure_with_its_reason():
    backend = Fixed("I think it passes", finish_reason="length")
    result, summary = run(make_env(backend))
    assert result.components["judge_failed"] == 1.0 and result.components["judge"] == 0.0
    assert summary["judge"]["passed"] is None and summary["judge"]["raw"] == "I think it passes"
    assert summary["judge"]["error"] == f"{NO_VERDICT} (the reply was cut at the token limit)"


def test_one_request_per_episode():
    backend = Fixed("VERDICT: PASS")
    env = make_env(backend)
    for _ in range(3):
        run(env)
    assert len(backend.requests) == 3


def test_unanswered_episode_is_not_sent_and_fails():
    backend = Fixed("VERDICT: PASS")
    env = make_env(backend, limits=Limits(max_turns=1))  # cut after the oracle's tool call
    result, summary = run(env)
    assert result.truncated and result.end_reason == "max_turns"
    assert backend.requests == []
    assert result.components["judge"] == 0.0 and result.components["judge_failed"] == 0.0
    assert summary["judge"] == {"passed": False, "error": None, "raw": ""}


def test_without_a_judge():
    env = ToolEnv(SUITE, TASKS)
    result, summary = run(env)
    assert summary["judge"] is None
    assert "judge" not in result.components and "judge_failed" not in result.components
    with pytest.raises(ValueError, match="only when the env is given a judge"):
        ToolEnv(SUITE, TASKS, rewards={"judge": 1.0})


def test_a_ready_rubric_gets_the_judge_components():
    backend = Fixed("VERDICT: PASS")
    env = ToolEnv(SUITE, TASKS, rewards=Rubric({"completion": 1.0}), judge=LLMJudge(backend))
    result, _ = run(env)
    assert result.components["judge"] == 1.0 and result.total_reward == 1.0  # judge: weight 0
    weighted = Rubric({"judge": 0.5}, JUDGE_REWARDS)
    result, _ = run(ToolEnv(SUITE, TASKS, rewards=weighted, judge=LLMJudge(backend)))
    assert result.total_reward == 0.5


def test_rubric_extra_components():
    def fixed(episode: Episode) -> float:
        return 0.25

    rubric = Rubric({"completion": 1.0, "extra": 2.0}, {"extra": fixed})
    task = Task(id="t", suite="s", instruction="x")
    scores = rubric.score_episode(Episode(task, end_reason="max_turns"))
    assert scores["extra"] == 0.25 and "completion" in scores
    assert rubric.total(scores) == 0.5
    with pytest.raises(ValueError, match="clash with registered"):
        Rubric({}, {"completion": fixed})
    with pytest.raises(ValueError, match="unknown reward component"):
        Rubric({"extra": 1.0})


# ------------------------------------------------------------------------ real tiny models
def test_tiny_model_over_a_real_loopback_server_is_a_surfaced_failure(tiny_model):
    from toolgym.serve import background_server, create_app

    model, tokenizer = tiny_model
    app = create_app(model, tokenizer, model_name="tiny-judge", default_max_tokens=16)
    with background_server(app) as url:
        config = OpenAIConfig(  # sampled, so the reply is garbage text rather than blank lines
            base_url=url, model="tiny-judge", temperature=1.0, max_tokens=16, max_retries=0
        )
        backend = EndpointBackend(config)
        try:
            result, summary = run(make_env(backend))
        finally:
            backend.close()
    assert result.end_reason == "answered" and result.components["completion"] == 1.0
    assert result.components["judge_failed"] == 1.0 and result.components["judge"] == 0.0
    assert summary["judge"]["passed"] is None and summary["judge"]["raw"].strip()
    assert summary["judge"]["error"].startswith("no verdict line")


def test_tiny_local_model_is_a_surfaced_failure(tiny):
    model, tokenizer, _ = tiny
    backend = LocalBackend(model, tokenizer, name="tiny", temperature=1.0, max_new_tokens=12)
    result, summary = run(make_env(backend))
    assert result.components["judge_failed"] == 1.0 and summary["judge"]["raw"].strip()
    assert summary["judge"]["error"].startswith("no verdict line")
