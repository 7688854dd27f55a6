"""Every seed the project derives, in one place.

`derive(*parts)` is the seed function: a 63-bit hash of named parts, so two derivations collide only if their
parts are equal (`seed + i` schemes share seeds across runs: seed 1's second item is seed 2's first). Three
derivations keep the arithmetic they were first written with, so that every stored tier regenerates
byte-identically from its run seed; they are named here and nowhere else computes a seed.
"""

from __future__ import annotations

import hashlib

RETRY_STRIDE = 7_919  # (kept) a rejected tier's next attempt: run seed + stride x (attempt - 1)
TIER_STRIDE = 1_000_003  # (kept) a tier's generation seed: attempt seed x stride + tier


def derive(*parts: object) -> int:
    """A 63-bit seed unique to the parts, e.g. derive(run_seed, "teacher", "rewrite")."""
    key = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") >> 1


def attempt_seed(run_seed: int, attempt: int) -> int:
    """The seed of a tier attempt's plan (stored in `tiers.seed`)."""
    return run_seed + RETRY_STRIDE * (attempt - 1)


def generation_seed(plan_seed: int, tier: int) -> int:
    """The seed a tier's chunks are derived from (curriculum.shards), from its plan's seed."""
    return plan_seed * TIER_STRIDE + tier


def chunk_seed(seed: int, skill: str, level: int, chunk: int) -> int:
    """The RNG seed of one chunk of a (skill, level) stream."""
    return derive(seed, skill, level, chunk)


def batch_seed(run_seed: int, steps_done: int) -> int:
    """(kept) The built-in learner's batch order for a training call that starts after `steps_done` steps."""
    return run_seed * 7_919 + steps_done
