"""Real-data anchor: loading user files into the item schema, mixing them into tiers, one-line errors."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curriculum.anchor import load_anchor, mix_anchor, verify_exact
from curriculum.config import parse_config
from curriculum.errors import InputFileError
from curriculum.generate import generate_items
from curriculum.items import ITEM_SCHEMA, item_id, split_of
from tests.conftest import tiny_config_dict


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def real_rows(n: int) -> list[dict]:
    return [{"question": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(n)]


def test_jsonl_becomes_items_in_the_schema(tmp_path):
    path = write_jsonl(tmp_path / "real.jsonl", real_rows(50) + [{"question": "What is 3 + 3?", "answer": 6}])
    items = load_anchor(path)
    assert items.schema == pl.Schema(ITEM_SCHEMA)
    assert items.height == 50  # the repeated question is one item
    row = items.row(3, named=True)
    assert row["skill"] == "real" and row["domain"] == "maths" and row["level"] == 1 and row["source"] == "real"
    assert json.loads(row["params"]) == {"verification": "exact-match"}
    assert row["item_id"] == item_id("real", "What is 3 + 3?") and row["answer"] == "6"
    assert items["split"].to_list() == [split_of(i) for i in items["item_id"]]
    assert set(items["split"]) == {"train", "eval"}


def test_parquet_with_skill_and_domain_columns(tmp_path):
    path = tmp_path / "real.parquet"
    pl.DataFrame(
        {
            "question": ["Is p or not p true?", "2 * 21 ="],
            "answer": ["yes", "42"],
            "skill": ["tautology", None],
            "domain": ["logic", None],
        }
    ).write_parquet(path)
    items = load_anchor(path, domain="maths")
    assert items.select("skill", "domain").rows() == [("tautology", "logic"), ("real", "maths")]
    assert load_anchor(path, domain="logic", skill="mine")["skill"].to_list() == ["tautology", "mine"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.jsonl", None, "anchor file not found"),
        ("items.csv", "question,answer\n1,2\n", "unknown format '.csv'"),
        ("cols.jsonl", '{"prompt": "x", "answer": "1"}\n', "missing columns: question"),
        ("empty.jsonl", "\n", "no items in the file"),
        ("broken.jsonl", '{"question": "x", "answer": "1"}\n{"question": \n', "line 2 is not valid JSON"),
        ("blank.jsonl", '{"question": "x", "answer": "1"}\n{"question": " ", "answer": "2"}\n', "first at row 2"),
        ("domain.jsonl", '{"question": "x", "answer": "1", "domain": "poetry"}\n', "unknown domain 'poetry'"),
        ("bad.parquet", "not parquet", "not a Parquet file"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputFileError, match=message) as err:
        load_anchor(path)
    assert "\n" not in str(err.value)


def test_empty_parquet_is_an_error(tmp_path):
    path = tmp_path / "empty.parquet"
    pl.DataFrame({"question": [], "answer": []}, schema={"question": pl.String, "answer": pl.String}).write_parquet(
        path
    )
    with pytest.raises(InputFileError, match="no items"):
        load_anchor(path)


def test_mix_adds_anchor_items_at_the_ratio_per_split(tmp_path):
    anchor = load_anchor(write_jsonl(tmp_path / "real.jsonl", real_rows(400)))
    tier = generate_items("addition", 2, 200, seed=3)
    mixed = mix_anchor(tier, anchor, ratio=0.1, seed=0)
    real = mixed.filter(pl.col("source") == "real")
    n_train, n_eval = (tier.filter(pl.col("split") == s).height for s in ("train", "eval"))
    assert real.filter(pl.col("split") == "train").height == round(0.1 * n_train)
    assert real.filter(pl.col("split") == "eval").height == round(0.1 * n_eval)
    assert mixed.head(tier.height).equals(tier.cast(ITEM_SCHEMA)) and mixed["item_id"].n_unique() == mixed.height
    assert mix_anchor(tier, anchor, 0.1, seed=0).equals(mixed)  # same seed, same items
    assert not mix_anchor(tier, anchor, 0.1, seed=1).equals(mixed)
    assert mix_anchor(tier, anchor, 0.0, seed=0).height == tier.height


def test_mix_prefers_fresh_anchor_items_and_caps_at_what_exists(tmp_path):
    anchor = load_anchor(write_jsonl(tmp_path / "real.jsonl", real_rows(400)))
    tier = generate_items("addition", 3, 300, seed=1)
    first = mix_anchor(tier, anchor, 0.1, seed=0).filter(pl.col("source") == "real")
    second = mix_anchor(tier, anchor, 0.1, seed=0, exclude=set(first["item_id"])).filter(pl.col("source") == "real")
    assert second.height == first.height and not set(first["item_id"]) & set(second["item_id"])
    small = load_anchor(write_jsonl(tmp_path / "small.jsonl", real_rows(20)))
    everything = mix_anchor(tier, small, 1.0, seed=0).filter(pl.col("source") == "real")
    assert everything.height == small.height  # asked for more than the file holds: all of it, once


def test_exact_match_verification():
    item = {"answer": "Paris"}
    assert verify_exact(item, " paris. ") and not verify_exact(item, "Lyon")


def test_run_config_takes_an_optional_anchor(tmp_path):
    cfg = parse_config(tiny_config_dict(tmp_path, anchor={"path": "real.jsonl", "ratio": 0.2}))
    assert cfg.anchor is not None and cfg.anchor.ratio == 0.2 and cfg.anchor.domain == "maths"
    assert parse_config(tiny_config_dict(tmp_path)).anchor is None


def test_a_run_mixes_real_items_through_the_gate_and_reports_them_apart(tmp_path):
    from curriculum import runs, steps
    from curriculum.store import Store

    path = write_jsonl(tmp_path / "real.jsonl", real_rows(400))
    config = parse_config(tiny_config_dict(tmp_path / "data", tiers=1, anchor={"path": str(path), "ratio": 0.25}))
    run_id = runs.start_run(config)
    steps.plan_step(config, run_id, 1)
    steps.generate_step(config, run_id, 1)
    store = Store(config.data_dir)
    items = store.tier_items(run_id, 1, 1)
    real = items.filter(pl.col("source") == "real")
    generated = items.filter(pl.col("source") == "procedural")
    for split in ("train", "eval"):
        want = round(0.25 * generated.filter(pl.col("split") == split).height)
        assert real.filter(pl.col("split") == split).height == want > 0
    report = steps.validate_step(config, run_id, 1)
    assert report.success, report.describe_failures()  # real items pass the same gate
    scored = steps.evaluate_step(config, run_id, 1, 1)
    assert scored.filter(pl.col("source") == "real").height == real.filter(pl.col("split") == "eval").height
    decisions = steps.decide_step(config, run_id, 1, 1)
    assert set(decisions["skill"]) == {"addition", "boolean_eval"}  # real items never move a level
    by_source = store.query("SELECT source, count(*) n FROM evaluations GROUP BY source ORDER BY source")
    assert by_source["source"].to_list() == ["procedural", "real"]


def test_a_blank_real_label_is_caught_by_the_gate(tmp_path):
    from curriculum.validation import validate_items

    real = load_anchor(write_jsonl(tmp_path / "real.jsonl", real_rows(20)))
    assert validate_items(real).success
    broken = real.with_columns(
        pl.when(pl.col("question") == "What is 3 + 3?").then(pl.lit(" . ")).otherwise("answer").alias("answer")
    )
    report = validate_items(broken)
    assert not report.success and "check_gold_verified" in report.failures()["column"].to_list()
