"""The skill contract: open-ended levels -> knobs -> items, plus a verifier for any answer.

A skill generates a whole batch at once (numpy-vectorised where it pays); `generate` for a single item
delegates to the batch, so there is one code path. Levels have no top: `params(level)` is a function.
"""

from __future__ import annotations

import difflib
import importlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from curriculum.errors import LevelOutOfRange, UnknownSkill


class Knobs(BaseModel):
    """A level's knobs (a skill's `params(level)`): frozen, their validator built when first used, not at
    import (building every skill's at import was a tenth of a second of each command's start)."""

    model_config = ConfigDict(frozen=True, defer_build=True)


@dataclass(frozen=True)
class Batch:
    """Columns of generated items. `params` holds per-item knobs drawn; None means the level's knobs."""

    questions: list[str]
    answers: list[str]
    params: Sequence[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if len(self.questions) != len(self.answers):
            raise ValueError("questions and answers differ in length")
        if self.params is not None and len(self.params) != len(self.questions):
            raise ValueError("params and questions differ in length")


Verifier = Callable[[Mapping[str, Any], str], bool]
Solver = Callable[[Mapping[str, Any]], str]
Checker = Callable[[Mapping[str, Any]], bool]
BatchSolver = Callable[[list[str]], list[str | None]]
BatchGenerator = Callable[[np.random.Generator, int, int], Batch]


@dataclass(frozen=True)
class Skill:
    """A skill family. `verify(item, answer)` must accept harmless formatting and reject wrong answers.

    `solve(item)` parses the question text back and computes the answer by a method independent of the
    generator; validation uses it to prove every gold answer right, so every skill has one.
    Each item's `params` holds the level's knobs plus `difficulty`, a per-item count of what `difficulty` names
    (carries, clues, solver steps...), so a user can see that level L + 1 asks more than level L.
    `consistent(item)`, where a skill has one, replays the question's world (a story's holdings, say) from the
    text and says whether it is possible; the validation gate runs it on every generated item.
    """

    name: str
    domain: Literal["maths", "logic"]
    description: str
    params: Callable[[int], BaseModel]
    generate_batch: BatchGenerator
    verify: Verifier
    solve: Solver  # re-derives the answer from the question alone, independently of generation
    version: int = 1
    difficulty: str = ""  # what params["difficulty"] counts per item; "" where a skill records none
    consistent: Checker | None = None  # the question describes a possible world (replayed from its text)
    # the vector form of `solve` over question texts, where a skill has one: per text, what `solve` returns,
    # or None where it leaves that text to `solve` (a property test holds the two equal)
    solve_batch: BatchSolver | None = None
    # levels that hold too few distinct items for a full held-out probe, with how many they hold: ((1, 96),)
    small_levels: tuple[tuple[int, int], ...] = ()
    max_level: int | None = None  # the highest level it serves: answers stay exact and generation stays fast

    @property
    def generator_version(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def knobs(self) -> list[str]:
        return list(type(self.params(1)).model_fields)

    def generate(self, rng: np.random.Generator, level: int) -> dict[str, Any]:
        """One item as a dict (question, answer, params); delegates to generate_batch."""
        batch = self.generate_batch(rng, check_level(level, self), 1)
        params = batch.params[0] if batch.params else self.params(level).model_dump()
        return {"question": batch.questions[0], "answer": batch.answers[0], "params": params}

    def params_json(self, level: int) -> str:
        return json.dumps(self.params(level).model_dump(), sort_keys=True)


class Registry(MutableMapping[str, Skill]):
    """Skill name -> Skill. A skill's module is imported when the skill is first asked for, from the
    package's index (a command that serves one skill loads one module, not all of them: a shorter start);
    iterating, or asking for a name the index does not hold, loads every module. `register` adds a skill
    (a name taken twice is an error); setting an entry replaces one (tests swap in a changed skill)."""

    def __init__(self) -> None:
        self._skills: dict[str, Skill] = {}
        self._index: dict[str, str] = {}  # skill name -> module that registers it
        self._load_all: Callable[[], None] = lambda: None

    def index(self, modules: Mapping[str, str], load_all: Callable[[], None]) -> None:
        self._index, self._load_all = dict(modules), load_all

    def add(self, skill: Skill) -> None:
        if skill.name in self._skills:
            raise ValueError(f"skill {skill.name!r} registered twice")
        self._skills[skill.name] = skill

    def __getitem__(self, name: str) -> Skill:
        if name not in self._skills:
            module = self._index.get(name) if isinstance(name, str) else None
            if module is not None:
                importlib.import_module(module)
            if name not in self._skills:
                self._load_all()
        return self._skills[name]

    def __setitem__(self, name: str, skill: Skill) -> None:
        self._skills[name] = skill

    def __delitem__(self, name: str) -> None:
        del self._skills[name]

    def __iter__(self) -> Iterator[str]:
        self._load_all()
        return iter(self._skills)

    def __len__(self) -> int:
        self._load_all()
        return len(self._skills)


REGISTRY = Registry()


class ItemParams(Sequence[dict[str, Any]]):
    """Per-item params of a batch: the level's knobs plus each item's difficulty, a dict built on demand.

    The items of a batch differ only in that one value, which takes a few distinct values: `json()` encodes
    each of them once (a dict and a json.dumps per item were most of the cost of generating a fast skill).
    """

    __slots__ = ("base", "values")

    def __init__(self, base: dict[str, Any], values: Iterable[Any]) -> None:
        self.base, self.values = base, list(values)

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return ItemParams(self.base, self.values[i])
        return {**self.base, "difficulty": self.values[i]}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def json(self) -> list[str]:
        """Each item's params as sorted-key JSON."""
        kinds = set(map(type, self.values))
        if kinds == {int} or kinds == {str}:  # one exact type: equal values, equal JSON
            table = {v: json.dumps({**self.base, "difficulty": v}, sort_keys=True) for v in set(self.values)}
            return list(map(table.__getitem__, self.values))
        return [json.dumps(p, sort_keys=True) for p in self]  # 1 == 1.0 == True, NaN != NaN: per item


def with_difficulty(knobs: BaseModel, values: Iterable[int]) -> ItemParams:
    """Per-item params: the level's knobs plus each item's difficulty (Batch.params)."""
    return ItemParams(knobs.model_dump(), values)


def mean_difficulty(skill: Skill, level: int, n: int = 40, seed: int = 0) -> float:
    """Mean params["difficulty"] over a batch of n items at one level (NaN where the skill records none)."""
    batch = skill.generate_batch(np.random.default_rng(seed), check_level(level), n)
    values = [p["difficulty"] for p in batch.params or () if "difficulty" in p]
    return sum(values) / len(values) if values else float("nan")


PROFILE_LEVELS = (1, 2, 3, 5, 8, 12, 20)


def difficulty_profile(skill: Skill, levels: Iterable[int] = PROFILE_LEVELS, n: int = 30) -> str:
    """One line for `curriculum skills`: what the skill's difficulty counts and its mean at a few levels,
    e.g. 'carries: L1 0.5, L2 1.0, L3 1.5, ...' (a small sample per level)."""
    means = ", ".join(f"L{level} {mean_difficulty(skill, level, n, seed=level):.1f}" for level in levels)
    return f"{skill.difficulty or 'difficulty'}: {means}"


def consistency_checks(skills: Iterable[str | None], questions: Iterable[str | None]) -> list[bool]:
    """Per row: True unless the row's skill has a `consistent` hook that finds its world impossible (or
    unreadable). Rows of unknown skills pass here: the gold and schema checks catch those."""
    out = []
    for name, question in zip(skills, questions):
        skill = REGISTRY.get(name or "")
        if skill is None or skill.consistent is None:
            out.append(True)
            continue
        try:
            out.append(question is not None and bool(skill.consistent({"question": question})))
        except Exception:  # an unreadable story is not a possible one
            out.append(False)
    return out


def register(skill: Skill) -> Skill:
    """Add a skill to the registry; a duplicate name or a bad domain is a programming error."""
    if skill.domain not in ("maths", "logic"):
        raise ValueError(f"skill {skill.name!r}: domain must be maths or logic, not {skill.domain!r}")
    if not isinstance(skill.params(1), BaseModel):
        raise TypeError(f"skill {skill.name!r}: params(level) must return a pydantic model")
    REGISTRY.add(skill)
    return skill


def check_level(level: int, skill: Skill | None = None) -> int:
    """A level >= 1 (that `skill` serves, when given); LevelOutOfRange names the levels it does serve."""
    if not isinstance(level, int) or isinstance(level, bool) or level < 1:
        raise ValueError(f"level must be an integer >= 1, got {level!r}")
    if skill is not None and skill.max_level is not None and level > skill.max_level:
        raise LevelOutOfRange(f"{skill.name} serves levels 1..{skill.max_level}, not {level}")
    return level


def get_skill(name: str) -> Skill:
    """Look a skill up by name, suggesting the closest names when it is unknown."""
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, REGISTRY, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(REGISTRY))}"
        raise UnknownSkill(f"unknown skill {name!r}{hint}") from None
