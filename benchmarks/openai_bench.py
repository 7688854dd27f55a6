"""Throughput of the OpenAI-compatible learner against the local test server answering in 50 ms.

Evaluations are real HTTP round trips through the `openai` client: request, reply, answer extraction
and exact scoring. Items/s at concurrency 1 (100 items), 8 and 32 (1,000 items each), and whether
1,000 at concurrency 32 took at most 5 s (the floor is 1,000 / 32 * 50 ms = 1.6 s).

The server runs in its own process, as a real endpoint would (--in-process shares the client's).

    python benchmarks/openai_bench.py [--delay-ms 50] [--items 1000] [--in-process]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from curriculum.generate import generate_items  # noqa: E402
from curriculum.learners.openai_chat import OpenAIConfig, OpenAILearner  # noqa: E402
from curriculum.steps import score  # noqa: E402
from tests.openai_server import FakeOpenAI  # noqa: E402

KEY_ENV = "CURRICULUM_BENCH_KEY"
TARGET_S = 5.0
WIDTHS = (11, 6, 8, 8, 8, 6, 14)


class ServerProcess:
    """FakeOpenAI in a child process, driven over a pipe (reset counters, read the peak in flight)."""

    def __init__(self, answers: dict[str, str], delay_s: float, key: str) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, answers, delay_s, key), daemon=True)
        self.proc.start()
        self.url, self.model = self.conn.recv()

    def reset_counters(self) -> None:
        self.conn.send("reset")
        self.conn.recv()

    @property
    def max_in_flight(self) -> int:
        self.conn.send("peak")
        return self.conn.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.proc.join(10)


def _serve(conn, answers: dict[str, str], delay_s: float, key: str) -> None:
    with FakeOpenAI(api_key=key, delay_s=delay_s, answers=answers) as server:
        conn.send((server.url, server.models[0]))
        while True:
            try:
                command = conn.recv()
            except EOFError:
                return
            if command == "reset":
                server.reset_counters()
                conn.send(None)
            elif command == "peak":
                conn.send(server.max_in_flight)
            else:
                return


@contextlib.contextmanager
def local_server(items: pl.DataFrame, delay_s: float, key: str, in_process: bool):
    answers = dict(zip(items["question"].to_list(), items["answer"].to_list()))
    if in_process:
        with FakeOpenAI(api_key=key, delay_s=delay_s, answers=answers) as server:
            yield server, server.url, server.models[0]
        return
    server = ServerProcess(answers, delay_s, key)
    try:
        yield server, server.url, server.model
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay-ms", type=float, default=50.0, help="server think time per request")
    parser.add_argument("--items", type=int, default=1000, help="evaluations at concurrency 8 and 32")
    parser.add_argument("--in-process", action="store_true", help="run the server in this process")
    args = parser.parse_args()

    skills = ("addition", "multiplication", "fraction_add", "modular")
    items = pl.concat([generate_items(s, 3, args.items // len(skills) + 1, 0) for s in skills])
    items = items.head(args.items)
    os.environ[KEY_ENV] = "sk-bench"
    runs = [(1, min(100, args.items)), (8, args.items), (32, args.items)]
    with local_server(items, args.delay_ms / 1000, "sk-bench", args.in_process) as (server, url, model):
        OpenAILearner(OpenAIConfig(base_url=url, model=model, api_key_env=KEY_ENV)).check_endpoint()
        where = "this process" if args.in_process else "its own process"
        print(f"server in {where}, think time {args.delay_ms:g} ms; {items.height} items of {len(skills)} skills")
        head = ("concurrency", "items", "seconds", "items/s", "accuracy", "errors", "peak in flight")
        print("  ".join(f"{h:>{w}}" for h, w in zip(head, WIDTHS)))
        elapsed_at_32 = None
        for concurrency, n in runs:
            subset = items.head(n)
            cfg = OpenAIConfig(base_url=url, model=model, api_key_env=KEY_ENV, concurrency=concurrency)
            learner = OpenAILearner(cfg, None, 0)
            server.reset_counters()
            started = time.perf_counter()
            records = learner.answer_records(subset["question"].to_list())
            scored = score(subset, [r.prediction or "" for r in records])
            elapsed = time.perf_counter() - started
            errors = sum(r.error is not None for r in records)
            row = (
                concurrency,
                n,
                f"{elapsed:.2f}",
                f"{n / elapsed:.1f}",
                f"{scored['correct'].mean():.3f}",
                errors,
                server.max_in_flight,
            )
            print("  ".join(f"{v:>{w}}" for v, w in zip(row, WIDTHS)))
            if concurrency == 32:
                elapsed_at_32 = elapsed
    verdict = "yes" if elapsed_at_32 is not None and elapsed_at_32 <= TARGET_S else "no"
    print(f"{args.items} evaluations at concurrency 32 within {TARGET_S:g} s: {verdict} ({elapsed_at_32:.2f} s)")


if __name__ == "__main__":
    main()
