"""The registry: one algorithm per ``algo`` value, what each needs, and the Trainer composing it."""

import typing

import pytest

from toolgym.train.algos import ALGORITHMS, Algorithm, Needs, Run
from toolgym.train.algos.base import step_metrics
from toolgym.train.config import Algo, TrainConfig
from toolgym.train.loop import Trainer

SMALL = {"env": "toolgym/Search-v0", "model": "tiny", "tasks_per_step": 2, "group_size": 2,
         "max_new_tokens": 6, "eval_tasks": 2, "lr": 1e-3}  # fmt: skip


def test_every_algo_value_has_exactly_one_algorithm():
    assert set(ALGORITHMS) == set(typing.get_args(Algo))
    assert all(issubclass(cls, Algorithm) for cls in ALGORITHMS.values())


@pytest.mark.parametrize(
    ("fields", "needs"),
    [
        ({"algo": "sft", "group_size": 1}, Needs(data="oracle")),
        ({"algo": "sft", "group_size": 1, "sft": {"data": "x.jsonl"}}, Needs(data="jsonl")),
        ({"algo": "grpo"}, Needs()),
        ({"algo": "grpo", "beta": 0.1}, Needs(reference=True)),
        ({"algo": "rloo", "beta": 0.1}, Needs(reference=True)),
        ({"algo": "reinforce"}, Needs()),
        ({"algo": "ppo"}, Needs(critic=True)),
        ({"algo": "ppo", "ppo": {"kl_in_reward": 0.1}}, Needs(reference=True, critic=True)),
        ({"algo": "rest"}, Needs()),
        ({"algo": "online-em"}, Needs(optimizer="online-em")),
        ({"algo": "dagger", "beta": 0.1}, Needs(data="expert")),  # beta is PG's: no reference
        ({"algo": "dpo"}, Needs(reference=True)),
        ({"algo": "dpo", "dpo": {"data": "p.jsonl"}}, Needs(reference=True, data="jsonl")),
    ],
)
def test_each_algorithm_declares_what_it_needs(fields, needs):
    config = TrainConfig.model_validate(fields)
    assert ALGORITHMS[config.algo](config).needs == needs


def test_the_trainer_builds_what_the_algorithm_needs(tmp_path):
    ppo = Trainer(TrainConfig(**SMALL, algo="ppo", beta=0.1, out=tmp_path / "ppo"), progress=False)
    assert ppo.reference is not None and ppo.algorithm.critic is not None
    critic = {id(p) for p in ppo.algorithm.critic.head.parameters()}
    assert critic <= {id(p) for g in ppo.optimizer.param_groups for p in g["params"]}
    em = Trainer(TrainConfig(**SMALL, algo="online-em", out=tmp_path / "em"), progress=False)
    assert type(em.optimizer).__name__ == "OnlineEM" and em.reference is None


class Counting(Algorithm):
    """A toy algorithm: rolls out, takes no step, counts its calls."""

    calls = 0

    def update(self, run: Run, tasks: list[str]) -> dict[str, float]:
        Counting.calls += 1
        rollout = run.rollout(tasks)
        return step_metrics(rollout, {"loss": 0.0}, self.config.group_size)


def test_the_trainer_runs_whatever_the_registry_holds(tmp_path, monkeypatch):
    monkeypatch.setitem(ALGORITHMS, "reinforce", Counting)
    config = TrainConfig(**SMALL, algo="reinforce", steps=2, out=tmp_path / "toy")
    trainer = Trainer(config, progress=False)
    assert isinstance(trainer.algorithm, Counting)
    metrics = trainer.train_step()
    assert Counting.calls == 1 and metrics["loss"] == 0.0 and metrics["episodes"] == 4
