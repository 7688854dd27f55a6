"""graph_reachability and shortest_path: answers re-derived from the question text by a second method."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from tests.skills.contract import assert_second_method_agrees

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


SECOND_METHOD = {"graph_reachability": reach_by_closure, "shortest_path": shortest_by_floyd}


@pytest.mark.parametrize("name", SKILLS)
def test_independent_check_1000_items(name):
    assert_second_method_agrees(name, lambda _, q: SECOND_METHOD[name](q), seed=1000)


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
def test_high_levels_are_exact(name):
    assert_second_method_agrees(name, lambda _, q: SECOND_METHOD[name](q), levels=(12, 50), n=3, seed=3, min_items=6)


@pytest.mark.parametrize("name", SKILLS)
def test_skill_solve_refuses_other_text(name):
    s = REGISTRY[name]
    own = _batch(name, 50, 650, 5).questions[0]
    other = _batch(SKILLS[1 - SKILLS.index(name)], 3, 1, 1).questions[0]
    for bad in ("", "What is love?", other, own[:-30]):
        with pytest.raises(ValueError):
            s.solve({"question": bad, "answer": "0"})
