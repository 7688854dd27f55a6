"""Runs the checked-in Great Expectations suites (expectations/*.json) on a tier frame.

GX has no Polars support, so the frame goes to pandas once. Checks that need the skill registry,
the content hash, earlier tiers or the plan become computed `check_*` columns that plain built-in
expectations test. `great_expectations` is imported lazily: it costs seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from curriculum.errors import InputFileError
from curriculum.items import ITEM_COLUMNS, ITEM_SCHEMA, item_ids
from curriculum.plan import TierPlan
from curriculum.skills import REGISTRY
from curriculum.verify import MapFn, gold_checks_sliced

SUITES_DIR = Path(__file__).resolve().parent.parent / "expectations"
SUITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # a name, never a path
BALANCE_MIN_GROUP = 40  # answer balance is judged on (skill, level, split) groups at least this large
BALANCE_MAX_SHARE = 0.75  # ... where no single answer may take more than this share
LENGTH_MIN_GROUP = 20  # question lengths are judged on (skill, level) groups at least this large
LENGTH_FACTOR = 4  # ... where a question within [median / 4, median x 4] characters is in bounds
RESULT_SCHEMA = {
    "suite": pl.String,
    "expectation": pl.String,
    "column": pl.String,
    "success": pl.Boolean,
    "unexpected_count": pl.Int64,
    "element_count": pl.Int64,
    "details": pl.String,
}


@dataclass(frozen=True)
class ValidationReport:
    suite: str
    success: bool
    results: pl.DataFrame  # one row per expectation, RESULT_SCHEMA
    docs: Path | None = None  # Data Docs index, when built

    def failures(self) -> pl.DataFrame:
        return self.results.filter(~pl.col("success"))

    def describe_failures(self) -> list[str]:
        """One line per failed expectation: name, column, unexpected count, a few examples."""
        lines = []
        for r in self.failures().iter_rows(named=True):
            examples = json.loads(r["details"]).get("examples", [])
            shown = f"; e.g. {examples[:3]}" if examples else ""
            col = f"({r['column']})" if r["column"] else ""
            lines.append(f"{r['expectation']}{col}: {r['unexpected_count']} unexpected of {r['element_count']}{shown}")
        return lines


def load_suite(name: str) -> dict[str, Any]:
    """A checked-in suite by name (never a path): it must be valid JSON with at least one expectation, so an
    empty or foreign file can never pass a tier."""
    known = ", ".join(sorted(p.stem for p in SUITES_DIR.glob("*.json")))
    path = SUITES_DIR / f"{name}.json"
    if not SUITE_NAME.fullmatch(name) or not path.is_file():
        raise InputFileError(f"unknown suite {name[:80]!r}; known: {known} (suites are named, from {SUITES_DIR})")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise InputFileError(f"suite {name} ({path}) is not valid JSON: {str(err)[:120]}") from None
    expectations = raw.get("expectations") if isinstance(raw, dict) else None
    if not isinstance(expectations, list) or not expectations:
        raise InputFileError(f"suite {name} ({path}) has no expectations; a suite must check something")
    return raw


def _content_ids(skills: list[str | None], questions: list[str | None]) -> list[str | None]:
    """item_id recomputed from content, hashed per skill in batches (None where content is missing)."""
    rows_by_skill: dict[str, list[int]] = {}
    for i, (skill, question) in enumerate(zip(skills, questions)):
        if skill is not None and question is not None:
            rows_by_skill.setdefault(skill, []).append(i)
    out: list[str | None] = [None] * len(skills)
    for skill, rows in rows_by_skill.items():
        for i, h in zip(rows, item_ids(skill, [questions[i] for i in rows])):
            out[i] = h
    return out


def with_checks(
    items: pl.DataFrame,
    plan: TierPlan | None = None,
    earlier_train: Collection[str] = (),
    earlier_eval: Collection[str] = (),
    map_fn: MapFn = map,
) -> pl.DataFrame:
    """The frame plus the computed check_* columns the suite tests; `map_fn` runs the gold re-derivation
    (most of the cost) slice by slice, e.g. on a run's task runner."""
    has = set(items.columns)
    schema_ok = all(c in has and items.schema[c] == t for c, t in ITEM_SCHEMA.items())
    checks: dict[str, Any] = {"check_schema": pl.lit(schema_ok)}
    if {"skill", "question", "item_id"} <= has:
        expected = pl.Series(_content_ids(items["skill"].to_list(), items["question"].to_list()), dtype=pl.String)
        checks["check_id_matches_content"] = (pl.col("item_id") == expected).fill_null(False)
    if {"skill", "question", "answer", "params"} <= has:
        checks["check_gold_verified"] = pl.Series(gold_checks_sliced(items, map_fn), dtype=pl.Boolean)
    if {"item_id", "split"} <= has:
        ids, split = items["item_id"], items["split"]
        train = pl.concat([ids.filter(split == "train"), pl.Series(list(earlier_train), dtype=pl.String)])
        held = pl.concat([ids.filter(split == "eval"), pl.Series(list(earlier_eval), dtype=pl.String)])
        checks["check_leak_free"] = (
            pl.when(pl.col("split") == "eval")
            .then(~pl.col("item_id").is_in(train.implode()))
            .otherwise(~pl.col("item_id").is_in(held.implode()))
        ).fill_null(False)
    group = ["skill", "level", "split"]
    # a user's real items (the anchor) and teacher-written items are not in the plan: plan counts and
    # answer balance judge the procedural items; the others are judged by their own evidence
    generated = pl.col("source").fill_null("procedural").is_in(["procedural"]) if "source" in has else pl.lit(True)
    if {"skill", "question"} <= has:
        # a skill's own replay of the world its question describes (a story's holdings, say): generated items
        from curriculum.skills import consistency_checks

        possible = consistency_checks(items["skill"].to_list(), items["question"].to_list())
        checks["check_consistent"] = pl.lit(pl.Series(possible, dtype=pl.Boolean)) | ~generated
    if plan is not None and set(group) <= has:
        planned = pl.DataFrame(
            [{"skill": s, "level": lv, "split": sp, "planned": c} for (s, lv, sp), c in plan.counts().items()],
            schema={"skill": pl.String, "level": items.schema["level"], "split": pl.String, "planned": pl.Int64},
        )
        got = items.select(*group, generated.alias("_gen")).with_row_index("_row")
        got = got.join(planned, on=group, how="left", nulls_equal=True)
        got = got.sort("_row").with_columns(pl.col("_gen").cast(pl.Int64).sum().over(group).alias("_count"))
        checks["check_in_plan"] = got["planned"].is_not_null() | ~generated
        # never more than planned; fewer only when a small level has run out of distinct items
        checks["check_count_ok"] = (got["_count"] <= got["planned"]).fill_null(False) | ~generated
    else:
        checks["check_in_plan"] = pl.lit(True)
        checks["check_count_ok"] = pl.lit(True)
    if set(group) | {"answer"} <= has:
        size, top = pl.len().over(group), pl.col("answer").count().over(group + ["answer"])
        balanced = (size < BALANCE_MIN_GROUP) | (top / size <= BALANCE_MAX_SHARE)
        checks["check_answer_balanced"] = balanced.fill_null(True) | ~generated
    if {"question", "skill", "level"} <= has:
        # per skill and level: no generated question under a quarter or over 4x the group's median length
        # (a truncated template, a runaway one); judged on groups of LENGTH_MIN_GROUP items or more
        length = pl.col("question").fill_null("").str.len_chars()
        median = pl.when(generated).then(length).median().over(["skill", "level"])
        size = generated.cast(pl.Int64).sum().over(["skill", "level"])
        in_bounds = (length * LENGTH_FACTOR >= median) & (length <= median * LENGTH_FACTOR)
        checks["check_question_length"] = (~generated | (size < LENGTH_MIN_GROUP) | in_bounds).fill_null(True)
    if "question" in has:
        # case, spacing and a trailing full stop or question mark do not make a question new
        norm = (
            pl.col("question").fill_null("").str.to_lowercase().str.replace_all(r"\s+", "").str.strip_chars_end(".?!")
        )
        checks["check_not_near_duplicate"] = norm.is_first_distinct()
    if {"source", "params"} <= has:
        llm = pl.col("source").fill_null("").str.starts_with("llm:")
        checks["check_llm_evidence"] = ~llm | pl.col("params").fill_null("").str.contains(
            '"verification"', literal=True
        )
    return items.with_columns(**{k: v for k, v in checks.items()})


@cache
def _gx_checkpoint(suite_name: str, docs_dir: str | None):
    """An ephemeral GX context with a pandas asset, the suite and a checkpoint; built once per process.

    With `docs_dir`, the checkpoint also (re)builds Data Docs there after each validation.
    """
    import logging

    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("great_expectations")]:
        logging.getLogger(name).setLevel(logging.WARNING)  # GX sets INFO on some of its own loggers
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    actions = []
    if docs_dir is not None:
        site = {
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
        }
        context.add_data_docs_site(site_name="curriculum", site_config=site)
        actions.append(UpdateDataDocsAction(name="data_docs", site_names=["curriculum"]))
    raw = load_suite(suite_name)
    suite = context.suites.add(
        gx.ExpectationSuite(name=raw["name"], expectations=raw["expectations"], meta=raw.get("meta", {}))
    )
    batch = (
        context.data_sources.add_pandas("tiers")
        .add_dataframe_asset("tier")
        .add_batch_definition_whole_dataframe("whole")
    )
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))
    return context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suite_name}-gate",
            validation_definitions=[definition],
            actions=actions,
            result_format={"result_format": "BASIC", "partial_unexpected_count": 5},  # SUMMARY: twice the time
        )
    )


def known_skills(frame: pl.DataFrame) -> list[str]:
    """The registry's skills, plus the labels a user's real items (source real) carry."""
    real: set[str] = set()
    if {"skill", "source"} <= set(frame.columns):
        real = set(frame.filter(pl.col("source") == "real")["skill"].drop_nulls().to_list())
    return sorted(set(REGISTRY) | real)


def run_suite(frame: pl.DataFrame, suite_name: str = "tier", docs_dir: Path | None = None) -> ValidationReport:
    """Run a suite on a frame that already carries its check_* columns."""
    checkpoint = _gx_checkpoint(suite_name, None if docs_dir is None else str(Path(docs_dir).resolve()))
    outcome = checkpoint.run(
        batch_parameters={"dataframe": frame.to_pandas()},
        expectation_parameters={"known_skills": known_skills(frame)},
    )
    result = next(iter(outcome.run_results.values()))
    rows = []
    for r in result.results:
        cfg, res = r.expectation_config, r.result or {}
        column = cfg.kwargs.get("column")
        if column and column.startswith("check_") and not r.success and column in frame.columns:
            bad = frame.filter(~pl.col(column).fill_null(False)).head(3)
            examples = [
                f"{i}: {q[:60]!r} -> {a[:30]!r}"
                for i, q, a in bad.select(
                    pl.col("item_id").fill_null(""), pl.col("question").fill_null(""), pl.col("answer").fill_null("")
                ).iter_rows()
            ]
        else:
            examples = [str(v) for v in (res.get("partial_unexpected_list") or [])][:5]
        details: dict[str, Any] = {"examples": examples}
        if r.exception_info and r.exception_info.get("raised_exception"):
            details["error"] = str(r.exception_info.get("exception_message"))[:300]
        if "observed_value" in res:
            details["observed_value"] = str(res["observed_value"])
        rows.append(
            {
                "suite": suite_name,
                "expectation": cfg.type,
                "column": column,
                "success": bool(r.success),
                "unexpected_count": res.get("unexpected_count"),
                "element_count": res.get("element_count", frame.height),
                "details": json.dumps(details),
            }
        )
    results = pl.DataFrame(rows, schema=RESULT_SCHEMA)
    docs = Path(docs_dir) / "index.html" if docs_dir is not None else None
    return ValidationReport(suite_name, bool(result.success), results, docs)


def validate_items(
    items: pl.DataFrame,
    plan: TierPlan | None = None,
    earlier_train: Collection[str] = (),
    earlier_eval: Collection[str] = (),
    suite: str = "tier",
    docs_dir: Path | None = None,
    map_fn: MapFn = map,
) -> ValidationReport:
    """Validate a tier: computed checks, then the GX suite. Never raises on bad data: it reports it."""
    return run_suite(with_checks(items, plan, earlier_train, earlier_eval, map_fn), suite, docs_dir)


def read_items(path: Path | str) -> pl.DataFrame:
    """Read a Parquet tier file, turning every way it can be wrong into one InputFileError line."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"file not found: {path}")
    try:
        frame = pl.read_parquet(path)
    except Exception:
        raise InputFileError(f"{path}: not a Parquet file") from None
    if frame.height == 0:
        raise InputFileError(f"{path}: no items in the file")
    missing = [c for c in ITEM_COLUMNS if c not in frame.columns]
    if missing:
        raise InputFileError(f"{path}: missing columns: {', '.join(missing)}")
    return frame
