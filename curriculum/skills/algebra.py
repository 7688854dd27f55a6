"""Algebra: linear equations in x, square linear systems with a unique integer solution, polynomials.

Items are built backwards from a chosen integer solution (x, the solution vector, the roots), so the gold
answer is exact by construction; uniqueness is checked exactly (nonzero coefficient of x, exact integer
determinant). Columns are numpy int64 while a bound shows no overflow, numpy object arrays of Python ints beyond.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills._exact import bareiss_det, digit_count
from curriculum.skills.answers import parse_fraction, parse_int, parse_int_list
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

_SAFE = 2**62
_BOUND = 10**6  # knob ceiling that keeps int64 products exact (reached only at absurd levels)

# --------------------------------------------------------------------------------------------------
# shared formatting


def _nonzero(rng: np.random.Generator, hi: int, size: Any, positive: bool = False) -> np.ndarray:
    """Integers in [-hi, -1] u [1, hi] (or [1, hi])."""
    v = rng.integers(1, hi + 1, size=size, dtype=np.int64)
    if positive:
        return v
    return np.where(rng.integers(0, 2, size=size) == 1, -v, v)


def _lead_var(c: int, var: str) -> str:
    return var if c == 1 else f"-{var}" if c == -1 else f"{c}{var}"


def _next_var(c: int, var: str) -> str:
    if c > 0:
        return f" + {var}" if c == 1 else f" + {c}{var}"
    return f" - {var}" if c == -1 else f" - {-c}{var}"


# --------------------------------------------------------------------------------------------------
# linear_equation

_X, _C, _B = 0, 1, 2  # term kinds: a*x, constant, k*(x + m)


class LinearEquationParams(Knobs):
    terms_per_side: int  # the right side's last term is always the constant that makes x the solution
    x_on_both_sides: bool
    brackets: bool  # terms k(x + m)
    coef_max: int
    const_max: int
    solution_max: int


def linear_equation_params(level: int) -> LinearEquationParams:
    return LinearEquationParams(
        terms_per_side=2 if level < 3 else 2 + (level - 1) // 3,
        x_on_both_sides=level >= 2,
        brackets=level >= 4,
        coef_max=min(2 + level, _BOUND),
        const_max=min(8 + 3 * level, _BOUND),
        solution_max=min(5 + 2 * level, _BOUND),
    )


def _equation_draw(rng: np.random.Generator, level: int, n: int) -> tuple[list, list, np.ndarray, np.ndarray]:
    """Left/right sides as lists of (kind, value, inner) columns, x, and a bad mask."""
    p = linear_equation_params(level)
    if level == 1:
        left_kinds, right_kinds = [_X, _C], [_C]
    elif level == 2:
        left_kinds, right_kinds = [_X, _C], [_X, _C]
    else:
        left_kinds = [-1] + [None] * (p.terms_per_side - 1)  # -1: an x term or a bracket
        right_kinds = [None] * (p.terms_per_side - 1) + [_C]
    kinds_hi = 3 if p.brackets else 2
    x = rng.integers(0 if level == 1 else -p.solution_max, p.solution_max + 1, size=n, dtype=np.int64)
    sides = []
    slope = [np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)]
    const = [np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)]
    for s, kinds in enumerate((left_kinds, right_kinds)):
        cols = []
        for j, kind in enumerate(kinds):
            last_right = s == 1 and j == len(kinds) - 1
            if kind is None:
                k = rng.integers(0, kinds_hi, size=n)
            elif kind == -1:
                k = rng.integers(0, 2, size=n) * 2 if p.brackets else np.full(n, _X, dtype=np.int64)
            else:
                k = np.full(n, kind, dtype=np.int64)
            coef = _nonzero(rng, p.coef_max, n, positive=level == 1)
            val = _nonzero(rng, p.const_max, n)
            if p.brackets:  # bracket multipliers have |k| >= 2
                coef = np.where((k == _B) & (np.abs(coef) == 1), 2 * coef, coef)
            inner = _nonzero(rng, p.solution_max, n)
            if last_right:
                cols.append([k, None, None])  # filled in below
                continue
            slope[s] += np.where(k == _X, coef, 0) + np.where(k == _B, coef, 0)
            const[s] += np.where(k == _C, val, 0) + np.where(k == _B, coef * inner, 0)
            cols.append([k, np.where(k == _C, val, coef), inner])
        sides.append(cols)
    d = (slope[0] - slope[1]) * x + const[0] - const[1]
    sides[1][-1][1] = d
    sides[1][-1][2] = d
    bad = slope[0] == slope[1]
    if len(right_kinds) > 1:
        bad |= d == 0
    return sides[0], sides[1], x, bad


def _side_text(cols: list) -> list[str]:
    parts = []
    for j, (kind, val, inner) in enumerate(cols):
        ks, vs, ins = kind.tolist(), val.tolist(), inner.tolist()
        if j == 0:
            parts.append(
                [
                    ("x" if v == 1 else "-x" if v == -1 else f"{v}x") if k == _X
                    else str(v) if k == _C
                    else f"{v}(x + {m})" if m > 0 else f"{v}(x - {-m})"
                    for k, v, m in zip(ks, vs, ins)
                ]
            )  # fmt: skip
        else:
            parts.append(
                [
                    (
                        (f" + {v}x" if v != 1 else " + x") if v > 0 else (f" - {-v}x" if v != -1 else " - x")
                    ) if k == _X
                    else (f" + {v}" if v > 0 else f" - {-v}") if k == _C
                    else (f" + {v}" if v > 0 else f" - {-v}") + (f"(x + {m})" if m > 0 else f"(x - {-m})")
                    for k, v, m in zip(ks, vs, ins)
                ]
            )  # fmt: skip
    if len(parts) == 1:
        return parts[0]
    return ["".join(t) for t in zip(*parts)]


def generate_linear_equation(rng: np.random.Generator, level: int, n: int) -> Batch:
    left, right, x, bad = _equation_draw(rng, level, n)
    todo = np.flatnonzero(bad)
    while todo.size:
        l2, r2, x2, bad2 = _equation_draw(rng, level, todo.size)
        for cols, new in ((left, l2), (right, r2)):
            for col, ncol in zip(cols, new):
                for arr, narr in zip(col, ncol):
                    if arr is not narr:
                        arr[todo] = narr
        # the last right column shares one array for value and inner: assigned twice, harmless
        x[todo] = x2
        todo = todo[bad2]
    lt, rt = _side_text(left), _side_text(right)
    questions = [f"Solve for x: {a} = {b}. Give the integer value of x." for a, b in zip(lt, rt)]
    terms = sum(1 + (col[0] == _B) for col in (*left, *right))  # a bracket k(x + m) expands to two terms
    knobs = linear_equation_params(level)
    return Batch(questions, [str(v) for v in x.tolist()], with_difficulty(knobs, terms.tolist()))


_X_PREFIX = re.compile(r"^\s*x\s*=\s*", re.IGNORECASE)


def verify_linear_equation(item: Mapping[str, Any], answer: str) -> bool:
    """'3', ' +3 ', 'x = 3', '3.0', '6/2' all count for gold 3."""
    gold = item["answer"]
    if answer == gold:
        return True
    s = _X_PREFIX.sub("", str(answer)).replace("\u2212", "-")
    got = parse_int(s)
    if got is None:
        s = s.strip()
        frac = parse_fraction(s[:-1] if s.endswith(".") else s)
        return frac is not None and frac == int(gold)
    return got == int(gold)


# solver: the question text alone, exact Python ints. The generator picks x first and builds the text around
# it; the solver collects each side's slope and intercept and divides.

_LIN_T = r"(?:\d*x|\d+(?:\(x [+-] \d+\))?)"
_LIN_SIDE = rf"-?{_LIN_T}(?: [+-] {_LIN_T})*"
_EQUATION_Q = re.compile(rf"Solve for x: ({_LIN_SIDE}) = ({_LIN_SIDE})\. Give the integer value of x\.")


def _slope_intercept(side: str) -> tuple[int, int]:
    """A side already matched by _LIN_SIDE -> (slope, intercept): 'x - 3(x + 2) + 4' -> (-2, -2)."""
    toks = side.replace("(x + ", "(x+").replace("(x - ", "(x-").split(" ")
    slope = const = 0
    neg = False
    for i, tok in enumerate(toks):
        if i & 1:
            neg = tok == "-"
            continue
        last = tok[-1]
        if last == "x":
            c = tok[:-1]
            v = 1 if c == "" else -1 if c == "-" else int(c)
            slope += -v if neg else v
        elif last == ")":
            k, inner = tok[:-1].split("(x")
            k = -int(k) if neg else int(k)
            slope += k
            const += k * int(inner)
        else:
            const += -int(tok) if neg else int(tok)
    return slope, const


def solve_linear_equation(item: Mapping[str, Any]) -> str:
    """a*x + b = c*x + d  ->  x = (d - b) / (a - c), which must be a whole number."""
    m = _EQUATION_Q.fullmatch(item["question"])
    if m is None:
        raise ValueError(f"not a linear_equation question: {item['question']!r}")
    a, b = _slope_intercept(m[1])
    c, d = _slope_intercept(m[2])
    if a == c:
        raise ValueError("the equation has no unique solution")
    x, rem = divmod(d - b, a - c)
    if rem:
        raise ValueError("the solution is not an integer")
    return str(x)


register(
    Skill(
        name="linear_equation",
        domain="maths",
        description="Solve a linear equation in x with an integer solution; more terms and brackets with level.",
        params=linear_equation_params,
        generate_batch=generate_linear_equation,
        verify=verify_linear_equation,
        solve=solve_linear_equation,
        version=2,
        max_level=15000,  # CPU: 20 items + gold check ~1 s
        difficulty="terms to collect once brackets are expanded",
    )
)


# --------------------------------------------------------------------------------------------------
# linear_system

_VARS = ("x", "y", "z", "w", "u", "v", "p", "q", "r", "s", "t")


def _var_names(n: int) -> list[str]:
    return list(_VARS[:n]) if n <= len(_VARS) else [f"x{i + 1}" for i in range(n)]


class LinearSystemParams(Knobs):
    unknowns: int
    coef_max: int  # nonzero coefficients in [-coef_max, coef_max]
    solution_max: int


def linear_system_params(level: int) -> LinearSystemParams:
    return LinearSystemParams(
        unknowns=2 + ((level + 3) // 4).bit_length() - 1,  # 2 at 1-4, 3 at 5-12, 4 at 13-28, 5 at 29-60...
        coef_max=min(2 + level // 2, _BOUND),
        solution_max=min(3 + level, _BOUND),
    )


def _dets(a: np.ndarray) -> np.ndarray:
    """Exact determinants of a (n, n, N) stack: integer formulas for n <= 3, Bareiss per item beyond."""
    n = a.shape[0]
    if n == 1:
        return a[0, 0]
    if n == 2:
        return a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    if n == 3:
        return (
            a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1])
            - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
            + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0])
        )
    mats = np.moveaxis(a, 2, 0).tolist()
    return np.array([bareiss_det(m) for m in mats], dtype=object)


def generate_linear_system(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = linear_system_params(level)
    k = p.unknowns
    a = _nonzero(rng, p.coef_max, (k, k, n))
    bad = np.flatnonzero(_dets(a) == 0)
    while bad.size:
        a[:, :, bad] = _nonzero(rng, p.coef_max, (k, k, bad.size))
        bad = bad[_dets(a[:, :, bad]) == 0]
    x = rng.integers(-p.solution_max, p.solution_max + 1, size=(k, n), dtype=np.int64)
    b = np.einsum("ijn,jn->in", a, x)  # |b| <= k * coef_max * solution_max: exact in int64
    names = _var_names(k)
    eqs = []
    for i in range(k):
        row = a[i].tolist()
        parts = [[_lead_var(c, names[0]) for c in row[0]]]
        parts += [[_next_var(c, names[j]) for c in row[j]] for j in range(1, k)]
        parts.append([f" = {v}" for v in b[i].tolist()])
        eqs.append(["".join(t) for t in zip(*parts)])
    form = ", ".join(f"{v} = ..." for v in names)
    if k == 2:
        systems = [f"{e0}; {e1}" for e0, e1 in zip(*eqs)]
        xs, ys = x.tolist()
        answers = [f"x = {u}, y = {w}" for u, w in zip(xs, ys)]
    else:
        systems = ["; ".join(t) for t in zip(*eqs)]
        cols = [[f"{nm} = {v}" for v in col] for nm, col in zip(names, x.tolist())]
        answers = [", ".join(t) for t in zip(*cols)]
    questions = [f"Solve the system {s}. Answer in the form {form}" for s in systems]
    return Batch(questions, answers, with_difficulty(p, digit_count(_dets(a)).tolist()))


_ASSIGN = re.compile(r"([a-z]\w*)\s*=\s*([+-]?\s*\d+)(?:\.0*)?")
_GLUE = re.compile(r"^[\s,;.]*$|^[\s,;.]*(?:and)?[\s,;.]*$")


def _parse_assignments(text: str) -> dict[str, int] | None:
    s = str(text).strip().lower().replace("\u2212", "-").strip("(){}[]")
    found: dict[str, int] = {}
    pos = 0
    for m in _ASSIGN.finditer(s):
        if not _GLUE.match(s[pos : m.start()]):
            return None
        name, value = m.group(1), int(m.group(2).replace(" ", ""))
        if name in found and found[name] != value:
            return None
        found[name] = value
        pos = m.end()
    if not found or not _GLUE.match(s[pos:]):
        return None
    return found


def verify_linear_system(item: Mapping[str, Any], answer: str) -> bool:
    """'x=3,y=-2', 'y = -2; x = 3', 'x = 3 and y = -2', or the bare values in variable order '3, -2'."""
    gold = item["answer"]
    if answer == gold:
        return True
    want = _parse_assignments(gold)
    if want is None:  # pragma: no cover - gold is always well formed
        return False
    if "=" in str(answer):
        return _parse_assignments(answer) == want
    values = parse_int_list(answer)
    return values is not None and values == list(want.values())


# solver: the question text alone, exact Python ints: eliminate fraction-free (Bareiss) and back-substitute
# (the generator picks the solution vector first and multiplies it out).

_SYS_T = r"\d*[a-z]\w*"
_SYS_EQ = rf"-?{_SYS_T}(?: [+-] {_SYS_T})* = -?\d+"
_SYSTEM_Q = re.compile(
    rf"Solve the system ({_SYS_EQ}(?:; {_SYS_EQ})*)\. Answer in the form ([a-z]\w* = \.\.\.(?:, [a-z]\w* = \.\.\.)*)"
)
_DIGITS = "-0123456789"


def _integer_solution(rows: list[list[int]]) -> list[int]:
    """Augmented integer rows [A | b] -> the unique integer x with A x = b: fraction-free (Bareiss)
    elimination to an upper triangle, then back-substitution with exact divisions."""
    n = len(rows)
    m = [list(r) for r in rows]
    prev = 1
    for c in range(n):
        if m[c][c] == 0:
            swap = next((r for r in range(c + 1, n) if m[r][c] != 0), None)
            if swap is None:
                raise ValueError("the system has no unique solution")
            m[c], m[swap] = m[swap], m[c]
        pivot, row_c = m[c][c], m[c]
        for r in range(c + 1, n):
            row, f = m[r], m[r][c]
            for j in range(c + 1, n + 1):
                row[j] = (row[j] * pivot - f * row_c[j]) // prev
            row[c] = 0
        prev = pivot
    x = [0] * n
    for c in range(n - 1, -1, -1):
        row = m[c]
        v, rem = divmod(row[n] - sum(row[j] * x[j] for j in range(c + 1, n)), row[c])
        if rem:
            raise ValueError("the solution is not all integers")
        x[c] = v
    return x


def solve_linear_system(item: Mapping[str, Any]) -> str:
    """Rows of integer coefficients from the equation text (a variable left out has coefficient 0), solved
    exactly; the unknowns are named, and answered, in the order the question's answer form lists them."""
    m = _SYSTEM_Q.fullmatch(item["question"])
    if m is None:
        raise ValueError(f"not a linear_system question: {item['question']!r}")
    names = [part[:-6] for part in m[2].split(", ")]
    col = {name: j for j, name in enumerate(names)}
    k = len(names)
    eqs = m[1].split("; ")
    if len(col) != k or len(eqs) != k:
        raise ValueError("the system is not square")
    rows = []
    for eq in eqs:
        left, right = eq.split(" = ")
        row = [0] * (k + 1)
        row[k] = int(right)
        neg = False
        for i, tok in enumerate(left.split(" ")):
            if i & 1:
                neg = tok == "-"
                continue
            name = tok.lstrip(_DIGITS)
            c = tok[: len(tok) - len(name)]
            j = col.get(name)
            if j is None or row[j]:
                raise ValueError(f"unknown or repeated variable {name!r} in {eq!r}")
            v = 1 if c == "" else -1 if c == "-" else int(c)
            row[j] = -v if neg else v
        rows.append(row)
    if k == 2:  # Cramer's rule, the same exact arithmetic unrolled
        (a, b, e), (c, d, f) = rows
        det = a * d - b * c
        if det == 0:
            raise ValueError("the system has no unique solution")
        x, rx = divmod(e * d - b * f, det)
        y, ry = divmod(a * f - e * c, det)
        if rx or ry:
            raise ValueError("the solution is not all integers")
        return f"{names[0]} = {x}, {names[1]} = {y}"
    return ", ".join(f"{name} = {v}" for name, v in zip(names, _integer_solution(rows)))


register(
    Skill(
        name="linear_system",
        domain="maths",
        description="Solve an n x n integer linear system with a unique integer solution; answer 'x = 3, y = -2'.",
        params=linear_system_params,
        generate_batch=generate_linear_system,
        verify=verify_linear_system,
        solve=solve_linear_system,
        version=2,
        max_level=2**31 - 1,  # the catalogue's INTEGER level; knobs stop growing far below (0.5 s there)
        difficulty="digits of the coefficient determinant (the size elimination reaches)",
    )
)


# --------------------------------------------------------------------------------------------------
# polynomial


class PolynomialParams(Knobs):
    eval_degree: int
    coef_max: int  # evaluation mode: coefficients in [-coef_max, coef_max], leading one nonzero
    point_max: int  # evaluation point in [-point_max, point_max]
    roots_degree: int  # roots mode: number of integer roots (with repetition)
    root_max: int
    lead_max: int  # roots mode: leading coefficient in [-lead_max, lead_max] \ {0} (positive at level 1)


def polynomial_params(level: int) -> PolynomialParams:
    return PolynomialParams(
        eval_degree=2 + (level - 1) // 2,  # the two modes' degrees step in turn: the mean rises every level
        coef_max=min(4 + 2 * level, _BOUND),
        point_max=min(2 + level // 2, _BOUND),
        roots_degree=2 + level // 2,
        root_max=min(5 + 2 * level, _BOUND),
        lead_max=min(1 + level // 3, _BOUND),
    )


def _poly_text(coefs: list[list[int]]) -> list[str]:
    """coefs[i] = column of coefficients of x^(deg - i); the leading one is nonzero."""
    deg = len(coefs) - 1
    parts = []
    for i, col in enumerate(coefs):
        power = deg - i
        var = "" if power == 0 else "x" if power == 1 else f"x^{power}"
        if i == 0:
            parts.append([_lead_var(c, var) if var else str(c) for c in col])
        elif var:
            parts.append(["" if c == 0 else _next_var(c, var) for c in col])
        else:
            parts.append(["" if c == 0 else f" + {c}" if c > 0 else f" - {-c}" for c in col])
    return ["".join(t) for t in zip(*parts)]


def _eval_items(rng: np.random.Generator, p: PolynomialParams, n: int) -> tuple[list[str], list[str]]:
    d = p.eval_degree
    coefs = rng.integers(-p.coef_max, p.coef_max + 1, size=(d + 1, n), dtype=np.int64)
    coefs[0] = _nonzero(rng, p.coef_max, n)
    x = rng.integers(-p.point_max, p.point_max + 1, size=n, dtype=np.int64)
    if p.coef_max * (d + 1) * max(p.point_max, 1) ** d >= _SAFE:
        coefs, x = coefs.astype(object), x.astype(object)
    value = coefs[0]
    for c in coefs[1:]:
        value = value * x + c
    polys = _poly_text(coefs.tolist())
    questions = [f"Evaluate p(x) = {q} at x = {v}." for q, v in zip(polys, x.tolist())]
    return questions, [str(v) for v in value.tolist()]


def _roots_items(rng: np.random.Generator, p: PolynomialParams, n: int, level: int) -> tuple[list[str], list[str]]:
    d = p.roots_degree
    roots = np.sort(rng.integers(-p.root_max, p.root_max + 1, size=(d, n), dtype=np.int64), axis=0)
    lead = _nonzero(rng, p.lead_max, n, positive=level == 1)
    if p.lead_max * (1 + p.root_max) ** d >= _SAFE:
        lead, roots_ = lead.astype(object), roots.astype(object)
    else:
        roots_ = roots
    coefs = [lead]  # highest power first; multiply by (x - r) for each root
    for r in roots_:
        nxt = [coefs[0]]
        for i in range(1, len(coefs)):
            nxt.append(coefs[i] - r * coefs[i - 1])
        nxt.append(-r * coefs[-1])
        coefs = nxt
    polys = _poly_text([c.tolist() for c in coefs])
    questions = [
        f"Find the roots of p(x) = {q}. All of them are integers; list each distinct root once, "
        "in increasing order, separated by commas."
        for q in polys
    ]
    rows = roots.T.tolist()
    answers = [", ".join(str(v) for i, v in enumerate(row) if i == 0 or v != row[i - 1]) for row in rows]
    return questions, answers


def generate_polynomial(rng: np.random.Generator, level: int, n: int) -> Batch:
    """Half the items evaluate a polynomial at a point, half ask for its integer roots (shuffled)."""
    p = polynomial_params(level)
    is_eval = rng.permutation(np.arange(n) % 2 == 0)
    degree = np.where(is_eval, p.eval_degree, p.roots_degree).tolist()
    idx_e, idx_r = np.flatnonzero(is_eval).tolist(), np.flatnonzero(~is_eval).tolist()
    qe, ae = _eval_items(rng, p, len(idx_e))
    qr, ar = _roots_items(rng, p, len(idx_r), level)
    questions, answers = [""] * n, [""] * n
    for i, q, a in zip(idx_e, qe, ae):
        questions[i], answers[i] = q, a
    for i, q, a in zip(idx_r, qr, ar):
        questions[i], answers[i] = q, a
    return Batch(questions, answers, with_difficulty(p, degree))


_GROUPED = re.compile(r"[+-]?\s*\d{1,3}(?:,\d{3})+")
_ROOT_NOISE = re.compile(r"\b(?:x\s*=|and|or)|[{}()\[\]]")


def verify_polynomial(item: Mapping[str, Any], answer: str) -> bool:
    """Evaluation: the integer (any formatting). Roots: the distinct roots in any order, each once."""
    gold = item["answer"]
    if answer == gold:
        return True
    want = parse_int_list(gold)
    if want is None:  # pragma: no cover
        return False
    text = str(answer).lower().replace("\u2212", "-")
    if len(want) == 1:
        single = text.replace("x =", "").replace("x=", "").strip()
        if "," not in single or _GROUPED.fullmatch(single.rstrip(".")):  # '1,234' is one number, '0, 0' is not
            one = parse_int(single)
            if one is not None:
                return one == want[0]
    got = parse_int_list(_ROOT_NOISE.sub(" ", text).strip().rstrip("."))
    return got is not None and sorted(got) == sorted(want)


# solver: the question text alone, exact Python ints. The generator picks the roots first and multiplies
# them out; the solver searches the integer divisors of the constant term and divides every root out (its
# multiplicity proven exactly), solving the last quadratic factor by an exact integer square root.

_POLY_T = r"(?:\d*x(?:\^\d+)?|\d+)"
_POLY = rf"-?{_POLY_T}(?: [+-] {_POLY_T})*"
_EVAL_Q = re.compile(rf"Evaluate p\(x\) = ({_POLY}) at x = (-?\d+)\.")
_ROOTS_Q = re.compile(
    rf"Find the roots of p\(x\) = ({_POLY})\. All of them are integers; list each distinct root once, "
    r"in increasing order, separated by commas\."
)


_POLY_TERMS = re.compile(r"(?:^|([+-]) )(-?\d*)(x?)(?:\^(\d+))?")  # (operator, coefficient, x, power)


def _dense(poly: str) -> list[int]:
    """A polynomial matched by _POLY -> coefficients, highest power first (like powers add up)."""
    pairs, top = [], 0
    for sign, c, x, power in _POLY_TERMS.findall(poly):
        if x:
            v = int(c) if c and c != "-" else -1 if c else 1
            p = int(power) if power else 1
        else:
            v, p = int(c), 0
        pairs.append((p, -v if sign == "-" else v))
        if p > top:
            top = p
    coefs = [0] * (top + 1)
    for p, v in pairs:
        coefs[top - p] += v
    while len(coefs) > 1 and coefs[0] == 0:
        del coefs[0]
    return coefs


def _root_bound(coefs: list[int]) -> int:
    """Fujiwara's bound on |root|, 2 * max |a_(n-i) / a_n| ** (1/i) (the constant term halved), rounded up with
    room to spare; logs keep it finite for integers of any size."""
    n, lead, log2 = len(coefs) - 1, math.log(abs(coefs[0])), math.log(2)
    worst = max((math.log(abs(c)) - (log2 if i == n else 0) - lead) / i for i, c in enumerate(coefs) if i and c)
    return int(2 * math.exp(worst) * (1 + 1e-9)) + 2


def integer_roots(coefs: list[int]) -> list[int]:
    """All roots with multiplicity, sorted, of a polynomial (highest power first, leading coefficient nonzero);
    ValueError unless every root is an integer. Zero roots come off first; then a nonzero integer root divides
    the constant term and lies within the root bound, so r = 1, 2, ... is tried both ways up to both, and each
    root is divided out (synthetic division) as often as it goes; the last quadratic or linear factor is solved
    exactly (integer square root of the discriminant)."""
    roots: list[int] = []
    while len(coefs) > 1 and coefs[-1] == 0:
        roots.append(0)
        coefs = coefs[:-1]
    r, limit = 0, None
    while len(coefs) > 3:
        r += 1
        a0 = abs(coefs[-1])
        if r > a0 or (limit is not None and r > limit):
            raise ValueError("not every root is an integer")
        if r == 32:  # past the small roots: bound the search (only a polynomial without them gets this far)
            limit = _root_bound(coefs)
        if a0 % r:
            continue
        for cand in (r, -r):
            while len(coefs) > 3:
                acc, quotient = 0, []
                for c in coefs:
                    acc = acc * cand + c
                    quotient.append(acc)
                if acc:
                    break
                roots.append(cand)
                coefs = quotient[:-1]
    if len(coefs) == 3:
        a, b, c = coefs
        disc = b * b - 4 * a * c
        s = math.isqrt(disc) if disc >= 0 else -1
        if s < 0 or s * s != disc:
            raise ValueError("not every root is an integer")
        x1, r1 = divmod(-b - s, 2 * a)
        x2, r2 = divmod(-b + s, 2 * a)
        if r1 or r2:
            raise ValueError("not every root is an integer")
        roots += (x1, x2)
    elif len(coefs) == 2:
        x, rem = divmod(-coefs[1], coefs[0])
        if rem:
            raise ValueError("not every root is an integer")
        roots.append(x)
    return sorted(roots)


def solve_polynomial(item: Mapping[str, Any]) -> str:
    """Evaluation by Horner's rule; roots by integer_roots, each distinct root once, increasing."""
    question = item["question"]
    if m := _EVAL_Q.fullmatch(question):
        x, value = int(m[2]), 0
        for c in _dense(m[1]):
            value = value * x + c
        return str(value)
    if m := _ROOTS_Q.fullmatch(question):
        coefs = _dense(m[1])
        if len(coefs) < 2:
            raise ValueError("a constant polynomial has no finite set of roots")
        return ", ".join(map(str, sorted(set(integer_roots(coefs)))))
    raise ValueError(f"not a polynomial question: {question!r}")


register(
    Skill(
        name="polynomial",
        domain="maths",
        description="Evaluate an integer polynomial at a point, or list the integer roots of one built from roots.",
        params=polynomial_params,
        generate_batch=generate_polynomial,
        verify=verify_polynomial,
        solve=solve_polynomial,
        version=3,
        max_level=550,  # CPU: 20 items + gold check ~1 s (degrees 276 and 277 there)
        difficulty="degree of the polynomial",
    )
)
