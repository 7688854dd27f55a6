"""Set algebra on small named sets: evaluate union / intersection / difference / symmetric difference
expressions of growing size, or decide subset / disjointness of two expressions.

Elements are small integers (answers sorted increasingly) or words (answers sorted alphabetically); the empty
set is written "{}". Relation questions are answered yes/no, balanced, and say what they mean: "a subset of" is
⊆ (equal sets count), "disjoint from" means no element in common.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills.answers import parse_bool
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

WORDS = (
    "apple", "bear", "cloud", "drum", "eagle", "fern", "grape", "harp", "iris", "jade",
    "kite", "lamp", "maple", "nut", "owl", "pearl", "quail", "rose", "sage", "tulip",
    "urn", "violet", "wolf", "yak", "zebra", "anchor", "bell", "cedar", "dove", "ember",
)  # fmt: skip

_OPS = ("∪", "∩", "\\", "△")
_EMPTY = "{}"
_EMPTY_WORDS = frozenset({"", "{}", "∅", "empty", "empty set", "the empty set", "none", "nothing", "[]", "()", "set()"})
_SUBSET = "(⊆: every element of the left side is also in the right side, so equal sets count)"
_DISJOINT = "(they have no element in common)"
_RELATION_SHARE = 0.25  # share of yes/no subset/disjoint questions
_EMPTY_KEEP = 0.25  # chance an expression whose value is empty is kept (keeps "{}" a minority answer)


class SetParams(Knobs):
    sets: int  # named sets A, B, C, ...
    operators: int  # binary set operators in an expression (split over both sides of a relation): one more a level
    universe: int  # elements are drawn from this many candidates
    max_size: int  # each named set has 1..max_size elements


def set_params(level: int) -> SetParams:
    lg = int(math.log2(level))
    return SetParams(sets=min(26, 2 + lg), operators=level, universe=8 + 4 * lg, max_size=4 + lg)


_NAMES = tuple(chr(ord("A") + i) for i in range(26))  # set i is called _NAMES[i]


def _expr(r: random.Random, ops: int, values: list[frozenset]) -> tuple[str, frozenset, bool]:
    """A random expression with `ops` operators: (text, value, needs no parentheses)."""
    if ops == 0:
        i = int(r.random() * len(values))
        return _NAMES[i], values[i], True
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
                return f"{lt} a subset of {rt} {_SUBSET}", target
        elif (not (lv & rv)) == target:
            return f"{lt} disjoint from {rt} {_DISJOINT}", target
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
    questions, answers, operators = [], [], []
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
            f"{_NAMES[i]} = {{{', '.join(sorted(v) if words else map(str, sorted(v)))}}}" for i, v in enumerate(values)
        )
        operators.append(sum(found[0].count(op) for op in _OPS))
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
    return Batch(questions, answers, with_difficulty(p, operators))


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
    if not str(answer).strip():
        return False  # no answer is never the empty set: it must be written ({}, "empty", "none", ...)
    got = _elements(answer)
    return got is not None and got == _elements(gold)


# ---------------------------------------------------------------------------------------------------
# solver: the question text alone; every set read back as an int bitmask over the sorted elements shown
# (bit i = the i-th element), the expression parsed by recursive descent and evaluated with bit operators
# (not the generator's frozenset algebra).

_SETS_FIND = re.compile(
    r"(.+)\. Find (.+) \(∪ union, ∩ intersection, \\ difference, △ symmetric difference\)\. "
    r"List its elements (alphabetically|in increasing order), separated by commas; write \{\} for the empty set\."
)
_SETS_IS = re.compile(
    r"(.+)\. Is ([A-Z∪∩\\△() ]+) (a subset of|disjoint from) ([A-Z∪∩\\△() ]+) (\(.*\))\? Answer yes or no\."
)
_SET_DEF = re.compile(r"([A-Z]) = \{(.*)\}")
_ELEMENT_INTS = re.compile(r"[1-9][0-9]*(?:\n[1-9][0-9]*)*")  # numbers without leading zeros, one per line
_ELEMENT_WORDS = re.compile(r"[a-z]+[0-9]*(?:\n[a-z]+[0-9]*)*")  # lower-case words (a number after), one per line
_SET_TOKEN = re.compile(r"[A-Z]|[∪∩\\△()]|\S")
_SET_OPS = frozenset(_OPS)


def _read_sets(text: str, words: bool | None) -> tuple[dict[str, int], list[str], bool]:
    """'A = {1, 3}; B = {2}' -> ({'A': 0b101, 'B': 0b010}, ['1', '2', '3'], False); elements all numbers or
    all words, numbers ordered as numbers."""
    shown: dict[str, list[str]] = {}
    for part in text.split("; "):
        m = _SET_DEF.fullmatch(part)
        if m is None or m.group(1) in shown:
            raise ValueError(f"unreadable set {part!r}")
        shown[m.group(1)] = m.group(2).split(", ") if m.group(2) else []
    elements = {x for elems in shown.values() for x in elems}
    # every element matched at once: one per line (an element holding a newline is caught by the count)
    joined = "\n".join(elements)
    one_each = joined.count("\n") == len(elements) - 1
    if words is None:
        words = bool(elements) and not (one_each and _ELEMENT_INTS.fullmatch(joined))
    if elements and not (one_each and (_ELEMENT_WORDS if words else _ELEMENT_INTS).fullmatch(joined)):
        raise ValueError("the elements are not all numbers or all words")
    order = sorted(elements) if words else sorted(elements, key=int)
    bit = {x: 1 << i for i, x in enumerate(order)}
    masks = {}
    for name, elems in shown.items():
        mask = 0
        for x in elems:
            mask |= bit[x]
        masks[name] = mask
    return masks, order, words


def _set_value(text: str, masks: Mapping[str, int]) -> int:
    """Evaluate `atom [op atom]`, atom = ( expression ) | set name; unparenthesised chains are refused."""
    tokens = _SET_TOKEN.findall(text)
    pos, end = 0, len(tokens)

    def atom() -> int:
        nonlocal pos
        if pos >= end:
            raise ValueError("expression ends early")
        tok = tokens[pos]
        pos += 1
        if tok == "(":
            value = expression()
            if pos >= end or tokens[pos] != ")":
                raise ValueError("unbalanced parenthesis")
            pos += 1
            return value
        if tok in masks:
            return masks[tok]
        raise ValueError(f"unexpected {tok!r} in {text!r}")

    def expression() -> int:
        nonlocal pos
        left = atom()
        if pos < end and tokens[pos] in _SET_OPS:
            op = tokens[pos]
            pos += 1
            right = atom()
            if pos < end and tokens[pos] in _SET_OPS:
                raise ValueError("ambiguous chain of operators")
            if op == "∪":
                return left | right
            if op == "∩":
                return left & right
            if op == "\\":
                return left & ~right
            return left ^ right
        return left

    value = expression()
    if pos != end:
        raise ValueError(f"trailing tokens in {text!r}")
    return value


def solve_sets(item: Mapping[str, Any]) -> str:
    question = str(item["question"])
    m = _SETS_FIND.fullmatch(question)
    if m is not None:
        masks, order, _ = _read_sets(m.group(1), m.group(3) == "alphabetically")
        value = _set_value(m.group(2), masks)
        listed = [x for i, x in enumerate(order) if value >> i & 1]
        return ", ".join(listed) if listed else _EMPTY
    m = _SETS_IS.fullmatch(question)
    if m is None:
        raise ValueError("not a set question")
    if m.group(5) != (_SUBSET if m.group(3) == "a subset of" else _DISJOINT):
        raise ValueError(f"the relation is not stated as {m.group(3)!r} means: {m.group(5)!r}")
    masks, _, _ = _read_sets(m.group(1), None)
    left, right = _set_value(m.group(2), masks), _set_value(m.group(4), masks)
    truth = left & ~right == 0 if m.group(3) == "a subset of" else left & right == 0
    return "yes" if truth else "no"


register(
    Skill(
        name="set_relations",
        domain="logic",
        description="Evaluate set-algebra expressions over small sets, or decide subset (⊆) / disjointness.",
        params=set_params,
        generate_batch=generate_sets,
        verify=verify_sets,
        solve=solve_sets,
        version=2,
        max_level=8000,  # CPU: 20 items + gold check ~1 s
        difficulty="set operators in the expression (or both sides of a relation)",
    )
)
