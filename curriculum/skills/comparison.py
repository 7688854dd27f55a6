"""Comparison: which of two integers is larger (mathematics_dataset's comparison__pair, open-ended).

The two numbers share a common prefix of random length, so the deciding digit is anywhere: a learner
cannot pass by looking at the first digit alone.
"""

from __future__ import annotations

import numpy as np

from curriculum.skills.answers import verify_int
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty


class ComparisonParams(Knobs):
    digits: int  # both numbers have exactly this many digits


def comparison_params(level: int) -> ComparisonParams:
    return ComparisonParams(digits=level)


def generate_comparison(rng: np.random.Generator, level: int, n: int) -> Batch:
    d = comparison_params(level).digits
    digits = rng.integers(0, 10, size=(2, n, d))
    digits[:, :, 0] = rng.integers(1, 10, size=(2, n)) if d > 1 else digits[:, :, 0]
    shared = rng.integers(0, d, size=n)  # length of the common prefix
    mask = np.arange(d)[None, :] < shared[:, None]
    digits[1] = np.where(mask, digits[0], digits[1])
    at = shared  # first position allowed to differ: force a difference there
    rows = np.arange(n)
    same = digits[0, rows, at] == digits[1, rows, at]
    low = 1 if d > 1 else 0
    bump = np.where(at == 0, (digits[0, rows, at] - low + 1) % (10 - low) + low, (digits[0, rows, at] + 1) % 10)
    digits[1, rows, at] = np.where(same, bump, digits[1, rows, at])
    a = ["".join(map(str, r)) for r in digits[0].tolist()]
    b = ["".join(map(str, r)) for r in digits[1].tolist()]
    questions = [f"Which is larger: {x} or {y}?" for x, y in zip(a, b)]
    answers = [max(x, y) for x, y in zip(a, b)]  # equal length: string order is numeric order
    return Batch(questions, answers, with_difficulty(comparison_params(level), (shared + 1).tolist()))


def verify_comparison(item, answer: str) -> bool:
    return verify_int(item, answer)


def solve_comparison(item) -> str:
    body = item["question"].removeprefix("Which is larger:").rstrip("?")
    x, y = (int(t) for t in body.split(" or "))
    return str(max(x, y))


register(
    Skill(
        name="comparison",
        domain="maths",
        description="Pick the larger of two `digits`-digit integers that share a prefix of random length.",
        params=comparison_params,
        generate_batch=generate_comparison,
        verify=verify_comparison,
        solve=solve_comparison,
        version=2,
        max_level=4300,  # exact: the numbers have 4300 digits, Python's int-string limit
        small_levels=((1, 90),),
        difficulty="digits read before the two numbers differ",
    )
)
