"""Boolean formula evaluation: constants joined by and/or/xor/not, nested deeper at each level.

Every formula reads one way only, whichever precedence a reader assumes: a binary operand that is itself
compound is bracketed, and so is a negated constant on the left of a binary operator ("(not False) or True",
never "not False or True", which the two common readings of `not` evaluate differently). The solver refuses a
formula that leaves either to convention.
"""

from __future__ import annotations

import random

import numpy as np

from curriculum.skills.answers import verify_bool
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

_OPS = ("and", "or", "xor")


class BooleanParams(Knobs):
    operators: int  # binary operators in the formula
    negation_rate: float


def boolean_params(level: int) -> BooleanParams:
    return BooleanParams(operators=level, negation_rate=0.25)


def _formula(r: random.Random, operators: int, neg: float) -> tuple[str, bool]:
    """A random formula with exactly `operators` binary operators, and its value."""
    if operators == 0:
        value = r.random() < 0.5
        text = "True" if value else "False"
    else:
        left_ops = r.randint(0, operators - 1)
        lt, lv = _formula(r, left_ops, neg)
        rt, rv = _formula(r, operators - 1 - left_ops, neg)
        op = r.choice(_OPS)
        value = (lv and rv) if op == "and" else (lv or rv) if op == "or" else (lv != rv)
        lt = f"({lt})" if left_ops or lt.startswith("not ") else lt  # "(not True) or ..." reads one way only
        rt = f"({rt})" if operators - 1 - left_ops else rt
        text = f"{lt} {op} {rt}"
    if r.random() < neg:
        text = f"not {text}" if operators == 0 else f"not ({text})"
        value = not value
    return text, value


def generate_boolean(rng: np.random.Generator, level: int, n: int) -> Batch:
    """Balanced: half the items are True, half False (rejection sampling on the drawn value)."""
    p = boolean_params(level)
    r = random.Random(int(rng.integers(2**63)))
    want = [i % 2 == 0 for i in range(n)]
    r.shuffle(want)
    questions, answers, steps = [], [], []
    for target in want:
        while True:
            text, value = _formula(r, p.operators, p.negation_rate)
            if value == target:
                break
        questions.append(f"{text} =")
        answers.append("True" if value else "False")
        steps.append(p.operators + text.count("not "))
    return Batch(questions, answers, with_difficulty(p, steps))


def evaluate_formula(text: str) -> bool:
    """Recursive-descent evaluation of a formula as printed. Text that leaves precedence to convention is refused:
    a chain of binary operators without brackets, or a `not` on the left of a binary operator without brackets
    ("not False or True": (not False) or True if `not` binds tightest, not (False or True) if it binds loosest)."""
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()
    pos = 0

    def atom() -> bool:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError("the formula ends early")
        tok = tokens[pos]
        pos += 1
        if tok == "not":
            return not atom()
        if tok == "(":
            value = expr()
            if pos >= len(tokens) or tokens[pos] != ")":
                raise ValueError(f"expected ) at token {pos}")
            pos += 1
            return value
        if tok in ("True", "False"):
            return tok == "True"
        raise ValueError(f"unexpected token {tok!r}")

    def expr() -> bool:
        nonlocal pos
        negated = pos < len(tokens) and tokens[pos] == "not"
        value = atom()
        if pos < len(tokens) and tokens[pos] in _OPS:
            if negated:
                raise ValueError("a `not` before a binary operator without brackets is ambiguous")
            op = tokens[pos]
            pos += 1
            rhs = atom()
            if pos < len(tokens) and tokens[pos] in _OPS:
                raise ValueError("a chain of operators without brackets is ambiguous")
            value = (value and rhs) if op == "and" else (value or rhs) if op == "or" else (value != rhs)
        return value

    value = expr()
    if pos != len(tokens):
        raise ValueError("trailing tokens")
    return value


def solve_boolean(item) -> str:
    question = item["question"]
    if not question.endswith(" ="):
        raise ValueError(f"not a boolean_eval question: {question!r}")
    return str(evaluate_formula(question[:-2]))


register(
    Skill(
        name="boolean_eval",
        domain="logic",
        description="Evaluate a formula of True/False constants with and, or, xor, not; bracketed to read one way.",
        params=boolean_params,
        generate_batch=generate_boolean,
        verify=verify_bool,
        solve=solve_boolean,
        version=2,
        max_level=9400,  # CPU: 20 items + gold check ~1 s
        small_levels=((1, 96),),
        difficulty="operators to apply: binary ones plus each not",
    )
)
