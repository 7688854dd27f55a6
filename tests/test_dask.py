"""Shards as Prefect tasks on a local Dask cluster and on threads give the same tier; runner errors are one line."""

from __future__ import annotations

import os
import socket
import sys
from functools import partial

import polars as pl
import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from curriculum.errors import ConfigError, CurriculumError
from curriculum.plan import PlanEntry, TierPlan
from curriculum.shards import batch_shards, generate_tier, plan_shards
from flows.runners import TaskRunnerError, make_task_runner, map_shards

PLAN = TierPlan(  # a key cut into several shards, a spent level and overlapping levels (top-up rounds)
    tier=2,
    seed=11,
    entries=(
        PlanEntry("addition", 1, "train", 120),
        PlanEntry("addition", 3, "train", 15_000),
        PlanEntry("fraction_simplify", 1, "train", 150),
        PlanEntry("fraction_simplify", 2, "train", 150, "stretch"),
        PlanEntry("boolean_eval", 3, "eval", 60, "probe"),
    ),
)
MAX_ITEMS = 3_000
EXCLUDE = ["not-an-id"]


@task(cache_policy=NO_CACHE, persist_result=False)
def process_id(_: int) -> int:
    return os.getpid()


@flow(name="sharded-tier-test")
def sharded_tier(plan_json: str, exclude: list[str], max_items: int) -> tuple[pl.DataFrame, set[int]]:
    tier = generate_tier(
        TierPlan.from_json(plan_json), exclude, partial(map_shards, max_items_per_shard=max_items), max_items
    )
    return tier, {f.result() for f in process_id.map([1, 2, 3, 4])}


def run_on(runner) -> tuple[pl.DataFrame, set[int]]:
    return sharded_tier.with_options(task_runner=runner)(PLAN.to_json(), EXCLUDE, MAX_ITEMS)


def test_dask_and_thread_runners_give_the_same_tier(prefect_api):
    pytest.importorskip("prefect_dask")
    assert len(plan_shards(PLAN, MAX_ITEMS)) >= 7 and len(batch_shards(plan_shards(PLAN, MAX_ITEMS), MAX_ITEMS)) >= 3
    reference = generate_tier(PLAN, EXCLUDE)
    on_threads, here = run_on(make_task_runner("thread"))
    on_dask, workers = run_on(make_task_runner("dask", workers=2))
    assert here == {os.getpid()} and os.getpid() not in workers  # the Dask tasks ran in worker processes
    assert on_threads.equals(reference)
    assert on_dask.equals(reference)
    assert on_dask.height > 0 and on_dask["item_id"].is_unique().all()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text and isinstance(err.value, ConfigError) and isinstance(err.value, CurriculumError)
    return text


def test_unknown_runner():
    with pytest.raises(TaskRunnerError) as err:
        make_task_runner("spark")
    assert one_line(err) == "unknown task runner 'spark'; known: thread, dask, ray"


def test_unreachable_scheduler_on_a_closed_port():
    pytest.importorskip("prefect_dask")
    port = free_port()
    with pytest.raises(TaskRunnerError) as err:
        make_task_runner("dask", address=f"tcp://127.0.0.1:{port}")
    assert f"no dask scheduler reachable at tcp://127.0.0.1:{port}" in one_line(err)


def test_reachable_scheduler_address_is_passed_on():
    pytest.importorskip("prefect_dask")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        runner = make_task_runner("dask", address=address)
    assert runner.address == address


def test_missing_extras(monkeypatch):
    monkeypatch.setitem(sys.modules, "prefect_dask", None)  # import prefect_dask -> ImportError
    monkeypatch.setitem(sys.modules, "prefect_ray", None)
    with pytest.raises(TaskRunnerError) as err:
        make_task_runner("dask", workers=2)
    assert one_line(err) == "task runner 'dask' needs the dask extra: pip install 'curriculum[dask]'"
    with pytest.raises(TaskRunnerError) as err:
        make_task_runner("ray")
    assert "pip install prefect-ray" in one_line(err)


def test_options_that_do_not_fit_the_runner():
    with pytest.raises(TaskRunnerError, match="--scheduler needs --task-runner dask or ray"):
        make_task_runner("thread", address="tcp://127.0.0.1:8786")
    with pytest.raises(TaskRunnerError, match="workers must be >= 1"):
        make_task_runner("thread", workers=0)
    from prefect.task_runners import ThreadPoolTaskRunner

    assert isinstance(make_task_runner(" Thread ", workers=2), ThreadPoolTaskRunner)


def test_a_whole_run_on_dask_writes_the_same_tiers_as_on_threads(prefect_api, tmp_path):
    """`execution: {task_runner: dask}`: shards, gold checks on two worker processes; same items, same gate."""
    pytest.importorskip("prefect_dask")
    from curriculum.config import parse_config
    from curriculum.store import Store
    from flows.curriculum_flow import curriculum_run
    from tests.conftest import tiny_config_dict

    def run(where: str, execution: dict) -> pl.DataFrame:
        raw = tiny_config_dict(tmp_path / where, tiers=2, execution=execution)
        raw["tier"] = {"train_items_per_skill": 1_500, "eval_items_per_level": 8}
        raw["skills"] = [{"name": "addition", "start_level": 4}, {"name": "boolean_eval", "start_level": 3}]
        config = parse_config(raw)
        run_id = curriculum_run(config)
        store = Store(config.data_dir)
        assert store.query("SELECT count(*) n FROM validations WHERE NOT success")["n"].item() == 0
        return store.query("SELECT tier, item_id, split FROM items WHERE run_id = ? ORDER BY tier, item_id", [run_id])

    small = {"max_items_per_shard": 500}  # several shards, in several tasks
    on_threads = run("thread", {"task_runner": "thread", **small})
    on_dask = run("dask", {"task_runner": "dask", "workers": 2, **small})
    assert on_dask.height > 3_000 and on_dask.equals(on_threads)


def test_bad_execution_config_is_one_line():
    from curriculum.config import parse_config
    from tests.conftest import tiny_config_dict

    with pytest.raises(ConfigError) as err:
        parse_config(tiny_config_dict("data", execution={"task_runner": "spark"}))
    assert one_line(err) == "config: execution.task_runner: unknown task runner 'spark'; known: thread, dask, ray"
    with pytest.raises(ConfigError, match="a scheduler address needs task_runner dask or ray"):
        parse_config(tiny_config_dict("data", execution={"scheduler": "tcp://127.0.0.1:8786"}))
