"""Scale: a 1M-item tier generated shard by shard, then validated, on each way of running the shards.

    serial         generate_tier with the builtin map (no Prefect): the baseline
    thread         a Prefect flow mapping one task per shard on the ThreadPoolTaskRunner
    dask           the same flow on a local Dask cluster of --workers processes, started by the run
    dask-warm      the same flow on a running `dask scheduler` + `dask worker --nworkers N`
                   (what --scheduler ADDRESS gives: no cluster start in the timing)

Generation shards and the gold re-verification slices of validation run where the runner puts them;
the rest of validation (the other computed checks + the GX suite) runs on the combined frame in the
flow's process, as in a run. Every mode must give the identical tier (checked). Median of --repeat runs; Prefect runs in a throwaway local API.

    .venv/bin/python benchmarks/scale.py                 # 1M items, all modes, median of 3
    .venv/bin/python benchmarks/scale.py --items 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from functools import partial

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")  # Prefect's log handler would print every nanny line

# maths and logic skills at two levels each, 80% train / 20% eval: scaled to --items
SKILLS = (
    "addition",
    "multiplication",
    "comparison",
    "fraction_add",
    "linear_equation",
    "modular",
    "boolean_eval",
    "syllogism",
)
LEVELS = (3, 4)
MODES = ("serial", "thread", "dask", "dask-warm")


def bench_plan(items: int, seed: int = 0):
    from curriculum.plan import PlanEntry, TierPlan

    per_key = items / (len(SKILLS) * len(LEVELS))
    entries = []
    for skill in SKILLS:
        for level in LEVELS:
            entries.append(PlanEntry(skill, level, "train", round(per_key * 0.8)))
            entries.append(PlanEntry(skill, level, "eval", round(per_key * 0.2), "probe"))
    return TierPlan(tier=1, seed=seed, entries=tuple(entries))


class start_cluster:
    """`dask scheduler` and `dask worker` as their own processes, as a real cluster would be."""

    def __init__(self, workers: int) -> None:
        import socket
        import subprocess
        import sys
        from pathlib import Path

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        dask = str(Path(sys.executable).parent / "dask")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        scheduler = [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
        self.procs = [subprocess.Popen(scheduler, **quiet)]
        time.sleep(3)
        self.procs.append(
            subprocess.Popen(
                [dask, "worker", self.address, "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard"], **quiet
            )
        )
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
            proc.wait(timeout=30)


def make_flow():
    from prefect import flow

    from curriculum.plan import TierPlan
    from curriculum.shards import generate_tier
    from curriculum.validation import validate_items
    from flows.runners import map_shards, runner_map

    @flow(name="scale-benchmark")
    def sharded_tier(plan_json: str, max_items: int, check_gate: bool):
        started = time.perf_counter()
        plan = TierPlan.from_json(plan_json)
        tier = generate_tier(plan, (), partial(map_shards, max_items_per_shard=max_items), max_items)
        generated = time.perf_counter()
        report = validate_items(tier, plan, map_fn=runner_map) if check_gate else None
        if report is not None and not report.success:
            print("  validation failed:", "; ".join(report.describe_failures())[:300])
        return tier, generated - started, time.perf_counter() - generated

    return sharded_tier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-items-per-shard", type=int, default=50_000)
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--no-validate", action="store_true")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    import polars as pl
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from curriculum.shards import batch_shards, generate_tier, plan_shards
    from curriculum.validation import validate_items
    from flows.runners import make_task_runner

    logging.getLogger("distributed").setLevel(logging.ERROR)
    plan = bench_plan(args.items)
    shards = plan_shards(plan, args.max_items_per_shard)
    print(
        f"plan: {sum(plan.counts().values()):,} items, {len(plan.counts())} (skill, level, split) keys, "
        f"{len(shards)} round-one shards in {len(batch_shards(shards, args.max_items_per_shard))} Prefect tasks; "
        f"{os.cpu_count()} cores; median of {args.repeat}",
        flush=True,
    )
    if not args.no_validate:
        validate_items(generate_tier(bench_plan(2_000)), bench_plan(2_000))  # import GX outside the timings

    rows: list[tuple[str, float, float, float]] = []
    reference: pl.DataFrame | None = None
    cluster = None

    def record(mode: str, runs: list[tuple[float, float, float]]) -> None:
        gen, val, total = (statistics.median(r[i] for r in runs) for i in range(3))
        rows.append((mode, gen, val, total))
        print(f"  {mode:11} generate {gen:6.1f} s   validate {val:6.1f} s   total {total:6.1f} s", flush=True)

    def check(tier: pl.DataFrame) -> None:
        nonlocal reference
        if reference is None:
            reference = tier
        elif not tier.equals(reference):
            raise SystemExit("tiers differ between modes")

    def validate(tier: pl.DataFrame) -> float:
        if args.no_validate:
            return 0.0
        started = time.perf_counter()
        report = validate_items(tier, plan)  # gold checks in-process: the serial baseline
        if not report.success:
            print("  validation failed:", "; ".join(report.describe_failures())[:300])
        return time.perf_counter() - started

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        needs_prefect = bool({"thread", "dask", "dask-warm"} & set(modes))
        harness = prefect_test_harness(server_startup_timeout=90) if needs_prefect else None
        if harness is not None:
            harness.__enter__()
        try:
            flow = make_flow() if harness is not None else None
            runs: dict[str, list[tuple[float, float, float]]] = {m: [] for m in modes}
            for _ in range(args.repeat):  # round robin, so drifting load on a shared machine hits every mode alike
                for mode in modes:
                    started = time.perf_counter()
                    if mode == "serial":
                        tier = generate_tier(plan, max_items_per_shard=args.max_items_per_shard)
                        gen = time.perf_counter() - started
                        val = validate(tier)
                    else:
                        if mode == "thread":
                            runner = make_task_runner("thread")
                        elif mode == "dask":
                            runner = make_task_runner("dask", workers=args.workers)
                        else:
                            if cluster is None:
                                cluster = start_cluster(args.workers)
                                flow.with_options(task_runner=make_task_runner("dask", address=cluster.address))(
                                    bench_plan(2_000).to_json(), args.max_items_per_shard, True
                                )  # workers import Prefect
                            started = time.perf_counter()
                            runner = make_task_runner("dask", address=cluster.address)
                        tier, _inside, val = flow.with_options(task_runner=runner)(
                            plan.to_json(), args.max_items_per_shard, not args.no_validate
                        )
                        gen = time.perf_counter() - started - val  # includes flow run and cluster start/stop
                    check(tier)
                    runs[mode].append((gen, val, gen + val))
                    print(f"  ({mode}: generate {gen:.1f} s, validate {val:.1f} s)", flush=True)
            for mode in modes:
                record(mode, runs[mode])
        finally:
            if cluster is not None:
                cluster.stop()
            if harness is not None:
                harness.__exit__(None, None, None)

    print("\n| mode | generate (s) | validate (s) | total (s) | items/s generated |\n|---|---:|---:|---:|---:|")
    for mode, gen, val, total in rows:
        print(f"| {mode} | {gen:.1f} | {val:.1f} | {total:.1f} | {args.items / gen:,.0f} |")


if __name__ == "__main__":
    main()
