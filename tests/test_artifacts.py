"""What the Prefect UI shows, as plain data: keys Prefect accepts, flat tables, validation markdown."""

from __future__ import annotations

import json
import re

import polars as pl

from curriculum.artifacts import key, level_table, validation_markdown
from curriculum.controllers.base import DECISION_SCHEMA
from curriculum.validation import RESULT_SCHEMA, ValidationReport


def test_keys_are_what_prefect_accepts():
    for run_id in ("20261203-095625-48e552", "My Run_1", "x' OR 1=1 --"):
        k = key(run_id, "levels")
        assert re.fullmatch(r"[a-z0-9-]+", k) and k.startswith("curriculum-") and k.endswith("-levels")


def test_the_level_table_is_flat():
    evidence = json.dumps({"accuracy_by_level": {"2": 0.95, "3": 0.72, "4": 0.1}})
    decisions = pl.DataFrame(
        [
            {
                "skill": "comparison",
                "level_before": 3,
                "level_after": 4,
                "action": "promote",
                "rule": "r",
                "accuracy": 0.72,
                "n_eval": 60,
                "evidence": evidence,
                "reason": "moves up",
            }
        ],
        schema=DECISION_SCHEMA,
    )
    [row] = level_table(decisions)
    assert row == {
        "skill": "comparison",
        "level": 3,
        "accuracy": 0.72,
        "n_eval": 60,
        "accuracy_below": 0.95,
        "accuracy_above": 0.1,
        "action": "promote",
        "next_level": 4,
    }


def report(success: bool) -> ValidationReport:
    rows = [
        {
            "suite": "tier",
            "expectation": "expect_table_row_count_to_be_between",
            "column": None,
            "success": True,
            "unexpected_count": None,
            "element_count": 120,
            "details": json.dumps({"observed_value": "120"}),
        },
        {
            "suite": "tier",
            "expectation": "expect_column_values_to_be_in_set",
            "column": "check_gold_verified",
            "success": success,
            "unexpected_count": 0 if success else 7,
            "element_count": 120,
            "details": json.dumps({"examples": [] if success else ["ab12: '3 + 4 =' -> '8'"]}),
        },
    ]
    return ValidationReport("tier", success, pl.DataFrame(rows, schema=RESULT_SCHEMA))


def test_validation_markdown_lists_every_expectation_and_says_what_comes_next(tmp_path):
    passed = validation_markdown(report(True), 2, 1, 3, tmp_path / "docs" / "index.html")
    assert "validation **passed**" in passed and "2 of 2 expectations passed" in passed
    assert "| expect_table_row_count_to_be_between |  | pass | 120 |  | 120 |" in passed
    assert "Next: accepted" in passed and str(tmp_path / "docs" / "index.html") in passed
    retried = validation_markdown(report(False), 2, 1, 3, None)
    assert (
        "**FAILED**" in retried
        and "| check_gold_verified | **FAIL** | e.g. ab12: '3 + 4 =' -> '8' | 7 | 120 |" in retried
    )
    assert "regenerated with a new seed as attempt 2 of 3" in retried and "Data Docs" not in retried
    assert "rejected for the last time (3 attempts): the run stops here" in validation_markdown(
        report(False), 2, 3, 3, None
    )
