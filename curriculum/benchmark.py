"""`curriculum benchmark`: curriculum strategies compared at equal compute, over several seeds.

Each (strategy, seed) is a real run in a scratch data dir: the strategy's controller (curriculum.controllers)
drives the same tier loop, steps, gate, scorer and seeds as `curriculum run` (curriculum.loop). Every run
trains the same LocalLearner for the same number of tiers, steps and training items per skill; after every
`eval_every` tiers the learner also answers a fixed set of held-out test items (eval split, so never trained
on) at every level 1..target of every skill, scored by the run's own scorer. Strategies differ only in which
levels a tier's training items come from (`curriculum strategies` lists them).

Judged on held-out accuracy over all levels and the mastered level, not on the top level alone, and on
sample efficiency: the training steps a strategy needs to reach uniform sampling's final mean accuracy, as a
ratio to the steps uniform itself needs (same seed). Seeds are paired: seed s of every strategy trains the
same learner from the same initial weights on the same test set, so each difference to uniform is taken
seed by seed, with a 95 % bootstrap confidence interval over seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
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
METRICS = (
    "mean_accuracy",
    "mastered_level",
    "sample_efficiency",
    "hardest_accuracy",
    "steps_to_80",
    "auc",
    "forgetting",
)
BASELINE = "uniform"  # what every difference and the sample efficiency are measured against
BOOTSTRAP = 10_000  # resamples of the seeds for each confidence interval
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


LEARNER = {  # the make run model, one thread per run (runs go side by side)
    "steps_per_tier": 50,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "replay_share": 0.3,
    "threads": 1,
    "device": "cpu",
    "model": {"n_layer": 2, "n_head": 4, "n_embd": 64, "block_size": 64, "answer_room": 8},
}
PRESETS: dict[str, dict[str, Any]] = {
    # 2 cores, <= 20 minutes: two maths and two logic skills the learner learns at low levels, 5 seeds,
    # every strategy, two runs at a time. Two runs side by side take about 0.12 s a training step each and 4 s a
    # tier besides (generation, validation, probes, the catalogue): 40 runs of 6 tiers x 50 steps fit
    "default": {
        "skills": {"comparison": 6, "fraction_compare": 4, "syllogism": 3, "sat_count": 3},
        "seeds": 5,
        "tiers": 6,
        "steps": 300,
        "train_items_per_skill": 400,
        "test_items_per_level": 30,
        "probe_items_per_level": 20,
        "eval_every": 1,
        "workers": 2,
        "learner": LEARNER,
    },
    # the same, with 10 tiers of 50 steps (about half an hour on 2 cores): further along the learning curves
    "long": {
        "skills": {"comparison": 6, "fraction_compare": 4, "syllogism": 3, "sat_count": 3},
        "seeds": 5,
        "tiers": 10,
        "steps": 500,
        "train_items_per_skill": 500,
        "test_items_per_level": 30,
        "probe_items_per_level": 20,
        "eval_every": 2,
        "workers": 2,
        "learner": LEARNER,
    },
    # one GPU: the same skills over more levels, a larger learner and budget
    "gpu": {
        "skills": {"comparison": 12, "fraction_compare": 8, "syllogism": 6, "sat_count": 6},
        "seeds": 5,
        "tiers": 20,
        "steps": 8000,
        "train_items_per_skill": 4000,
        "test_items_per_level": 100,
        "probe_items_per_level": 60,
        "eval_every": 2,
        "workers": 1,
        "learner": {
            "steps_per_tier": 400,
            "batch_size": 256,
            "learning_rate": 1e-3,
            "replay_share": 0.3,
            "device": "auto",
            "model": {"n_layer": 4, "n_head": 4, "n_embd": 256, "block_size": 192, "answer_room": 24},
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


def steps_to_reach(steps: list[int], curve: list[float], target: float) -> float | None:
    """Training steps at which the learning curve first reaches `target`: linear between the evaluation before
    and the one at or above it, from (0, 0) (an untrained learner answers nothing right); None when it never does."""
    xs, ys = [0, *steps], [0.0, *curve]
    for i in range(1, len(xs)):
        if ys[i] >= target:
            if ys[i - 1] >= target or ys[i] == ys[i - 1]:
                return float(xs[i - 1] if ys[i - 1] >= target else xs[i])
            return float(xs[i - 1] + (xs[i] - xs[i - 1]) * (target - ys[i - 1]) / (ys[i] - ys[i - 1]))
    return None


def sample_efficiency(run: dict[str, Any], baseline: dict[str, Any]) -> float | None:
    """Steps `run` needs to reach the baseline's final mean accuracy, over the steps the baseline needs (the same
    seed): 0.5 = half the compute. A run that never gets there is counted at its whole budget, a lower bound."""
    target = baseline["curve"]["mean_accuracy"][-1]
    own = steps_to_reach(run["curve"]["steps"], run["curve"]["mean_accuracy"], target)
    base = steps_to_reach(baseline["curve"]["steps"], baseline["curve"]["mean_accuracy"], target)
    if not base:
        return None
    return (run["curve"]["steps"][-1] if own is None else own) / base


def bootstrap_ci(values: list[float], seed: int = 0, reps: int = BOOTSTRAP) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean over seeds (resampling seeds with replacement)."""
    x = np.asarray(values, dtype=float)
    if len(x) == 1:
        return float(x[0]), float(x[0])
    means = x[np.random.default_rng(seed).integers(0, len(x), (reps, len(x)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def compare(strategies: dict[str, dict[str, list[Any]]], baseline: str = BASELINE) -> dict[str, dict[str, Any]]:
    """Per strategy and metric: mean and 95 % CI over seeds, and the paired difference to the baseline (the mean
    of per-seed differences) with its 95 % paired bootstrap CI. Seeds where a value is None are left out."""
    out: dict[str, dict[str, Any]] = {}
    base = strategies.get(baseline)
    for name, metrics in strategies.items():
        out[name] = {}
        for metric, values in metrics.items():
            got = [v for v in values if v is not None]
            entry: dict[str, Any] = {"n": len(got)}
            if got:
                entry |= {"mean": float(np.mean(got)), "ci": bootstrap_ci(got)}
            if base is not None and name != baseline:
                diffs = [v - b for v, b in zip(values, base[metric]) if v is not None and b is not None]
                if diffs:
                    entry |= {"diff": float(np.mean(diffs)), "diff_ci": bootstrap_ci(diffs)}
            out[name][metric] = entry
    return out


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
    drops = [max(h[cell] for h in history) - final[cell] for cell in final if cell[1] < targets[cell[0]]]
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
            train_items_per_skill=spec.train_items_per_skill,
            eval_items_per_level=spec.probe_items_per_level,
            mix=spec.mix,
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
            " FROM validations WHERE run_id = ?",
            [run_id],
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
    baseline = {r["seed"]: r for r in runs if r["strategy"] == BASELINE}
    for r in runs:
        r["sample_efficiency"] = sample_efficiency(r, baseline[r["seed"]]) if r["seed"] in baseline else None
    strategies = {name: {m: [r[m] for r in runs if r["strategy"] == name] for m in METRICS} for name in spec.strategies}
    return {
        "strategies": strategies,
        "comparison": compare(strategies),
        "config": spec.model_dump(mode="json") | {"seed_list": [spec.base_seed + i for i in range(spec.seeds)]},
        "runs": runs,
        "seconds": time.perf_counter() - started,
    }


# ---- reporting ----


COLUMNS = (  # metric, heading, digits
    ("mean_accuracy", "mean acc", 3),
    ("mastered_level", "mastered level", 2),
    ("sample_efficiency", "steps to uniform's acc (x uniform)", 2),
    ("hardest_accuracy", "hardest acc", 3),
    ("steps_to_80", "steps to 80%", 0),
    ("auc", "AUC", 3),
    ("forgetting", "forgetting", 3),
)


def _fmt(values: list[Any], digits: int = 3) -> str:
    """mean [95 % CI] over seeds; seeds without a value (steps_to_80 never reached) are counted apart."""
    got = [v for v in values if v is not None]
    if not got:
        return "never" if values else "-"
    lo, hi = bootstrap_ci(got)
    text = f"{np.mean(got):.{digits}f}" + (f" [{lo:.{digits}f}, {hi:.{digits}f}]" if len(got) > 1 else "")
    return text + (f" ({len(values) - len(got)} never)" if len(got) < len(values) else "")


def summary_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = [["strategy", *[head for _, head, _ in COLUMNS]]]
    for name, m in results["strategies"].items():
        rows.append([name, *[_fmt(m.get(metric, []), digits) for metric, _, digits in COLUMNS]])
    return rows


def difference_rows(results: dict[str, Any]) -> list[list[str]]:
    """Each strategy minus uniform, seed by seed: mean difference [95 % paired bootstrap CI]; * where the CI
    leaves out 0."""
    metrics = [c for c in COLUMNS if c[0] in ("mean_accuracy", "mastered_level", "sample_efficiency", "auc")]
    rows = [["strategy", *[f"{head} - uniform" for _, head, _ in metrics]]]
    for name, by_metric in results.get("comparison", {}).items():
        if name == BASELINE:
            continue
        cells = []
        for metric, _, digits in metrics:
            e = by_metric.get(metric, {})
            if "diff" not in e:
                cells.append("-")
                continue
            lo, hi = e["diff_ci"]
            star = "*" if lo > 0 or hi < 0 else ""
            cells.append(f"{e['diff']:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]{star}")
        rows.append([name, *cells])
    return rows


def table_text(results: dict[str, Any]) -> str:
    rows = summary_rows(results)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def _markdown_table(rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])] + [
        "| " + " | ".join(r) + " |" for r in rows[1:]
    ]


def markdown(results: dict[str, Any]) -> str:
    """The summary table, per-level accuracy at the end (mean over seeds) and the budget used."""
    cfg = results["config"]
    lines = [
        "# Curriculum benchmark",
        "",
        f"Skills (target level): {', '.join(f'{s} ({t})' for s, t in cfg['skills'].items())}. "
        f"{cfg['seeds']} seed(s), {cfg['tiers']} tiers, {cfg['steps']} training steps and "
        f"{cfg['train_items_per_skill']} fresh training items per skill per tier for every strategy; "
        f"{cfg['test_items_per_level']} held-out test items per level. Values: mean [95 % bootstrap CI] over "
        f"seeds.",
        "",
        *_markdown_table(summary_rows(results)),
        "",
        f"Mastered level: highest L with held-out accuracy >= {MASTERED:g} at every level <= L (mean over skills). "
        f"Steps to uniform's accuracy: the training steps a run needs to reach the final mean accuracy of uniform's "
        f"run with the same seed, over the steps uniform needs (1 = as many, 0.5 = half; a run that never gets there "
        f"counts its whole budget). Forgetting: largest drop of a level below the target from its best accuracy "
        f"to the end.",
    ]
    if BASELINE in results["strategies"] and len(results["strategies"]) > 1:
        lines += [
            "",
            "## Difference to uniform, paired by seed",
            "",
            *_markdown_table(difference_rows(results)),
            "",
            "Mean of the per-seed differences [95 % paired bootstrap CI]; * where the interval leaves out 0.",
            "",
            "Per seed (mean accuracy at the end | steps to uniform's accuracy, x uniform):",
            "",
        ]
        for name in results["strategies"]:
            runs = [r for r in results["runs"] if r["strategy"] == name]
            eff = ", ".join("-" if r["sample_efficiency"] is None else f"{r['sample_efficiency']:.2f}" for r in runs)
            accs = ", ".join(f"{r['mean_accuracy']:.3f}" for r in runs)
            lines.append(f"- {name}: {accs} | {eff}")
    for skill, target in cfg["skills"].items():
        head = ["strategy", *[f"L{lv}" for lv in range(1, target + 1)]]
        rows = [head]
        for name in results["strategies"]:
            runs = [r for r in results["runs"] if r["strategy"] == name]
            rows.append(
                [
                    name,
                    *[
                        f"{np.mean([r['final_accuracy'][skill][str(lv)] for r in runs]):.2f}"
                        for lv in range(1, target + 1)
                    ],
                ]
            )
        lines += ["", f"## {skill}: held-out accuracy per level at the end", "", *_markdown_table(rows)]
    lines += ["", "## training items per run (mean over seeds)", ""]
    for name in results["strategies"]:
        runs = [r for r in results["runs"] if r["strategy"] == name]
        lines.append(
            f"- {name}: {np.mean([r['train_items'] for r in runs]):.0f} items, "
            f"{np.mean([r['distinct_train_items'] for r in runs]):.0f} distinct"
        )
    adaptive = [r for r in results["runs"] if r["strategy"] == "adaptive" and r["controller_levels"]]
    if adaptive:
        lines += ["", "## adaptive: level after each tier (first seed)", ""]
        for skill in cfg["skills"]:
            trail = " -> ".join(str(t[skill]) for t in adaptive[0]["controller_levels"])
            lines.append(f"- {skill}: {trail}")
    lines += ["", f"Wall time: {results['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Left: learning curves, mean held-out accuracy over all levels vs training steps (mean over seeds, min-max
    band), uniform's final accuracy dashed. Right: steps to reach it, as a ratio to uniform (mean, 95 % CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    colours = {}
    for name in results["strategies"]:
        runs = [r for r in results["runs"] if r["strategy"] == name]
        steps = runs[0]["curve"]["steps"]
        ys = np.array([r["curve"]["mean_accuracy"] for r in runs])
        (line,) = ax.plot(steps, ys.mean(axis=0), marker="o", markersize=3, label=name)
        colours[name] = line.get_color()
        if len(runs) > 1:
            ax.fill_between(steps, ys.min(axis=0), ys.max(axis=0), alpha=0.15, color=line.get_color())
    if BASELINE in results["strategies"]:
        final = np.mean([r["curve"]["mean_accuracy"][-1] for r in results["runs"] if r["strategy"] == BASELINE])
        ax.axhline(final, color=colours[BASELINE], linestyle="--", linewidth=1)
    ax.set_xlabel("training steps")
    ax.set_ylabel("mean held-out accuracy, levels 1..target")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(", ".join(f"{s} 1..{t}" for s, t in results["config"]["skills"].items()), fontsize=9)
    names = [
        n for n in results["strategies"] if any(v is not None for v in results["strategies"][n]["sample_efficiency"])
    ]
    for i, name in enumerate(names):
        got = [v for v in results["strategies"][name]["sample_efficiency"] if v is not None]
        lo, hi = bootstrap_ci(got)
        mean = float(np.mean(got))
        bx.barh(i, mean, color=colours[name], alpha=0.8)
        bx.errorbar(mean, i, xerr=[[mean - lo], [hi - mean]], color="black", capsize=3)
    bx.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    bx.set_yticks(range(len(names)), names)
    bx.invert_yaxis()
    bx.set_xlabel("steps to uniform's final accuracy (x uniform; lower is better)")
    bx.grid(alpha=0.3, axis="x")
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
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
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
