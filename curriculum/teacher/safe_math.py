"""Exact arithmetic and one-unknown equations from untrusted text, without eval or exec.

A tokenizer and a recursive-descent parser over the token list compute values as polynomials in x
with `Fraction` coefficients, so `2*x + 3 = 11` and `(7 - 2)^2 / 10` are both exact. Grammar:

    equation := expr "=" expr                      (x allowed only here)
    expr     := term (("+" | "-") term)*
    term     := unary (("*" | "/") unary | <implicit> unary)*     implicit: "2x", "3(x + 1)"
    unary    := ("-" | "+") unary | power
    power    := atom ("^" unary)?                  right-associative; "**" is read as "^"
    atom     := integer | decimal | "x" | "(" expr ")"

Limits bound the work any input can cause: characters, tokens, nesting depth, digits per literal,
exponent size, polynomial degree and the bit length of every intermediate number. Division is by
non-zero constants only; exponents must be integer constants. Every failure is a `SafeMathError`
whose `reason` is one of REASONS.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Literal

from curriculum.errors import CurriculumError

MAX_CHARS = 300
MAX_TOKENS = 160
MAX_DEPTH = 40
MAX_DIGITS = 30  # per numeric literal
MAX_EXPONENT = 64
MAX_DEGREE = 8
MAX_BITS = 4096  # numerator and denominator of every intermediate coefficient

Reason = Literal["too_long", "unparseable", "no_unique_solution", "unsupported"]
REASONS: tuple[Reason, ...] = ("too_long", "unparseable", "no_unique_solution", "unsupported")

Poly = tuple[Fraction, ...]  # coefficients, lowest degree first, no trailing zeros; () is zero

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|(\*\*|[-+*/^()=x]))")
_TRANSLATE = str.maketrans({"×": "*", "·": "*", "÷": "/", "−": "-", "–": "-", "X": "x"})
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


class SafeMathError(CurriculumError):
    """Text that is not an expression or equation this module computes; `reason` says why."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


Token = tuple[str, str]  # (kind, text): kind is "num" or "op" ("x" is an op-kind token)


def tokenize(text: str) -> list[Token]:
    """Tokens of text; unknown characters, over-long input or literals raise SafeMathError."""
    if not isinstance(text, str):
        raise SafeMathError("unparseable", "expression must be a string")
    if len(text) > MAX_CHARS:
        raise SafeMathError("too_long", f"expression longer than {MAX_CHARS} characters")
    text = text.translate(_TRANSLATE).rstrip()
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = text[pos:].lstrip()[:1]
            raise SafeMathError("unparseable", f"unexpected character {bad!r}")
        if m.group(1) is not None:
            if len(m.group(1).replace(".", "")) > MAX_DIGITS:
                raise SafeMathError("too_long", f"a number longer than {MAX_DIGITS} digits")
            tokens.append(("num", m.group(1)))
        else:
            op = m.group(2)
            tokens.append(("op", "^" if op == "**" else op))
        if len(tokens) > MAX_TOKENS:
            raise SafeMathError("too_long", f"more than {MAX_TOKENS} tokens")
        pos = m.end()
    if not tokens:
        raise SafeMathError("unparseable", "empty expression")
    return tokens


def numbers(text: str) -> list[str]:
    """Numeric literals of an expression, leaving out exponents (x^2 says "squared" in words)."""
    tokens = tokenize(text)
    return [t for i, (kind, t) in enumerate(tokens) if kind == "num" and not (i and tokens[i - 1] == ("op", "^"))]


# ---- polynomial arithmetic -------------------------------------------------------------------


def _norm(coeffs: list[Fraction]) -> Poly:
    while coeffs and coeffs[-1] == 0:
        coeffs.pop()
    for c in coeffs:
        if c.numerator.bit_length() > MAX_BITS or c.denominator.bit_length() > MAX_BITS:
            raise SafeMathError("unsupported", f"a number larger than {MAX_BITS} bits")
    if len(coeffs) - 1 > MAX_DEGREE:
        raise SafeMathError("unsupported", f"degree above {MAX_DEGREE}")
    return tuple(coeffs)


def _const(value: Fraction) -> Poly:
    return _norm([value])


def _add(a: Poly, b: Poly) -> Poly:
    n = max(len(a), len(b))
    return _norm([(a[i] if i < len(a) else Fraction(0)) + (b[i] if i < len(b) else Fraction(0)) for i in range(n)])


def _neg(a: Poly) -> Poly:
    return tuple(-c for c in a)


def _mul(a: Poly, b: Poly) -> Poly:
    if not a or not b:
        return ()
    if len(a) + len(b) - 2 > MAX_DEGREE:
        raise SafeMathError("unsupported", f"degree above {MAX_DEGREE}")
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return _norm(out)


def _constant_of(a: Poly, what: str) -> Fraction:
    if len(a) > 1:
        raise SafeMathError("unsupported", f"{what} must not contain x")
    return a[0] if a else Fraction(0)


def _div(a: Poly, b: Poly) -> Poly:
    d = _constant_of(b, "a divisor")
    if d == 0:
        raise SafeMathError("unparseable", "division by zero")
    return _norm([c / d for c in a])


def _pow(base: Poly, exponent: Poly) -> Poly:
    e = _constant_of(exponent, "an exponent")
    if e.denominator != 1:
        raise SafeMathError("unsupported", "exponents must be integers")
    n = e.numerator
    if abs(n) > MAX_EXPONENT:
        raise SafeMathError("unsupported", f"exponent beyond ±{MAX_EXPONENT}")
    if len(base) <= 1:
        b = base[0] if base else Fraction(0)
        if b == 0 and n <= 0:
            raise SafeMathError("unparseable", "0 to a power <= 0 is undefined")
        size = max(b.numerator.bit_length(), b.denominator.bit_length())
        if size * abs(n) > MAX_BITS + 64:
            raise SafeMathError("unsupported", f"a number larger than {MAX_BITS} bits")
        return _const(b**n)
    if n < 0:
        raise SafeMathError("unsupported", "x to a negative power")
    result: Poly = (Fraction(1),)
    for _ in range(n):
        result = _mul(result, base)
    return result


# ---- parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[Token], allow_x: bool) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.allow_x = allow_x

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, text: str) -> bool:
        if self.peek() == ("op", text):
            self.pos += 1
            return True
        return False

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SafeMathError("too_long", f"nested deeper than {MAX_DEPTH}")

    def expr(self) -> Poly:
        self.enter()
        value = self.term()
        while True:
            if self.take("+"):
                value = _add(value, self.term())
            elif self.take("-"):
                value = _add(value, _neg(self.term()))
            else:
                break
        self.depth -= 1
        return value

    def term(self) -> Poly:
        value = self.unary()
        while True:
            if self.take("*"):
                value = _mul(value, self.unary())
            elif self.take("/"):
                value = _div(value, self.unary())
            elif self.peek() in (("op", "x"), ("op", "(")):
                value = _mul(value, self.unary())
            else:
                return value

    def unary(self) -> Poly:
        self.enter()
        if self.take("-"):
            value = _neg(self.unary())
        elif self.take("+"):
            value = self.unary()
        else:
            value = self.power()
        self.depth -= 1
        return value

    def power(self) -> Poly:
        base = self.atom()
        if self.take("^"):
            return _pow(base, self.unary())
        return base

    def atom(self) -> Poly:
        token = self.peek()
        if token is None:
            raise SafeMathError("unparseable", "expression ends too early")
        kind, text = token
        self.pos += 1
        if kind == "num":
            return _const(Fraction(text))
        if text == "x":
            if not self.allow_x:
                raise SafeMathError("unparseable", "x outside an equation")
            return (Fraction(0), Fraction(1))
        if text == "(":
            value = self.expr()
            if not self.take(")"):
                raise SafeMathError("unparseable", "missing )")
            return value
        raise SafeMathError("unparseable", f"unexpected {text!r}")

    def done(self) -> None:
        token = self.peek()
        if token is not None:
            raise SafeMathError("unparseable", f"unexpected {token[1]!r}")


def evaluate(text: str) -> Fraction:
    """The exact value of an arithmetic expression (no x, no =)."""
    tokens = tokenize(text)
    if ("op", "=") in tokens:
        raise SafeMathError("unparseable", "an expression must not contain =")
    parser = _Parser(tokens, allow_x=False)
    value = parser.expr()
    parser.done()
    return value[0] if value else Fraction(0)


def solve(text: str) -> Fraction:
    """The unique solution of an equation in x (degree 1, or degree 2 with a double root)."""
    tokens = tokenize(text)
    if tokens.count(("op", "=")) != 1:
        raise SafeMathError("unparseable", "an equation needs exactly one =")
    split = tokens.index(("op", "="))
    sides = []
    for part in (tokens[:split], tokens[split + 1 :]):
        if not part:
            raise SafeMathError("unparseable", "an equation side is empty")
        parser = _Parser(part, allow_x=True)
        sides.append(parser.expr())
        parser.done()
    poly = _add(sides[0], _neg(sides[1]))
    degree = len(poly) - 1
    if degree < 1:
        what = "every x" if not poly else "no x"
        raise SafeMathError("no_unique_solution", f"the equation holds for {what}")
    if degree == 1:
        return -poly[0] / poly[1]
    if degree == 2:
        c, b, a = poly
        if b * b - 4 * a * c == 0:
            return -b / (2 * a)
        raise SafeMathError("no_unique_solution", "a quadratic with two roots or none")
    raise SafeMathError("unsupported", "equations above degree 2 are not solved")


def compute(text: str) -> Fraction:
    """`solve` for an equation (text with =), else `evaluate`."""
    return solve(text) if "=" in text else evaluate(text)


def format_number(value: Fraction) -> str:
    """'7', '-3/4': the form the fraction and integer verifiers read."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def numbers_in_text(text: str) -> list[str]:
    """Numeric literals in prose, thousands separators removed ('1,200' -> '1200'), signs ignored."""
    return _NUMBER.findall(re.sub(r"(?<=\d),(?=\d{3}\b)", "", text))
