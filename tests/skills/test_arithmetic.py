"""Arithmetic skills: gold answers verify, harmless reformattings verify, wrong answers do not, and an
independent re-reading of every question text (a recursive-descent parser for expressions) agrees."""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY, Batch

INT_SKILLS = ["addition", "subtraction", "multiplication", "expression"]
SKILLS = [*INT_SKILLS, "division_remainder"]


def batch(name: str, level: int, n: int, seed: int = 0) -> Batch:
    return REGISTRY[name].generate_batch(np.random.default_rng(seed), level, n)


def item(question: str, answer: str) -> dict:
    return {"question": question, "answer": answer, "params": "{}"}


# ---------------------------------------------------------------- an independent reader of the questions


class _Parser:
    """expr := term (('+' | '-') term)*;  term := factor ('*' factor)*;  factor := INT | '(' expr ')'."""

    def __init__(self, text: str) -> None:
        assert re.fullmatch(r"[0-9+\-*() ]+", text), text
        self.tokens = re.findall(r"\d+|[-+*()]", text)
        self.pos = 0
        self.numbers = 0
        self.depth = self.max_depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> int:
        value = self.expr()
        assert self.pos == len(self.tokens), "trailing tokens"
        return value

    def expr(self) -> int:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> int:
        value = self.factor()
        while self.peek() == "*":
            self.take()
            value *= self.factor()
        return value

    def factor(self) -> int:
        tok = self.take()
        if tok == "(":
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)
            value = self.expr()
            assert self.take() == ")"
            self.depth -= 1
            return value
        assert tok.isdigit(), tok
        self.numbers += 1
        return int(tok)


def independent(name: str, level: int, question: str) -> str:
    """The answer, computed from the question text alone; also checks the question matches the level's knobs."""
    params = REGISTRY[name].params(level)
    if name == "division_remainder":
        m = re.fullmatch(r"Divide (\d+) by (\d+)\. Answer as '<quotient> r <remainder>'\.", question)
        assert m, question
        a, b = int(m[1]), int(m[2])
        assert len(m[1]) == params.dividend_digits and len(m[2]) == params.divisor_digits and b >= 2
        q, r = 0, a
        for shift in range(len(m[1]), -1, -1):  # schoolbook long division by repeated subtraction
            while r >= b * 10**shift:
                r -= b * 10**shift
                q += 10**shift
        assert a == q * b + r and 0 <= r < b
        return f"{q} r {r}"
    assert question.endswith(" =")
    text = question[:-2]
    if name == "expression":
        parser = _Parser(text)
        value = parser.parse()
        assert parser.numbers == params.terms and parser.max_depth == params.nesting
        assert all(1 <= int(x) <= params.max_value for x in re.findall(r"\d+", text))
        return str(value)
    sep = {"addition": " + ", "subtraction": " - ", "multiplication": " * "}[name]
    parts = text.split(sep)
    assert all(re.fullmatch(r"0|[1-9]\d*", p) for p in parts), question
    xs = [int(p) for p in parts]
    if name == "multiplication":
        assert [len(p) for p in parts] == [params.digits_a, params.digits_b]
        return str(xs[0] * xs[1])
    assert len(xs) == params.terms and len(parts[0]) == params.digits
    assert all(len(p) <= params.digits for p in parts)
    return str(xs[0] + sum(xs[1:]) if name == "addition" else xs[0] - sum(xs[1:]))


@pytest.mark.parametrize("name", SKILLS)
def test_independent_check_levels_1_to_8(name: str) -> None:
    checked = 0
    for level in range(1, 9):
        b = batch(name, level, 130, seed=100 + level)
        for q, a in zip(b.questions, b.answers):
            assert independent(name, level, q) == a, (level, q, a)
            checked += 1
    assert checked >= 1000


@pytest.mark.parametrize("name", SKILLS)
@pytest.mark.parametrize("level", [12, 50])
def test_high_levels_generate_and_check(name: str, level: int) -> None:
    b = batch(name, level, 5, seed=level)
    assert len(b.questions) == 5
    for q, a in zip(b.questions, b.answers):
        assert independent(name, level, q) == a
        assert REGISTRY[name].verify(item(q, a), a)


# ---------------------------------------------------------------- verifiers


def int_reformattings(gold: str) -> list[str]:
    g = int(gold)
    forms = [f" {gold} ", f"{gold}.", f"{g:,}", f"{gold}\n"]
    forms += [f"+{gold}", f"00{gold}"] if g >= 0 else [f"- {-g}", f"-00{-g}"]
    return forms


def int_perturbations(gold: str) -> list[str]:
    g = int(gold)
    wrong = [g + 1, g - 1, g + 10, g - 100]
    if g:
        wrong += [-g, 10 * g]
    return [str(w) for w in wrong] + ["", "abc", f"{gold} + 1", f"{gold}1"]


@pytest.mark.parametrize("name", INT_SKILLS)
@settings(max_examples=25, deadline=None)
@given(level=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_int_answers_verify_and_perturbations_fail(name: str, level: int, seed: int) -> None:
    skill = REGISTRY[name]
    b = batch(name, level, 8, seed)
    for q, gold in zip(b.questions, b.answers):
        assert re.fullmatch(r"0|-?[1-9]\d*", gold), gold  # canonical integer
        it = item(q, gold)
        assert skill.verify(it, gold)
        for form in int_reformattings(gold):
            assert skill.verify(it, form), (gold, form)
        for wrong in int_perturbations(gold):
            assert not skill.verify(it, wrong), (gold, wrong)


@settings(max_examples=40, deadline=None)
@given(level=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_division_answers_verify_and_perturbations_fail(level: int, seed: int) -> None:
    skill = REGISTRY["division_remainder"]
    b = batch("division_remainder", level, 8, seed)
    for question, gold in zip(b.questions, b.answers):
        m = re.fullmatch(r"(0|[1-9]\d*) r (0|[1-9]\d*)", gold)
        assert m, gold
        q, r = int(m[1]), int(m[2])
        divisor = int(re.search(r"by (\d+)\.", question)[1])
        it = item(question, gold)
        good = [gold, f"{q} R{r}", f"{q} r{r}", f"{q}r{r}", f"{q} remainder {r}", f"q={q}, r={r}",
                f"Q = {q}, R = {r}", f"quotient {q}, remainder {r}", f" {q}  r  {r}. ", f"0{q} r 0{r}",
                f"{q} rem {r}", f"{q}, remainder {r}", f"{q} R {r}."]
        for form in good:
            assert skill.verify(it, form), (gold, form)
        bad = [f"{q + 1} r {r}", f"{q} r {r + 1}", f"{q - 1} r {r + divisor}", f"{q}", f"{q} {r}",
               f"{q} r", f"r {r}", f"{q + 1} r {r - 1}", "", "nonsense", f"{q}.{r}"]
        if q != r:
            bad.append(f"{r} r {q}")
        if r:
            bad.append(f"{q} r 0")
        for form in bad:
            assert not skill.verify(it, form), (gold, form)


# ---------------------------------------------------------------- determinism, diversity, knobs


@pytest.mark.parametrize("name", SKILLS)
def test_determinism(name: str) -> None:
    assert batch(name, 3, 50, seed=7) == batch(name, 3, 50, seed=7)
    assert batch(name, 3, 50, seed=7).questions != batch(name, 3, 50, seed=8).questions
    one = REGISTRY[name].generate(np.random.default_rng(3), 4)
    assert set(one) == {"question", "answer", "params"}
    assert REGISTRY[name].verify(one, one["answer"])


@pytest.mark.parametrize("name", SKILLS)
def test_diversity_and_balance_at_level_3(name: str) -> None:
    b = batch(name, 3, 300, seed=0)
    assert len(set(b.questions)) >= 0.95 * 300
    assert Counter(b.answers).most_common(1)[0][1] <= 0.6 * 300


def test_subtraction_goes_negative() -> None:
    answers = [int(a) for a in batch("subtraction", 2, 400).answers]
    assert 0.2 < sum(a < 0 for a in answers) / len(answers) < 0.8


def test_expression_uses_all_operators_and_precedence() -> None:
    qs = batch("expression", 3, 300).questions
    assert all(any(op in q for q in qs) for op in (" + ", " - ", " * ", "("))
    # precedence matters somewhere: a left-to-right reading disagrees with the gold answer
    b = batch("expression", 1, 200)
    flat = []
    for q in b.questions:
        toks = q[:-2].split()
        v = int(toks[0])
        for op, x in zip(toks[1::2], toks[2::2]):
            v = v + int(x) if op == "+" else v - int(x) if op == "-" else v * int(x)
        flat.append(str(v))
    assert any(f != a for f, a in zip(flat, b.answers))
    # and the brackets usually matter: dropping them changes the value
    b = batch("expression", 3, 300)
    unbracketed = [_Parser(q[:-2].replace("(", "").replace(")", "")).parse() for q in b.questions]
    assert sum(u != int(a) for u, a in zip(unbracketed, b.answers)) > 0.4 * 300


@pytest.mark.parametrize("name", SKILLS)
def test_params_open_ended_and_growing(name: str) -> None:
    skill = REGISTRY[name]
    dumps = [skill.params(level).model_dump() for level in range(1, 101)]
    assert all(json.loads(skill.params_json(level)) == dumps[level - 1] for level in (1, 50))
    for knob in dumps[0]:
        values = [d[knob] for d in dumps]
        assert values == sorted(values), knob  # never shrinks
    assert any(dumps[-1][k] > dumps[0][k] for k in dumps[0])


def test_addition_still_exact_across_the_int64_boundary() -> None:
    for level in (1, 5, 17, 18, 19, 30):
        b = batch("addition", level, 20, seed=level)
        assert all(independent("addition", level, q) == a for q, a in zip(b.questions, b.answers))


@pytest.mark.parametrize("name", SKILLS)
def test_solver_rederives_gold_and_refuses_other_text(name: str) -> None:
    skill = REGISTRY[name]
    for level in (*range(1, 9), 12, 50):
        b = batch(name, level, 40 if level <= 12 else 5, seed=300 + level)
        for q, a in zip(b.questions, b.answers):
            assert skill.solve(item(q, a)) == a, (level, q, a)
    for bad in ["", "What is love?", "1 + x =", "(1 + 2 =", "1 + 2) =", "1 2 =", "Divide 7 by 0."]:
        with pytest.raises((ValueError, ZeroDivisionError)):
            skill.solve(item(bad, "0"))
