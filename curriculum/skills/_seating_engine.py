"""The constraint engine behind the seating puzzles: clue proposal and two exact solvers.

An entity is e = attribute * n + value (attribute 0 holds the names); pos[e] is its seat 0..n-1 and who[a][p]
the value of attribute a at seat p. A clue is (kind, a, b): SAME / DIFF (entities a and b share a seat or
not), AT / NOTAT (entity a is / is not in seat b), LEFT (a immediately left of b), NEXT (a beside b), BEFORE
(a somewhere left of b). Clues are drawn true of a hidden solution and added until a solver proves exactly one
solution, then redundant clues are pruned while uniqueness holds. For small search spaces the solver is a
bitset over every candidate assignment (each clue is the set of candidates it allows); otherwise constraint
propagation (all-different + binary position constraints on bitmask domains) with backtracking.

The module name starts with an underscore so the registry does not import it as a skill module.
"""

from __future__ import annotations

import itertools
import random

import numpy as np

Clue = tuple[int, int, int]

SAME, DIFF, AT, NOTAT, LEFT, NEXT, BEFORE = range(7)
_KIND_WEIGHTS = (0.26, 0.12, 0.05, 0.12, 0.15, 0.15, 0.15)
_DIRECT = (SAME, AT)  # clues that state a pairing or a seat outright; the rest only relate or exclude
DIRECT_SHARE = sum(_KIND_WEIGHTS[k] for k in _DIRECT)


def kind_cdf(relational_share: float) -> tuple[float, ...]:
    """Cumulative clue-kind weights with the relational kinds (DIFF, NOTAT, LEFT, NEXT, BEFORE) given
    `relational_share` of the mass, each kind keeping its share within its group."""
    direct, relational = (1 - relational_share) / DIRECT_SHARE, relational_share / (1 - DIRECT_SHARE)
    scaled = (w * (direct if k in _DIRECT else relational) for k, w in enumerate(_KIND_WEIGHTS))
    return tuple(itertools.accumulate(scaled))


_KIND_CDF = kind_cdf(1 - DIRECT_SHARE)
BITSET_MAX = 20_000  # candidate assignments (n!)^k up to which the bitset solver is used


def factorial(n: int) -> int:
    out = 1
    for i in range(2, n + 1):
        out *= i
    return out


# --- clue proposal


def propose(r: random.Random, n: int, k: int, pos: list[int], who: list[list[int]], cdf: tuple = _KIND_CDF) -> Clue:
    """A random clue that is true of the hidden solution (pos, who); `cdf` weighs the clue kinds."""
    x = r.random()
    kind = 0
    while x >= cdf[kind] and kind < 6:
        kind += 1
    rand = r.random
    if kind in (SAME, DIFF):
        a1, a2 = r.sample(range(k), 2)
        if a2 == 0:  # a name is always the subject
            a1, a2 = a2, a1
        p = int(rand() * n)
        q = p
        if kind == DIFF:
            q = (p + 1 + int(rand() * (n - 1))) % n
        return kind, a1 * n + who[a1][p], a2 * n + who[a2][q]
    if kind in (AT, NOTAT):
        e = int(rand() * n * k)
        p = pos[e]
        if kind == NOTAT:
            p = (p + 1 + int(rand() * (n - 1))) % n
        return kind, e, p
    if kind == BEFORE:
        p, q = sorted(r.sample(range(n), 2))
    else:
        p = int(rand() * (n - 1))
        q = p + 1
    e1 = int(rand() * k) * n
    e2 = int(rand() * k) * n
    e1 += who[e1 // n][p]
    e2 += who[e2 // n][q]
    if kind == NEXT and rand() < 0.5:
        e1, e2 = e2, e1
    return kind, e1, e2


def clue_key(c: Clue) -> Clue:
    """The same clue whichever way round a symmetric one was drawn."""
    kind, a, b = c
    if kind in (SAME, DIFF, NEXT) and a > b:
        return kind, b, a
    return c


# --- solver 1: bitsets over all (n!)^k candidate assignments


def _bits(arr: np.ndarray) -> int:
    return int.from_bytes(np.packbits(arr, bitorder="little").tobytes(), "little")


def bitset_tables(n: int, k: int) -> tuple[list[list[int]], int]:
    """E[e][p]: the set of candidates in which entity e sits in seat p; and the set of all candidates."""
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int8)
    f = len(perms)
    idx = np.arange(f**k, dtype=np.int64)
    table = []
    for a in range(k):
        placed = perms[(idx // f**a) % f]
        for v in range(n):
            col = placed[:, v]
            table.append([_bits(col == p) for p in range(n)])
    return table, (1 << f**k) - 1


def clue_mask(c: Clue, t: list[list[int]], n: int, everything: int) -> int:
    """The set of candidates a clue allows."""
    kind, a, b = c
    if kind == AT:
        return t[a][b]
    if kind == NOTAT:
        return everything ^ t[a][b]
    ta = t[a]
    tb = t[b]
    m = 0
    if kind == SAME or kind == DIFF:
        for p in range(n):
            m |= ta[p] & tb[p]
        return m if kind == SAME else everything ^ m
    if kind == LEFT:
        for p in range(n - 1):
            m |= ta[p] & tb[p + 1]
    elif kind == NEXT:
        for p in range(n - 1):
            m |= (ta[p] & tb[p + 1]) | (ta[p + 1] & tb[p])
    else:  # BEFORE: a strictly left of b
        right = 0
        for p in range(n - 1, 0, -1):
            right |= tb[p]
            m |= ta[p - 1] & right
    return m


def bitset_clues(r: random.Random, n: int, k: int, pos, who, tables, cdf: tuple = _KIND_CDF) -> list[Clue]:
    """Clues true of (pos, who), added until one candidate is left, then pruned to a minimal set."""
    t, everything = tables
    cur = everything
    clues: list[Clue] = []
    masks: list[int] = []
    seen: set[Clue] = set()
    while cur & (cur - 1):  # more than one candidate left
        c = propose(r, n, k, pos, who, cdf)
        key = clue_key(c)
        if key in seen:
            continue
        seen.add(key)
        m = clue_mask(c, t, n, everything)
        if cur & m == cur:  # uninformative
            continue
        cur &= m
        clues.append(c)
        masks.append(m)
    keep = list(range(len(clues)))
    for i in sorted(keep, key=lambda _: r.random()):  # prune redundant clues, random order
        acc = everything
        for j in keep:
            if j != i:
                acc &= masks[j]
        if not acc & (acc - 1):
            keep.remove(i)
    return [clues[i] for i in keep]


# --- solver 2: propagation + backtracking on seat bitmasks


def _propagate(dom: list[int], cons: list[Clue], groups: list[range], full: int) -> bool:
    """Narrow `dom` in place to a fixpoint; False on contradiction."""
    changed = True
    while changed:
        changed = False
        for kind, a, b in cons:
            da = dom[a]
            db = dom[b]
            if kind == SAME:
                na = nb = da & db
            elif kind == DIFF:
                na, nb = da, db
                if not da & (da - 1):
                    nb = db & ~da
                if not nb & (nb - 1):
                    na = da & ~nb
            elif kind == LEFT:
                nb = db & (da << 1)
                na = da & (nb >> 1)
            elif kind == NEXT:
                nb = db & ((da << 1) | (da >> 1))
                na = da & ((nb << 1) | (nb >> 1))
            else:  # BEFORE
                low = da & -da
                nb = db & ~((low << 1) - 1)
                na = da & ((1 << (nb.bit_length() - 1)) - 1) if nb else 0
            if na != da or nb != db:
                if not na or not nb:
                    return False
                dom[a] = na
                dom[b] = nb
                changed = True
        for g in groups:  # all-different within an attribute: naked and hidden singles
            once = twice = singles = 0
            for e in g:
                d = dom[e]
                twice |= once & d
                once |= d
                if not d & (d - 1):
                    if singles & d or not d:
                        return False
                    singles |= d
            if once != full:
                return False
            hidden = once & ~twice
            for e in g:
                d = dom[e]
                if d & (d - 1):
                    nd = d & ~singles
                    h = nd & hidden
                    if h:
                        if h & (h - 1):
                            return False
                        nd = h
                    if nd != d:
                        if not nd:
                            return False
                        dom[e] = nd
                        changed = True
    return True


def _count(dom: list[int], cons, groups, full: int, limit: int = 2, out: list | None = None) -> int:
    """Number of solutions below `dom`, stopping at `limit`; `dom` is consumed; solutions go to `out`."""
    if not _propagate(dom, cons, groups, full):
        return 0
    best, size = -1, 99
    for e, d in enumerate(dom):
        if d & (d - 1):
            c = d.bit_count()
            if c < size:
                best, size = e, c
                if c == 2:
                    break
    if best < 0:
        if out is not None:
            out.append(dom)
        return 1
    total = 0
    d = dom[best]
    while d:
        bit = d & -d
        d ^= bit
        nd = dom.copy()
        nd[best] = bit
        total += _count(nd, cons, groups, full, limit - total, out)
        if total >= limit:
            break
    return total


def _add_clue(dom: list[int], cons: list[Clue], clue: Clue) -> None:
    """A seat clue (AT, NOTAT) narrows its entity's domain in place; any other clue joins the constraints."""
    kind, a, b = clue
    if kind == AT:
        dom[a] &= 1 << b
    elif kind == NOTAT:
        dom[a] &= ~(1 << b)
    else:
        cons.append(clue)


def _domains_and_constraints(clues, n: int, k: int) -> tuple[list[int], list[Clue]]:
    """Seat-bitmask domains (every seat open) narrowed by the seat clues, and the remaining constraints."""
    dom = [(1 << n) - 1] * (n * k)
    cons: list[Clue] = []
    for c in clues:
        _add_clue(dom, cons, c)
    return dom, cons


def csp_solutions(clues, n: int, k: int, limit: int = 2) -> list[list[int]]:
    """Up to `limit` solutions (seat bitmask per entity) of a clue list, by propagation and backtracking."""
    full = (1 << n) - 1
    groups = [range(a * n, a * n + n) for a in range(k)]
    dom, cons = _domains_and_constraints(clues, n, k)
    out: list[list[int]] = []
    _count(dom, cons, groups, full, limit, out)
    return out


def csp_unique(clues, n: int, k: int, groups, full: int) -> bool:
    dom, cons = _domains_and_constraints(clues, n, k)
    return _count(dom, cons, groups, full) == 1


def csp_clues(r: random.Random, n: int, k: int, pos, who, cdf: tuple = _KIND_CDF) -> list[Clue]:
    """Clues true of (pos, who), added until propagation and search prove one solution, then pruned."""
    full = (1 << n) - 1
    groups = [range(a * n, a * n + n) for a in range(k)]
    dom = [full] * (n * k)
    cons: list[Clue] = []
    clues: list[Clue] = []
    seen: set[Clue] = set()
    while True:
        c = propose(r, n, k, pos, who, cdf)
        key = clue_key(c)
        if key in seen:
            continue
        seen.add(key)
        nd, ncons = dom.copy(), list(cons)
        _add_clue(nd, ncons, c)
        _propagate(nd, ncons, groups, full)  # true clues: never a contradiction
        if nd == dom:
            continue
        dom, cons = nd, ncons
        clues.append(c)
        if all(not d & (d - 1) for d in dom) or _count(dom.copy(), cons, groups, full) == 1:
            break
    keep = clues
    for c in sorted(clues, key=lambda _: r.random()):
        trial = [x for x in keep if x is not c]
        if csp_unique(trial, n, k, groups, full):
            keep = trial
    return keep
