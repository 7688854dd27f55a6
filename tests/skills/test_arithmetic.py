"""Arithmetic skills: gold answers verify, harmless reformattings verify, wrong answers do not, and an
independent re-reading of every question text (a recursive-descent parser for expressions) agrees."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from tests.skills.contract import assert_second_method_agrees, batch

INT_SKILLS = ["addition", "subtraction", "multiplication", "expression"]
SKILLS = [*INT_SKILLS, "division_remainder"]


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
    assert_second_method_agrees(name, lambda level, q: independent(name, level, q), seed=100)


@pytest.mark.parametrize("name", SKILLS)
def test_independent_check_at_high_levels(name: str) -> None:
    assert_second_method_agrees(name, lambda level, q: independent(name, level, q), levels=(12, 50), n=5, min_items=10)


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
        good = [
            gold,
            f"{q} R{r}",
            f"{q} r{r}",
            f"{q}r{r}",
            f"{q} remainder {r}",
            f"q={q}, r={r}",
            f"Q = {q}, R = {r}",
            f"quotient {q}, remainder {r}",
            f" {q}  r  {r}. ",
            f"0{q} r 0{r}",
            f"{q} rem {r}",
            f"{q}, remainder {r}",
            f"{q} R {r}.",
        ]
        for form in good:
            assert skill.verify(it, form), (gold, form)
        bad = [
            f"{q + 1} r {r}",
            f"{q} r {r + 1}",
            f"{q - 1} r {r + divisor}",
            f"{q}",
            f"{q} {r}",
            f"{q} r",
            f"r {r}",
            f"{q + 1} r {r - 1}",
            "",
            "nonsense",
            f"{q}.{r}",
        ]
        if q != r:
            bad.append(f"{r} r {q}")
        if r:
            bad.append(f"{q} r 0")
        for form in bad:
            assert not skill.verify(it, form), (gold, form)


# ---------------------------------------------------------------- family specifics


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


def test_addition_still_exact_across_the_int64_boundary() -> None:
    def answer_of(level: int, question: str) -> str:
        return independent("addition", level, question)

    assert_second_method_agrees("addition", answer_of, levels=(1, 5, 17, 18, 19, 30), n=20, min_items=120)


@pytest.mark.parametrize("name", SKILLS)
def test_solver_refuses_other_text(name: str) -> None:
    skill = REGISTRY[name]
    for bad in ["", "What is love?", "1 + x =", "(1 + 2 =", "1 + 2) =", "1 2 =", "Divide 7 by 0."]:
        with pytest.raises((ValueError, ZeroDivisionError)):
            skill.solve(item(bad, "0"))
