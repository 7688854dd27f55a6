"""The local learner: the loss mask, determinism per seed, learning, and checkpoints that resume."""

from __future__ import annotations

import polars as pl
import pytest

from curriculum.config import LearnerConfig
from curriculum.generate import generate_items
from curriculum.learners import make_learner
from curriculum.learners.tiny_transformer import (
    EOS,
    SPACE,
    VOCAB_SIZE,
    MatchHead,
    TinyGPTConfig,
    decode,
    encode,
    encode_words,
    make_batch,
    prompt_of,
)


def learner_config(**kw) -> LearnerConfig:
    base = {
        "steps_per_tier": 30,
        "batch_size": 16,
        "threads": 1,
        "model": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 48},
    }
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


def test_words_are_one_token_and_spaces_beside_them_carry_nothing():
    ids = encode_words("Is 12 34 larger than 1234?", buckets=64)
    words = [i for i in ids if i >= VOCAB_SIZE]
    assert len(words) == 3 and all(VOCAB_SIZE <= i < VOCAB_SIZE + 64 for i in words)
    assert decode([i for i in ids if i < VOCAB_SIZE]) == "12 341234?"  # "12 34" keeps its space, the words none
    assert encode_words("all wugs", 64)[1] == encode_words("no wugs", 64)[1]  # one word, one token, anywhere
    assert encode_words("A ∪ B", 64)[1] >= VOCAB_SIZE  # a char outside printable ASCII is read, not lost as "?"
    cfg = TinyGPTConfig(block_size=32, word_buckets=64, answer_room=8)
    long = cfg.prompt("word " * 100 + "=")
    assert len(long) == 32 - 8 and long[-2:] == [*encode("="), SPACE]  # the end of a long prompt is kept


@pytest.mark.parametrize("word_buckets", [0, 4096])
def test_items_longer_than_the_block_are_answered_as_they_were_learnt(tmp_path, word_buckets):
    """A prompt too long for the block loses its start in training and in answering alike."""
    items = generate_items("boolean_eval", 1, 100, seed=0).filter(pl.col("split") == "train").head(12)
    items = items.with_columns(("Not binds tightest: " + pl.col("question")).alias("question"))
    config = learner_config(steps_per_tier=250, learning_rate=1e-2)
    config = config.model_copy(update={"model": config.model.model_copy(update={"word_buckets": word_buckets})})
    learner = make_learner(config, tmp_path, seed=0)
    stats = learner.train(items)
    assert stats["final_loss"] < 0.2
    got = learner.answer(items["question"].to_list())
    assert sum(g == a for g, a in zip(got, items["answer"].to_list())) >= 11


def test_a_char_level_checkpoint_still_loads(tmp_path):
    items = generate_items("addition", 1, 100, seed=0)
    chars = learner_config()
    chars = chars.model_copy(update={"model": chars.model.model_copy(update={"word_buckets": 0})})
    first = make_learner(chars, tmp_path, seed=0)
    first.train(items)
    again = make_learner(learner_config(), tmp_path, seed=0)  # a config that reads words, on a char checkpoint
    assert again.model_cfg.word_buckets == 0 and again.steps_done == 30
    assert again.answer(["1 + 2 ="]) == first.answer(["1 + 2 ="])


def test_the_match_head_reads_earlier_copies_of_a_token_and_nothing_later():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    head = MatchHead(TinyGPTConfig(n_embd=64))
    vocab = torch.randn(10, 64)
    tok = vocab[torch.tensor([[3, 5, 3, 7, 5, 3]])]  # a b a c b a
    w = head.weights(tok)[0]
    assert torch.all(w.triu() == 0)  # never itself, never a later position
    assert w[0].sum() == 0  # the first position has nothing before it: all on the null slot
    assert w[2, 0] > 0.9 and w[4, 1] > 0.9  # the one earlier twin takes nearly all
    assert w[5, 0] > 0.4 and w[5, 2] > 0.4  # two earlier twins share it
    assert w[3].sum() < 0.1 and w[1].sum() < 0.1  # no earlier twin: it reads next to nothing


def test_a_checkpoint_from_before_the_match_head_still_loads(tmp_path):
    torch = pytest.importorskip("torch")
    items = generate_items("addition", 1, 100, seed=0)
    plain = learner_config()
    plain = plain.model_copy(update={"model": plain.model.model_copy(update={"match_head": False})})
    first = make_learner(plain, tmp_path, seed=0)
    first.train(items)
    ckpt = torch.load(first.path, weights_only=False)
    del ckpt["model_args"]["match_head"]  # as such a checkpoint was written
    torch.save(ckpt, first.path)
    again = make_learner(learner_config(), tmp_path, seed=0)  # today's config asks for the head
    assert not again.model_cfg.match_head and again.model.match is None and again.steps_done == 30
    assert again.answer(["1 + 2 ="]) == first.answer(["1 + 2 ="])


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


def test_prompts_longer_than_the_room_are_reported_per_skill_and_level():
    """A prompt past the block loses its start silently in training; the learner says where that happens."""
    import polars as pl

    from curriculum.learners.tiny_transformer import TinyGPTConfig

    cfg = TinyGPTConfig(block_size=32, word_buckets=64, answer_room=8)  # prompt room: 23 tokens
    items = pl.DataFrame(
        {
            "skill": ["a", "a", "a", "b"],
            "level": [1, 2, 2, 1],
            "question": ["one two three", "word " * 30, "short", "x y"],
        }
    )
    assert cfg.prompts_cut(items) == {"a L2": 0.5}
    assert cfg.prompts_cut(items.select("question")) == {"all": 0.25}
