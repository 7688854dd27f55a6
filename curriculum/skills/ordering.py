"""Ordering puzzles: a linear order from pairwise comparisons, and zebra-style seating puzzles.

`ordering`: n people compared pairwise ("Ann is taller than Bob"); the comparisons always contain every
adjacent pair of the hidden order (so the order is determined) plus redundant ones; ask for the k-th
tallest / shortest.

`seating`: n people in a row of seats, each with k-1 further attributes (shirt colour, pet, drink...).
Clues are drawn true of a random hidden solution and added until a solver proves exactly one solution,
then redundant clues are pruned while uniqueness holds. Two exact solvers: for small search spaces a
bitset over every candidate assignment (each clue is the set of candidates it allows), otherwise
constraint propagation (all-different + binary position constraints on bitmask domains) with backtracking.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

from curriculum.skills.answers import clean, parse_int, verify_text
from curriculum.skills.base import Batch, Skill, register

FEMALE = (
    "Ann", "Beth", "Cara", "Dana", "Eve", "Fay", "Gina", "Hana", "Iris", "Jane", "Kate", "Lena", "Mia",
    "Nora", "Olga", "Pia", "Rita", "Sara", "Tina", "Uma", "Vera", "Wanda", "Xena", "Yara", "Zoe", "Alice",
    "Bella", "Clara", "Diana", "Elsa", "Flora", "Grace", "Helen", "Ida", "Julia", "Laura", "Maria", "Nina",
    "Paula", "Ruth", "Sofia", "Tara", "Una", "Vicky", "Wendy", "Amy", "Chloe", "Emma", "Fiona", "Greta",
    "Hilda", "Irene", "Joan", "Lily", "Mona", "Nell", "Opal", "Petra", "Rosa", "Thea",
)  # fmt: skip
MALE = (
    "Adam", "Ben", "Carl", "Dan", "Eric", "Fred", "Gus", "Hugo", "Ivan", "Jack", "Karl", "Leo", "Max",
    "Ned", "Omar", "Paul", "Quinn", "Rob", "Sam", "Tom", "Vince", "Walt", "Xavi", "Yuri", "Zack", "Alan",
    "Bruno", "Colin", "David", "Edgar", "Felix", "Glen", "Henry", "Igor", "James", "Kevin", "Liam", "Mark",
    "Nick", "Oscar", "Peter", "Ralph", "Simon", "Theo", "Victor", "Wayne", "Boris", "Cyril", "Derek",
    "Emil", "Frank", "Gavin", "Harry", "Isaac", "Jonah", "Kurt", "Luke", "Miles", "Noel", "Otto",
)  # fmt: skip
NAMES = FEMALE + MALE


def _ilog(x: int, base: int) -> int:
    """floor(log_base(x)) for x >= 1."""
    k = 0
    while x >= base:
        x //= base
        k += 1
    return k


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


# ---------------------------------------------------------------------------------------------------
# ordering: k-th tallest from pairwise comparisons

# (more, less, most, least, noun)
_SCALES = (
    ("taller", "shorter", "tallest", "shortest", "heights"),
    ("older", "younger", "oldest", "youngest", "ages"),
    ("faster", "slower", "fastest", "slowest", "speeds"),
    ("heavier", "lighter", "heaviest", "lightest", "weights"),
    ("richer", "poorer", "richest", "poorest", "wealth"),
    ("stronger", "weaker", "strongest", "weakest", "strengths"),
)


class OrderingParams(BaseModel, frozen=True):
    people: int
    extra_comparisons: int  # redundant (implied) comparisons mixed in with the adjacent ones


def ordering_params(level: int) -> OrderingParams:
    n = min(2 + level, 32 + _ilog(level, 2), len(NAMES))
    return OrderingParams(people=n, extra_comparisons=n // 2)


def _ordering_item(r: random.Random, n: int, extra: int) -> tuple[str, str]:
    more, less, most, least, noun = _SCALES[int(r.random() * len(_SCALES))]
    order = r.sample(NAMES, n)  # order[0] is the most (tallest)
    pairs = [(i, i + 1) for i in range(n - 1)]
    extra = min(extra, (n - 1) * (n - 2) // 2)
    seen: set[tuple[int, int]] = set()
    while len(seen) < extra:
        i, j = sorted(r.sample(range(n), 2))
        if j - i >= 2:
            seen.add((i, j))
    pairs += sorted(seen)
    r.shuffle(pairs)
    facts = [
        f"{order[i]} is {more} than {order[j]}." if r.random() < 0.5 else f"{order[j]} is {less} than {order[i]}."
        for i, j in pairs
    ]
    k = 1 + int(r.random() * n)
    if r.random() < 0.5:
        word, answer = most, order[k - 1]
    else:
        word, answer = least, order[n - k]
    rank = "" if k == 1 else _ordinal(k) + " "
    listed = sorted(order, key=lambda _: r.random())
    q = (
        f"{_join(listed)} all have different {noun}. {' '.join(facts)} "
        f"Who is the {rank}{word}? Answer with a name."
    )
    return q, answer


def generate_ordering(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = ordering_params(level)
    r = random.Random(int(rng.integers(2**63)))
    out = [_ordering_item(r, p.people, p.extra_comparisons) for _ in range(n)]
    return Batch([q for q, _ in out], [a for _, a in out])


# ---------------------------------------------------------------------------------------------------
# seating (zebra puzzles)

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

SAME, DIFF, AT, NOTAT, LEFT, NEXT, BEFORE = range(7)
_KIND_CDF = tuple(itertools.accumulate((0.26, 0.12, 0.05, 0.12, 0.15, 0.15, 0.15)))
_BITSET_MAX = 20_000  # candidate assignments (n!)^k up to which the bitset solver is used


class SeatingParams(BaseModel, frozen=True):
    people: int  # seats in the row
    attributes: int  # including the names


def seating_params(level: int) -> SeatingParams:
    return SeatingParams(
        people=min(2 + _ilog(level, 2), _MAX_PEOPLE),
        attributes=min(2 + _ilog(level, 3), len(_CATS) + 1),
    )


# --- clue proposal (entity e = attribute * n + value; pos[e] its seat 0..n-1; who[a][p] the value at p)


def _propose(r: random.Random, n: int, k: int, pos: list[int], who: list[list[int]]) -> tuple[int, int, int]:
    x = r.random()
    kind = 0
    while x >= _KIND_CDF[kind] and kind < 6:
        kind += 1
    rand = r.random
    if kind in (SAME, DIFF):
        a1, a2 = r.sample(range(k), 2)
        if a2 == 0:  # a name is always the subject
            a1, a2 = a2, a1
        p = int(rand() * n)
        q = p
        if kind == DIFF:
            q = (p + 1 + int(rand() * (n - 1))) % n
        return kind, a1 * n + who[a1][p], a2 * n + who[a2][q]
    if kind in (AT, NOTAT):
        e = int(rand() * n * k)
        p = pos[e]
        if kind == NOTAT:
            p = (p + 1 + int(rand() * (n - 1))) % n
        return kind, e, p
    if kind == BEFORE:
        p, q = sorted(r.sample(range(n), 2))
    else:
        p = int(rand() * (n - 1))
        q = p + 1
    e1 = int(rand() * k) * n
    e2 = int(rand() * k) * n
    e1 += who[e1 // n][p]
    e2 += who[e2 // n][q]
    if kind == NEXT and rand() < 0.5:
        e1, e2 = e2, e1
    return kind, e1, e2


def _key(c: tuple[int, int, int]) -> tuple[int, int, int]:
    kind, a, b = c
    if kind in (SAME, DIFF, NEXT) and a > b:
        return kind, b, a
    return c


# --- solver 1: bitsets over all (n!)^k candidate assignments


def _bits(arr: np.ndarray) -> int:
    return int.from_bytes(np.packbits(arr, bitorder="little").tobytes(), "little")


def _bitset_tables(n: int, k: int) -> tuple[list[list[int]], int]:
    """E[e][p]: the set of candidates in which entity e sits in seat p; and the set of all candidates."""
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int8)
    f = len(perms)
    idx = np.arange(f**k, dtype=np.int64)
    table = []
    for a in range(k):
        placed = perms[(idx // f**a) % f]
        for v in range(n):
            col = placed[:, v]
            table.append([_bits(col == p) for p in range(n)])
    return table, (1 << f**k) - 1


def _clue_mask(c: tuple[int, int, int], t: list[list[int]], n: int, everything: int) -> int:
    kind, a, b = c
    if kind == AT:
        return t[a][b]
    if kind == NOTAT:
        return everything ^ t[a][b]
    ta = t[a]
    tb = t[b]
    m = 0
    if kind == SAME or kind == DIFF:
        for p in range(n):
            m |= ta[p] & tb[p]
        return m if kind == SAME else everything ^ m
    if kind == LEFT:
        for p in range(n - 1):
            m |= ta[p] & tb[p + 1]
    elif kind == NEXT:
        for p in range(n - 1):
            m |= (ta[p] & tb[p + 1]) | (ta[p + 1] & tb[p])
    else:  # BEFORE: a strictly left of b
        right = 0
        for p in range(n - 1, 0, -1):
            right |= tb[p]
            m |= ta[p - 1] & right
    return m


def _bitset_clues(r: random.Random, n: int, k: int, pos, who, tables) -> list[tuple[int, int, int]]:
    t, everything = tables
    cur = everything
    clues: list[tuple[int, int, int]] = []
    masks: list[int] = []
    seen: set[tuple[int, int, int]] = set()
    while cur & (cur - 1):  # more than one candidate left
        c = _propose(r, n, k, pos, who)
        key = _key(c)
        if key in seen:
            continue
        seen.add(key)
        m = _clue_mask(c, t, n, everything)
        if cur & m == cur:  # uninformative
            continue
        cur &= m
        clues.append(c)
        masks.append(m)
    keep = list(range(len(clues)))
    for i in sorted(keep, key=lambda _: r.random()):  # prune redundant clues, random order
        acc = everything
        for j in keep:
            if j != i:
                acc &= masks[j]
        if not acc & (acc - 1):
            keep.remove(i)
    return [clues[i] for i in keep]


# --- solver 2: propagation + backtracking on seat bitmasks


def _propagate(dom: list[int], cons: list[tuple[int, int, int]], groups: list[range], full: int) -> bool:
    """Narrow `dom` in place to a fixpoint; False on contradiction."""
    changed = True
    while changed:
        changed = False
        for kind, a, b in cons:
            da = dom[a]
            db = dom[b]
            if kind == SAME:
                na = nb = da & db
            elif kind == DIFF:
                na, nb = da, db
                if not da & (da - 1):
                    nb = db & ~da
                if not nb & (nb - 1):
                    na = da & ~nb
            elif kind == LEFT:
                nb = db & (da << 1)
                na = da & (nb >> 1)
            elif kind == NEXT:
                nb = db & ((da << 1) | (da >> 1))
                na = da & ((nb << 1) | (nb >> 1))
            else:  # BEFORE
                low = da & -da
                nb = db & ~((low << 1) - 1)
                na = da & ((1 << (nb.bit_length() - 1)) - 1) if nb else 0
            if na != da or nb != db:
                if not na or not nb:
                    return False
                dom[a] = na
                dom[b] = nb
                changed = True
        for g in groups:  # all-different within an attribute: naked and hidden singles
            once = twice = singles = 0
            for e in g:
                d = dom[e]
                twice |= once & d
                once |= d
                if not d & (d - 1):
                    if singles & d or not d:
                        return False
                    singles |= d
            if once != full:
                return False
            hidden = once & ~twice
            for e in g:
                d = dom[e]
                if d & (d - 1):
                    nd = d & ~singles
                    h = nd & hidden
                    if h:
                        if h & (h - 1):
                            return False
                        nd = h
                    if nd != d:
                        if not nd:
                            return False
                        dom[e] = nd
                        changed = True
    return True


def _count(dom: list[int], cons, groups, full: int, limit: int = 2, out: list | None = None) -> int:
    """Number of solutions below `dom`, stopping at `limit`; `dom` is consumed; solutions go to `out`."""
    if not _propagate(dom, cons, groups, full):
        return 0
    best, size = -1, 99
    for e, d in enumerate(dom):
        if d & (d - 1):
            c = d.bit_count()
            if c < size:
                best, size = e, c
                if c == 2:
                    break
    if best < 0:
        if out is not None:
            out.append(dom)
        return 1
    total = 0
    d = dom[best]
    while d:
        bit = d & -d
        d ^= bit
        nd = dom.copy()
        nd[best] = bit
        total += _count(nd, cons, groups, full, limit - total, out)
        if total >= limit:
            break
    return total


def _add_clue(dom: list[int], cons: list[tuple[int, int, int]], clue: tuple[int, int, int]) -> None:
    """A seat clue (AT, NOTAT) narrows its entity's domain in place; any other clue joins the constraints."""
    kind, a, b = clue
    if kind == AT:
        dom[a] &= 1 << b
    elif kind == NOTAT:
        dom[a] &= ~(1 << b)
    else:
        cons.append(clue)


def _domains_and_constraints(clues, n: int, k: int) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Seat-bitmask domains (every seat open) narrowed by the seat clues, and the remaining constraints."""
    dom = [(1 << n) - 1] * (n * k)
    cons: list[tuple[int, int, int]] = []
    for c in clues:
        _add_clue(dom, cons, c)
    return dom, cons


def _csp_solutions(clues, n: int, k: int, limit: int = 2) -> list[list[int]]:
    """Up to `limit` solutions (seat bitmask per entity) of a clue list, by propagation and backtracking."""
    full = (1 << n) - 1
    groups = [range(a * n, a * n + n) for a in range(k)]
    dom, cons = _domains_and_constraints(clues, n, k)
    out: list[list[int]] = []
    _count(dom, cons, groups, full, limit, out)
    return out


def _csp_unique(clues, n: int, k: int, groups, full: int) -> bool:
    dom, cons = _domains_and_constraints(clues, n, k)
    return _count(dom, cons, groups, full) == 1


def _csp_clues(r: random.Random, n: int, k: int, pos, who) -> list[tuple[int, int, int]]:
    full = (1 << n) - 1
    groups = [range(a * n, a * n + n) for a in range(k)]
    dom = [full] * (n * k)
    cons: list[tuple[int, int, int]] = []
    clues: list[tuple[int, int, int]] = []
    seen: set[tuple[int, int, int]] = set()
    while True:
        c = _propose(r, n, k, pos, who)
        key = _key(c)
        if key in seen:
            continue
        seen.add(key)
        nd, ncons = dom.copy(), list(cons)
        _add_clue(nd, ncons, c)
        _propagate(nd, ncons, groups, full)  # true clues: never a contradiction
        if nd == dom:
            continue
        dom, cons = nd, ncons
        clues.append(c)
        if all(not d & (d - 1) for d in dom) or _count(dom.copy(), cons, groups, full) == 1:
            break
    keep = clues
    for c in sorted(clues, key=lambda _: r.random()):
        trial = [x for x in keep if x is not c]
        if _csp_unique(trial, n, k, groups, full):
            keep = trial
    return keep


# --- text


def _seating_item(r: random.Random, n: int, k: int, tables) -> tuple[str, str]:
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
        clues = _bitset_clues(r, n, k, pos, who, tables)
    else:
        clues = _csp_clues(r, n, k, pos, who)
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
    direct = {_key((SAME, a, b)) for kind, a, b in clues if kind == SAME}
    placed = {a for kind, a, b in clues if kind == AT}
    for _ in range(20):
        qk = int(r.random() * 3)
        if qk == 0:  # who has attribute value X?
            e = n + int(r.random() * n * (k - 1))
            name_e = who[0][pos[e]]
            trivial = _key((SAME, name_e, e)) in direct
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
            trivial = _key((SAME, v, e)) in direct
            question, answer = cats[a - 1][5].format(names[v]), values[a][e - a * n]
        if not trivial:
            break
    intro = (
        f"{_join(names)} sit in a row of {n} seats, numbered 1 to {n} from left to right, one person per seat. "
        + " ".join(f"Each has a different {c[0]} ({', '.join(vals)})." for c, vals in zip(cats, values[1:]))
    )
    clue_text = " ".join(f"({i}) {t}" for i, t in enumerate(texts, 1))
    return f"{intro} Clues: {clue_text} {question}", answer


def generate_seating(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = seating_params(level)
    r = random.Random(int(rng.integers(2**63)))
    people, k = p.people, p.attributes
    tables = _bitset_tables(people, k) if n and _factorial(people) ** k <= _BITSET_MAX else None
    out = [_seating_item(r, people, k, tables) for _ in range(n)]
    return Batch([q for q, _ in out], [a for _, a in out])


def _factorial(n: int) -> int:
    out = 1
    for i in range(2, n + 1):
        out *= i
    return out


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


# ---------------------------------------------------------------------------------------------------
# solvers: the question text alone. ordering by Kahn's topological sort (the generator never sorts);
# seating by parsing every clue back and searching with propagation + backtracking (the generator's
# bitset solver is used below 20,000 candidate assignments, so there the two are independent)

_O_TEXT = re.compile(
    r"(\w+(?:, \w+)* and \w+) all have different (\w+)\. ((?:\w+ is \w+ than \w+\. )+)"
    r"Who is the (?:(\d+)(?:st|nd|rd|th) )?(\w+)\? Answer with a name\."
)
_O_FACT = re.compile(r"(\w+) is (\w+) than (\w+)\. ")


def solve_ordering(item: Mapping[str, Any]) -> str:
    m = _O_TEXT.fullmatch(str(item["question"]))
    if m is None:
        raise ValueError("not an ordering question")
    names = re.split(r", | and ", m.group(1))
    scale = next((sc for sc in _SCALES if sc[4] == m.group(2)), None)
    if scale is None or len(set(names)) != len(names):
        raise ValueError("unknown scale or repeated names")
    more, less, most, least, _ = scale
    above: dict[str, set[str]] = {nm: set() for nm in names}  # above[b]: those directly more than b
    for a, word, b in _O_FACT.findall(m.group(3)):
        if word not in (more, less) or a not in above or b not in above:
            raise ValueError(f"cannot read comparison {a} {word} {b}")
        if word == more:
            above[b].add(a)
        else:
            above[a].add(b)
    order = []  # most first
    left = dict(above)
    while left:
        free = [nm for nm, ups in left.items() if not ups]
        if len(free) != 1:
            raise ValueError("the comparisons do not determine one order")
        top = free[0]
        order.append(top)
        del left[top]
        for ups in left.values():
            ups.discard(top)
    k = int(m.group(4) or 1)
    if m.group(5) not in (most, least) or not 1 <= k <= len(order):
        raise ValueError("cannot read the question")
    return order[k - 1] if m.group(5) == most else order[-k]


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
    sols = _csp_solutions(clues, n, k)
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
        name="ordering",
        domain="logic",
        description="Find the k-th tallest/shortest (oldest, fastest...) from pairwise comparisons.",
        params=ordering_params,
        generate_batch=generate_ordering,
        verify=verify_text,
        solve=solve_ordering,
    )
)

register(
    Skill(
        name="seating",
        domain="logic",
        description="Zebra-style seating puzzle with a unique solution: n people in a row, k attributes, clues.",
        params=seating_params,
        generate_batch=generate_seating,
        verify=verify_seating,
        solve=solve_seating,
    )
)
