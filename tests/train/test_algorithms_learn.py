"""Every ``--algo`` trains the tiny random model on a toy env through the Trainer and improves it.

The toy env (one question, no tools, success = the answer contains the letter 's') is registered
here so the runs go through ``gym.make`` exactly as a user's env does. The tiny model starts near
50% (see algos/test_grpo.py); each run has a fixed seed, so its curve is the same on every machine.
"""

import json

import gymnasium as gym
import pytest
from pydantic import BaseModel

from toolgym import Task, ToolEnv, ToolSuite
from toolgym.train.config import TrainConfig
from toolgym.train.loop import Trainer
from toolgym.users.config import UserConfig

TOY = "toolgym-test/ToyLetter-v0"


class Nothing(BaseModel):
    pass


def make_toy(split: str = "train", user=None, rewards=None, **_) -> ToolEnv:
    suite = ToolSuite("toy", Nothing, (), lambda seed: Nothing(), instructions="Answer briefly.")
    task = Task(
        id=f"toy-{split}",
        suite="toy",
        instruction="Say something.",
        required_outputs=["s"],
        gold_answer="s",  # the expert's (and the oracle's) answer: DAgger and SFT clone it
    )
    simulator = user.build() if isinstance(user, UserConfig) else user
    return ToolEnv(suite, [task], user=simulator, rewards=rewards or {"completion": 1.0})


if TOY not in gym.registry:
    gym.register(TOY, entry_point=make_toy)

BASE = {"env": TOY, "model": "tiny", "max_new_tokens": 4, "max_tokens": 512, "eval_tasks": 1,
        "checkpoint_every": 1000, "seed": 3, "lr": 2e-2}  # fmt: skip

# Per-algorithm settings: the rollout-based ones see 16 samples per step.
ALGOS = {
    "grpo": {"tasks_per_step": 1, "group_size": 16},
    "rloo": {"tasks_per_step": 1, "group_size": 16},
    "ppo": {"tasks_per_step": 1, "group_size": 16, "lr": 1e-2},
    "rest": {"tasks_per_step": 1, "group_size": 16, "rest": {"top_m": 4}},
    "online-em": {"tasks_per_step": 1, "group_size": 16, "lr": 0.5},
    "dagger": {"tasks_per_step": 1, "group_size": 16, "dagger": {"batch": 16}},
    "dpo": {"tasks_per_step": 4, "group_size": 4, "dpo": {"beta": 0.5}},
}


def rewards_by_step(run_dir):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["reward_mean"] for r in rows if "reward_mean" in r and not r.get("final")]


@pytest.mark.parametrize("algo", sorted(ALGOS))
def test_each_algorithm_improves_the_toy_reward(algo, tmp_path):
    config = TrainConfig(**BASE | ALGOS[algo], algo=algo, steps=25, out=tmp_path / algo)
    Trainer(config, progress=False).run()
    curve = rewards_by_step(tmp_path / algo)
    first, last = sum(curve[:5]) / 5, sum(curve[-5:]) / 5
    assert last > first + 0.3, (algo, [round(r, 2) for r in curve])


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def without_timing(row):
    return {k: v for k, v in row.items() if not k.startswith("time_") and k != "seconds"}


@pytest.mark.parametrize("algo", ["dagger", "online-em", "rest", "dpo"])
def test_resume_continues_exactly(algo, tmp_path):
    """A run killed after step 2 and resumed logs what the straight run logged (DAgger's
    aggregate and online EM's averages are in the checkpoint)."""
    fields = BASE | ALGOS[algo] | {"group_size": 4, "eval_tasks": 1, "checkpoint_every": 2}
    config = TrainConfig(**fields, algo=algo, steps=4, out=tmp_path / "straight")
    Trainer(config, progress=False).run()
    killed_config = config.model_copy(update={"out": tmp_path / "killed"})
    killed = Trainer(killed_config, progress=False)
    for _ in range(2):
        killed._log(killed.train_step())
    killed._save()
    killed._log(killed.train_step())  # in flight when the process died
    del killed
    resumed = Trainer(killed_config, resume=True, progress=False)
    assert resumed.step == 2 and resumed.episodes == 2 * config.tasks_per_step * config.group_size
    if algo == "dagger":
        assert len(resumed.algorithm.aggregate) == rows(tmp_path / "straight")[1]["dataset_size"]
    resumed.run()
    assert [without_timing(r) for r in rows(tmp_path / "killed")] == [
        without_timing(r) for r in rows(tmp_path / "straight")
    ]


def test_cli_trains_dagger_and_logs_the_aggregate(tmp_path):
    from typer.testing import CliRunner

    from toolgym.cli import app

    out = tmp_path / "run"
    args = ["train", "--env", TOY, "--model", "tiny", "--algo", "dagger", "--steps", "2", "--out", str(out),
            "--set", "group_size=2", "--set", "tasks_per_step=1", "--set", "max_new_tokens=4", "--no-progress"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    logged = rows(out)
    assert [r["episodes"] for r in logged[:2]] == [2, 4]
    assert [r["states_added"] for r in logged[:2]] == [2, 2]  # one turn per toy episode
    assert [r["dataset_size"] for r in logged[:2]] == [2, 4]
    assert "expert_agreement" in logged[1]  # its value is checked by hand in algos/test_dagger.py


def test_dpo_from_a_file_of_pairs(tmp_path):
    def chat(answer):
        return {"messages": [{"role": "user", "content": "Say something."},
                             {"role": "assistant", "content": answer}]}  # fmt: skip

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        "".join(
            json.dumps({"chosen": chat("yes"), "rejected": chat("no")}) + "\n" for _ in range(3)
        )
    )
    config = TrainConfig(**BASE | {"lr": 1e-3}, algo="dpo", steps=3, tasks_per_step=2,
                         dpo={"data": pairs, "beta": 0.5}, out=tmp_path / "dpo")  # fmt: skip
    trainer = Trainer(config, progress=False)
    assert trainer.train_tasks == ["pairs.jsonl:1", "pairs.jsonl:2", "pairs.jsonl:3"]
    steps = [trainer.train_step() for _ in range(3)]
    assert steps[0]["loss"] == pytest.approx(0.693147, abs=1e-5)  # the policy is its reference
    assert [round(s["loss"], 4) for s in steps] == sorted(round(s["loss"], 4) for s in steps)[::-1]
    assert steps[-1]["dpo_accuracy"] == 1.0 and steps[-1]["dpo_margin"] > 0
    assert [s["pairs"] for s in steps] == [2, 2, 2] and steps[-1]["episodes"] == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"algo": "dpo", "group_size": 1}, "algo=dpo pairs samples of a task"),
        ({"algo": "grpo", "dpo": {"data": "p.jsonl"}}, "dpo is read by algo='dpo' only"),
        ({"algo": "online-em", "online_em": {"alpha": 0.5}}, "online_em.alpha"),
        ({"algo": "rest", "rest": {"top_m": 0}}, "rest.top_m"),
    ],
)
def test_bad_algorithm_settings_are_refused(fields, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        TrainConfig(**BASE | fields)


class NoExpert(ToolEnv):
    expert_message = None  # an env that cannot label states


def test_dagger_on_an_env_without_an_expert_is_refused(tmp_path):
    if "toolgym-test/NoExpert-v0" not in gym.registry:
        gym.register(
            "toolgym-test/NoExpert-v0",
            entry_point=lambda **kw: NoExpert(make_toy(**kw).suite, make_toy(**kw).tasks),
        )
    config = TrainConfig(**BASE | {"env": "toolgym-test/NoExpert-v0"}, algo="dagger", out=tmp_path)
    with pytest.raises(ValueError, match="algo=dagger labels states with the env's expert_message"):
        Trainer(config, progress=False)
