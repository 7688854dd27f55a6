"""syllogism: questions re-read from their text and decided by methods other than the generator's bitmasks:
(1) counterexample search with explicit witnesses: each existential (and each term's existence) needs a region
that every universal allows, found by 2-SAT over the term memberships (every universal is a two-literal
clause), for every level 1-8 and far above;
(2) the textbook method, enumerating every Venn model (set of non-empty regions), for 3-term syllogisms.
The skill's own solver ("all"-arrow closures) is checked against the gold, against (1) on mutated questions
and against (2) on every mood and figure."""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from tests.skills.contract import assert_second_method_agrees

SKILL = REGISTRY["syllogism"]
HEAD = 'Assume there is at least one of each kind of thing mentioned, and read "some" as at least one, possibly all. '
_QUESTION = re.compile(re.escape(HEAD) + r"(.*)\. Does it follow that (.*)\? Answer yes or no\.")
_SENTENCE = re.compile(r"(all|no|some) (\w+) are (not )?(\w+)")


def sentence(text: str) -> tuple[str, str, str]:
    """'All wugs are daxes' -> ('all', 'wugs', 'daxes'); form one of all/no/some/some-not."""
    m = _SENTENCE.fullmatch(text[0].lower() + text[1:])
    assert m, text
    q, x, neg, y = m.groups()
    assert not (neg and q != "some"), text
    assert x != y
    return ("some-not" if neg else q), x, y


def holds(form: str, x: str, y: str, region: dict[str, bool]) -> bool:
    """Is `region` (a term-membership vector) compatible with a universal, or a witness of an existential?"""
    if form == "all":
        return not region[x] or region[y]
    if form == "no":
        return not (region[x] and region[y])
    if form == "some":
        return region[x] and region[y]
    return region[x] and not region[y]


_NEGATE = {"all": "some-not", "no": "some", "some": "no", "some-not": "all"}


def read(question: str):
    m = _QUESTION.fullmatch(question)
    assert m, question
    premises = [sentence(t) for t in m.group(1).split(". ")]
    conclusion = sentence(m.group(2))
    terms = sorted({t for _, x, y in [*premises, conclusion] for t in (x, y)})
    return premises, conclusion, terms


def two_sat(n: int, clauses: list[tuple[int, int]]) -> bool:
    """Satisfiable? Literals are 2v (v true) and 2v + 1 (v false); each clause (a, b) means a or b. Kosaraju's
    strongly connected components of the implication graph: unsatisfiable iff some v and not-v share one."""
    graph: list[list[int]] = [[] for _ in range(2 * n)]
    back: list[list[int]] = [[] for _ in range(2 * n)]
    for a, b in clauses:
        for u, v in ((a ^ 1, b), (b ^ 1, a)):
            graph[u].append(v)
            back[v].append(u)
    order, seen = [], [False] * (2 * n)
    for start in range(2 * n):
        if seen[start]:
            continue
        seen[start] = True
        stack = [(start, 0)]
        while stack:
            u, i = stack.pop()
            if i < len(graph[u]):
                stack.append((u, i + 1))
                v = graph[u][i]
                if not seen[v]:
                    seen[v] = True
                    stack.append((v, 0))
            else:
                order.append(u)
    comp = [-1] * (2 * n)
    for c, start in enumerate(reversed(order)):
        if comp[start] >= 0:
            continue
        comp[start] = c
        stack = [start]
        while stack:
            u = stack.pop()
            for v in back[u]:
                if comp[v] < 0:
                    comp[v] = c
                    stack.append(v)
    return all(comp[2 * v] != comp[2 * v + 1] for v in range(n))


def follows_by_witnesses(question: str) -> str:
    premises, conclusion, terms = read(question)
    ix = {t: i for i, t in enumerate(terms)}

    def satisfiable(statements) -> bool:
        # a region is a truth assignment to "is a member of term t"; every universal is a clause it must keep
        clauses = [(2 * ix[x] + 1, 2 * ix[y] if f == "all" else 2 * ix[y] + 1) for f, x, y in statements
                   if f in ("all", "no")]  # fmt: skip
        demands = [[2 * ix[x], 2 * ix[y] + (f == "some-not")] for f, x, y in statements if f in ("some", "some-not")]
        demands += [[2 * ix[t]] for t in terms]  # each existential (and each term's existence) needs its own witness
        return all(two_sat(len(terms), clauses + [(lit, lit) for lit in demand]) for demand in demands)

    assert satisfiable(premises)
    f, x, y = conclusion
    return "no" if satisfiable([*premises, (_NEGATE[f], x, y)]) else "yes"


def follows_by_models(question: str) -> str:
    """Every model = a set of non-empty Venn regions; valid iff every model of the premises is one of the
    conclusion (with every term non-empty)."""
    premises, conclusion, terms = read(question)
    regions = [dict(zip(terms, bits)) for bits in itertools.product((False, True), repeat=len(terms))]

    def true_in(model, form, x, y) -> bool:
        if form in ("all", "no"):
            return all(holds(form, x, y, g) for g in model)
        return any(holds(form, x, y, g) for g in model)

    models = 0
    for chosen in itertools.product((False, True), repeat=len(regions)):
        model = [g for g, c in zip(regions, chosen) if c]
        if not all(any(g[t] for g in model) for t in terms):
            continue
        if all(true_in(model, *p) for p in premises):
            models += 1
            if not true_in(model, *conclusion):
                return "no"
    assert models
    return "yes"


def batch(seed: int, level: int, n: int):
    return SKILL.generate_batch(np.random.default_rng(seed), level, n)


def verdict_matching_level(level: int, question: str) -> str:
    """follows_by_witnesses, after checking the premise and term counts against the level's knobs."""
    p = SKILL.params(level)
    premises, _, terms = read(question)
    assert len(premises) == p.chain + p.distractors
    assert len(terms) == p.chain + p.distractors + 1
    return follows_by_witnesses(question)


def test_independent_witness_search() -> None:
    assert_second_method_agrees("syllogism", verdict_matching_level, seed=300)


def test_independent_all_models_three_terms() -> None:
    b = batch(17, 1, 300)
    for q, a in zip(b.questions, b.answers):
        assert follows_by_models(q) == a, q


def test_classic_forms() -> None:
    """Sanity of the test's own solvers on textbook cases (Barbara, Celarent, Darii, Darapti, undistributed middle)."""
    head = HEAD
    cases = {
        "All ms are ps. All ss are ms. Does it follow that all ss are ps?": "yes",
        "No ms are ps. All ss are ms. Does it follow that no ss are ps?": "yes",
        "All ms are ps. Some ss are ms. Does it follow that some ss are ps?": "yes",
        "All ms are ps. All ms are ss. Does it follow that some ss are ps?": "yes",
        "All ps are ms. All ss are ms. Does it follow that all ss are ps?": "no",
        "Some ms are ps. Some ss are ms. Does it follow that some ss are ps?": "no",
    }
    for text, want in cases.items():
        q = head + text + " Answer yes or no."
        assert follows_by_witnesses(q) == want
        assert follows_by_models(q) == want


@settings(max_examples=40, deadline=None)
@given(level=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_verifier(level: int, seed: int) -> None:
    b = batch(seed, level, 6)
    for q, a in zip(b.questions, b.answers):
        item = {"question": q, "answer": a, "params": SKILL.params_json(level)}
        assert a in ("yes", "no")
        for ok in (a, a.upper(), f" {a.capitalize()}. ", a[0]):
            assert SKILL.verify(item, ok), ok
        other = "no" if a == "yes" else "yes"
        for bad in (other, other.capitalize(), "", "perhaps"):
            assert not SKILL.verify(item, bad), bad


def test_high_levels_are_exact() -> None:
    assert_second_method_agrees("syllogism", verdict_matching_level, levels=(12, 50), n=4, seed=2, min_items=8)


_REQUANTIFY = re.compile(r"(?:(?<=\. )|(?<=follow that ))(All|No|Some|all|no|some) ")


def _mutations(question: str, r: random.Random):
    """Off the generator's path: one sentence's quantifier replaced, or an extra premise about two terms
    already there (closing cycles, so the premises may become inconsistent and the verdict may change)."""
    for m in _REQUANTIFY.finditer(question):
        q = m.group(1)
        for new in ("All", "No", "Some"):
            new = new if q[0].isupper() else new.lower()
            if new != q and not (new != "Some" and re.match(r"\w+ are not ", question[m.end() :])):
                yield question[: m.start(1)] + new + question[m.end(1) :]
    _, _, terms = read(question)
    head, tail = question.split(". Does it follow")
    for _ in range(4):
        x, y = r.sample(terms, 2)
        extra = r.choice(("All {} are {}", "No {} are {}", "Some {} are {}", "Some {} are not {}"))
        yield f"{head}. {extra.format(x, y)}. Does it follow{tail}"


def test_skill_solve_agrees_with_witness_search_off_the_generator() -> None:
    outcomes = Counter()
    r = random.Random(0)
    for level in (1, 2, 4):
        for q in batch(950 + level, level, 30).questions:
            for mutated in _mutations(q, r):
                try:
                    want = follows_by_witnesses(mutated)
                except AssertionError:  # inconsistent premises: the solver must refuse
                    want = None
                outcomes[want] += 1
                if want is None:
                    with pytest.raises(ValueError):
                        SKILL.solve({"question": mutated})
                else:
                    assert SKILL.solve({"question": mutated}) == want, mutated
    assert all(outcomes[k] >= 20 for k in ("yes", "no", None)), outcomes


def test_skill_solve_on_every_three_term_syllogism() -> None:
    """Every mood (4 ** 3 forms) in each of the 4 figures: the solver agrees with the enumeration of every
    Venn model, and exactly the traditional 24 valid syllogisms (with existential import) come out valid."""
    head = HEAD
    forms = ("all {} are {}", "no {} are {}", "some {} are {}", "some {} are not {}")
    figures = (("ms", "ps", "ss", "ms"), ("ps", "ms", "ss", "ms"), ("ms", "ps", "ms", "ss"), ("ps", "ms", "ms", "ss"))
    decided = Counter()
    for f1, f2, fc in itertools.product(forms, repeat=3):
        for a, b, c, d in figures:
            major, minor = f1.format(a, b), f2.format(c, d)
            q = f"{head}{major[0].upper()}{major[1:]}. {minor[0].upper()}{minor[1:]}. Does it follow that "
            q += fc.format("ss", "ps") + "? Answer yes or no."
            want = follows_by_models(q)
            assert SKILL.solve({"question": q}) == want, q
            decided[want] += 1
    assert decided["yes"] == 24


def test_skill_solve_refuses_unreadable_text() -> None:
    q = batch(1, 4, 1).questions[0]
    other = REGISTRY["knights_knaves"].generate_batch(np.random.default_rng(1), 3, 1).questions[0]
    premises = q.split("possibly all. ")[1].split(". Does")[0]
    first = premises.split(". ")[0]
    bad = [
        "",
        "What is love?",
        other,
        q[:-20],
        q.replace(first, "All wugs are not daxes", 1),  # "all ... not" is not one of the forms
        q.replace(first, "Most wugs are daxes", 1),
        q.replace(first, "all wugs are daxes", 1),  # a premise starts with a capital
        q.replace(premises, "All wugs are daxes. No wugs are daxes", 1),  # inconsistent with existence
    ]
    for wrong in bad:
        with pytest.raises(ValueError):
            SKILL.solve({"question": wrong, "answer": "yes"})


def test_every_level_states_one_premise_more_and_turns_one_knob() -> None:
    """The chain grows at powers of two, a distractor is added at every other level: never both at once."""
    for level in range(1, 300):
        a, b = SKILL.params(level), SKILL.params(level + 1)
        assert b.chain + b.distractors == a.chain + a.distractors + 1
        assert (b.chain - a.chain, b.distractors - a.distractors) == ((1, 0) if (level + 1) & level == 0 else (0, 1))
    assert [
        len(SKILL.generate(np.random.default_rng(level), level)["question"].split(". ")) - 2 for level in (1, 2, 3, 4)
    ] == [2, 3, 4, 5]
