"""The DuckDB catalogue: migrations, atomic tier writes, and a file the users' duckdb shell can open."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from curriculum.errors import DataDirError
from curriculum.generate import generate_items
from curriculum.lifecycle import LifecycleError
from curriculum.plan import TierPlan
from curriculum.store import MIGRATIONS, Store

TABLES = {"runs", "tiers", "items", "evaluations", "validations", "decisions"}


def test_init_creates_tables_and_is_repeatable(tmp_path):
    store = Store(tmp_path / "d").init()
    Store(tmp_path / "d").init()
    names = set(store.query("SELECT table_name FROM information_schema.tables")["table_name"])
    assert TABLES <= names
    assert store.query("SELECT count(*) AS n FROM schema_migrations")["n"].item() == len(MIGRATIONS)


def test_unwritable_data_dir_is_one_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DataDirError, match="not writable"):
        Store(blocker / "data").init()


def planned(store: Store, run_id: str, tier: int, attempt: int) -> Store:
    store.write_plan(run_id, tier, attempt, TierPlan(tier, attempt))
    return store


def test_write_tier_is_all_or_nothing_and_rewrites_cleanly(tmp_path):
    store = Store(tmp_path).init()
    store.start_run("r1", "t", 0, "local", "adaptive", 1, {})
    items = generate_items("addition", 2, 50, seed=0)
    path = planned(store, "r1", 1, 1).write_tier("r1", 1, 1, items)
    store.write_tier("r1", 1, 1, items)  # a redo replaces, never duplicates
    assert path.is_file() and not list(path.parent.glob("*.tmp"))
    assert pl.read_parquet(path).equals(items)
    assert store.query("SELECT count(*) AS n FROM items")["n"].item() == 50
    tier = store.query("SELECT * FROM tiers").row(0, named=True)
    assert (tier["n_items"], tier["status"]) == (50, "generated")


def test_failed_write_leaves_no_rows(tmp_path):
    store = planned(Store(tmp_path).init(), "r1", 1, 1)
    bad = generate_items("addition", 2, 5, seed=0).with_columns(pl.lit("x").alias("level"))  # not an integer
    with pytest.raises(duckdb.Error):
        store.write_tier("r1", 1, 1, bad)
    assert store.query("SELECT count(*) AS n FROM items")["n"].item() == 0
    assert store.query("SELECT status FROM tiers")["status"].to_list() == ["planned"]  # the plan stays


def test_accepted_items_skip_rejected_tiers(tmp_path):
    store = Store(tmp_path).init()
    planned(store, "r1", 1, 1).write_tier("r1", 1, 1, generate_items("addition", 2, 10, seed=0))
    store.set_tier_status("r1", 1, 1, "rejected")
    planned(store, "r1", 1, 2).write_tier("r1", 1, 2, generate_items("addition", 2, 7, seed=1))
    for status in ("validated", "trained", "evaluated", "complete"):
        store.set_tier_status("r1", 1, 2, status)
    assert store.accepted_items("r1", 2).height == 7
    assert store.accepted_items("r1", 1).height == 0


def test_the_lifecycle_refuses_skipped_and_backward_moves(tmp_path):
    store = planned(Store(tmp_path).init(), "r1", 1, 1)
    with pytest.raises(LifecycleError, match="from planned to validated"):
        store.set_tier_status("r1", 1, 1, "validated")  # nothing generated yet
    store.write_tier("r1", 1, 1, generate_items("addition", 2, 5, seed=0))
    store.set_tier_status("r1", 1, 1, "rejected")
    with pytest.raises(LifecycleError, match="from rejected to trained"):
        store.set_tier_status("r1", 1, 1, "trained")  # a rejected attempt is never trained on
    with pytest.raises(LifecycleError, match="from rejected to planned"):
        store.write_plan("r1", 1, 1, TierPlan(1, 0))  # a retry is a new attempt, not a rewrite
    assert store.tier_status("r1", 1) == (1, "rejected")


def test_a_stored_plan_reads_back_as_written(tmp_path):
    from tests.conftest import SMALL_PLAN

    store = Store(tmp_path).init()
    store.write_plan("r1", 1, 1, SMALL_PLAN)
    assert store.tier_plan("r1", 1, 1) == SMALL_PLAN
    with pytest.raises(LookupError, match="no plan for tier 2"):
        store.tier_plan("r1", 2, 1)


def duckdb_shell() -> str | None:
    local = Path(sys.executable).parent / "duckdb"
    return str(local) if local.exists() else shutil.which("duckdb")


@pytest.mark.skipif(duckdb_shell() is None, reason="duckdb-cli not installed")
def test_catalogue_opens_in_the_duckdb_shell(tmp_path):
    store = Store(tmp_path).init()
    store.start_run("r1", "t", 0, "local", "adaptive", 1, {"a": 1})
    out = subprocess.run(
        [duckdb_shell(), str(store.path), "-csv", "-c", "SELECT run_id, status FROM runs"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "r1,running" in out.stdout


def hold_file(path, seconds: float) -> subprocess.Popen:
    """Another process that opens the catalogue and holds it for `seconds` (it prints `held` once it has it)."""
    code = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(float(sys.argv[2])); c.close()"
    return subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)


def test_a_second_process_waits_for_the_lock(tmp_path):
    store = Store(tmp_path).init()
    holder = hold_file(store.path, 1.5)
    assert holder.stdout.readline().strip() == "held"
    store.start_run("r1", "t", 0, "local", "adaptive", 1, {})  # blocks until the holder lets go, then writes
    holder.wait(timeout=30)
    assert store.query("SELECT count(*) n FROM runs")["n"].item() == 1


def test_threads_of_one_process_read_and_write_at_once(tmp_path):
    """DuckDB refuses a read-only and a read-write connection to one file at the same time in one process: a
    reader thread (a progress report, a probe) and a writer (the run recording a stop) take turns instead."""
    import threading

    store = Store(tmp_path).init()
    store.start_run("r1", "t", 0, "local", "adaptive", 1, {})
    stop, errors = threading.Event(), []

    def read() -> None:
        while not stop.is_set():
            try:
                store.query("SELECT count(*) FROM runs")
            except Exception as err:  # noqa: BLE001 - any failure here is the bug
                errors.append(err)
                return

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for i in range(60):
            store.finish_run("r1", "failed", f"stop {i}")
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert errors == []
    assert store.query("SELECT message FROM runs")["message"].item() == "stop 59"


def test_a_stop_signal_interrupting_duckdb_does_not_leave_the_run_running(tmp_path, monkeypatch):
    """A stop signal can interrupt DuckDB while the run is opening the file or writing that it stopped: the
    write is tried again, so the run ends `failed` with its reason instead of `running` or "damaged"."""
    from curriculum import store as store_module

    store = Store(tmp_path).init()
    store.start_run("r1", "t", 0, "local", "adaptive", 1, {})
    real_connect, calls = duckdb.connect, []

    class Interrupting:  # the connection whose first statement a signal interrupts
        def __init__(self, con):
            self.con = con

        def execute(self, *args, **kwargs):
            if len(calls) == 2:
                calls.append("statement")
                raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
            return self.con.execute(*args, **kwargs)

        def close(self):
            self.con.close()

    def connect(*args, **kwargs):
        calls.append("open")
        if len(calls) == 1:
            raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
        return Interrupting(real_connect(*args, **kwargs))

    monkeypatch.setattr(store_module.duckdb, "connect", connect)
    store.finish_run("r1", "failed", "stopped by SIGTERM")
    monkeypatch.setattr(store_module.duckdb, "connect", real_connect)
    assert calls[:3] == ["open", "open", "statement"]
    row = store.query("SELECT status, message FROM runs").row(0, named=True)
    assert (row["status"], row["message"]) == ("failed", "stopped by SIGTERM")


def test_a_stop_during_the_opening_of_the_file_leaves_no_connection_open(tmp_path, monkeypatch):
    """Ctrl-C while DuckDB opens the file is held until the connection is closed again: a connection left open
    (kept alive by the KeyboardInterrupt's traceback) made the run's own "stopped" write fail as "damaged"."""
    import os
    import signal

    from curriculum import store as store_module

    store = Store(tmp_path).init()
    store.start_run("r1", "t", 0, "local", "adaptive", 1, {})
    real_connect = duckdb.connect

    def connect_then_ctrl_c(*args, **kwargs):
        con = real_connect(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the file is being opened
        return con

    monkeypatch.setattr(store_module.duckdb, "connect", connect_then_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job starts with it ignored
    try:
        with pytest.raises(KeyboardInterrupt) as stopped:  # the traceback stays alive, as in a flow's except block
            store.query("SELECT count(*) FROM runs")
    finally:
        signal.signal(signal.SIGINT, previous)
    monkeypatch.setattr(store_module.duckdb, "connect", real_connect)
    store.finish_run("r1", "failed", "interrupted (Ctrl-C)")  # a read-write open beside it would fail
    assert stopped.value is not None
    assert store.query("SELECT status FROM runs")["status"].item() == "failed"


def test_lock_held_too_long_is_one_clear_error(tmp_path, monkeypatch):
    from curriculum import store as store_module
    from curriculum.errors import CatalogueBusy

    store = Store(tmp_path).init()
    monkeypatch.setattr(store_module, "LOCK_WAIT_S", 0.3)
    holder = hold_file(store.path, 5)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CatalogueBusy, match="held by another process"):
            store.query("SELECT 1")
    finally:
        holder.kill()
        holder.wait()
