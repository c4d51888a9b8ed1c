"""LoRA via peft: only adapters train, the reference is the adapter switched off, resume, merge."""

import json
import sys

import pytest
import torch

from toolgym.llm import models
from toolgym.settings import parse_sets
from toolgym.tokens.scoring import token_logprobs
from toolgym.train import checkpoint, lora
from toolgym.train.config import LoRAConfig, TrainConfig, load_config
from toolgym.train.loop import Trainer

pytest.importorskip("peft")

SMALL = {"env": "toolgym/Search-v0", "model": "tiny", "tasks_per_step": 2, "group_size": 2,
         "max_new_tokens": 6, "eval_tasks": 2, "lr": 1e-2}  # fmt: skip
LORA = {"r": 4, "alpha": 8}


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def without_timing(row):
    return {k: v for k, v in row.items() if not k.startswith("time_") and k != "seconds"}


def perturb_adapters(model, seed=0):
    """Give every lora_B a random value, so the adapter changes the model's outputs."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.1)


def test_only_adapter_parameters_change_after_a_step(tmp_path):
    config = TrainConfig(**SMALL | {"group_size": 1}, algo="sft", steps=1, lora=LORA,
                         out=tmp_path / "sft")  # fmt: skip
    trainer = Trainer(config, progress=False)
    trainable = {n for n, p in trainer.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    optimised = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    assert optimised == {id(p) for p in trainer.model.parameters() if p.requires_grad}
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    assert trainer.train_step()["grad_norm"] > 0
    changed = {n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and all("lora_B" in n for n in changed)  # B starts at 0, so A's grad is 0
    targets = {n.split(".")[-4] for n in changed}  # ...q_proj.lora_B.default.weight
    assert targets == set(config.lora.target)


def test_ppo_trains_the_adapter_and_the_critic_head_only(tmp_path):
    config = TrainConfig(**SMALL, algo="ppo", steps=1, lora=LORA,
                         rewards={"completion": 1.0, "format": 0.5}, out=tmp_path / "ppo")  # fmt: skip
    trainer = Trainer(config, progress=False)
    head = trainer.algorithm.critic.head.weight.detach().clone()
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train_step()
    changed = {n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and all("lora_" in n for n in changed)
    assert not torch.equal(head, trainer.algorithm.critic.head.weight)


def test_reference_is_the_base_model_with_the_adapter_off_and_no_copy(tmp_path):
    config = TrainConfig(**SMALL, algo="grpo", beta=0.1, steps=1, lora=LORA, out=tmp_path / "g")
    trainer = Trainer(config, progress=False)
    reference = trainer.reference
    assert isinstance(reference, lora.DisabledAdapter)
    assert not isinstance(reference, torch.nn.Module) and reference.model is trainer.model
    perturb_adapters(trainer.model)
    rollout = trainer.rollout(trainer.train_tasks[:2])
    base, _ = models.load("tiny", seed=config.seed)
    with torch.no_grad():
        expected = token_logprobs(base, rollout.batch, config.temperature)
        adapted = token_logprobs(trainer.model, rollout.batch, config.temperature)
    mask = rollout.batch.loss_mask.bool()
    assert mask.any()
    assert torch.allclose(rollout.reference, expected, atol=1e-6)
    assert not torch.allclose(adapted[mask], expected[mask], atol=1e-3)  # the adapter matters
    with torch.no_grad():  # and it is back on after scoring the reference
        again = token_logprobs(trainer.model, rollout.batch, config.temperature)
    assert torch.equal(again, adapted)
    full = Trainer(config.model_copy(update={"lora": LoRAConfig(), "out": tmp_path / "f"}),
                   progress=False)  # fmt: skip
    assert isinstance(full.reference, torch.nn.Module) and full.reference is not full.model


def test_grpo_with_kl_runs_a_step_with_lora(tmp_path):
    config = TrainConfig(**SMALL, algo="grpo", beta=0.1, steps=1, lora=LORA,
                         rewards={"completion": 1.0, "format": 0.5}, out=tmp_path / "g")  # fmt: skip
    trainer = Trainer(config, progress=False)
    perturb_adapters(trainer.model)  # the policy now differs from its reference: the KL pulls
    metrics = trainer.train_step()
    assert metrics["kl"] > 0 and metrics["grad_norm"] > 0


def test_dpo_learns_with_lora_against_the_disabled_adapter(tmp_path):
    def chat(answer):
        return {"messages": [{"role": "user", "content": "Say something."},
                             {"role": "assistant", "content": answer}]}  # fmt: skip

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        "".join(
            json.dumps({"chosen": chat("yes"), "rejected": chat("no")}) + "\n" for _ in range(3)
        )
    )
    config = TrainConfig(**SMALL, algo="dpo", steps=3, lora=LORA, dpo={"data": pairs, "beta": 0.5},
                         out=tmp_path / "dpo")  # fmt: skip
    trainer = Trainer(config, progress=False)
    steps = [trainer.train_step() for _ in range(3)]
    assert steps[0]["loss"] == pytest.approx(0.693147, abs=1e-5)  # the policy is its reference
    assert steps[-1]["loss"] < steps[0]["loss"] and steps[-1]["dpo_margin"] > 0


def test_checkpoint_holds_the_adapter_and_resume_continues_exactly(tmp_path):
    config = TrainConfig(**SMALL, algo="grpo", beta=0.1, steps=4, checkpoint_every=2, lora=LORA,
                         rewards={"completion": 1.0, "format": 0.5}, out=tmp_path / "straight")  # fmt: skip
    straight = Trainer(config, progress=False)
    perturb_adapters(straight.model)  # a KL gradient from the first step on (flat rewards)
    straight.run()
    state = checkpoint.load_latest(tmp_path / "straight")
    assert "model" not in state and state["adapter"]
    assert all("lora_" in key for key in state["adapter"])

    killed_config = config.model_copy(update={"out": tmp_path / "killed"})
    killed = Trainer(killed_config, progress=False)
    perturb_adapters(killed.model)
    for _ in range(2):
        killed._log(killed.train_step())
    killed._save()
    killed._log(killed.train_step())  # in flight when the process died: not checkpointed
    del killed
    resumed = Trainer(killed_config, resume=True, progress=False)
    assert resumed.step == 2
    resumed.run()
    assert [without_timing(r) for r in rows(tmp_path / "killed")] == [
        without_timing(r) for r in rows(tmp_path / "straight")
    ]
    for (name, a), b in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    full = config.model_copy(update={"lora": LoRAConfig(), "out": tmp_path / "killed"})
    with pytest.raises(ValueError, match="holds a LoRA adapter"):
        Trainer(full, resume=True, progress=False)


def test_init_from_a_lora_run_and_the_export_merge_the_adapter(tmp_path):
    from transformers import AutoModelForCausalLM

    config = TrainConfig(**SMALL | {"group_size": 1}, algo="sft", steps=3, lora=LORA,
                         out=tmp_path / "sft")  # fmt: skip
    sft = Trainer(config, progress=False)
    sft.train_step()
    sft.train_step()
    sft._save()
    with torch.no_grad():  # what the adapted policy computes, before any merge
        ids = torch.arange(1, 20)[None]
        adapted = sft.model(input_ids=ids).logits
    follow = Trainer(TrainConfig(**SMALL, steps=1, init=tmp_path / "sft", out=tmp_path / "grpo"),
                     progress=False)  # fmt: skip
    assert not any("lora" in n for n, _ in follow.model.named_parameters())
    assert all(p.requires_grad for p in follow.model.parameters())
    base, _ = models.load("tiny", seed=0)
    assert not torch.equal(follow.model.model.layers[0].self_attn.q_proj.weight,
                           base.model.layers[0].self_attn.q_proj.weight)  # fmt: skip
    with torch.no_grad():
        assert torch.allclose(follow.model(input_ids=ids).logits, adapted, atol=1e-5)

    sft.run()  # the third step, then the export
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "sft" / "merged")
    assert not any("lora" in n for n, _ in merged.named_parameters())
    for (name, a), b in zip(
        sft.model.state_dict().items(), merged.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    assert (tmp_path / "sft" / "merged" / "tokenizer.json").is_file()


def test_init_from_a_lora_run_that_itself_started_from_a_run(tmp_path):
    first = Trainer(TrainConfig(**SMALL | {"group_size": 1}, algo="sft", steps=1,
                                out=tmp_path / "a"), progress=False)  # fmt: skip
    first.run()
    second = Trainer(TrainConfig(**SMALL | {"group_size": 1}, algo="sft", steps=1, lora=LORA,
                                 init=tmp_path / "a", out=tmp_path / "b"), progress=False)  # fmt: skip
    second.run()  # merged in place at the end: the full weights of run b
    third = Trainer(TrainConfig(**SMALL, steps=1, init=tmp_path / "b", out=tmp_path / "c"),
                    progress=False)  # fmt: skip
    for a, b in zip(
        second.model.state_dict().values(), third.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def test_cli_overrides_reach_the_lora_table():
    config = load_config(None, parse_sets(["lora.r=16", "lora.alpha=32", 'lora.target=["q_proj"]']))
    assert (config.lora.r, config.lora.alpha, config.lora.target) == (16, 32.0, ["q_proj"])
    assert TrainConfig().lora.r == 0  # off by default
    assert json.loads(config.model_dump_json())["lora"]["r"] == 16


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lora": {"r": 8}, "freeze_layers": 1}, "freeze_layers and lora.r > 0 do not combine"),
        ({"lora": {"r": -1}}, "greater than or equal to 0"),
        ({"lora": {"r": 8, "rank": 4}}, "Extra inputs are not permitted"),
        ({"lora": {"r": 8, "dropout": 1.0}}, "less than 1"),
        ({"lora": {"r": 8, "target": []}}, "at least 1 item"),
    ],
)
def test_bad_lora_config_is_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        load_config(None, overrides)


def test_unknown_target_module_is_refused_naming_the_model_layers(tmp_path):
    config = TrainConfig(**SMALL, lora={"r": 4, "target": ["c_attn"]}, out=tmp_path / "x")
    with pytest.raises(ValueError, match=r"lora.target names \['c_attn'\].*q_proj"):
        Trainer(config, progress=False)


def test_missing_peft_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "peft", None)  # `import peft` now raises ImportError
    config = TrainConfig(**SMALL, lora=LORA, out=tmp_path / "x")
    with pytest.raises(ImportError, match=r"pip install toolgym\[lora\]"):
        Trainer(config, progress=False)
    assert lora.apply(models.tiny_model(), config.lora.model_copy(update={"r": 0})) is None
