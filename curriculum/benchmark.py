"""`curriculum benchmark`: curriculum strategies compared at equal compute (placeholder parser)."""

from __future__ import annotations

import argparse


def add_benchmark_parser(sub) -> None:
    bench = sub.add_parser("benchmark", help="compare curriculum strategies at equal compute")
    bench.set_defaults(func=_not_ready)


def _not_ready(args: argparse.Namespace) -> int:
    from curriculum.errors import CurriculumError

    raise CurriculumError("benchmark is not available in this build")
