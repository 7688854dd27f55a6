"""Prefect task runners by name: where a flow's submitted and mapped tasks (the generation shards) run.

    thread  ThreadPoolTaskRunner in the flow's process (the default; nothing to install)
    dask    prefect_dask.DaskTaskRunner: a local cluster of `workers` processes, or an existing
            scheduler at `address` (tcp://host:8786); needs `pip install 'curriculum[dask]'`
    ray     prefect_ray.RayTaskRunner: a local Ray, or an existing cluster at `address`
            (ray://host:10001); needs `pip install prefect-ray`

A run's steps run in the flow's process (the catalogue, training and the decisions stay there); only
their shard work goes to the runner named in the run config (`execution`): generation shards, gold
re-verification slices and remote-evaluation slices. `shard_runner(execution)` starts that runner for
the length of a run, and `runner_map` / `map_shards` are the `map_fn`s the steps take: one Prefect task per
shard (or batch of shards) on it. Every shard is a pure function of its arguments, so the results never
depend on the runner. Every failure in `make_task_runner` is one TaskRunnerError line that names the fix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import polars as pl
from prefect import task, unmapped
from prefect.cache_policies import NO_CACHE

from curriculum.execution import TaskRunnerError, check_options, check_reachable
from curriculum.shards import MAX_ITEMS_PER_SHARD, Shard, batch_shards, generate_shard, generate_shards

__all__ = ["TaskRunnerError", "make_task_runner", "map_shards", "runner_map", "shard_runner"]


def make_task_runner(kind: str, address: str | None = None, workers: int | None = None):
    """A Prefect task runner by name; see the module docstring."""
    name = check_options(kind, address, workers)
    if name == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
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


_ACTIVE: ContextVar[Any] = ContextVar("curriculum_shard_runner", default=None)


def active_runner() -> Any:
    """The task runner `shard_runner` started for this run, or None (shards then run in-process)."""
    return _ACTIVE.get()


@contextmanager
def shard_runner(execution: Any) -> Iterator[Any]:
    """Start the run's task runner (config `execution`) for the block; shard work inside goes to it.

    With the thread runner, shard tasks go to the flow's own task runner and nothing is started.
    """
    if execution.task_runner == "thread" and not execution.workers:
        yield None
        return
    runner = make_task_runner(execution.task_runner, execution.scheduler, execution.workers)
    if execution.task_runner == "dask":
        import logging

        logging.getLogger("distributed").setLevel(logging.WARNING)  # not every nanny line in the run's log
    with runner:
        token = _ACTIVE.set(runner)
        try:
            yield runner
        finally:
            _ACTIVE.reset(token)


def _shard_run_name() -> str:
    from prefect.runtime import task_run

    fn, arg = task_run.parameters["fn"], task_run.parameters["arg"]
    name = getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", "shard")
    if isinstance(arg, list) and arg and isinstance(arg[0], Shard):
        return f"{name}-{arg[0].index}-to-{arg[-1].index}"
    return f"{name}-{len(arg) if hasattr(arg, '__len__') else ''}".rstrip("-")


@task(cache_policy=NO_CACHE, persist_result=False, task_run_name=_shard_run_name)
def run_shard(fn: Callable[[Any], Any], arg: Any) -> Any:
    """One shard of a step's work: fn(arg), where fn is a module-level pure function."""
    return fn(arg)


def runner_map(fn: Callable[[Any], Any], args: Iterable[Any]) -> list[Any]:
    """`map_fn` for the steps: fn over args, one Prefect task each, on the run's shard runner (started by
    `shard_runner`) or else on the calling flow's task runner. Results come back in argument order."""
    args = list(args)
    if not args:
        return []
    runner = _ACTIVE.get()
    if runner is None:
        futures = run_shard.map(unmapped(fn), args)
    else:
        futures = runner.map(run_shard, {"fn": unmapped(fn), "arg": args})
    return [future.result() for future in futures]


def map_shards(
    fn: Callable[[Shard], pl.DataFrame], shards: Iterable[Shard], max_items_per_shard: int = MAX_ITEMS_PER_SHARD
) -> list[pl.DataFrame]:
    """`map_fn` for curriculum.shards.generate_tier: the shards packed into batches of about one
    full shard's work (per-task overhead is ~0.2-0.3 s on Dask), one task per batch (`runner_map`).
    Frames come back in shard order; only Shards travel to the workers, only frames back.
    With a non-default shard size, pass the same size: functools.partial(map_shards, max_items_per_shard=N)."""
    if fn is not generate_shard:
        raise ValueError("map_shards runs curriculum.shards.generate_shard only")
    batches = runner_map(generate_shards, batch_shards(list(shards), max_items_per_shard))
    return [frame for batch in batches for frame in batch]
