"""Rows <-> trajectories: exact round trips through Parquet and JSONL, and the clear errors."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolgym.tokens.trajectory import Segment, Trajectory
from toolgym.trajectory_rows import (
    COLUMNS,
    arrow_schema,
    check_path,
    episode_row,
    is_rows_data,
    read_rows,
    remove_steps_after,
    row_trajectory,
    step_path,
    write_rows,
)

floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
ids = st.lists(st.integers(0, 2**31 - 1), max_size=6).map(tuple)


@st.composite
def segments(draw):
    """Prompt, then assistant/observation runs; assistant log-probs known, absent or empty."""
    out = [Segment("prompt", draw(ids), False)]
    for _ in range(draw(st.integers(0, 3))):
        tokens = draw(ids)
        logprobs = draw(st.one_of(st.none(), st.lists(floats, min_size=len(tokens),
                                                      max_size=len(tokens)).map(tuple)))  # fmt: skip
        out.append(Segment("assistant", tokens, draw(st.booleans()), logprobs))
        if draw(st.booleans()):
            out.append(Segment("observation", draw(ids), False))
    return out


@st.composite
def trajectories(draw):
    """Any trajectory a collector or a file of conversations can produce."""
    segs = draw(segments())
    turns = sum(s.role == "assistant" for s in segs)
    names = st.sampled_from(["completion", "format", "step_match", "toolrl"])
    return Trajectory(
        task_id=draw(st.text(min_size=1, max_size=8)),
        segments=segs,
        turn_rewards=draw(st.lists(floats, min_size=turns, max_size=turns)),
        components=draw(st.lists(st.dictionaries(names, floats), min_size=turns, max_size=turns)),
        terminated=draw(st.booleans()),
        truncated=draw(st.booleans()),
        end_reason=draw(st.sampled_from([None, "answered", "max_turns", "env_error"])),
        expert=draw(st.lists(st.text(max_size=5), max_size=2)),
        error=draw(st.one_of(st.none(), st.text(max_size=10))),
        policy_version=draw(st.integers(0, 1000)),
        timings={"generate": draw(floats), "env": 0.5, "user": 0.0, "render": 0.25},
    )


def same(a: Trajectory, b: Trajectory) -> None:
    assert a.segments == b.segments  # roles, ids, trainable flags, log-probs (None vs values)
    assert (a.token_ids, a.loss_mask, a.logprobs) == (b.token_ids, b.loss_mask, b.logprobs)
    assert (a.turn_rewards, a.components, a.policy_version) == (
        b.turn_rewards, b.components, b.policy_version)  # fmt: skip
    assert (a.task_id, a.terminated, a.truncated, a.end_reason, a.error, a.expert, a.timings) == (
        b.task_id, b.terminated, b.truncated, b.end_reason, b.error, b.expert, b.timings)  # fmt: skip


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(trajectories(), min_size=1, max_size=4))
def test_rows_round_trip_exactly(batch, suffix, tmp_path):
    path = write_rows(
        tmp_path / f"rows{suffix}",
        [
            episode_row(t, source="train", env="x", step=3, policy_version=t.policy_version)
            for t in batch
        ],
    )
    back = read_rows(path)
    assert [place for place, _ in back] == [f"{path}:{n}" for n in range(1, len(batch) + 1)]
    for original, (_, row) in zip(batch, back, strict=True):
        same(original, row_trajectory(row))
        assert row["reward"] == original.total_reward and row["step"] == 3


def test_empty_and_all_null_columns_keep_their_types(tmp_path):
    import pyarrow.parquet as pq

    endpoint = Trajectory("t1", [], turn_rewards=[1.0], components=[{"completion": 1.0}])
    path = write_rows(tmp_path / "e.parquet", [episode_row(endpoint, source="eval", env="x")])
    schema = pq.read_schema(path)
    assert schema.equals(arrow_schema(), check_metadata=False)
    assert str(schema.field("token_ids").type.value_type) == "int32"
    assert schema.field("token_ids").metadata[b"doc"].decode() == COLUMNS["token_ids"]
    ((_, row),) = read_rows(path)
    assert row["token_ids"] is None and row["success"] is True  # nulls, not fake ids
    assert row_trajectory(row).segments == []
    empty = write_rows(tmp_path / "none.parquet", [])
    assert pq.read_schema(empty).equals(arrow_schema(), check_metadata=False)


def test_datasets_loads_the_parquet_file(tmp_path):
    datasets = pytest.importorskip("datasets")
    traj = Trajectory("t1", [Segment("prompt", (5, 6), False),
                             Segment("assistant", (7, 8), True, (-0.5, -0.25))],
                      turn_rewards=[1.0], components=[{"completion": 1.0}])  # fmt: skip
    path = write_rows(tmp_path / "r.parquet", [episode_row(traj, source="eval", env="x")] * 2)
    dataset = datasets.Dataset.from_parquet(str(path), cache_dir=str(tmp_path / "cache"))
    assert dataset.num_rows == 2 and set(dataset.column_names) == set(COLUMNS)
    assert dataset[0]["token_ids"] == [5, 6, 7, 8] and dataset[0]["loss_mask"] == [0, 0, 1, 1]
    assert dataset[0]["logprobs"] == [None, None, -0.5, -0.25]
    same(traj, row_trajectory(dataset[1]))


def test_writes_are_atomic_and_resume_removes_later_steps(tmp_path, monkeypatch):
    folder = tmp_path / "rollouts"
    row = episode_row(Trajectory("t", [Segment("prompt", (1,), False)]), source="train", env="x")
    for step in (1, 2, 3):
        write_rows(step_path(folder, step), [row | {"step": step}])
    (folder / ".step-000004.parquet.tmp").write_text("torn")  # a kill in mid-write
    assert [p.name for p in remove_steps_after(folder, 2)] == [
        ".step-000004.parquet.tmp", "step-000003.parquet"]  # fmt: skip
    assert [r["step"] for _, r in read_rows(folder)] == [1, 2]

    import pyarrow.parquet as pq

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pq, "write_table", killed)
    with pytest.raises(KeyboardInterrupt):
        write_rows(step_path(folder, 3), [row])
    assert not step_path(folder, 3).exists()  # nothing half-written counts as data
    assert [r["step"] for _, r in read_rows(folder)] == [1, 2]


def test_bad_files_name_the_file_the_row_and_the_fix(tmp_path):
    with pytest.raises(ValueError, match=r"end the path in \.parquet or \.jsonl"):
        check_path(tmp_path / "rows.csv")
    with pytest.raises(ValueError, match="has none"):
        read_rows(tmp_path)
    bad = tmp_path / "bad.jsonl"
    good = episode_row(Trajectory("t", [Segment("prompt", (1, 2), False)]), source="x", env="y")
    bad.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(ValueError, match=rf"{bad}:2: not JSON"):
        read_rows(bad)
    torn = tmp_path / "torn.parquet"
    torn.write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match=rf"{torn}: not a readable Parquet file"):
        read_rows(torn)
    with pytest.raises(ValueError, match="segments cover 2 of 3 tokens"):
        row_trajectory(good | {"token_ids": [1, 2, 3], "loss_mask": [0, 0, 0]})
    with pytest.raises(ValueError, match="loss_mask disagrees"):
        row_trajectory(good | {"loss_mask": [0, 1]})
    with pytest.raises(ValueError, match="missing column"):
        row_trajectory({"task_id": "t"})


def test_which_files_hold_rows(tmp_path):
    rows = write_rows(tmp_path / "a.jsonl", [episode_row(Trajectory("t"), source="x", env="y")])
    conversations = tmp_path / "c.jsonl"
    conversations.write_text('{"messages": []}\n')
    assert is_rows_data(rows) and is_rows_data(tmp_path) and is_rows_data(tmp_path / "x.parquet")
    assert not is_rows_data(conversations)
