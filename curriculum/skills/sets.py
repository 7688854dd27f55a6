"""Set algebra on small named sets: evaluate union / intersection / difference / symmetric difference
expressions of growing size, or decide subset / disjointness of two expressions.

Elements are small integers (answers sorted increasingly) or words (answers sorted alphabetically); the empty
set is written "{}". Relation questions are answered yes/no, balanced.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

from curriculum.skills.answers import parse_bool
from curriculum.skills.base import Batch, Skill, register

WORDS = (
    "apple", "bear", "cloud", "drum", "eagle", "fern", "grape", "harp", "iris", "jade",
    "kite", "lamp", "maple", "nut", "owl", "pearl", "quail", "rose", "sage", "tulip",
    "urn", "violet", "wolf", "yak", "zebra", "anchor", "bell", "cedar", "dove", "ember",
)  # fmt: skip

_OPS = ("∪", "∩", "\\", "△")
_EMPTY = "{}"
_EMPTY_WORDS = frozenset(
    {"", "{}", "∅", "empty", "empty set", "the empty set", "none", "nothing", "[]", "()", "set()"}
)
_RELATION_SHARE = 0.25  # share of yes/no subset/disjoint questions
_EMPTY_KEEP = 0.25  # chance an expression whose value is empty is kept (keeps "{}" a minority answer)


class SetParams(BaseModel, frozen=True):
    sets: int  # named sets A, B, C, ...
    operators: int  # binary set operators in an expression
    universe: int  # elements are drawn from this many candidates
    max_size: int  # each named set has 1..max_size elements


def set_params(level: int) -> SetParams:
    lg = int(math.log2(level))
    return SetParams(sets=min(26, 2 + lg), operators=1 + level // 3, universe=8 + 4 * lg, max_size=4 + lg)


def _set_name(i: int) -> str:
    return chr(ord("A") + i)


def _expr(r: random.Random, ops: int, values: list[frozenset]) -> tuple[str, frozenset, bool]:
    """A random expression with `ops` operators: (text, value, needs no parentheses)."""
    if ops == 0:
        i = int(r.random() * len(values))
        return _set_name(i), values[i], True
    left = int(r.random() * ops)
    lt, lv, la = _expr(r, left, values)
    while True:  # never `X op X`
        rt, rv, ra = _expr(r, ops - 1 - left, values)
        if rt != lt:
            break
    op = int(r.random() * 4)
    value = lv | rv if op == 0 else lv & rv if op == 1 else lv - rv if op == 2 else lv ^ rv
    lt = lt if la else f"({lt})"
    rt = rt if ra else f"({rt})"
    return f"{lt} {_OPS[op]} {rt}", value, False


def _value(r: random.Random, ops: int, values: list[frozenset]) -> tuple[str, frozenset] | None:
    for _ in range(8):
        text, value, _ = _expr(r, ops, values)
        if value or r.random() < _EMPTY_KEEP:
            return text, value
    return None


def _relation(r: random.Random, ops: int, values: list[frozenset], target: bool) -> tuple[str, bool] | None:
    """'X is a subset of Y' / 'X disjoint from Y' with a non-empty left side whose truth is `target`."""
    for _ in range(12):
        lops = int(r.random() * ops)
        lt, lv, _ = _expr(r, lops, values)
        rt, rv, _ = _expr(r, max(0, ops - 1 - lops), values)
        if lt == rt or not lv:
            continue
        if r.random() < 0.5:
            if (lv <= rv) == target:
                return f"{lt} a subset of {rt}", target
        elif (not (lv & rv)) == target:
            return f"{lt} disjoint from {rt}", target
    return None


def _show(values: frozenset, words: bool) -> str:
    if not values:
        return _EMPTY
    return ", ".join(sorted(values)) if words else ", ".join(map(str, sorted(values)))


def generate_sets(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = set_params(level)
    r = random.Random(int(rng.integers(2**63)))
    ints = list(range(1, p.universe + 1))
    words_pool = list(WORDS) + [f"{WORDS[i % len(WORDS)]}{i // len(WORDS)}" for i in range(len(WORDS), p.universe)]
    words_pool = words_pool[: max(p.universe, 1)]
    questions, answers = [], []
    relation_target = r.random() < 0.5
    for _ in range(n):
        relation = r.random() < _RELATION_SHARE
        if relation:
            relation_target = not relation_target  # alternate yes/no across relation questions
        while True:  # draw the sets, then look for a fitting expression; redraw the sets if none turns up
            words = r.random() < 0.3
            pool = words_pool if words else ints
            values = [frozenset(r.sample(pool, 1 + int(r.random() * p.max_size))) for _ in range(p.sets)]
            found = _relation(r, p.operators, values, relation_target) if relation else _value(r, p.operators, values)
            if found is not None:
                break
        shown = "; ".join(
            f"{_set_name(i)} = {{{', '.join(sorted(v) if words else map(str, sorted(v)))}}}"
            for i, v in enumerate(values)
        )
        if relation:
            question, truth = found
            questions.append(f"{shown}. Is {question}? Answer yes or no.")
            answers.append("yes" if truth else "no")
        else:
            text, value = found
            order = "alphabetically" if words else "in increasing order"
            questions.append(
                f"{shown}. Find {text} (∪ union, ∩ intersection, \\ difference, △ symmetric difference). "
                f"List its elements {order}, separated by commas; write {{}} for the empty set."
            )
            answers.append(_show(value, words))
    return Batch(questions, answers)


def _elements(text: str) -> frozenset | None:
    """'{3, 1 ,2}' / '1 2 3' / 'Apple, bear' -> the set of elements (a repeat is harmless)."""
    s = " ".join(str(text).lower().split()).strip()
    if s.endswith("."):
        s = s[:-1].rstrip()
    if s in _EMPTY_WORDS:
        return frozenset()
    s = s.strip("{}[]() ")
    if s in _EMPTY_WORDS:
        return frozenset()
    parts = [x for x in re.split(r"[,;\s]+", s) if x]
    out = set()
    for x in parts:
        x = x.lstrip("+")
        if x.isdigit():
            x = str(int(x))
        out.add(x)
    return frozenset(out)


def verify_sets(item: Mapping[str, Any], answer: str) -> bool:
    gold = item["answer"]
    if gold in ("yes", "no"):
        got = parse_bool(answer)
        return got is not None and got == (gold == "yes")
    got = _elements(answer)
    return got is not None and got == _elements(gold)


register(
    Skill(
        name="set_relations",
        domain="logic",
        description="Evaluate set-algebra expressions over small sets, or decide subset / disjointness.",
        params=set_params,
        generate_batch=generate_sets,
        verify=verify_sets,
    )
)
