"""seating: questions parsed back and solved by an independent method.

The clue sentences are parsed with this file's own phrase table and every assignment is enumerated (numpy,
attribute by attribute, filtering with the clues known so far): exactly one must survive, it must answer the
question as the gold answer does, and no clue may be redundant.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _batch(name: str, level: int, seed: int, n: int):
    return REGISTRY[name].generate_batch(np.random.default_rng(seed), level, n)


# seating

# noun -> reference, property, negated property, "what" question (this file's own phrase table)
_PHRASES = {
    "shirt colour": ("the person in the {} shirt", "wears the {} shirt", "does not wear the {} shirt",
                     r"What colour is (\w+)'s shirt\?"),
    "pet": ("the owner of the {}", "owns the {}", "does not own the {}", r"Which pet does (\w+) own\?"),
    "drink": ("the person who drinks {}", "drinks {}", "does not drink {}", r"What does (\w+) drink\?"),
    "sport": ("the person who plays {}", "plays {}", "does not play {}", r"Which sport does (\w+) play\?"),
    "job": ("the {}", "is the {}", "is not the {}", r"What is (\w+)'s job\?"),
    "home city": ("the person from {}", "is from {}", "is not from {}", r"Which city is (\w+) from\?"),
    "favourite fruit": ("the person who likes {}", "likes {}", "does not like {}", r"Which fruit does (\w+) like\?"),
}  # fmt: skip

_POSITIONAL = (
    (re.compile(r"^(.+) sits immediately left of (.+)$"), "left", False),
    (re.compile(r"^(.+) sits immediately right of (.+)$"), "left", True),
    (re.compile(r"^(.+) sits next to (.+)$"), "next", False),
    (re.compile(r"^(.+) sits somewhere left of (.+)$"), "before", False),
    (re.compile(r"^(.+) sits somewhere right of (.+)$"), "before", True),
)


def parse_seating(question: str):
    """-> (n, values per attribute (names first), clues, question kind/target)."""
    head, rest = question.split(" Clues: ")
    m = re.match(r"^(.*) sit in a row of (\d+) seats, numbered 1 to \2 from left to right, one person per seat\.", head)
    names = re.split(r", | and ", m.group(1))
    n = int(m.group(2))
    cats = re.findall(r"Each has a different ([a-z ]+) \(([^)]*)\)\.", head)
    nouns = [c for c, _ in cats]
    values = [names] + [v.split(", ") for _, v in cats]
    assert all(len(v) == n == len(set(v)) for v in values)
    refs, props, negs = {}, {}, {}
    for i, nm in enumerate(names):
        refs[nm] = (0, i)
    for a, noun in enumerate(nouns, 1):
        ref, prop, neg, _ = _PHRASES[noun]
        for i, v in enumerate(values[a]):
            refs[ref.format(v)] = (a, i)
            props[prop.format(v)] = (a, i)
            negs[neg.format(v)] = (a, i)

    def entity(text: str):
        return refs[text] if text in refs else refs[text[0].lower() + text[1:]]

    parts = re.split(r"\s*\(\d+\) ", rest)
    assert parts[0] == ""
    last, qtext = parts[-1].split(". ", 1)
    sentences = parts[1:-1] + [last + "."]
    clues = []
    for s in sentences:
        assert s.endswith(".")
        s = s[:-1]
        for pat, kind, swap in _POSITIONAL:
            mm = pat.match(s)
            if mm:
                a, b = entity(mm.group(1)), entity(mm.group(2))
                clues.append((kind, b, a) if swap else (kind, a, b))
                break
        else:
            mm = re.match(r"^(.+?) (does not sit|sits) in seat (\d+)$", s)
            if mm:
                kind = "at" if mm.group(2) == "sits" else "notat"
                clues.append((kind, entity(mm.group(1)), int(mm.group(3)) - 1))
                continue
            hits = [(k, "diff", e) for k, e in negs.items() if s.endswith(" " + k)]
            hits += [(k, "same", e) for k, e in props.items() if s.endswith(" " + k)]
            assert len(hits) == 1, s
            k, kind, e = hits[0]
            clues.append((kind, entity(s[: -len(k) - 1]), e))
    if mm := re.fullmatch(r"In which seat does (.+) sit\? Answer with the seat number\.", qtext):
        query = ("seat", entity(mm.group(1)))
    elif mm := re.fullmatch(r"Who (.+)\?", qtext):
        query = ("who", props[mm.group(1)])
    else:
        (hit,) = [
            (a, re.fullmatch(_PHRASES[noun][3], qtext).group(1))
            for a, noun in enumerate(nouns, 1)
            if re.fullmatch(_PHRASES[noun][3], qtext)
        ]
        query = ("what", hit[0], names.index(hit[1]))
    return n, values, clues, query


def _holds(kind, sa, sb):
    if kind == "same":
        return sa == sb
    if kind == "diff":
        return sa != sb
    if kind == "at":
        return sa == sb
    if kind == "notat":
        return sa != sb
    if kind == "left":
        return sa + 1 == sb
    if kind == "next":
        return np.abs(sa - sb) == 1
    return sa < sb  # before


def enumerate_solutions(n: int, k: int, clues) -> np.ndarray:
    """All (k, n) seat assignments satisfying the clues, as an array (m, k, n): seat of value v of attribute a."""
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int8)
    states = perms[:, None, :]
    for a in range(k):
        if a:
            m = len(states)
            states = np.concatenate([np.repeat(states, len(perms), axis=0), np.tile(perms, (m, 1))[:, None, :]], axis=1)
        keep = np.ones(len(states), dtype=bool)
        for kind, x, y in clues:
            if kind in ("at", "notat"):
                if x[0] != a:
                    continue
                keep &= _holds(kind, states[:, x[0], x[1]], y)
            elif max(x[0], y[0]) == a:
                keep &= _holds(kind, states[:, x[0], x[1]], states[:, y[0], y[1]])
        states = states[keep]
    return states


def solve_seating(question: str, check_minimal: bool = False) -> str:
    n, values, clues, query = parse_seating(question)
    k = len(values)
    sols = enumerate_solutions(n, k, clues)
    assert len(sols) == 1, f"{len(sols)} solutions"
    (sol,) = sols
    if check_minimal:
        for i in range(len(clues)):
            assert len(enumerate_solutions(n, k, clues[:i] + clues[i + 1 :])) > 1, f"clue {i + 1} redundant"
    if query[0] == "seat":
        a, v = query[1]
        return str(int(sol[a, v]) + 1)
    if query[0] == "who":
        a, v = query[1]
        return values[0][int(np.flatnonzero(sol[0] == sol[a, v])[0])]
    _, a, person = query
    return values[a][int(np.flatnonzero(sol[a] == sol[0, person])[0])]


def test_seating_independent_1000():
    for level in range(1, 9):
        b = _batch("seating", level, 900 + level, 125)
        for i, (q, a) in enumerate(zip(b.questions, b.answers)):
            assert solve_seating(q, check_minimal=i < 12) == a, (q, a)


def test_seating_solvers_agree():
    """The bitset solver (small spaces) and the propagation solver must agree on uniqueness."""
    import random

    from curriculum.skills import _seating_engine as engine

    r = random.Random(5)
    for n, k in ((2, 2), (3, 2), (3, 3), (4, 2), (4, 3)):
        table, everything = engine.bitset_tables(n, k)
        groups = [range(a * n, a * n + n) for a in range(k)]
        for _ in range(60):
            who = [r.sample(range(n), n) for _ in range(k)]
            pos = [0] * (n * k)
            for a in range(k):
                for p, v in enumerate(who[a]):
                    pos[a * n + v] = p
            clues = [engine.propose(r, n, k, pos, who) for _ in range(r.randint(1, 3 * n))]
            allowed = everything
            for c in clues:
                allowed &= engine.clue_mask(c, table, n, everything)
            assert allowed, "true clues exclude the solution"
            assert (allowed.bit_count() == 1) == engine.csp_unique(clues, n, k, groups, (1 << n) - 1)
            assert min(len(engine.csp_solutions(clues, n, k, limit=10**6)), 10**6) == allowed.bit_count()


def _check_text_verifier(s, item, gold, others):
    for good in (gold, gold.lower(), gold.upper(), f" {gold}. "):
        assert s.verify(item, good), good
    for bad in others:
        assert not s.verify(item, bad), bad


@settings(max_examples=30, deadline=None)
@given(level=st.integers(min_value=1, max_value=9), seed=SEEDS)
def test_seating_verifier(level, seed):
    s = REGISTRY["seating"]
    b = _batch("seating", level, seed, 3)
    for q, gold in zip(b.questions, b.answers):
        item = {"question": q, "answer": gold}
        n, values, _, query = parse_seating(q)
        if gold.isdigit():
            v = int(gold)
            nth = f"{v}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(v, 'th') }"
            for good in (gold, f"seat {v}", f"Seat {v}.", f"0{v}", f"+{v}", nth):
                assert s.verify(item, good), good
            for bad in (str(v + 1), str(v - 1), f"seat {v + 1}", "", values[0][0]):
                assert not s.verify(item, bad), bad
        else:
            pool = values[0] if query[0] == "who" else values[query[1]]
            assert gold in pool
            _check_text_verifier(s, item, gold, [x for x in pool if x != gold] + ["", "1"])
            assert s.verify(item, f"the {gold}")


def test_skill_solve_refuses_other_text():
    s = REGISTRY["seating"]
    own = _batch("seating", 50, 750, 3).questions[0]
    other = _batch("ordering", 3, 1, 1).questions[0]
    for bad in ("", "What is love?", other, own[:-20]):
        with pytest.raises(ValueError):
            s.solve({"question": bad, "answer": "0"})


def test_solve_rejects_underdetermined_puzzles():
    """Dropping a needed clue leaves several answers: the skill's solver must refuse, not guess."""
    b = _batch("seating", 5, 11, 20)
    for q in b.questions:
        dropped = re.sub(r"\(1\) [^()]*?\. (?=\(2\))", "", q)
        renumbered = re.sub(r"\((\d+)\) ", lambda m: f"({int(m.group(1)) - 1}) ", dropped)
        with pytest.raises(ValueError):  # every clue is needed (pruned): several solutions remain
            REGISTRY["seating"].solve({"question": renumbered})
