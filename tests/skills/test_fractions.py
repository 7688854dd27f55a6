"""fraction_simplify, fraction_add, fraction_compare: gold answers, tolerant verifiers, an independent re-solve."""

from __future__ import annotations

import decimal
import re

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from tests.skills.contract import items

SKILLS = ("fraction_simplify", "fraction_add", "fraction_compare")
LEVELS = st.integers(1, 12)
SEEDS = st.integers(0, 2**32 - 1)


def rational(text: str) -> sympy.Rational:
    num, den = text.split("/") if "/" in text else (text, "1")
    return sympy.Rational(int(num), int(den))


# ---------------------------------------------------------------------------------------------- simplify


@settings(max_examples=40, deadline=None)
@given(level=LEVELS, seed=SEEDS)
def test_simplify_gold_reformatted_and_perturbed(level, seed):
    verify = REGISTRY["fraction_simplify"].verify
    for it in items("fraction_simplify", level, 20, seed):
        gold = it["answer"]
        num, den = map(int, gold.split("/"))
        assert verify(it, gold)
        for ok in (f" {num} / {den} ", f"{num}/{den}.", f"{num}/0{den}", f"{-num}/-{den}", f"({num})/({den})"):
            assert verify(it, ok), ok
        if num > 0:
            assert verify(it, f"+{num}/{den}")
        else:
            assert verify(it, f"- {-num}/{den}")
        for bad in (
            f"{num + 1}/{den}", f"{num}/{den + 1}", f"{-num}/{den}", f"{den}/{num}", f"{2 * num}/{2 * den}",
            str(num / den), "", "abc", f"{num}",
        ):  # fmt: skip
            assert not verify(it, bad), bad


def test_simplify_independent_sympy():
    pattern = re.compile(r"Simplify (-?\d+)/(\d+) to lowest terms\. Give the answer as a fraction a/b\.")
    count = 0
    for level in range(1, 9):
        for it in items("fraction_simplify", level, 130, seed=level):
            m = pattern.fullmatch(it["question"])
            assert m, it["question"]
            value = sympy.Rational(int(m.group(1)), int(m.group(2)))
            assert it["answer"] == f"{value.p}/{value.q}"
            assert value.q > 1 and int(m.group(2)) != value.q  # really a fraction, really reducible
            count += 1
    assert count >= 1000


# ---------------------------------------------------------------------------------------------- add

_ADD_Q = re.compile(r"Compute (.+)\. Give the answer in lowest terms as a/b, or as an integer if it is whole\.")


def _terminating(value: sympy.Rational) -> bool:
    q = int(value.q)
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


@settings(max_examples=40, deadline=None)
@given(level=LEVELS, seed=SEEDS)
def test_add_gold_reformatted_and_perturbed(level, seed):
    verify = REGISTRY["fraction_add"].verify
    for it in items("fraction_add", level, 20, seed):
        gold = it["answer"]
        value = rational(gold)
        assert verify(it, gold)
        assert verify(it, f"{2 * value.p}/{2 * value.q}")  # an equivalent, unreduced form
        assert verify(it, f" {value.p} / {value.q} ")
        assert verify(it, f"{gold}.")
        if value > 0:
            assert verify(it, f"+{gold}")
        if _terminating(value):
            with decimal.localcontext() as ctx:
                ctx.prec = 60
                assert verify(it, str(decimal.Decimal(int(value.p)) / decimal.Decimal(int(value.q))))
        nudged = value - sympy.Rational(1, value.q + 1)
        for bad in (value + 1, nudged, -value if value else 1, value * 2 if value else 2):
            assert not verify(it, f"{bad.p}/{bad.q}" if isinstance(bad, sympy.Rational) else str(bad)), bad
        assert not verify(it, "")
        assert not verify(it, "one half")


def test_add_independent_sympy():
    count = 0
    for level in range(1, 9):
        for it in items("fraction_add", level, 130, seed=100 + level):
            m = _ADD_Q.fullmatch(it["question"])
            assert m, it["question"]
            tokens = m.group(1).split(" ")
            total = rational(tokens[0])
            for op, term in zip(tokens[1::2], tokens[2::2]):
                assert op in "+-"
                total = total + rational(term) if op == "+" else total - rational(term)
            expected = str(total.p) if total.q == 1 else f"{total.p}/{total.q}"
            assert it["answer"] == expected
            assert len(tokens) == 2 * REGISTRY["fraction_add"].params(level).terms - 1
            count += 1
    assert count >= 1000


# ---------------------------------------------------------------------------------------------- compare

_CMP_Q = re.compile(r"Compare (-?\d+/\d+) and (-?\d+/\d+)\. Answer <, > or = \(the sign that makes '(.+)' true\)\.")


@settings(max_examples=40, deadline=None)
@given(level=LEVELS, seed=SEEDS)
def test_compare_gold_reformatted_and_perturbed(level, seed):
    verify = REGISTRY["fraction_compare"].verify
    words = {"<": "less than", ">": "greater than", "=": "equal"}
    flip = {"<": ">", ">": "<", "=": "="}
    for it in items("fraction_compare", level, 21, seed):
        gold = it["answer"]
        left, right = _CMP_Q.fullmatch(it["question"]).group(1, 2)
        assert verify(it, gold) and verify(it, f" {gold} ") and verify(it, f"{gold}.") and verify(it, words[gold])
        assert verify(it, f"{left} {gold} {right}") and verify(it, f"{right} {flip[gold]} {left}")
        for other in {"<", ">", "="} - {gold}:
            assert not verify(it, other)
            assert not verify(it, words[other])
            assert not verify(it, f"{left} {other} {right}")
        if gold == ">":
            assert verify(it, left) and not verify(it, right)
        elif gold == "<":
            assert verify(it, right) and not verify(it, left)
        else:
            assert not verify(it, left)
        assert not verify(it, "") and not verify(it, "maybe")


def test_compare_verifier_without_question_uses_symbols_only():
    verify = REGISTRY["fraction_compare"].verify
    assert verify({"answer": "<"}, "less than")
    assert not verify({"answer": "<"}, "3/4")
    assert not verify({"answer": "<"}, ">")


def test_compare_independent_sympy():
    count = 0
    for level in range(1, 9):
        for it in items("fraction_compare", level, 130, seed=200 + level):
            m = _CMP_Q.fullmatch(it["question"])
            assert m, it["question"]
            a, b = rational(m.group(1)), rational(m.group(2))
            assert m.group(3) == f"{m.group(1)} ? {m.group(2)}"
            expected = "<" if a < b else ">" if a > b else "="
            assert it["answer"] == expected
            if expected == "=":
                assert m.group(1) != m.group(2)  # equal values shown in different forms
            count += 1
    assert count >= 1000


# ---------------------------------------------------------------------------------------------- solvers
# The skills' own solvers (exact ints, parsed from the text) re-derive the gold in test_contract.py; the sympy
# re-solves above stay the second, independent check of the gold itself.


@pytest.mark.parametrize("name", SKILLS)
def test_solver_refuses_unreadable_text(name):
    solve = REGISTRY[name].solve
    own = items(name, 3, 1, seed=1)[0]["question"]
    others = [items(other, 3, 1, seed=1)[0]["question"] for other in SKILLS if other != name]
    for bad in ("", "What is 1/2 + 1/3?", own[:-12], own.replace("/", ":", 1), own.replace(" ", "  ", 1), *others):
        with pytest.raises(ValueError):
            solve({"question": bad})


def test_solvers_refuse_zero_denominators_and_mismatched_echo():
    with pytest.raises(ValueError):
        REGISTRY["fraction_simplify"].solve(
            {"question": "Simplify 4/0 to lowest terms. Give the answer as a fraction a/b."}
        )
    with pytest.raises(ValueError):
        REGISTRY["fraction_add"].solve(
            {"question": "Compute 1/2 + 3/0. Give the answer in lowest terms as a/b, or as an integer if it is whole."}
        )
    with pytest.raises(ValueError):  # the quoted comparison names other fractions
        REGISTRY["fraction_compare"].solve(
            {"question": "Compare 1/2 and 2/3. Answer <, > or = (the sign that makes '1/2 ? 2/5' true)."}
        )


def test_solvers_on_hand_made_questions():
    tail = ". Give the answer in lowest terms as a/b, or as an integer if it is whole."
    cases = [
        ("fraction_simplify", "Simplify -42/56 to lowest terms. Give the answer as a fraction a/b.", "-3/4"),
        ("fraction_add", f"Compute 1/2 + 1/3 - 5/6{tail}", "0"),
        ("fraction_add", f"Compute 7/4 + 9/4{tail}", "4"),
        ("fraction_add", f"Compute 1/6 - 1/2{tail}", "-1/3"),
        ("fraction_compare", "Compare -1/2 and -2/4. Answer <, > or = (the sign that makes '-1/2 ? -2/4' true).", "="),
        ("fraction_compare", "Compare -1/3 and -1/4. Answer <, > or = (the sign that makes '-1/3 ? -1/4' true).", "<"),
    ]
    for name, question, answer in cases:
        assert REGISTRY[name].solve({"question": question}) == answer, question
