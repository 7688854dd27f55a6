"""Generation + re-verification throughput per skill on one core, against the peer generator (reasoning-gym).

Two figures per skill and level, median of --repeat runs:
- per process: a whole `curriculum generate` process (`taskset -c 0` where available), so start-up,
  generation, gold re-verification and the Parquet write are all inside the figure;
- in-process: the same three steps (generate_items, gold_checks, write_parquet) timed inside one process
  pinned to one core, after the imports: what a long-running worker gets.
A process asks for at most a third of the level's distinct items (estimated by capture-recapture),
so the figure measures generation, not the search for the last few unseen items of a small level;
the `items` column says how many that was, and throughput counts the items actually written.

With --peer-python (an interpreter where reasoning-gym is installed, e.g. /tmp/rg/bin/python from
`python3.11 -m venv /tmp/rg && /tmp/rg/bin/pip install reasoning-gym==0.1.25`), the peer's comparable tasks
are measured the same two ways (a fresh process that creates the dataset and reads every item, and the
same inside the process), and each family's median is set against twice the peer's median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# items per process: enough to amortise start-up, small enough for the slowest skills' levels
SIZES = {("maths", 3): 200_000, ("maths", 8): 100_000, ("logic", 3): 20_000, ("logic", 8): 3_000}
# the peer's comparable tasks (the reward benchmark's), and items per process
PEER = {
    "maths": ["chain_sum", "basic_arithmetic", "products", "gcd", "lcm", "fraction_simplification"],
    "logic": ["knights_knaves", "syllogism", "family_relationships", "propositional_logic"],
}
PEER_SIZES = {"maths": 20_000, "logic": 2_000}
PEER_SNIPPET = """
import sys, time
started = time.perf_counter()
import reasoning_gym
name, n = sys.argv[1], int(sys.argv[2])
t = time.perf_counter()
ds = reasoning_gym.create_dataset(name, size=n, seed=0)
items = [ds[i] for i in range(n)]
print(len(items) / (time.perf_counter() - t))
"""


def level_space(skill: str, level: int, sample: int = 20_000) -> float:
    """Distinct items a level holds, by capture-recapture on two independent samples (inf when they never meet)."""
    from curriculum.generate import generate_chunk

    a, b = (set(generate_chunk(skill, level, sample, seed, 0)["item_id"]) for seed in (101, 202))
    common = len(a & b)
    return float("inf") if common == 0 else len(a) * len(b) / common


def one_run(skill: str, level: int, n: int, out: Path) -> tuple[float, float, int]:
    """(wall seconds, cpu seconds, items written) of one `curriculum generate` process."""
    cmd = [
        sys.executable,
        "-m",
        "curriculum.cli",
        "generate",
        "--skill",
        skill,
        "--level",
        str(level),
        "-n",
        str(n),
        "--seed",
        "0",
        "-o",
        str(out),
    ]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    before = os.times()
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = os.times()
    import polars as pl

    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, pl.scan_parquet(out).select(pl.len()).collect().item()


def in_process(skill: str, level: int, n: int, out: Path) -> float:
    """Items/s of generate_items + gold_checks + write_parquet in this process (imports done, one core)."""
    from curriculum.generate import generate_items
    from curriculum.verify import gold_checks

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    started = time.perf_counter()
    items = generate_items(skill, level, n, 0)
    if not all(gold_checks(items)):
        raise SystemExit(f"{skill} level {level}: a gold answer failed re-verification")
    items.write_parquet(out)
    return items.height / (time.perf_counter() - started)


def peer_run(python: str, task: str, n: int) -> tuple[float, float]:
    """(items/s per process, items/s in-process) of one peer process."""
    cmd = [python, "-c", PEER_SNIPPET, task, str(n)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    started = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return n / (time.perf_counter() - started), float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skills", help="comma-separated subset")
    parser.add_argument("--levels", default="3,8", help="comma-separated (default: 3,8)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply item counts (e.g. 0.1 for a smoke run)")
    parser.add_argument("--peer-python", help="an interpreter with reasoning-gym installed, to measure it alongside")
    args = parser.parse_args()

    from curriculum.skills import REGISTRY

    names = args.skills.split(",") if args.skills else sorted(REGISTRY, key=lambda s: (REGISTRY[s].domain, s))
    levels = list(map(int, args.levels.split(",")))
    rows = []
    print(f"{'skill':20} {'domain':6} {'level':>5} {'items':>8} {'per process':>12} {'in-process':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "items.parquet"
        for name in names:
            domain = REGISTRY[name].domain
            for level in levels:
                n = max(100, int(min(SIZES[(domain, level)], level_space(name, level) / 3) * args.scale))
                runs = [one_run(name, level, n, out) for _ in range(args.repeat)]
                wall = statistics.median(r[0] for r in runs)
                n = min(r[2] for r in runs)
                inside = statistics.median(in_process(name, level, n, out) for _ in range(args.repeat))
                rows.append((name, domain, level, n / wall, inside))
                print(f"{name:20} {domain:6} {level:>5} {n:>8} {n / wall:>12,.0f} {inside:>11,.0f}", flush=True)
    peer: dict[str, tuple[float, float]] = {}
    if args.peer_python:
        print(f"\n{'reasoning-gym task':24} {'domain':6} {'items':>8} {'per process':>12} {'in-process':>11}")
        for domain, tasks in PEER.items():
            per_task = []
            for task in tasks:
                n = max(100, int(PEER_SIZES[domain] * args.scale))
                runs = [peer_run(args.peer_python, task, n) for _ in range(args.repeat)]
                per_task.append((statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)))
                print(f"{task:24} {domain:6} {n:>8} {per_task[-1][0]:>12,.0f} {per_task[-1][1]:>11,.0f}", flush=True)
            peer[domain] = (statistics.median(r[0] for r in per_task), statistics.median(r[1] for r in per_task))
    print()
    for level in levels:
        for domain in ("maths", "logic"):
            at = [r for r in rows if r[1] == domain and r[2] == level]
            if not at:
                continue
            ours = (statistics.median(r[3] for r in at), statistics.median(r[4] for r in at))
            line = (
                f"median {domain} skill at level {level}: {ours[0]:,.0f} items/s per process, {ours[1]:,.0f} in-process"
            )
            if domain in peer:
                theirs = peer[domain]
                verdicts = [
                    f"{how} {mine / other:.1f}x ({'meets' if mine >= 2 * other else 'BELOW'} 2x)"
                    for how, mine, other in zip(("per process", "in-process"), ours, theirs)
                ]
                line += f"; reasoning-gym {theirs[0]:,.0f} / {theirs[1]:,.0f}: " + ", ".join(verdicts)
            print(line)


if __name__ == "__main__":
    main()
