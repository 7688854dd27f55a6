"""Ordering puzzles: a linear order from pairwise comparisons; ask for the k-th tallest / shortest.

n people are compared pairwise ("Ann is taller than Bob"); the comparisons always contain every adjacent pair
of the hidden order (so the order is determined) plus redundant ones.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills._names import NAMES, ilog, join_names, ordinal
from curriculum.skills.answers import verify_text
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

# (more, less, most, least, noun)
_SCALES = (
    ("taller", "shorter", "tallest", "shortest", "heights"),
    ("older", "younger", "oldest", "youngest", "ages"),
    ("faster", "slower", "fastest", "slowest", "speeds"),
    ("heavier", "lighter", "heaviest", "lightest", "weights"),
    ("richer", "poorer", "richest", "poorest", "wealth"),
    ("stronger", "weaker", "strongest", "weakest", "strengths"),
)


class OrderingParams(Knobs):
    people: int
    extra_comparisons: int  # redundant (implied) comparisons mixed in with the adjacent ones


def ordering_params(level: int) -> OrderingParams:
    """One more person a level up to 37 (level 35); from there one more redundant comparison a level."""
    n = min(2 + level, 32 + ilog(level, 2), len(NAMES))
    return OrderingParams(people=n, extra_comparisons=n // 2 + max(0, level - 34))


def _ordering_item(r: random.Random, n: int, extra: int) -> tuple[str, str]:
    more, less, most, least, noun = _SCALES[int(r.random() * len(_SCALES))]
    order = r.sample(NAMES, n)  # order[0] is the most (tallest)
    pairs = [(i, i + 1) for i in range(n - 1)]
    extra = min(extra, (n - 1) * (n - 2) // 2)
    seen: set[tuple[int, int]] = set()
    while len(seen) < extra:
        i, j = sorted(r.sample(range(n), 2))
        if j - i >= 2:
            seen.add((i, j))
    pairs += sorted(seen)
    r.shuffle(pairs)
    facts = [
        f"{order[i]} is {more} than {order[j]}." if r.random() < 0.5 else f"{order[j]} is {less} than {order[i]}."
        for i, j in pairs
    ]
    k = 1 + int(r.random() * n)
    if r.random() < 0.5:
        word, answer = most, order[k - 1]
    else:
        word, answer = least, order[n - k]
    rank = "" if k == 1 else ordinal(k) + " "
    listed = sorted(order, key=lambda _: r.random())
    q = (
        f"{join_names(listed)} all have different {noun}. {' '.join(facts)} "
        f"Who is the {rank}{word}? Answer with a name."
    )
    return q, answer


def generate_ordering(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = ordering_params(level)
    r = random.Random(int(rng.integers(2**63)))
    out = [_ordering_item(r, p.people, p.extra_comparisons) for _ in range(n)]
    shown = p.people - 1 + min(p.extra_comparisons, (p.people - 1) * (p.people - 2) // 2)
    return Batch([q for q, _ in out], [a for _, a in out], with_difficulty(p, [shown] * n))


# solver: the question text alone, by Kahn's topological sort of the comparisons (the generator never sorts)

_O_TEXT = re.compile(
    r"(\w+(?:, \w+)* and \w+) all have different (\w+)\. ((?:\w+ is \w+ than \w+\. )+)"
    r"Who is the (?:(\d+)(?:st|nd|rd|th) )?(\w+)\? Answer with a name\."
)
_O_FACT = re.compile(r"(\w+) is (\w+) than (\w+)\. ")


def solve_ordering(item: Mapping[str, Any]) -> str:
    m = _O_TEXT.fullmatch(str(item["question"]))
    if m is None:
        raise ValueError("not an ordering question")
    names = re.split(r", | and ", m.group(1))
    scale = next((sc for sc in _SCALES if sc[4] == m.group(2)), None)
    if scale is None or len(set(names)) != len(names):
        raise ValueError("unknown scale or repeated names")
    more, less, most, least, _ = scale
    above: dict[str, set[str]] = {nm: set() for nm in names}  # above[b]: those directly more than b
    for a, word, b in _O_FACT.findall(m.group(3)):
        if word not in (more, less) or a not in above or b not in above:
            raise ValueError(f"cannot read comparison {a} {word} {b}")
        if word == more:
            above[b].add(a)
        else:
            above[a].add(b)
    order = []  # most first
    left = dict(above)
    while left:
        free = [nm for nm, ups in left.items() if not ups]
        if len(free) != 1:
            raise ValueError("the comparisons do not determine one order")
        top = free[0]
        order.append(top)
        del left[top]
        for ups in left.values():
            ups.discard(top)
    k = int(m.group(4) or 1)
    if m.group(5) not in (most, least) or not 1 <= k <= len(order):
        raise ValueError("cannot read the question")
    return order[k - 1] if m.group(5) == most else order[-k]


register(
    Skill(
        name="ordering",
        domain="logic",
        description="Find the k-th tallest/shortest (oldest, fastest...) from pairwise comparisons.",
        params=ordering_params,
        generate_batch=generate_ordering,
        verify=verify_text,
        solve=solve_ordering,
        version=2,
        max_level=2_000_000,  # CPU: 20 items + gold check ~1 s (redundant comparisons, one more a level)
        difficulty="comparisons to combine",
    )
)
