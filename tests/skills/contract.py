"""The checks every skill family shares, written once.

`test_contract.py` runs them over every registered skill; the per-family test files call the helpers here and
add only what is specific to their family (second-method re-solves, verifier perturbations, special cases).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Iterable

import numpy as np
import pytest

from curriculum.errors import LevelOutOfRange
from curriculum.generate import generate_items
from curriculum.skills import REGISTRY, Batch
from curriculum.verify import gold_checks

SOLVED_LEVELS = (*range(1, 9), 12, 50)  # the everyday levels, then two far above them


def served(name: str, levels: Iterable[int]) -> list[int]:
    """`levels`, each capped at the skill's top (max_level), in order and without repeats."""
    top = REGISTRY[name].max_level
    return list(dict.fromkeys(level if top is None else min(level, top) for level in levels))


def batch(name: str, level: int, n: int, seed: int = 0) -> Batch:
    return REGISTRY[name].generate_batch(np.random.default_rng(seed), level, n)


def items(name: str, level: int, n: int, seed: int = 0) -> list[dict]:
    """A batch as item dicts, the shape verifiers and solvers receive."""
    b = batch(name, level, n, seed)
    return [{"question": q, "answer": a, "params": "{}"} for q, a in zip(b.questions, b.answers)]


def assert_deterministic(name: str, level: int, n: int = 60, seeds: tuple[int, int] = (7, 8)) -> None:
    """The same seed gives the identical batch; another seed gives other questions."""
    same, other = seeds
    assert batch(name, level, n, same) == batch(name, level, n, same)
    assert batch(name, level, n, same).questions != batch(name, level, n, other).questions


def assert_single_item_verifies(name: str, level: int, seed: int) -> None:
    """`generate` (one item, through the batch path) returns a complete item whose gold answer verifies."""
    skill = REGISTRY[name]
    item = skill.generate(np.random.default_rng(seed), level)
    assert set(item) == {"question", "answer", "params"}
    assert skill.verify(item, item["answer"])


def assert_high_levels_generate(name: str, levels: Iterable[int] = (12, 50), n: int = 5) -> None:
    """Far above the everyday ones (never past the skill's top) a batch still comes out whole and its gold
    verifies."""
    skill = REGISTRY[name]
    for level in served(name, levels):
        b = batch(name, level, n)
        assert len(b.questions) == n and all(b.answers)
        assert all(skill.verify({"question": q, "answer": a}, a) for q, a in zip(b.questions, b.answers))


def assert_diverse(name: str, level: int, n: int = 300, seed: int = 3, min_distinct: float = 0.95) -> None:
    """Almost every question in a batch is distinct, so a learner cannot memorise a few."""
    questions = batch(name, level, n, seed).questions
    assert len(set(questions)) >= min_distinct * n, (name, level, len(set(questions)))


def assert_balanced(name: str, level: int, n: int = 300, seed: int = 3, max_share: float = 0.6) -> None:
    """No single answer is right for more than `max_share` of a batch, so guessing one answer does not pay."""
    counts = Counter(batch(name, level, n, seed).answers)
    assert counts.most_common(1)[0][1] <= max_share * n, (name, level, counts.most_common(3))


def assert_even_split(name: str, answers: Collection[str], level: int, n: int = 300, seed: int = 3) -> None:
    """For skills balanced by construction: each possible answer is gold for exactly n / len(answers) items."""
    counts = Counter(batch(name, level, n, seed).answers)
    assert counts == dict.fromkeys(answers, n // len(answers)), (name, level, counts)


def assert_params_open_ended(name: str, may_shrink: Collection[str] = (), held_constant: Collection[str] = ()) -> None:
    """`params(level)` is defined for any level, matches its JSON form, and every knob is harder at level 50
    than at level 1 and never eases off up to level 100 (save the knobs the caller names)."""
    skill = REGISTRY[name]
    for level in (1, 2, 3, 7, 12, 50, 1000, 10**6):
        skill.params(level)
    dumps = [skill.params(level).model_dump() for level in range(1, 101)]
    assert all(json.loads(skill.params_json(level)) == dumps[level - 1] for level in (1, 50))
    assert skill.params(50) != skill.params(1) and skill.params(50) != skill.params(3)
    for knob in dumps[0]:
        if knob in may_shrink:
            continue
        values = [d[knob] for d in dumps]
        assert values == sorted(values), knob
        if knob not in held_constant:
            assert dumps[49][knob] > dumps[0][knob], knob


def assert_solver_rederives_gold(
    name: str, levels: Iterable[int] = SOLVED_LEVELS, seed: int = 900, min_items: int = 1000
) -> None:
    """The skill's own solver, given the question alone, returns the gold answer (130 items a level up to 8,
    40 beyond), and the verifier accepts what it returns; levels above the skill's top are solved at the top."""
    skill = REGISTRY[name]
    count = 0
    for level in served(name, levels):
        for it in items(name, level, 130 if level <= 8 else 40, seed=seed + level):
            got = skill.solve({"question": it["question"]})
            assert got == it["answer"], (level, it["question"], got)
            assert skill.verify(it, got)
            count += 1
    assert count >= min_items


def assert_top_level_served(name: str, n: int = 3, seed: int = 0) -> None:
    """The skill declares the highest level it serves (`max_level`); there a batch comes out whole and every gold
    answer re-derives through the gate's check (no int-string or recursion limit in the way, solver and verifier
    agree), and one level above is refused before anything is generated.

    Tops are measured: the highest level where answers stay exact (Python's 4300-digit int-string limit; the
    recursion limit with 200 frames to spare) and 20 items plus their gold check take under ~1 s of CPU (median of
    3 seeds), rounded down to two significant figures; skills whose knobs stop growing serve every level the
    catalogue's INTEGER column holds."""
    skill = REGISTRY[name]
    top = skill.max_level
    assert isinstance(top, int) and top >= 1, f"{name} declares no max_level"
    got = generate_items(name, top, n, seed)
    assert got.height == n and all(gold_checks(got)), (name, top)
    with pytest.raises(LevelOutOfRange, match=f"{name} serves levels 1..{top}, not {top + 1}"):
        generate_items(name, top + 1, n, seed)
    with pytest.raises(LevelOutOfRange):
        skill.generate(np.random.default_rng(seed), top + 1)


def assert_gate_solves_every_item(name: str, level: int = 3, n: int = 10_000) -> None:
    """The validation gate solves every item: a large batch all solves back to its gold answers."""
    skill = REGISTRY[name]
    b = batch(name, level, n)
    solve, verify = skill.solve, skill.verify
    assert all(verify({"question": q, "answer": a}, solve({"question": q})) for q, a in zip(b.questions, b.answers))


def assert_second_method_agrees(
    name: str,
    answer_of: Callable[[int, str], str],
    levels: Iterable[int] = range(1, 9),
    n: int = 130,
    seed: int = 0,
    min_items: int = 1000,
) -> None:
    """A family's independent re-solve, `answer_of(level, question)`, gives the gold answer for every item
    (batch seed `seed + level`), over enough items to mean something."""
    checked = 0
    for level in levels:
        b = batch(name, level, n, seed + level)
        assert len(b.questions) == n
        for q, a in zip(b.questions, b.answers):
            assert answer_of(level, q) == a, (level, q, a)
            checked += 1
    assert checked >= min_items


def assert_every_level_harder(name: str, top: int = 100) -> None:
    """Levels have no plateau: no two consecutive levels in 1..top share their knobs (where one knob saturates,
    another takes over), so a frontier found between two levels is never noise between identical ones."""
    skill = REGISTRY[name]
    dumps = [skill.params(level).model_dump() for level in range(1, top + 1)]
    same = [level for level in range(1, top) if dumps[level - 1] == dumps[level]]
    assert not same, (name, [f"L{level}-L{level + 1}" for level in same[:5]])


DIFFICULTY_LEVELS = (1, 2, 3, 5, 8, 12, 20)


def assert_difficulty_recorded_and_rising(name: str, n: int = 60, seed: int = 5, slack: float = 0.1) -> None:
    """Every item's params are the level's knobs plus an integer `difficulty`, which the skill names; its mean
    never falls by more than `slack` from one of DIFFICULTY_LEVELS to the next, and level 20 asks more than 1."""
    skill = REGISTRY[name]
    assert skill.difficulty, f"{name} does not say what its difficulty counts"
    means = []
    for level in DIFFICULTY_LEVELS:
        b = batch(name, level, n, seed)
        assert b.params is not None and len(b.params) == n
        knobs = skill.params(level).model_dump()
        for p in b.params:
            assert {k: v for k, v in p.items() if k != "difficulty"} == knobs
            assert isinstance(p["difficulty"], int) and p["difficulty"] >= 0
        means.append(sum(p["difficulty"] for p in b.params) / n)
    assert all(b >= a * (1 - slack) for a, b in zip(means, means[1:])), (name, means)
    assert means[-1] > means[0], (name, means)


def assert_consistent(name: str, levels: Iterable[int] = SOLVED_LEVELS, n: int = 200, seed: int = 77) -> None:
    """A skill with a `consistent` hook tells only possible worlds: every generated item passes it."""
    skill = REGISTRY[name]
    for level in levels:
        for it in items(name, level, n if level <= 8 else 40, seed + level):
            assert skill.consistent(it), (level, it["question"])
