"""Crash and resume: a run killed with SIGKILL carries on with --resume, with no lost or duplicate rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import yaml

from curriculum.store import Store
from tests.conftest import tiny_config_dict
from tests.test_cli import ROOT, cli, one_line_error


def completed_tiers(db: Path) -> int:
    """Read while the run writes: the store waits out the writer's lock, so every read succeeds."""
    if not db.is_file():
        return 0
    try:
        return Store(db.parent).query("SELECT count(*) n FROM tiers WHERE status = 'complete'")["n"].item()
    except duckdb.CatalogException:
        return 0  # the run has not created its tables yet


def test_sigkill_then_resume_loses_and_duplicates_nothing(tmp_path):
    data = tmp_path / "data"
    cfg = tmp_path / "run.yaml"
    raw = tiny_config_dict(data, tiers=3)
    raw["learner"]["steps_per_tier"] = 40
    cfg.write_text(yaml.safe_dump(raw))
    env = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "curriculum.cli", "run", "--config", str(cfg)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline, reads = time.monotonic() + 240, 0
    try:
        while completed_tiers(data / "curriculum.duckdb") < 1:
            reads += 1
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no tier completed in time"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert reads > 5  # the reader polled the catalogue throughout the run without one failure
    store = Store(data)
    assert store.query("SELECT status FROM runs")["status"].item() == "running"
    assert completed_tiers(store.path) < 3

    resumed = subprocess.run(
        [sys.executable, "-m", "curriculum.cli", "run", "--resume", "--data-dir", str(data)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert store.query("SELECT status FROM runs")["status"].item() == "completed"
    tiers = store.query("SELECT tier, attempt, status FROM tiers ORDER BY tier")
    assert tiers["tier"].to_list() == [1, 2, 3] and set(tiers["status"]) == {"complete"}
    dupes = store.query(
        "SELECT (SELECT count(*) - count(DISTINCT (tier, attempt, item_id)) FROM items) AS items,"
        " (SELECT count(*) - count(DISTINCT (tier, item_id)) FROM evaluations) AS evaluations,"
        " (SELECT count(*) - count(DISTINCT (tier, skill)) FROM decisions) AS decisions"
    ).row(0, named=True)
    assert dupes == {"items": 0, "evaluations": 0, "decisions": 0}
    lost = store.query(
        "SELECT t.tier, t.n_items, count(i.item_id) AS stored FROM tiers t LEFT JOIN items i USING (run_id, tier, attempt)"
        " GROUP BY ALL HAVING t.n_items <> count(i.item_id)"
    )
    assert lost.height == 0
    assert store.query("SELECT count(*) n FROM decisions")["n"].item() == 3 * 2
    assert store.query("SELECT count(DISTINCT tier) n FROM evaluations")["n"].item() == 3


def test_resume_with_nothing_to_resume(tmp_path):
    assert "no catalogue" in one_line_error(cli("run", "--resume", "--data-dir", str(tmp_path)))
    Store(tmp_path).init()
    assert "nothing to resume" in one_line_error(cli("run", "--resume", "--data-dir", str(tmp_path)))
    assert "unknown run id 'r9'" in one_line_error(cli("run", "--resume", "r9", "--data-dir", str(tmp_path)))


def test_catalogue_from_a_newer_version_is_refused(tmp_path):
    store = Store(tmp_path).init()
    with store.connect() as con:
        con.execute("INSERT INTO schema_migrations VALUES ('9999_future', now())")
    assert "newer version" in one_line_error(cli("run", "--resume", "--data-dir", str(tmp_path)))
