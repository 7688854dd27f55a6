"""Integer sequences: the next term of an arithmetic, geometric, polynomial or linear-recurrence sequence.

Each question names its family. The shown prefix determines the rule within that family: two terms fix an
arithmetic or geometric rule (the first term is nonzero); a polynomial sequence of degree d (its d-th differences
constant, nonzero) is shown with at least d + 2 terms, so the constant row is seen twice; an order-k recurrence
t(n) = c1*t(n-1) + ... + ck*t(n-k) is shown with at least 2k terms whose k x k Hankel matrix [t(i+j)] has a
nonzero exact determinant, so the coefficients (hence the next term) are unique even over the rationals.
The families get harder with the level: arithmetic only up to level 5, polynomial sequences from level 4 (their
degree growing), recurrences from level 3 (their order growing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from curriculum.skills._exact import bareiss_det
from curriculum.skills.answers import verify_int
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

_SAFE = 2**62
_BOUND = 10**6  # knob ceiling that keeps int64 draws sane (reached only at absurd levels)
_ARITH, _GEO = 0, 1  # families; an order-k recurrence is family k (k >= 2), a degree-d polynomial family -d


class SequenceParams(Knobs):
    arithmetic: bool  # plain arithmetic sequences, only at the low levels
    geometric: bool
    max_degree: int  # polynomial sequences of degree 2..max_degree (none when < 2)
    max_order: int  # recurrences of order 2..max_order (none when < 2)
    terms_shown: int  # arithmetic/geometric show terms_shown..terms_shown+2; order k shows 2k+1..2k+2
    start_max: int
    step_max: int  # arithmetic: |difference| <= step_max
    ratio_max: int  # geometric: 2 <= |ratio| <= ratio_max
    fractional_ratios: bool  # geometric: ratios 1/r too (every term stays an integer)
    coef_max: int  # recurrence coefficients in [-coef_max, coef_max], the last one nonzero
    init_max: int  # recurrence initial terms in [-init_max, init_max]


def sequence_params(level: int) -> SequenceParams:
    return SequenceParams(
        arithmetic=level < 6,
        geometric=level >= 2,
        max_degree=0 if level < 4 else 2 + (level - 4) // 8,
        max_order=0 if level < 3 else 2 + (level - 3) // 4,
        terms_shown=5 if level < 6 else 4,
        start_max=min(25 + 25 * level, _BOUND),
        step_max=min(7 + 2 * level, _BOUND),
        ratio_max=min(3 + level // 2, _BOUND),
        fractional_ratios=level >= 5,
        coef_max=min(2 + level // 4, _BOUND),
        init_max=min(5 + 2 * level, _BOUND),
    )


def _signed(rng: np.random.Generator, lo: int, hi: int, n: int, signs: bool = True) -> np.ndarray:
    v = rng.integers(lo, hi + 1, size=n, dtype=np.int64)
    return np.where(rng.integers(0, 2, size=n) == 1, -v, v) if signs else v


def _hankel_det(t: np.ndarray, k: int) -> np.ndarray:
    """Exact det of [t(i+j)] for i, j < k, per item (t is (length, n), int64 or object)."""
    if k == 2:
        return t[0] * t[2] - t[1] * t[1]
    if k == 3:
        return (
            t[0] * (t[2] * t[4] - t[3] * t[3]) - t[1] * (t[1] * t[4] - t[3] * t[2]) + t[2] * (t[1] * t[3] - t[2] * t[2])
        )
    cols = t[: 2 * k - 1].T.tolist()
    return np.array([bareiss_det([row[i : i + k] for i in range(k)]) for row in cols], dtype=object)


def _arith(rng: np.random.Generator, p: SequenceParams, n: int, level: int, length: int) -> np.ndarray:
    start = rng.integers(0 if level == 1 else -p.start_max, p.start_max + 1, size=n, dtype=np.int64)
    step = _signed(rng, 1, p.step_max, n, signs=level > 1)
    return start + step * np.arange(length, dtype=np.int64)[:, None]


def _geo(rng: np.random.Generator, p: SequenceParams, n: int, length: int) -> np.ndarray:
    ratio = _signed(rng, 2, p.ratio_max, n)
    start = _signed(rng, 1, p.start_max, n)
    big = p.start_max * p.ratio_max ** (length - 1) >= _SAFE
    if big:
        ratio, start = ratio.astype(object), start.astype(object)
    terms = [start]
    for _ in range(length - 1):
        terms.append(terms[-1] * ratio)
    out = np.array(terms, dtype=object if big else np.int64)
    if p.fractional_ratios:  # half the items read backwards: ratio 1/r, every term an integer
        rev = rng.integers(0, 2, size=n) == 1
        out[:, rev] = out[::-1, rev]
    return out


def _polynomial(rng: np.random.Generator, p: SequenceParams, n: int, d: int, length: int) -> np.ndarray:
    """Terms whose d-th differences are one nonzero constant: the first term and its lower differences drawn,
    then summed forward (t += D1, D1 += D2, ...)."""
    big = (p.start_max + p.step_max) * (length + 1) ** d >= _SAFE
    dtype: Any = object if big else np.int64
    t = rng.integers(-p.start_max, p.start_max + 1, size=n, dtype=np.int64).astype(dtype)
    diffs = [rng.integers(-p.step_max, p.step_max + 1, size=n, dtype=np.int64).astype(dtype) for _ in range(d - 1)]
    diffs.append(_signed(rng, 1, p.step_max, n).astype(dtype))
    out = [t]
    for _ in range(length - 1):
        t = t + diffs[0]
        for i in range(d - 1):
            diffs[i] = diffs[i] + diffs[i + 1]
        out.append(t)
    return np.array(out, dtype=dtype)


def _recurrence(rng: np.random.Generator, p: SequenceParams, n: int, k: int, length: int) -> np.ndarray:
    big = p.init_max * (k * p.coef_max) ** length >= _SAFE
    dtype: Any = object if big else np.int64

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        coefs = rng.integers(-p.coef_max, p.coef_max + 1, size=(k, m), dtype=np.int64)
        coefs[k - 1] = _signed(rng, 1, p.coef_max, m)
        init = rng.integers(-p.init_max, p.init_max + 1, size=(k, m), dtype=np.int64)
        coefs, init = coefs.astype(dtype), init.astype(dtype)
        t = list(init)
        for i in range(k, length):
            acc = coefs[0] * t[i - 1]
            for j in range(1, k):
                acc = acc + coefs[j] * t[i - 1 - j]
            t.append(acc)
        return np.array(t, dtype=dtype), _hankel_det(np.array(t, dtype=dtype), k) == 0

    t, bad = draw(n)
    todo = np.flatnonzero(bad)
    while todo.size:
        t2, bad2 = draw(todo.size)
        t[:, todo] = t2
        todo = todo[bad2]
    return t


def _question(family: int, shown: str) -> str:
    if family == _ARITH:
        return (
            f"The sequence {shown}, ... is arithmetic (each term is the previous term plus a fixed number). "
            "What is the next term?"
        )
    if family == _GEO:
        return (
            f"The sequence {shown}, ... is geometric (each term is the previous term times a fixed number). "
            "What is the next term?"
        )
    if family < 0:
        d = -family
        return (
            f"In the sequence {shown}, ... the differences of consecutive terms, taken {d} times over, are constant "
            f"(t(n) is a polynomial in n of degree {d}). What is the next term?"
        )
    if family == 2:
        return (
            f"In the sequence {shown}, ... each term from the third on is a fixed combination of the previous two: "
            "t(n) = a*t(n-1) + b*t(n-2) with the same numbers a, b throughout. What is the next term?"
        )
    return (
        f"In the sequence {shown}, ... each term from term {family + 1} on is a fixed combination of the previous "
        f"{family}: t(n) = c1*t(n-1) + ... + c{family}*t(n-{family}) with the same numbers c1..c{family} "
        "throughout. What is the next term?"
    )


def generate_sequence(rng: np.random.Generator, level: int, n: int) -> Batch:
    """Family mix by weight: arithmetic (low levels) and geometric 1 each, polynomial degrees 1 + (L - 4) / 8
    between them, recurrence orders 2 + (L - 3) / 4 between them: the harder rules take a growing share, so
    the mean difficulty rises at every level from 2 on. Difficulty: the unknowns the rule hides (2 for
    arithmetic and geometric, d + 1 for degree d, 2k for order k: its coefficients and starting terms)."""
    p = sequence_params(level)
    families = ([_ARITH] if p.arithmetic else []) + ([_GEO] if p.geometric else [])
    degrees = [-d for d in range(2, p.max_degree + 1)]
    orders = list(range(2, p.max_order + 1))
    weights = [1.0] * len(families)
    weights += [(1 + (level - 4) / 8) / len(degrees)] * len(degrees) if degrees else []
    weights += [(2 + (level - 3) / 4) / len(orders)] * len(orders) if orders else []
    every = families + degrees + orders
    w = np.array(weights) / sum(weights)
    fam = np.array(every)[rng.choice(len(w), size=n, p=w)]
    questions, answers, unknowns = [""] * n, [""] * n, [0] * n
    for f in every:
        idx = np.flatnonzero(fam == f)
        if not idx.size:
            continue
        m = idx.size
        base = p.terms_shown if f in (_ARITH, _GEO) else 2 - f if f < 0 else 2 * f + 1
        shown = base + rng.integers(0, 3, size=m)
        length = base + 3
        if f == _ARITH:
            t = _arith(rng, p, m, level, length)
        elif f == _GEO:
            t = _geo(rng, p, m, length)
        elif f < 0:
            t = _polynomial(rng, p, m, -f, length)
        else:
            t = _recurrence(rng, p, m, f, length)
        hidden = 2 if f in (_ARITH, _GEO) else 1 - f if f < 0 else 2 * f
        rows = t.T.tolist()
        for i, row, s in zip(idx.tolist(), rows, shown.tolist()):
            questions[i] = _question(f, ", ".join(map(str, row[:s])))
            answers[i] = str(row[s])
            unknowns[i] = hidden
    return Batch(questions, answers, with_difficulty(p, unknowns))


_PREFIX = re.compile(r"^\s*(?:the next term is|next term:|t\(\w*\)\s*=|\w\s*=)\s*", re.IGNORECASE)


def verify_sequence(item: Mapping[str, Any], answer: str) -> bool:
    """The next term as an integer: '+42', ' 42.', '1,234', 't(n) = 42' style prefixes dropped."""
    if answer == item["answer"]:
        return True
    return verify_int(item, _PREFIX.sub("", str(answer)))


# --------------------------------------------------------------------------------------------------
# solver: the question text alone. The generator runs the rule forward from drawn parameters; the solver
# recovers the rule from the shown terms (a common difference, a common ratio as a cross-multiplication
# check, recurrence coefficients by exact elimination over all shown terms) and insists that it is unique
# and fits every shown term before extending the sequence by one.

_TERMS = re.compile(r"-?\d+(?:, -?\d+)*")
_ARITH_TAIL = "is arithmetic (each term is the previous term plus a fixed number). What is the next term?"
_GEO_TAIL = "is geometric (each term is the previous term times a fixed number). What is the next term?"
_REC2_TAIL = (
    "each term from the third on is a fixed combination of the previous two: t(n) = a*t(n-1) + b*t(n-2) "
    "with the same numbers a, b throughout. What is the next term?"
)
_POLY_TAIL = re.compile(
    r"the differences of consecutive terms, taken (\d+) times over, are constant \(t\(n\) is a polynomial in n of "
    r"degree (\d+)\)\. What is the next term\?"
)
_RECK_TAIL = re.compile(
    r"each term from term (\d+) on is a fixed combination of the previous (\d+): t\(n\) = c1\*t\(n-1\) \+ \.\.\. "
    r"\+ c(\d+)\*t\(n-(\d+)\) with the same numbers c1\.\.c(\d+) throughout\. What is the next term\?"
)


def _read_terms(text: str) -> list[int]:
    if _TERMS.fullmatch(text) is None:
        raise ValueError(f"not a list of integers: {text!r}")
    return list(map(int, text.split(", ")))


def _exact(num: int, den: int) -> int:
    q, r = divmod(num, den)
    if r:
        raise ValueError("the next term is not an integer")
    return q


def _next_arithmetic(t: list[int]) -> int:
    if len(t) < 2:
        raise ValueError("one term fixes no difference")
    d = t[1] - t[0]
    if any(b - a != d for a, b in zip(t, t[1:])):
        raise ValueError("the differences are not constant")
    return t[-1] + d


def _next_geometric(t: list[int]) -> int:
    """Ratio t1/t0, checked as t(i+1)*t0 == t(i)*t1 for every pair (no division until the end)."""
    if len(t) < 2 or t[0] == 0:
        raise ValueError("the ratio is not determined")
    t0, t1 = t[0], t[1]
    if any(b * t0 != a * t1 for a, b in zip(t, t[1:])):
        raise ValueError("the ratios are not constant")
    return _exact(t[-1] * t1, t0)


def _next_polynomial(t: list[int], d: int) -> int:
    """Difference table down to the d-th row, which must be one repeated nonzero number seen at least twice;
    then each row's last entry is added back up."""
    if d < 1 or len(t) < d + 2:
        raise ValueError("too few terms to see the differences are constant")
    rows = [t]
    for _ in range(d):
        rows.append([b - a for a, b in zip(rows[-1], rows[-1][1:])])
    if len(set(rows[-1])) != 1 or rows[-1][0] == 0:
        raise ValueError(f"the differences taken {d} times are not one nonzero constant")
    return sum(row[-1] for row in rows)


def _next_recurrence(t: list[int], k: int) -> int:
    """The unique c1..ck with t(i) = c1*t(i-1) + ... + ck*t(i-k) for every shown i >= k (exact Fraction
    Gauss-Jordan over all those equations: rank k, and the leftover equations consistent), applied once more."""
    if k < 1:
        raise ValueError("order below 1")
    if k == 2 and len(t) >= 4:  # Cramer's rule on the first two equations, integers only
        t0, t1, t2, t3 = t[0], t[1], t[2], t[3]
        det = t1 * t1 - t0 * t2
        if det:
            a, b = t2 * t1 - t0 * t3, t1 * t3 - t2 * t2  # the coefficients times det
            if any(det * t[i] != a * t[i - 1] + b * t[i - 2] for i in range(4, len(t))):
                raise ValueError("no fixed combination fits every term")
            return _exact(a * t[-1] + b * t[-2], det)
    rows = [[Fraction(t[i - j]) for j in range(1, k + 1)] + [Fraction(t[i])] for i in range(k, len(t))]
    rank = 0
    for c in range(k):
        piv = next((r for r in range(rank, len(rows)) if rows[r][c] != 0), None)
        if piv is None:
            raise ValueError("the shown terms do not fix the combination")
        rows[rank], rows[piv] = rows[piv], rows[rank]
        lead = rows[rank][c]
        rows[rank] = [v / lead for v in rows[rank]]
        for r in range(len(rows)):
            if r != rank and rows[r][c] != 0:
                f = rows[r][c]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[rank])]
        rank += 1
    if any(row[k] != 0 for row in rows[k:]):
        raise ValueError("no fixed combination fits every term")
    nxt = sum(rows[j][k] * t[-1 - j] for j in range(k))
    if nxt.denominator != 1:
        raise ValueError("the next term is not an integer")
    return int(nxt)


def solve_sequence(item: Mapping[str, Any]) -> str:
    """The family from the question's wording (the order of a recurrence as stated, every mention agreeing),
    the rule from the shown terms, the next term from the rule; ValueError where any of them fails."""
    question = item["question"]
    if question.startswith("The sequence "):
        cut = question.find(", ... ", 13)
        tail = question[cut + 6 :]
        if cut > 0 and tail == _ARITH_TAIL:
            return str(_next_arithmetic(_read_terms(question[13:cut])))
        if cut > 0 and tail == _GEO_TAIL:
            return str(_next_geometric(_read_terms(question[13:cut])))
    elif question.startswith("In the sequence "):
        cut = question.find(", ... ", 16)
        tail = question[cut + 6 :]
        if cut > 0 and (m := _POLY_TAIL.fullmatch(tail)):
            if m[1] != m[2]:
                raise ValueError("the degree is stated inconsistently")
            return str(_next_polynomial(_read_terms(question[16:cut]), int(m[1])))
        if cut > 0 and tail == _REC2_TAIL:
            return str(_next_recurrence(_read_terms(question[16:cut]), 2))
        if cut > 0 and (m := _RECK_TAIL.fullmatch(tail)):
            k = int(m[2])
            if int(m[1]) != k + 1 or int(m[3]) != k or int(m[4]) != k or int(m[5]) != k:
                raise ValueError("the recurrence order is stated inconsistently")
            return str(_next_recurrence(_read_terms(question[16:cut]), k))
    raise ValueError(f"not a sequence_next question: {question!r}")


register(
    Skill(
        name="sequence_next",
        domain="maths",
        description="Next term of an arithmetic, geometric, polynomial or fixed-coefficient linear-recurrence "
        "sequence; harder families at higher levels.",
        params=sequence_params,
        generate_batch=generate_sequence,
        verify=verify_sequence,
        solve=solve_sequence,
        version=3,
        max_level=160,  # CPU: 20 items + gold check ~1 s (the median of 3 batches; one batch varies a lot)
        difficulty="unknowns the rule hides (2 for arithmetic or geometric, d + 1 for degree d, 2k for order k)",
    )
)
