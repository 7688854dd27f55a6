"""The GX gate: a clean tier passes; each kind of corruption is caught by the expectation meant for it."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curriculum.plan import PlanEntry, TierPlan
from curriculum.shards import generate_tier
from curriculum.validation import validate_items

PLAN = TierPlan(
    tier=1,
    seed=0,
    entries=(
        PlanEntry("addition", 3, "train", 80),
        PlanEntry("addition", 3, "eval", 20, "probe"),
        PlanEntry("boolean_eval", 2, "train", 60),
        PlanEntry("boolean_eval", 2, "eval", 20, "probe"),
    ),
)


@pytest.fixture(scope="module")
def clean() -> pl.DataFrame:
    return generate_tier(PLAN)


def failed(report) -> set[tuple[str, str | None]]:
    return {(r["expectation"], r["column"]) for r in report.failures().iter_rows(named=True)}


def first_rows(frame: pl.DataFrame, k: int = 3) -> pl.Expr:
    return pl.int_range(pl.len()) < k


def test_clean_tier_passes(clean):
    report = validate_items(clean, PLAN)
    assert report.success, report.describe_failures()
    assert report.results.height >= 15


CORRUPTIONS = {
    "wrong gold answer": (
        lambda f: f.with_columns(
            pl.when(first_rows(f)).then(pl.lit("12345")).otherwise(pl.col("answer")).alias("answer")
        ),
        ("expect_column_values_to_be_in_set", "check_gold_verified"),
    ),
    "duplicate item": (
        lambda f: pl.concat([f, f.head(2)]),
        ("expect_column_values_to_be_unique", "item_id"),
    ),
    "id not the content hash": (
        lambda f: f.with_columns(
            pl.when(first_rows(f)).then(pl.lit("0000000000000000")).otherwise(pl.col("item_id")).alias("item_id")
        ),
        ("expect_column_values_to_be_in_set", "check_id_matches_content"),
    ),
    "unknown skill": (
        lambda f: f.with_columns(
            pl.when(first_rows(f)).then(pl.lit("telepathy")).otherwise(pl.col("skill")).alias("skill")
        ),
        ("expect_column_values_to_be_in_set", "skill"),
    ),
    "level below one": (
        lambda f: f.with_columns(
            pl.when(first_rows(f)).then(0).otherwise(pl.col("level")).cast(pl.Int32).alias("level")
        ),
        ("expect_column_values_to_be_between", "level"),
    ),
    "empty question": (
        lambda f: f.with_columns(
            pl.when(first_rows(f)).then(pl.lit("")).otherwise(pl.col("question")).alias("question")
        ),
        ("expect_column_value_lengths_to_be_between", "question"),
    ),
    "null answer": (
        lambda f: f.with_columns(pl.when(first_rows(f)).then(None).otherwise(pl.col("answer")).alias("answer")),
        ("expect_column_values_to_not_be_null", "answer"),
    ),
    "eval item also trained on": (
        lambda f: pl.concat(
            [f, f.filter(pl.col("split") == "eval").head(1).with_columns(pl.lit("train").alias("split"))]
        ),
        ("expect_column_values_to_be_in_set", "check_leak_free"),
    ),
    "level the plan did not ask for": (
        lambda f: f.with_columns(
            pl.when(first_rows(f)).then(7).otherwise(pl.col("level")).cast(pl.Int32).alias("level")
        ),
        ("expect_column_values_to_be_in_set", "check_in_plan"),
    ),
    "bad split": (
        lambda f: f.with_columns(pl.when(first_rows(f)).then(pl.lit("test")).otherwise(pl.col("split")).alias("split")),
        ("expect_column_values_to_be_in_set", "split"),
    ),
    "bad source": (
        lambda f: f.with_columns(pl.lit("scraped").alias("source")),
        ("expect_column_values_to_match_regex", "source"),
    ),
    "wrong column type": (
        lambda f: f.with_columns(pl.col("seed").cast(pl.String)),
        ("expect_column_values_to_be_in_set", "check_schema"),
    ),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corruption_is_caught(clean, name):
    corrupt, expected = CORRUPTIONS[name]
    report = validate_items(corrupt(clean), PLAN)
    assert not report.success
    assert expected in failed(report), report.describe_failures()


def test_leak_against_earlier_tiers(clean):
    held = clean.filter(pl.col("split") == "eval")["item_id"].head(2).to_list()
    train_ids = clean.filter(pl.col("split") == "train")["item_id"].head(1).to_list()
    report = validate_items(clean, PLAN, earlier_eval=train_ids, earlier_train=held)
    assert ("expect_column_values_to_be_in_set", "check_leak_free") in failed(report)
    bad = report.results.filter(pl.col("column") == "check_leak_free").row(0, named=True)
    assert bad["unexpected_count"] == 3


def test_a_failed_column_expectation_shows_its_unexpected_values(clean):
    corrupt, _ = CORRUPTIONS["bad split"]
    report = validate_items(corrupt(clean), PLAN)
    bad = report.results.filter(pl.col("column") == "split").row(0, named=True)
    assert bad["unexpected_count"] == 3 and bad["element_count"] == clean.height
    assert json.loads(bad["details"])["examples"] == ["test", "test", "test"]


def test_failure_lines_name_the_expectation_and_show_rows(clean):
    corrupt, _ = CORRUPTIONS["wrong gold answer"]
    lines = validate_items(corrupt(clean), PLAN).describe_failures()
    assert any("check_gold_verified" in line and "3 unexpected" in line and "12345" in line for line in lines)


MORE_CORRUPTIONS = {
    "more items than planned": (
        lambda f: pl.concat(
            [
                f,
                f.filter(pl.col("skill") == "addition")
                .head(1)
                .with_columns(pl.lit("9 + 99999 =").alias("question"), pl.lit("100008").alias("answer")),
            ]
        ).pipe(
            lambda g: g.with_columns(
                pl.when(pl.col("question") == "9 + 99999 =")
                .then(pl.lit("ffffffffffffffff"))
                .otherwise(pl.col("item_id"))
                .alias("item_id")
            )
        ),
        ("expect_column_values_to_be_in_set", "check_count_ok"),
    ),
    "one answer dominates": (
        lambda f: f.with_columns(
            pl.when((pl.col("skill") == "boolean_eval") & (pl.col("split") == "train"))
            .then(pl.lit("True"))
            .otherwise(pl.col("answer"))
            .alias("answer")
        ),
        ("expect_column_values_to_be_in_set", "check_answer_balanced"),
    ),
    "near-duplicate questions": (
        lambda f: f.with_columns(
            pl.when(pl.int_range(pl.len()) % 10 == 0)
            .then(pl.lit("Is 7 PRIME?"))
            .otherwise(pl.col("question"))
            .alias("question")
        ),
        ("expect_column_values_to_be_in_set", "check_not_near_duplicate"),
    ),
    "model-written item without evidence": (
        lambda f: f.with_columns(
            pl.when(first_rows(f)).then(pl.lit("llm:teacher")).otherwise(pl.col("source")).alias("source")
        ),
        ("expect_column_values_to_be_in_set", "check_llm_evidence"),
    ),
    "truncated question": (
        lambda f: f.with_columns(
            pl.when((pl.col("skill") == "boolean_eval") & (pl.int_range(pl.len()).over("skill") == 0))
            .then(pl.lit("T?"))
            .otherwise(pl.col("question"))
            .alias("question")
        ),
        ("expect_column_values_to_be_in_set", "check_question_length"),
    ),
    "question too long": (
        lambda f: f.with_columns(
            pl.when(first_rows(f, 1))
            .then(pl.lit("1 + " * 6000 + "1 ="))
            .otherwise(pl.col("question"))
            .alias("question")
        ),
        ("expect_column_value_lengths_to_be_between", "question"),
    ),
}


@pytest.mark.parametrize("name", list(MORE_CORRUPTIONS))
def test_tier_level_corruption_is_caught(clean, name):
    corrupt, expected = MORE_CORRUPTIONS[name]
    report = validate_items(corrupt(clean), PLAN)
    assert not report.success
    assert expected in failed(report), report.describe_failures()


def test_a_few_near_duplicates_are_tolerated(clean):
    twin = clean.head(1).with_columns(
        pl.col("question").str.to_uppercase(), pl.lit("ffffffffffffffff").alias("item_id")
    )
    report = validate_items(pl.concat([clean, twin]))
    assert ("expect_column_values_to_be_in_set", "check_not_near_duplicate") not in failed(report)
