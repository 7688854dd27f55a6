"""Real TRL trainers on an exported tier: SFT (loss on the completion only), then GRPO with the verifier rewards.

The model is built here (curriculum.tiny_lm): nothing is downloaded. Sized for 2 CPU cores.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from curriculum.cli import main
from curriculum.rewards import RewardSetupError, trl_reward
from curriculum.skills import REGISTRY
from curriculum.tiny_lm import TinyLMConfig, build_tiny_causal_lm
from tests.test_steps import run_tiers

trl = pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

COMMON = dict(report_to="none", use_cpu=True, save_strategy="no", dataloader_num_workers=0, seed=0, disable_tqdm=True)


@pytest.fixture(scope="module")
def tier(tmp_path_factory):
    """Tier 1 of a small run (addition and boolean_eval), exported for TRL with the short prompt."""
    from curriculum.config import parse_config
    from tests.conftest import tiny_config_dict

    root = tmp_path_factory.mktemp("trl")
    config = parse_config(tiny_config_dict(root / "data"))
    run_tiers(config, 1)
    out = root / "tier-1.jsonl"
    assert (
        main(
            [
                "export",
                "--format",
                "trl",
                "--data-dir",
                str(root / "data"),
                "--tier",
                "1",
                "--prompt-template",
                "short",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    return datasets.load_dataset("json", data_files=str(out), split="train")


@pytest.fixture(scope="module")
def sft_model(tier, tmp_path_factory):
    """The tiny model after a short SFT on the tier: it states answers in the template's format."""
    root = tmp_path_factory.mktemp("sft")
    base = build_tiny_causal_lm(root / "base", TinyLMConfig(seed=0))
    args = trl.SFTConfig(
        output_dir=str(root / "out"),
        per_device_train_batch_size=16,
        max_steps=60,
        learning_rate=1e-2,
        lr_scheduler_type="constant",
        warmup_steps=5,
        logging_steps=10,
        max_length=128,
        **COMMON,
    )
    trainer = trl.SFTTrainer(model=str(base), args=args, train_dataset=tier)
    first = trainer.train_dataset[0]
    trainer.train()
    trainer.save_model(str(root / "model"))
    trainer.processing_class.save_pretrained(str(root / "model"))
    return root / "model", trainer, first


def test_sft_learns_the_completions_only(sft_model, tier):
    _, trainer, first = sft_model
    labels = trainer.data_collator([first])["labels"][0].tolist()
    tok = trainer.processing_class
    target = [t for t in labels if t != -100]
    # the loss covers exactly the completion (its answer line and end token), not the prompt
    assert tok.decode(target) == tier[0]["completion"][0]["content"] + "<|end|>"
    assert labels[: len(labels) - len(target)] == [-100] * (len(labels) - len(target))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses[-1] < losses[0] / 4


def test_grpo_trains_on_verifier_rewards(sft_model, tier, tmp_path, monkeypatch):
    import torch
    from transformers import AutoModelForCausalLM

    path, _, _ = sft_model
    calls = {"n": 0}
    for name in set(tier["skill"]):  # count what the skills' own verifiers are asked
        skill = REGISTRY[name]

        def spy(item, answer, _verify=skill.verify):
            calls["n"] += 1
            return _verify(item, answer)

        monkeypatch.setitem(REGISTRY, name, dataclasses.replace(skill, verify=spy))
    seen = []
    reward = trl_reward(tier, on_scores=seen.extend)
    calls["n"] = 0  # the dataset check above asked the verifiers too
    steps, batch = 3, 16
    args = trl.GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=batch,
        num_generations=4,
        max_completion_length=16,
        max_steps=steps,
        learning_rate=1e-3,
        logging_steps=1,
        **COMMON,
    )
    before = AutoModelForCausalLM.from_pretrained(path).state_dict()
    trainer = trl.GRPOTrainer(model=str(path), reward_funcs=reward, args=args, train_dataset=tier)
    trainer.train()
    tally = reward.tally
    assert tally.scored == steps * batch == len(seen)
    gold = dict(zip(tier["item_id"], tier["answer"]))
    exact = sum(s.extracted == gold[s.item_id] for s in seen)  # the gold itself needs no verifier call
    assert calls["n"] == tally.scored - tally.no_answer - exact  # every other answer went to its verifier
    assert tally.scored - tally.no_answer > 0
    assert 0 < tally.correct < tally.scored
    assert {s.item_id for s in seen} <= set(tier["item_id"])
    logs = [h for h in trainer.state.log_history if "rewards/verifier_reward/mean" in h]
    assert len(logs) == steps
    mean = sum(h["rewards/verifier_reward/mean"] for h in logs) / steps
    assert abs(mean - tally.correct / tally.scored) < 1e-6
    assert all("verifier/no_answer_rate" in h for h in logs)
    # groups whose completions earned different rewards moved the weights
    assert any(h["frac_reward_zero_std"] < 1 for h in logs)
    after = trainer.model.state_dict()
    assert any(not torch.equal(before[k], after[k].cpu()) for k in before)


def test_grpo_with_a_missing_column_stops_at_the_first_step(sft_model, tier, tmp_path):
    path, _, _ = sft_model
    args = trl.GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=4,
        max_steps=1,
        **COMMON,
    )
    trainer = trl.GRPOTrainer(
        model=str(path), reward_funcs=trl_reward(), args=args, train_dataset=tier.remove_columns(["answer"])
    )
    with pytest.raises(RewardSetupError, match="column 'answer'"):
        trainer.train()
    with pytest.raises(RewardSetupError, match="column\\(s\\) 'answer'"):  # caught before training when built with it
        trl_reward(tier.remove_columns(["answer"]))


def test_grpo_with_the_controller_in_charge(sft_model, tmp_path):
    """TRL's GRPOTrainer on items the online controller hands out; the rewards go back to it, a low threshold
    forces a promotion, and the items the trainer receives move up a level."""
    from curriculum.config import parse_config
    from curriculum.online import OnlineCurriculum
    from curriculum.store import Store
    from tests.conftest import tiny_config_dict

    path, _, _ = sft_model
    raw = tiny_config_dict(tmp_path / "data", tiers=6, skills=[{"name": "boolean_eval"}])
    raw["tier"] = {"train_items_per_skill": 48, "eval_items_per_level": 6}
    raw["policy"] = {"promote_at": 0.05, "demote_below": 0.01, "lookahead": 1}  # forced: any right answer promotes
    online = OnlineCurriculum(parse_config(raw), decide_every=16, template="short")
    received = []
    dataset = online.dataset().map(lambda r: received.append((r["extra_info"]["tier"], r["level"])) or r)
    args = trl.GRPOConfig(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=12,
        max_steps=6,
        learning_rate=1e-3,
        logging_steps=1,
        shuffle_dataset=False,
        **COMMON,
    )
    trainer = trl.GRPOTrainer(model=str(path), reward_funcs=online.reward(), args=args, train_dataset=dataset)
    trainer.train()
    store = Store(online.config.data_dir)
    rewards = store.query("SELECT skill, sum(n) AS n, avg(mean_reward) AS mean FROM skill_rewards GROUP BY skill")
    assert rewards["skill"].to_list() == ["boolean_eval"] and rewards["n"].item() == 6 * 8
    decisions = store.query("SELECT tier, level_before, level_after, action FROM decisions ORDER BY tier")
    assert decisions.height >= 1 and "promote" in decisions["action"].to_list()
    first, last = received[0], received[-1]
    assert last[0] > first[0]  # later items come from a later tier of the plan
    assert Counter(lv for t, lv in received if t == last[0]).most_common(1)[0][0] > 1  # ... around a higher level
