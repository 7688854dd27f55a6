"""A local Hugging Face causal LM as a run's learner, trained between tiers by real TRL trainers.

The models are built here (curriculum.tiny_lm, ~90k parameters): nothing is downloaded. Sized for 2 CPU cores.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from curriculum.cli import main
from curriculum.config import parse_config
from curriculum.lifecycle import TierStatus
from curriculum.store import Store
from curriculum.tiny_lm import build_tiny_causal_lm
from tests.conftest import tiny_config_dict
from tests.test_steps import run_tiers

pytest.importorskip("trl")
transformers = pytest.importorskip("transformers")


def hf_raw(data_dir: Path, model: Path, tiers: int = 2, **learner) -> dict:
    """A small comparison run with the hf learner (short prompts, a few dozen steps a tier)."""
    raw = tiny_config_dict(data_dir, tiers=tiers, skills=[{"name": "comparison"}], validation={"data_docs": False})
    raw["learner"] = {
        "kind": "hf",
        "model": str(model),
        "prompt_template": "short",
        "steps_per_tier": 30,
        "batch_size": 16,
        "learning_rate": 3e-3,
        "max_length": 96,
        "max_new_tokens": 12,
        "threads": 1,
    } | learner
    return raw


@pytest.fixture(scope="module")
def base_model(tmp_path_factory) -> Path:
    return build_tiny_causal_lm(tmp_path_factory.mktemp("hf") / "base")


@pytest.fixture(scope="module")
def sft_model(base_model, tmp_path_factory) -> Path:
    """The base model after one SFT tier: it answers in the template's format (a start for GRPO)."""
    data = tmp_path_factory.mktemp("sft") / "data"
    config = parse_config(hf_raw(data, base_model, tiers=1, steps_per_tier=150))
    run_id = run_tiers(config, 1)
    return data / "runs" / run_id / "checkpoints" / "tier-1"


class TrainCalls:
    """Counts real trainer runs (transformers.Trainer.train under SFTTrainer and GRPOTrainer)."""

    def __init__(self, monkeypatch, fail_above_batch: int | None = None) -> None:
        self.calls: list[int] = []
        real = transformers.Trainer.train

        def train(trainer, *args, **kwargs):
            batch = trainer.args.per_device_train_batch_size
            if fail_above_batch is not None and len(self.calls) >= 1 and batch > fail_above_batch:
                import torch

                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
            self.calls.append(batch)
            return real(trainer, *args, **kwargs)

        monkeypatch.setattr(transformers.Trainer, "train", train)


def test_a_whole_run_trains_and_evaluates_an_sft_model(prefect_api, base_model, tmp_path):
    from transformers import AutoModelForCausalLM

    from curriculum.artifacts import key
    from flows.curriculum_flow import curriculum_run
    from tests.test_flow import artifacts_by_key

    config = parse_config(hf_raw(tmp_path / "data", base_model))
    run_id = curriculum_run(config)
    store = Store(config.data_dir)
    assert store.query("SELECT status FROM runs")["status"].item() == "completed"
    tiers = store.query("SELECT tier, status, train_stats FROM tiers ORDER BY tier")
    assert tiers["status"].to_list() == ["complete", "complete"]
    stats = [json.loads(s) for s in tiers["train_stats"]]
    assert [s["method"] for s in stats] == ["sft", "sft"] and [s["steps"] for s in stats] == [30, 30]
    run_dir = tmp_path / "data" / "runs" / run_id
    assert stats[0]["model_before"] == str(base_model)
    assert stats[1]["model_before"] == str(run_dir / "checkpoints" / "tier-1")  # each tier goes on from the last
    assert stats[1]["replay_items"] > 0 and stats[1]["final_loss"] < 1.0
    for tier in (1, 2):  # a checkpoint per tier, in Hugging Face format
        assert AutoModelForCausalLM.from_pretrained(run_dir / "checkpoints" / f"tier-{tier}").num_parameters() > 0
    evals = store.query("SELECT * FROM evaluations")
    assert set(evals["learner"]) == {"hf"} and evals["error"].null_count() == evals.height
    assert evals["latency_ms"].min() > 0 and evals["prompt_tokens"].min() > 10 and evals["completion_tokens"].min() >= 1
    # two tiers of SFT taught the answer format: the extracted answers are numbers
    assert evals.filter(pl.col("tier") == 2)["prediction"].str.contains(r"^\d+$").mean() > 0.8
    assert store.query("SELECT count(*) n FROM decisions")["n"].item() == 2
    progress = artifacts_by_key()[key(run_id, "training")]
    assert len(progress) == 2 and {a.type for a in progress} == {"progress"}


def test_a_grpo_tier_rewards_each_item_with_its_verifier(sft_model, tmp_path):
    raw = hf_raw(
        tmp_path / "data",
        sft_model,
        tiers=1,
        method="grpo",
        steps_per_tier=3,
        batch_size=16,
        num_generations=4,
        max_new_tokens=10,
        learning_rate=1e-4,
    )
    config = parse_config(raw)
    run_id = run_tiers(config, 1)
    store = Store(config.data_dir)
    [stats] = [json.loads(s) for s in store.query("SELECT train_stats FROM tiers")["train_stats"]]
    assert stats["method"] == "grpo" and stats["steps"] == 3 and stats["completions"] == 3 * 16
    rewards = pl.read_parquet(stats["rewards_file"])  # per item: its completions and what they earned
    assert rewards["completions"].sum() == 48 and rewards.height == stats["rewarded_items"] == 3 * 16 // 4
    train_ids = store.query("SELECT item_id FROM items WHERE split = 'train'")["item_id"]
    assert rewards["item_id"].is_in(train_ids.implode()).all()
    assert rewards["correct"].sum() == stats["correct"] > 0  # the SFT start answers some comparisons right
    assert ((rewards["mean_reward"] >= 0) & (rewards["mean_reward"] <= 1)).all()
    decisions = store.query("SELECT * FROM decisions")
    assert decisions.height == 1 and decisions["reason"].str.contains("level").all()
    assert store.tier_status(run_id, 1)[1] is TierStatus.COMPLETE
    assert (tmp_path / "data" / "runs" / run_id / "checkpoints" / "tier-1" / "model.safetensors").is_file()


def test_a_tier_already_trained_is_not_trained_again(base_model, tmp_path, monkeypatch):
    from curriculum import loop, runs, steps
    from curriculum.learners import make_learner

    config = parse_config(hf_raw(tmp_path / "data", base_model, tiers=1, steps_per_tier=4))
    run_id = runs.start_run(config)
    steps.plan_step(config, run_id, 1)
    steps.generate_step(config, run_id, 1)
    steps.validate_step(config, run_id, 1)
    counted = TrainCalls(monkeypatch)
    # a crash after the checkpoint was written but before the tier was marked trained
    items = Store(config.data_dir).tier_items(run_id, 1, 1)
    first = make_learner(config.learner, steps.run_dir(config, run_id), config.seed).train(items, tag="tier-1")
    loop.run_tier(config, run_id, 1)
    assert len(counted.calls) == 1
    stored = json.loads(Store(config.data_dir).query("SELECT train_stats FROM tiers")["train_stats"].item())
    assert stored == first


def test_out_of_memory_leaves_the_tier_validated_and_resume_carries_on(
    prefect_api, base_model, tmp_path, monkeypatch, capsys
):
    data = tmp_path / "data"
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump(hf_raw(data, base_model, steps_per_tier=4, batch_size=8)))
    counted = TrainCalls(monkeypatch, fail_above_batch=4)  # tier 1 trains; tier 2 does not fit at batch 8
    assert main(["run", "--config", str(cfg)]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("curriculum: error: out of memory training tier-2 with batch_size 8")
    assert "curriculum run --resume --batch-size 4" in last
    store = Store(data)
    run = store.query("SELECT status, message FROM runs").row(0, named=True)
    assert run["status"] == "failed" and "out of memory" in run["message"]
    assert store.query("SELECT status FROM tiers ORDER BY tier")["status"].to_list() == ["complete", "validated"]

    assert main(["run", "--resume", "--data-dir", str(data), "--batch-size", "4"]) == 0
    assert store.query("SELECT status FROM runs")["status"].item() == "completed"
    tiers = store.query("SELECT status, train_stats FROM tiers ORDER BY tier")
    assert tiers["status"].to_list() == ["complete", "complete"]
    assert [json.loads(s)["batch_size"] for s in tiers["train_stats"]] == [8, 4]
    assert counted.calls == [8, 4]  # tier 1 was not trained again


@pytest.fixture
def bad_tokenizer_model(base_model, tmp_path) -> Path:
    """The tiny model with a word-level tokenizer that knows no digits: items come back as [UNK]."""
    import shutil

    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from curriculum.tiny_lm import CHAT_TEMPLATE

    path = tmp_path / "words"
    shutil.copytree(base_model, path)
    core = Tokenizer(models.WordLevel({"[UNK]": 0, "<|end|>": 1, "<|begin|>": 2, "Which": 3}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="[UNK]",
        eos_token="<|end|>",
        bos_token="<|begin|>",
        chat_template=CHAT_TEMPLATE,
    ).save_pretrained(path)
    return path


@pytest.mark.parametrize(
    "case, needle",
    [
        ("missing", "learner.model: no model folder at"),
        ("not-causal", "is not a causal language model (T5ForConditionalGeneration)"),
        ("tokenizer", "the tokenizer cannot encode a comparison item"),
        ("method", "learner.hf.method: unknown method 'ppo'; known: sft, grpo"),
        ("no-trl", "the hf learner needs TRL and transformers (trl is not installed): pip install -e '.[trl]'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    case, needle, base_model, bad_tokenizer_model, tmp_path, monkeypatch, capsys
):
    model, learner = base_model, {}
    if case == "missing":
        model = tmp_path / "no-such-model"
    elif case == "not-causal":
        model = tmp_path / "t5"
        model.mkdir()
        (model / "config.json").write_text(
            json.dumps({"model_type": "t5", "architectures": ["T5ForConditionalGeneration"]})
        )
    elif case == "tokenizer":
        model = bad_tokenizer_model
    elif case == "method":
        learner = {"method": "ppo"}
    else:
        monkeypatch.setitem(sys.modules, "trl", None)  # `import trl` fails as when it is not installed
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump(hf_raw(tmp_path / "data", model, **learner)))
    assert main(["run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "data").exists()  # no catalogue, no tier file


def test_the_learner_and_model_flags_pick_a_local_model(tmp_path, capsys):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config_dict(tmp_path / "data")))  # a config for the built-in learner
    assert main(["run", "--config", str(cfg), "--learner", "hf", "--model", str(tmp_path / "nowhere")]) == 2
    assert "no model folder at " + str(tmp_path / "nowhere") in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_init_model_writes_a_model_the_learner_accepts_and_never_overwrites(tmp_path, capsys):
    from curriculum.config import load_config
    from curriculum.learners.hf_checks import check_model

    out = tmp_path / "models" / "tiny"
    assert main(["init-model", str(out), "--hidden-size", "32", "--layers", "1", "--heads", "2"]) == 0
    assert "parameter causal LM" in capsys.readouterr().err
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump(hf_raw(tmp_path / "data", out)))
    check_model(load_config(cfg))  # a causal LM whose tokenizer encodes every item
    assert main(["init-model", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
