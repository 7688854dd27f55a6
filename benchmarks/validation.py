"""Validation throughput: the tier suite (computed checks + GX) on 200k and 1M items.

Start-up (imports, the GX context) is measured once and reported apart; each size is then validated
--repeat times and the median is quoted, with the share spent on computed checks vs. GX.
"""

from __future__ import annotations

import argparse
import statistics
import time

import polars as pl


def build(n: int) -> pl.DataFrame:
    from curriculum.generate import generate_items

    skills = ["addition", "subtraction", "multiplication", "comparison", "modular"]
    per = n // len(skills)
    return pl.concat([generate_items(s, 8, per, seed=0) for s in skills])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="200000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    from curriculum.validation import run_suite, validate_items, with_checks

    validate_items(build(100))  # imports GX and builds the context once
    print(f"start-up (imports + GX context): {time.perf_counter() - started:.2f} s")
    print(f"{'items':>9} {'median s':>9} {'checks s':>9} {'GX s':>7} {'items/s':>10} {'passed':>7}")
    for n in map(int, args.sizes.split(",")):
        items = build(n)
        totals, checks, gx = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            framed = with_checks(items)
            t1 = time.perf_counter()
            report = run_suite(framed)
            t2 = time.perf_counter()
            totals.append(t2 - t0)
            checks.append(t1 - t0)
            gx.append(t2 - t1)
        med = statistics.median(totals)
        print(
            f"{items.height:>9,} {med:>9.2f} {statistics.median(checks):>9.2f} {statistics.median(gx):>7.2f}"
            f" {items.height / med:>10,.0f} {str(report.success):>7}",
            flush=True,
        )


if __name__ == "__main__":
    main()
