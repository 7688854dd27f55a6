"""Real-data anchor: a user's own items (question, answer, optional skill) mixed into every tier.

Generated tiers drift towards what the generators can write; a share of real items keeps training and
evaluation tied to the data that matters. Real items enter the item schema with source "real", level 1,
exact-match verification and the same content-hash split as generated items, so a real item is held out
or trained on in every run alike.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from curriculum.errors import InputFileError
from curriculum.items import DOMAINS, ITEM_SCHEMA, item_ids, split_of
from curriculum.skills.answers import clean

REAL_SOURCE = "real"
REAL_SKILL = "real"
REAL_PARAMS = json.dumps({"verification": "exact-match"})
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
REQUIRED = ("question", "answer")


def _read_jsonl(path: Path) -> pl.DataFrame:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise InputFileError(f"{path}: line {number} is not valid JSON") from None
            if not isinstance(row, dict):
                raise InputFileError(f"{path}: line {number} is not a JSON object")
            rows.append({k: v for k, v in row.items() if k in (*REQUIRED, "skill", "domain")})
    columns = sorted({k for r in rows for k in r})
    return pl.DataFrame(
        {c: [None if r.get(c) is None else str(r[c]) for r in rows] for c in columns},
        schema={c: pl.String for c in columns},
    )


def _read(path: Path) -> pl.DataFrame:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputFileError(f"{path}: unknown format {path.suffix or '(no suffix)'!r}; use .parquet or .jsonl")
    if not path.is_file():
        raise InputFileError(f"anchor file not found: {path}")
    if fmt == "jsonl":
        try:
            return _read_jsonl(path)
        except UnicodeDecodeError as err:
            raise InputFileError(f"{path}: not UTF-8 text (byte {err.start} of a line); save it as UTF-8") from None
        except OSError as err:
            raise InputFileError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return pl.read_parquet(path)
    except Exception:
        raise InputFileError(f"{path}: not a Parquet file") from None


def load_anchor(path: Path | str, domain: str = "maths", skill: str | None = None) -> pl.DataFrame:
    """Read a Parquet or JSONL file of real items into the item schema (one row per distinct question).

    `skill` and `domain` columns in the file win over the arguments; without either, the skill is "real".
    """
    path = Path(path)
    raw = _read(path)
    if raw.height == 0:
        raise InputFileError(f"{path}: no items in the file")
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise InputFileError(f"{path}: missing columns: {', '.join(missing)} (need question and answer)")
    text = lambda c: pl.col(c).cast(pl.String).str.strip_chars()  # noqa: E731
    frame = raw.select(
        text("question").alias("question"),
        text("answer").alias("answer"),
        (text("skill") if "skill" in raw.columns else pl.lit(None, pl.String))
        .fill_null(skill or REAL_SKILL)
        .replace("", skill or REAL_SKILL)
        .alias("skill"),
        (text("domain") if "domain" in raw.columns else pl.lit(None, pl.String)).fill_null(domain).alias("domain"),
    )
    blank = frame.with_row_index("row").filter(
        pl.col("question").fill_null("").eq("") | pl.col("answer").fill_null("").eq("")
    )
    if blank.height:
        raise InputFileError(
            f"{path}: {blank.height} item(s) without a question or answer (first at row {blank['row'][0] + 1})"
        )
    bad = sorted(set(frame["domain"].to_list()) - set(DOMAINS))
    if bad:
        raise InputFileError(f"{path}: unknown domain {bad[0]!r}; use one of {', '.join(DOMAINS)}")
    ids = [item_ids(s, [q])[0] for s, q in zip(frame["skill"].to_list(), frame["question"].to_list())]
    return (
        frame.with_columns(pl.Series("item_id", ids, dtype=pl.String))
        .select(
            "item_id",
            "skill",
            "domain",
            pl.lit(1, pl.Int32).alias("level"),
            "question",
            "answer",
            pl.lit(REAL_PARAMS).alias("params"),
            pl.lit(REAL_SOURCE).alias("source"),
            pl.Series("split", [split_of(i) for i in ids], dtype=pl.String),
            pl.lit(0, pl.Int64).alias("seed"),
            pl.lit(f"{REAL_SOURCE}:{path.name}").alias("generator_version"),
        )
        .unique("item_id", keep="first", maintain_order=True)
        .cast(ITEM_SCHEMA)
    )


def _sample(frame: pl.DataFrame, n: int, rng: np.random.Generator) -> pl.DataFrame:
    if n <= 0 or frame.height == 0:
        return frame.head(0)
    take = np.sort(rng.choice(frame.height, size=min(n, frame.height), replace=False))
    return frame[take.tolist()]


def mix_anchor(
    tier_items: pl.DataFrame,
    anchor_items: pl.DataFrame,
    ratio: float,
    seed: int,
    exclude: Collection[str] = (),
) -> pl.DataFrame:
    """The tier plus round(ratio * n) anchor items per split (n = the tier's items of that split).

    Train anchors come from the anchor's train split and held-out ones from its eval split, so the two
    never meet. Items in `exclude` (already used by earlier tiers) are taken only when fresh ones run out.
    """
    if not 0 <= ratio <= 1:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    rng = np.random.default_rng(seed)
    in_tier = set(tier_items["item_id"].to_list())
    pool = anchor_items.filter(~pl.col("item_id").is_in(list(in_tier)))
    used = pl.col("item_id").is_in(list(exclude))
    picked = [tier_items.cast(ITEM_SCHEMA)]
    for split in ("train", "eval"):
        want = round(ratio * tier_items.filter(pl.col("split") == split).height)
        part = pool.filter(pl.col("split") == split)
        fresh = _sample(part.filter(~used), want, rng)
        again = _sample(part.filter(used), want - fresh.height, rng)
        picked += [fresh.cast(ITEM_SCHEMA), again.cast(ITEM_SCHEMA)]
    return pl.concat(picked)


def verify_exact(item: Any, answer: str) -> bool:
    """Exact match up to case, surrounding whitespace and a trailing full stop: how real items are scored."""
    return clean(answer) == clean(item["answer"])
