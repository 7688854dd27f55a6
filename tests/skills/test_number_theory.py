"""Number-theory skills: gold answers verify, harmless reformattings verify, wrong answers do not, and every
question text is re-read and re-solved by a second method (big-int powers, sympy factorisations,
sympy.isprime and trial division)."""

from __future__ import annotations

import math
import random
import re
from collections import Counter

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.skills import REGISTRY
from curriculum.skills import number_theory as nt
from tests.skills.contract import assert_second_method_agrees, batch

SKILLS = ["modular", "gcd_lcm", "primality"]

_POW = re.compile(r"What is (\d+)\^(\d+) mod (\d+)\? Give a number from 0 to (\d+)\.")
_OP = re.compile(r"What is \((\d+) ([-+*]) (\d+)\) mod (\d+)\? Give a number from 0 to (\d+)\.")
_GCD = re.compile(r"What is the (greatest common divisor|least common multiple) of ((?:\d+, )*\d+ and \d+)\?")
_PRIME = re.compile(r"Is ([1-9]\d*) a prime number\? Answer yes or no\.")


def item(question: str, answer: str) -> dict:
    return {"question": question, "answer": answer, "params": "{}"}


def trial_division_is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, math.isqrt(n) + 1))


def power_mod_left_to_right(a: int, e: int, mod: int) -> int:
    """a**e % mod scanning the exponent's bits from the top (the generator scans from the bottom)."""
    value = 1
    for bit in bin(e)[2:]:
        value = value * value % mod
        if bit == "1":
            value = value * a % mod
    return value


def euclid(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def independent(name: str, level: int, question: str) -> str:
    """The answer from the question text alone; also checks the text against the level's knobs."""
    params = REGISTRY[name].params(level)
    if name == "modular":
        if m := _POW.fullmatch(question):
            a, e, mod, top = map(int, m.groups())
            assert 2 <= e < 10**params.exponent_digits
            value = a**e % mod if e * a.bit_length() < 100_000 else power_mod_left_to_right(a, e, mod)
        else:
            m = _OP.fullmatch(question)
            assert m, question
            a, op, b, mod, top = int(m[1]), m[2], int(m[3]), int(m[4]), int(m[5])
            assert 1 <= b < 10**params.operand_digits
            value = {"+": a + b, "-": a - b, "*": a * b}[op]
            value -= (value // mod) * mod
        assert top == mod - 1 and len(str(mod)) == params.modulus_digits and mod >= 2
        assert 1 <= a < 10**params.operand_digits
        assert 0 <= value < mod
        return str(value)
    if name == "gcd_lcm":
        m = _GCD.fullmatch(question)
        assert m, question
        nums = [int(x) for x in re.findall(r"\d+", m[2])]
        assert len(nums) == params.count and all(2 <= x < 10**params.digits for x in nums)
        assert len(set(nums)) == len(nums)
        gcd = m[1].startswith("greatest")
        if level > 8:  # too big to factor quickly: a hand-written Euclid instead
            value = nums[0]
            for x in nums[1:]:
                value = euclid(value, x) if gcd else value * x // euclid(value, x)
            return str(value)
        factored = [sympy.factorint(x) for x in nums]
        primes = set().union(*factored)
        pick = min if gcd else max
        return str(math.prod(p ** pick(f.get(p, 0) for f in factored) for p in primes))
    m = _PRIME.fullmatch(question)
    assert m, question
    n = int(m[1])
    assert len(m[1]) == params.digits and m[1][-1] in "1379"
    prime = sympy.isprime(n)
    if n < 10**7:
        assert prime == trial_division_is_prime(n)
    return "yes" if prime else "no"


@pytest.mark.parametrize("name", SKILLS)
def test_independent_check_levels_1_to_8(name: str) -> None:
    assert_second_method_agrees(name, lambda level, q: independent(name, level, q), seed=200)


@pytest.mark.parametrize("name", SKILLS)
def test_independent_check_at_high_levels(name: str) -> None:
    assert_second_method_agrees(name, lambda level, q: independent(name, level, q), levels=(12, 50), n=6, min_items=12)


# ---------------------------------------------------------------- the primality machinery itself


def test_miller_rabin_tiers_match_a_sieve_and_stop_at_their_pseudoprimes() -> None:
    sieve = nt._sieve(300_000)
    assert all(nt.is_prime(n) == bool(sieve[n]) for n in range(300_000))
    for bound, bases in nt._MR_TIERS:
        # each bound is the least strong pseudoprime to its bases: why the next tier starts there
        assert not sympy.isprime(bound) and nt._miller_rabin(bound, bases)
    assert all(not nt.is_prime(bound) for bound, _ in nt._MR_TIERS[:-1])


def test_vectorised_classifier_matches_sympy() -> None:
    rng = np.random.default_rng(1)
    for digits in (6, 10, 13, 15):
        x = rng.integers(10 ** (digits - 2), 10 ** (digits - 1), size=1500) * 10 + rng.choice([1, 3, 7, 9], 1500)
        x = np.concatenate([x, [3215031751, 2152302898747, 3474749660383, 341550071728321]])
        x = x[x < 10**digits]
        got = nt._classify(x, nt._mr_bases(10**digits))
        assert got.tolist() == [sympy.isprime(int(v)) for v in x]
        assert got.any() and not got.all()


def test_pocklington_primes_are_prime() -> None:
    r = random.Random(0)
    for digits in (25, 40, 60):
        for _ in range(5):
            p = nt._proven_prime(r, digits)
            assert len(str(p)) == digits and sympy.isprime(p)


# ---------------------------------------------------------------- verifiers


@pytest.mark.parametrize("name", ["modular", "gcd_lcm"])
@settings(max_examples=30, deadline=None)
@given(level=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_int_answers_verify_and_perturbations_fail(name: str, level: int, seed: int) -> None:
    skill = REGISTRY[name]
    b = batch(name, level, 8, seed)
    for q, gold in zip(b.questions, b.answers):
        assert re.fullmatch(r"0|[1-9]\d*", gold), gold
        g = int(gold)
        it = item(q, gold)
        for form in [gold, f" {gold} ", f"{gold}.", f"+{gold}", f"00{gold}", f"{g:,}"]:
            assert skill.verify(it, form), (gold, form)
        wrong = [g + 1, g - 1, g + 7, 2 * g + 1, -g - 1]
        for form in [*map(str, wrong), "", "x", f"{gold}0" if g else "10"]:
            assert not skill.verify(it, form), (gold, form)


@settings(max_examples=40, deadline=None)
@given(level=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_yes_no_answers_verify_and_the_other_option_fails(level: int, seed: int) -> None:
    skill = REGISTRY["primality"]
    b = batch("primality", level, 6, seed)
    for q, gold in zip(b.questions, b.answers):
        assert gold in ("yes", "no")
        it = item(q, gold)
        same = (
            ["Yes", "YES.", " yes ", "y", "True", "prime"]
            if gold == "yes"
            else ["No", "NO.", " no ", "n", "false", "composite", "not prime", "Not a prime."]
        )
        for form in [gold, *same]:
            assert skill.verify(it, form), (gold, form)
        other = ["no", "No.", "composite", "false"] if gold == "yes" else ["yes", "Yes.", "prime", "true"]
        for form in [*other, "", "maybe", "yes and no"]:
            assert not skill.verify(it, form), (gold, form)


# ---------------------------------------------------------------- balance and mixes


@pytest.mark.parametrize("level", [1, 3, 8, 23, 30])
def test_primality_is_exactly_balanced(level: int) -> None:
    b = batch("primality", level, 40 if level > 20 else 300, seed=level)
    assert Counter(b.answers) == Counter({"yes": len(b.answers) // 2, "no": len(b.answers) // 2})
    odd = {batch("primality", level, 1, seed=s).answers[0] for s in range(30)}
    assert odd == {"yes", "no"}  # a single item is not always the same answer


def test_modular_and_gcd_lcm_mix_their_kinds() -> None:
    qs = batch("modular", 3, 600).questions
    kinds = Counter("^" if "^" in q else re.search(r"\) mod", q) and re.search(r" ([-+*]) ", q)[1] for q in qs)
    assert set(kinds) == {"^", "+", "-", "*"} and 0.4 < kinds["^"] / 600 < 0.6
    g = batch("gcd_lcm", 3, 600).questions
    assert 0.4 < sum("greatest" in q for q in g) / 600 < 0.6
    answers = [int(a) for q, a in zip(g, batch("gcd_lcm", 3, 600).answers) if "greatest" in q]
    assert sum(a > 1 for a in answers) > 0.7 * len(answers)  # numbers share a factor: gcd is rarely 1


@pytest.mark.parametrize("name", SKILLS)
def test_solver_refuses_other_text(name: str) -> None:
    skill = REGISTRY[name]
    for bad in ["", "Is it prime?", "What is 3^x mod 5? Give a number from 0 to 4.", "What is the gcd of 4 and 6?"]:
        with pytest.raises(ValueError):
            skill.solve(item(bad, "0"))


def test_primality_solver_beyond_the_deterministic_range() -> None:
    solve = REGISTRY["primality"].solve
    r = random.Random(4)
    for digits in (25, 30):
        p = nt._proven_prime(r, digits)
        q = nt._proven_prime(r, 14)
        assert solve(item(f"Is {p} a prime number? Answer yes or no.", "yes")) == "yes"
        assert solve(item(f"Is {p * q} a prime number? Answer yes or no.", "no")) == "no"
