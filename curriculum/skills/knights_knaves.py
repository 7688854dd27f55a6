"""Knights and knaves: islanders make statements about each other; find who is a knight.

Knights always tell the truth, knaves always lie. Solved exhaustively on truth tables held as Python ints:
bit a of a mask is the value under assignment a (person j is a knight iff bit j of a is set), so person j
saying S is consistent exactly on `~(K_j ^ S)`, and the puzzle's solutions are the AND over all statements.
A puzzle is kept only when that AND has exactly one bit. From level 6 on, every level adds one more statement
beyond those that pin the answer down (each true to its speaker's type, so the answer stands).
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills.answers import keyed
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

NAMES = (
    "Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy",
    "Kevin", "Laura", "Mallory", "Nina", "Oscar", "Peggy", "Quinn", "Rupert", "Sybil", "Trent",
    "Uma", "Victor", "Wendy", "Xavier", "Yara", "Zack", "Abel", "Bianca", "Cyrus", "Delia",
    "Edgar", "Fiona", "Gideon", "Hazel", "Igor", "Jasmine", "Kurt", "Lena", "Milo", "Nora",
)  # fmt: skip

_ROLE = ("knave", "knight")


class KnightsKnavesParams(Knobs):
    people: int  # islanders; the search space is 2**people
    compound_rate: float  # share of statements that are compound (and/or/if/same/exactly...)
    extra_statements: int  # true-to-type statements beyond those that pin the answer down: one more a level from 6


def knights_knaves_params(level: int) -> KnightsKnavesParams:
    return KnightsKnavesParams(
        people=2 + int(1.2 * math.log2(level)),
        compound_rate=min(0.85, 0.2 * (level - 1)),
        extra_statements=max(0, level - 5),
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


def _statement(r: random.Random, w: _World, names: list[str], speaker: int, compound: float) -> tuple[str, int]:
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
    questions, answers, statements = [], [], []
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
        said += _extra_statements(r, w, names, p.compound_rate, hidden, p.extra_statements, said)
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
        statements.append(len(said))
    return Batch(questions, answers, with_difficulty(p, statements))


def _extra_statements(
    r: random.Random,
    w: _World,
    names: list[str],
    compound: float,
    hidden: int,
    count: int,
    said: list[tuple[int, str]],
) -> list[tuple[int, str]]:
    """`count` more statements, each true exactly when its speaker is a knight in `hidden` (so the answer
    stands), none repeating what its speaker already said."""
    out: list[tuple[int, str]] = []
    known = set(said)
    hbit = 1 << hidden
    for _ in range(count):
        i = int(r.random() * len(names))
        for _ in range(40):
            text, m = _statement(r, w, names, i, compound)
            if (w.full ^ (w.knight[i] ^ m)) & hbit and (i, text) not in known:
                known.add((i, text))
                out.append((i, text))
                break
    return out


_PAIR = re.compile(r"\b([a-z][a-z0-9]*)\s*(?::|=|-|\bis\s+an?\b|\bis\b)?\s*(knight|knave)s?\b")


def _roles(text: str) -> dict[str, str] | None:
    """'Alice: knight, bob is a Knave' -> {'alice': 'knight', 'bob': 'knave'}; None on a contradiction."""
    s = " ".join(str(text).lower().split())
    out: dict[str, str] = {}
    if "knight" not in s and "knave" not in s:  # no role named: nothing for the pattern to find
        return out
    for name, role in _PAIR.findall(s):
        if out.setdefault(name, role) != role:
            return None
    return out


verify_knights_knaves = keyed(_roles)  # the same roles for the same people (the gold's read once)


# ---------------------------------------------------------------------------------------------------
# solver: the question text alone, each statement read back by a regex and evaluated on numpy boolean
# columns over all 2**n assignments (not the generator's big-int truth tables); exactly one must survive.

_NAME = r"[A-Z][a-z]+[0-9]*"
_KK_TEXT = re.compile(
    r"On an island, knights always tell the truth and knaves always lie\. You meet (.+?)\. (.+) Who is a knight "
    r'and who is a knave\? Answer as "Name: knight" or "Name: knave" for each person, separated by commas\.'
)
_KK_SAYS = re.compile(rf'(?:^| )({_NAME}) (?:also )?says: "([^"]*)"')
_S = rf"(I|{_NAME})"  # subject: the speaker is "I"
_O = rf"(me|{_NAME})"  # object: the speaker is "me"
_IS = rf"(I am|{_NAME} is)"
_R = r"(knight|knave)"
_KK_FORMS = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("is", rf"({_NAME}) is a {_R}\."),
        ("same", rf"{_S} and {_S} are of the same type\."),
        ("different", rf"{_S} and {_S} are of different types\."),
        ("both", rf"{_S} and {_S} are both {_R}s\."),
        ("at_least_one", rf"At least one of {_O} and {_O} is a {_R}\."),
        ("if", rf"If {_IS} a {_R}, then {_IS} a {_R}\."),
        ("or", rf"{_IS} a {_R} or {_IS} a {_R} \(or both\)\."),
        ("exactly_one_of", rf"Exactly one of {_O}, {_O} and {_O} is a knight\."),
        ("exactly", r"Exactly ([0-9]+) of the ([0-9]+) of us (is a knight|are knights)\."),
    )
)


@functools.lru_cache(maxsize=32)
def _knight_columns(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row j: whether person j is a knight under each assignment; and the knight count per assignment."""
    index = np.arange(1 << n)
    knight = ((index[None, :] >> np.arange(n)[:, None]) & 1).astype(bool)
    count = knight.sum(axis=0)
    knight.flags.writeable = False
    count.flags.writeable = False
    return knight, count


def _statement_truth(text: str, speaker: int, index: dict[str, int], knight: np.ndarray, count: np.ndarray):
    """The truth value of `text` said by person `speaker`, under every assignment."""

    def who(ref: str) -> int:
        ref = ref.removesuffix(" am").removesuffix(" is")
        if ref in ("I", "me"):
            return speaker
        if ref not in index:
            raise ValueError(f"{ref!r} is not one of the islanders")
        return index[ref]

    def role(ref: str, r: str) -> np.ndarray:
        return knight[who(ref)] if r == "knight" else ~knight[who(ref)]

    for kind, pattern in _KK_FORMS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        g = m.groups()
        if kind == "is":
            return role(g[0], g[1])
        if kind == "same":
            return knight[who(g[0])] == knight[who(g[1])]
        if kind == "different":
            return knight[who(g[0])] != knight[who(g[1])]
        if kind == "both":
            return role(g[0], g[2]) & role(g[1], g[2])
        if kind == "at_least_one":
            return role(g[0], g[2]) | role(g[1], g[2])
        if kind == "if":
            return ~role(g[0], g[1]) | role(g[2], g[3])
        if kind == "or":
            return role(g[0], g[1]) | role(g[2], g[3])
        if kind == "exactly_one_of":
            return (knight[who(g[0])].astype(np.int8) + knight[who(g[1])] + knight[who(g[2])]) == 1
        k, total = int(g[0]), int(g[1])
        if total != len(index) or (k == 1) != (g[2] == "is a knight"):
            raise ValueError(f"inconsistent count statement {text!r}")
        return count == k
    raise ValueError(f"unreadable statement {text!r}")


def solve_knights_knaves(item: Mapping[str, Any]) -> str:
    m = _KK_TEXT.fullmatch(str(item["question"]))
    if m is None:
        raise ValueError("not a knights-and-knaves question")
    head, sep, last = m.group(1).rpartition(" and ")
    people = [*head.split(", "), last]
    if not sep or len(set(people)) != len(people) or not all(re.fullmatch(_NAME, p) for p in people):
        raise ValueError(f"unreadable list of islanders {m.group(1)!r}")
    index = {name: j for j, name in enumerate(people)}
    parts = _KK_SAYS.split(m.group(2))  # ['', name, text, '', name, text, ..., '']: nothing in between
    if len(parts) < 4 or any(parts[i] for i in range(0, len(parts), 3)):
        raise ValueError("unreadable statements")
    knight, count = _knight_columns(len(people))
    consistent = np.ones(knight.shape[1], dtype=bool)
    for i in range(1, len(parts), 3):
        speaker = index.get(parts[i])
        if speaker is None:
            raise ValueError(f"{parts[i]!r} is not one of the islanders")
        # a knight says only true things, a knave only false ones
        consistent &= knight[speaker] == _statement_truth(parts[i + 1], speaker, index, knight, count)
    solutions = np.flatnonzero(consistent)
    if len(solutions) != 1:
        raise ValueError(f"the statements allow {len(solutions)} assignments, not exactly one")
    a = int(solutions[0])
    return ", ".join(f"{name}: {_ROLE[(a >> j) & 1]}" for j, name in enumerate(people))


register(
    Skill(
        name="knights_knaves",
        domain="logic",
        description="Find the unique knight/knave assignment consistent with the islanders' statements.",
        params=knights_knaves_params,
        generate_batch=generate_knights_knaves,
        verify=verify_knights_knaves,
        solve=solve_knights_knaves,
        version=2,
        max_level=1300,  # CPU: 20 items + gold check ~1 s
        difficulty="statements to weigh",
    )
)
