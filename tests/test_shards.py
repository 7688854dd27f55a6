"""Sharded tier generation: a function of (plan, exclude) only, whatever the shard size, order or round."""

from __future__ import annotations

import io
import pickle
import random
from dataclasses import FrozenInstanceError

import polars as pl
import pytest

from curriculum.generate import generate_items
from curriculum.items import ITEM_SCHEMA
from curriculum.plan import PlanEntry, TierPlan
from curriculum.seeds import chunk_seed
from curriculum.shards import (
    CHUNK_CAP,
    Shard,
    batch_shards,
    combine_shards,
    generate_shard,
    generate_shards,
    generate_tier,
    plan_shards,
    tier_seed,
)
from tests.conftest import SMALL_PLAN

SMALL = SMALL_PLAN  # every key is served by its first chunk: equal to generate_items key by key
HARD = TierPlan(  # a spent level (addition L1: 100 questions) and levels that share items (fractions)
    tier=2,
    seed=5,
    entries=(
        PlanEntry("addition", 1, "train", 150),
        PlanEntry("addition", 3, "train", 300),
        PlanEntry("fraction_simplify", 1, "train", 400),
        PlanEntry("fraction_simplify", 2, "train", 400, "stretch"),
        PlanEntry("fraction_simplify", 2, "eval", 60, "probe"),
        PlanEntry("addition", 1, "eval", 60, "probe"),
    ),
)
BIG = TierPlan(
    tier=1, seed=9, entries=(PlanEntry("addition", 4, "train", 20_000), PlanEntry("comparison", 3, "eval", 3_000))
)


def counts(frame: pl.DataFrame) -> dict[tuple[str, int, str], int]:
    return {(s, lv, sp): n for s, lv, sp, n in frame.group_by("skill", "level", "split").len().iter_rows()}


def shuffled_map(seed: int):
    """A map that runs shards in a random order and hands the frames back in another one."""
    rng = random.Random(seed)

    def map_fn(fn, shards):
        shards = list(shards)
        rng.shuffle(shards)
        frames = [fn(s) for s in shards]
        rng.shuffle(frames)
        return frames

    return map_fn


def parquet(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()


def key_by_key(plan: TierPlan) -> pl.DataFrame:
    """The reference: generate_items per planned key with the tier seed, earlier keys' items excluded."""
    frames, taken = [], set()
    for (skill, level, split), count in plan.counts().items():
        frame = generate_items(skill, level, count, tier_seed(plan), split, taken)
        taken |= set(frame["item_id"])
        frames.append(frame)
    return pl.concat(frames).unique("item_id", keep="first", maintain_order=True).cast(ITEM_SCHEMA)


def test_small_plan_equals_generate_items_key_by_key():
    tier = generate_tier(SMALL)
    assert tier.equals(key_by_key(SMALL))
    assert counts(tier) == SMALL.counts()
    assert dict(tier.schema) == ITEM_SCHEMA


def test_same_plan_gives_byte_identical_parquet():
    assert parquet(generate_tier(HARD)) == parquet(generate_tier(HARD))


@pytest.mark.parametrize("plan", [SMALL, HARD], ids=["small", "hard"])
def test_independent_of_order_shard_size_and_rounds(plan):
    reference = generate_tier(plan)
    assert generate_tier(plan, map_fn=shuffled_map(1)).equals(reference)
    assert generate_tier(plan, map_fn=shuffled_map(2), max_items_per_shard=7).equals(reference)


def test_large_keys_split_into_many_shards_without_changing_the_tier():
    shards = plan_shards(BIG, max_items_per_shard=6_000)
    assert len(shards) > len(plan_shards(BIG)) >= 2
    assert [s.index for s in shards] == list(range(len(shards)))
    for key, planned in BIG.counts().items():
        assert sum(s.count for s in shards if s.key == key) == planned
    assert all(s.chunk_size <= CHUNK_CAP for s in shards)
    frames = [generate_shard(s) for s in reversed(shards)]
    tier = combine_shards(frames, BIG)
    assert counts(tier) == BIG.counts()
    assert tier.equals(generate_tier(BIG))


def test_counts_ids_and_splits_on_spent_and_overlapping_levels():
    tier = generate_tier(HARD)
    assert tier["item_id"].is_unique().all()
    got = counts(tier)
    for key, planned in HARD.counts().items():
        assert got.get(key, 0) <= planned
    spent = generate_items("addition", 1, 10_000, seed=0, split="train").height  # every train item of L1
    assert got[("addition", 1, "train")] == spent < 150
    assert got[("addition", 3, "train")] == 300
    # level 2 items that level 1 took are not counted twice, yet level 2 is still filled
    assert got[("fraction_simplify", 2, "train")] == 400
    old = counts(key_by_key(HARD))
    assert all(got[k] >= n for k, n in old.items())  # never fewer items than key by key
    train = set(tier.filter(pl.col("split") == "train")["item_id"])
    assert not train & set(tier.filter(pl.col("split") == "eval")["item_id"])


def test_exclude_prefers_fresh_items_and_reuses_only_on_spent_levels():
    first = generate_tier(HARD)
    again = generate_tier(TierPlan(3, HARD.seed, HARD.entries), exclude=set(first["item_id"]))
    reused = again.join(first.select("item_id"), on="item_id", how="semi")
    assert reused.height > 0
    assert set(reused["level"]) == {1}  # only the spent level re-probes seen items
    assert counts(again)[("addition", 3, "train")] == 300


def test_shard_seeds_are_hashed_and_distinct():
    shards = plan_shards(BIG, max_items_per_shard=6_000) + plan_shards(HARD, max_items_per_shard=50)
    streams: dict[tuple[str, int], set[int]] = {}  # train and eval of one (skill, level) share it: split by content
    for s in shards:
        assert len(set(s.chunk_seeds)) == s.chunks
        assert s.chunk_seeds[0] == chunk_seed(s.seed, s.skill, s.level, s.first_chunk)
        streams.setdefault((s.skill, s.level), set()).update(s.chunk_seeds)
    big = [s for s in shards if s.key == ("addition", 4, "train")]
    assert len(big) > 1 and len({c for s in big for c in s.chunk_seeds}) == sum(s.chunks for s in big)
    names = sorted(streams)
    assert all(not streams[a] & streams[b] for i, a in enumerate(names) for b in names[i + 1 :])
    every = set().union(*streams.values())
    assert not every & {tier_seed(p) + i for p in (BIG, HARD) for i in range(1000)}  # never seed + i


def test_shards_are_small_frozen_and_picklable():
    shard = plan_shards(SMALL)[0]
    assert pickle.loads(pickle.dumps(shard)) == shard
    assert len(pickle.dumps(shard)) < 400
    with pytest.raises(FrozenInstanceError):
        shard.count = 1  # type: ignore[misc]
    assert isinstance(shard, Shard)


def test_bad_plans_fail_clearly():
    with pytest.raises(ValueError, match="max_items_per_shard"):
        plan_shards(SMALL, max_items_per_shard=0)
    with pytest.raises(ValueError, match="n must be >= 1"):
        plan_shards(TierPlan(1, 0, (PlanEntry("addition", 2, "train", 0),)))
    assert generate_tier(TierPlan(1, 0, ())).height == 0


def test_batches_keep_shard_order_and_pack_small_shards_together():
    shards = plan_shards(HARD) + plan_shards(BIG, max_items_per_shard=6_000)
    batches = batch_shards(shards, max_items_per_shard=6_000)
    assert [s for b in batches for s in b] == shards
    assert len(batches) < len(shards)
    budget = 6_000 / 0.8 * 1.1 + CHUNK_CAP
    assert all(len(b) == 1 or sum(s.chunks * s.chunk_size for s in b) <= budget for b in batches)
    assert [f for b in batches for f in generate_shards(b)][0].equals(generate_shard(shards[0]))
