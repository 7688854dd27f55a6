"""The DuckDB catalogue and the Parquet tier files: every run, tier, item, validation, evaluation, decision.

The catalogue is opened for each write and closed straight after, so readers (the duckdb shell,
`curriculum inspect`) can open it between writes. Each write is one transaction; Parquet files are
written to a temp name and renamed, so a crash never leaves a half-written tier visible.
The file is written in a storage format that the PyPI `duckdb-cli` (1.4/1.5) still reads.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from curriculum.errors import CatalogueBusy, CatalogueDamaged, CatalogueVersionError, CurriculumError, DataDirError
from curriculum.lifecycle import TierStatus, accepted_sql, check_move

if TYPE_CHECKING:
    from curriculum.plan import TierPlan

CATALOGUE = "curriculum.duckdb"
# what DuckDB raises for a file it cannot read (not a SQL mistake): the catalogue is damaged
LOCKED = re.compile(r"Could not set lock|Conflicting lock", re.I)  # another process holds the file
DAMAGE = (duckdb.IOException, duckdb.InternalException, duckdb.SerializationException, duckdb.FatalException)
STORAGE_VERSION = "v1.4.0"  # readable by the duckdb CLI users install from PyPI
LOCK_WAIT_S = 60.0  # how long a write or read waits for another process to let go of the file
# DuckDB refuses a read-only and a read-write connection to one file at once within a process ("different
# configuration"), so the threads of a process (a reader beside the writer) take turns at the catalogue
_IN_PROCESS = threading.RLock()
INTERRUPT_RETRIES = 3  # a stop signal can interrupt DuckDB while the run records that it stopped

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY, name VARCHAR, seed BIGINT, learner VARCHAR,
            tiers_planned INTEGER, status VARCHAR, config JSON,
            started_at TIMESTAMP, finished_at TIMESTAMP, message VARCHAR);
        CREATE TABLE tiers (
            run_id VARCHAR, tier INTEGER, attempt INTEGER, seed BIGINT, status VARCHAR,
            plan JSON, items_path VARCHAR, n_items INTEGER, n_train INTEGER, n_eval INTEGER,
            train_stats JSON, created_at TIMESTAMP, updated_at TIMESTAMP,
            PRIMARY KEY (run_id, tier, attempt));
        CREATE TABLE items (
            run_id VARCHAR, tier INTEGER, attempt INTEGER,
            item_id VARCHAR, skill VARCHAR, domain VARCHAR, level INTEGER, question VARCHAR,
            answer VARCHAR, params JSON, source VARCHAR, split VARCHAR, seed BIGINT,
            generator_version VARCHAR);
        CREATE TABLE validations (
            run_id VARCHAR, tier INTEGER, attempt INTEGER, suite VARCHAR, expectation VARCHAR,
            "column" VARCHAR, success BOOLEAN, unexpected_count BIGINT, element_count BIGINT,
            details JSON, validated_at TIMESTAMP);
        CREATE TABLE evaluations (
            run_id VARCHAR, tier INTEGER, item_id VARCHAR, skill VARCHAR, domain VARCHAR,
            level INTEGER, source VARCHAR, question VARCHAR, answer VARCHAR, prediction VARCHAR,
            correct BOOLEAN, learner VARCHAR, evaluated_at TIMESTAMP);
        CREATE TABLE decisions (
            run_id VARCHAR, tier INTEGER, skill VARCHAR, level_before INTEGER, level_after INTEGER,
            action VARCHAR, rule VARCHAR, accuracy DOUBLE, n_eval INTEGER, evidence JSON,
            reason VARCHAR, decided_at TIMESTAMP);
        CREATE VIEW skill_accuracy AS
            SELECT run_id, tier, skill, level, count(*) AS n, avg(correct::INTEGER) AS accuracy
            FROM evaluations GROUP BY ALL;
        CREATE VIEW level_trajectory AS
            SELECT run_id, tier, skill, level_before, level_after, action, accuracy
            FROM decisions ORDER BY run_id, skill, tier;
        """,
    ),
    (
        "0002_evaluation_usage",
        """
        ALTER TABLE evaluations ADD COLUMN latency_ms DOUBLE;
        ALTER TABLE evaluations ADD COLUMN prompt_tokens BIGINT;
        ALTER TABLE evaluations ADD COLUMN completion_tokens BIGINT;
        ALTER TABLE evaluations ADD COLUMN error VARCHAR;
        """,
    ),
    (
        "0003_teacher",
        """
        CREATE TABLE teacher_outcomes (
            run_id VARCHAR, tier INTEGER, attempt INTEGER, task VARCHAR, outcome VARCHAR, count BIGINT,
            recorded_at TIMESTAMP);
        """,
    ),
    (
        "0004_strategy",
        """
        ALTER TABLE runs ADD COLUMN strategy VARCHAR;
        UPDATE runs SET strategy = CASE WHEN EXISTS (
            SELECT 1 FROM decisions d WHERE d.run_id = runs.run_id AND d.rule = 'frontier-search')
            THEN 'frontier-search' ELSE 'adaptive' END;
        CREATE VIEW search_rounds AS
            SELECT t.run_id, t.tier AS round, t.attempt, t.status, t.n_eval AS items, t.created_at
            FROM tiers t JOIN runs r USING (run_id) WHERE r.strategy = 'frontier-search';
        """,
    ),
    (
        "0005_rewards",
        """
        ALTER TABLE evaluations ADD COLUMN kind VARCHAR DEFAULT 'probe';
        UPDATE evaluations SET kind = 'probe';
        CREATE OR REPLACE VIEW skill_accuracy AS
            SELECT run_id, tier, skill, level, count(*) AS n, avg(correct::INTEGER) AS accuracy
            FROM evaluations WHERE kind = 'probe' GROUP BY ALL;
        CREATE VIEW skill_rewards AS
            SELECT run_id, tier, skill, level, count(*) AS n, avg(correct::INTEGER) AS mean_reward
            FROM evaluations WHERE kind = 'reward' GROUP BY ALL;
        """,
    ),
]


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM/SIGHUP until a catalogue call is over, then deliver them to whoever handles them.

    A signal raised inside DuckDB becomes its "Query interrupted" error, which hides the stop and can cut a
    transaction short; held until the call returns, it stops the run at a safe point instead. Only the main
    thread can swap handlers; elsewhere the call runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_run_id() -> str:
    """Sortable by start time, unique across machines: 20261125-221500-1a2b3c."""
    return run_id_at(datetime.now(UTC), uuid.uuid4().hex)


def run_id_at(when: datetime, unique: str) -> str:
    """A run id from a start time and a unique hex string (a UUID): the first six hex digits follow the time."""
    return f"{when.astimezone(UTC):%Y%m%d-%H%M%S}-{unique.replace('-', '')[:6]}"


class Store:
    """A data directory: `curriculum.duckdb` plus `runs/<run_id>/tier-NNN[-aK].parquet`."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / CATALOGUE

    # -- set-up -------------------------------------------------------------------------------
    def init(self) -> Store:
        """Create the directory and apply pending migrations; safe to repeat."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            probe = self.data_dir / f".write-test-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError as err:
            raise DataDirError(f"data dir {self.data_dir} is not writable: {err.strerror or err}") from None
        with self.connect() as con:
            con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
            done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
            unknown = sorted(done - {name for name, _ in MIGRATIONS})
            if unknown:
                raise CatalogueVersionError(
                    f"catalogue {self.path} was written by a newer version (migration {unknown[-1]}); upgrade curriculum"
                )
            for name, sql in MIGRATIONS:
                if name in done:
                    continue
                con.execute("BEGIN")
                con.execute(sql)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, now()])
                con.execute("COMMIT")
        return self

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection; closed on exit so other processes can open the file.

        DuckDB lets one process hold the file at a time: while another process (a run, a reader)
        holds it, wait and retry for up to LOCK_WAIT_S, then fail with one clear line. Stop signals are held
        from the opening of the file to its closing, so a stop never leaves a connection open behind it (one
        left open made the run's own "stopped" write fail).
        """
        # one thread: the catalogue's statements are small, and opening a file costs a DuckDB instance whose
        # thread pool is started and stopped each time (30 ms with one thread per core here, 22 with one)
        config: dict[str, Any] = {"threads": 1}
        if not read_only:
            config["storage_compatibility_version"] = STORAGE_VERSION
        deadline, delay = time.monotonic() + LOCK_WAIT_S, 0.02
        interrupted = 0
        with _IN_PROCESS:
            while True:
                with deferred_signals():
                    try:
                        con = duckdb.connect(str(self.path), read_only=read_only, config=config)
                    except duckdb.InterruptException:  # a stop signal met the opening of the file: not damage
                        interrupted += 1
                        if interrupted > INTERRUPT_RETRIES:
                            raise
                        continue
                    except duckdb.Error as err:
                        if not LOCKED.search(str(err)):
                            raise self.damaged(err) from None
                        con = None
                    if con is not None:
                        try:
                            yield con
                        except DAMAGE as err:
                            raise self.damaged(err) from None
                        finally:
                            con.close()
                        return
                # another process holds the file: wait outside the held region, so that Ctrl-C stops the wait
                if time.monotonic() > deadline:
                    raise CatalogueBusy(f"catalogue {self.path} is held by another process; try again later") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def damaged(self, err: BaseException) -> CurriculumError:
        """One line naming the damage, and what is still safe: the tier files beside it (a full disk is not
        damage: it says so)."""
        reason = " ".join(str(err).split()).removeprefix("IO Error: ")[:160]
        if re.search(r"No space left|disk is full|Disk full", reason, re.I):
            return DataDirError(
                f"cannot write {self.path}: the disk is full; free space, then `curriculum run --resume`"
            )
        tiers = len(list((self.data_dir / "runs").glob("*/tier-*.parquet"))) if (self.data_dir / "runs").is_dir() else 0
        return CatalogueDamaged(
            f"{self.path} is damaged: {reason}; the {tiers} tier file(s) under {self.data_dir / 'runs'} are intact: "
            f"`curriculum check --data-dir {self.data_dir} --rebuild` rebuilds the catalogue's items from them"
        )

    def query(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        with self.connect(read_only=True) as con:
            return con.sql(sql, params=list(params)).pl()

    # -- runs ---------------------------------------------------------------------------------
    def start_run(
        self, run_id: str, name: str, seed: int, learner: str, strategy: str, tiers: int, config: Mapping[str, Any]
    ) -> None:
        with self.connect() as con:
            con.execute(
                "INSERT INTO runs BY NAME SELECT ? AS run_id, ? AS name, ? AS seed, ? AS learner, ? AS strategy,"
                " ? AS tiers_planned, 'running' AS status, ? AS config, ? AS started_at",
                [run_id, name, seed, learner, strategy, tiers, json.dumps(config), now()],
            )

    def reopen_run(self, run_id: str) -> None:
        with self.connect() as con:
            con.execute(
                "UPDATE runs SET status = 'running', finished_at = NULL, message = NULL WHERE run_id = ?", [run_id]
            )

    def finish_run(self, run_id: str, status: str, message: str | None = None) -> None:
        """Record how a run ended. It is written while the run is being stopped, so a stop signal's interrupt of
        the statement is tried again rather than leaving the run `running`."""
        for attempt in range(INTERRUPT_RETRIES + 1):
            try:
                with self.connect() as con:
                    con.execute(
                        "UPDATE runs SET status = ?, finished_at = ?, message = ? WHERE run_id = ?",
                        [status, now(), message, run_id],
                    )
                return
            except duckdb.InterruptException:
                if attempt == INTERRUPT_RETRIES:
                    raise CatalogueBusy(
                        f"catalogue {self.path}: recording the end of run {run_id} was interrupted"
                    ) from None

    # -- tiers --------------------------------------------------------------------------------
    def tier_path(self, run_id: str, tier: int, attempt: int) -> Path:
        suffix = "" if attempt == 1 else f"-a{attempt}"
        return self.data_dir / "runs" / run_id / f"tier-{tier:03d}{suffix}.parquet"

    def write_plan(self, run_id: str, tier: int, attempt: int, plan: TierPlan) -> None:
        """Record a tier attempt and its plan (status planned): what generation and validation read back."""
        with self.connect() as con:
            con.execute("BEGIN")
            current = self._status(con, run_id, tier, attempt)
            check_move(current, TierStatus.PLANNED)
            con.execute("DELETE FROM tiers WHERE run_id = ? AND tier = ? AND attempt = ?", [run_id, tier, attempt])
            con.execute(
                "INSERT INTO tiers VALUES (?, ?, ?, ?, 'planned', ?, NULL, NULL, NULL, NULL, NULL, ?, ?)",
                [run_id, tier, attempt, plan.seed, plan.to_json(), now(), now()],
            )
            con.execute("COMMIT")

    def tier_plan(self, run_id: str, tier: int, attempt: int) -> TierPlan:
        """The stored plan of a tier attempt (never recomputed: a resume under newer code reads the same plan)."""
        from curriculum.plan import TierPlan

        rows = self.query(
            "SELECT plan FROM tiers WHERE run_id = ? AND tier = ? AND attempt = ?", [run_id, tier, attempt]
        )
        if rows.height == 0 or rows["plan"][0] is None:
            raise LookupError(f"run {run_id} has no plan for tier {tier} attempt {attempt}")
        return TierPlan.from_json(rows["plan"][0])

    def write_tier(self, run_id: str, tier: int, attempt: int, items: pl.DataFrame) -> Path:
        """Parquet (temp + rename) and catalogue rows (one transaction): all of the tier's items or none."""
        path = self.tier_path(run_id, tier, attempt)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        try:
            items.write_parquet(tmp)
            os.replace(tmp, path)
        except Exception as err:  # a full disk, a read-only data dir: no half-written file stays behind
            tmp.unlink(missing_ok=True)
            from curriculum.files import io_reason

            failed = io_reason(err)
            if failed is None:
                raise
            raise DataDirError(
                f"cannot write {path}: {failed[0]}; free space, then `curriculum run --resume`"
            ) from None
        counts = items["split"].value_counts()
        n = dict(zip(counts["split"].to_list(), counts["count"].to_list()))
        rows = items.select(  # noqa: F841 (read by DuckDB's replacement scan below)
            pl.lit(run_id).alias("run_id"), pl.lit(tier).alias("tier"), pl.lit(attempt).alias("attempt"), pl.all()
        )
        with self.connect() as con:
            con.execute("BEGIN")
            check_move(self._status(con, run_id, tier, attempt), TierStatus.GENERATED)
            con.execute("DELETE FROM items WHERE run_id = ? AND tier = ? AND attempt = ?", [run_id, tier, attempt])
            con.execute("INSERT INTO items SELECT * FROM rows")
            con.execute(
                "UPDATE tiers SET status = 'generated', items_path = ?, n_items = ?, n_train = ?, n_eval = ?,"
                " updated_at = ? WHERE run_id = ? AND tier = ? AND attempt = ?",
                [str(path), items.height, n.get("train", 0), n.get("eval", 0), now(), run_id, tier, attempt],
            )
            con.execute("COMMIT")
        return path

    @staticmethod
    def _status(con: duckdb.DuckDBPyConnection, run_id: str, tier: int, attempt: int) -> TierStatus:
        row = con.execute(
            "SELECT status FROM tiers WHERE run_id = ? AND tier = ? AND attempt = ?", [run_id, tier, attempt]
        ).fetchone()
        return TierStatus.NEW if row is None else TierStatus(row[0])

    def set_tier_status(
        self, run_id: str, tier: int, attempt: int, status: TierStatus, train_stats: Mapping | None = None
    ) -> None:
        """Move a tier attempt on in its lifecycle (curriculum.lifecycle); any other move is refused."""
        with self.connect() as con:
            con.execute("BEGIN")
            check_move(self._status(con, run_id, tier, attempt), TierStatus(status))
            con.execute(
                "UPDATE tiers SET status = ?, updated_at = ?, train_stats = coalesce(?, train_stats)"
                " WHERE run_id = ? AND tier = ? AND attempt = ?",
                [
                    str(status),
                    now(),
                    json.dumps(train_stats) if train_stats is not None else None,
                    run_id,
                    tier,
                    attempt,
                ],
            )
            con.execute("COMMIT")

    def tier_status(self, run_id: str, tier: int) -> tuple[int, TierStatus]:
        """(latest attempt, its status) of a tier; (1, new) when nothing of it was written yet."""
        rows = self.query(
            "SELECT attempt, status FROM tiers WHERE run_id = ? AND tier = ? ORDER BY attempt DESC LIMIT 1",
            [run_id, tier],
        )
        return (1, TierStatus.NEW) if rows.height == 0 else (rows["attempt"][0], TierStatus(rows["status"][0]))

    def tier_items(self, run_id: str, tier: int, attempt: int) -> pl.DataFrame:
        return pl.read_parquet(self.tier_path(run_id, tier, attempt))

    def accepted_items(self, run_id: str, before_tier: int) -> pl.DataFrame:
        """Items of every validated tier before `before_tier`: the replay pool and the leakage reference."""
        from curriculum.items import ITEM_COLUMNS

        cols = ", ".join(f"i.{c}" for c in ITEM_COLUMNS)
        return self.query(
            f"SELECT {cols} FROM items i JOIN tiers t USING (run_id, tier, attempt)"
            f" WHERE i.run_id = ? AND i.tier < ? AND t.status IN {accepted_sql()}"
            " ORDER BY i.tier, i.item_id",
            [run_id, before_tier],
        )

    # -- results ------------------------------------------------------------------------------
    def _insert(self, table: str, frame: pl.DataFrame, replace_where: tuple[str, list[Any]] | None = None) -> None:
        with self.connect() as con:
            con.execute("BEGIN")
            if replace_where:
                con.execute(f"DELETE FROM {table} WHERE {replace_where[0]}", replace_where[1])
            if frame.height:
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")
            con.execute("COMMIT")

    def write_validations(self, run_id: str, tier: int, attempt: int, frame: pl.DataFrame) -> None:
        rows = frame.select(
            pl.lit(run_id).alias("run_id"),
            pl.lit(tier).alias("tier"),
            pl.lit(attempt).alias("attempt"),
            pl.all(),
            pl.lit(now()).alias("validated_at"),
        )
        self._insert("validations", rows, ("run_id = ? AND tier = ? AND attempt = ?", [run_id, tier, attempt]))

    def write_evaluations(self, run_id: str, tier: int, frame: pl.DataFrame) -> None:
        """A tier's held-out probes, scored (a redo replaces them; rewards from a trainer stay)."""
        rows = frame.select(
            pl.lit(run_id).alias("run_id"), pl.lit(tier).alias("tier"), pl.all(), pl.lit(now()).alias("evaluated_at")
        )
        self._insert("evaluations", rows, ("run_id = ? AND tier = ? AND kind = 'probe'", [run_id, tier]))

    def append_rewards(self, run_id: str, frame: pl.DataFrame) -> None:
        """Rewards a trainer's completions earned, one row per completion (kind reward, with its own tier)."""
        rows = frame.select(
            pl.lit(run_id).alias("run_id"),
            pl.all(),
            pl.lit("reward").alias("kind"),
            pl.lit(now()).alias("evaluated_at"),
        )
        self._insert("evaluations", rows)

    def write_teacher_outcomes(self, run_id: str, tier: int, attempt: int, frame: pl.DataFrame) -> None:
        """Accepted and rejected teacher items of a tier attempt, by task and outcome (rejection reason)."""
        rows = frame.select(
            pl.lit(run_id).alias("run_id"),
            pl.lit(tier).alias("tier"),
            pl.lit(attempt).alias("attempt"),
            "task",
            "outcome",
            pl.col("count").cast(pl.Int64),
            pl.lit(now()).alias("recorded_at"),
        )
        self._insert("teacher_outcomes", rows, ("run_id = ? AND tier = ? AND attempt = ?", [run_id, tier, attempt]))

    def write_decisions(self, run_id: str, tier: int, frame: pl.DataFrame) -> None:
        rows = frame.select(
            pl.lit(run_id).alias("run_id"), pl.lit(tier).alias("tier"), pl.all(), pl.lit(now()).alias("decided_at")
        )
        self._insert("decisions", rows, ("run_id = ? AND tier = ?", [run_id, tier]))

    def latest_decisions(self, run_id: str) -> pl.DataFrame:
        """Each skill's latest decision row (the controller's state lives in `decisions`)."""
        return self.query(
            "SELECT * FROM decisions WHERE run_id = ? QUALIFY row_number() OVER (PARTITION BY skill ORDER BY tier DESC) = 1",
            [run_id],
        )

    def decisions(self, run_id: str) -> pl.DataFrame:
        return self.query("SELECT * FROM decisions WHERE run_id = ? ORDER BY tier, skill", [run_id])
