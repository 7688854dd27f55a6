"""Export items of a run (or one tier) as Parquet, JSONL or OpenAI chat fine-tuning JSONL.

Only items of accepted tier attempts are exported (never a quarantined tier). JSONL files load with
Hugging Face `datasets.load_dataset("json", data_files=...)`; Parquet with `load_dataset("parquet", ...)`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from curriculum.errors import InputFileError
from curriculum.items import ITEM_COLUMNS
from curriculum.report import open_store, resolve_run

FORMATS = ("parquet", "jsonl", "openai-chat")
CHAT_SYSTEM = "Solve the problem. Give only the final answer."


def select_items(data_dir: Path, run_id: str | None, tier: int | None, split: str | None) -> tuple[str, pl.DataFrame]:
    store = open_store(data_dir)
    run_id = resolve_run(store, run_id)
    where, params = ["i.run_id = ?", "t.status NOT IN ('generated', 'rejected')"], [run_id]
    if tier is not None:
        where.append("i.tier = ?")
        params.append(tier)
    if split is not None:
        where.append("i.split = ?")
        params.append(split)
    cols = ", ".join(f"i.{c}" for c in ITEM_COLUMNS)
    items = store.query(
        f"SELECT i.tier, {cols} FROM items i JOIN tiers t USING (run_id, tier, attempt)"
        f" WHERE {' AND '.join(where)} ORDER BY i.tier, i.skill, i.level, i.item_id",
        params,
    )
    if items.height == 0:
        what = f"tier {tier} of run {run_id}" if tier is not None else f"run {run_id}"
        raise InputFileError(f"nothing to export: {what} has no accepted items" + (f" in split {split}" if split else ""))
    return run_id, items


def chat_records(items: pl.DataFrame, system: str = CHAT_SYSTEM) -> list[dict]:
    return [
        {"messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": q},
            {"role": "assistant", "content": a},
        ]}
        for q, a in zip(items["question"].to_list(), items["answer"].to_list())
    ]


def write_export(items: pl.DataFrame, fmt: str, out: Path) -> Path:
    """Write atomically (temp file + rename)."""
    if fmt not in FORMATS:
        raise InputFileError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if not out.parent.exists():
        raise InputFileError(f"cannot write {out}: directory {out.parent} does not exist")
    tmp = out.with_name(out.name + ".tmp")
    if fmt == "parquet":
        items.write_parquet(tmp)
    elif fmt == "jsonl":
        items.write_ndjson(tmp)
    else:
        with tmp.open("w") as fh:
            for record in chat_records(items):
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    os.replace(tmp, out)
    return out
