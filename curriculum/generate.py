"""(plan, seed) -> a Polars frame of items: deduplicated by content id, split train/eval by content.

Chunks are seeded from a stable hash of (seed, skill, level, chunk), never `seed + i`, so chunks and
seeds never overlap and any chunk can be generated on its own (in parallel, on any worker).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import polars as pl

from curriculum.items import EVAL_PERMILLE, ITEM_SCHEMA, empty_items, item_ids
from curriculum.plan import TierPlan
from curriculum.skills import get_skill
from curriculum.skills.base import check_level

MAX_CHUNKS = 12  # give up topping up after this many chunks: the level's content space is exhausted


def chunk_seed(seed: int, skill: str, level: int, chunk: int) -> int:
    """A 63-bit seed unique to (seed, skill, level, chunk)."""
    key = f"{seed}\x1f{skill}\x1f{level}\x1f{chunk}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") >> 1


def _chunk(skill_name: str, level: int, n: int, seed: int, chunk: int, source: str) -> pl.DataFrame:
    skill = get_skill(skill_name)
    cseed = chunk_seed(seed, skill.name, level, chunk)
    batch = skill.generate_batch(np.random.default_rng(cseed), level, n)
    ids = item_ids(skill.name, batch.questions)
    if batch.params is None:
        params: list[str] | str = skill.params_json(level)
    else:
        params = [json.dumps(p, sort_keys=True) for p in batch.params]
    frame = pl.DataFrame(
        {"item_id": ids, "question": batch.questions, "answer": batch.answers}
        | ({"params": params} if isinstance(params, list) else {}),
        schema_overrides={"item_id": pl.String, "question": pl.String, "answer": pl.String},
    )
    bucket = pl.col("item_id").str.slice(0, 8).str.to_integer(base=16) % 1000
    return frame.select(
        "item_id",
        pl.lit(skill.name).alias("skill"),
        pl.lit(skill.domain).alias("domain"),
        pl.lit(level, pl.Int32).alias("level"),
        "question",
        "answer",
        pl.col("params") if isinstance(params, list) else pl.lit(params).alias("params"),
        pl.lit(source).alias("source"),
        pl.when(bucket < EVAL_PERMILLE).then(pl.lit("eval")).otherwise(pl.lit("train")).alias("split"),
        pl.lit(cseed, pl.Int64).alias("seed"),
        pl.lit(skill.generator_version).alias("generator_version"),
    )


def generate_items(
    skill: str,
    level: int,
    n: int,
    seed: int,
    split: str | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """Up to n distinct items of one skill and level (fewer only when the level has fewer).

    `split` keeps only items whose content falls in that split. Items in `exclude` (seen earlier)
    are used only when the level has too few fresh ones: small levels are re-probed, not skipped.
    """
    check_level(level)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    share = 1.0 if split is None else (EVAL_PERMILLE if split == "eval" else 1000 - EVAL_PERMILLE) / 1000
    fresh: list[pl.DataFrame] = []
    reused: list[pl.DataFrame] = []
    seen: set[str] = set()
    have = idle = 0
    for chunk in range(MAX_CHUNKS):
        want = max(16, int((n - have) / share * 1.1) + 8)
        frame = _chunk(skill, level, want, seed, chunk, "procedural")
        if split is not None:
            frame = frame.filter(pl.col("split") == split)
        frame = frame.unique("item_id", keep="first", maintain_order=True)
        if seen:
            frame = frame.filter(~pl.col("item_id").is_in(list(seen)))
        seen.update(frame["item_id"].to_list())
        if exclude:
            known = pl.col("item_id").is_in(list(exclude))
            reused.append(frame.filter(known))
            frame = frame.filter(~known)
        frame = frame.head(n - have)
        fresh.append(frame)
        have += frame.height
        idle = idle + 1 if frame.height == 0 else 0
        if have >= n or idle >= 3:
            break  # done, or three chunks in a row found nothing new: the space is spent
    if have < n and reused:
        fresh.append(pl.concat(reused).head(n - have))
    return pl.concat(fresh) if fresh else empty_items()


def generate_tier(plan: TierPlan, exclude: set[str] | frozenset[str] = frozenset()) -> pl.DataFrame:
    """All items of a tier, in plan order; duplicates across entries are dropped (first kept)."""
    frames = []
    taken: set[str] = set(exclude)
    for (skill, level, split), count in plan.counts().items():
        frame = generate_items(skill, level, count, plan.seed * 1_000_003 + plan.tier, split, taken)
        taken.update(frame["item_id"].to_list())
        frames.append(frame)
    if not frames:
        return empty_items()
    return pl.concat(frames).unique("item_id", keep="first", maintain_order=True).cast(ITEM_SCHEMA)
