"""(skill, level, seed) -> a Polars frame of items: deduplicated by content id, split train/eval by content.

A whole tier is generated shard by shard in curriculum.shards.generate_tier, from these chunks.

Chunks are seeded from a stable hash of (seed, skill, level, chunk), never `seed + i`, so chunks and
seeds never overlap and any chunk can be generated on its own (in parallel, on any worker).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import polars as pl

from curriculum.items import EVAL_PERMILLE, empty_items, item_ids
from curriculum.seeds import chunk_seed
from curriculum.skills import get_skill
from curriculum.skills.base import ItemParams, check_level

MAX_CHUNKS = 12  # give up topping up after this many chunks: the level's content space is exhausted


def params_json(params: Sequence[dict]) -> list[str]:
    """Each item's knobs as sorted-key JSON; a batch repeats few distinct dicts, so each is encoded once
    (json.dumps per item was most of the cost of fast skills)."""
    cache: dict[tuple, str] = {}
    out = []
    for p in params:
        try:
            key = tuple((k, type(v), v) for k, v in p.items())  # 1, 1.0 and True are equal keys, not equal JSON
            text = cache.get(key)
        except TypeError:  # an unhashable value (a list): encode it as it is
            out.append(json.dumps(p, sort_keys=True))
            continue
        if text is None:
            text = cache[key] = json.dumps(p, sort_keys=True)
        out.append(text)
    return out


def generate_chunk(
    skill_name: str, level: int, n: int, seed: int, chunk: int, source: str = "procedural"
) -> pl.DataFrame:
    """n candidates of one chunk of a (skill, level) stream, from the RNG seeded by chunk_seed: both splits, not deduplicated."""
    skill = get_skill(skill_name)
    cseed = chunk_seed(seed, skill.name, level, chunk)
    batch = skill.generate_batch(np.random.default_rng(cseed), level, n)
    ids = item_ids(skill.name, batch.questions)
    if batch.params is None:
        params: list[str] | str = skill.params_json(level)
    elif isinstance(batch.params, ItemParams):
        params = batch.params.json()
    else:
        params = params_json(batch.params)
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
    check_level(level, get_skill(skill))
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    share = 1.0 if split is None else (EVAL_PERMILLE if split == "eval" else 1000 - EVAL_PERMILLE) / 1000
    excluded = pl.Series("item_id", list(exclude), dtype=pl.String).implode() if exclude else None
    fresh: list[pl.DataFrame] = []
    reused: list[pl.DataFrame] = []
    seen: list[pl.Series] = []  # ids of earlier chunks, kept as Series: no Python set round trip per chunk
    have = idle = 0
    yield_rate, want = share, None  # fresh items per candidate: falls as a small level fills up
    for chunk in range(MAX_CHUNKS):
        # enough candidates for what is missing at the last chunk's yield, never more than the last chunk
        need = int((n - have) / max(yield_rate, 1e-3) * 1.1) + 8
        want = max(16, need if want is None else min(want, need))
        frame = generate_chunk(skill, level, want, seed, chunk)
        if split is not None:
            frame = frame.filter(pl.col("split") == split)
        frame = frame.unique("item_id", keep="first", maintain_order=True)
        if seen:
            frame = frame.filter(~pl.col("item_id").is_in(pl.concat(seen).implode()))
        seen.append(frame["item_id"])
        if excluded is not None:
            known = pl.col("item_id").is_in(excluded)
            reused.append(frame.filter(known))
            frame = frame.filter(~known)
        yield_rate = frame.height / want
        frame = frame.head(n - have)
        fresh.append(frame)
        have += frame.height
        idle = idle + 1 if frame.height == 0 else 0
        if have >= n or idle >= 3:
            break  # done, or three chunks in a row found nothing new: the space is spent
    if have < n and reused:
        fresh.append(pl.concat(reused).head(n - have))
    return pl.concat(fresh) if fresh else empty_items()
