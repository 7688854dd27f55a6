"""boolean_eval: each formula re-read from its text and evaluated by Python's own parser (`ast`), after
bracketing every `not` of a constant (Python's `not` binds looser than `!=`, the test's spelling of xor); the
skill's own recursive-descent solver is checked against it. Every formula reads one way only: a negated constant
on the left of a binary operator is bracketed, so no reading of how `not` binds changes an answer."""

from __future__ import annotations

import ast
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from tests.skills.contract import assert_second_method_agrees, batch

SKILL = REGISTRY["boolean_eval"]
_NOT_ATOM = re.compile(r"\bnot (True|False)\b")
_LOOSE_NOT = re.compile(r"(?:^|\()not (?:True|False) (?:and|or|xor)\b")  # reads two ways


def by_python(question: str) -> str:
    """Evaluate with Python's expression parser: `xor` becomes `!=` and each `not` of a constant is bracketed."""
    assert question.endswith(" ="), question
    text = _NOT_ATOM.sub(r"(not \1)", question[:-2]).replace(" xor ", " != ")

    def value(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not value(node.operand)
        if isinstance(node, ast.BoolOp):
            assert len(node.values) == 2, "an unbracketed chain"
            a, b = (value(v) for v in node.values)
            return (a and b) if isinstance(node.op, ast.And) else (a or b)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.NotEq):
            return value(node.left) != value(node.comparators[0])
        raise AssertionError(f"unexpected {ast.dump(node)}")

    return str(value(ast.parse(text, mode="eval").body))


def test_independent_python_evaluation():
    assert_second_method_agrees("boolean_eval", lambda _, q: by_python(q), seed=600)


def test_high_levels_are_exact():
    assert_second_method_agrees("boolean_eval", lambda _, q: by_python(q), levels=(12, 50), n=5, min_items=10)


def test_every_formula_reads_one_way():
    """No negated constant stands unbracketed on the left of a binary operator, where `not` could bind either way."""
    negated = 0
    for level in (1, 2, 4, 9):
        for q in batch("boolean_eval", level, 200).questions:
            assert not _LOOSE_NOT.search(q), q
            negated += "(not True) " in q or "(not False) " in q
    assert negated >= 50


def test_by_hand():
    cases = {
        "(not False) or True =": "True",
        "not (True or True) =": "False",
        "(not True) xor True =": "True",
        "True or not True =": "True",  # a negated right operand reads one way
        "((not True) and False) or not False =": "True",
    }
    for text, want in cases.items():
        assert SKILL.solve({"question": text}) == want == by_python(text), text


@settings(max_examples=40, deadline=None)
@given(level=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_verifier(level: int, seed: int) -> None:
    b = batch("boolean_eval", level, 6, seed)
    for q, a in zip(b.questions, b.answers):
        item = {"question": q, "answer": a}
        for ok in (a, a.lower(), a.upper(), f" {a}. ", a[0]):
            assert SKILL.verify(item, ok), ok
        other = "False" if a == "True" else "True"
        for bad in (other, other.lower(), "", "maybe"):
            assert not SKILL.verify(item, bad), bad


def test_skill_solve_refuses_unreadable_or_ambiguous_text():
    own = batch("boolean_eval", 3, 1).questions[0]
    bad = [
        "", "True", own[:-2],  # no " =" at the end
        "not False or True =",  # (not False) or True, or not (False or True)?
        "True and False or True =",  # which binary operator binds first?
        "True and =", "(True or False =", "maybe =",
    ]  # fmt: skip
    for question in bad:
        with pytest.raises(ValueError):
            SKILL.solve({"question": question})
