"""family_relations: facts parsed back, relation found by a breadth-first search over up/down moves."""

from __future__ import annotations

import re
from collections import Counter, deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from tests.skills.contract import assert_second_method_agrees

LEVELS = st.integers(min_value=1, max_value=12)
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
SKILL = REGISTRY["family_relations"]

_FACT = re.compile(r"(\w+) is (\w+)'s (mother|father|son|daughter|wife|husband)\.")
_FEMALE_WORDS = {"mother", "daughter", "wife"}
_Q = re.compile(r"How is (\w+) related to (\w+)\? Complete '\1 is \2's ___'")
_ORD = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]


def _batch(level: int, seed: int, n: int):
    return SKILL.generate_batch(np.random.default_rng(seed), level, n)


def parse_family(question: str):
    parents: dict[str, set[str]] = {}
    female: dict[str, bool] = {}
    spouses: set[frozenset[str]] = set()
    for a, b, word in _FACT.findall(question):
        is_f = word in _FEMALE_WORDS
        assert female.setdefault(a, is_f) == is_f, f"{a}: contradictory gender"
        if word in ("mother", "father"):
            parents.setdefault(b, set()).add(a)
        elif word in ("son", "daughter"):
            parents.setdefault(a, set()).add(b)
        else:
            spouses.add(frozenset((a, b)))
    people = set(female) | set(parents) | {p for ps in parents.values() for p in ps}
    people |= {p for s in spouses for p in s}
    assert people == set(female), f"gender unknown for {people - set(female)}"
    for child, ps in parents.items():
        assert len(ps) == 2, f"{child} has parents {ps}"
        mum, dad = sorted(ps, key=lambda p: not female[p])
        assert female[mum] and not female[dad]
        assert frozenset(ps) in spouses, "parents not stated as married"
    x, y = _Q.search(question).groups()
    return parents, female, x, y


def relation_by_search(question: str) -> str:
    """Shortest path from Y to X made of 'up' moves (to a parent) then 'down' moves (to a child)."""
    parents, female, x, y = parse_family(question)
    children: dict[str, list[str]] = {}
    for c, ps in parents.items():
        for p in ps:
            children.setdefault(p, []).append(c)
    start = (y, 0, 0)  # person, ups, downs
    seen = {(y, False)}
    queue = deque([start])
    found = None
    while queue:
        person, ups, downs = queue.popleft()
        if person == x:
            found = (ups, downs)
            break
        if downs == 0:
            for p in parents.get(person, ()):
                if (p, False) not in seen:
                    seen.add((p, False))
                    queue.append((p, ups + 1, 0))
        for c in children.get(person, ()):
            if (c, True) not in seen:
                seen.add((c, True))
                queue.append((c, ups, downs + 1))
    assert found is not None, "not blood relatives"
    return name_relation(*found, female[x])


def name_relation(ups: int, downs: int, fem: bool) -> str:
    """X reached from Y by `ups` steps up then `downs` steps down."""
    g = 0 if fem else 1
    if downs == 0:
        word = ("mother", "father")[g]
        return word if ups == 1 else "great-" * (ups - 2) + "grand" + word
    if ups == 0:
        word = ("daughter", "son")[g]
        return word if downs == 1 else "great-" * (downs - 2) + "grand" + word
    if ups == downs == 1:
        return ("sister", "brother")[g]
    if downs == 1:
        return "great-" * (ups - 2) + ("aunt", "uncle")[g]
    if ups == 1:
        return "great-" * (downs - 2) + ("niece", "nephew")[g]
    degree = min(ups, downs) - 1
    removed = abs(ups - downs)
    if removed == 0:
        return "cousin" if degree == 1 else _ORD[degree] + " cousin"
    assert removed <= 2, "cousins are asked about at most twice removed"
    return f"{_ORD[degree]} cousin {['', 'once', 'twice'][removed]} removed"


def test_independent_check_1000():
    assert_second_method_agrees("family_relations", lambda _, q: relation_by_search(q), seed=300)


_SWAP = {
    "mother": "father", "father": "mother", "son": "daughter", "daughter": "son", "sister": "brother",
    "brother": "sister", "aunt": "uncle", "uncle": "aunt", "niece": "nephew", "nephew": "niece",
}  # fmt: skip


def _perturbed(gold: str) -> list[str]:
    out = ["", "cousin" if gold != "cousin" else "sister", "great-" + gold, "step" + gold]
    last = gold.split("-")[-1]
    if last in _SWAP:
        out.append(gold[: -len(last)] + _SWAP[last])
    if gold.startswith("great-"):
        out.append(gold[len("great-") :])
    if "cousin" in gold:
        out += [gold + " once removed", gold.replace("cousin", "second cousin")]
        if gold.endswith(" removed"):
            out.append(gold.rsplit(" ", 2)[0])
    return out


def _reformatted(gold: str, x: str, y: str) -> list[str]:
    out = [gold, gold.upper(), f"The {gold}.", f" {gold.replace('-', ' ')} ", gold.replace("-", ""),
           f"{x} is {y}'s {gold}."]  # fmt: skip
    if gold == "cousin":
        out += ["first cousin", "1st cousin"]
    if gold.startswith("first cousin"):
        out += ["1st" + gold[len("first") :], gold[len("first ") :]]
    for word in ("aunt", "uncle", "niece", "nephew"):
        if gold == "great-" + word:
            out += ["grand" + word, "grand-" + word]
    if "grand" in gold and gold.startswith("great"):
        out.append(gold.replace("grand", "grand "))
    return out


@settings(max_examples=40, deadline=None)
@given(level=LEVELS, seed=SEEDS)
def test_verifier(level, seed):
    b = _batch(level, seed, 4)
    for q, gold in zip(b.questions, b.answers):
        item = {"question": q, "answer": gold}
        _, _, x, y = parse_family(q)
        for good in _reformatted(gold, x, y):
            assert SKILL.verify(item, good), (gold, good)
        for bad in _perturbed(gold):
            assert not SKILL.verify(item, bad), (gold, bad)


def test_high_levels_are_exact():
    assert_second_method_agrees(
        "family_relations", lambda _, q: relation_by_search(q), levels=(12, 50), n=3, seed=3, min_items=6
    )


def test_generations_keep_growing():
    assert SKILL.params(10**6).generations > SKILL.params(50).generations


@pytest.mark.parametrize("level", [1, 3])
def test_many_relations_asked(level):
    assert len(Counter(_batch(level, 0, 300).answers)) >= (6 if level == 1 else 12)


def test_skill_solve_refuses_other_text():
    other = REGISTRY["ordering"].generate_batch(np.random.default_rng(0), 3, 1).questions[0]
    q = _batch(50, 850, 5).questions[0]
    x = _Q.search(q).group(1)
    contradiction = f"{x} is Ann's mother. {x} is Ann's father. " + q
    for bad in ("", "What is love?", other, q[:-10], contradiction):
        with pytest.raises(ValueError):
            SKILL.solve({"question": bad, "answer": "0"})
