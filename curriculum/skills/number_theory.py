"""Number theory: modular arithmetic, gcd/lcm of several numbers, primality.

Numbers are drawn as numpy columns for a whole batch and answers computed with numpy int64 while nothing
can overflow; exact Python ints (builtin pow, math.gcd/lcm) take over beyond. Primality answers are proven:
a sieve for small ranges, deterministic Miller-Rabin with known-correct witness sets below 3.3e24, and
above that Pocklington-certified primes and composites with an explicit Miller-Rabin witness or factor.
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills._exact import as_list, uniform_ints
from curriculum.skills.answers import clean, parse_bool, verify_int_or_gold
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty

# ---------------------------------------------------------------- modular arithmetic

_MOD_TEMPLATES = (
    "What is %d^%d mod %d? Give a number from 0 to %d.",
    "What is %d^%d mod %d? Give a number from 0 to %d.",
    "What is %d^%d mod %d? Give a number from 0 to %d.",
    "What is (%d + %d) mod %d? Give a number from 0 to %d.",
    "What is (%d - %d) mod %d? Give a number from 0 to %d.",
    "What is (%d * %d) mod %d? Give a number from 0 to %d.",
)  # indexed by kind: 0-2 power (half the items), 3 sum, 4 difference, 5 product


class ModularParams(Knobs):
    operand_digits: int  # a, b drawn from 1 .. 10**operand_digits - 1
    modulus_digits: int  # m has exactly this many digits (2..9 for one digit)
    exponent_digits: int  # exponents drawn from 2 .. 10**exponent_digits - 1


def modular_params(level: int) -> ModularParams:
    return ModularParams(operand_digits=level, modulus_digits=1 + level // 2, exponent_digits=1 + level // 3)


def _powmod(base: np.ndarray, exp: np.ndarray, mod: np.ndarray) -> np.ndarray:
    """Elementwise base**exp % mod by square-and-multiply; needs mod**2 < 2**63."""
    result = np.ones_like(base)
    b = base % mod
    e = exp.copy()
    while True:
        result = np.where((e & 1) == 1, result * b % mod, result)
        e >>= 1
        if not e.any():
            return result % mod
        b = b * b % mod


def generate_modular(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = modular_params(level)
    kinds = rng.integers(0, 6, size=n)
    a = uniform_ints(rng, 1, 10**p.operand_digits, n)
    b = uniform_ints(rng, 1, 10**p.operand_digits, n)
    e = uniform_ints(rng, 2, 10**p.exponent_digits, n)
    m = uniform_ints(rng, 10 ** (p.modulus_digits - 1) if p.modulus_digits > 1 else 2, 10**p.modulus_digits, n)
    if p.operand_digits <= 9 and p.modulus_digits <= 9 and p.exponent_digits <= 18:  # products < 10**18
        power = _powmod(a, e, m)
        answers = np.where(
            kinds < 3, power, np.where(kinds == 3, (a + b) % m, np.where(kinds == 4, (a - b) % m, a * b % m))
        ).tolist()
        second = np.where(kinds < 3, e, b).tolist()
        a, m, kinds = a.tolist(), m.tolist(), kinds.tolist()
    else:
        a, b, e, m, kinds = as_list(a), as_list(b), as_list(e), as_list(m), kinds.tolist()
        answers = [
            pow(x, y, z) if k < 3 else (x + w) % z if k == 3 else (x - w) % z if k == 4 else x * w % z
            for k, x, w, y, z in zip(kinds, a, b, e, m)
        ]
        second = [y if k < 3 else w for k, w, y in zip(kinds, b, e)]
    questions = [_MOD_TEMPLATES[k] % (x, y, z, z - 1) for k, x, y, z in zip(kinds, a, second, m)]
    # reducing by an m-digit modulus, and for a power one squaring per bit of the exponent
    work = [len(str(z)) + (y.bit_length() if k < 3 else 0) for k, y, z in zip(kinds, second, m)]
    return Batch(questions, list(map(str, answers)), with_difficulty(p, work))


# solver: the question text alone, builtin pow and Python ints

_POW_Q = re.compile(r"What is (\d+)\^(\d+) mod (\d+)\? Give a number from 0 to \d+\.")
_OP_Q = re.compile(r"What is \((\d+) ([-+*]) (\d+)\) mod (\d+)\? Give a number from 0 to \d+\.")


def solve_modular(item: Mapping[str, Any]) -> str:
    question = item["question"]
    if m := _POW_Q.fullmatch(question):
        return str(pow(int(m[1]), int(m[2]), int(m[3])))
    if m := _OP_Q.fullmatch(question):
        a, b, mod = int(m[1]), int(m[3]), int(m[4])
        return str((a + b if m[2] == "+" else a - b if m[2] == "-" else a * b) % mod)
    raise ValueError(f"not a modular question: {question!r}")


register(
    Skill(
        name="modular",
        domain="maths",
        description="a^e mod m, or (a + b), (a - b), (a * b) mod m, answered as the residue 0..m-1.",
        params=modular_params,
        generate_batch=generate_modular,
        verify=verify_int_or_gold,
        solve=solve_modular,
        version=2,
        max_level=1700,  # CPU: 20 items + gold check ~1 s
        difficulty="work: digits of the modulus, plus one squaring per bit of an exponent",
    )
)


# ---------------------------------------------------------------- gcd and lcm


class GcdLcmParams(Knobs):
    count: int  # how many numbers
    digits: int  # numbers are (common factor < 10**(digits // 2)) * (cofactor < 10**(digits - digits // 2))


def gcd_lcm_params(level: int) -> GcdLcmParams:
    return GcdLcmParams(count=2 + (level - 1) // 3, digits=level + 1)


def generate_gcd_lcm(rng: np.random.Generator, level: int, n: int) -> Batch:
    """Half gcd, half lcm; the numbers share a random common factor so neither answer is trivial."""
    p = gcd_lcm_params(level)
    g_digits = p.digits // 2
    c_digits = p.digits - g_digits
    kinds = rng.integers(0, 2, size=n)
    g = uniform_ints(rng, 1, 10**g_digits, n)
    cof = [uniform_ints(rng, 2, 10**c_digits, n) for _ in range(p.count)]
    if p.digits <= 18:
        span = 10**c_digits - 2
        for j in range(1, p.count):  # distinct numbers: step a repeated cofactor cyclically past the earlier ones
            for _ in range(j):
                clash = np.zeros(n, dtype=bool)
                for i in range(j):
                    clash |= cof[j] == cof[i]
                if not clash.any():
                    break
                cof[j] = np.where(clash, (cof[j] - 1) % span + 2, cof[j])
        nums = np.stack(cof) * g
        gcd = np.gcd.reduce(nums, axis=0)
        cols = nums.tolist()
        if g_digits + p.count * c_digits <= 18:  # lcm <= g * prod(cofactors) fits int64
            answers = np.where(kinds == 0, gcd, np.lcm.reduce(nums, axis=0)).tolist()
        else:
            answers = [x if k == 0 else math.lcm(*xs) for k, x, xs in zip(kinds.tolist(), gcd.tolist(), zip(*cols))]
    else:
        gl = as_list(g)
        cols = [[x * y for x, y in zip(as_list(c), gl)] for c in cof]
        answers = [math.gcd(*xs) if k == 0 else math.lcm(*xs) for k, xs in zip(kinds.tolist(), zip(*cols))]
    body = ", ".join(["%d"] * (p.count - 1)) + " and %d?"
    templates = (
        "What is the greatest common divisor of " + body,
        "What is the least common multiple of " + body,
    )
    questions = [templates[k] % xs for k, xs in zip(kinds.tolist(), zip(*cols))]
    if p.digits <= 18:
        steps = _euclid_steps(nums).tolist()
    else:
        steps = [_euclid_steps_exact(xs) for xs in zip(*cols)]
    return Batch(questions, list(map(str, answers)), with_difficulty(p, steps))


def _euclid_steps(nums: np.ndarray) -> np.ndarray:
    """Division steps of Euclid's algorithm folding gcd over the rows of nums (count, n) int64 > 0 (lcm needs
    the same gcds), per item."""
    steps = np.zeros(nums.shape[1], dtype=np.int64)
    g = nums[0]
    for row in nums[1:]:
        a, b = g, row
        while True:
            live = b != 0
            if not live.any():
                break
            steps += live
            a, b = np.where(live, b, a), np.where(live, a % np.where(live, b, 1), 0)
        g = a
    return steps


def _euclid_steps_exact(xs: tuple[int, ...]) -> int:
    steps, g = 0, xs[0]
    for b in xs[1:]:
        a = g
        while b:
            a, b = b, a % b
            steps += 1
        g = a
    return steps


# solver: the question text alone, math.gcd / math.lcm over all the numbers at once

_GCD_Q = re.compile(r"What is the (greatest common divisor|least common multiple) of ([\d, ]+ and \d+)\?")


def solve_gcd_lcm(item: Mapping[str, Any]) -> str:
    m = _GCD_Q.fullmatch(item["question"])
    if not m:
        raise ValueError(f"not a gcd/lcm question: {item['question']!r}")
    nums = [int(t) for t in re.split(r", | and ", m[2])]
    return str(math.gcd(*nums) if m[1].startswith("greatest") else math.lcm(*nums))


register(
    Skill(
        name="gcd_lcm",
        domain="maths",
        description="Greatest common divisor or least common multiple of `count` numbers sharing a factor.",
        params=gcd_lcm_params,
        generate_batch=generate_gcd_lcm,
        verify=verify_int_or_gold,
        solve=solve_gcd_lcm,
        version=2,
        max_level=156,  # exact: an lcm has up to 78 + 53 * 79 = 4265 digits, under Python's int-string limit
        difficulty="division steps of Euclid's algorithm over all the numbers",
    )
)


# ---------------------------------------------------------------- primality


def _sieve(limit: int) -> np.ndarray:
    """is_prime[0 .. limit-1]."""
    is_prime = np.ones(limit, dtype=bool)
    is_prime[:2] = False
    for i in range(2, math.isqrt(limit - 1) + 1):
        if is_prime[i]:
            is_prime[i * i :: i] = False
    return is_prime


_PRIMES_BELOW_1000 = tuple(np.flatnonzero(_sieve(1000)).tolist())
_PRIMORIAL = math.prod(_PRIMES_BELOW_1000)  # gcd(x, _PRIMORIAL) > 1: x has a factor below 1000
_TRIAL = np.array([q for q in _PRIMES_BELOW_1000 if 5 < q < 100 or q == 3], dtype=np.int64)
_LAST_DIGITS = np.array([1, 3, 7, 9], dtype=np.int64)
# Deterministic Miller-Rabin: (bound, bases) correct for every n < bound (Jaeschke; Jiang & Deng;
# Sorenson & Webster). Beyond the last bound a passing number is only a probable prime.
_MR_TIERS = (
    (2_047, (2,)),
    (1_373_653, (2, 3)),
    (25_326_001, (2, 3, 5)),
    (3_215_031_751, (2, 3, 5, 7)),
    (2_152_302_898_747, (2, 3, 5, 7, 11)),
    (3_474_749_660_383, (2, 3, 5, 7, 11, 13)),
    (341_550_071_728_321, (2, 3, 5, 7, 11, 13, 17)),
    (3_825_123_056_546_413_051, (2, 3, 5, 7, 11, 13, 17, 19, 23)),
    (318_665_857_834_031_151_167_461, (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)),
    (3_317_044_064_679_887_385_961_981, (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)),
)
MR_LIMIT = _MR_TIERS[-1][0]


def _mr_bases(bound: int) -> tuple[int, ...]:
    """Witnesses that decide primality of every n < bound (bound <= MR_LIMIT)."""
    for limit, bases in _MR_TIERS:
        if bound <= limit:
            return bases
    raise ValueError(f"no deterministic Miller-Rabin witness set below {bound}")


def _miller_rabin(n: int, bases: tuple[int, ...]) -> bool:
    """False: n is certainly composite. True: n is a strong probable prime to every base.
    Needs n odd and greater than every base."""
    d = n - 1
    s = (d & -d).bit_length() - 1
    d >>= s
    for a in bases:
        x = pow(a, d, n)
        if x == 1 or x == n - 1:
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def is_prime(n: int) -> bool:
    """Exact for n < MR_LIMIT (about 3.3e24)."""
    if n < 1000:
        return n in _PRIMES_BELOW_1000
    if math.gcd(n, _PRIMORIAL) != 1:
        return False
    return _miller_rabin(n, _mr_bases(n + 1))


def _mulmod(a: np.ndarray, b: np.ndarray, n: np.ndarray, nf: np.ndarray) -> np.ndarray:
    """a * b % n elementwise for 0 <= a, b < n < 2**50. The float64 quotient is off by at most one and
    the wrapped int64 value a*b - q*n is exact modulo 2**64, so one correction each way makes it exact."""
    q = (a.astype(np.float64) * b / nf).astype(np.int64)
    r = a * b - q * n
    r = np.where(r < 0, r + n, r)
    return np.where(r >= n, r - n, r)


def _miller_rabin_np(x: np.ndarray, bases: tuple[int, ...]) -> np.ndarray:
    """_miller_rabin elementwise for odd int64 x < 2**50 greater than every base."""
    small = int(x.max()) < 3_037_000_499  # x*x fits int64: plain a * b % x
    d = x - 1
    s = np.log2(d & -d).astype(np.int64)  # trailing zero bits; powers of two are exact in float64
    d >>= s
    alive = np.ones(len(x), dtype=bool)
    for a in bases:
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        n, e, s_n = x[idx], d[idx], s[idx]
        nf = n.astype(np.float64)

        def mul(u: np.ndarray, v: np.ndarray, n: np.ndarray = n, nf: np.ndarray = nf) -> np.ndarray:
            return u * v % n if small else _mulmod(u, v, n, nf)

        y = np.ones_like(n)
        b = np.full_like(n, a)
        while True:  # y = a**e % n
            y = np.where((e & 1) == 1, mul(y, b), y)
            e = e >> 1
            if not e.any():
                break
            b = mul(b, b)
        ok = (y == 1) | (y == n - 1)
        for r in range(1, int(s_n.max())):
            y = mul(y, y)
            ok |= (y == n - 1) & (r < s_n)
        alive[idx] = ok
    return alive


def _classify(x: np.ndarray, bases: tuple[int, ...]) -> np.ndarray:
    """Primality of int64 candidates >= 1000: numpy trial division, Miller-Rabin for the survivors."""
    composite = np.zeros(len(x), dtype=bool)
    for q in _TRIAL.tolist():
        composite |= x % q == 0
    survivors = np.flatnonzero(~composite)
    prime = np.zeros(len(x), dtype=bool)
    if len(survivors) and int(x.max()) < 2**50:
        prime[survivors] = _miller_rabin_np(x[survivors], bases)
    else:
        prime[survivors] = [_miller_rabin(v, bases) for v in x[survivors].tolist()]
    return prime


def _proven_prime(r: random.Random, digits: int) -> int:
    """A random prime with `digits` digits (>= 4), proven: Miller-Rabin below MR_LIMIT, else Pocklington
    (N = 2kq + 1 with a proven prime q > sqrt(N), 2^(N-1) = 1 and gcd(2^(2k) - 1, N) = 1 mod N)."""
    lo, hi = 10 ** (digits - 1), 10**digits
    if hi <= MR_LIMIT:
        bases = _mr_bases(hi)
        while True:
            x = r.randrange(lo, hi) | 1
            if math.gcd(x, _PRIMORIAL) == 1 and _miller_rabin(x, bases):
                return x
    q = _proven_prime(r, (digits + 1) // 2 + 1)  # q*q >= 10**digits > N
    k_lo, k_hi = -(-(lo - 1) // (2 * q)), (hi - 2) // (2 * q)
    while True:
        k = r.randint(k_lo, k_hi)
        x = 2 * k * q + 1
        if math.gcd(x, _PRIMORIAL) == 1 and pow(2, x - 1, x) == 1 and math.gcd(pow(2, 2 * k, x) - 1, x) == 1:
            return x


def _draw_numbers(rng: np.random.Generator, digits: int, n_prime: int, n_composite: int) -> tuple[list, list]:
    """Uniform primes and uniform composites among the `digits`-digit numbers ending in 1, 3, 7 or 9
    (so the last digit gives nothing away). Above MR_LIMIT primes are Pocklington-made."""
    lo10, hi10 = 10 ** (digits - 2), 10 ** (digits - 1)
    primes: list[int] = []
    composites: list[int] = []
    if digits <= 18:
        table = _sieve(10**digits) if 10**digits <= max(10**5, 20 * (n_prime + n_composite)) else None
        bases = _mr_bases(10**digits)
        density = 2.5 / (digits * math.log(10))  # primes among numbers coprime to 10, roughly
        while len(primes) < n_prime or len(composites) < n_composite:
            want_p, want_c = n_prime - len(primes), n_composite - len(composites)
            size = int(max(want_p / density, want_c / (1 - density)) * 1.2) + 16
            x = rng.integers(lo10, hi10, size=size, dtype=np.int64) * 10 + _LAST_DIGITS[rng.integers(0, 4, size)]
            prime = table[x] if table is not None else _classify(x, bases)
            primes += x[prime][:want_p].tolist()
            composites += x[~prime][:want_c].tolist()
        return primes, composites
    r = random.Random(int(rng.integers(2**63)))
    big = 10**digits > MR_LIMIT
    bases = _MR_TIERS[-1][1] if big else _mr_bases(10**digits)
    while len(primes) < (0 if big else n_prime) or len(composites) < n_composite:
        x = 10 * r.randrange(lo10, hi10) + r.choice((1, 3, 7, 9))
        prime = math.gcd(x, _PRIMORIAL) == 1 and _miller_rabin(x, bases)
        if prime and not big and len(primes) < n_prime:
            primes.append(x)
        elif not prime and len(composites) < n_composite:
            composites.append(x)  # a factor below 1000 or a Miller-Rabin witness proves it composite
    if big:
        primes = [_proven_prime(r, digits) for _ in range(n_prime)]
    return primes, composites


class PrimalityParams(Knobs):
    digits: int  # N has exactly this many digits and ends in 1, 3, 7 or 9


def primality_params(level: int) -> PrimalityParams:
    """3, 5, 7 digits, then one more per level: level 3 already offers over half a million primes."""
    return PrimalityParams(digits=min(2 * level + 1, level + 4))


def generate_primality(rng: np.random.Generator, level: int, n: int) -> Batch:
    """Exactly half the items are prime (an odd batch flips a coin for the spare one)."""
    p = primality_params(level)
    n_yes = n // 2 + (int(rng.integers(2)) if n % 2 else 0)
    yes = (rng.permutation(n) < n_yes).tolist()
    primes, composites = _draw_numbers(rng, p.digits, n_yes, n - n_yes)
    pi, ci = iter(primes), iter(composites)
    numbers = [next(pi) if y else next(ci) for y in yes]
    questions = [f"Is {x} a prime number? Answer yes or no." for x in numbers]
    answers = ["yes" if y else "no" for y in yes]
    return Batch(questions, answers, with_difficulty(p, [p.digits] * n))


_PRIME_WORDS = {"prime": True, "a prime": True, "composite": False, "not prime": False, "not a prime": False}


def _parse_yes_no(text: str) -> bool | None:
    """yes/no/true/false (answers.parse_bool) or prime/composite/not prime."""
    got = parse_bool(text)
    return got if got is not None else _PRIME_WORDS.get(clean(text).rstrip("!"))


def verify_yes_no(item: Mapping[str, Any], answer: str) -> bool:
    gold = item["answer"]
    if answer == gold:
        return True
    got = _parse_yes_no(answer)
    return got is not None and got == _parse_yes_no(gold)


# solver: the question text alone, by trial division and deterministic Miller-Rabin on the number shown

_PRIME_Q = re.compile(r"Is (\d+) a prime number\? Answer yes or no\.")
_EXTRA_BASES = tuple(q for q in _PRIMES_BELOW_1000 if 41 < q < 100)


def solve_primality(item: Mapping[str, Any]) -> str:
    """Exact below MR_LIMIT; above it "no" is still proven (a factor or a witness), while "yes" means a
    strong probable prime to the 25 prime bases below 100 (the generator's primes carry Pocklington proofs)."""
    m = _PRIME_Q.fullmatch(item["question"])
    if not m:
        raise ValueError(f"not a primality question: {item['question']!r}")
    n = int(m[1])
    if n < MR_LIMIT:
        prime = is_prime(n)
    else:
        prime = math.gcd(n, _PRIMORIAL) == 1 and _miller_rabin(n, _MR_TIERS[-1][1] + _EXTRA_BASES)
    return "yes" if prime else "no"


SIEVE_LIMIT = 10**7  # the batch solver's sieve: 10 MB, built in a few hundredths of a second


@functools.cache
def _prime_table() -> np.ndarray:
    return _sieve(SIEVE_LIMIT)


def solve_primality_batch(questions: list[str]) -> list[str | None]:
    """solve_primality over many questions at once: numbers below SIEVE_LIMIT are looked up in a sieve, the
    rest (and any text the pattern does not read) are left to solve_primality."""
    import polars as pl

    numbers = (
        pl.Series(questions, dtype=pl.String)
        .str.extract(r"^Is ([0-9]{1,7}) a prime number\? Answer yes or no\.$", 1)
        .cast(pl.Int64)
        .to_numpy()
    )
    readable = ~np.isnan(numbers) if numbers.dtype.kind == "f" else np.ones(len(numbers), dtype=bool)
    prime = np.zeros(len(numbers), dtype=bool)
    prime[readable] = _prime_table()[numbers[readable].astype(np.int64)]
    words = np.where(prime, "yes", "no").astype(object)
    words[~readable] = None
    return words.tolist()


register(
    Skill(
        name="primality",
        domain="maths",
        description="Is a `digits`-digit number prime? yes/no, balanced 50/50.",
        params=primality_params,
        generate_batch=generate_primality,
        verify=verify_yes_no,
        solve=solve_primality,
        solve_batch=solve_primality_batch,
        version=2,
        max_level=210,  # CPU: 20 items + gold check ~1 s
        difficulty="digits of the number",
    )
)
