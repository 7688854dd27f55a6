"""Knights and knaves: islanders make statements about each other; find who is a knight.

Knights always tell the truth, knaves always lie. Solved exhaustively on truth tables held as Python ints:
bit a of a mask is the value under assignment a (person j is a knight iff bit j of a is set), so person j
saying S is consistent exactly on `~(K_j ^ S)`, and the puzzle's solutions are the AND over all statements.
A puzzle is kept only when that AND has exactly one bit.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

from curriculum.skills.base import Batch, Skill, register

NAMES = (
    "Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy",
    "Kevin", "Laura", "Mallory", "Nina", "Oscar", "Peggy", "Quinn", "Rupert", "Sybil", "Trent",
    "Uma", "Victor", "Wendy", "Xavier", "Yara", "Zack", "Abel", "Bianca", "Cyrus", "Delia",
    "Edgar", "Fiona", "Gideon", "Hazel", "Igor", "Jasmine", "Kurt", "Lena", "Milo", "Nora",
)  # fmt: skip

_ROLE = ("knave", "knight")


class KnightsKnavesParams(BaseModel, frozen=True):
    people: int  # islanders; the search space is 2**people
    compound_rate: float  # share of statements that are compound (and/or/if/same/exactly...)


def knights_knaves_params(level: int) -> KnightsKnavesParams:
    return KnightsKnavesParams(
        people=2 + int(1.2 * math.log2(level)), compound_rate=min(0.85, 0.2 * (level - 1))
    )


def _names(people: int) -> list[str]:
    """The name pool, extended with numbered names when a level needs more people than it holds."""
    if people <= len(NAMES):
        return list(NAMES)
    return list(NAMES) + [f"{NAMES[i % len(NAMES)]}{i // len(NAMES) + 1}" for i in range(len(NAMES), people)]


class _World:
    """Truth tables over the 2**n knight/knave assignments of one puzzle size."""

    def __init__(self, n: int) -> None:
        size = 1 << n
        self.full = (1 << size) - 1
        self.knight = []
        for j in range(n):
            block = 1 << j
            unit = ((1 << block) - 1) << block
            self.knight.append(unit * (self.full // ((1 << (2 * block)) - 1)))
        self.exactly = [0] * (n + 1)  # exactly[k]: assignments with k knights
        for a in range(size):
            self.exactly[a.bit_count()] |= 1 << a


def _statement(
    r: random.Random, w: _World, names: list[str], speaker: int, compound: float
) -> tuple[str, int]:
    """A random statement by `speaker` (text, truth table). 'I'/'me' when it refers to the speaker."""
    n = len(names)
    full, K = w.full, w.knight

    def subj(j: int) -> str:
        return "I" if j == speaker else names[j]

    def obj(j: int) -> str:
        return "me" if j == speaker else names[j]

    def is_(j: int) -> str:
        return "I am" if j == speaker else f"{names[j]} is"

    def pair() -> tuple[int, int]:
        x, y = r.sample(range(n), 2)
        return (y, x) if x == speaker else (x, y)  # the speaker comes second: "Bob and I"

    def role(j: int, knight: bool) -> int:
        return K[j] if knight else full ^ K[j]

    others = [j for j in range(n) if j != speaker]
    if r.random() >= compound:
        if r.random() < 0.6:
            x = others[int(r.random() * len(others))]
            k = r.random() < 0.5
            return f"{names[x]} is a {_ROLE[k]}.", role(x, k)
        x, y = pair()
        if r.random() < 0.5:
            return f"{subj(x)} and {subj(y)} are of the same type.", full ^ (K[x] ^ K[y])
        return f"{subj(x)} and {subj(y)} are of different types.", K[x] ^ K[y]
    kind = int(r.random() * 6)
    if kind == 0:
        x, y = pair()
        k = r.random() < 0.5
        return f"{subj(x)} and {subj(y)} are both {_ROLE[k]}s.", role(x, k) & role(y, k)
    if kind == 1:
        x, y = pair()
        k = r.random() < 0.5
        return f"At least one of {obj(x)} and {obj(y)} is a {_ROLE[k]}.", role(x, k) | role(y, k)
    if kind == 2:
        x, y = r.sample(range(n), 2)
        a, b = r.random() < 0.5, r.random() < 0.5
        return (
            f"If {is_(x)} a {_ROLE[a]}, then {is_(y)} a {_ROLE[b]}.",
            (full ^ role(x, a)) | role(y, b),
        )
    if kind == 3:
        x, y = r.sample(range(n), 2)
        a, b = r.random() < 0.5, r.random() < 0.5
        return (
            f"{is_(x)} a {_ROLE[a]} or {is_(y)} a {_ROLE[b]} (or both).",
            role(x, a) | role(y, b),
        )
    if kind == 4 and n >= 3:
        x, y, z = sorted(r.sample(range(n), 3), key=lambda j: j == speaker)
        kx, ky, kz = K[x], K[y], K[z]
        one = (kx & ~ky & ~kz) | (~kx & ky & ~kz) | (~kx & ~ky & kz)
        return f"Exactly one of {obj(x)}, {obj(y)} and {obj(z)} is a knight.", one & full
    k = 1 + int(r.random() * n)
    if k == 1:
        return f"Exactly 1 of the {n} of us is a knight.", w.exactly[1]
    return f"Exactly {k} of the {n} of us are knights.", w.exactly[k]


def _puzzle(
    r: random.Random, w: _World, names: list[str], compound: float, hidden: int
) -> list[tuple[int, str]] | None:
    """Statements (speaker, text) whose only consistent assignment is `hidden`; None to retry."""
    n = len(names)
    hbit = 1 << hidden
    said: list[tuple[int, str]] = []
    solutions = w.full
    speakers = list(range(n)) + [int(r.random() * n) for _ in range(2 * n)]  # one each, then extras
    for count, i in enumerate(speakers):
        if count >= n and solutions.bit_count() == 1:
            return said
        knight_i = w.knight[i]
        for _ in range(40):
            text, m = _statement(r, w, names, i, compound)
            consistent = w.full ^ (knight_i ^ m)
            keep = consistent & solutions
            # true iff the speaker is a knight in `hidden`; an extra statement must cut the solutions down
            if keep & hbit and (count < n or keep != solutions):
                break
        else:
            return None
        said.append((i, text))
        solutions = keep
    return said if solutions.bit_count() == 1 else None


def generate_knights_knaves(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = knights_knaves_params(level)
    r = random.Random(int(rng.integers(2**63)))
    w = _World(p.people)
    pool = _names(p.people)
    size = 1 << p.people
    questions, answers = [], []
    for _ in range(n):
        names = r.sample(pool, p.people)
        hidden = int(r.random() * size)  # uniform: no assignment dominates the answers
        tries = 0
        while True:
            # simple statements alone can fail to pin a puzzle down: let compound ones in after a while
            said = _puzzle(r, w, names, p.compound_rate if tries < 20 else 0.5, hidden)
            if said is not None:
                break
            tries += 1
        seen: set[int] = set()
        lines = []
        for i, text in said:
            lines.append(f'{names[i]} {"also " if i in seen else ""}says: "{text}"')
            seen.add(i)
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        questions.append(
            "On an island, knights always tell the truth and knaves always lie. "
            f"You meet {listed}. {' '.join(lines)} Who is a knight and who is a knave? "
            'Answer as "Name: knight" or "Name: knave" for each person, separated by commas.'
        )
        answers.append(", ".join(f"{names[j]}: {_ROLE[(hidden >> j) & 1]}" for j in range(p.people)))
    return Batch(questions, answers)


_PAIR = re.compile(r"\b([a-z][a-z0-9]*)\s*(?::|=|-|\bis\s+an?\b|\bis\b)?\s*(knight|knave)s?\b")


def _roles(text: str) -> dict[str, str] | None:
    """'Alice: knight, bob is a Knave' -> {'alice': 'knight', 'bob': 'knave'}; None on a contradiction."""
    out: dict[str, str] = {}
    for name, role in _PAIR.findall(" ".join(str(text).lower().split())):
        if out.setdefault(name, role) != role:
            return None
    return out


def verify_knights_knaves(item: Mapping[str, Any], answer: str) -> bool:
    got = _roles(answer)
    return got is not None and got == _roles(item["answer"])


register(
    Skill(
        name="knights_knaves",
        domain="logic",
        description="Find the unique knight/knave assignment consistent with the islanders' statements.",
        params=knights_knaves_params,
        generate_batch=generate_knights_knaves,
        verify=verify_knights_knaves,
    )
)
