"""Export items of a run (or one tier) as Parquet, JSONL, OpenAI chat fine-tuning JSONL, or trainer-ready
records for TRL (JSONL) and verl (Parquet).

Only items of accepted tier attempts are exported (never a quarantined tier). Training formats
(openai-chat, trl, verl) carry only training items unless held-out ones are asked for: `--split eval`
for an evaluation file, or `include_held_out` for both. JSONL files load with Hugging Face
`datasets.load_dataset("json", data_files=...)`; Parquet with `load_dataset("parquet", ...)` or pandas.

A trainer record: `prompt` (chat messages from a prompt template that states the answer format),
`question`, `answer`, `solution` (what TRL's own accuracy_reward reads), `data_source`
(`curriculum/<skill>`), `ability` (the domain), `reward_model: {style: rule, ground_truth}` and
`extra_info: {item_id, skill, level, tier, run_id, split, params}`, verl's schema. TRL records add the
columns `curriculum.rewards.trl_reward` reads (skill, level, item_id), a `completion` in the template's
answer format (SFTTrainer's prompt-completion rows) and `label` (OpenRLHF's --label_key).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from curriculum.errors import InputFileError
from curriculum.items import ITEM_COLUMNS
from curriculum.lifecycle import accepted_sql
from curriculum.prompts import PromptTemplate, load_template
from curriculum.report import open_store, resolve_run

FORMATS = ("parquet", "jsonl", "openai-chat", "trl", "verl")
TRAINING_FORMATS = ("openai-chat", "trl", "verl")  # held-out items stay out unless asked for
CHAT_SYSTEM = "Solve the problem. Give only the final answer."


def export_split(fmt: str, split: str | None, include_held_out: bool = False) -> str | None:
    """The split a format exports: training formats default to train; both splits only when asked."""
    if include_held_out:
        if split is not None:
            raise InputFileError("give either --split or --include-held-out, not both")
        return None
    return split if split is not None or fmt not in TRAINING_FORMATS else "train"


def select_items(data_dir: Path, run_id: str | None, tier: int | None, split: str | None) -> tuple[str, pl.DataFrame]:
    store = open_store(data_dir)
    run_id = resolve_run(store, run_id)
    where, params = ["i.run_id = ?", f"t.status IN {accepted_sql()}"], [run_id]
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
        raise InputFileError(
            f"nothing to export: {what} has no accepted items" + (f" in split {split}" if split else "")
        )
    return run_id, items


def chat_records(items: pl.DataFrame, system: str = CHAT_SYSTEM) -> list[dict]:
    return [
        {
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": q},
                {"role": "assistant", "content": a},
            ]
        }
        for q, a in zip(items["question"].to_list(), items["answer"].to_list())
    ]


def trainer_records(
    items: pl.DataFrame, run_id: str | None = None, template: PromptTemplate | None = None, trl: bool = True
) -> list[dict]:
    """One record per item (see the module docstring); `trl` adds TRL's and OpenRLHF's columns."""
    from curriculum.rewards import DATA_SOURCE_PREFIX, label_of

    template = template or load_template()
    tiers = items["tier"].to_list() if "tier" in items.columns else [None] * items.height
    out = []
    for row, tier in zip(items.select(ITEM_COLUMNS).iter_rows(named=True), tiers):
        skill, answer, level = row["skill"], row["answer"], row["level"]
        record = {
            "prompt": template.messages(row["question"]),
            "question": row["question"],
            "answer": answer,
            "solution": answer,
            "data_source": DATA_SOURCE_PREFIX + skill,
            "ability": row["domain"],
            "reward_model": {"style": "rule", "ground_truth": answer},
            "extra_info": {
                "item_id": row["item_id"],
                "skill": skill,
                "level": level,
                "tier": tier,
                "run_id": run_id,
                "split": row["split"],
                "params": row["params"],
            },
        }
        if trl:
            record |= {
                "skill": skill,
                "level": level,
                "item_id": row["item_id"],
                "completion": [{"role": "assistant", "content": template.completion(answer)}],
                "label": label_of(skill, answer, level, row["item_id"]),
            }
        out.append(record)
    return out


def verl_schema():
    """verl's Parquet schema, spelt out so every file has the same types whatever its rows."""
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema(
        [
            ("prompt", pa.list_(message)),
            ("question", pa.string()),
            ("answer", pa.string()),
            ("solution", pa.string()),
            ("data_source", pa.string()),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("item_id", pa.string()),
                        ("skill", pa.string()),
                        ("level", pa.int32()),
                        ("tier", pa.int32()),
                        ("run_id", pa.string()),
                        ("split", pa.string()),
                        ("params", pa.string()),
                    ]
                ),
            ),
        ]
    )


def write_export(
    items: pl.DataFrame, fmt: str, out: Path, run_id: str | None = None, template: PromptTemplate | None = None
) -> Path:
    """Write atomically (temp file + rename), only over a regular file."""
    from curriculum.files import atomic_write

    if fmt not in FORMATS:
        raise InputFileError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    with atomic_write(out) as tmp:
        if fmt == "parquet":
            items.write_parquet(tmp)
        elif fmt == "jsonl":
            items.write_ndjson(tmp)
        elif fmt == "verl":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist(trainer_records(items, run_id, template, trl=False), schema=verl_schema())
            pq.write_table(table, tmp)
        else:
            records = chat_records(items) if fmt == "openai-chat" else trainer_records(items, run_id, template)
            with tmp.open("w") as fh:
                for record in records:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out
