"""Templated multi-step word problems with distractor sentences whose numbers do not matter.

A person starts with some objects; each step adds, removes, or adds whole packs of them; distractor sentences
(other people, other objects, ages, distances, times) are shuffled in between. From level 4 on, half the items
end by sharing everything equally, and the start is raised so the share is exact. Every amount in the story is
at least 2 and the running total never drops below 1, so the answer is exact.

Every story is possible: nobody gives, sells or loses more than they can hold, and a count stated for someone
else ("Hiro has 3 plums") is at least what the story has them give away later, net of what they were given
before. The generator raises each stated count to what the story needs; `consistent_word_problem` replays the
holdings of everyone in the text and the validation gate runs it on every item.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills.answers import verify_int
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

NAMES = (
    "Ava", "Ben", "Chloe", "Daniel", "Emma", "Farid", "Grace", "Hiro", "Isla", "Jonas", "Kira", "Liam", "Maya",
    "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wes", "Ximena", "Yusuf", "Zoe",
    "Amara", "Bruno", "Carmen", "Dev", "Elena", "Felix", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Mateo", "Nadia",
    "Omar",
)  # fmt: skip
OBJECTS = (
    "apples", "marbles", "stickers", "pencils", "cookies", "stamps", "seashells", "books", "cards", "coins",
    "balloons", "oranges", "buttons", "crayons", "beads", "candles", "toy cars", "tomatoes", "eggs", "cupcakes",
    "postcards", "ribbons", "keys", "rocks", "feathers", "bottles", "tickets", "plums", "lemons", "erasers",
)  # fmt: skip
CONTAINERS = ("bags", "boxes", "packs", "crates", "jars")
# sentence templates as f-string functions (much faster than str.format): name, friend, amount, object, ...
ADD = (
    lambda N, F, k, m, O, C: f"{N} buys {k} more {O}.",
    lambda N, F, k, m, O, C: f"{N} finds {k} more {O}.",
    lambda N, F, k, m, O, C: f"{F} gives {N} {k} {O}.",
    lambda N, F, k, m, O, C: f"{N} wins {k} {O} in a game.",
)
SUB = (
    lambda N, F, k, m, O, C: f"{N} gives {k} {O} to {F}.",
    lambda N, F, k, m, O, C: f"{N} sells {k} {O}.",
    lambda N, F, k, m, O, C: f"{N} loses {k} {O}.",
    lambda N, F, k, m, O, C: f"{N} gives away {k} {O}.",
)
PACK = (
    lambda N, F, k, m, O, C: f"{N} buys {k} {C} with {m} {O} in each.",
    lambda N, F, k, m, O, C: f"{F} gives {N} {k} {C} holding {m} {O} each.",
)
# distractors: facts (at most once per story) and events (may repeat); P is another object
FACTS = (
    (lambda N, F, k, m, O, P: f"{F} has {k} {O}.", 2, None),
    (lambda N, F, k, m, O, P: f"{N} is {k} years old.", 6, 70),
    (lambda N, F, k, m, O, P: f"The shop is {k} km from {N}'s home.", 2, 40),
    (lambda N, F, k, m, O, P: f"It takes {N} {k} minutes to walk home.", 5, 90),
    (lambda N, F, k, m, O, P: f"{N} also owns {k} {P}.", 2, None),
)
EVENTS = (
    (lambda N, F, k, m, O, P: f"{F} buys {k} {P}.", 2, None),
    (lambda N, F, k, m, O, P: f"{F} finds {k} {O}.", 2, None),
    (lambda N, F, k, m, O, P: f"{N} buys {k} {P}.", 2, None),
    (lambda N, F, k, m, O, P: f"{F} sells {k} {P}.", 2, None),
)
DISTRACTORS = FACTS + EVENTS
_FRIEND_HAS, _ALSO_OWNS, _FRIEND_FINDS, _BUYS_OTHER = 0, 4, 6, 7  # DISTRACTORS that state or change holdings


_ADD, _SUB, _PACK = 0, 1, 2
STEPS = ADD + SUB + PACK  # template id: 4 * kind + variant (packs: 8 + variant % 2)


def _steps_text(tid: list, names: list, friends: list, k: list, m: list, objs: list, box: list) -> list[str]:
    """The STEPS templates inlined (one comprehension, no call per item); tests check both agree."""
    return [
        (
            f"{a} buys {c} more {o}." if t == 0
            else f"{a} finds {c} more {o}." if t == 1
            else f"{f} gives {a} {c} {o}." if t == 2
            else f"{a} wins {c} {o} in a game."
        ) if t < 4
        else (
            f"{a} gives {c} {o} to {f}." if t == 4
            else f"{a} sells {c} {o}." if t == 5
            else f"{a} loses {c} {o}." if t == 6
            else f"{a} gives away {c} {o}."
        ) if t < 8
        else f"{a} buys {c} {CONTAINERS[b]} with {e} {o} in each." if t == 8
        else f"{f} gives {a} {c} {CONTAINERS[b]} holding {e} {o} each."
        for t, a, f, c, e, o, b in zip(tid, names, friends, k, m, objs, box)
    ]  # fmt: skip


def _distractors_text(kind: list, names: list, friends: list, k: list, objs: list, others: list) -> list[str]:
    """The DISTRACTORS templates inlined (one comprehension, no call per item); tests check both agree."""
    return [
        (
            f"{f} has {c} {o}." if d == 0
            else f"{a} is {c} years old." if d == 1
            else f"The shop is {c} km from {a}'s home." if d == 2
            else f"It takes {a} {c} minutes to walk home." if d == 3
            else f"{a} also owns {c} {q}."
        ) if d < 5
        else f"{f} buys {c} {q}." if d == 5
        else f"{f} finds {c} {o}." if d == 6
        else f"{a} buys {c} {q}." if d == 7
        else f"{f} sells {c} {q}."
        for d, a, f, c, o, q in zip(kind, names, friends, k, objs, others)
    ]  # fmt: skip


class WordProblemParams(Knobs):
    steps: int  # changes after the start sentence
    distractors: int
    max_amount: int  # start and added/removed amounts in 2..max_amount
    packs: bool  # steps that add k packs of m
    share_rate: float  # share of items that end by sharing equally among friends


def word_problem_params(level: int) -> WordProblemParams:
    return WordProblemParams(
        steps=1 + (level + 1) // 2,  # with the distractors: L + 1 sentences, one more each level, taking turns
        distractors=level // 2,
        max_amount=min(10 + 5 * level, 10**9),
        packs=level >= 2,
        share_rate=0.0 if level < 4 else 0.5,
    )


def generate_word_problem(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = word_problem_params(level)
    s, hi = p.steps, p.max_amount
    name = rng.integers(0, len(NAMES), size=n)
    friend = (name + rng.integers(1, len(NAMES), size=n)) % len(NAMES)
    obj = rng.integers(0, len(OBJECTS), size=n)
    other = (obj + rng.integers(1, len(OBJECTS), size=n)) % len(OBJECTS)
    names = [NAMES[i] for i in name.tolist()]
    friends = [NAMES[i] for i in friend.tolist()]
    objs = [OBJECTS[i] for i in obj.tolist()]
    others = [OBJECTS[i] for i in other.tolist()]
    start = rng.integers(2, hi + 1, size=n, dtype=np.int64)
    total = start.copy()
    kinds = rng.choice(3, size=(s, n), p=[0.4, 0.4, 0.2] if p.packs else [0.5, 0.5, 0.0])
    amount = rng.integers(2, hi + 1, size=(s, n), dtype=np.int64)
    packs = rng.integers(2, 3 + level // 2, size=(s, n), dtype=np.int64)
    each = rng.integers(2, 13, size=(s, n), dtype=np.int64)
    u = rng.random((s, n))
    for j in range(s):
        room = np.minimum(total - 1, hi)  # remove at most total - 1 so that at least one is left
        sub = (kinds[j] == _SUB) & (room >= 2)
        kinds[j] = np.where((kinds[j] == _SUB) & ~sub, _ADD, kinds[j])
        amount[j] = np.where(sub, 2 + (u[j] * (room - 1)).astype(np.int64), amount[j])
        delta = np.where(kinds[j] == _PACK, packs[j] * each[j], amount[j])
        total += np.where(kinds[j] == _SUB, -delta, delta)
    share = rng.random(n) < p.share_rate
    groups = rng.integers(2, 7 + level // 4, size=n, dtype=np.int64)
    if share.any():
        # raising the start raises every later total by the same amount: removals stay possible
        lift = np.where(share, (-total) % groups, 0)
        start += lift
        total += lift
    answer = np.where(share, total // groups, total)

    variant = rng.integers(0, 4, size=(s, n))
    tid = np.where(kinds == _PACK, 8 + (variant & 1), 4 * kinds + variant)
    tids = tid.tolist()
    boxes = ((variant + each) % len(CONTAINERS)).tolist()
    counts = np.where(kinds == _PACK, packs, amount).tolist()
    each_l = each.tolist()
    sentences = [[f"{a} has {k} {o}." for a, k, o in zip(names, start.tolist(), objs)]]
    for j in range(s):
        sentences.append(_steps_text(tids[j], names, friends, counts[j], each_l[j], objs, boxes[j]))
    cols = [np.array(c, dtype=object) for c in sentences]
    d = p.distractors
    if d:
        # the first distractors are distinct templates (a random permutation of all of them), so no fact is
        # stated twice; beyond that, only events (which may repeat) are added
        t = len(DISTRACTORS)
        perm = np.argsort(rng.random((t, n)), axis=0)[: min(d, t)]
        extra = d - perm.shape[0]
        if extra > 0:
            perm = np.concatenate([perm, len(FACTS) + rng.integers(0, len(EVENTS), size=(extra, n))])
        raw = rng.random((d, n))
        slots = rng.integers(0, s + 1, size=(d, n))  # after the start sentence or after a step
        lo_t = np.array([x[1] for x in DISTRACTORS])
        top_t = np.array([x[2] or hi for x in DISTRACTORS])
        vals = (lo_t[perm] + raw * (top_t[perm] - lo_t[perm] + 1)).astype(np.int64)
        # the story's clock: step j (slot j + 1) comes before the distractors placed after it, in their order
        step_at = np.broadcast_to((np.arange(1, s + 1) * (d + 1))[:, None], (s, n))
        said_at = slots * (d + 1) + 1 + np.arange(d)[:, None]
        # the friend's holdings of the main object: given to the main person (2, 9), given by them (4), found
        flow = np.where(tid == 2, -amount, 0) + np.where(tid == 9, -packs * each, 0) + np.where(tid == 4, amount, 0)
        _lift_stated(vals, perm, said_at, _FRIEND_HAS, step_at, flow, np.where(perm == _FRIEND_FINDS, vals, 0))
        # the main person's holdings of the other object: only bought
        bought = np.where(perm == _BUYS_OTHER, vals, 0)
        _lift_stated(vals, perm, said_at, _ALSO_OWNS, step_at, np.zeros_like(flow), bought)
        vals_l = vals.tolist()
        for j, kinds_j in enumerate(perm):
            text = np.array(_distractors_text(kinds_j.tolist(), names, friends, vals_l[j], objs, others), dtype=object)
            for c in range(s + 1):
                idx = np.flatnonzero(slots[j] == c)
                cols[c][idx] = cols[c][idx] + " " + text[idx]
    asks = [
        f"{a} then shares all the {o} equally among {g} friends. How many {o} does each friend get?"
        if sh
        else f"How many {o} does {a} have now?"
        for a, o, g, sh in zip(names, objs, groups.tolist(), share.tolist())
    ]
    questions = [" ".join(t) for t in zip(*(c.tolist() for c in cols), asks)]
    sentences_told = (s + d + share.astype(np.int64)).tolist()  # what the reader weighs: steps, distractors, sharing
    return Batch(questions, [str(v) for v in answer.tolist()], with_difficulty(p, sentences_told))


def _lift_stated(
    vals: np.ndarray,
    perm: np.ndarray,
    said_at: np.ndarray,
    fact: int,
    step_at: np.ndarray,
    step_flow: np.ndarray,
    told_flow: np.ndarray,
) -> None:
    """Raise the count stated by distractor template `fact` (where an item has it) to what the story needs: at
    least the net gain before it, plus whatever the holder is short of at the lowest point of the story.

    step_flow (steps x n) and told_flow (distractors x n) are the holder's changes, at times step_at and
    said_at; vals (distractors x n) is changed in place."""
    stated = perm == fact
    has = stated.any(axis=0)
    if not has.any():
        return
    row = stated.argmax(axis=0)
    cols = np.arange(perm.shape[1])
    when = said_at[row, cols]
    times = np.concatenate([step_at, said_at])
    flow = np.concatenate([step_flow, told_flow])
    order = np.argsort(times, axis=0, kind="stable")
    running = np.cumsum(np.take_along_axis(flow, order, axis=0), axis=0)
    lowest = np.minimum(running.min(axis=0), 0)
    before = np.where(times < when, flow, 0).sum(axis=0)
    need = before - lowest
    lifted = np.maximum(vals[row, cols], need)
    vals[row[has], cols[has]] = lifted[has]


_NOISE = re.compile(r"^\s*(?:the answer is|answer:)\s*|\s*(?:[a-z][a-z ]*)?\.?\s*$", re.IGNORECASE)


def verify_word_problem(item: Mapping[str, Any], answer: str) -> bool:
    """The integer, with harmless formatting; a unit word after it ('12 apples') is allowed."""
    if answer == item["answer"]:
        return True
    return verify_int(item, _NOISE.sub("", str(answer)))


# --------------------------------------------------------------------------------------------------
# solver: reads the story back sentence by sentence. Each sentence must have one of the known shapes; a
# step (about the main person and the main object) changes the running total, a distractor (someone else's
# doings, other objects, ages, distances, times) is recognised by its shape and skipped, anything else is
# refused. The arithmetic is replayed from the numbers in the text alone.

_NAME = r"([A-Z][a-z]++)"
_THING = r"(?!more )([a-z]+(?: [a-z]+)?)"  # a noun of one or two words ("toy cars")
_BOXES = r"(?:bags|boxes|packs|crates|jars)"
# Every sentence after the first is "<Name> " and one of these shapes, or one of two shapes about places.
# Per shape, groups counted inside the shape (0: the subject <Name>): the object, the person who gains, the
# person who loses (None: nobody), the amounts multiplied together (or the count stated), and whether it states a
# count. A sentence moves the main count only where the gaining or losing person is the main person and the
# object is the main object; the rest (other people, other objects, ages, distances, times) is skipped by its
# shape.
_SUBJECT_SHAPES = (
    ("more", rf"(?:buys|finds) (\d+) more {_THING}", 2, 0, None, (1,), False),
    ("gains", rf"(?:buys|finds) (\d+) {_THING}", 2, 0, None, (1,), False),
    ("wins", rf"wins (\d+) {_THING} in a game", 2, 0, None, (1,), False),
    ("drops", rf"(?:sells|loses|gives away) (\d+) {_THING}", 2, None, 0, (1,), False),
    ("gives_to", rf"gives (\d+) {_THING} to {_NAME}", 2, 3, 0, (1,), False),
    ("gives", rf"gives {_NAME} (\d+) {_THING}", 3, 1, 0, (2,), False),
    ("pack", rf"buys (\d+) {_BOXES} with (\d+) {_THING} in each", 3, 0, None, (1, 2), False),
    ("packs", rf"gives {_NAME} (\d+) {_BOXES} holding (\d+) {_THING} each", 4, 1, 0, (2, 3), False),
    ("has", rf"(?:has|also owns) (\d+) {_THING}", 2, None, None, (1,), True),
    ("age", r"is \d+ years old", None, None, None, (), False),
)
_SENTENCE = re.compile(
    rf"{_NAME} (?:"
    + "|".join(f"(?P<{kind}>{shape})" for kind, shape, *_ in _SUBJECT_SHAPES)
    + rf")|(?P<shop>The shop is \d+ km from {_NAME}'s home)|(?P<walk>It takes {_NAME} \d+ minutes to walk home)"
)
_Reader = tuple[int, int, int, int, int, bool]


def _readers() -> list[_Reader | None]:
    """Indexed by a match's lastindex (the shape's own wrapper group): the absolute group numbers of the
    object, the gaining person, the losing person, the amount and a second amount (0: none), and whether the
    shape states a count; None for shapes without an object."""
    out: list[_Reader | None] = [None] * (_SENTENCE.groups + 1)
    for kind, _, what, gains, loses, amounts, stated in _SUBJECT_SHAPES:
        g = _SENTENCE.groupindex[kind]

        def at(pos: int | None, g: int = g) -> int:
            return 0 if pos is None else 1 if pos == 0 else g + pos  # the subject <Name> is group 1

        if what is not None:
            a1, a2 = (at(amounts[0]), at(amounts[1]) if len(amounts) > 1 else 0) if amounts else (0, 0)
            out[g] = (at(what), at(gains), at(loses), a1, a2, stated)
    return out


_READERS = _readers()
_START = re.compile(rf"{_NAME} has (\d+) {_THING}")
_SHARE = re.compile(rf"{_NAME} then shares all the {_THING} equally among (\d+) friends")


def solve_word_problem(item: Mapping[str, Any]) -> str:
    question = item["question"]
    sentences = question.split(". ")
    m = _START.fullmatch(sentences[0])
    if m is None or len(sentences) < 2:
        raise ValueError(f"not a word_problem question: {question!r}")
    person, total, thing = m[1], int(m[2]), m[3]
    last = sentences[-1]
    share = None
    if last == f"How many {thing} does {person} have now?":
        body = sentences[1:-1]
    elif last == f"How many {thing} does each friend get?" and len(sentences) > 2:
        s = _SHARE.fullmatch(sentences[-2])
        if s is None or s[1] != person or s[2] != thing:
            raise ValueError(f"unreadable sharing sentence: {sentences[-2]!r}")
        share, body = int(s[3]), sentences[1:-2]
    else:
        raise ValueError(f"unreadable question sentence: {last!r}")
    fullmatch, readers = _SENTENCE.fullmatch, _READERS
    for sentence in body:
        m = fullmatch(sentence)
        if m is None:
            raise ValueError(f"unreadable sentence: {sentence!r}")
        reader = readers[m.lastindex]
        if reader is None or m[reader[0]] != thing:
            continue  # no object, or another object
        _, gains, loses, a1, a2, stated = reader
        gainer, loser = m[gains] if gains else None, m[loses] if loses else None
        if gainer == loser and gainer is not None:
            raise ValueError(f"someone gives to themselves: {sentence!r}")
        if stated:
            if m[1] == person:
                raise ValueError(f"the main count stated again: {sentence!r}")
        elif gainer == person:
            total += int(m[a1]) * int(m[a2]) if a2 else int(m[a1])
        elif loser == person:
            total -= int(m[a1]) * int(m[a2]) if a2 else int(m[a1])
            if total < 0:
                raise ValueError("the story removes more than there is")
    if share is None:
        return str(total)
    if share < 1 or total % share:
        raise ValueError("the sharing is not exact")
    return str(total // share)


def consistent_word_problem(item: Mapping[str, Any]) -> bool:
    """Whether the story is possible, replayed from its text: per (person, object) the net change so far, its
    lowest point and, once a count is stated, the holding it implies at the start. Nobody may hold fewer than
    nothing at any point, and two statements about one holding must agree. ValueError on an unreadable story."""
    question = item["question"]
    sentences = question.split(". ")
    m = _START.fullmatch(sentences[0])
    if m is None or len(sentences) < 2:
        raise ValueError(f"not a word_problem question: {question!r}")
    held: dict[tuple[str, str], list] = {(m[1], m[3]): [0, 0, int(m[2])]}  # [net change, lowest net, start]
    body = sentences[1:-1]
    if body and _SHARE.fullmatch(body[-1]):
        body = body[:-1]
    fullmatch, readers = _SENTENCE.fullmatch, _READERS
    for sentence in body:
        m = fullmatch(sentence)
        if m is None:
            raise ValueError(f"unreadable sentence: {sentence!r}")
        reader = readers[m.lastindex]
        if reader is None:
            continue  # ages, distances, times
        what, gains, loses, a1, a2, stated = reader
        thing = m[what]
        if stated:
            rec = held.setdefault((m[1], thing), [0, 0, None])
            start = int(m[a1]) - rec[0]
            if start + rec[1] < 0 or rec[2] not in (None, start):
                return False  # fewer than what was given away already, net, or two counts that disagree
            rec[2] = start
            continue
        amount = int(m[a1]) * int(m[a2]) if a2 else int(m[a1])
        gainer, loser = m[gains] if gains else None, m[loses] if loses else None
        if gainer is not None and gainer == loser:
            return False
        if gainer is not None:
            held.setdefault((gainer, thing), [0, 0, None])[0] += amount
        if loser is not None:
            rec = held.setdefault((loser, thing), [0, 0, None])
            rec[0] -= amount
            rec[1] = min(rec[1], rec[0])
            if rec[2] is not None and rec[2] + rec[0] < 0:
                return False  # gives, sells or loses more than they hold
    return True


register(
    Skill(
        name="word_problem",
        domain="maths",
        description="Multi-step templated word problems with irrelevant distractor numbers; integer answers.",
        params=word_problem_params,
        generate_batch=generate_word_problem,
        verify=verify_word_problem,
        solve=solve_word_problem,
        version=3,
        max_level=860,  # CPU: 20 items + gold check ~1 s
        difficulty="story sentences to weigh (steps, distractors, the sharing)",
        consistent=consistent_word_problem,
    )
)
