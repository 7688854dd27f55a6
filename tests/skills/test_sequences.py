"""sequence_next: gold answers, tolerant verifier, and an independent re-solve of the rule from the shown terms
(constant differences / ratios; recurrence coefficients by exact Fraction least-squares-free elimination with a
rank check, so the rule is unique for the family the question names)."""

from __future__ import annotations

import re
from collections import Counter
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from tests.skills import contract

SKILL = REGISTRY["sequence_next"]

_ARITH = re.compile(
    r"The sequence (.+), \.\.\. is arithmetic \(each term is the previous term plus a fixed number\)\. "
    r"What is the next term\?"
)
_GEO = re.compile(
    r"The sequence (.+), \.\.\. is geometric \(each term is the previous term times a fixed number\)\. "
    r"What is the next term\?"
)
_POLY = re.compile(
    r"In the sequence (.+), \.\.\. the differences of consecutive terms, taken (\d+) times over, are constant "
    r"\(t\(n\) is a polynomial in n of degree (\d+)\)\. What is the next term\?"
)
_REC2 = re.compile(
    r"In the sequence (.+), \.\.\. each term from the third on is a fixed combination of the previous two: "
    r"t\(n\) = a\*t\(n-1\) \+ b\*t\(n-2\) with the same numbers a, b throughout\. What is the next term\?"
)
_RECK = re.compile(
    r"In the sequence (.+), \.\.\. each term from term (\d+) on is a fixed combination of the previous (\d+): "
    r"t\(n\) = c1\*t\(n-1\) \+ \.\.\. \+ c(\d+)\*t\(n-(\d+)\) with the same numbers c1\.\.c(\d+) throughout\. "
    r"What is the next term\?"
)


def items(level: int, n: int, seed: int = 0) -> list[dict]:
    return contract.items("sequence_next", level, n, seed)


def reduce_rows(rows: list[list[Fraction]]) -> tuple[int, list[list[Fraction]]]:
    """Reduced row echelon form over Fractions; returns (rank of the coefficient part, rows)."""
    m = [list(r) for r in rows]
    ncols = len(m[0]) - 1
    rank = 0
    for c in range(ncols):
        piv = next((r for r in range(rank, len(m)) if m[r][c] != 0), None)
        if piv is None:
            continue
        m[rank], m[piv] = m[piv], m[rank]
        m[rank] = [v / m[rank][c] for v in m[rank]]
        for r in range(len(m)):
            if r != rank and m[r][c] != 0:
                f = m[r][c]
                m[r] = [a - f * b for a, b in zip(m[r], m[rank])]
        rank += 1
    return rank, m


def polynomial_next(t: list[int], d: int) -> int:
    """Lagrange interpolation (exact Fractions) of degree d through the first d + 1 terms; it must reproduce every
    other shown term, have degree exactly d, and give an integer at the next position."""

    def at(x: int) -> Fraction:
        total = Fraction(0)
        for i in range(d + 1):
            term = Fraction(t[i])
            for j in range(d + 1):
                if j != i:
                    term *= Fraction(x - j, i - j)
            total += term
        return total

    assert all(at(i) == t[i] for i in range(len(t))), "no polynomial of that degree fits"
    lead = sum(Fraction(t[i], 1) * (-1) ** (d - i) * sympy.binomial(d, i) for i in range(d + 1))  # d-th difference
    assert lead != 0, "the degree is lower than stated"
    nxt = at(len(t))
    assert nxt.denominator == 1
    return int(nxt)


def solve_next(question: str) -> tuple[str, int]:
    """(family, next term) from the question text alone; asserts the rule is unique within the family."""
    if m := _ARITH.fullmatch(question):
        t = [int(v) for v in m.group(1).split(", ")]
        diffs = {b - a for a, b in zip(t, t[1:])}
        assert len(diffs) == 1 and len(t) >= 2
        return "arithmetic", t[-1] + diffs.pop()
    if m := _GEO.fullmatch(question):
        t = [int(v) for v in m.group(1).split(", ")]
        assert t[0] != 0 and len(t) >= 2
        ratios = {Fraction(b, a) for a, b in zip(t, t[1:])}
        assert len(ratios) == 1
        nxt = t[-1] * ratios.pop()
        assert nxt.denominator == 1
        return "geometric", int(nxt)
    if m := _POLY.fullmatch(question):
        d, t = int(m.group(2)), [int(v) for v in m.group(1).split(", ")]
        assert int(m.group(3)) == d and len(t) >= d + 2
        return f"degree {d}", polynomial_next(t, d)
    if m := _REC2.fullmatch(question):
        k, t = 2, [int(v) for v in m.group(1).split(", ")]
    else:
        m = _RECK.fullmatch(question)
        assert m, question
        k = int(m.group(3))
        assert int(m.group(2)) == k + 1 and {int(m.group(i)) for i in (4, 5, 6)} == {k}
        t = [int(v) for v in m.group(1).split(", ")]
    # every shown term from index k on gives one linear equation in the k unknown coefficients
    rows = [[Fraction(t[i - j]) for j in range(1, k + 1)] + [Fraction(t[i])] for i in range(k, len(t))]
    rank, red = reduce_rows(rows)
    assert rank == k, f"rule not unique: {question}"
    assert all(r[-1] == 0 for r in red[rank:]), "inconsistent"
    coefs = [red[i][-1] for i in range(k)]
    nxt = sum(c * t[len(t) - 1 - j] for j, c in enumerate(coefs))
    assert nxt.denominator == 1
    return f"order {k}", int(nxt)


def test_families_unlock_with_level():
    assert SKILL.params(50).max_order > SKILL.params(3).max_order >= 2
    assert SKILL.params(1).max_order == 0 and not SKILL.params(1).geometric


@settings(max_examples=40, deadline=None)
@given(level=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_gold_reformatted_and_perturbed(level, seed):
    for it in items(level, 20, seed):
        v = int(it["answer"])
        assert SKILL.verify(it, it["answer"])
        for ok in (f" {v} ", f"{v}.", f"The next term is {v}", f"t(n) = {v}", f"{v:,}"):
            assert SKILL.verify(it, ok), ok
        if v > 0:
            assert SKILL.verify(it, f"+{v}") and SKILL.verify(it, f"00{v}")
        for bad in {v + 1, v - 1, -v if v else 3, 2 * v + 1} - {v}:
            assert not SKILL.verify(it, str(bad))
        assert not SKILL.verify(it, "") and not SKILL.verify(it, "next")


def test_independent_resolve():
    fams = Counter()
    count = 0
    for level in range(1, 9):
        p = SKILL.params(level)
        for it in items(level, 130, seed=500 + level):
            fam, nxt = solve_next(it["question"])
            assert str(nxt) == it["answer"], it["question"]
            fams[(level, fam)] += 1
            if fam.startswith("order"):
                assert 2 <= int(fam.split()[1]) <= p.max_order
            count += 1
    assert count >= 1000
    assert set(f for (lv, f) in fams if lv == 1) == {"arithmetic"}
    assert {"arithmetic", "geometric", "order 2"} <= set(f for (lv, f) in fams if lv == 3)
    assert "order 3" in set(f for (lv, f) in fams if lv == 8)
    assert "degree 2" in set(f for (lv, f) in fams if lv == 4)
    assert all(f != "arithmetic" for (lv, f) in fams if lv >= 6)


def test_families_get_harder_with_level():
    """No plain arithmetic sequences past level 5; polynomial degrees and recurrence orders keep growing."""
    for level in (6, 12, 20, 50):
        families = Counter(solve_next(it["question"])[0] for it in items(level, 200, seed=level))
        assert "arithmetic" not in families, (level, families)
        if level >= 20:
            assert any(f.startswith("degree") and int(f.split()[1]) >= 4 for f in families), families
    assert SKILL.params(20).max_degree > SKILL.params(4).max_degree >= 2


def test_recurrences_unique_by_sympy_rank():
    for it in items(8, 60, seed=12):
        q = it["question"]
        m = _REC2.fullmatch(q) or _RECK.fullmatch(q)
        if not m:
            continue
        k = 2 if _REC2.fullmatch(q) else int(m.group(3))
        t = [int(v) for v in m.group(1).split(", ")]
        hankel = sympy.Matrix([[t[i + j] for j in range(k)] for i in range(k)])
        assert hankel.det() != 0


def test_fractional_geometric_ratios_appear():
    ratios = set()
    for it in items(6, 300, seed=4):
        if m := _GEO.fullmatch(it["question"]):
            t = [int(v) for v in m.group(1).split(", ")]
            ratios.add(Fraction(t[1], t[0]))
    assert any(abs(r) < 1 for r in ratios) and any(abs(r) > 1 for r in ratios)


def test_high_levels_are_exact():
    contract.assert_second_method_agrees(
        "sequence_next", lambda _, q: str(solve_next(q)[1]), levels=(12, 50), n=5, min_items=10
    )


# ---------------------------------------------------------------------------------------------- the skill's solver
# It re-derives the gold in test_contract.py; solve_next above (Fraction row reduction, sympy Hankel ranks)
# stays the second, independent check.


def _arith(terms: str) -> str:
    return (
        f"The sequence {terms}, ... is arithmetic (each term is the previous term plus a fixed number). "
        "What is the next term?"
    )


def _geo(terms: str) -> str:
    return (
        f"The sequence {terms}, ... is geometric (each term is the previous term times a fixed number). "
        "What is the next term?"
    )


def _rec(terms: str, k: int, start: int | None = None) -> str:
    if k == 2:
        return (
            f"In the sequence {terms}, ... each term from the third on is a fixed combination of the previous two: "
            "t(n) = a*t(n-1) + b*t(n-2) with the same numbers a, b throughout. What is the next term?"
        )
    return (
        f"In the sequence {terms}, ... each term from term {start or k + 1} on is a fixed combination of the "
        f"previous {k}: t(n) = c1*t(n-1) + ... + c{k}*t(n-{k}) with the same numbers c1..c{k} throughout. "
        "What is the next term?"
    )


def _poly(terms: str, d: int) -> str:
    return (
        f"In the sequence {terms}, ... the differences of consecutive terms, taken {d} times over, are constant "
        f"(t(n) is a polynomial in n of degree {d}). What is the next term?"
    )


def test_solver_by_hand():
    cases = [
        (_poly("1, 4, 9, 16", 2), "25"),
        (_poly("0, 1, 8, 27, 64", 3), "125"),
        (_poly("5, 3, -1, -7", 2), "-15"),
        (_arith("7, 4, 1, -2"), "-5"),
        (_geo("48, 24, 12"), "6"),
        (_geo("-3, 6, -12"), "24"),
        (_geo("5, 0, 0"), "0"),
        (_rec("1, 1, 2, 3, 5, 8", 2), "13"),
        (_rec("2, 1, 3, 4, 7, 11, 18", 2), "29"),
        (_rec("1, 1, 1, 3, 5, 9, 17", 3), "31"),  # tribonacci
        (_rec("2, 1, 1, 1, 1, 1", 2), "1"),  # a = 1, b = 0 is the only rule
        (_rec("0, 1, 0, 2, 0, 4", 2), "0"),  # a = 0, b = 2
    ]
    for question, answer in cases:
        assert SKILL.solve({"question": question}) == answer, question


def test_solver_refuses_unreadable_or_undetermined_text():
    own = items(3, 1, seed=1)[0]["question"]
    bad = [
        "", "What comes next: 1, 2, 3?", own[:-10], own.replace(", ", ",", 1),
        _arith("1, 2, 4, 5"),  # differences not constant
        _arith("5"),  # one term
        _geo("4, 6, 9"),  # next term 27/2
        _geo("0, 0, 0"),  # ratio undetermined
        _geo("2, 4, 9"),  # ratios not constant
        _rec("1, 2, 3", 2),  # one equation for two coefficients
        _rec("1, 1, 1, 1, 1", 2),  # rank 1: many rules fit
        _rec("1, 1, 2, 3, 5, 9", 2),  # no fixed rule fits every term
        _rec("1, 2, 4, 9", 2),  # the first two equations singular, and no rule fits
        _rec("1, 1, 1, 3, 5, 9, 17", 3, start=5),  # the order stated two ways
        _rec("1, 1, 1, 3, 5", 3),  # two equations for three coefficients
        _poly("1, 4, 9", 2),  # the constant row seen once only
        _poly("1, 4, 9, 17", 2),  # second differences not constant
        _poly("1, 3, 5, 7", 2),  # second differences zero: not degree 2
        _poly("1, 4, 9, 16", 2).replace("degree 2", "degree 3"),  # the degree stated two ways
    ]  # fmt: skip
    for question in bad:
        with pytest.raises(ValueError):
            SKILL.solve({"question": question})
