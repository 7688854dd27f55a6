"""Fractions: reduce to lowest terms, add/subtract several fractions, compare two fractions.

Everything is drawn and computed as numpy columns (int64 while a bound shows it cannot overflow, numpy
object arrays of exact Python ints beyond), then formatted with list comprehensions over `.tolist()`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from curriculum.skills._exact import digit_count
from curriculum.skills.answers import clean, gold_fraction, gold_parser, keyed, parse_fraction
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

_SAFE = 2**62
_INT64_MAX_BOUND = 10**9  # knob ceiling that keeps every product below in int64 (reached only at absurd levels)
_gcd = math.gcd

# --------------------------------------------------------------------------------------------------
# shared helpers


def _fast_or(item: Mapping[str, Any], answer: str) -> tuple[bool, str]:
    gold = item["answer"]
    return answer == gold, gold


_FRACTION_TEXT = re.compile(r"\(?([+-]?)\(?0*(\d+)\)?/\(?([+-]?)0*(\d+)\)?\)?")


def _parse_plain_fraction(text: str) -> tuple[int, int] | None:
    """'-6/8', ' 3 / 4 ', '+03/04.', '3/-4' -> (numerator, denominator>0), not reduced; else None."""
    s = str(text).strip().replace(" ", "").replace("\u2212", "-")
    if s.endswith("."):
        s = s[:-1]
    m = _FRACTION_TEXT.fullmatch(s)
    if m is None:
        return None
    num, den = int(m.group(2) or 0), int(m.group(4) or 0)
    if den == 0:
        return None
    negative = (m.group(1) == "-") != (m.group(3) == "-")
    return (-num if negative else num), den


def _fraction_strings(num: list[int], den: list[int]) -> list[str]:
    return [f"{a}/{b}" if b != 1 else str(a) for a, b in zip(num, den)]


# --------------------------------------------------------------------------------------------------
# fraction_simplify


class SimplifyParams(Knobs):
    max_part: int  # numerator and denominator of the reduced fraction are at most this
    max_factor: int  # the shown fraction is the reduced one times a common factor in 2..max_factor
    negatives: bool


def simplify_params(level: int) -> SimplifyParams:
    return SimplifyParams(
        max_part=min(10 + 15 * level, _INT64_MAX_BOUND),
        max_factor=min(6 + 4 * level, _INT64_MAX_BOUND),
        negatives=level >= 3,
    )


def _reduced_pairs(rng: np.random.Generator, hi: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n reduced fractions p/q with 1 <= p <= hi, 2 <= q (reduced) <= hi."""
    p = rng.integers(1, hi + 1, size=n, dtype=np.int64)
    q = rng.integers(2, hi + 1, size=n, dtype=np.int64)
    g = np.gcd(p, q)
    p //= g
    q //= g
    bad = np.flatnonzero(q == 1)
    while bad.size:
        pp = rng.integers(1, hi + 1, size=bad.size, dtype=np.int64)
        qq = rng.integers(2, hi + 1, size=bad.size, dtype=np.int64)
        gg = np.gcd(pp, qq)
        p[bad], q[bad] = pp // gg, qq // gg
        bad = bad[q[bad] == 1]
    return p, q


def generate_simplify(rng: np.random.Generator, level: int, n: int) -> Batch:
    prm = simplify_params(level)
    p, q = _reduced_pairs(rng, prm.max_part, n)
    k = rng.integers(2, prm.max_factor + 1, size=n, dtype=np.int64)
    if prm.negatives:
        p = np.where(rng.integers(0, 2, size=n) == 1, -p, p)
    shown = (digit_count(p * k) + digit_count(q * k)).tolist()
    a, b = (p * k).tolist(), (q * k).tolist()
    questions = [f"Simplify {x}/{y} to lowest terms. Give the answer as a fraction a/b." for x, y in zip(a, b)]
    answers = [f"{x}/{y}" for x, y in zip(p.tolist(), q.tolist())]
    return Batch(questions, answers, with_difficulty(prm, shown))


def _lowest_terms(text: str) -> tuple[int, int] | None:
    """(numerator, denominator > 0) of a fraction written in lowest terms; None for any other text."""
    got = _parse_plain_fraction(text)
    return got if got is not None and math.gcd(*got) == 1 else None


# Only the lowest-terms fraction (any spacing, sign placement, '+', leading zeros) counts: a reduced fraction
# with a positive denominator is one pair of integers, so the pairs are equal exactly when the values are
verify_simplify = keyed(_lowest_terms, gold_counts=True)


# solver: the question text alone, exact Python ints (the generator scales a drawn reduced fraction)

_SIMPLIFY_Q = re.compile(r"Simplify (-?\d+)/(\d+) to lowest terms\. Give the answer as a fraction a/b\.")


def solve_simplify(item: Mapping[str, Any]) -> str:
    """Divide out the gcd of the numerator and denominator the question shows."""
    m = _SIMPLIFY_Q.fullmatch(item["question"])
    if m is None:
        raise ValueError(f"not a fraction_simplify question: {item['question']!r}")
    num, den = int(m[1]), int(m[2])
    if den == 0:
        raise ValueError("zero denominator")
    g = _gcd(num, den)
    return f"{num // g}/{den // g}"


register(
    Skill(
        name="fraction_simplify",
        domain="maths",
        description="Reduce a (possibly negative) fraction to lowest terms.",
        params=simplify_params,
        generate_batch=generate_simplify,
        verify=verify_simplify,
        solve=solve_simplify,
        version=2,
        max_level=2**31 - 1,  # the catalogue's INTEGER level; parts stop growing far below
        difficulty="digits of the fraction shown",
    )
)


# --------------------------------------------------------------------------------------------------
# fraction_add


class AddParams(Knobs):
    terms: int
    max_denominator: int  # denominators in 2..max_denominator
    improper: bool  # numerators up to max_denominator (else below their own denominator)
    subtraction: bool


def add_params(level: int) -> AddParams:
    return AddParams(
        terms=2 + (level - 1) // 3,
        max_denominator=min(10 + 3 * level, _INT64_MAX_BOUND),
        improper=level >= 4,
        subtraction=level >= 2,
    )


def generate_add(rng: np.random.Generator, level: int, n: int) -> Batch:
    prm = add_params(level)
    k, hi = prm.terms, prm.max_denominator
    if prm.improper:
        dens = rng.integers(2, hi + 1, size=(k, n), dtype=np.int64)
        nums = rng.integers(1, hi + 1, size=(k, n), dtype=np.int64)
    else:  # uniform over proper fractions n/d, 1 <= n < d <= hi: the two ends of a random distinct pair
        u = rng.integers(1, hi + 1, size=(k, n), dtype=np.int64)
        v = rng.integers(1, hi, size=(k, n), dtype=np.int64)
        v += v >= u
        nums, dens = np.minimum(u, v), np.maximum(u, v)
    if prm.subtraction:
        minus = rng.integers(0, 2, size=(k - 1, n), dtype=np.int64) == 1
    else:
        minus = np.zeros((k - 1, n), dtype=bool)
    # exact running sum, reduced at every step; the bound covers every intermediate product
    fits = k * hi ** (k + 2) < _SAFE
    num = nums[0] if fits else nums[0].astype(object)
    den = dens[0] if fits else dens[0].astype(object)
    for i in range(1, k):
        ni = nums[i] if fits else nums[i].astype(object)
        di = dens[i] if fits else dens[i].astype(object)
        term = ni * den
        num = num * di + np.where(minus[i - 1], -term, term)
        den = den * di
        g = np.gcd(num, den)
        num //= g
        den //= g
    ops = [[" - " if m else " + " for m in row] for row in minus.tolist()]
    nl, dl = nums.tolist(), dens.tolist()
    if k == 2:
        exprs = [f"{a}/{b}{o}{c}/{d}" for a, b, o, c, d in zip(nl[0], dl[0], ops[0], nl[1], dl[1])]
    else:
        parts = [[f"{a}/{b}" for a, b in zip(nl[0], dl[0])]]
        for i in range(1, k):
            parts.append([f"{o}{a}/{b}" for o, a, b in zip(ops[i - 1], nl[i], dl[i])])
        exprs = ["".join(p) for p in zip(*parts)]
    tail = ". Give the answer in lowest terms as a/b, or as an integer if it is whole."
    questions = [f"Compute {e}{tail}" for e in exprs]
    common = np.lcm.reduce(dens, axis=0) if fits else [math.lcm(*ds) for ds in zip(*dl)]
    return Batch(
        questions, _fraction_strings(num.tolist(), den.tolist()), with_difficulty(prm, digit_count(common).tolist())
    )


def verify_add(item: Mapping[str, Any], answer: str) -> bool:
    """Any equal value counts: 6/8 for 3/4, an exact decimal 0.75, '+3/4', '3 / 4', '-0.5'."""
    ok, gold = _fast_or(item, answer)
    if ok:
        return True
    s = str(answer).strip().replace("\u2212", "-")
    if s.endswith("."):
        s = s[:-1]
    got = parse_fraction(s)
    return got is not None and got == gold_fraction(gold)


# solver: the question text alone, exact Python ints over one common denominator (the generator runs a numpy
# running sum reduced at every step)

_ADD_Q = re.compile(
    r"Compute (-?\d+/\d+(?: [+-] \d+/\d+)*)\. "
    r"Give the answer in lowest terms as a/b, or as an integer if it is whole\."
)


def solve_add(item: Mapping[str, Any]) -> str:
    """Sum over the common denominator (the product of all shown ones), reduced once at the end."""
    m = _ADD_Q.fullmatch(item["question"])
    if m is None:
        raise ValueError(f"not a fraction_add question: {item['question']!r}")
    tokens = m[1].split(" ")
    first, den = tokens[0].split("/")
    num, den = int(first), int(den)
    for i in range(1, len(tokens), 2):
        a, b = tokens[i + 1].split("/")
        a, b = int(a), int(b)
        num = num * b - a * den if tokens[i] == "-" else num * b + a * den
        den *= b
    if den == 0:
        raise ValueError("zero denominator")
    g = _gcd(num, den)
    num, den = num // g, den // g
    return str(num) if den == 1 else f"{num}/{den}"


register(
    Skill(
        name="fraction_add",
        domain="maths",
        description="Add and subtract `terms` fractions; the answer in lowest terms (equivalent forms accepted).",
        params=add_params,
        generate_batch=generate_add,
        verify=verify_add,
        solve=solve_add,
        version=2,
        max_level=3500,  # CPU: 20 items + gold check ~1 s
        difficulty="digits of the least common denominator",
    )
)


# --------------------------------------------------------------------------------------------------
# fraction_compare


class CompareParams(Knobs):
    max_denominator: int  # numerators and denominators up to this
    max_multiplier: int  # equal pairs are one reduced fraction scaled by two different multipliers
    near_rate: float  # share of unequal pairs whose second fraction is a nearest neighbour of the first
    negatives: bool


def compare_params(level: int) -> CompareParams:
    return CompareParams(
        max_denominator=min(8 + 3 * level, _INT64_MAX_BOUND),
        max_multiplier=min(3 + level, _INT64_MAX_BOUND),
        near_rate=min(0.8, 0.1 * (level - 1)),
        negatives=level >= 4,
    )


_SYMBOLS = ("<", "=", ">")
_WORDS = {
    "<": "<", "less": "<", "less than": "<", "smaller": "<", "is less than": "<", "lt": "<",
    ">": ">", "greater": ">", "greater than": ">", "larger": ">", "bigger": ">", "is greater than": ">", "gt": ">",
    "=": "=", "==": "=", "equal": "=", "equals": "=", "equal to": "=", "are equal": "=", "is equal to": "=",
}  # fmt: skip
_COMPARE_Q = re.compile(r"Compare (-?\d+)/(\d+) and (-?\d+)/(\d+)")
_RELATION = re.compile(r"(.+?)\s*(<=|>=|==|<|>|=)\s*(.+)")


def generate_compare(rng: np.random.Generator, level: int, n: int) -> Batch:
    """Balanced: a third of the items each answer '<', '=' and '>'."""
    prm = compare_params(level)
    hi = prm.max_denominator
    target = rng.permutation(np.arange(n) % 3)  # 0: '<', 1: '=', 2: '>'
    a = rng.integers(1, hi + 1, size=n, dtype=np.int64)
    b = rng.integers(2, hi + 1, size=n, dtype=np.int64)
    c = rng.integers(1, hi + 1, size=n, dtype=np.int64)
    d = rng.integers(2, hi + 1, size=n, dtype=np.int64)
    if prm.negatives:
        a = np.where(rng.integers(0, 2, size=n) == 1, -a, a)
        c = np.where(rng.integers(0, 2, size=n) == 1, -c, c)
    # equal pairs: one reduced fraction scaled twice, with different multipliers
    eq = np.flatnonzero(target == 1)
    if eq.size:
        p, q = _reduced_pairs(rng, hi, eq.size)
        if prm.negatives:
            p = np.where(rng.integers(0, 2, size=eq.size) == 1, -p, p)
        m1 = rng.integers(1, prm.max_multiplier + 1, size=eq.size, dtype=np.int64)
        m2 = rng.integers(1, prm.max_multiplier, size=eq.size, dtype=np.int64)
        m2 = np.where(m2 >= m1, m2 + 1, m2)  # m2 != m1
        a[eq], b[eq], c[eq], d[eq] = p * m1, q * m1, p * m2, q * m2
    # near pairs: c/d is a neighbour of a/b on the grid of denominator d
    near = np.flatnonzero((target != 1) & (rng.random(n) < prm.near_rate))
    if near.size:
        c[near] = a[near] * d[near] // b[near] + rng.integers(0, 2, size=near.size)
        c[near] = np.where(c[near] == 0, 1, c[near])
    # unequal pairs: redraw the rare equal ones, then swap so the sign matches the target
    ne = np.flatnonzero(target != 1)
    bad = ne[a[ne] * d[ne] == c[ne] * b[ne]]
    while bad.size:
        c[bad] = rng.integers(1, hi + 1, size=bad.size, dtype=np.int64)
        d[bad] = rng.integers(2, hi + 1, size=bad.size, dtype=np.int64)
        bad = bad[a[bad] * d[bad] == c[bad] * b[bad]]
    sign = np.sign(a * d - c * b)  # denominators positive, so this is sign(a/b - c/d)
    swap = (target != 1) & (sign != target - 1)
    a, c = np.where(swap, c, a), np.where(swap, a, c)
    b, d = np.where(swap, d, b), np.where(swap, b, d)
    questions = [
        f"Compare {w}/{x} and {y}/{z}. Answer <, > or = (the sign that makes '{w}/{x} ? {y}/{z}' true)."
        for w, x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), d.tolist())
    ]
    answers = [_SYMBOLS[t] for t in target.tolist()]
    cross = digit_count(np.maximum(np.abs(a * d), np.abs(c * b))).tolist()
    return Batch(questions, answers, with_difficulty(prm, cross))


def _question_fractions(item: Mapping[str, Any]) -> tuple[Fraction, Fraction] | None:
    return _fractions_shown(str(item.get("question", "")))


@gold_parser
def _fractions_shown(question: str) -> tuple[Fraction, Fraction] | None:
    m = _COMPARE_Q.search(question)
    if m is None:
        return None
    return Fraction(int(m.group(1)), int(m.group(2))), Fraction(int(m.group(3)), int(m.group(4)))


def verify_compare(item: Mapping[str, Any], answer: str) -> bool:
    """'<', 'less than', '3/4 < 5/7' (either order), or the larger fraction itself when they differ."""
    ok, gold = _fast_or(item, answer)
    if ok:
        return True
    s = clean(answer).replace("\u2212", "-").strip("'\"` ")
    if s in _WORDS:
        return _WORDS[s] == gold
    pair = _question_fractions(item)
    if pair is None:
        return False
    left, right = pair
    rel = _RELATION.fullmatch(s)
    if rel is not None and rel.group(2) in ("<", ">", "=", "=="):
        x, y = parse_fraction(rel.group(1)), parse_fraction(rel.group(3))
        op = "=" if rel.group(2) == "==" else rel.group(2)
        if x == left and y == right:
            return op == gold
        if x == right and y == left:
            return op == {"<": ">", ">": "<", "=": "="}[gold]
        return False
    if gold == "=":
        return False  # a single fraction cannot say that the two are equal
    got = parse_fraction(s)
    return got is not None and got == (left if gold == ">" else right)


# solver: the question text alone, by cross-multiplying (the generator swaps pairs to match a drawn answer)

_COMPARE_FULL = re.compile(
    r"Compare (-?\d+)/(\d+) and (-?\d+)/(\d+)\. Answer <, > or = "
    r"\(the sign that makes '\1/\2 \? \3/\4' true\)\."
)


def solve_compare(item: Mapping[str, Any]) -> str:
    """Cross-multiply (denominators are positive): sign(a*d - c*b) is the sign of a/b - c/d."""
    m = _COMPARE_FULL.fullmatch(item["question"])
    if m is None:
        raise ValueError(f"not a fraction_compare question: {item['question']!r}")
    a, b, c, d = int(m[1]), int(m[2]), int(m[3]), int(m[4])
    if b == 0 or d == 0:
        raise ValueError("zero denominator")
    diff = a * d - c * b
    return "<" if diff < 0 else ">" if diff > 0 else "="


register(
    Skill(
        name="fraction_compare",
        domain="maths",
        description="Compare two fractions: answer <, > or =, balanced across the three.",
        params=compare_params,
        generate_batch=generate_compare,
        verify=verify_compare,
        solve=solve_compare,
        version=2,
        max_level=2**31 - 1,  # the catalogue's INTEGER level; parts stop growing far below
        difficulty="digits of the larger cross product",
    )
)
