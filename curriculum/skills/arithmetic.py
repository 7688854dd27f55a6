"""Integer arithmetic: sums, differences and products of multi-digit numbers, expressions with operator
precedence and parentheses, and division with remainder.

Every generator draws numpy columns for the whole batch, computes answers in int64 while they cannot
overflow (exact Python ints beyond), and builds strings with comprehensions over `.tolist()` values.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills._exact import as_list, column_carries, digit_count, uniform_ints
from curriculum.skills.answers import clean, verify_int_or_gold
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty


def _exact_digits(rng: np.random.Generator, digits: int, n: int) -> np.ndarray | list[int]:
    """n integers with exactly `digits` digits (2..9 for one digit: no 0 or 1 operands)."""
    return uniform_ints(rng, 10 ** (digits - 1) if digits > 1 else 2, 10**digits, n)


def _operand_array(rng: np.random.Generator, digits: int, terms: int, n: int) -> np.ndarray:
    """(terms, n) int64 for digits <= 18; the first operand always has exactly `digits` digits."""
    hi = 10**digits
    cols = rng.integers(0, hi, size=(terms, n), dtype=np.int64)
    cols[0] = rng.integers(hi // 10 if digits > 1 else 0, hi, size=n, dtype=np.int64)
    return cols


def _operands(rng: np.random.Generator, digits: int, terms: int, n: int) -> list[list[int]]:
    """(terms, n) Python ints; the first operand always has exactly `digits` digits."""
    hi = 10**digits
    if digits <= 18:
        return _operand_array(rng, digits, terms, n).tolist()
    # beyond int64: compose from 18-digit chunks, exact in Python ints
    chunks = -(-digits // 18)
    parts = rng.integers(0, 10**18, size=(chunks, terms, n), dtype=np.int64).tolist()
    out = [[0] * n for _ in range(terms)]
    for c in range(chunks):
        for t in range(terms):
            row, part = out[t], parts[c][t]
            for i in range(n):
                row[i] = row[i] * 10**18 + part[i]
    out = [[v % hi for v in row] for row in out]
    out[0] = [v if v >= hi // 10 else v + hi // 10 for v in out[0]]
    return out


def _column_work(cols: list[list[int]], subtract: bool) -> list[int]:
    """Exact ints (terms, n): per item, the columns of a written sum that carry, or of a written subtraction of
    every later row from the first that borrow (the slow path, beyond int64)."""
    out = []
    for xs in zip(*cols):
        width = max(len(str(x)) for x in xs)
        digits = [str(x).zfill(width)[::-1] for x in xs]
        carry = count = 0
        for i in range(width):
            column = [int(d[i]) for d in digits]
            if subtract:
                v = column[0] - sum(column[1:]) - carry
                carry = (9 - v) // 10 if v < 0 else 0
            else:
                carry = (sum(column) + carry) // 10
            count += carry > 0
        out.append(count)
    return out


def _operands_of(item: Mapping[str, Any], sep: str) -> list[int]:
    question = item["question"]
    if not question.endswith(" ="):
        raise ValueError(f"not an arithmetic question: {question!r}")
    return [int(t) for t in question[:-2].split(sep)]


# ---------------------------------------------------------------- addition


class AdditionParams(Knobs):
    digits: int  # operand length: 1..digits digits, at least one operand with exactly `digits`
    terms: int


def addition_params(level: int) -> AdditionParams:
    return AdditionParams(digits=level, terms=2 + (level - 1) // 4)


def generate_addition(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = addition_params(level)
    if p.digits <= 17:  # terms * 10**17 stays inside int64
        arr = _operand_array(rng, p.digits, p.terms, n)
        answers = list(map(str, arr.sum(axis=0).tolist()))
        cols = arr.tolist()
        carries = column_carries(arr, p.digits).tolist()
    else:
        cols = _operands(rng, p.digits, p.terms, n)
        answers = [str(sum(xs)) for xs in zip(*cols)]
        carries = _column_work(cols, subtract=False)
    if p.terms == 2:
        questions = [f"{a} + {b} =" for a, b in zip(*cols)]
    else:
        questions = [f"{' + '.join(map(str, xs))} =" for xs in zip(*cols)]
    return Batch(questions, answers, with_difficulty(p, carries))


def solve_addition(item: Mapping[str, Any]) -> str:
    return str(sum(_operands_of(item, " + ")))


register(
    Skill(
        name="addition",
        domain="maths",
        description="Add `terms` integers of up to `digits` digits.",
        params=addition_params,
        generate_batch=generate_addition,
        verify=verify_int_or_gold,
        solve=solve_addition,
        version=2,
        max_level=790,  # CPU: 20 items + gold check ~1 s (the carry count walks every digit of every term)
        small_levels=((1, 100),),
        difficulty="carries: columns of the written sum that carry",
    )
)


# ---------------------------------------------------------------- subtraction


class SubtractionParams(Knobs):
    digits: int  # operand length: 1..digits digits, the first operand with exactly `digits`
    terms: int  # a - b - c ...: results are negative whenever the subtrahends outweigh the first term


def subtraction_params(level: int) -> SubtractionParams:
    return SubtractionParams(digits=level, terms=2 + (level - 1) // 4)


def generate_subtraction(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = subtraction_params(level)
    if p.digits <= 17:
        arr = _operand_array(rng, p.digits, p.terms, n)
        answers = list(map(str, (arr[0] - arr[1:].sum(axis=0)).tolist()))
        cols = arr.tolist()
        borrows = _column_borrows(arr, p.digits).tolist()
    else:
        cols = _operands(rng, p.digits, p.terms, n)
        answers = [str(xs[0] - sum(xs[1:])) for xs in zip(*cols)]
        borrows = _column_work(cols, subtract=True)
    if p.terms == 2:
        questions = [f"{a} - {b} =" for a, b in zip(*cols)]
    else:
        questions = [f"{' - '.join(map(str, xs))} =" for xs in zip(*cols)]
    return Batch(questions, answers, with_difficulty(p, borrows))


def _column_borrows(arr: np.ndarray, digits: int) -> np.ndarray:
    """Columns of the written subtraction arr[0] - arr[1] - ... that borrow from the next one, per item."""
    borrow = np.zeros(arr.shape[1], dtype=np.int64)
    count = np.zeros(arr.shape[1], dtype=np.int64)
    rest = arr.copy()
    for _ in range(digits):
        column = rest % 10
        v = column[0] - column[1:].sum(axis=0) - borrow
        borrow = np.where(v < 0, (9 - v) // 10, 0)
        count += borrow > 0
        rest //= 10
    return count


def solve_subtraction(item: Mapping[str, Any]) -> str:
    first, *rest = _operands_of(item, " - ")
    return str(first - sum(rest))


register(
    Skill(
        name="subtraction",
        domain="maths",
        description="Subtract `terms - 1` integers of up to `digits` digits from a `digits`-digit one; "
        "results may be negative.",
        params=subtraction_params,
        generate_batch=generate_subtraction,
        verify=verify_int_or_gold,
        solve=solve_subtraction,
        version=2,
        max_level=860,  # CPU: 20 items + gold check ~1 s (the borrow count walks every digit of every term)
        small_levels=((1, 100),),
        difficulty="borrows: columns of the written subtraction that borrow",
    )
)


# ---------------------------------------------------------------- multiplication


class MultiplicationParams(Knobs):
    digits_a: int  # exact digit counts of the two factors (one-digit factors are 2..9)
    digits_b: int


def multiplication_params(level: int) -> MultiplicationParams:
    """2x1, 3x1, 4x2, 5x3 ... digits: level 3 already has 810,000 distinct questions."""
    return MultiplicationParams(digits_a=level + 1, digits_b=(level + 1) // 2)


def generate_multiplication(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = multiplication_params(level)
    a = _exact_digits(rng, p.digits_a, n)
    b = _exact_digits(rng, p.digits_b, n)
    if p.digits_a + p.digits_b <= 18:
        products = (a * b).tolist()
        pairs = (_nonzero_digits(a, p.digits_a) * _nonzero_digits(b, p.digits_b)).tolist()
        a, b = a.tolist(), b.tolist()
    else:
        a, b = as_list(a), as_list(b)
        products = [x * y for x, y in zip(a, b)]
        pairs = [(len(str(x)) - str(x).count("0")) * (len(str(y)) - str(y).count("0")) for x, y in zip(a, b)]
    questions = [f"{x} * {y} =" for x, y in zip(a, b)]
    return Batch(questions, list(map(str, products)), with_difficulty(p, pairs))


def _nonzero_digits(x: np.ndarray, digits: int) -> np.ndarray:
    count = np.zeros(len(x), dtype=np.int64)
    rest = x.copy()
    for _ in range(digits):
        count += rest % 10 != 0
        rest //= 10
    return count


def solve_multiplication(item: Mapping[str, Any]) -> str:
    a, b = _operands_of(item, " * ")
    return str(a * b)


register(
    Skill(
        name="multiplication",
        domain="maths",
        description="Multiply a `digits_a`-digit integer by a `digits_b`-digit one.",
        params=multiplication_params,
        generate_batch=generate_multiplication,
        verify=verify_int_or_gold,
        solve=solve_multiplication,
        version=2,
        max_level=2866,  # exact: a product has up to 2867 + 1433 = 4300 digits, Python's int-string limit
        difficulty="digit products: nonzero digits of one factor times those of the other",
    )
)


# ---------------------------------------------------------------- expressions

_OP_TEXT = np.array(["+", "-", "*"])
_SHAPES_PER_BATCH = 32
_PLAIN, _IN_BRACKETS, _BESIDE_BRACKETS = (1 / 3, 1 / 3), (0.4, 0.4), (0.2, 0.3)  # (P(+), P(-)); * gets the rest


class ExpressionParams(Knobs):
    terms: int  # numbers in the expression
    nesting: int  # depth of the deepest parenthesised group (terms >= nesting + 2)
    max_value: int  # numbers are drawn from 1..max_value


def expression_params(level: int) -> ExpressionParams:
    return ExpressionParams(terms=2 + (level + 1) // 2, nesting=(level + 1) // 3, max_value=5 * (level + 1))


def _shape(r: random.Random, terms: int, depth: int) -> list[Any]:
    """A chain of children (None = a number, list = a parenthesised chain) with `terms` numbers in all
    and parentheses nested exactly `depth` deep. Needs terms >= depth + 2."""
    if depth == 0:
        return [None] * terms
    deep_terms = r.randint(depth + 1, terms - 1)
    children: list[Any] = []
    rest = terms - deep_terms
    while rest:
        if rest >= 2 and r.random() < 0.3:
            size = r.randint(2, rest)
            children.append([None] * size)
            rest -= size
        else:
            children.append(None)
            rest -= 1
    children.insert(r.randint(0, len(children)), _shape(r, deep_terms, depth - 1))
    return children


def _layout(
    shape: list[Any], counts: list[int], order: list[tuple[int, int]], odds: list[tuple[float, float]], inner: bool
) -> tuple[str, list[Any]]:
    """%-template of a chain and its evaluation plan [(op index | None, leaf index | sub-plan)].
    Numbers and operators are numbered in reading order; `order` lists the template's slots and `odds`
    gets each operator's (P(+), P(-)): an operator beside a bracket leans to * and -, one inside brackets
    to + and -, so the brackets usually change the value."""
    parts: list[str] = []
    plan: list[Any] = []
    for j, child in enumerate(shape):
        op = None
        if j:
            op = counts[1]
            counts[1] += 1
            order.append((1, op))
            parts.append(" %s ")
            beside = child is not None or shape[j - 1] is not None
            odds.append(_BESIDE_BRACKETS if beside else _IN_BRACKETS if inner else _PLAIN)
        if child is None:
            sub: Any = counts[0]
            counts[0] += 1
            order.append((0, sub))
            parts.append("%d")
        else:
            text, sub = _layout(child, counts, order, odds, True)
            parts.append(f"({text})")
        plan.append((op, sub))
    return "".join(parts), plan


def _evaluate(plan: list[Any], leaves: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """Value of a chain with * binding tighter than + and -, for a column of items at once."""
    total = cur = None
    for op, sub in plan:
        v = leaves[sub] if isinstance(sub, int) else _evaluate(sub, leaves, ops)
        if op is None:
            cur = v
            continue
        o = ops[op]
        mul = o == 2
        total = np.where(mul, 0, cur) if total is None else np.where(mul, total, total + cur)
        cur = np.where(mul, cur * v, np.where(o == 0, v, -v))
    return cur if total is None else total + cur


def generate_expression(rng: np.random.Generator, level: int, n: int) -> Batch:
    """Items share a few random parenthesisation shapes; numbers and operators are drawn per item."""
    p = expression_params(level)
    k = min(n, _SHAPES_PER_BATCH)
    r = random.Random(int(rng.integers(2**63)))
    shapes = [_shape(r, p.terms, p.nesting) for _ in range(k)]
    leaves = rng.integers(1, p.max_value + 1, size=(p.terms, n), dtype=np.int64)
    # |value| <= max_value ** terms for every sub-expression: int64 while that fits, exact objects beyond
    if max(p.max_value, 2) ** p.terms >= 2**62:
        leaves = leaves.astype(object)
    group = rng.integers(0, k, size=n)
    by_group = np.argsort(group, kind="stable")
    ends = np.cumsum(np.bincount(group, minlength=k)).tolist()
    questions = np.empty(n, dtype=object)
    answers = np.empty(n, dtype=object)
    steps = np.empty(n, dtype=np.int64)
    start = 0
    for shape, end in zip(shapes, ends):
        idx = by_group[start:end]
        start = end
        if not len(idx):
            continue
        order: list[tuple[int, int]] = []
        odds: list[tuple[float, float]] = []
        template, plan = _layout(shape, [0, 0], order, odds, False)
        template += " ="
        plus, minus = np.array(odds).T[:, :, None]
        u = rng.random((p.terms - 1, len(idx)))
        g_ops = (u >= plus).astype(np.int64) + (u >= plus + minus)  # 0 +, 1 -, 2 *
        g_leaves = leaves[:, idx]
        values = _evaluate(plan, g_leaves, g_ops)
        leaf_cols, op_cols = g_leaves.tolist(), _OP_TEXT[g_ops].tolist()
        slots = [op_cols[i] if kind else leaf_cols[i] for kind, i in order]
        questions[idx] = [template % row for row in zip(*slots)]
        answers[idx] = list(map(str, values.tolist()))
        steps[idx] = p.terms - 1 + (g_ops == 2).sum(axis=0) + template.count("(")
    return Batch(questions.tolist(), answers.tolist(), with_difficulty(p, steps.tolist()))


# solver: the question text alone, Python ints, read left to right with one pending product per bracket level

_TOKEN = re.compile(r"\d+|\S")


def evaluate_expression(text: str) -> int:
    """Left-to-right evaluation of + - * ( ) over non-negative integers, * binding tighter than + and -.
    Each bracket level keeps (sum of finished terms, current product term, pending operator)."""
    total, term, op = 0, None, "+"  # op: what joins the next value; None: an operator is expected
    saved: list[tuple[int, int | None, str]] = []
    for tok in _TOKEN.findall(text):
        if tok in ("+", "-", "*"):
            if op is not None:
                raise ValueError(f"operator {tok!r} where a number belongs")
            op = tok
            continue
        if tok == "(":
            if op is None:
                raise ValueError("'(' where an operator belongs")
            saved.append((total, term, op))
            total, term, op = 0, None, "+"
            continue
        if tok == ")":
            if op is not None or not saved:
                raise ValueError("unbalanced or empty brackets")
            value = total + term
            total, term, op = saved.pop()
        elif op is not None and tok.isdigit():
            value = int(tok)
        else:
            raise ValueError(f"unexpected token {tok!r}")
        if op == "*":
            term *= value
        else:
            if term is not None:
                total += term
            term = value if op == "+" else -value
        op = None
    if op is not None or saved or term is None:
        raise ValueError("incomplete expression")
    return total + term


def solve_expression(item: Mapping[str, Any]) -> str:
    question = item["question"]
    if not question.endswith(" ="):
        raise ValueError(f"not an expression question: {question!r}")
    return str(evaluate_expression(question[:-2]))


@functools.lru_cache(maxsize=4096)
def _program(shape: str) -> tuple[str, ...] | None:
    """A question's shape (its numbers written #) as postfix: '#' pushes the next number, + - * apply.
    None where evaluate_expression would refuse the text (tried with every number 1) or reads other tokens."""
    if not shape.endswith(" =") or set(shape) - set("#+-*() ="):
        return None
    tokens = _TOKEN.findall(shape[:-2])
    try:
        evaluate_expression(" ".join("1" if t == "#" else t for t in tokens))
    except ValueError:
        return None
    out: list[str] = []
    ops: list[str] = []
    for tok in tokens:  # shunting-yard, * above + and -, all left-associative
        if tok == "#":
            out.append(tok)
        elif tok == "(":
            ops.append(tok)
        elif tok == ")":
            while ops[-1] != "(":
                out.append(ops.pop())
            ops.pop()
        else:
            while ops and ops[-1] != "(" and (ops[-1] == "*" or tok != "*"):
                out.append(ops.pop())
            ops.append(tok)
    return (*out, *reversed(ops))


_SAFE = 2.0**62  # a bound on every intermediate below this: no int64 step overflows


def solve_expression_batch(questions: list[str], min_group: int = 16) -> list[str | None]:
    """solve_expression over many questions at once: questions of one shape (at least `min_group` of them)
    are evaluated together in int64, with a float64 bound on every intermediate's size. Rows whose bound
    could overflow, numbers too long for int64, rare shapes and shapes the solver refuses are left to
    solve_expression."""
    import polars as pl

    texts = pl.Series(questions, dtype=pl.String)
    shapes = texts.str.replace_all(r"[0-9]+", "#")
    if len(questions) < min_group * shapes.n_unique():  # shapes too varied (high levels): all left to the solver
        return [None] * len(questions)
    numbers = texts.str.extract_all(r"[0-9]+").list.eval(pl.element().cast(pl.Int64, strict=False))
    groups = (
        pl.DataFrame({"shape": shapes, "numbers": numbers})
        .with_row_index("row")
        .filter(pl.col("numbers").list.drop_nulls().list.len() == pl.col("numbers").list.len())
        .group_by("shape")
        .agg("row", pl.col("numbers").list.explode(keep_nulls=False, empty_as_null=False))
        .filter(pl.col("row").list.len() >= min_group)
    )
    out: list[str | None] = [None] * len(questions)
    rows_flat = groups["row"].explode().to_numpy()
    numbers_flat = groups["numbers"].explode().to_numpy()
    row_at = number_at = 0
    sizes, counts = groups["row"].list.len().to_list(), groups["numbers"].list.len().to_list()
    for shape, size, count in zip(groups["shape"].to_list(), sizes, counts):
        rows, flat = rows_flat[row_at : row_at + size], numbers_flat[number_at : number_at + count]
        row_at, number_at = row_at + size, number_at + count
        program = _program(shape)
        if program is None or count != size * program.count("#"):
            continue
        leaves = flat.astype(np.int64).reshape(size, count // size).T
        stack: list[tuple[np.ndarray, np.ndarray]] = []  # (value, a bound on its size)
        safe = np.ones(size, dtype=bool)
        k = 0
        for tok in program:
            if tok == "#":
                stack.append((leaves[k], leaves[k].astype(np.float64)))
                k += 1
                continue
            (b, b_size), (a, a_size) = stack.pop(), stack.pop()
            bound = a_size * b_size if tok == "*" else a_size + b_size
            safe &= bound < _SAFE
            with np.errstate(over="ignore"):
                value = a * b if tok == "*" else a + b if tok == "+" else a - b
            stack.append((value, bound))
        for row, ok, value in zip(rows.tolist(), safe.tolist(), stack[0][0].tolist()):
            if ok:
                out[row] = str(value)
    return out


register(
    Skill(
        name="expression",
        domain="maths",
        description="Evaluate an integer expression of + - * with operator precedence and nested parentheses.",
        params=expression_params,
        generate_batch=generate_expression,
        verify=verify_int_or_gold,
        solve=solve_expression,
        solve_batch=solve_expression_batch,
        version=2,
        max_level=2359,  # exact: brackets 786 deep recurse within the default limit of 1000 frames, 200 spare
        difficulty="steps: operators, plus one per multiplication and per bracket pair",
    )
)


# ---------------------------------------------------------------- division with remainder

_QR = re.compile(
    r"(?:(?:q|quotient)\s*(?:=|:|is)?\s*)?\+?(\d+)\s*[,;]?\s*(?:with\s+)?(?:a\s+)?"
    r"(?:r|rem|remainder)\s*(?:=|:|is|of)?\s*\+?(\d+)"
)


class DivisionParams(Knobs):
    dividend_digits: int  # exact digit counts (a one-digit divisor is 2..9)
    divisor_digits: int


def division_params(level: int) -> DivisionParams:
    return DivisionParams(dividend_digits=level + 1, divisor_digits=1 + (level - 1) // 2)


def generate_division(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = division_params(level)
    a = _exact_digits(rng, p.dividend_digits, n)
    b = _exact_digits(rng, p.divisor_digits, n)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        q, rem = np.divmod(a, b)
        a, b, q, rem = a.tolist(), b.tolist(), q.tolist(), rem.tolist()
    else:
        a, b = as_list(a), as_list(b)
        q, rem = [x // y for x, y in zip(a, b)], [x % y for x, y in zip(a, b)]
    work = (digit_count(q) * p.divisor_digits).tolist()  # long division: one divisor-sized step per quotient digit
    questions = [f"Divide {x} by {y}. Answer as '<quotient> r <remainder>'." for x, y in zip(a, b)]
    answers = [f"{x} r {y}" for x, y in zip(q, rem)]
    return Batch(questions, answers, with_difficulty(p, work))


def _parse_quotient_remainder(text: str) -> tuple[int, int] | None:
    """'12 r 3', '12 R3', '12 remainder 3', 'q=12, r=3', 'quotient 12, remainder 3' -> (12, 3)."""
    m = _QR.fullmatch(clean(text))
    return (int(m[1]), int(m[2])) if m else None


def verify_division(item: Mapping[str, Any], answer: str) -> bool:
    gold = item["answer"]
    if answer == gold:
        return True
    got = _parse_quotient_remainder(answer)
    return got is not None and got == _parse_quotient_remainder(gold)


_DIVIDE = re.compile(r"Divide (\d+) by (\d+)\. Answer as '<quotient> r <remainder>'\.")


def solve_division(item: Mapping[str, Any]) -> str:
    m = _DIVIDE.fullmatch(item["question"])
    if not m:
        raise ValueError(f"not a division question: {item['question']!r}")
    q, r = divmod(int(m[1]), int(m[2]))
    return f"{q} r {r}"


register(
    Skill(
        name="division_remainder",
        domain="maths",
        description="Integer division with remainder, answered as 'q r r'.",
        params=division_params,
        generate_batch=generate_division,
        verify=verify_division,
        solve=solve_division,
        version=2,
        max_level=4299,  # exact: the dividend has 4300 digits, Python's int-string limit
        difficulty="long-division work: quotient digits times divisor digits",
    )
)
