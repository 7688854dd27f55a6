"""Family relations: a family tree given as facts ("Ann is Bob's mother"), ask how X is related to Y.

The tree starts from one founding couple; in each later generation some blood members marry a spouse from
outside the family (no parents in the tree) and have children. Every child's two parents are stated, every
couple's marriage is stated, and every person's gender follows from at least one fact, so the relation
(mother, brother, grandson, aunt, niece, cousin, great-uncle, second cousin once removed, ...) is unique.
Only blood relatives (one descends from the other, or they share ancestors) are asked about. From level 2 the
facts of a second, unrelated family (the outsiders, stated the same way) are mixed in, one more person a level:
the pair asked about always belongs to the first family.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills._names import FEMALE, FEMALE_MORE, MALE, MALE_MORE, ilog, ordinal
from curriculum.skills.answers import clean, keyed
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty


class FamilyParams(Knobs):
    generations: int
    couples_per_generation: int  # at most this many blood members of a generation marry and have children
    max_children: int
    outsiders: int  # people of a second, unrelated family whose facts are mixed in: 3 at level 2, one more a level


def family_params(level: int) -> FamilyParams:
    """The tree deepens slowly (a generation per doubling of the level); every level adds one outsider."""
    return FamilyParams(
        generations=2 + ilog(level, 2),
        couples_per_generation=min(3, 1 + ilog(level, 2)),
        max_children=3,
        outsiders=0 if level == 1 else level + 1,
    )


_MAX_REMOVED = 2  # cousins are asked about at most "twice removed"
_COUSIN = ("", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_TIMES = ("", "once", "twice", "three times")


def relation_name(dx: int, dy: int, female: bool) -> str:
    """X is Y's ___ when X is dx generations and Y dy generations below their nearest common ancestors."""
    if dx == 0 or dy == 0:  # direct line
        up = dy if dx == 0 else dx
        base = ("mother" if female else "father") if dx == 0 else ("daughter" if female else "son")
        return base if up == 1 else "great-" * (up - 2) + "grand" + base
    if dx == 1 and dy == 1:
        return "sister" if female else "brother"
    if dx == 1:
        return "great-" * (dy - 2) + ("aunt" if female else "uncle")
    if dy == 1:
        return "great-" * (dx - 2) + ("niece" if female else "nephew")
    degree, removed = min(dx, dy) - 1, abs(dx - dy)
    word = _COUSIN[degree] if degree < len(_COUSIN) else ordinal(degree)
    if not removed:
        return "cousin" if degree == 1 else f"{word} cousin"
    times = _TIMES[removed] if removed < len(_TIMES) else f"{removed} times"
    return f"{word} cousin {times} removed"


def _family_item(r: random.Random, p: FamilyParams) -> tuple[str, str, int]:
    """(question, answer, facts stated)."""
    rand = r.random
    female: list[bool] = []
    names: list[str] = []
    used: set[str] = set()
    counts = [0, 0]  # males, females
    pools = (MALE + MALE_MORE, FEMALE + FEMALE_MORE)

    def person(is_female: bool) -> int:
        pool = pools[is_female]
        while True:
            nm = pool[int(rand() * len(pool))]
            if nm not in used:
                break
        used.add(nm)
        counts[is_female] += 1
        names.append(nm)
        female.append(is_female)
        return len(names) - 1

    def room(is_female: bool, k: int = 1) -> bool:
        return counts[is_female] + k <= len(pools[is_female])

    couples: list[tuple[int, int, list[int]]] = []  # (wife, husband, children)
    couple_of: dict[int, int] = {}

    def family(a: int, b: int, n_kids: int) -> list[int]:
        wife, husband = (a, b) if female[a] else (b, a)
        kids = []
        for _ in range(n_kids):
            g = rand() < 0.5
            if not room(g):
                g = not g
                if not room(g):
                    break
            kids.append(person(g))
        couple_of[wife] = couple_of[husband] = len(couples)
        couples.append((wife, husband, kids))
        return kids

    gen = family(person(True), person(False), 2 + int(rand() * (p.max_children - 1)))
    for _ in range(p.generations - 2):
        nc = min(len(gen), p.couples_per_generation)
        nxt: list[int] = []
        for b in r.sample(gen, nc):
            if not (room(True, 2) and room(False, 2)):  # the spouse and at least one child fit
                break
            spouse = person(not female[b])
            nxt += family(b, spouse, 1 + int(rand() * p.max_children))
        if not nxt:
            break
        gen = nxt
    main = len(couples)

    # the outsiders: an unrelated family (couples, each with children, some of whom marry further outsiders);
    # one or two left over become more children of one of its couples
    left, single = p.outsiders, []
    while left and room(True, 2) and room(False, 2):
        if single and left >= 2 and (left < 3 or rand() < 0.7):
            b = single.pop(int(rand() * len(single)))
            spouse = person(not female[b])
            left -= 1
        elif left >= 3:
            b, spouse = person(True), person(False)
            left -= 2
        else:
            kids = couples[main + int(rand() * (len(couples) - main))][2]
            for _ in range(left):
                kids.append(person(rand() < 0.5))
            break
        kids = family(b, spouse, min(left, 1 + int(rand() * p.max_children)))
        left -= len(kids)
        single += kids

    # facts: one marriage statement per couple reveals one spouse's gender, a parent-form link reveals the
    # other; every child is revealed by a child-form link
    facts = []
    for wife, husband, kids in couples:
        if rand() < 0.5:
            facts.append(f"{names[wife]} is {names[husband]}'s wife.")
            s1, s2 = wife, husband
        else:
            facts.append(f"{names[husband]} is {names[wife]}'s husband.")
            s1, s2 = husband, wife
        if not kids:
            continue
        star = kids[int(rand() * len(kids))]
        for c in kids:
            child_word = "daughter" if female[c] else "son"
            s2_parent_form = c == star or rand() < 0.5
            s1_parent_form = not s2_parent_form and rand() < 0.5
            for par, parent_form in ((s1, s1_parent_form), (s2, s2_parent_form)):
                if parent_form:
                    facts.append(f"{names[par]} is {names[c]}'s {'mother' if female[par] else 'father'}.")
                else:
                    facts.append(f"{names[c]} is {names[par]}'s {child_word}.")
    r.shuffle(facts)

    # every blood pair, bucketed by (dx, dy) below the nearest common ancestor couple
    below: dict[int, list[tuple[int, int]]] = {}  # person -> [(descendant, depth >= 1)]
    buckets: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for wife, husband, kids in reversed(couples[:main]):  # children's couples come later: bottom-up
        subs = []
        for c in kids:
            sub = [(c, 1)]
            ci = couple_of.get(c)
            if ci is not None:
                sub += [(x, d + 1) for x, d in below[c]]
            subs.append(sub)
        flat = [xd for sub in subs for xd in sub]
        below[wife] = below[husband] = flat
        for member in (wife, husband):
            for x, d in flat:
                buckets.setdefault((0, d), []).append((member, x))
                buckets.setdefault((d, 0), []).append((x, member))
        for i in range(len(subs)):
            for j in range(i + 1, len(subs)):
                for x, dx in subs[i]:
                    for y, dy in subs[j]:
                        buckets.setdefault((dx, dy), []).append((x, y))
                        buckets.setdefault((dy, dx), []).append((y, x))
    keys = sorted(k for k in buckets if min(k) < 2 or abs(k[0] - k[1]) <= _MAX_REMOVED)
    dx, dy = keys[int(rand() * len(keys))]
    pairs = buckets[(dx, dy)]
    x, y = pairs[int(rand() * len(pairs))]
    answer = relation_name(dx, dy, female[x])
    examples = "sister, grandfather, aunt, nephew, cousin"
    if p.generations >= 4:
        examples += ", great-grandmother, great-uncle, second cousin once removed"
    q = (
        f"{' '.join(facts)} How is {names[x]} related to {names[y]}? Complete '{names[x]} is {names[y]}'s ___' "
        f"with one relation term (e.g. {examples})."
    )
    return q, answer, len(facts)


def generate_family(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = family_params(level)
    r = random.Random(int(rng.integers(2**63)))
    out = [_family_item(r, p) for _ in range(n)]
    return Batch([q for q, _, _ in out], [a for _, a, _ in out], with_difficulty(p, [k for _, _, k in out]))


_LEAD = re.compile(r"^(?:the|a|an|his|her|their)\s+")
_ORDINALS = {
    "1st": "first", "2nd": "second", "3rd": "third", "4th": "fourth", "5th": "fifth", "6th": "sixth",
    "7th": "seventh", "8th": "eighth", "9th": "ninth", "10th": "tenth",
}  # fmt: skip
_GRAND = re.compile(r"\bgrand ?(aunt|uncle|niece|nephew)\b")
_GREAT_JOINED = re.compile(r"\bgreat(?=[a-z])")
_GRAND_SPACED = re.compile(r"\bgrand (mother|father|son|daughter)\b")


def canonical_relation(text: str) -> str:
    """'The Great Grand-Mother' -> 'great grandmother'; '1st cousin' -> 'cousin'; 'grandaunt' -> 'great aunt'."""
    s = clean(text)
    if "'s " in s:  # "ann is bob's grandmother"
        s = s.rsplit("'s ", 1)[1]
    if s.startswith(("the", "a", "his", "her")):  # what _LEAD can take away starts so
        s = _LEAD.sub("", s)
    words = [_ORDINALS.get(w, w) for w in s.replace("-", " ").split()]
    s = " ".join(words)
    prev = None  # 'greatgreatgrandmother' -> 'great great grandmother'; 'grandaunt' -> 'great aunt'
    while s != prev and ("great" in s or "grand" in s):
        prev = s
        s = _GREAT_JOINED.sub("great ", s)
        s = _GRAND.sub(r"great \1", s)
        s = _GRAND_SPACED.sub(r"grand\1", s)
    if s == "first cousin":
        s = "cousin"
    elif s.startswith("cousin ") and s.endswith(" removed"):
        s = "first " + s
    return s


verify_family = keyed(canonical_relation)  # the same relation, however spelt (the gold's read once)


# ---------------------------------------------------------------------------------------------------
# solver: the question text alone; nearest common ancestor by depth maps (the generator enumerates pairs
# under each couple instead)

_F_TEXT = re.compile(
    r"((?:\w+ is \w+'s (?:mother|father|son|daughter|wife|husband)\. )+)How is (\w+) related to (\w+)\? "
    r"Complete '\2 is \3's ___' with one relation term \(e\.g\. [a-z ,-]+\)\."
)
_F_FACT = re.compile(r"(\w+) is (\w+)'s (mother|father|son|daughter|wife|husband)\. ")


def solve_family(item: Mapping[str, Any]) -> str:
    m = _F_TEXT.fullmatch(str(item["question"]))
    if m is None:
        raise ValueError("not a family-relations question")
    parents: dict[str, set[str]] = {}
    gender: dict[str, bool] = {}
    for a, b, word in _F_FACT.findall(m.group(1)):
        if gender.setdefault(a, word in ("mother", "daughter", "wife")) != (word in ("mother", "daughter", "wife")):
            raise ValueError(f"{a} is stated both female and male")
        if word in ("mother", "father"):
            parents.setdefault(b, set()).add(a)
        elif word in ("son", "daughter"):
            parents.setdefault(a, set()).add(b)
    if any(len(ps) != 2 for ps in parents.values()):
        raise ValueError("a child without exactly two parents")
    x, y = m.group(2), m.group(3)
    if x == y or x not in gender:
        raise ValueError("cannot relate these two")

    def ancestors(person: str) -> dict[str, int]:
        depth = {person: 0}
        frontier = [person]
        while frontier:
            nxt = []
            for c in frontier:
                for par in parents.get(c, ()):
                    if par not in depth:
                        depth[par] = depth[c] + 1
                        nxt.append(par)
            frontier = nxt
        return depth

    ax, ay = ancestors(x), ancestors(y)
    common = [(ax[a] + ay[a], ax[a], ay[a]) for a in ax.keys() & ay.keys()]
    if not common:
        raise ValueError("not blood relatives")
    _, dx, dy = min(common)
    return relation_name(dx, dy, gender[x])


register(
    Skill(
        name="family_relations",
        domain="logic",
        description="From parent/child and marriage facts of a family tree, name how X is related to Y.",
        params=family_params,
        generate_batch=generate_family,
        verify=verify_family,
        solve=solve_family,
        version=2,
        max_level=2**31 - 1,  # the catalogue's INTEGER level; families stop growing far below (0.5 s there)
        difficulty="facts stated (the family's and the outsiders')",
    )
)
