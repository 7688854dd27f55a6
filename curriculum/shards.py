"""A tier as independent shards: plan them, generate each anywhere, combine into one deterministic frame.

Each planned (skill, level, split) draws from one fixed stream of chunks: chunk c holds `chunk_size`
candidates from the RNG seeded by `chunk_seed(seed, skill, level, c)` (the seeding `generate_items`
uses), filtered to the split. A shard is a contiguous range of those chunks, so it needs nothing but
its own fields: no shared state, no earlier shard, no exclusion set. `combine_shards` reads the
streams in chunk order and, key by key in plan order, keeps the first `count` distinct items that are
neither excluded nor taken by an earlier key, stopping a stream early when three chunks in a row
bring nothing new (items from `exclude` fill in only where a level is spent), as `generate_items`
does. The tier is therefore a function of (plan, exclude) alone: not of the shard size, the order
shards finish in, the machine that ran them, or how many rounds of shards it took.

This is how every tier is generated: `generate_tier(plan, exclude, map_fn)` gives the same items
whether `map_fn` is the builtin map or a Prefect task runner's (thread, Dask, Ray).

Round one covers the chunks a key should need (with 10% slack for duplicates). A key that comes up
short (a small level, or items taken by a neighbouring level) gets top-up rounds of further chunks,
up to a bound per key. Where every key fits one chunk (up to ~5,900 train or ~1,480 eval items) and
that chunk holds enough fresh items (no spent level, no overlap with an earlier key's items), the
result equals calling `generate_items` key by key with the tier seed.
`generate_tier` runs every round through any `map`-like function: the builtin `map`, a
process pool's map, or a Prefect task's `.map` on a thread, Dask or Ray task runner.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from curriculum.generate import MAX_CHUNKS, generate_chunk
from curriculum.items import EVAL_PERMILLE, ITEM_COLUMNS, ITEM_SCHEMA, empty_items
from curriculum.plan import TierPlan
from curriculum.seeds import chunk_seed, generation_seed
from curriculum.skills import get_skill
from curriculum.skills.base import check_level

MAX_ITEMS_PER_SHARD = 50_000
CHUNK_CAP = 8_192  # raw candidates per chunk at most: large keys become many chunks, hence many shards
SLACK = 1.1  # candidates drawn per item wanted, for in-stream duplicates (the factor generate_items uses)
IDLE_CHUNKS = 3  # chunks in a row with nothing new that mark a level as spent (as in generate_items)
CHUNK_COL = "_chunk"  # private column of shard frames: the chunk a row came from

Key = tuple[str, int, str]
MapFn = Callable[[Callable[["Shard"], pl.DataFrame], Iterable["Shard"]], Iterable[pl.DataFrame]]


@dataclass(frozen=True)
class Shard:
    """Chunks [first_chunk, first_chunk + chunks) of one (skill, level, split) stream of a tier."""

    skill: str
    level: int
    split: str
    count: int  # planned items this shard is expected to supply; round-one shards of a key sum to its count
    seed: int  # the tier's generation seed; chunk c draws from chunk_seed(seed, skill, level, c)
    index: int  # position in the tier's shard order (plan order, then chunk order; top-ups come last)
    first_chunk: int = 0
    chunks: int = 1
    chunk_size: int = 16  # raw candidates per chunk, before the split filter

    @property
    def key(self) -> Key:
        return (self.skill, self.level, self.split)

    @property
    def chunk_seeds(self) -> tuple[int, ...]:
        """The RNG seed of each chunk: a hash of (seed, skill, level, chunk), never seed + i."""
        chunks = range(self.first_chunk, self.first_chunk + self.chunks)
        return tuple(chunk_seed(self.seed, self.skill, self.level, c) for c in chunks)


def tier_seed(plan: TierPlan) -> int:
    """The generation seed of a tier."""
    return generation_seed(plan.seed, plan.tier)


def _share(split: str) -> float:
    return (EVAL_PERMILLE if split == "eval" else 1000 - EVAL_PERMILLE) / 1000


@dataclass(frozen=True)
class _Stream:
    """How one planned (skill, level, split) is drawn: chunk size, chunks in round one, chunks at most."""

    key: Key
    count: int
    chunk_size: int
    per_chunk: float  # items a chunk is expected to yield, after the split filter and the slack
    first_round: int
    bound: int

    @classmethod
    def of(cls, key: Key, count: int) -> _Stream:
        share = _share(key[2])
        size = min(CHUNK_CAP, max(16, int(count / share * SLACK) + 8))  # = generate_items' first chunk
        per_chunk = size * share / SLACK
        first = math.ceil(count / per_chunk)
        return cls(key, count, size, per_chunk, first, max(MAX_CHUNKS, 2 * first))  # bound: at most this many

    def shards(self, seed: int, start: int, stop: int, index: int, max_items: int, planned: bool) -> list[Shard]:
        """Shards over chunks [start, stop), each at most the work of `max_items` training items."""
        step = max(1, -(-_work_budget(max_items) // self.chunk_size))  # may pass the budget by under a chunk
        parts = -(-(stop - start) // step)  # as few shards as the cap allows, of near-equal size
        bounds = [start + j * (stop - start) // parts for j in range(parts + 1)]
        out = []
        for a, b in zip(bounds, bounds[1:]):
            expected = min(self.count, int(b * self.per_chunk)) - min(self.count, int(a * self.per_chunk))
            count = expected if planned else 0
            out.append(Shard(*self.key, count, seed, index + len(out), a, b - a, self.chunk_size))
        return out


def _work_budget(max_items: int) -> int:
    """Raw candidates a shard may generate: what `max_items` training items take. Counting candidates,
    not items, keeps eval shards (which keep one candidate in five) as cheap as training shards."""
    return max(1, int(max_items / _share("train") * SLACK))


def _streams(plan: TierPlan) -> list[_Stream]:
    out = []
    for (skill, level, split), count in plan.counts().items():
        check_level(level, get_skill(skill))
        if count < 1:
            raise ValueError(f"n must be >= 1, got {count} for {skill} level {level} {split}")
        if split not in ("train", "eval"):
            raise ValueError(f"split must be train or eval, got {split!r}")
        out.append(_Stream.of((get_skill(skill).name, level, split), count))
    return out


def plan_shards(plan: TierPlan, max_items_per_shard: int = MAX_ITEMS_PER_SHARD) -> list[Shard]:
    """Round one of a tier: each (skill, level, split) of plan.counts() cut into shards of at most the
    work of about `max_items_per_shard` training items (a chunk is never cut). The shard size changes
    how work is split, never the tier."""
    if max_items_per_shard < 1:
        raise ValueError(f"max_items_per_shard must be >= 1, got {max_items_per_shard}")
    shards: list[Shard] = []
    for stream in _streams(plan):
        shards += stream.shards(tier_seed(plan), 0, stream.first_round, len(shards), max_items_per_shard, True)
    return shards


def generate_shard(shard: Shard) -> pl.DataFrame:
    """The shard's candidates in chunk order (deduplicated within the shard), with a `_chunk` column.

    Pure and self-contained: any process or machine with this package gives the same frame.
    """
    frames = [
        generate_chunk(shard.skill, shard.level, shard.chunk_size, shard.seed, c)
        .filter(pl.col("split") == shard.split)
        .with_columns(pl.lit(c, pl.Int32).alias(CHUNK_COL))
        for c in range(shard.first_chunk, shard.first_chunk + shard.chunks)
    ]
    return pl.concat(frames).unique("item_id", keep="first", maintain_order=True)


def batch_shards(shards: Sequence[Shard], max_items_per_shard: int = MAX_ITEMS_PER_SHARD) -> list[list[Shard]]:
    """Consecutive shards packed into batches of about one full shard's work, for runners whose
    per-task overhead (~0.2-0.3 s on Dask here) would dwarf small shards: one task per batch."""
    budget, batches, work = _work_budget(max_items_per_shard) + CHUNK_CAP, [], 0
    for shard in shards:
        cost = shard.chunks * shard.chunk_size
        if not batches or work + cost > budget:
            batches.append([])
            work = 0
        batches[-1].append(shard)
        work += cost
    return batches


def generate_shards(batch: Sequence[Shard]) -> list[pl.DataFrame]:
    """generate_shard over a batch, in order."""
    return [generate_shard(shard) for shard in batch]


def _walk(cand: pl.DataFrame, count: int, generated: int, bound: int | None) -> tuple[int, bool]:
    """(last chunk used, whether the key needs more chunks) under generate_items' rule: stop when
    `count` fresh items are in, or three chunks in a row brought nothing new (the level is spent)."""
    per_chunk = dict(cand.filter(~pl.col("_excluded")).group_by(CHUNK_COL).len().iter_rows())
    have = idle = 0
    for c in range(generated):
        new = per_chunk.get(c, 0)
        have += new
        idle = idle + 1 if new == 0 else 0
        if have >= count or idle >= IDLE_CHUNKS:
            return c, False
    return generated - 1, bound is not None and generated < bound


def _select(
    frames: Iterable[pl.DataFrame], plan: TierPlan, exclude: Iterable[str], generated: dict[Key, int] | None = None
) -> tuple[pl.DataFrame, list[Key]]:
    """The tier from the chunks the frames hold, and the keys whose stream must go on to decide it.

    `generated`: chunks generated so far per key (so far as generate_tier knows); without it,
    every key counts as fully generated up to its last chunk present.
    """
    streams = _streams(plan)
    position = {s.key: i for i, s in enumerate(streams)}
    tagged = []
    for frame in frames:
        if frame.height:
            key = (frame["skill"][0], int(frame["level"][0]), frame["split"][0])
            tagged.append(frame.with_columns(pl.lit(position[key], pl.Int32).alias("_key")))
    if not tagged:
        tagged = [empty_items().with_columns(pl.lit(0, pl.Int32).alias(CHUNK_COL), pl.lit(0, pl.Int32).alias("_key"))]
    excluded = pl.Series("x", list(exclude), dtype=pl.String)
    candidates = (
        pl.concat(tagged, how="vertical_relaxed")
        .sort("_key", CHUNK_COL, maintain_order=True)  # rows of one (key, chunk) all come from one frame
        .with_columns(pl.col("item_id").is_in(excluded.implode()).alias("_excluded"))
    )
    by_key = candidates.partition_by("_key", as_dict=True, maintain_order=True)
    taken: dict[str, list[pl.Series]] = {}  # per skill: ids chosen by earlier keys (ids embed the skill)
    chosen, more = [], []
    for i, stream in enumerate(streams):
        cand = by_key.get((i,), candidates.clear())
        if generated is None:
            done, bound = (int(cand[CHUNK_COL].max()) + 1 if cand.height else 0), None
        else:
            done, bound = generated.get(stream.key, 0), stream.bound
        cand = cand.unique("item_id", keep="first", maintain_order=True)
        earlier = taken.get(stream.key[0])
        if earlier:
            cand = cand.filter(~pl.col("item_id").is_in(pl.concat(earlier).implode()))
        last, needs_more = _walk(cand, stream.count, done, bound)
        if needs_more:
            more.append(stream.key)
        cand = cand.filter(pl.col(CHUNK_COL) <= last)
        pick = cand.filter(~pl.col("_excluded")).head(stream.count)
        if pick.height < stream.count:  # a spent level: re-probe items seen in earlier tiers
            pick = pl.concat([pick, cand.filter(pl.col("_excluded")).head(stream.count - pick.height)])
        taken.setdefault(stream.key[0], []).append(pick["item_id"])
        chosen.append(pick)
    if not chosen:
        return empty_items(), more
    return pl.concat(chosen).select(ITEM_COLUMNS).cast(ITEM_SCHEMA), more


def combine_shards(
    frames: Iterable[pl.DataFrame], plan: TierPlan, exclude: Iterable[str] = frozenset()
) -> pl.DataFrame:
    """The tier from shard frames given in any order: plan order, chunk order, first occurrence wins.

    Items in `exclude` (seen in earlier tiers) are used only where a key's stream has too few fresh
    ones. Exclusion happens here, not in the shards, so no id set travels to the workers. On the
    frames of `plan_shards` alone this is the tier unless a key needed a top-up round (a level with
    too few distinct items); `generate_tier` runs those rounds.
    """
    return _select(frames, plan, exclude)[0]


def _top_up_shards(
    plan: TierPlan, generated: dict[Key, int], first_index: int, max_items_per_shard: int = MAX_ITEMS_PER_SHARD
) -> list[Shard]:
    """The next chunks of each key in `generated` (chunks done so far): half as many again, at least 3,
    never past the key's bound."""
    shards: list[Shard] = []
    for stream in _streams(plan):
        done = generated.get(stream.key)
        if done is not None and done < stream.bound:
            stop = min(stream.bound, done + max(IDLE_CHUNKS, done // 2))
            shards += stream.shards(tier_seed(plan), done, stop, first_index + len(shards), max_items_per_shard, False)
    return shards


def generate_tier(
    plan: TierPlan,
    exclude: Iterable[str] = frozenset(),
    map_fn: MapFn = map,
    max_items_per_shard: int = MAX_ITEMS_PER_SHARD,
) -> pl.DataFrame:
    """All items of a tier: shards through `map_fn(generate_shard, shards)` (builtin map, a pool's map,
    a Prefect task's .map), then top-up rounds for keys whose stream must go on. A function of
    (plan, exclude) only: not of max_items_per_shard, map_fn, order of completion or machine."""
    exclude = frozenset(exclude)
    shards = plan_shards(plan, max_items_per_shard)
    frames = list(map_fn(generate_shard, shards))
    generated = {s.key: s.first_chunk + s.chunks for s in shards}
    while True:
        tier, more = _select(frames, plan, exclude, generated)
        extra = _top_up_shards(plan, {k: generated[k] for k in more}, len(shards), max_items_per_shard)
        if not extra:
            return tier
        for s in extra:
            generated[s.key] = max(generated[s.key], s.first_chunk + s.chunks)
        shards += extra
        frames += list(map_fn(generate_shard, extra))
