"""linear_equation, linear_system, polynomial: gold answers, tolerant verifiers, independent re-solves
from the question text (own parsers; Fraction elimination; rational-root search with synthetic division)."""

from __future__ import annotations

import re
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from curriculum.skills._exact import bareiss_det
from tests.skills.contract import items

SKILLS = ("linear_equation", "linear_system", "polynomial")
LEVELS = st.integers(1, 12)
SEEDS = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------------------------------------- parsers

_TERM = re.compile(r"([+-]?)(\d*)\(x([+-])(\d+)\)|([+-]?)(\d*)x|([+-]?)(\d+)")


def parse_linear(side: str) -> tuple[int, int]:
    """'3x-4+2(x-1)' (spaces removed) -> (slope, intercept); every character must belong to a term."""
    slope = const = 0
    pos = 0
    for m in _TERM.finditer(side):
        assert m.start() == pos, side
        pos = m.end()
        if m.group(3):  # k(x +- m)
            k = int(m.group(2) or 1) * (-1 if m.group(1) == "-" else 1)
            inner = int(m.group(4)) * (-1 if m.group(3) == "-" else 1)
            slope, const = slope + k, const + k * inner
        elif m.group(6) is not None and m.group(0).endswith("x"):
            slope += int(m.group(6) or 1) * (-1 if m.group(5) == "-" else 1)
        else:
            const += int(m.group(8)) * (-1 if m.group(7) == "-" else 1)
    assert pos == len(side), side
    return slope, const


_POLY_TERM = re.compile(r"([+-]?)(\d*)(x(?:\^(\d+))?)?")


def parse_poly(text: str) -> dict[int, int]:
    """'3x^2-5x+6' -> {2: 3, 1: -5, 0: 6}."""
    coefs: dict[int, int] = {}
    pos = 0
    s = text.replace(" ", "")
    while pos < len(s):
        m = _POLY_TERM.match(s, pos)
        assert m and m.end() > pos, s
        sign = -1 if m.group(1) == "-" else 1
        power = 0 if not m.group(3) else int(m.group(4) or 1)
        assert m.group(2) or m.group(3), s
        assert power not in coefs, s
        coefs[power] = sign * int(m.group(2) or 1)
        pos = m.end()
    return coefs


def solve_fraction(rows: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """Gauss-Jordan with Fractions; None when the matrix is singular."""
    n = len(rows)
    m = [list(r) + [b] for r, b in zip(rows, rhs)]
    for c in range(n):
        piv = next((r for r in range(c, n) if m[r][c] != 0), None)
        if piv is None:
            return None
        m[c], m[piv] = m[piv], m[c]
        for r in range(n):
            if r != c and m[r][c] != 0:
                f = m[r][c] / m[c][c]
                m[r] = [a - f * b for a, b in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


def test_linear_system_gains_unknowns():
    assert REGISTRY["linear_system"].params(50).unknowns > REGISTRY["linear_system"].params(1).unknowns


# ---------------------------------------------------------------------------------------------- linear_equation

_EQ_Q = re.compile(r"Solve for x: (.+) = (.+)\. Give the integer value of x\.")


@settings(max_examples=40, deadline=None)
@given(level=LEVELS, seed=SEEDS)
def test_linear_equation_gold_reformatted_and_perturbed(level, seed):
    verify = REGISTRY["linear_equation"].verify
    for it in items("linear_equation", level, 20, seed):
        x = int(it["answer"])
        assert verify(it, it["answer"])
        for ok in (f"x = {x}", f" {x} ", f"{x}.", f"{x}.0", f"X={x}", f"{2 * x}/2"):
            assert verify(it, ok), ok
        if x > 0:
            assert verify(it, f"+{x}") and verify(it, f"0{x}")
        for bad in {x + 1, x - 1, -x if x else 5, 2 * x + 1} - {x}:
            assert not verify(it, str(bad))
        assert not verify(it, "") and not verify(it, "x") and not verify(it, f"{3 * x + 1}/3")


def test_linear_equation_independent_parse():
    count = 0
    for level in range(1, 9):
        p = REGISTRY["linear_equation"].params(level)
        for it in items("linear_equation", level, 130, seed=level):
            m = _EQ_Q.fullmatch(it["question"])
            assert m, it["question"]
            (a, b), (c, d) = parse_linear(m.group(1).replace(" ", "")), parse_linear(m.group(2).replace(" ", ""))
            assert a != c  # exactly one solution
            x = Fraction(d - b, a - c)
            assert x.denominator == 1 and str(x.numerator) == it["answer"]
            assert abs(x) <= p.solution_max
            count += 1
    assert count >= 1000
    assert any("(" in it["question"] for it in items("linear_equation", 6, 50))


# ---------------------------------------------------------------------------------------------- linear_system

_SYS_Q = re.compile(r"Solve the system (.+)\. Answer in the form (.+)")


def parse_system(question: str) -> tuple[list[str], list[list[int]], list[int]]:
    m = _SYS_Q.fullmatch(question)
    assert m, question
    names = [part.split(" = ")[0] for part in m.group(2).split(", ")]
    rows, rhs = [], []
    for eq in m.group(1).split("; "):
        left, right = eq.replace(" ", "").split("=")
        coefs = dict.fromkeys(names, 0)
        for sign, digits, var in re.findall(r"([+-]?)(\d*)([a-z]\d*)", left):
            assert var in names and coefs[var] == 0, eq
            coefs[var] = int(digits or 1) * (-1 if sign == "-" else 1)
        assert re.fullmatch(r"([+-]?\d*[a-z]\d*)+", left), eq
        rows.append([coefs[v] for v in names])
        rhs.append(int(right))
    assert len(rows) == len(names)
    return names, rows, rhs


@settings(max_examples=40, deadline=None)
@given(level=LEVELS, seed=SEEDS)
def test_linear_system_gold_reformatted_and_perturbed(level, seed):
    verify = REGISTRY["linear_system"].verify
    for it in items("linear_system", level, 10, seed):
        gold = it["answer"]
        pairs = [p.split(" = ") for p in gold.split(", ")]
        names, values = [p[0] for p in pairs], [int(p[1]) for p in pairs]
        assert verify(it, gold)
        assert verify(it, ",".join(f"{k}={v}" for k, v in pairs))
        assert verify(it, "; ".join(f"{k} = {v}" for k, v in reversed(pairs)))
        assert verify(it, " and ".join(f"{k.upper()} = {v}" for k, v in pairs) + ".")
        assert verify(it, "(" + ", ".join(map(str, values)) + ")")
        assert verify(it, gold.replace("= ", "= +").replace("+-", "-"))
        for i in range(len(values)):
            wrong = list(values)
            wrong[i] += 1
            assert not verify(it, ", ".join(f"{k} = {v}" for k, v in zip(names, wrong)))
        assert not verify(it, ", ".join(f"{k} = {v}" for k, v in pairs[:-1]))  # a variable missing
        assert not verify(it, gold + ", q9 = 1")  # an extra variable
        if values[0] != values[1]:
            swapped = [values[1], values[0]] + values[2:]
            assert not verify(it, ", ".join(f"{k} = {v}" for k, v in zip(names, swapped)))
            assert not verify(it, ", ".join(map(str, swapped)))
        assert not verify(it, "") and not verify(it, "no solution")


def test_linear_system_independent_fraction_elimination():
    count = 0
    for level in range(1, 9):
        for it in items("linear_system", level, 130, seed=300 + level):
            names, rows, rhs = parse_system(it["question"])
            sol = solve_fraction([[Fraction(v) for v in r] for r in rows], [Fraction(v) for v in rhs])
            assert sol is not None, it["question"]  # nonsingular: the solution is unique
            assert all(v.denominator == 1 for v in sol)
            assert it["answer"] == ", ".join(f"{k} = {v.numerator}" for k, v in zip(names, sol))
            count += 1
    assert count >= 1000
    # spot-check with sympy too
    for it in items("linear_system", 5, 20, seed=9):
        names, rows, rhs = parse_system(it["question"])
        matrix = sympy.Matrix(rows)
        assert matrix.det() != 0
        sol = matrix.LUsolve(sympy.Matrix(rhs))
        assert it["answer"] == ", ".join(f"{k} = {v}" for k, v in zip(names, sol))


def test_bareiss_matches_sympy():
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 4, 5):
        for _ in range(40):
            m = rng.integers(-4, 5, size=(n, n))
            m[rng.random((n, n)) < 0.3] = 0
            assert bareiss_det(m.tolist()) == sympy.Matrix(m.tolist()).det()


def test_linear_system_four_unknowns():
    for it in items("linear_system", 13, 40, seed=1):
        names, rows, rhs = parse_system(it["question"])
        assert names == ["x", "y", "z", "w"]
        assert sympy.Matrix(rows).det() != 0


# ---------------------------------------------------------------------------------------------- polynomial

_EVAL_Q = re.compile(r"Evaluate p\(x\) = (.+) at x = (-?\d+)\.")
_ROOTS_Q = re.compile(
    r"Find the roots of p\(x\) = (.+)\. All of them are integers; list each distinct root once, "
    r"in increasing order, separated by commas\."
)


def divisors(n: int) -> list[int]:
    n = abs(n)
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def divide_out_root(poly: list[int], r: int) -> tuple[list[int], int]:
    """Synthetic division by (x - r), highest coefficient first, for as long as it divides exactly:
    (the quotient, how many times it divided)."""
    times = 0
    while len(poly) > 1:
        acc, quotient = 0, []
        for c in poly:
            acc = acc * r + c
            quotient.append(acc)
        if quotient[-1] != 0:
            break
        poly, times = quotient[:-1], times + 1
    return poly, times


def integer_roots_with_multiplicity(coefs: dict[int, int]) -> list[int]:
    """Rational-root search over the divisors of the lowest coefficient, then synthetic division."""
    deg = max(coefs)
    poly = [coefs.get(k, 0) for k in range(deg, -1, -1)]  # highest first
    roots = []
    while len(poly) > 1 and poly[-1] == 0:
        roots.append(0)
        poly.pop()
    for r in [s * d for d in divisors(poly[-1]) for s in (1, -1)] if len(poly) > 1 else []:
        poly, times = divide_out_root(poly, r)
        roots += [r] * times
    assert len(poly) == 1, "not every root is an integer"
    return sorted(roots)


@settings(max_examples=40, deadline=None)
@given(level=LEVELS, seed=SEEDS)
def test_polynomial_gold_reformatted_and_perturbed(level, seed):
    verify = REGISTRY["polynomial"].verify
    for it in items("polynomial", level, 20, seed):
        gold = it["answer"]
        values = [int(v) for v in gold.split(", ")]
        assert verify(it, gold)
        assert verify(it, ",".join(map(str, values)))
        assert verify(it, f" {gold}. ")
        if it["question"].startswith("Find"):
            assert verify(it, ", ".join(map(str, reversed(values))))
            assert verify(it, " or ".join(f"x = {v}" for v in values))
            assert verify(it, "{" + ", ".join(map(str, values)) + "}")
            assert not verify(it, ", ".join(map(str, values + [values[-1] + 1])))
            assert not verify(it, ", ".join(map(str, values + [values[0]])))  # a root twice
            if len(values) > 1:
                assert not verify(it, ", ".join(map(str, values[1:])))
        else:
            (v,) = values
            assert verify(it, f"{v:,}") and verify(it, f"x = {v}")
            if v > 0:
                assert verify(it, f"+{v}")
            assert not verify(it, f"{v}, {v}")
        shifted = [v + 1 for v in values]
        assert not verify(it, ", ".join(map(str, shifted)))
        assert not verify(it, "") and not verify(it, "none")


def test_polynomial_independent():
    count = Counter()
    for level in range(1, 9):
        p = REGISTRY["polynomial"].params(level)
        for it in items("polynomial", level, 130, seed=400 + level):
            q = it["question"]
            if m := _EVAL_Q.fullmatch(q):
                coefs = parse_poly(m.group(1))
                x = int(m.group(2))
                assert max(coefs) == p.eval_degree
                assert it["answer"] == str(sum(c * x**k for k, c in coefs.items()))
                count["eval"] += 1
            else:
                m = _ROOTS_Q.fullmatch(q)
                assert m, q
                coefs = parse_poly(m.group(1))
                roots = integer_roots_with_multiplicity(coefs)
                assert len(roots) == max(coefs) == p.roots_degree
                assert it["answer"] == ", ".join(str(r) for r in sorted(set(roots)))
                count["roots"] += 1
    assert count["eval"] + count["roots"] >= 1000
    assert min(count.values()) >= 400  # both kinds well represented
    # spot-check the root parser against sympy
    for it in items("polynomial", 6, 30, seed=11):
        if m := _ROOTS_Q.fullmatch(it["question"]):
            x = sympy.Symbol("x")
            expr = sum(c * x**k for k, c in parse_poly(m.group(1)).items())
            assert it["answer"] == ", ".join(str(r) for r in sorted(sympy.roots(sympy.Poly(expr, x))))


def test_high_level_items_still_exact():
    for it in items("linear_system", 50, 3):
        names, rows, rhs = parse_system(it["question"])
        sol = solve_fraction([[Fraction(v) for v in r] for r in rows], [Fraction(v) for v in rhs])
        assert it["answer"] == ", ".join(f"{k} = {v.numerator}" for k, v in zip(names, sol))
    for it in items("polynomial", 50, 6):
        if m := _EVAL_Q.fullmatch(it["question"]):
            x = int(m.group(2))
            assert it["answer"] == str(sum(c * x**k for k, c in parse_poly(m.group(1)).items()))
        else:  # too big to search divisors: divide the claimed roots out and demand a constant remainder
            m = _ROOTS_Q.fullmatch(it["question"])
            coefs = parse_poly(m.group(1))
            poly = [coefs.get(k, 0) for k in range(max(coefs), -1, -1)]
            claimed = [int(v) for v in it["answer"].split(", ")]
            for r in claimed:
                poly, times = divide_out_root(poly, r)
                assert times >= 1
            assert len(poly) == 1  # every root accounted for, all integers
    for it in items("linear_equation", 50, 3):
        m = _EQ_Q.fullmatch(it["question"])
        (a, b), (c, d) = parse_linear(m.group(1).replace(" ", "")), parse_linear(m.group(2).replace(" ", ""))
        assert Fraction(d - b, a - c) == int(it["answer"])


# ---------------------------------------------------------------------------------------------- solvers
# The skills' own solvers (integer slope/intercept division, Bareiss elimination, divisor search with
# synthetic division) re-derive the gold in test_contract.py; the parsers and sympy checks above stay the
# second, independent check.


@pytest.mark.parametrize("name", SKILLS)
def test_solver_refuses_unreadable_text(name):
    solve = REGISTRY[name].solve
    own = items(name, 6, 1, seed=1)[0]["question"]
    others = [items(other, 3, 1, seed=1)[0]["question"] for other in SKILLS if other != name]
    for bad in ("", "Solve 2x = 4.", own[:-12], own.replace(" ", "  ", 1), own.replace("x", "X"), *others):
        with pytest.raises(ValueError):
            solve({"question": bad})


def _ask(name: str, question: str) -> str:
    return REGISTRY[name].solve({"question": question})


def test_linear_equation_solver_by_hand():
    q = "Solve for x: {}. Give the integer value of x."
    assert _ask("linear_equation", q.format("3(x - 2) = x + 4")) == "5"
    assert _ask("linear_equation", q.format("-x - 4 = 2(x + 1) - 9")) == "1"
    assert _ask("linear_equation", q.format("-2(x + 3) + x = -x - 6 + 5x")) == "0"
    for bad in ("2x + 1 = 2x + 3", "2x = 3", "x + 1 = x + 1", "2x + = 4", "2y = 4"):
        with pytest.raises(ValueError):
            _ask("linear_equation", q.format(bad))


def test_linear_system_solver_by_hand():
    def q(eqs: str, names: str) -> str:
        return f"Solve the system {eqs}. Answer in the form {', '.join(f'{v} = ...' for v in names)}"

    assert _ask("linear_system", q("x + y + z = 6; x - y = -1; 2x + y + z = 7", "xyz")) == "x = 1, y = 2, z = 3"
    assert _ask("linear_system", q("y + z = 5; x + z = 4; x + y = 3", "xyz")) == "x = 1, y = 2, z = 3"  # pivot swap
    assert _ask("linear_system", q("y = 2; x = -1", "xy")) == "x = -1, y = 2"
    for eqs, names in (
        ("x + y = 2; 2x + 2y = 4", "xy"),  # singular
        ("x + y = 1; x - y = 0", "xy"),  # x = y = 1/2
        ("x + y + z = 1; x + y + z = 2; x - z = 0", "xyz"),  # singular, inconsistent
        ("x + x = 2; y = 1", "xy"),  # a variable twice
        ("x + q = 2; y = 1", "xy"),  # an unknown variable
        ("x + y = 2; x - y = 0; x = 1", "xy"),  # not square
    ):
        with pytest.raises(ValueError):
            _ask("linear_system", q(eqs, names))


def test_polynomial_solver_by_hand():
    def roots(poly: str) -> str:
        return _ask(
            "polynomial",
            f"Find the roots of p(x) = {poly}. All of them are integers; list each distinct root once, "
            "in increasing order, separated by commas.",
        )

    assert _ask("polynomial", "Evaluate p(x) = x^3 - 2x + 5 at x = -3.") == "-16"
    assert roots("x^3 - 3x^2 + 3x - 1") == "1"
    assert roots("x^4 - 2x^2 + 1") == "-1, 1"
    assert roots("-2x^5 + 8x^3") == "-2, 0, 2"
    assert roots("3x^4 - 132x^3 + 1995x^2 - 11406x + 15840") == "2, 11, 15, 16"
    for bad in ("x^2 - 2", "x^3 - 2", "x^4 + 1", "x^5 - x", "2x^3 - 3x^2 - 11x + 6", "x^6 - 64", "x^5 + x + 1000003",
                "7"):  # fmt: skip
        with pytest.raises(ValueError):
            roots(bad)


def test_polynomial_root_search_is_bounded():
    """No integer roots and a huge constant term: the search stops at the root bound, not at the constant."""
    with pytest.raises(ValueError):
        _ask(
            "polynomial",
            f"Find the roots of p(x) = x^7 + 3x + {10**40 + 1}. All of them are integers; list each distinct root "
            "once, in increasing order, separated by commas.",
        )


def test_integer_elimination_and_root_search_match_sympy():
    from curriculum.skills.algebra import _integer_solution, integer_roots

    rng = np.random.default_rng(21)
    for n in (2, 3, 4, 5):
        for _ in range(60):
            a = rng.integers(-4, 5, size=(n, n))
            a[rng.random((n, n)) < 0.3] = 0  # zero pivots force row swaps
            x = rng.integers(-9, 10, size=n)
            rows = [list(map(int, r)) + [int(v)] for r, v in zip(a, a @ x)]
            if sympy.Matrix(a.tolist()).det() == 0:
                with pytest.raises(ValueError):
                    _integer_solution(rows)
            else:
                assert _integer_solution(rows) == x.tolist()
    sx = sympy.Symbol("x")
    for _ in range(300):
        degree = int(rng.integers(1, 7))
        roots = sorted(rng.integers(-12, 13, size=degree).tolist())
        poly = sympy.Poly(int(rng.choice([-3, -2, -1, 1, 2, 3])) * sympy.prod([sx - r for r in roots]), sx)
        coefs = [int(c) for c in poly.all_coeffs()]
        assert integer_roots(coefs) == roots
        coefs[-1] += int(rng.integers(1, 4))  # usually no longer all-integer roots
        found = sympy.Poly(coefs, sx).ground_roots()  # the rational roots, with multiplicity
        if all(r.is_integer for r in found) and sum(found.values()) == len(coefs) - 1:
            assert integer_roots(coefs) == sorted(int(r) for r, k in found.items() for _ in range(k))
        else:
            with pytest.raises(ValueError):
                integer_roots(coefs)
