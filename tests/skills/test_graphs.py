"""graph_reachability and shortest_path: answers re-derived from the question text by a second method."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY

SKILLS = ("graph_reachability", "shortest_path")
LEVELS = st.integers(min_value=1, max_value=12)
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)

_REACH_EDGE = re.compile(r"\b([A-Z]+) -> ([A-Z]+)\b")
_REACH_Q = re.compile(r"can you reach ([A-Z]+) starting from ([A-Z]+)\?")
_SP_EDGE = re.compile(r"\b([A-Z]+)-([A-Z]+) \((\d+)\)")
_SP_Q = re.compile(r"shortest path from ([A-Z]+) to ([A-Z]+)\?")


def _batch(name: str, level: int, seed: int, n: int):
    return REGISTRY[name].generate_batch(np.random.default_rng(seed), level, n)


def reach_by_closure(question: str) -> str:
    """Warshall transitive closure over a boolean matrix (not BFS)."""
    edges = _REACH_EDGE.findall(question)
    target, source = _REACH_Q.search(question).groups()
    nodes = sorted({x for e in edges for x in e} | {target, source})
    ix = {v: i for i, v in enumerate(nodes)}
    m = np.zeros((len(nodes), len(nodes)), dtype=bool)
    for a, b in edges:
        m[ix[a], ix[b]] = True
    for k in range(len(nodes)):
        m |= np.outer(m[:, k], m[k, :])
    return "Yes" if m[ix[source], ix[target]] else "No"


def shortest_by_floyd(question: str) -> str:
    """Floyd-Warshall over the parsed weighted edges (not Dijkstra)."""
    edges = _SP_EDGE.findall(question)
    source, target = _SP_Q.search(question).groups()
    nodes = sorted({x for a, b, _ in edges for x in (a, b)})
    ix = {v: i for i, v in enumerate(nodes)}
    d = np.full((len(nodes), len(nodes)), 10**9, dtype=np.int64)
    np.fill_diagonal(d, 0)
    for a, b, w in edges:
        i, j = ix[a], ix[b]
        d[i, j] = d[j, i] = min(d[i, j], int(w))
    for k in range(len(nodes)):
        d = np.minimum(d, d[:, [k]] + d[[k], :])
    assert d.max() < 10**9, "graph not connected"
    return str(int(d[ix[source], ix[target]]))


def test_independent_check_1000_items_each():
    for level in range(1, 9):
        for name, solver in (("graph_reachability", reach_by_closure), ("shortest_path", shortest_by_floyd)):
            b = _batch(name, level, 1000 + level, 130)
            for q, a in zip(b.questions, b.answers):
                assert solver(q) == a, (name, level, q, a)


@settings(max_examples=40, deadline=None)
@given(level=LEVELS, seed=SEEDS)
def test_reachability_verifier(level, seed):
    s = REGISTRY["graph_reachability"]
    b = _batch("graph_reachability", level, seed, 4)
    for q, gold in zip(b.questions, b.answers):
        item = {"question": q, "answer": gold}
        yes = gold == "Yes"
        for good in (gold, gold.lower(), f" {gold.upper()}. ", "true" if yes else "false", "y" if yes else "n"):
            assert s.verify(item, good), good
        for bad in ("No" if yes else "Yes", "false" if yes else "true", "maybe", "", "2"):
            assert not s.verify(item, bad), bad


@settings(max_examples=40, deadline=None)
@given(level=LEVELS, seed=SEEDS)
def test_shortest_path_verifier(level, seed):
    s = REGISTRY["shortest_path"]
    b = _batch("shortest_path", level, seed, 4)
    for q, gold in zip(b.questions, b.answers):
        item = {"question": q, "answer": gold}
        v = int(gold)
        assert v > 0
        for good in (gold, f"+{v}", f"00{v}", f" {v}. "):
            assert s.verify(item, good), good
        for bad in (str(v + 1), str(v - 1), str(-v), f"{v}.5", "", "Yes"):
            assert not s.verify(item, bad), bad


@pytest.mark.parametrize("name", SKILLS)
def test_determinism_and_high_levels(name):
    a = _batch(name, 4, 7, 50)
    assert a == _batch(name, 4, 7, 50)
    assert a.questions != _batch(name, 4, 8, 50).questions
    for level in (12, 50):
        b = _batch(name, level, 3, 3)
        assert len(b.questions) == 3 and all(b.answers)
    s = REGISTRY[name]
    assert s.params(50) != s.params(3)
    big = _batch(name, 50, 3, 3)
    solver = reach_by_closure if name == "graph_reachability" else shortest_by_floyd
    assert [solver(q) for q in big.questions] == big.answers


@pytest.mark.parametrize("name", SKILLS)
def test_diversity_and_balance(name):
    b = _batch(name, 3, 0, 300)
    assert len(set(b.questions)) >= 0.95 * 300
    top = Counter(b.answers).most_common(1)[0][1]
    assert top <= 0.6 * 300
    if name == "graph_reachability":
        assert Counter(b.answers)["Yes"] == 150


@pytest.mark.parametrize("name", SKILLS)
def test_skill_solve_rederives_gold_and_refuses_other_text(name):
    s = REGISTRY[name]
    for level in (*range(1, 9), 12, 50):
        b = _batch(name, level, 600 + level, 40 if level <= 12 else 5)
        for q, a in zip(b.questions, b.answers):
            assert s.solve({"question": q, "answer": a}) == a, (level, q, a)
    other = _batch(SKILLS[1 - SKILLS.index(name)], 3, 1, 1).questions[0]
    for bad in ("", "What is love?", other, b.questions[0][:-30]):
        with pytest.raises(ValueError):
            s.solve({"question": bad, "answer": "0"})
