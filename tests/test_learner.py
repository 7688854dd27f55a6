"""The local learner: the loss mask, determinism per seed, learning, and checkpoints that resume."""

from __future__ import annotations

import polars as pl
import pytest

from curriculum.config import LearnerConfig
from curriculum.generate import generate_items
from curriculum.learners import make_learner
from curriculum.learners.tiny_transformer import EOS, decode, encode, make_batch, prompt_of


def learner_config(**kw) -> LearnerConfig:
    base = {"steps_per_tier": 30, "batch_size": 16, "threads": 1,
            "model": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 48}}
    return LearnerConfig.model_validate(base | kw)


def test_encode_decode_round_trip_and_unknown_chars():
    assert decode(encode("12 + 3 = 15")) == "12 + 3 = 15"
    assert decode(encode("é")) == "?"


def test_batch_targets_cover_only_the_answer_and_end_mark():
    x, y = make_batch([prompt_of("1 + 2 =")], [encode("3")], block=32)
    targets = [t for t in y[0].tolist() if t != -1]
    assert targets == encode("3") + [EOS]
    assert x.shape == y.shape


def test_long_prompts_keep_their_end():
    x, y = make_batch([prompt_of("9" * 100 + " =")], [encode("42")], block=16)
    assert x.shape[1] == 16
    assert [t for t in y[0].tolist() if t != -1] == encode("42") + [EOS]


def test_same_seed_same_predictions(tmp_path):
    items = generate_items("addition", 1, 100, seed=0)
    answers = []
    for run in ("a", "b"):
        learner = make_learner(learner_config(), tmp_path / run, seed=3)
        learner.train(items)
        answers.append(learner.answer(items["question"].to_list()[:20]))
    assert answers[0] == answers[1]


def test_learns_a_small_training_set(tmp_path):
    items = generate_items("boolean_eval", 1, 100, seed=0).filter(pl.col("split") == "train").head(12)
    learner = make_learner(learner_config(steps_per_tier=250, learning_rate=1e-2), tmp_path, seed=0)
    stats = learner.train(items)
    assert stats["final_loss"] < 0.2
    got = learner.answer(items["question"].to_list())
    assert sum(g == a for g, a in zip(got, items["answer"].to_list())) >= 10


def test_checkpoint_resumes_where_training_stopped(tmp_path):
    items = generate_items("addition", 1, 100, seed=0)
    first = make_learner(learner_config(), tmp_path, seed=0)
    first.train(items)
    again = make_learner(learner_config(), tmp_path, seed=0)
    assert again.steps_done == 30
    assert again.answer(["1 + 2 ="]) == first.answer(["1 + 2 ="])


def test_training_needs_train_items(tmp_path):
    held = generate_items("addition", 2, 20, seed=0, split="eval")
    with pytest.raises(ValueError, match="no train items"):
        make_learner(learner_config(), tmp_path, seed=0).train(held)
