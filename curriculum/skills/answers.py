"""Tolerant answer parsing shared by the verifiers: harmless formatting never costs a correct answer.

Each parser returns None for text it cannot read, so a verifier is `parsed == gold`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

_INT = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def clean(text: str) -> str:
    """Lower-case, trimmed, inner whitespace collapsed, a trailing full stop dropped."""
    text = " ".join(str(text).split()).lower()
    return text[:-1].rstrip() if text.endswith(".") else text


def parse_int(text: str) -> int | None:
    """'+0042', ' 1,234 ', '- 7' -> int; anything else -> None."""
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
    s = clean(text)
    return True if s in _TRUE else False if s in _FALSE else None


def parse_int_list(text: str) -> list[int] | None:
    """'1, 2,3' or '[1 2 3]' -> [1, 2, 3]; None when any part is not an integer."""
    s = str(text).strip().strip("[]()")
    parts = [p for p in re.split(r"[,\s;]+", s) if p]
    values = [parse_int(p) for p in parts]
    return None if not values or any(v is None for v in values) else values  # type: ignore[return-value]


def verify_int(item: Mapping[str, Any], answer: str) -> bool:
    got = parse_int(answer)
    return got is not None and got == int(item["answer"])


def verify_fraction(item: Mapping[str, Any], answer: str) -> bool:
    """Any equivalent form (6/8 for 3/4, 0.75) is accepted."""
    got = parse_fraction(answer)
    return got is not None and got == Fraction(item["answer"])


def verify_bool(item: Mapping[str, Any], answer: str) -> bool:
    got = parse_bool(answer)
    return got is not None and got == parse_bool(item["answer"])


def verify_text(item: Mapping[str, Any], answer: str) -> bool:
    return clean(answer) == clean(item["answer"])


def verify_int_list(item: Mapping[str, Any], answer: str) -> bool:
    got = parse_int_list(answer)
    return got is not None and got == parse_int_list(item["answer"])


def verify_int_or_gold(item: Mapping[str, Any], answer: str) -> bool:
    """verify_int, with a fast path for the gold string itself."""
    return answer == item["answer"] or verify_int(item, answer)
