"""`curriculum benchmark`: curriculum strategies compared at equal compute, over several seeds.

Each (strategy, seed) is a real run in a scratch data dir: the strategy's controller (curriculum.controllers)
drives the same tier loop, steps, gate, scorer and seeds as `curriculum run` (curriculum.loop). Every run
trains the same LocalLearner for the same number of tiers, steps and training items per skill; after every
`eval_every` tiers the learner also answers a fixed set of held-out test items (eval split, so never trained
on) at every level 1..target of every skill, scored by the run's own scorer. Strategies differ only in which
levels a tier's training items come from (`curriculum strategies` lists them).

Judged on held-out accuracy over all levels and the mastered level, not on the top level alone.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import Field, ValidationError, field_validator, model_validator

from curriculum import seeds
from curriculum.config import (
    LearnerConfig,
    MixConfig,
    PolicyConfig,
    RunConfig,
    ScheduleConfig,
    SkillConfig,
    Strict,
    TierConfig,
    ValidationConfig,
)
from curriculum.controllers import CONTROLLERS
from curriculum.errors import ConfigError
from curriculum.generate import generate_items
from curriculum.skills import get_skill

MASTERED = 0.9  # accuracy at every level up to the mastered level
REACHED = 0.8  # mean accuracy that counts as "reached" for steps_to_80
METRICS = ("mean_accuracy", "mastered_level", "hardest_accuracy", "steps_to_80", "auc", "forgetting")
TEST_SEED = seeds.derive("benchmark", "test")  # test items depend on this only: every run sees the same test set


def training_strategies() -> list[str]:
    """The registered strategies that train (the frontier search only evaluates)."""
    return [name for name, c in CONTROLLERS.items() if c.trains]


class BenchmarkSpec(Strict):
    """What a benchmark runs: skills with their target level, strategies, seeds and the equal budget."""

    skills: dict[str, int] = Field(min_length=1)  # skill -> target level (test levels 1..target)
    strategies: list[str] = Field(default_factory=training_strategies, min_length=1)
    seeds: int = Field(3, ge=1)
    base_seed: int = 0
    tiers: int = Field(10, ge=1)
    steps: int = Field(2000, ge=1)  # training steps per run, spread evenly over the tiers
    train_items_per_skill: int = Field(1000, ge=1)  # per tier, on average over skills
    test_items_per_level: int = Field(60, ge=1)
    eval_every: int = Field(1, ge=1)  # tiers between two evaluations of the test set (the last tier always)
    probe_items_per_level: int = Field(40, ge=1)  # the controller's own held-out probes (adaptive only)
    ladder_every: int | None = Field(None, ge=1)  # tiers per ladder level; None: reach the target in the last tier
    workers: int = Field(1, ge=1)  # runs in parallel, one process each
    mix: MixConfig = MixConfig()
    policy: PolicyConfig = PolicyConfig()
    learner: LearnerConfig = LearnerConfig()

    @field_validator("skills")
    @classmethod
    def known_skills(cls, skills: dict[str, int]) -> dict[str, int]:
        for name, target in skills.items():
            get_skill(name)
            if target < 1:
                raise ValueError(f"target level of {name} must be >= 1, got {target}")
        return skills

    @field_validator("strategies")
    @classmethod
    def known_strategies(cls, names: list[str]) -> list[str]:
        known = training_strategies()
        bad = [n for n in names if n not in known]
        if bad:
            raise ValueError(f"unknown strategy {bad[0]!r}; known: {', '.join(known)}")
        if len(set(names)) != len(names):
            raise ValueError("a strategy is listed twice")
        return names

    @model_validator(mode="after")
    def enough_steps(self) -> BenchmarkSpec:
        if self.steps < self.tiers:
            raise ValueError(f"steps ({self.steps}) must be at least the number of tiers ({self.tiers})")
        return self


PRESETS: dict[str, dict[str, Any]] = {
    # 2 cores, <= 20 minutes: a maths and a logic skill, 3 seeds, 5 strategies, two runs at a time
    "default": {
        "skills": {"comparison": 12, "boolean_eval": 4},
        "seeds": 3,
        "tiers": 16,
        "steps": 1000,
        "train_items_per_skill": 1000,
        "test_items_per_level": 50,
        "probe_items_per_level": 30,
        "eval_every": 2,
        "workers": 2,
        "policy": {"lookahead": 4},
        "learner": {
            "steps_per_tier": 62, "batch_size": 64, "learning_rate": 3e-3, "replay_share": 0.3, "threads": 1,
            "device": "cpu", "model": {"n_layer": 2, "n_head": 4, "n_embd": 64, "block_size": 96},
        },
    },
    # one GPU: a larger learner and a third skill. A run of 4000 steps over 20 tiers took ~3 minutes on one
    # H200 (generation and evaluation, not the GPU, set the pace), so this is about an hour and a quarter
    "gpu": {
        "skills": {"comparison": 20, "boolean_eval": 8, "addition": 10},
        "seeds": 3,
        "tiers": 20,
        "steps": 8000,
        "train_items_per_skill": 4000,
        "test_items_per_level": 100,
        "probe_items_per_level": 60,
        "eval_every": 4,
        "workers": 1,
        "policy": {"lookahead": 4},
        "learner": {
            "steps_per_tier": 500, "batch_size": 256, "learning_rate": 1e-3, "replay_share": 0.3,
            "device": "auto", "model": {"n_layer": 4, "n_head": 4, "n_embd": 256, "block_size": 192},
        },
    },
}


def make_spec(preset: str = "default", **overrides: Any) -> BenchmarkSpec:
    """A preset with top-level overrides (None = keep the preset's); bad values become one ConfigError line."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    raw = dict(PRESETS[preset]) | {k: v for k, v in overrides.items() if v is not None}
    try:
        return BenchmarkSpec.model_validate(raw)
    except ValidationError as err:
        e = err.errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "benchmark"
        raise ConfigError(f"benchmark {where}: {e['msg'].removeprefix('Value error, ')}") from None


# ---- metrics (pure functions of the measured accuracies) ----

Cells = dict[tuple[str, int], float]  # (skill, level) -> held-out accuracy


def mean_accuracy(cells: Cells) -> float:
    """Mean held-out accuracy over every (skill, level) cell, levels 1..target weighted equally."""
    return float(np.mean(list(cells.values())))


def mastered_level(accuracy_by_level: dict[int, float], mastered: float = MASTERED) -> int:
    """Highest L with accuracy >= mastered at every level 1..L (0 when level 1 is not mastered)."""
    level = 0
    while accuracy_by_level.get(level + 1, 0.0) >= mastered:
        level += 1
    return level


def by_skill(cells: Cells) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for (skill, level), acc in cells.items():
        out.setdefault(skill, {})[level] = acc
    return out


def mean_mastered_level(cells: Cells) -> float:
    """The mastered level averaged over skills (in levels)."""
    return float(np.mean([mastered_level(levels) for levels in by_skill(cells).values()]))


def hardest_accuracy(cells: Cells, targets: dict[str, int]) -> float:
    """Accuracy at each skill's target level, averaged over skills."""
    return float(np.mean([cells[(skill, target)] for skill, target in targets.items()]))


def steps_to(steps: list[int], curve: list[float], reached: float = REACHED) -> int | None:
    """First step count whose mean accuracy is >= reached; None when the curve never gets there."""
    return next((s for s, a in zip(steps, curve) if a >= reached), None)


def auc(steps: list[int], curve: list[float]) -> float:
    """Area under the learning curve, normalised to 0..1: trapezoids from (0, 0) (an untrained learner
    answers nothing right) through each (step, mean accuracy), divided by the last step."""
    xs, ys = [0, *steps], [0.0, *curve]
    area = sum((xs[i + 1] - xs[i]) * (ys[i] + ys[i + 1]) / 2 for i in range(len(xs) - 1))
    return float(area / xs[-1]) if xs[-1] else 0.0


def forgetting(history: list[Cells], targets: dict[str, int]) -> float:
    """Largest drop from a level's best accuracy during training to its accuracy at the end, over the
    levels below each skill's target (0 when nothing learnt was lost)."""
    final = history[-1]
    drops = [
        max(h[cell] for h in history) - final[cell]
        for cell in final
        if cell[1] < targets[cell[0]]
    ]
    return float(max(drops, default=0.0))


# ---- one run: a strategy and a seed, through the run's own tier loop ----


def run_config(spec: BenchmarkSpec, strategy: str, seed: int, data_dir: Path) -> RunConfig:
    """The run config of one (strategy, seed): the spec's skills (with their targets), budget and learner."""
    return RunConfig(
        name=f"benchmark-{strategy}-{seed}",
        strategy=strategy,
        seed=seed,
        tiers=spec.tiers,
        data_dir=data_dir,
        skills=[SkillConfig(name=s, target_level=t) for s, t in spec.skills.items()],
        tier=TierConfig(
            train_items_per_skill=spec.train_items_per_skill, eval_items_per_level=spec.probe_items_per_level, mix=spec.mix
        ),
        policy=spec.policy,
        schedule=ScheduleConfig(ladder_every=spec.ladder_every),
        learner=spec.learner,
        validation=ValidationConfig(data_docs=False),
    )


def held_out_items(spec: BenchmarkSpec) -> pl.DataFrame:
    """Held-out items at every level 1..target of every skill (eval split: never a training item)."""
    return pl.concat(
        [
            generate_items(skill, level, spec.test_items_per_level, TEST_SEED, split="eval")
            for skill, target in spec.skills.items()
            for level in range(1, target + 1)
        ]
    )


def score_test_set(config: RunConfig, run_id: str, test: pl.DataFrame) -> Cells:
    """The run's learner, as trained so far, on the test set, scored by the run's scorer: accuracy per cell."""
    from curriculum.learners import make_learner
    from curriculum.steps import run_dir, score

    learner = make_learner(config.learner, run_dir(config, run_id), config.seed)
    scored = score(test, learner.answer(test["question"].to_list()))
    table = scored.group_by("skill", "level").agg(pl.col("correct").cast(pl.Float64).mean())
    return {(r["skill"], r["level"]): r["correct"] for r in table.iter_rows(named=True)}


def steps_per_tier(spec: BenchmarkSpec) -> list[int]:
    base, extra = divmod(spec.steps, spec.tiers)
    return [base + (1 if t < extra else 0) for t in range(spec.tiers)]


def run_one(spec: BenchmarkSpec, strategy: str, seed: int) -> dict[str, Any]:
    """One real run of `strategy` in a scratch data dir; its learning curve on the test set and final metrics."""
    from curriculum import loop, runs, steps
    from curriculum.store import Store

    started = time.perf_counter()
    test = held_out_items(spec)
    budget = steps_per_tier(spec)

    def train(config: RunConfig, run_id: str, tier: int, attempt: int) -> dict[str, Any]:
        """The run's train step, with this tier's share of the run's training steps."""
        learner = config.learner.model_copy(update={"steps_per_tier": budget[tier - 1]})
        return steps.train_step(config.model_copy(update={"learner": learner}), run_id, tier, attempt)

    curve_steps: list[int] = []
    curve: list[float] = []
    history: list[Cells] = []
    with tempfile.TemporaryDirectory(prefix="curriculum-bench-") as workdir:
        config = run_config(spec, strategy, seed, Path(workdir))
        run_id = runs.start_run(config)

        def measure(tier: int, decided: Any) -> None:
            if tier % spec.eval_every == 0 or tier == spec.tiers:
                history.append(score_test_set(config, run_id, test))
                curve_steps.append(sum(budget[:tier]))
                curve.append(mean_accuracy(history[-1]))

        loop.run_tiers(config, run_id, loop.TierSteps(train=train), on_tier=measure)
        store = Store(config.data_dir)
        decisions = store.decisions(run_id)
        train_items = store.query(
            "SELECT count(*) AS n, count(DISTINCT item_id) AS distinct_n FROM items WHERE run_id = ? AND split = 'train'",
            [run_id],
        ).row(0, named=True)
        gate = store.query(
            "SELECT count(DISTINCT (tier, attempt)) AS attempts, count(*) FILTER (WHERE success) AS passed"
            " FROM validations WHERE run_id = ?", [run_id],
        ).row(0, named=True)
    final = history[-1]
    levels = [dict(zip(d["skill"], d["level_after"])) for _, d in decisions.group_by("tier", maintain_order=True)]
    return {
        "strategy": strategy,
        "seed": seed,
        "mean_accuracy": mean_accuracy(final),
        "mastered_level": mean_mastered_level(final),
        "hardest_accuracy": hardest_accuracy(final, spec.skills),
        "steps_to_80": steps_to(curve_steps, curve),
        "auc": auc(curve_steps, curve),
        "forgetting": forgetting(history, spec.skills),
        "mastered_by_skill": {s: mastered_level(lv) for s, lv in by_skill(final).items()},
        "final_accuracy": {s: {str(k): v for k, v in sorted(lv.items())} for s, lv in by_skill(final).items()},
        "curve": {"steps": curve_steps, "mean_accuracy": curve},
        "controller_levels": levels,
        "controller_reasons": decisions["reason"].to_list(),
        "train_items": train_items["n"],
        "distinct_train_items": train_items["distinct_n"],
        "validated_attempts": gate["attempts"],
        "expectations_passed": gate["passed"],
        "seconds": time.perf_counter() - started,
    }


def _run_job(args: tuple[dict[str, Any], str, int]) -> dict[str, Any]:
    spec, strategy, seed = args
    import torch

    torch.set_num_threads(max(1, BenchmarkSpec.model_validate(spec).learner.threads or 1))
    return run_one(BenchmarkSpec.model_validate(spec), strategy, seed)


def run_benchmark(spec: BenchmarkSpec, on_run: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Every strategy x seed at equal compute -> {"strategies": {name: {metric: [per seed]}}, "config", "runs"}."""
    jobs = [(s, spec.base_seed + i) for i in range(spec.seeds) for s in spec.strategies]
    started = time.perf_counter()
    runs: list[dict[str, Any]] = []
    if spec.workers == 1 or len(jobs) == 1:
        for strategy, seed in jobs:
            runs.append(run_one(spec, strategy, seed))
            if on_run:
                on_run(runs[-1])
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        raw = spec.model_dump(mode="json")
        with ProcessPoolExecutor(min(spec.workers, len(jobs)), mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(_run_job, (raw, s, seed)) for s, seed in jobs]
            for future in as_completed(futures):
                runs.append(future.result())
                if on_run:
                    on_run(runs[-1])
    runs.sort(key=lambda r: (spec.strategies.index(r["strategy"]), r["seed"]))
    strategies = {
        name: {m: [r[m] for r in runs if r["strategy"] == name] for m in METRICS} for name in spec.strategies
    }
    return {
        "strategies": strategies,
        "config": spec.model_dump(mode="json") | {"seed_list": [spec.base_seed + i for i in range(spec.seeds)]},
        "runs": runs,
        "seconds": time.perf_counter() - started,
    }


# ---- reporting ----


def _fmt(values: list[Any], digits: int = 3) -> str:
    """mean ± sd over seeds; steps_to_80 counts seeds that never got there."""
    got = [v for v in values if v is not None]
    if not got:
        return "never"
    text = f"{np.mean(got):.{digits}f}" + (f" ± {np.std(got):.{digits}f}" if len(got) > 1 else "")
    return text + (f" ({len(values) - len(got)} never)" if len(got) < len(values) else "")


def summary_rows(results: dict[str, Any]) -> list[list[str]]:
    head = ["strategy", "mean acc", "mastered level", "hardest acc", "steps to 80%", "AUC", "forgetting"]
    rows = [head]
    for name, m in results["strategies"].items():
        rows.append(
            [name, _fmt(m["mean_accuracy"]), _fmt(m["mastered_level"], 2), _fmt(m["hardest_accuracy"]),
             _fmt(m["steps_to_80"], 0), _fmt(m["auc"]), _fmt(m["forgetting"])]
        )
    return rows


def table_text(results: dict[str, Any]) -> str:
    rows = summary_rows(results)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def _markdown_table(rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])] + ["| " + " | ".join(r) + " |" for r in rows[1:]]


def markdown(results: dict[str, Any]) -> str:
    """The summary table, per-level accuracy at the end (mean over seeds) and the budget used."""
    cfg = results["config"]
    lines = [
        "# Curriculum benchmark",
        "",
        f"Skills (target level): {', '.join(f'{s} ({t})' for s, t in cfg['skills'].items())}. "
        f"{cfg['seeds']} seed(s), {cfg['tiers']} tiers, {cfg['steps']} training steps and "
        f"{cfg['train_items_per_skill']} fresh training items per skill per tier for every strategy; "
        f"{cfg['test_items_per_level']} held-out test items per level. Values: mean ± sd over seeds.",
        "",
        *_markdown_table(summary_rows(results)),
        "",
        f"Mastered level: highest L with held-out accuracy >= {MASTERED:g} at every level <= L (mean over skills). "
        f"Forgetting: largest drop of a level below the target from its best accuracy to the end.",
    ]
    for skill, target in cfg["skills"].items():
        head = ["strategy", *[f"L{lv}" for lv in range(1, target + 1)]]
        rows = [head]
        for name in results["strategies"]:
            runs = [r for r in results["runs"] if r["strategy"] == name]
            rows.append([name, *[f"{np.mean([r['final_accuracy'][skill][str(lv)] for r in runs]):.2f}"
                                 for lv in range(1, target + 1)]])
        lines += ["", f"## {skill}: held-out accuracy per level at the end", "", *_markdown_table(rows)]
    lines += ["", "## training items per run (mean over seeds)", ""]
    for name in results["strategies"]:
        runs = [r for r in results["runs"] if r["strategy"] == name]
        lines.append(f"- {name}: {np.mean([r['train_items'] for r in runs]):.0f} items, "
                     f"{np.mean([r['distinct_train_items'] for r in runs]):.0f} distinct")
    adaptive = [r for r in results["runs"] if r["strategy"] == "adaptive" and r["controller_levels"]]
    if adaptive:
        lines += ["", "## adaptive: level after each tier (first seed)", ""]
        for skill in cfg["skills"]:
            trail = " -> ".join(str(t[skill]) for t in adaptive[0]["controller_levels"])
            lines.append(f"- {skill}: {trail}")
    lines += ["", f"Wall time: {results['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Learning curves: mean held-out accuracy over all levels vs training steps (mean over seeds, min-max band)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in results["strategies"]:
        runs = [r for r in results["runs"] if r["strategy"] == name]
        steps = runs[0]["curve"]["steps"]
        ys = np.array([r["curve"]["mean_accuracy"] for r in runs])
        ax.plot(steps, ys.mean(axis=0), marker="o", markersize=3, label=name)
        if len(runs) > 1:
            ax.fill_between(steps, ys.min(axis=0), ys.max(axis=0), alpha=0.15)
    ax.set_xlabel("training steps")
    ax.set_ylabel("mean held-out accuracy, levels 1..target")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(", ".join(f"{s} 1..{t}" for s, t in results["config"]["skills"].items()))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(results: dict[str, Any], out: Path) -> tuple[Path, Path, Path]:
    """JSON results, a PNG of learning curves and a markdown summary, side by side."""
    from curriculum.errors import InputFileError

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(results, indent=2, allow_nan=False))
        tmp.replace(out)
        png, md = out.with_suffix(".png"), out.with_suffix(".md")
        plot(results, png)
        md.write_text(markdown(results))
    except OSError as err:
        raise InputFileError(f"cannot write {out}: {err.strerror or err}") from None
    return out, png, md


# ---- CLI ----


def cmd_benchmark(args: argparse.Namespace) -> int:
    """Run the benchmark, print the table, write JSON + PNG + markdown."""
    strategies = None if args.strategies is None else [s.strip() for s in args.strategies.split(",") if s.strip()]
    spec = make_spec(args.preset, strategies=strategies, seeds=args.seeds, steps=args.steps, workers=args.workers)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or Path("data") / "reports" / f"benchmark-{stamp}.json"
    total = len(spec.strategies) * spec.seeds
    done = 0

    def on_run(run: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        print(
            f"[{done}/{total}] {run['strategy']} seed {run['seed']}: mean accuracy {run['mean_accuracy']:.3f}, "
            f"mastered level {run['mastered_level']:.1f} ({run['seconds']:.0f} s)",
            file=sys.stderr,
            flush=True,
        )

    print(
        f"benchmark: {', '.join(spec.strategies)} x {spec.seeds} seed(s), {spec.steps} steps per run "
        f"({spec.workers} worker(s))",
        file=sys.stderr,
        flush=True,
    )
    results = run_benchmark(spec, on_run)
    paths = write_report(results, out)
    print(table_text(results))
    print(f"\nwrote {', '.join(str(p) for p in paths)} ({math.ceil(results['seconds'])} s)")
    return 0
