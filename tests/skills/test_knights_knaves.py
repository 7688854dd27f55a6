"""knights_knaves: every puzzle re-read from its text by regexes and solved by brute force over tuples of
booleans (not the generator's truth-table bitmasks); it must have exactly the gold solution. The skill's own
solver (numpy columns) is checked against the gold and, on mutated puzzles, against this brute force."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from tests.skills.contract import assert_second_method_agrees

SKILL = REGISTRY["knights_knaves"]
_MEET = re.compile(r"You meet (.*?)\. ")
_SAYS = re.compile(r'(\w+) (also )?says: "(.*?)"')
_ANSWER = re.compile(r"(\w+): (knight|knave)")
N = r"(\w+)"
R = r"(knight|knave)"
IS = r"(?:is|am)"
_FORMS = [
    (re.compile(rf"{N} is a {R}\."), lambda v, x, r: v[x] == (r == "knight")),
    (re.compile(rf"{N} and {N} are of the same type\."), lambda v, x, y: v[x] == v[y]),
    (re.compile(rf"{N} and {N} are of different types\."), lambda v, x, y: v[x] != v[y]),
    (re.compile(rf"{N} and {N} are both {R}s\."), lambda v, x, y, r: v[x] == v[y] == (r == "knight")),
    (
        re.compile(rf"At least one of {N} and {N} is a {R}\."),
        lambda v, x, y, r: v[x] == (r == "knight") or v[y] == (r == "knight"),
    ),
    (
        re.compile(rf"If {N} {IS} a {R}, then {N} {IS} a {R}\."),
        lambda v, x, a, y, b: v[x] != (a == "knight") or v[y] == (b == "knight"),
    ),
    (
        re.compile(rf"{N} {IS} a {R} or {N} {IS} a {R} \(or both\)\."),
        lambda v, x, a, y, b: v[x] == (a == "knight") or v[y] == (b == "knight"),
    ),
    (re.compile(rf"Exactly one of {N}, {N} and {N} is a knight\."), lambda v, x, y, z: v[x] + v[y] + v[z] == 1),
    (re.compile(r"Exactly (\d+) of the (\d+) of us (?:is a knight|are knights)\."), None),
]


def statement(text: str, speaker: str, people: list[str]):
    """Statement text -> predicate over {name: is_knight}."""
    for pattern, fn in _FORMS:
        m = pattern.fullmatch(text)
        if not m:
            continue
        if fn is None:
            k, total = int(m.group(1)), int(m.group(2))
            assert total == len(people)
            assert (k == 1) == text.endswith("is a knight.")
            return lambda v: sum(v.values()) == k
        args = [speaker if g in ("I", "me") else g for g in m.groups()]
        for g in m.groups():
            assert g in people or g in ("I", "me", "knight", "knave"), g
        assert speaker not in m.groups(), "a speaker refers to themself as I/me"
        assert "I is" not in text and "me am" not in text
        return lambda v: fn(v, *args)
    raise AssertionError(f"unparsed statement {text!r}")


def solve(question: str) -> list[dict[str, bool]]:
    people_text = _MEET.search(question).group(1)
    head, last = people_text.rsplit(" and ", 1)
    people = head.split(", ") + [last]
    assert len(set(people)) == len(people)
    said = []
    seen = set()
    for speaker, also, text in _SAYS.findall(question):
        assert speaker in people
        assert bool(also) == (speaker in seen)
        seen.add(speaker)
        said.append((speaker, statement(text, speaker, people)))
    assert seen == set(people), "everyone speaks"
    solutions = []
    for bits in itertools.product((False, True), repeat=len(people)):
        v = dict(zip(people, bits))
        if all(pred(v) == v[speaker] for speaker, pred in said):
            solutions.append(v)
    return solutions


def answer_of(solution: dict[str, bool]) -> str:
    return ", ".join(f"{name}: {'knight' if k else 'knave'}" for name, k in solution.items())


def batch(seed: int, level: int, n: int):
    return SKILL.generate_batch(np.random.default_rng(seed), level, n)


def unique_answer(question: str) -> str:
    """The brute-force answer, after checking that exactly one assignment fits."""
    solutions = solve(question)
    assert len(solutions) == 1, question
    return answer_of(solutions[0])


def test_independent_brute_force() -> None:
    assert_second_method_agrees("knights_knaves", lambda _, q: unique_answer(q), seed=200)


@settings(max_examples=40, deadline=None)
@given(level=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_verifier(level: int, seed: int) -> None:
    b = batch(seed, level, 4)
    for q, a in zip(b.questions, b.answers):
        item = {"question": q, "answer": a, "params": SKILL.params_json(level)}
        pairs = _ANSWER.findall(a)
        assert len(pairs) == len(solve(q)[0])
        reformatted = [
            a,
            a.lower(),
            a.upper(),
            ", ".join(reversed(a.split(", "))),
            "; ".join(f"{n} is a {r}" for n, r in pairs) + ".",
            "\n".join(f"{n} = {r}" for n, r in pairs),
            "  " + a.replace(": ", " :  ") + " ",
        ]
        for ok in reformatted:
            assert SKILL.verify(item, ok), ok
        flip = {"knight": "knave", "knave": "knight"}
        bad = [
            "",
            ", ".join(f"{n}: {flip[r]}" for n, r in pairs),  # all flipped
            ", ".join(f"{n}: {r}" for n, r in pairs[:-1]),  # someone missing
            a + ", Zed: knight",  # someone extra
            a + f", {pairs[0][0]}: {flip[pairs[0][1]]}",  # contradicts itself
        ]
        for i in range(len(pairs)):  # one person flipped
            bad.append(", ".join(f"{n}: {flip[r] if j == i else r}" for j, (n, r) in enumerate(pairs)))
        for wrong in bad:
            assert not SKILL.verify(item, wrong), wrong


def test_high_levels_are_exact() -> None:
    assert_second_method_agrees(
        "knights_knaves", lambda _, q: unique_answer(q), levels=(12, 50), n=3, seed=1, min_items=6
    )


def test_compound_statements_grow_by_level_12() -> None:
    assert SKILL.params(12).compound_rate > SKILL.params(1).compound_rate


def test_knights_and_knaves_balanced() -> None:
    roles = Counter(r for a in batch(9, 3, 300).answers for _, r in _ANSWER.findall(a))
    assert 0.4 <= roles["knight"] / sum(roles.values()) <= 0.6


_FLIP = {"knight": "knave", "knave": "knight", "the same type": "different types", "different types": "the same type"}
_FLIPPABLE = re.compile("knight|knave|the same type|different types")  # "knights" -> "knaves" too


def _mutations(question: str):
    """One statement changed (a role or same/different flipped): off the generator's path, the puzzle may
    now have no solution, several, or a different one."""
    for m in _SAYS.finditer(question):
        text = m.group(3)
        hit = _FLIPPABLE.search(text)
        if hit is None or text.startswith("Exactly"):
            continue
        word = hit.group(0)
        new = _FLIP[word]
        start = m.start(3) + hit.start()
        yield question[:start] + new + question[start + len(word) :]


def test_skill_solve_agrees_with_brute_force_off_the_generator() -> None:
    outcomes = Counter()
    for level in (1, 3, 6):
        for q in batch(950 + level, level, 40).questions:
            for mutated in _mutations(q):
                solutions = solve(mutated)
                outcomes[min(len(solutions), 2)] += 1
                if len(solutions) == 1:
                    assert SKILL.solve({"question": mutated}) == answer_of(solutions[0]), mutated
                else:
                    with pytest.raises(ValueError):
                        SKILL.solve({"question": mutated})
    assert all(outcomes[k] >= 20 for k in (0, 1, 2)), outcomes  # no solution, one, several: all exercised


def test_skill_solve_refuses_unreadable_text() -> None:
    q = batch(1, 4, 1).questions[0]
    other = REGISTRY["syllogism"].generate_batch(np.random.default_rng(1), 3, 1).questions[0]
    speaker, _, text = _SAYS.search(q).groups()
    bad = [
        "",
        "What is love?",
        other,
        q[:-20],
        q.replace(f'"{text}"', '"The sky is green."', 1),  # an unknown kind of statement
        q.replace(f"{speaker} says", "Zed says", 1),  # a speaker who is not among the islanders
        q.replace('" ', '"  ', 1),  # statements not laid out as written
        q.replace("knights always tell the truth", "knights often tell the truth", 1),
    ]
    for wrong in bad:
        with pytest.raises(ValueError):
            SKILL.solve({"question": wrong, "answer": ""})
