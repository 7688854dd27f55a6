"""A run from the outside: its pre-flight, its start or resume, and its summary.

One place for what the CLI and the Prefect flow both do around the tier loop, so a deployment run refuses a
bad config, a missing anchor, an unreachable endpoint or an unusable task runner with the same one-line
message as `curriculum run`, before anything is written, and both end with the same summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from curriculum.config import RunConfig, parse_config
from curriculum.errors import DataDirError, NothingToResume, RunLocked
from curriculum.store import Store


def preflight(config: RunConfig, *, secrets_loaded: bool = True) -> list[str]:
    """Every check a run must pass before anything is written; one CurriculumError line for the first that
    fails. Returns notes worth showing (what an endpoint answered). An endpoint whose key comes from a Prefect
    Secret block is checked only once the secrets are loaded (`secrets_loaded`): the flow does that itself."""
    check_data_dir(Path(config.data_dir))
    from curriculum.execution import check_runner

    execution = config.execution
    check_runner(execution.task_runner, execution.scheduler, execution.workers)
    from curriculum.learners import check_learner

    check_learner(config)  # e.g. a local model that is missing or cannot encode the items
    if config.anchor is not None:  # a missing or malformed anchor file fails now, in one line
        from curriculum.anchor import load_anchor

        load_anchor(config.anchor.path, config.anchor.domain)
    notes = []
    ready = lambda endpoint: secrets_loaded or not endpoint.api_key_secret  # noqa: E731
    if config.teacher is not None and ready(config.teacher.endpoint):  # must answer before anything is generated
        from curriculum.chat import ChatClient

        ChatClient(config.teacher.endpoint, config.seed).check_endpoint()
    if config.learner.kind == "openai" and ready(config.learner):
        from curriculum.learners import make_learner

        reply = make_learner(config.learner, None, config.seed).check_endpoint()
        notes.append(f"endpoint {reply['base_url']} answers as {reply['model']} ({reply['latency_ms']:.0f} ms)")
    return notes


def check_data_dir(data_dir: Path) -> None:
    """The data dir exists and takes a file, or its nearest existing parent would let it be made."""
    probe_dir = data_dir
    while not probe_dir.exists() and probe_dir != probe_dir.parent:
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir() or not os.access(probe_dir, os.W_OK | os.X_OK):
        raise DataDirError(f"data dir {data_dir} is not writable: {probe_dir} is not a writable directory")
    if probe_dir == data_dir:
        probe = data_dir / f".write-test-{os.getpid()}"
        try:
            probe.write_text("")
            probe.unlink()
        except OSError as err:
            raise DataDirError(f"data dir {data_dir} is not writable: {err.strerror or err}") from None


@contextlib.contextmanager
def run_lock(data_dir: Path | str, run_id: str) -> Iterator[None]:
    """Hold a run for this process: a second process running or resuming the same run is refused at once
    (the data would stay right, but every step would be done twice)."""
    import fcntl

    path = Path(data_dir) / "runs" / run_id / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise RunLocked(f"run {run_id} is being run by {holder}; wait for it to finish or stop it first") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def check_unlocked(data_dir: Path | str, run_id: str) -> None:
    """Refuse now (before a Prefect API starts) when another process holds the run."""
    if (Path(data_dir) / "runs" / run_id).is_dir():
        with run_lock(data_dir, run_id):
            pass


def start_run(config: RunConfig, run_id: str | None = None, learner: str | None = None) -> str:
    """Create the catalogue if needed and record the run with its full config; `learner` names who trains
    when it is not the config's learner (an external trainer: trl, verl)."""
    from curriculum.store import new_run_id

    store = Store(config.data_dir).init()
    run_id = run_id or new_run_id()
    store.start_run(
        run_id,
        config.name,
        config.seed,
        learner or config.learner.kind,
        config.controller,
        config.tiers,
        config.model_dump(mode="json"),
    )
    return run_id


def resumable_run(
    data_dir: Path,
    run_id: str | None = None,
    execution: dict[str, Any] | None = None,
    learner: dict[str, Any] | None = None,
) -> tuple[str, RunConfig]:
    """The run to resume (the latest unfinished one, or `run_id`) and its recorded config; `execution`
    replaces where its shards run (that never changes the items), `learner` updates learner fields for the
    rest of the run (e.g. a smaller batch_size after running out of memory; tiers already trained stay)."""
    from curriculum.report import open_store

    store = open_store(data_dir)
    store.init()  # refuses catalogues from an unknown (newer) version
    if run_id is None:
        rows = store.query(
            "SELECT run_id, config FROM runs WHERE status <> 'completed' ORDER BY started_at DESC LIMIT 1"
        )
        if rows.height == 0:
            raise NothingToResume(f"nothing to resume in {store.path}: every run there completed")
    else:
        rows = store.query("SELECT run_id, status, config FROM runs WHERE run_id = ?", [run_id])
        if rows.height == 0:
            raise NothingToResume(f"unknown run id {run_id!r} in {store.path}")
        if rows["status"][0] == "completed":
            raise NothingToResume(f"run {run_id} already completed")
    run_id = rows["run_id"][0]
    try:
        raw = json.loads(rows["config"][0])
    except (TypeError, ValueError):
        raw = None
    if not isinstance(raw, dict):
        raise NothingToResume(
            f"run {run_id} cannot be resumed: its stored config is missing or not JSON (see `curriculum check`)"
        )
    check_unlocked(data_dir, run_id)
    raw["data_dir"] = str(data_dir)  # the catalogue may have moved since the run started
    source = f"run {run_id}"
    if execution is not None:
        raw["execution"] = execution
        source = "--task-runner/--scheduler/--workers"
    if learner:
        raw["learner"] = {**raw.get("learner", {}), **learner}
        source = "/".join(f"--{k.replace('_', '-')}" for k in learner)
    config = parse_config(raw, source)
    return run_id, config


def reopen(config: RunConfig, run_id: str) -> None:
    Store(config.data_dir).reopen_run(run_id)


def search_run(config: RunConfig) -> bool:
    return config.controller == "frontier-search"


def tables(config: RunConfig, run_id: str) -> tuple[str, pl.DataFrame]:
    """The run's result table with its title: the frontier per skill for a frontier search, else each skill's
    level after each tier."""
    from curriculum.report import frontier_table, trajectory_table

    store = Store(config.data_dir)
    if search_run(config):
        title = f"Frontier per skill (highest level with held-out accuracy >= {config.frontier.threshold:g})"
        return title, frontier_table(store, run_id)
    return (
        "Level per skill at the start and after each tier; held-out accuracy at the level each tier trained",
        trajectory_table(store, run_id),
    )


def summary_text(config: RunConfig, run_id: str) -> str:
    """What `curriculum run` prints at the end: the result table and where to look next."""
    title, table = tables(config, run_id)
    data = Path(config.data_dir)
    home = f"PREFECT_HOME={os.environ['PREFECT_HOME']} " if os.environ.get("PREFECT_HOME") else ""
    with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, fmt_str_lengths=120):
        shown = str(table)
    return (
        f"\n{title}:\n{shown}\n"
        f"\nRun {run_id} finished.\n"
        f"  catalogue:  {data / 'curriculum.duckdb'}   (duckdb {data / 'curriculum.duckdb'})\n"
        f"  tier files: {data / 'runs' / run_id}/\n"
        f"  inspect:    curriculum inspect --data-dir {data} --run {run_id}\n"
        f"  data docs:  {data / 'docs' / 'index.html'}\n"
        f"  Prefect UI: {home}{Path(sys.executable).parent / 'prefect'} server start   (then open http://127.0.0.1:4200/runs)"
    )
