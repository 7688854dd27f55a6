"""Tolerant answer parsing shared by the verifiers: harmless formatting never costs a correct answer.

Each parser returns None for text it cannot read, so a verifier is `parsed == gold`. A gold is parsed once
(`gold_parser`): rewards check many answers against the same gold.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, TypeVar

T = TypeVar("T")
GOLD_CACHE = 1 << 16  # distinct golds remembered per parser

_INT = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_BOOLS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def gold_parser(parse: Callable[[str], T]) -> Callable[[str], T]:
    """`parse`, remembered by the gold string (or question: what an item holds, not what a model answered).
    Callers only compare what it returns, never change it."""
    return functools.lru_cache(maxsize=GOLD_CACHE, typed=True)(parse)


def clean(text: str) -> str:
    """Lower-case, trimmed, inner whitespace collapsed, a trailing full stop dropped."""
    text = " ".join(str(text).split()).lower()
    return text[:-1].rstrip() if text.endswith(".") else text


def parse_int(text: str) -> int | None:
    """'+0042', ' 1,234 ', '- 7' -> int; anything else -> None."""
    if type(text) is str and text.isascii() and (text.isdigit() or (text[:1] == "-" and text[1:].isdigit())):
        return int(text)  # the usual answer: digits as they are
    s = str(text).strip().replace(",", "").replace("_", "").replace(" ", "")
    if s.endswith("."):
        s = s[:-1]
    return int(s) if _INT.fullmatch(s) else None


def parse_fraction(text: str) -> Fraction | None:
    """'3/4', ' -6 / 8', '0.75', '2' -> Fraction; anything else -> None."""
    s = str(text).strip().replace(" ", "")
    if not s or len(s) > 200:
        return None
    try:
        value = Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None
    return value


def parse_bool(text: str) -> bool | None:
    got = _BOOLS.get(text) if type(text) is str else None  # the words themselves need no cleaning
    if got is not None:
        return got
    s = clean(text)
    return True if s in _TRUE else False if s in _FALSE else None


def parse_int_list(text: str) -> list[int] | None:
    """'1, 2,3' or '[1 2 3]' -> [1, 2, 3]; None when any part is not an integer."""
    s = str(text).strip().strip("[]()")
    parts = [p for p in re.split(r"[,\s;]+", s) if p]
    values = [parse_int(p) for p in parts]
    return None if not values or any(v is None for v in values) else values  # type: ignore[return-value]


def keyed(
    read: Callable[[str], Any], read_gold: Callable[[str], Any] | None = None, *, gold_counts: bool = False
) -> Callable[[Mapping[str, Any], str], bool]:
    """The verifier "the answer reads as the gold does": `read(answer)` is not None and equals
    `read_gold(item["answer"])` (by default read itself, remembered per gold); with gold_counts the gold string
    itself counts at once. It carries its readers (`verify.read`, `verify.read_gold`), so that a batch of
    answers can be read in one pass without a call per answer (curriculum.rewards does)."""
    gold_of = read_gold if read_gold is not None else gold_parser(read)

    def verify(item: Mapping[str, Any], answer: str) -> bool:
        gold = item["answer"]
        if gold_counts and answer == gold:
            return True
        got = read(answer)
        return got is not None and got == gold_of(gold)

    verify.read, verify.read_gold = read, gold_of  # type: ignore[attr-defined]
    return verify


gold_int = gold_parser(int)
verify_int = keyed(parse_int, gold_int)
verify_int_or_gold = keyed(parse_int, gold_int, gold_counts=True)  # verify_int, the gold string at once
verify_bool = keyed(parse_bool)
verify_text = keyed(clean)
verify_int_list = keyed(parse_int_list)
gold_fraction = gold_parser(Fraction)


def verify_fraction(item: Mapping[str, Any], answer: str) -> bool:
    """Any equivalent form (6/8 for 3/4, 0.75) is accepted."""
    got = parse_fraction(answer)
    return got is not None and got == gold_fraction(item["answer"])
