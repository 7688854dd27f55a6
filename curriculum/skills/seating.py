"""Seating (zebra) puzzles: n people in a row of seats, each with k-1 further attributes, and clues.

Shirt colour, pet, drink...: each attribute's values are a permutation over the seats. Clues are drawn true of
a random hidden solution until the constraint engine (`_seating_engine`) proves exactly one solution, then
pruned while uniqueness holds; the question avoids an answer a single clue states outright.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills._names import NAMES, ilog, join_names
from curriculum.skills._seating_engine import (
    AT,
    BEFORE,
    BITSET_MAX,
    DIFF,
    DIRECT_SHARE,
    LEFT,
    NEXT,
    NOTAT,
    SAME,
    bitset_clues,
    bitset_tables,
    clue_key,
    csp_clues,
    csp_solutions,
    factorial,
    kind_cdf,
)
from curriculum.skills.answers import clean, parse_int
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

# noun, values, reference ("the person ..."), property, negated property, "what" question
_CATS = (
    ("shirt colour", ("red", "blue", "green", "yellow", "white", "black", "purple", "orange", "pink", "grey",
                      "brown", "violet"),
     "the person in the {} shirt", "wears the {} shirt", "does not wear the {} shirt", "What colour is {}'s shirt?"),
    ("pet", ("cat", "dog", "fish", "bird", "rabbit", "hamster", "turtle", "horse", "snake", "lizard", "parrot",
             "ferret"),
     "the owner of the {}", "owns the {}", "does not own the {}", "Which pet does {} own?"),
    ("drink", ("tea", "coffee", "milk", "water", "juice", "cocoa", "lemonade", "soda", "cider", "kefir",
               "smoothie", "espresso"),
     "the person who drinks {}", "drinks {}", "does not drink {}", "What does {} drink?"),
    ("sport", ("tennis", "chess", "golf", "rugby", "hockey", "cricket", "football", "squash", "polo", "darts",
               "baseball", "volleyball"),
     "the person who plays {}", "plays {}", "does not play {}", "Which sport does {} play?"),
    ("job", ("doctor", "teacher", "pilot", "baker", "chef", "nurse", "lawyer", "farmer", "painter", "plumber",
             "dentist", "judge"),
     "the {}", "is the {}", "is not the {}", "What is {}'s job?"),
    ("home city", ("Paris", "Rome", "Oslo", "Lima", "Cairo", "Tokyo", "Dublin", "Madrid", "Vienna", "Prague",
                   "Berlin", "Lisbon"),
     "the person from {}", "is from {}", "is not from {}", "Which city is {} from?"),
    ("favourite fruit", ("apples", "pears", "plums", "grapes", "mangos", "kiwis", "lemons", "limes", "figs",
                         "dates", "cherries", "melons"),
     "the person who likes {}", "likes {}", "does not like {}", "Which fruit does {} like?"),
)  # fmt: skip
_MAX_PEOPLE = min(len(c[1]) for c in _CATS)


class SeatingParams(Knobs):
    people: int  # seats in the row
    attributes: int  # including the names
    relational_share: float  # weight of clues that only relate or exclude (next to, left of, not in seat...)


def seating_params(level: int) -> SeatingParams:
    """The row and the attributes grow slowly (a puzzle stays readable); in between, every level draws a little
    more of its clues from the relational kinds, so fewer clues state a pairing or a seat outright."""
    return SeatingParams(
        people=min(2 + ilog(level, 2), _MAX_PEOPLE),
        attributes=min(2 + ilog(level, 3), len(_CATS) + 1),
        relational_share=round(min(0.99, 1 - DIRECT_SHARE + 0.003 * (level - 1)), 3),
    )


def _seating_item(r: random.Random, n: int, k: int, tables, cdf: tuple) -> tuple[str, str, int]:
    """(question, answer, clues given)."""
    cats = r.sample(_CATS, k - 1)
    names = r.sample(NAMES, n)
    values = [names] + [r.sample(c[1], n) for c in cats]
    who = []
    pos = [0] * (n * k)
    for a in range(k):
        perm = r.sample(range(n), n)  # perm[p] = value index seated at p
        who.append(perm)
        for p, v in enumerate(perm):
            pos[a * n + v] = p
    if tables is not None:
        clues = bitset_clues(r, n, k, pos, who, tables, cdf)
    else:
        clues = csp_clues(r, n, k, pos, who, cdf)
    r.shuffle(clues)

    def ref(e: int) -> str:
        a, v = divmod(e, n)
        return names[v] if a == 0 else cats[a - 1][2].format(values[a][v])

    def prop(e: int, neg: bool) -> str:
        a, v = divmod(e, n)
        return cats[a - 1][4 if neg else 3].format(values[a][v])

    texts = []
    for kind, a, b in clues:
        s = ref(a)
        if kind == SAME or kind == DIFF:
            t = f"{s} {prop(b, kind == DIFF)}."
        elif kind == AT:
            t = f"{s} sits in seat {b + 1}."
        elif kind == NOTAT:
            t = f"{s} does not sit in seat {b + 1}."
        elif kind == LEFT:
            if r.random() < 0.5:
                t = f"{s} sits immediately left of {ref(b)}."
            else:
                t = f"{ref(b)} sits immediately right of {s}."
        elif kind == NEXT:
            t = f"{s} sits next to {ref(b)}."
        elif r.random() < 0.5:
            t = f"{s} sits somewhere left of {ref(b)}."
        else:
            t = f"{ref(b)} sits somewhere right of {s}."
        texts.append(t[0].upper() + t[1:])

    # the question; avoid one whose answer a single clue states outright
    direct = {clue_key((SAME, a, b)) for kind, a, b in clues if kind == SAME}
    placed = {a for kind, a, b in clues if kind == AT}
    for _ in range(20):
        qk = int(r.random() * 3)
        if qk == 0:  # who has attribute value X?
            e = n + int(r.random() * n * (k - 1))
            name_e = who[0][pos[e]]
            trivial = clue_key((SAME, name_e, e)) in direct
            question, answer = f"Who {prop(e, False)}?", names[name_e]
        elif qk == 1:  # which seat?
            e = int(r.random() * n * k)
            trivial = e in placed
            question = f"In which seat does {ref(e)} sit? Answer with the seat number."
            answer = str(pos[e] + 1)
        else:  # what is X's attribute?
            v = int(r.random() * n)
            a = 1 + int(r.random() * (k - 1))
            e = a * n + who[a][pos[v]]
            trivial = clue_key((SAME, v, e)) in direct
            question, answer = cats[a - 1][5].format(names[v]), values[a][e - a * n]
        if not trivial:
            break
    intro = (
        f"{join_names(names)} sit in a row of {n} seats, numbered 1 to {n} from left to right, one person per seat. "
        + " ".join(f"Each has a different {c[0]} ({', '.join(vals)})." for c, vals in zip(cats, values[1:]))
    )
    clue_text = " ".join(f"({i}) {t}" for i, t in enumerate(texts, 1))
    return f"{intro} Clues: {clue_text} {question}", answer, len(clues)


def generate_seating(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = seating_params(level)
    r = random.Random(int(rng.integers(2**63)))
    people, k = p.people, p.attributes
    tables = bitset_tables(people, k) if n and factorial(people) ** k <= BITSET_MAX else None
    cdf = kind_cdf(p.relational_share)
    out = [_seating_item(r, people, k, tables, cdf) for _ in range(n)]
    return Batch([q for q, _, _ in out], [a for _, a, _ in out], with_difficulty(p, [c for _, _, c in out]))


_ARTICLE = re.compile(r"^(?:the|a|an|seat|position|number|no\.?)\s+")
_ORD_SUFFIX = re.compile(r"^(\d+)(?:st|nd|rd|th)$")


def verify_seating(item: Mapping[str, Any], answer: str) -> bool:
    """Seat numbers: '3', 'seat 3', '3rd'; names and values: case, articles and a trailing '.' ignored."""
    gold = str(item["answer"])
    s = clean(answer)
    while True:
        t = _ARTICLE.sub("", s)
        if t == s:
            break
        s = t
    if gold.isdigit():
        m = _ORD_SUFFIX.fullmatch(s)
        got = parse_int(m.group(1) if m else s)
        return got is not None and got == int(gold)
    return s == clean(gold)


# solver: the question text alone, every clue parsed back and searched with propagation + backtracking (the
# generator uses the bitset solver below 20,000 candidate assignments, so there the two are independent)

_S_HEAD = re.compile(
    r"(\w+(?:, \w+)* and \w+) sit in a row of (\d+) seats, numbered 1 to \2 from left to right, one person per "
    r"seat\. ((?:Each has a different [a-z ]+ \([^)]*\)\. )+)Clues: (.*)"
)
_S_CAT = re.compile(r"Each has a different ([a-z ]+) \(([^)]*)\)\. ")
_S_POSITIONAL = (
    (re.compile(r"(.+) sits immediately left of (.+)"), LEFT, False),
    (re.compile(r"(.+) sits immediately right of (.+)"), LEFT, True),
    (re.compile(r"(.+) sits next to (.+)"), NEXT, False),
    (re.compile(r"(.+) sits somewhere left of (.+)"), BEFORE, False),
    (re.compile(r"(.+) sits somewhere right of (.+)"), BEFORE, True),
    (re.compile(r"(.+) sits in seat (\d+)"), AT, False),
    (re.compile(r"(.+) does not sit in seat (\d+)"), NOTAT, False),
)
_S_SEAT_Q = re.compile(r"In which seat does (.+) sit\? Answer with the seat number\.")


def solve_seating(item: Mapping[str, Any]) -> str:
    m = _S_HEAD.fullmatch(str(item["question"]))
    if m is None:
        raise ValueError("not a seating question")
    names = re.split(r", | and ", m.group(1))
    n = int(m.group(2))
    by_noun = {c[0]: c for c in _CATS}
    cats, values = [], [names]
    for noun, vals in _S_CAT.findall(m.group(3)):
        if noun not in by_noun:
            raise ValueError(f"unknown attribute {noun!r}")
        cats.append(by_noun[noun])
        values.append(vals.split(", "))
    k = len(values)
    if any(len(v) != n or len(set(v)) != n for v in values):
        raise ValueError("attribute values do not match the seats")
    refs = {nm: v for v, nm in enumerate(names)}
    preds: dict[str, tuple[int, int]] = {}
    whats: dict[str, tuple[int, int]] = {}
    for a, cat in enumerate(cats, 1):
        for v, val in enumerate(values[a]):
            e = a * n + v
            refs[cat[2].format(val)] = e
            preds[cat[3].format(val)] = (SAME, e)
            preds[cat[4].format(val)] = (DIFF, e)
        for v, nm in enumerate(names):
            whats[cat[5].format(nm)] = (a, v)

    def entity(text: str) -> int:
        e = refs.get(text, refs.get(text[:1].lower() + text[1:]))
        if e is None:
            raise ValueError(f"unknown person {text!r}")
        return e

    parts = re.split(r"\((\d+)\) ", m.group(4))
    if parts[0] or [int(x) for x in parts[1::2]] != list(range(1, len(parts) // 2 + 1)):
        raise ValueError("cannot read the clues")
    sentences = [t.strip() for t in parts[2::2]]
    last, _, question = sentences[-1].partition(". ")
    sentences[-1] = last + "."
    clues = []
    for sent in sentences:
        if not sent.endswith("."):
            raise ValueError(f"cannot read clue {sent!r}")
        sent = sent[:-1]
        for pat, kind, swap in _S_POSITIONAL:
            mm = pat.fullmatch(sent)
            if mm:
                a = entity(mm.group(1))
                if kind in (AT, NOTAT):
                    seat = int(mm.group(2)) - 1
                    if not 0 <= seat < n:
                        raise ValueError("no such seat")
                    clues.append((kind, a, seat))
                else:
                    b = entity(mm.group(2))
                    clues.append((kind, b, a) if swap else (kind, a, b))
                break
        else:
            words = sent.split(" ")
            for i in range(1, len(words)):
                subj, pred = " ".join(words[:i]), " ".join(words[i:])
                if pred in preds and (subj in refs or subj[:1].lower() + subj[1:] in refs):
                    kind, e = preds[pred]
                    clues.append((kind, entity(subj), e))
                    break
            else:
                raise ValueError(f"cannot read clue {sent!r}")
    sols = csp_solutions(clues, n, k)
    if len(sols) != 1:
        raise ValueError(f"{len(sols)} solutions")
    seat = [d.bit_length() - 1 for d in sols[0]]
    at = {(e // n, seat[e]): e % n for e in range(n * k)}  # (attribute, seat) -> value

    if mm := _S_SEAT_Q.fullmatch(question):
        return str(seat[entity(mm.group(1))] + 1)
    if question.startswith("Who ") and question.endswith("?") and question[4:-1] in preds:
        kind, e = preds[question[4:-1]]
        if kind == SAME:
            return names[at[(0, seat[e])]]
    if question in whats:
        a, v = whats[question]
        return values[a][at[(a, seat[v])]]
    raise ValueError(f"cannot read the question {question!r}")


register(
    Skill(
        name="seating",
        domain="logic",
        description="Zebra-style seating puzzle with a unique solution: n people in a row, k attributes, clues.",
        params=seating_params,
        generate_batch=generate_seating,
        verify=verify_seating,
        solve=solve_seating,
        version=2,
        max_level=31,  # CPU: 20 items + gold check ~1 s; level 32 seats a 7th person and takes ~1.1 s
        difficulty="clues to combine (a minimal set: every clue is needed)",
    )
)
