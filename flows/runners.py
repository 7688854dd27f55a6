"""Prefect task runners by name: where a flow's submitted and mapped tasks (the generation shards) run.

    thread  ThreadPoolTaskRunner in the flow's process (the default; nothing to install)
    dask    prefect_dask.DaskTaskRunner: a local cluster of `workers` processes, or an existing
            scheduler at `address` (tcp://host:8786); needs `pip install 'curriculum[dask]'`
    ray     prefect_ray.RayTaskRunner: a local Ray, or an existing cluster at `address`
            (ray://host:10001); needs `pip install prefect-ray`

Only tasks that are submitted or mapped go to the runner; tasks called directly run in the flow's
process (so the catalogue, training and evaluation stay where the flow runs). `map_shards` maps
`generate_shards_task` over batches of a tier's shards on the runner of the calling flow. Every failure in
`make_task_runner` is one TaskRunnerError line that names the fix.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from curriculum.errors import ConfigError
from curriculum.shards import MAX_ITEMS_PER_SHARD, Shard, batch_shards, generate_shard, generate_shards

RUNNERS = ("thread", "dask", "ray")
DEFAULT_PORTS = {"dask": 8786, "ray": 10001}
CONNECT_TIMEOUT_S = 2.0


class TaskRunnerError(ConfigError):
    """A task runner that cannot be made: unknown name, missing extra, unreachable scheduler."""


def _host_port(kind: str, address: str) -> tuple[str, int] | None:
    """(host, port) of a scheduler address, or None for schemes without a TCP endpoint to probe."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls", "ray", "ws", "wss"):
        return None
    try:
        port = parts.port or DEFAULT_PORTS[kind]
    except ValueError:
        raise TaskRunnerError(f"scheduler address {address!r} has a bad port; expected e.g. tcp://HOST:8786") from None
    if not parts.hostname:
        raise TaskRunnerError(f"scheduler address {address!r} names no host; expected e.g. tcp://HOST:8786")
    return parts.hostname, port


def check_reachable(kind: str, address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """A short TCP connect to the scheduler, so a wrong address fails now, in one line, not at the first task."""
    target = _host_port(kind, address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        start = "dask scheduler" if kind == "dask" else "ray start --head"
        raise TaskRunnerError(
            f"no {kind} scheduler reachable at {address} ({reason}); start one (`{start}`) or fix --scheduler"
        ) from None


def make_task_runner(kind: str, address: str | None = None, workers: int | None = None):
    """A Prefect task runner by name; see the module docstring."""
    name = (kind or "").strip().lower()
    if name not in RUNNERS:
        raise TaskRunnerError(f"unknown task runner {kind!r}; known: {', '.join(RUNNERS)}")
    if workers is not None and workers < 1:
        raise TaskRunnerError(f"workers must be >= 1, got {workers}")
    if name == "thread":
        if address:
            raise TaskRunnerError("--scheduler needs --task-runner dask or ray; the thread runner has no scheduler")
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if address and workers is not None:
        raise TaskRunnerError(f"workers applies to a local cluster; the cluster at {address} brings its own workers")
    if name == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise TaskRunnerError("task runner 'dask' needs the dask extra: pip install 'curriculum[dask]'") from None
        if address:
            check_reachable("dask", address)
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": workers or os.cpu_count() or 1,
                "threads_per_worker": 1,  # generation is GIL-bound Python: processes, not threads
                "processes": True,
                "dashboard_address": ":0",  # any free port: no clash with another local cluster
            }
        )
    try:
        from prefect_ray import RayTaskRunner
    except ImportError:
        raise TaskRunnerError("task runner 'ray' needs prefect-ray: pip install prefect-ray") from None
    if address:
        check_reachable("ray", address)
        return RayTaskRunner(address=address)
    return RayTaskRunner(init_kwargs={"num_cpus": workers} if workers else None)


def _batch_run_name() -> str:
    from prefect.runtime import task_run

    batch = task_run.parameters["batch"]
    return f"shards-{batch[0].index}-to-{batch[-1].index}" if batch else "shards-none"


@task(cache_policy=NO_CACHE, persist_result=False, task_run_name=_batch_run_name)
def generate_shards_task(batch: list[Shard]) -> list[pl.DataFrame]:
    """A batch of shards of a tier: a pure function of the Shards, so any worker gives the same frames."""
    return generate_shards(batch)


def map_shards(
    fn: Callable[[Shard], pl.DataFrame], shards: Iterable[Shard], max_items_per_shard: int = MAX_ITEMS_PER_SHARD
) -> list[pl.DataFrame]:
    """`map_fn` for curriculum.shards.generate_tier_sharded: the shards packed into batches of about one
    full shard's work, one Prefect task per batch on the task runner of the calling flow (thread, Dask
    or Ray). Frames come back in shard order; only Shards travel to the workers, only frames back.
    With a non-default shard size, pass the same size: functools.partial(map_shards, max_items_per_shard=N)."""
    if fn is not generate_shard:
        raise ValueError("map_shards runs curriculum.shards.generate_shard only")
    futures = generate_shards_task.map(batch_shards(list(shards), max_items_per_shard))
    return [frame for future in futures for frame in future.result()]
