"""Tier generation: content ids, splits by content, deduplication, byte-identical output per seed."""

from __future__ import annotations

import io
import json

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.generate import generate_items
from curriculum.items import ITEM_SCHEMA, item_id, item_ids, split_of
from curriculum.seeds import chunk_seed
from curriculum.shards import generate_tier
from tests.conftest import SMALL_PLAN

PLAN = SMALL_PLAN


def test_item_id_ignores_whitespace_but_not_skill():
    assert item_id("addition", "1 + 2 =") == item_id("addition", " 1  +  2 = ")
    assert item_id("addition", "1 + 2 =") != item_id("subtraction", "1 + 2 =")


def test_split_is_a_function_of_content():
    items = generate_items("addition", 3, 500, seed=0)
    assert items["split"].to_list() == [split_of(i) for i in items["item_id"]]
    share = (items["split"] == "eval").mean()
    assert 0.1 < share < 0.3


def test_tier_matches_schema_and_is_deduplicated():
    tier = generate_tier(PLAN)
    assert dict(tier.schema) == ITEM_SCHEMA
    assert tier["item_id"].is_unique().all()
    counts = tier.group_by("skill", "level", "split").len()
    got = {(r["skill"], r["level"], r["split"]): r["len"] for r in counts.iter_rows(named=True)}
    assert got == {k: v for k, v in PLAN.counts().items()}


def test_train_and_eval_disjoint():
    tier = generate_tier(PLAN)
    train = set(tier.filter(pl.col("split") == "train")["item_id"])
    held = set(tier.filter(pl.col("split") == "eval")["item_id"])
    assert train and held and not train & held


def test_same_plan_gives_byte_identical_parquet():
    def parquet_bytes() -> bytes:
        buf = io.BytesIO()
        generate_tier(PLAN).write_parquet(buf)
        return buf.getvalue()

    assert parquet_bytes() == parquet_bytes()


def test_exhausted_level_returns_what_exists():
    items = generate_items("addition", 1, 10_000, seed=0)  # one-digit sums: 100 distinct questions
    assert items.height == 100
    assert items["item_id"].is_unique().all()


def test_exclude_prefers_fresh_items():
    first = generate_items("boolean_eval", 2, 50, seed=0)
    again = generate_items("boolean_eval", 2, 50, seed=0, exclude=set(first["item_id"]))
    assert again.height == 50
    assert not set(first["item_id"]) & set(again["item_id"])


def test_exclude_reuses_seen_items_when_the_level_is_spent():
    held = generate_items("boolean_eval", 1, 1000, seed=0, split="eval")  # level 1 has ~17 held-out items
    again = generate_items("boolean_eval", 1, 1000, seed=1, split="eval", exclude=set(held["item_id"]))
    assert again.height == held.height
    assert set(again["item_id"]) == set(held["item_id"])


def test_chunk_seeds_do_not_shift_with_the_seed():
    assert chunk_seed(1, "addition", 3, 1) != chunk_seed(2, "addition", 3, 0)
    assert len({chunk_seed(s, "addition", 3, c) for s in range(20) for c in range(20)}) == 400


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab1+ \t\n\x1c\x1f\xa0\u2003\u3000\x85"), max_size=12), max_size=6))
def test_vector_ids_equal_single_ids_whatever_the_whitespace(questions):
    assert item_ids("addition", questions) == [item_id("addition", q) for q in questions]


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from("abcd"),
            st.one_of(
                st.integers(-2, 2),
                st.floats(-2, 2, allow_nan=False),
                st.booleans(),
                st.text(max_size=2),
                st.lists(st.integers(), max_size=2),
            ),
            max_size=4,
        ),
        max_size=40,
    )
)
def test_params_json_is_json_dumps_per_item(params):
    from curriculum.generate import params_json

    assert params_json(params) == [json.dumps(p, sort_keys=True) for p in params]
    assert params_json([{"a": 1}, {"a": True}, {"a": 1.0}]) == ['{"a": 1}', '{"a": true}', '{"a": 1.0}']
