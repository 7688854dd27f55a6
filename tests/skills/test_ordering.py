"""ordering: questions parsed back and solved by an independent method.

The transitive closure (Floyd-Warshall on a boolean matrix) of the parsed comparisons must be a total order,
and the k-th element of it must be the gold answer.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from tests.skills.contract import assert_second_method_agrees

LEVELS = st.integers(min_value=1, max_value=12)
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _batch(name: str, level: int, seed: int, n: int):
    return REGISTRY[name].generate_batch(np.random.default_rng(seed), level, n)


_SCALE = {  # more, less, most, least (this file's own table)
    "heights": ("taller", "shorter", "tallest", "shortest"),
    "ages": ("older", "younger", "oldest", "youngest"),
    "speeds": ("faster", "slower", "fastest", "slowest"),
    "weights": ("heavier", "lighter", "heaviest", "lightest"),
    "wealth": ("richer", "poorer", "richest", "poorest"),
    "strengths": ("stronger", "weaker", "strongest", "weakest"),
}


def solve_ordering(question: str) -> str:
    m = re.match(r"^(.*) all have different (\w+)\. ", question)
    names = re.split(r", | and ", m.group(1))
    more, less, most, least = _SCALE[m.group(2)]
    ix = {v: i for i, v in enumerate(names)}
    n = len(names)
    gt = np.zeros((n, n), dtype=bool)  # gt[i, j]: i is more than j
    for a, word, b in re.findall(r"(\w+) is (\w+) than (\w+)\.", question):
        assert word in (more, less)
        i, j = (ix[a], ix[b]) if word == more else (ix[b], ix[a])
        gt[i, j] = True
    for k in range(n):
        gt |= np.outer(gt[:, k], gt[k, :])
    assert not gt.diagonal().any(), "cycle"
    assert (gt | gt.T | np.eye(n, dtype=bool)).all(), "order not determined"
    q = re.search(r"Who is the (?:(\d+)(?:st|nd|rd|th) )?(\w+)\? Answer with a name\.$", question)
    k = int(q.group(1) or 1)
    above = gt.sum(axis=0)  # how many are more than each person
    rank = above if q.group(2) == most else (n - 1 - above)
    assert q.group(2) in (most, least)
    (hit,) = np.flatnonzero(rank == k - 1)
    return names[hit]


def test_ordering_independent_1000():
    assert_second_method_agrees("ordering", lambda _, q: solve_ordering(q), seed=500)


def _check_text_verifier(s, item, gold, others):
    for good in (gold, gold.lower(), gold.upper(), f" {gold}. "):
        assert s.verify(item, good), good
    for bad in others:
        assert not s.verify(item, bad), bad


@settings(max_examples=40, deadline=None)
@given(level=LEVELS, seed=SEEDS)
def test_ordering_verifier(level, seed):
    s = REGISTRY["ordering"]
    b = _batch("ordering", level, seed, 3)
    for q, gold in zip(b.questions, b.answers):
        names = re.split(r", | and ", q.split(" all have different")[0])
        assert gold in names
        others = [x for x in names if x != gold][:3] + ["", gold + "s", "1"]
        _check_text_verifier(s, {"question": q, "answer": gold}, gold, others)


def test_ordering_at_level_50_is_exact():
    assert_second_method_agrees("ordering", lambda _, q: solve_ordering(q), levels=(50,), n=3, min_items=3)


def test_skill_solve_refuses_other_text():
    s = REGISTRY["ordering"]
    own = _batch("ordering", 50, 750, 3).questions[0]
    other = _batch("seating", 3, 1, 1).questions[0]
    for bad in ("", "What is love?", other, own[:-20]):
        with pytest.raises(ValueError):
            s.solve({"question": bad, "answer": "0"})


def test_solve_rejects_underdetermined_puzzles():
    """Dropping a needed fact leaves several answers: the skill's solver must refuse, not guess."""
    b = _batch("ordering", 4, 11, 20)
    for q in b.questions:
        facts = re.findall(r"\w+ is \w+ than \w+\. ", q)
        for f in facts:  # at least one fact is an adjacent comparison, which nothing else implies
            try:
                REGISTRY["ordering"].solve({"question": q.replace(f, "", 1)})
            except ValueError:
                break
        else:
            raise AssertionError(f"no fact was needed: {q}")
