"""Read-only views of the catalogue for people: runs, tiers, level trajectories, accuracies."""

from __future__ import annotations

import polars as pl

from curriculum.errors import InputFileError
from curriculum.store import Store


def open_store(data_dir) -> Store:
    store = Store(data_dir)
    if not store.path.is_file():
        raise InputFileError(f"no catalogue at {store.path}; run `curriculum run --data-dir {data_dir}` first")
    return store


def resolve_run(store: Store, run_id: str | None) -> str:
    """The given run id (checked), or the latest run."""
    runs = store.query("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC")
    if runs.height == 0:
        raise InputFileError(f"no runs in {store.path}")
    if run_id is None:
        return runs["run_id"][0]
    if run_id not in set(runs["run_id"]):
        raise InputFileError(f"unknown run id {run_id!r} in {store.path}")
    return run_id


def runs_table(store: Store) -> pl.DataFrame:
    return store.query(
        "SELECT run_id, name, status, tiers_planned AS tiers, learner, strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started,"
        " round(epoch(finished_at - started_at)) AS seconds FROM runs ORDER BY started_at"
    )


def tiers_table(store: Store, run_id: str) -> pl.DataFrame:
    return store.query(
        "SELECT tier, attempt, status, n_items, n_train, n_eval,"
        " round((train_stats->>'final_loss')::DOUBLE, 4) AS train_loss"
        " FROM tiers WHERE run_id = ? ORDER BY tier, attempt",
        [run_id],
    )


def trajectory_table(store: Store, run_id: str) -> pl.DataFrame:
    """Per skill: the frontier level after each tier and the held-out accuracy at the frontier."""
    return store.query(
        "SELECT skill,"
        " string_agg(level_after::VARCHAR, ' -> ' ORDER BY tier) AS levels,"
        " string_agg(coalesce(round(accuracy, 2)::VARCHAR, '-'), ' | ' ORDER BY tier) AS frontier_accuracy"
        " FROM decisions WHERE run_id = ? GROUP BY skill ORDER BY skill",
        [run_id],
    )
