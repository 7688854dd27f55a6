"""`curriculum check`: is the catalogue whole, and do the tier files agree with it? Rebuild it from them if not.

Damage (a truncated, zeroed or overwritten file, a corrupt block) is named in one line. The tier files under
`runs/<run_id>/` are the items themselves, written apart from the catalogue, so a lost catalogue's items come
back from them: `--rebuild` moves the damaged file aside and records every tier file's items again. Their
plans, validations, evaluations and decisions went with the catalogue: rebuilt tiers are `generated` (to be
validated again before anything trains on them) and rebuilt runs are `failed` with a note that says so.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from curriculum.errors import CatalogueDamaged
from curriculum.items import ITEM_COLUMNS
from curriculum.store import Store, now

TIER_FILE = re.compile(r"^tier-(\d{3,})(?:-a(\d+))?\.parquet$")
TABLES = ("runs", "tiers", "items", "validations", "evaluations", "decisions")


def check(data_dir: Path) -> list[str]:
    """Read every table through (damage shows as CatalogueDamaged) and compare the tiers with their files;
    returns one line per problem found (none: the catalogue is whole)."""
    store = Store(data_dir)
    if not store.path.exists():
        raise CatalogueDamaged(
            f"no catalogue at {store.path}; `curriculum check --data-dir {data_dir} --rebuild` "
            "rebuilds one from the tier files under runs/"
        )
    problems = []
    with store.connect(read_only=True) as con:
        for table in TABLES:
            con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {table} t").fetchall()  # reads every block
        tiers = con.execute(
            "SELECT run_id, tier, attempt, items_path, n_items FROM tiers WHERE n_items IS NOT NULL"
        ).fetchall()
        configs = con.execute("SELECT run_id, config FROM runs").fetchall()
    for run_id, tier, attempt, _, n in tiers:
        file = store.tier_path(
            run_id, tier, attempt
        )  # where it belongs in this data dir (the catalogue may have moved)
        if not file.is_file():
            problems.append(f"run {run_id} tier {tier} attempt {attempt}: tier file {file} is missing")
            continue
        try:
            rows = pl.scan_parquet(file).select(pl.len()).collect().item()
        except Exception:
            problems.append(f"run {run_id} tier {tier} attempt {attempt}: {file} is not a readable Parquet file")
            continue
        if rows != n:
            problems.append(f"run {run_id} tier {tier} attempt {attempt}: {file} holds {rows} items, the catalogue {n}")
    for run_id, config in configs:
        try:
            json.loads(config) if config is not None else None
        except (TypeError, ValueError):
            problems.append(f"run {run_id}: its stored config is not JSON")
    return problems


def rebuild(data_dir: Path) -> tuple[Path | None, int, int]:
    """Move a damaged catalogue aside and record the items of every tier file again: (the damaged file's new
    name, runs rebuilt, tier files read)."""
    store = Store(data_dir)
    moved = None
    if store.path.exists():
        moved = store.path.with_name(f"{store.path.name}.damaged-{datetime.now(UTC):%Y%m%d-%H%M%S}")
        store.path.rename(moved)
        wal = store.path.with_name(store.path.name + ".wal")
        if wal.exists():
            wal.rename(moved.with_name(moved.name + ".wal"))
    store.init()
    runs_dir, n_runs, n_files = Path(data_dir) / "runs", 0, 0
    for run in sorted(p for p in runs_dir.iterdir() if p.is_dir()) if runs_dir.is_dir() else []:
        files = sorted((int(m[1]), int(m[2] or 1), f) for f in run.iterdir() if (m := TIER_FILE.match(f.name)))
        if not files:
            continue
        n_runs += 1
        with store.connect() as con:
            con.execute(
                "INSERT INTO runs BY NAME SELECT ? AS run_id, 'failed' AS status, ? AS started_at, "
                "'rebuilt from the tier files: plans, results and the config were lost with the catalogue' AS message",
                [run.name, now()],
            )
        for tier, attempt, file in files:
            items = pl.read_parquet(file).select(ITEM_COLUMNS)
            with store.connect() as con:  # the plan is unknown: no plan, status planned until the items are in
                con.execute(
                    "INSERT INTO tiers BY NAME SELECT ? AS run_id, ? AS tier, ? AS attempt, 'planned' AS status,"
                    " ? AS created_at, ? AS updated_at",
                    [run.name, tier, attempt, now(), now()],
                )
            store.write_tier(run.name, tier, attempt, items)
            n_files += 1
    return moved, n_runs, n_files
