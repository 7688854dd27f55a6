"""Generation + re-verification throughput per skill: whole `curriculum generate` processes on one core.

Each measurement is a fresh process (`taskset -c 0` where available), so start-up, generation,
gold re-verification and the Parquet write are all inside the figure. Median of --repeat runs.
A process asks for at most a third of the level's distinct items (estimated by capture-recapture),
so the figure measures generation, not the search for the last few unseen items of a small level;
the `items` column says how many that was, and throughput counts the items actually written.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skills", help="comma-separated subset")
    parser.add_argument("--levels", default="3,8", help="comma-separated (default: 3,8)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply item counts (e.g. 0.1 for a smoke run)")
    args = parser.parse_args()

    from curriculum.skills import REGISTRY

    names = args.skills.split(",") if args.skills else sorted(REGISTRY, key=lambda s: (REGISTRY[s].domain, s))
    rows = []
    print(f"{'skill':20} {'domain':6} {'level':>5} {'items':>8} {'items/s (wall)':>15} {'items/s (cpu)':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            domain = REGISTRY[name].domain
            for level in map(int, args.levels.split(",")):
                n = max(100, int(min(SIZES[(domain, level)], level_space(name, level) / 3) * args.scale))
                runs = [one_run(name, level, n, Path(tmp) / "items.parquet") for _ in range(args.repeat)]
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                n = min(r[2] for r in runs)
                rows.append((name, domain, level, n / wall, n / cpu))
                print(f"{name:20} {domain:6} {level:>5} {n:>8} {n / wall:>15,.0f} {n / cpu:>14,.0f}", flush=True)
    for domain, target in (("maths", 70_000), ("logic", 5_000)):
        at3 = [r[3] for r in rows if r[1] == domain and r[2] == 3]
        if at3:
            med = statistics.median(at3)
            verdict = "meets" if med >= target else "BELOW"
            print(f"median {domain} skill at level 3: {med:,.0f} items/s (wall), {verdict} the {target:,} target")


if __name__ == "__main__":
    main()
