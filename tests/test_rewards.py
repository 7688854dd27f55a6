"""Verifier rewards for TRL, verl and OpenRLHF: exact credit, bounded and safe on any completion, loud on bad setup."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.extraction import MAX_ANSWER_CHARS, extract_answer
from curriculum.generate import generate_items
from curriculum.prompts import TEMPLATES
from curriculum.rewards import (
    RewardSetupError,
    RewardTally,
    completion_text,
    compute_score,
    label_of,
    reward_func,
    score_completions,
    trl_reward,
)
from curriculum.skills import REGISTRY

# a few items of every skill at levels 1 and 3: the pool the properties draw from
POOL = [
    row
    for name in sorted(REGISTRY)
    for level in (1, 3)
    for row in generate_items(name, level, 3, seed=11).iter_rows(named=True)
]
items = st.sampled_from(POOL)


def trl_kwargs(rows: list[dict]) -> dict:
    """The columns TRL hands a reward function, one list per column."""
    return {k: [r[k] for r in rows] for k in ("skill", "answer", "question", "item_id", "level")}


def reward_of(row: dict, completion) -> float:
    return trl_reward()(prompts=[row["question"]], completions=[completion], **trl_kwargs([row]))[0]


# -- exact credit ---------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    items,
    st.sampled_from(sorted(TEMPLATES)),
    st.text(st.characters(codec="ascii", exclude_characters="\\{}#`$*"), max_size=80),
)
def test_the_gold_in_any_template_format_earns_one(row, template, preamble):
    preamble = "" if "answer" in preamble.lower() else preamble
    completion = preamble + "\n" + TEMPLATES[template].completion(row["answer"])
    assert reward_of(row, completion) == 1.0
    assert reward_of(row, [{"role": "assistant", "content": completion}]) == 1.0


@settings(max_examples=200, deadline=None)
@given(items, st.text(max_size=300))
def test_reward_is_the_verifier_on_the_extracted_answer(row, text):
    extracted = extract_answer(text)
    expected = extracted is not None and REGISTRY[row["skill"]].verify(row, extracted)
    assert reward_of(row, text) == float(expected)


@pytest.mark.parametrize(
    ("skill", "gold", "completion"),
    [
        ("addition", "42", "It could be 42 or 41.\nAnswer: 41"),  # gold earlier in the text: the final answer counts
        ("addition", "42", "Answer: 42 or 43"),
        ("addition", "42", "Answer: 4242"),
        ("boolean_eval", "True", "Answer: True or False"),
        ("boolean_eval", "True", "True\nFalse"),
        ("comparison", "7", "Answer: 7, 3"),
        ("knights_knaves", "Judy: knave, Heidi: knight", "Answer: Judy: knave, Judy: knight, Heidi: knight"),
        ("fraction_simplify", "3/4", "Answer: 3/4 or 6/8 or 1/2"),
    ],
)
def test_no_partial_credit_for_containing_the_gold(skill, gold, completion):
    row = {"skill": skill, "answer": gold, "question": "", "item_id": "x", "level": 1}
    assert reward_of(row, completion) == 0.0
    assert reward_of(row, f"Answer: {gold}") == 1.0


# -- any completion is safe and bounded -----------------------------------------------------------

HOSTILE = [
    "",
    "   \n\t ",
    None,
    42,
    3.5,
    b"Answer: 1",
    object(),
    [],
    [{}],
    [{"role": "assistant"}],
    [{"role": "assistant", "content": None}],
    [{"role": "user", "content": "Answer: 1"}],
    {"role": "assistant", "content": [{"type": "image"}]},
    "{" * 100_000,
    "\\boxed{" * 20_000,
    "Answer:\n\n\n\n" * 10_000,
    "9" * 100_000,
    "Answer: " + "9" * 100_000,
    "\x00" * 1000,
    "\ud800 Answer: \udfff",
    "Answer: 1e999999",
    "Answer: " + "1/" * 50_000,
    "Answer: " + "(" * 50_000,
    "Answer: __import__('os').system('false')",
]


@pytest.mark.parametrize("completion", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_completions_earn_zero_and_never_raise(completion):
    seen: list[str] = []
    for name, row in {r["skill"]: r for r in POOL}.items():  # every verifier sees each one, bounded
        skill = REGISTRY[name]
        spy = dataclasses.replace(skill, verify=lambda item, ans, _v=skill.verify: seen.append(ans) or _v(item, ans))
        REGISTRY[name] = spy
        try:
            assert reward_of(row, completion) == 0.0
        finally:
            REGISTRY[name] = skill
    assert all(len(a) <= MAX_ANSWER_CHARS for a in seen)


def test_nothing_the_model_writes_is_executed(tmp_path):
    marker = tmp_path / "ran"
    payload = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    for text in (f"Answer: {payload}", f"\\boxed{{{payload}}}", payload):
        for row in POOL[::7]:
            reward_of(row, text)
    assert not marker.exists()


def test_outcomes_are_counted_and_logged():
    row = next(r for r in POOL if r["skill"] == "addition")
    logged: dict[str, list[float]] = {}
    got: list = []
    reward = trl_reward(on_scores=got.extend)
    completions = [f"Answer: {row['answer']}", "Answer: -1", "", None, [{"role": "assistant", "content": "  "}]]
    rewards = reward(
        prompts=[row["question"]] * 5,
        completions=completions,
        **trl_kwargs([row] * 5),
        log_metric=lambda name, value: logged.setdefault(name, []).append(value),
    )
    assert rewards == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert (reward.tally.scored, reward.tally.correct, reward.tally.no_answer) == (5, 1, 3)
    assert reward.tally.per_skill == {"addition": [5, 1]}
    assert logged == {"verifier/accuracy": [0.2], "verifier/no_answer_rate": [0.6]}
    assert [s.outcome for s in got] == ["correct", "wrong", "no_answer", "no_answer", "no_answer"]
    assert {s.item_id for s in got} == {row["item_id"]} and got[0].level == row["level"]


def test_completion_text_reads_standard_and_conversational():
    assert completion_text("x") == "x"
    assert completion_text([{"role": "assistant", "content": "a"}]) == "a"
    assert (
        completion_text(
            [
                {"role": "assistant", "content": "a"},
                {"role": "tool", "content": "t"},
                {"role": "assistant", "content": "b"},
            ]
        )
        == "b"
    )
    assert (
        completion_text(
            [{"role": "assistant", "content": [{"type": "text", "text": "p"}, {"type": "text", "text": "q"}]}]
        )
        == "pq"
    )
    assert completion_text(7) is None


# -- a bad setup fails at once, with one line -----------------------------------------------------


def test_missing_or_unknown_columns_fail_on_the_first_call():
    row = POOL[0]
    kwargs = trl_kwargs([row])
    with pytest.raises(RewardSetupError, match="column 'skill'"):
        trl_reward()(prompts=["q"], completions=["Answer: 1"], answer=kwargs["answer"])
    with pytest.raises(RewardSetupError, match="column 'answer'"):
        trl_reward()(prompts=["q"], completions=["Answer: 1"], skill=kwargs["skill"])
    with pytest.raises(RewardSetupError, match="unknown skill 'additon'; did you mean addition"):
        trl_reward()(prompts=["q"], completions=["Answer: 1"], skill=["additon"], answer=["1"])
    with pytest.raises(RewardSetupError, match="2 values of 'skill' for 1 completions"):
        trl_reward()(prompts=["q"], completions=["x"], skill=["addition"] * 2, answer=["1"] * 2)
    with pytest.raises(RewardSetupError, match="rejects the dataset's own answer"):  # e.g. columns swapped
        trl_reward()(prompts=["q"], completions=["x"], skill=["boolean_eval"], answer=["seven"])
    for err in (RewardSetupError("x"),):
        assert err.exit_code == 2


def test_a_dataset_is_checked_when_the_reward_is_built():
    datasets = pytest.importorskip("datasets")
    rows = [{"prompt": r["question"], "skill": r["skill"], "answer": r["answer"]} for r in POOL[:4]]
    trl_reward(datasets.Dataset.from_list(rows))
    with pytest.raises(RewardSetupError, match="column\\(s\\) 'skill'"):
        trl_reward(datasets.Dataset.from_list([{"prompt": "q", "answer": "1"}]))
    with pytest.raises(RewardSetupError, match="unknown skill 'nope'"):
        trl_reward(datasets.Dataset.from_list(rows + [{"prompt": "q", "skill": "nope", "answer": "1"}]))


# -- verl and OpenRLHF ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(items, st.sampled_from(["Answer: {}", "\\boxed{{{}}}", "wrong", ""]))
def test_verl_compute_score(row, form):
    completion = form.format(row["answer"]) if "{" in form else form
    info = {"item_id": row["item_id"], "skill": row["skill"], "level": row["level"], "question": row["question"]}
    got = compute_score(f"curriculum/{row['skill']}", completion, row["answer"], info)
    assert set(got) == {"score", "acc", "no_answer", "level", "skill"}  # the same keys for every sample
    assert got["score"] == float("{" in form) and got["skill"] == row["skill"] and got["level"] == row["level"]
    assert got["no_answer"] == float(form == "")
    assert compute_score("other", completion, row["answer"], {"skill": row["skill"]})["score"] == got["score"]


def test_verl_unknown_source_fails_clearly():
    with pytest.raises(RewardSetupError, match="not curriculum/<skill>"):
        compute_score("openai/gsm8k", "Answer: 1", "1")
    with pytest.raises(RewardSetupError, match="unknown skill"):
        compute_score("curriculum/nope", "Answer: 1", "1")


def test_openrlhf_reward_func():
    rows = POOL[:3]
    prompts = [f"<|user|>{r['question']}<|assistant|>" for r in rows]
    queries = [p + c for p, c in zip(prompts, [f"Answer: {rows[0]['answer']}", "no idea", ""])]
    labels = [label_of(r["skill"], r["answer"], r["level"], r["item_id"]) for r in rows]
    out = reward_func(queries, prompts, labels)
    assert out["rewards"].tolist() == [1.0, 0.0, 0.0] and out["scores"].tolist() == [1.0, 0.0, 0.0]
    assert abs(float(out["extra_logs"]["no_answer_rate"]) - 1 / 3) < 1e-6
    assert reward_func(queries[:1], prompts[:1], [json.loads(labels[0])])["rewards"].tolist() == [1.0]
    with pytest.raises(RewardSetupError, match="--label_key label"):
        reward_func(queries[:1], prompts[:1], ["42"])


def test_tally_adds_up():
    tally = RewardTally()
    tally.add(score_completions(["addition"] * 2, ["1", "2"], ["Answer: 1", "Answer: 3"]))
    assert (tally.scored, tally.correct, tally.per_skill) == (2, 1, {"addition": [2, 1]})


def answer_variants(row: dict) -> list[str]:
    gold = row["answer"]
    return [
        f"Answer: {gold}",
        f"Answer: {gold}.",
        f"**Answer:** {gold}",
        f"\\boxed{{{gold}}}",
        gold.upper(),
        f"Answer:  {gold} ",
        f"work\n{gold}",
        f"Answer: {gold}0",
        "Answer: ",
        "\x00Answer: 1",
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(items, st.integers(0, 9), st.text(max_size=40)), min_size=1, max_size=12))
def test_a_batch_scores_each_completion_as_it_would_score_alone(rows):
    """score_completions reads a batch in one pass; every row still gets what the verifier says of it alone."""
    batch = [r for r, _, _ in rows]
    completions = [answer_variants(r)[k] if k < 9 else text for r, k, text in rows]
    scores = score_completions(
        [r["skill"] for r in batch],
        [r["answer"] for r in batch],
        completions,
        questions=[r["question"] for r in batch],
        levels=[r["level"] for r in batch],
        item_ids=[r["item_id"] for r in batch],
    )
    for row, completion, score in zip(batch, completions, scores):
        extracted = extract_answer(completion)
        expected = extracted is not None and (
            extracted == row["answer"] or REGISTRY[row["skill"]].verify(row, extracted)
        )
        assert (score.reward, score.extracted, score.skill, score.level) == (
            float(expected),
            extracted,
            row["skill"],
            row["level"],
        )
    assert list(scores.rewards) == [s.reward for s in scores] and len(scores) == len(batch)


def test_columns_of_other_types_read_as_a_score_promises_and_a_raising_verifier_is_counted(monkeypatch):
    """Levels and ids arrive as whatever the trainer's dataset holds; a verifier that raises rejects, counted."""
    row = next(r for r in POOL if r["skill"] == "addition")

    def broken(item, answer):
        raise ValueError("cannot read")

    monkeypatch.setitem(REGISTRY, "addition", dataclasses.replace(REGISTRY["addition"], verify=broken))
    scores = score_completions(
        ["addition"] * 3,
        [row["answer"]] * 3,
        [f"Answer: {row['answer']}", "Answer: x", ""],
        levels=["3", 2.0, None],
        item_ids=[7, None, "a"],
    )
    assert scores.rewards == [1.0, 0.0, 0.0]  # the gold itself needs no verifier
    assert scores.outcomes == ["correct", "verifier_error", "no_answer"]
    assert scores.levels == [3, 2, None] and scores.item_ids == ["7", None, "a"]
    tally = RewardTally()
    tally.add(scores)
    tally.add(list(scores))  # a plain list of Score adds up the same
    assert (tally.scored, tally.correct, tally.no_answer, tally.verifier_errors) == (6, 2, 2, 2)
