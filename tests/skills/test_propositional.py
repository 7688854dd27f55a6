"""entailment and sat_count: gold answers re-derived from the question text by a small parser and a truth table
enumerated with itertools (not the generator's bitmask solver). The skills' own solvers (numpy truth tables)
are checked against the gold and, on mutated questions, against that itertools table."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from tests.skills.contract import assert_second_method_agrees

SKILLS = ("entailment", "sat_count")
_TOKEN = re.compile(r"\s*(<->|->|\(|\)|[a-z][a-z0-9]*)")
_BINARY = {"and", "or", "->", "<->"}


def tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m, f"cannot tokenize {text[pos:]!r}"
        tokens.append(m.group(1))
        pos = m.end()
    return tokens


def parse(text: str):
    """Formula text -> nested tuples; at most one binary connective per parenthesis level (no ambiguity)."""
    tokens = tokenize(text)
    pos = 0

    def unary():
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok == "not":
            return ("not", unary())
        if tok == "(":
            node = binary()
            assert tokens[pos] == ")"
            pos += 1
            return node
        assert tok not in _BINARY and tok != ")", tok
        return ("var", tok)

    def binary():
        nonlocal pos
        left = unary()
        if pos < len(tokens) and tokens[pos] in _BINARY:
            op = tokens[pos]
            pos += 1
            right = unary()
            assert pos == len(tokens) or tokens[pos] not in _BINARY, "ambiguous chain of connectives"
            return (op, left, right)
        return left

    node = binary()
    assert pos == len(tokens), tokens[pos:]
    return node


def value(node, env: dict[str, bool]) -> bool:
    kind = node[0]
    if kind == "var":
        return env[node[1]]
    if kind == "not":
        return not value(node[1], env)
    a, b = value(node[1], env), value(node[2], env)
    return {"and": a and b, "or": a or b, "->": (not a) or b, "<->": a == b}[kind]


def variables(node) -> set[str]:
    if node[0] == "var":
        return {node[1]}
    return set().union(*(variables(child) for child in node[1:]))


_ENTAIL = re.compile(
    r"Premises: (.*)\. \(`not` binds tightest\.\) Does the conclusion (.*) follow, i\.e\. is it true under "
    r"every truth assignment that makes all the premises true\? Answer yes or no\."
)
_COUNT = re.compile(
    r"Over the variables (.*), how many of the (\d+) truth assignments make this formula true: (.*)\? "
    r"\(`not` binds tightest\.\) Give an integer\."
)


def entailment_by_table(question: str) -> str:
    m = _ENTAIL.fullmatch(question)
    assert m, question
    premises = [parse(t) for t in m.group(1).split("; ")]
    conclusion = parse(m.group(2))
    names = sorted(set().union(variables(conclusion), *(variables(p) for p in premises)))
    models = 0
    for bits in itertools.product((False, True), repeat=len(names)):
        env = dict(zip(names, bits))
        if all(value(p, env) for p in premises):
            models += 1
            if not value(conclusion, env):
                return "no"
    assert models, "premises must be consistent"
    return "yes"


def count_by_table(question: str) -> str:
    m = _COUNT.fullmatch(question)
    assert m, question
    names = m.group(1).split(", ")
    assert int(m.group(2)) == 2 ** len(names)
    formula = parse(m.group(3))
    assert variables(formula) <= set(names)
    return str(
        sum(value(formula, dict(zip(names, bits))) for bits in itertools.product((False, True), repeat=len(names)))
    )


BY_TABLE = {"entailment": entailment_by_table, "sat_count": count_by_table}


def batch(name: str, seed: int, level: int, n: int):
    return REGISTRY[name].generate_batch(np.random.default_rng(seed), level, n)


@pytest.mark.parametrize("name", SKILLS)
def test_independent_truth_tables(name: str) -> None:
    assert_second_method_agrees(name, lambda _, q: BY_TABLE[name](q), seed=100)


@settings(max_examples=40, deadline=None)
@given(level=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_entailment_verifier(level: int, seed: int) -> None:
    s = REGISTRY["entailment"]
    b = batch("entailment", seed, level, 6)
    for q, a in zip(b.questions, b.answers):
        item = {"question": q, "answer": a, "params": s.params_json(level)}
        assert a in ("yes", "no")
        for ok in (a, a.upper(), f" {a.capitalize()}. ", a[0], "true" if a == "yes" else "false"):
            assert s.verify(item, ok), ok
        other = "no" if a == "yes" else "yes"
        for bad in (other, other.upper(), "", "maybe", "yes and no"):
            assert not s.verify(item, bad), bad


@settings(max_examples=40, deadline=None)
@given(level=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_sat_count_verifier(level: int, seed: int) -> None:
    s = REGISTRY["sat_count"]
    b = batch("sat_count", seed, level, 6)
    for q, a in zip(b.questions, b.answers):
        item = {"question": q, "answer": a, "params": s.params_json(level)}
        v = int(a)
        assert 0 <= v <= int(re.search(r"the (\d+) truth", q).group(1))
        for ok in (a, f" {a} ", f"+{a}", f"0{a}", f"{a}."):
            assert s.verify(item, ok), ok
        for bad in (str(v + 1), str(v - 1), str(2 * v + 2), "", "x", f"{a}/2"):
            assert not s.verify(item, bad), bad


@pytest.mark.parametrize("name", SKILLS)
def test_high_levels_are_exact(name: str) -> None:
    assert_second_method_agrees(name, lambda _, q: BY_TABLE[name](q), levels=(12, 50), n=4, seed=3, min_items=8)


@pytest.mark.parametrize("name", SKILLS)
def test_verifier_needs_no_question(name: str) -> None:
    s = REGISTRY[name]
    for level in (12, 50):
        assert all(s.verify({"answer": a}, a) for a in batch(name, 3, level, 4).answers)


_SWAP = {" and ": " or ", " or ": " and ", " -> ": " <-> ", " <-> ": " -> "}


def _mutations(question: str):
    """Questions off the generator's path: one connective swapped, or one variable negated/un-negated."""
    for old, new in _SWAP.items():
        at = question.find(old)
        if at >= 0:
            yield question[:at] + new + question[at + len(old) :]
    at = question.find("not ")
    if at >= 0:
        yield question[:at] + question[at + 4 :]


@pytest.mark.parametrize("name", SKILLS)
def test_skill_solve_agrees_with_tables_off_the_generator(name: str) -> None:
    """On mutated questions (new verdicts, sometimes inconsistent premises) the solver matches the
    itertools truth table, and refuses exactly where the table finds the premises inconsistent."""
    s, table = REGISTRY[name], BY_TABLE[name]
    seen = 0
    for level in (1, 3, 6):
        for q in batch(name, 900 + level, level, 60).questions:
            for mutated in _mutations(q):
                try:
                    want = table(mutated)
                except AssertionError:
                    want = None
                if want is None:
                    with pytest.raises(ValueError):
                        s.solve({"question": mutated})
                else:
                    assert s.solve({"question": mutated}) == want, mutated
                seen += 1
    assert seen >= 200


@pytest.mark.parametrize("name", SKILLS)
def test_skill_solve_refuses_unreadable_text(name: str) -> None:
    s = REGISTRY[name]
    q = next(q for q in batch(name, 1, 4, 20).questions if " and " in q)
    other = batch(SKILLS[1 - SKILLS.index(name)], 1, 4, 1).questions[0]
    bad = ["", "What is love?", other, q[:-15], q.replace(" and ", " & ", 1), q.replace(" and ", " and and ", 1)]
    if name == "entailment":
        premises = q.split("Premises: ")[1].split(". (")[0]
        bad.append(q.replace(premises, "p; not p", 1))  # inconsistent premises: nothing to decide
        bad.append(q.replace(premises, "p and q or r", 1))  # an ambiguous chain of connectives
    else:
        bad.append(q.replace("this formula true: ", "this formula true: z and ", 1))  # a variable not listed
        bad.append(q.replace("how many of the ", "how many of the 1", 1))  # a wrong number of assignments
    for text in bad:
        with pytest.raises(ValueError):
            s.solve({"question": text, "answer": "0"})


def test_sat_count_turns_one_knob_a_level() -> None:
    """A variable more at each power of two, a connective more at every other level: never both at once."""
    skill = REGISTRY["sat_count"]
    for level in range(1, 300):
        a, b = skill.params(level), skill.params(level + 1)
        step = (b.variables - a.variables, b.operators - a.operators)
        assert step == ((1, 0) if (level + 1) & level == 0 else (0, 1)), level
    assert [(skill.params(n).variables, skill.params(n).operators) for n in (1, 2, 3, 4)] == [
        (2, 1),
        (3, 1),
        (3, 2),
        (4, 2),
    ]
