"""Can the built-in learner learn a skill at all? Per skill and level, at a given budget.

For each skill, a fresh learner (the embedded default's model, or --block/--width) is trained on its levels
1..--levels alone for --steps steps, on 1500 items per level, then answers 60 held-out items per level (items
whose question the training set does not hold). Also shown per level: how many distinct items the generator
yields from 1500 draws (a level with few leaves a held-out probe only unseen holes of a memorised table), the
chance rate of always giving the most common answer, and the share of prompts longer than the learner's
prompt room (their start is cut, the same way in training and answering, so part of the question is never
seen). A skill the learner cannot learn here cannot climb in `make run` or `curriculum benchmark` either.

    python benchmarks/learnability.py --skills syllogism,entailment,sat_count --steps 600
    python benchmarks/learnability.py --domain logic --workers 2 --out benchmarks/results/learnability-logic.md

Writes a markdown table (stdout, and --out when given).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from curriculum.config import load_config
from curriculum.generate import generate_items
from curriculum.learners.local_config import LearnerConfig
from curriculum.learners.tiny_transformer import LocalLearner, TinyGPTConfig, model_args, read_tokens
from curriculum.skills import REGISTRY

TRAIN_PER_LEVEL = 1500
HELD_OUT = 60


def learner_config(steps: int, block: int | None, width: int | None) -> LearnerConfig:
    """The embedded default's learner, one thread, `steps` steps, with the model resized where asked."""
    base = load_config(None).learner
    model = base.model.model_copy(update={k: v for k, v in (("block_size", block), ("n_embd", width)) if v})
    return base.model_copy(update={"steps_per_tier": steps, "threads": 1, "device": "cpu", "model": model})


def probe(skill: str, levels: int, steps: int, block: int | None, width: int | None, seed: int) -> list[dict[str, Any]]:
    """Train a fresh learner on one skill's levels 1..levels; per level: what it learnt and why it might not."""
    cfg = learner_config(steps, block, width)
    model: TinyGPTConfig = model_args(cfg.model)
    room = model.prompt_room
    train, held = [], {}
    for level in range(1, levels + 1):
        items = generate_items(skill, level, TRAIN_PER_LEVEL, seed=seed + level)
        fresh = generate_items(skill, level, 4 * HELD_OUT, seed=seed + 1000 + level)
        held[level] = fresh.filter(~pl.col("question").is_in(items["question"].implode())).head(HELD_OUT)
        train.append(items.with_columns(pl.lit("train").alias("split")))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        learner = LocalLearner(cfg, Path(workdir), seed=seed)
        learner.train(pl.concat(train, how="diagonal_relaxed"))
        rows, verify = [], REGISTRY[skill].verify
        for level, items in zip(range(1, levels + 1), train):
            out = held[level]
            got = learner.answer(list(out["question"])) if out.height else []
            right = sum(bool(verify(item, answer)) for item, answer in zip(out.iter_rows(named=True), got))
            tokens = [len(read_tokens(q, model.word_buckets)) for q in items["question"]]
            counts = items["answer"].value_counts()["count"]
            rows.append(
                {
                    "skill": skill,
                    "level": level,
                    "distinct": items["question"].n_unique(),
                    "held_out": out.height,
                    "accuracy": right / out.height if out.height else None,
                    "chance": counts.max() / items.height,
                    "prompt_tokens": sorted(tokens)[len(tokens) // 2],
                    "cut": sum(t > room for t in tokens) / len(tokens),
                    "cut_max": max(tokens) - room,
                    "room": room,
                    "seconds": time.perf_counter() - started,
                }
            )
    return rows


def table(rows: list[dict[str, Any]], steps: int) -> str:
    lines = [
        f"Held-out accuracy of a fresh built-in learner trained {steps} steps on one skill's levels alone"
        f" (prompt room {rows[0]['room'] if rows else '?'} tokens: a longer prompt loses its first tokens).",
        "",
        "| skill | level | distinct of 1500 | held out | accuracy | most common answer | prompt tokens (median) | cut: prompts, most tokens |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        acc = "n/a (none unseen)" if r["accuracy"] is None else f"{r['accuracy']:.2f}"
        lines.append(
            f"| {r['skill']} | {r['level']} | {r['distinct']} | {r['held_out']} | {acc} | {r['chance']:.2f} |"
            f" {r['prompt_tokens']} | {r['cut']:.0%}, {max(0, r['cut_max'])} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", help="comma-separated skill names (default: every skill of --domain)")
    parser.add_argument("--domain", choices=("maths", "logic"), default="logic")
    parser.add_argument("--levels", type=int, default=3, help="levels 1..N of each skill (default 3)")
    parser.add_argument("--steps", type=int, default=600, help="training steps per skill (default 600)")
    parser.add_argument("--block", type=int, help="the learner's block size (default: the embedded default's)")
    parser.add_argument("--width", type=int, help="the learner's n_embd (default: the embedded default's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="skills probed at once, one thread each")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()
    if args.skills:
        skills = args.skills.split(",")
        unknown = [s for s in skills if s not in REGISTRY]
        if unknown:
            parser.exit(2, f"unknown skill {unknown[0]!r}; `curriculum skills` lists them\n")
    else:
        skills = sorted(n for n in REGISTRY if REGISTRY[n].domain == args.domain)
    with cf.ProcessPoolExecutor(args.workers) as pool:
        jobs = [pool.submit(probe, s, args.levels, args.steps, args.block, args.width, args.seed) for s in skills]
        rows = [r for job in jobs for r in job.result()]
    text = table(rows, args.steps)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
