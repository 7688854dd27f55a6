"""Categorical syllogisms and sorites chains with all / some / no: does a conclusion follow?

Every term is assumed non-empty (stated in the question: traditional existential import), and "some" means at
least one, possibly all (also stated). Validity is decided exactly over the Venn regions of the chain's terms
(the 2**k intersections of terms and complements, held as bits of a Python int): universal statements (all, no)
empty some regions; existential ones (some, some ... not, and "every term is non-empty") each need a non-empty
region. Such a set of statements is satisfiable iff every existential one still has an allowed region, since
the witnesses never conflict. The conclusion follows iff the premises plus the conclusion's contradictory are
unsatisfiable.

Distractor premises hang new terms off the chain, each new term in exactly one premise about an earlier term. Any
model of the chain extends to them (the new term is a member of the earlier one, all of it, or a fresh individual
beside it), so they never change consistency or the verdict and stay out of the Venn regions, at no cost in 2**k.

Every level states one premise more than the last: a chain link at each power of two, a distractor at every other
level. One knob at a time, and the chain first: the built-in learner reads a 3-link chain as well as a 2-link one
(0.92 held out) but drops to 0.75 with one distractor beside it, so a level that added both at once (as version 2's
level 2 did) was a wall, not a step.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills.answers import verify_bool
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

TERMS = (
    "wugs", "daxes", "blickets", "feps", "toves", "zorbs", "glorps", "snarks", "brillies", "quoks",
    "mimsies", "borogs", "frumps", "gimbles", "jubjubs", "kelbs", "lorps", "nargs", "plinks", "rasks",
    "slithies", "tarns", "vorps", "yelks", "zindles", "bandles", "crails", "dorfs", "flonks", "grebs",
    "hinds", "jaxes", "klumps", "mops", "nobs", "pruggs", "quills", "sprocks", "trebs", "wimbles",
)  # fmt: skip

# forms: 0 all X are Y, 1 no X are Y, 2 some X are Y, 3 some X are not Y
_ASSUME = 'Assume there is at least one of each kind of thing mentioned, and read "some" as at least one, possibly all.'
_CONTRADICTORY = (3, 2, 1, 0)


class SyllogismParams(Knobs):
    chain: int  # premises linking the two terms of the conclusion (2 = a classic syllogism)
    distractors: int  # extra premises, each about a new term off the chain


def syllogism_params(level: int) -> SyllogismParams:
    """level + 1 premises: 2 + log2(level) of them the chain, the rest distractors."""
    chain = 2 + int(math.log2(level))
    return SyllogismParams(chain=chain, distractors=level + 1 - chain)


def _sentence(form: int, x: str, y: str, head: bool) -> str:
    text = (f"all {x} are {y}", f"no {x} are {y}", f"some {x} are {y}", f"some {x} are not {y}")[form]
    return text[0].upper() + text[1:] if head else text


def _term_masks(k: int) -> tuple[list[int], int]:
    size = 1 << k
    full = (1 << size) - 1
    masks = []
    for i in range(k):
        block = 1 << i
        unit = ((1 << block) - 1) << block
        masks.append(unit * (full // ((1 << (2 * block)) - 1)))
    return masks, full


def _satisfiable(statements: list[tuple[int, int, int]], masks: list[int], full: int) -> bool:
    allowed = full
    need = list(masks)  # existential import: every term has a member
    for form, x, y in statements:
        mx, my = masks[x], masks[y]
        if form == 0:
            allowed &= full ^ (mx & (full ^ my))
        elif form == 1:
            allowed &= full ^ (mx & my)
        elif form == 2:
            need.append(mx & my)
        else:
            need.append(mx & (full ^ my))
    return all(allowed & m for m in need)


def _chain(r: random.Random, links: int) -> list[tuple[int, int, int]]:
    """Premises linking term 0 to term `links` through 1, 2, ...: mostly a valid sorites, sometimes spoiled."""
    out = []
    some_at = 0 if r.random() < 0.35 else -1  # "some" on the first link keeps "some 0 are last" valid
    no_at = links - 1 if r.random() < 0.35 else -1  # "no" on the last link gives negative conclusions
    for i in range(links):
        form = 2 if i == some_at else 1 if i == no_at else 0
        if r.random() < 0.12:
            form = int(r.random() * 4)  # spoil a link
        out.append((form, i, i + 1))
    return out


def generate_syllogism(rng: np.random.Generator, level: int, n: int) -> Batch:
    """Balanced yes/no by rejection on the exact verdict; the premises are always consistent."""
    p = syllogism_params(level)
    r = random.Random(int(rng.integers(2**63)))
    k = p.chain + 1 + p.distractors
    masks, full = _term_masks(p.chain + 1)  # the chain's terms: distractors never change the verdict
    pool = list(TERMS) + [f"{TERMS[i % len(TERMS)][:-1]}{i // len(TERMS)}s" for i in range(len(TERMS), k)]
    want = [i % 2 == 0 for i in range(n)]
    r.shuffle(want)
    questions, answers = [], []
    for target in want:
        while True:
            premises = _chain(r, p.chain)
            if not _satisfiable(premises, masks, full):
                continue
            if p.chain < 3 or r.random() < 0.8:
                a, b = 0, p.chain
            else:  # two terms at least two links apart inside the chain
                a = int(r.random() * (p.chain - 1))
                b = a + 2 + int(r.random() * (p.chain - a - 1))
            if r.random() < 0.25:
                a, b = b, a
            form = int(r.random() * 4)
            valid = not _satisfiable([*premises, (_CONTRADICTORY[form], a, b)], masks, full)
            if valid == target:
                break
        for d in range(p.distractors):  # a new term hanging off a random earlier one (chain or distractor)
            premises.append((int(r.random() * 4), int(r.random() * (p.chain + 1 + d)), p.chain + 1 + d))
        words = r.sample(pool, k)
        # symmetric forms read either way round; the premise order is shuffled
        texts = [
            _sentence(f, words[y], words[x], True)
            if f in (1, 2) and r.random() < 0.5
            else _sentence(f, words[x], words[y], True)
            for f, x, y in premises
        ]
        r.shuffle(texts)
        questions.append(
            f"{_ASSUME} {'. '.join(texts)}. "
            f"Does it follow that {_sentence(form, words[a], words[b], False)}? Answer yes or no."
        )
        answers.append("yes" if target else "no")
    return Batch(questions, answers, with_difficulty(p, [p.chain + p.distractors] * n))


# ---------------------------------------------------------------------------------------------------
# solver: the question text alone, decided without Venn regions. A model is a set of individuals, each the
# set of terms it belongs to; "all X are Y" and "no X are Y" constrain every individual, an existential needs
# one. The least individual in X (and Y) is X's (and Y's) closure under the "all" arrows: it works iff no
# "no" pair lies inside it (and, for "some X are not Y", Y is outside it), since any other candidate holds it.

_SYL_TEXT = re.compile(re.escape(_ASSUME) + r" (.+)\. Does it follow that (.+)\? Answer yes or no\.")
_SYL_SENTENCE = re.compile(r"(all|no|some) ([a-z][a-z0-9]*) are (not )?([a-z][a-z0-9]*)")
_NEGATION = {"all": "some-not", "no": "some", "some": "no", "some-not": "all"}


def _read_sentence(text: str, head: bool) -> tuple[str, str, str]:
    """'All wugs are daxes' -> ('all', 'wugs', 'daxes'); a premise is capitalised, the conclusion is not."""
    if not text or text[0].isupper() != head:
        raise ValueError(f"unreadable sentence {text!r}")
    m = _SYL_SENTENCE.fullmatch(text[0].lower() + text[1:])
    if m is None:
        raise ValueError(f"unreadable sentence {text!r}")
    q, x, neg, y = m.groups()
    if (neg and q != "some") or x == y or "not" in (x, y):
        raise ValueError(f"unreadable sentence {text!r}")
    return ("some-not" if neg else q), x, y


def _consistent(statements: list[tuple[str, str, str]], terms: set[str]) -> bool:
    up: dict[str, list[str]] = {}
    apart: dict[str, set[str]] = {}
    for form, x, y in statements:
        if form == "all":
            up.setdefault(x, []).append(y)
        elif form == "no":
            apart.setdefault(x, set()).add(y)
            apart.setdefault(y, set()).add(x)
    closures: dict[str, set[str]] = {}

    def closure(t: str) -> set[str]:
        if t not in closures:
            seen, stack = {t}, [t]
            while stack:
                for u in up.get(stack.pop(), ()):
                    if u not in seen:
                        seen.add(u)
                        stack.append(u)
            closures[t] = seen
        return closures[t]

    def works(individual: set[str]) -> bool:
        return not any(apart.get(t, set()) & individual for t in individual)

    if not all(works(closure(t)) for t in terms):  # every term is non-empty
        return False
    for form, x, y in statements:
        if form == "some" and not works(closure(x) | closure(y)):
            return False
        if form == "some-not" and (y in closure(x) or not works(closure(x))):
            return False
    return True


def solve_syllogism(item: Mapping[str, Any]) -> str:
    m = _SYL_TEXT.fullmatch(str(item["question"]))
    if m is None:
        raise ValueError("not a syllogism question")
    premises = [_read_sentence(t, True) for t in m.group(1).split(". ")]
    form, x, y = _read_sentence(m.group(2), False)
    terms = {t for _, a, b in premises for t in (a, b)} | {x, y}
    if not _consistent(premises, terms):
        raise ValueError("the premises are inconsistent")
    return "no" if _consistent([*premises, (_NEGATION[form], x, y)], terms) else "yes"


register(
    Skill(
        name="syllogism",
        domain="logic",
        description="Decide whether a categorical conclusion follows from a chain of all/some/no premises.",
        params=syllogism_params,
        generate_batch=generate_syllogism,
        verify=verify_bool,
        solve=solve_syllogism,
        version=3,
        max_level=4000,  # CPU: 20 items + gold check ~1 s
        difficulty="premises to read (the chain and the distractors)",
    )
)
