"""Exact-integer helpers shared by the generators: numpy int64 while values fit, Python ints beyond.

The module name starts with an underscore so the registry does not import it as a skill module.
"""

from __future__ import annotations

import random

import numpy as np

_INT64_MAX = 2**63 - 1


def uniform_ints(rng: np.random.Generator, lo: int, hi: int, n: int) -> np.ndarray | list[int]:
    """n integers uniform in [lo, hi): an int64 array while `hi` fits, else a list of exact Python ints."""
    if hi <= _INT64_MAX:
        return rng.integers(lo, hi, size=n, dtype=np.int64)
    r = random.Random(int(rng.integers(2**63)))
    return [r.randrange(lo, hi) for _ in range(n)]


def as_list(values: np.ndarray | list[int]) -> list[int]:
    return values.tolist() if isinstance(values, np.ndarray) else values


def bareiss_det(rows: list[list[int]]) -> int:
    """Exact integer determinant (fraction-free Gaussian elimination)."""
    m = [list(r) for r in rows]
    n, sign, prev = len(m), 1, 1
    for k in range(n - 1):
        if m[k][k] == 0:
            for i in range(k + 1, n):
                if m[i][k] != 0:
                    m[k], m[i] = m[i], m[k]
                    sign = -sign
                    break
            else:
                return 0
        for i in range(k + 1, n):
            for j in range(k + 1, n):
                m[i][j] = (m[i][j] * m[k][k] - m[i][k] * m[k][j]) // prev
        prev = m[k][k]
    return sign * m[n - 1][n - 1]


_POW10 = 10 ** np.arange(19, dtype=np.int64)


def digit_count(values: np.ndarray | list[int]) -> np.ndarray:
    """Decimal digits of |v| per value (0 has one digit): int64 arrays by table lookup, exact ints by str."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        return np.maximum(np.searchsorted(_POW10, np.abs(values), side="right"), 1)
    return np.array([len(str(abs(v))) for v in values], dtype=np.int64)


def column_carries(cols: np.ndarray, digits: int) -> np.ndarray:
    """Carries of a column-by-column sum of the rows of `cols` (terms, n) int64 >= 0: per item, how many of the
    `digits` columns carry into the next one."""
    carry = np.zeros(cols.shape[1], dtype=np.int64)
    count = np.zeros(cols.shape[1], dtype=np.int64)
    rest = cols.copy()
    for _ in range(digits):
        carry = (rest % 10).sum(axis=0) + carry
        carry //= 10
        count += carry > 0
        rest //= 10
    return count
