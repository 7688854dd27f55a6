"""A skill's vector solver (`solve_batch`) says what `solve` says, text by text, or leaves the text to it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.generate import generate_items
from curriculum.skills import REGISTRY, get_skill

BATCHED = sorted(name for name, skill in REGISTRY.items() if skill.solve_batch is not None)


def solved_one_by_one(name: str, questions: list[str]) -> list[str | None]:
    out = []
    for question in questions:
        try:
            out.append(get_skill(name).solve({"question": question}))
        except Exception:
            out.append(None)
    return out


def agrees(name: str, questions: list[str], **kwargs) -> list[str | None]:
    batch = get_skill(name).solve_batch(questions, **kwargs)
    alone = solved_one_by_one(name, questions)
    assert len(batch) == len(questions)
    for question, got, want in zip(questions, batch, alone):
        assert got is None or got == want, (question, got, want)
    return batch


def test_some_skills_have_vector_solvers():
    assert {"expression", "primality"} <= set(BATCHED)


@pytest.mark.parametrize("name", BATCHED)
@pytest.mark.parametrize("level", [1, 2, 3, 4, 5, 8, 20])
def test_generated_items_solved_alike(name, level):
    questions = generate_items(name, level, 3000, seed=level)["question"].to_list()
    batch = agrees(name, questions)
    if level <= 2:  # the low levels are what the vector path is for: it serves all of them
        assert None not in batch


_EXPRESSION_TOKENS = st.sampled_from(
    ["1", "0", "7", "42", "007", "9" * 12, "9" * 19, "+", "-", "*", "(", ")", " ", "٣", "x"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_EXPRESSION_TOKENS, max_size=12).map(lambda t: " ".join(t) + " ="), min_size=1, max_size=40))
def test_expression_texts_of_any_shape(questions):
    agrees("expression", questions, min_group=1)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 3).map(str), min_size=1, max_size=50), st.integers(1, 40))
def test_expression_shapes_repeated_with_other_numbers(ops, copies):
    # one shape many times, numbers near the int64 edge included: the overflow bound decides, not luck
    shape = "(# * # - #) * # + # =" if len(ops) % 2 else "# * # * # * # - # ="
    numbers = ["3037000499", "4294967296", "1", "0", "123456789012345678"]
    questions = []
    for i in range(copies):
        text = shape
        for j in range(shape.count("#")):
            text = text.replace("#", numbers[(i + j + int(ops[j % len(ops)])) % len(numbers)], 1)
        questions.append(text)
    agrees("expression", questions, min_group=1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 10**8).map(lambda n: f"Is {n} a prime number? Answer yes or no."),
            st.integers(0, 10**5).map(lambda n: f"Is {n:07d} a prime number? Answer yes or no."),
            st.text(max_size=60),
            st.just("Is ٣ a prime number? Answer yes or no."),
            st.just("Is 7 a prime number? Answer yes or no.\n"),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_primality_texts_of_any_kind(questions):
    agrees("primality", questions)


@pytest.mark.parametrize("name", BATCHED)
def test_the_gate_on_the_vector_path_still_refuses_every_wrong_gold(name):
    import polars as pl

    from curriculum.verify import gold_checks

    items = pl.concat([generate_items(name, level, 400, seed=3) for level in (1, 3, 6)])
    wrong = [i % 7 == 0 for i in range(items.height)]
    flipped = {"yes": "no", "no": "yes"}
    answers = [(flipped.get(a) or str(int(a) + 1)) if bad else a for a, bad in zip(items["answer"].to_list(), wrong)]
    checked = gold_checks(items.with_columns(pl.Series("answer", answers)))
    assert checked == [not bad for bad in wrong]
    spaced = items.with_columns(pl.col("answer").str.replace(r"^", " "))  # a harmless variant: the verifier decides
    assert all(gold_checks(spaced))


def test_a_vector_solver_that_fails_leaves_the_rows_to_the_solver(monkeypatch):
    import dataclasses

    from curriculum.verify import gold_checks

    def broken(questions):
        raise RuntimeError("boom")

    items = generate_items("expression", 2, 200, seed=1)
    monkeypatch.setitem(REGISTRY, "expression", dataclasses.replace(get_skill("expression"), solve_batch=broken))
    assert all(gold_checks(items))
    wrong = items.with_columns(answer=items["answer"] + "1")
    assert not any(gold_checks(wrong))
