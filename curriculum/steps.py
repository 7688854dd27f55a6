"""The steps of a tier, as plain functions over a Store: what the Prefect tasks, the benchmark and trainer
adapters call, in the order curriculum.loop.run_tier drives them: plan, generate, validate, train,
evaluate, decide.

Each step reads what it needs from the catalogue and writes its result back before returning, moving the
tier attempt on in its lifecycle (curriculum.lifecycle), so a step can be re-run after a crash and callers
pass only ids and numbers between steps. The plan is computed once per attempt and stored: generate and
validate read it back, so a resume under newer code never recomputes a different one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from curriculum import seeds
from curriculum.config import RunConfig
from curriculum.controllers import Controller, get_controller
from curriculum.learners import make_learner
from curriculum.lifecycle import TierStatus
from curriculum.plan import TierPlan
from curriculum.shards import generate_tier
from curriculum.skills import REGISTRY
from curriculum.store import Store
from curriculum.validation import ValidationReport, validate_items
from curriculum.verify import MapFn

Progress = Callable[[float], None]
EVAL_SLICE = 512  # questions per slice when a remote evaluation is spread over a task runner's workers


def run_dir(config: RunConfig, run_id: str) -> Path:
    return Path(config.data_dir) / "runs" / run_id


def controller_of(config: RunConfig) -> Controller:
    return get_controller(config.controller)


def controller_state(config: RunConfig, run_id: str) -> dict[str, Any]:
    """The run's controller state, rebuilt from each skill's latest decision."""
    return controller_of(config).state(config, Store(config.data_dir).latest_decisions(run_id))


def finished(config: RunConfig, run_id: str) -> bool:
    """Whether the controller is done before its last tier (a frontier search that found every frontier)."""
    return controller_of(config).finished(config, controller_state(config, run_id))


def plan_step(config: RunConfig, run_id: str, tier: int, attempt: int = 1) -> TierPlan:
    """Plan a tier attempt once and store it. The first attempt asks the controller; a retry after a rejected
    attempt keeps that attempt's entries with a fresh seed (nothing the controller reads has changed)."""
    store = Store(config.data_dir)
    if attempt == 1:
        entries = controller_of(config).plan(config, controller_state(config, run_id), tier)
    else:
        entries = store.tier_plan(run_id, tier, attempt - 1).entries
    plan = TierPlan(tier, seeds.attempt_seed(config.seed, attempt), served(entries))
    store.write_plan(run_id, tier, attempt, plan)
    return plan


def served(entries) -> tuple:
    """The plan within the levels each skill serves: training items above a skill's top level go to its top
    level, probes above it are dropped (a controller asking for more than a skill has gets what it has)."""
    from dataclasses import replace

    out = []
    for e in entries:
        top = REGISTRY[e.skill].max_level if e.skill in REGISTRY else None
        if top is None or e.level <= top:
            out.append(e)
        elif e.split == "train":
            out.append(replace(e, level=top))
    return tuple(out)


def generate_step(config: RunConfig, run_id: str, tier: int, attempt: int = 1, map_fn: MapFn = map) -> Path:
    """Generate and store the items of a tier attempt's stored plan; items already seen earlier in the run
    are not drawn again.

    `map_fn` runs the tier's shards (flows.runners.map_shards on a task runner); the items do not depend on it.
    """
    store = Store(config.data_dir)
    plan = store.tier_plan(run_id, tier, attempt)
    earlier = store.accepted_items(run_id, tier)
    exclude = set(earlier["item_id"].to_list())
    items = generate_tier(plan, exclude, map_fn, config.execution.max_items_per_shard)
    if config.teacher is not None:  # model-written items, each re-verified by the project before it is kept
        items = pl.concat([items, teach(config, run_id, tier, attempt, plan.seed, items)])
    if config.anchor is not None and config.anchor.ratio > 0:  # real items, tagged source = real
        from curriculum.anchor import load_anchor, mix_anchor

        anchor = load_anchor(config.anchor.path, config.anchor.domain)
        items = mix_anchor(items, anchor, config.anchor.ratio, plan.seed, exclude)
    return store.write_tier(run_id, tier, attempt, items)


def teach(config: RunConfig, run_id: str, tier: int, attempt: int, seed: int, items: pl.DataFrame) -> pl.DataFrame:
    """Teacher items from a seeded sample of the tier's procedural training items; every outcome (accepted,
    or rejected by reason) is counted in `teacher_outcomes`. Only training items are rewritten: held-out
    probes stay procedural."""
    from curriculum.items import ITEM_SCHEMA
    from curriculum.teacher import harder_variants, rewrite_as_word_problems

    cfg = config.teacher
    train = items.filter((pl.col("split") == "train") & (pl.col("source") == "procedural"))
    taught, outcomes = [], []
    for task_name, share, fn, extra in (
        ("rewrite", cfg.rewrite_share, rewrite_as_word_problems, {"k_samples": cfg.k_samples}),
        ("variant", cfg.variant_share, harder_variants, {}),
    ):
        sources = teacher_sample(train, share, seed, task_name)
        if sources.height == 0:
            continue
        accepted, rejected = fn(cfg.endpoint, sources, seed=seed, **extra)
        taught.append(accepted.cast(ITEM_SCHEMA))
        outcomes.append(pl.DataFrame({"task": task_name, "outcome": "accepted", "count": accepted.height}))
        outcomes.append(rejected.select(pl.lit(task_name).alias("task"), pl.col("reason").alias("outcome"), "count"))
    if outcomes:
        frame = pl.concat(outcomes, how="vertical_relaxed")
        Store(config.data_dir).write_teacher_outcomes(run_id, tier, attempt, frame)
    fresh = pl.concat(taught) if taught else items.clear()
    return fresh.filter(~pl.col("item_id").is_in(items["item_id"].implode()))


def teacher_sample(train: pl.DataFrame, share: float, seed: int, task: str) -> pl.DataFrame:
    """The seeded share of a tier's procedural training items one teacher task starts from: each task its
    own draw, so rewrites and variants do not start from the same rows."""
    n = round(share * train.height)
    return train.sample(n, seed=seeds.derive(seed, "teacher", task), shuffle=True) if n else train.clear()


def validate_step(config: RunConfig, run_id: str, tier: int, attempt: int = 1, map_fn: MapFn = map) -> ValidationReport:
    """Run the suite on a stored tier against its stored plan, record one row per expectation, mark the tier
    validated or rejected."""
    store = Store(config.data_dir)
    items = store.tier_items(run_id, tier, attempt)
    earlier = store.accepted_items(run_id, tier)
    report = validate_items(
        items,
        store.tier_plan(run_id, tier, attempt),
        earlier_train=earlier.filter(pl.col("split") == "train")["item_id"].to_list(),
        earlier_eval=earlier.filter(pl.col("split") == "eval")["item_id"].to_list(),
        docs_dir=Path(config.data_dir) / "docs" if config.validation.data_docs else None,
        map_fn=map_fn,
    )
    store.write_validations(run_id, tier, attempt, report.results)
    store.set_tier_status(run_id, tier, attempt, TierStatus.VALIDATED if report.success else TierStatus.REJECTED)
    return report


def train_step(
    config: RunConfig, run_id: str, tier: int, attempt: int, on_progress: Progress | None = None
) -> dict[str, Any]:
    """Train the learner on the tier's train items plus replay of every earlier accepted tier."""
    store = Store(config.data_dir)
    items = store.tier_items(run_id, tier, attempt)
    replay = store.accepted_items(run_id, tier)
    learner = make_learner(config.learner, run_dir(config, run_id), config.seed)
    # the tag makes a redo after a crash a no-op when the checkpoint already holds this tier's training
    stats = learner.train(items, replay if replay.height else None, on_progress=on_progress, tag=f"tier-{tier}")
    store.set_tier_status(run_id, tier, attempt, TierStatus.TRAINED, stats)
    return stats


def score(items: pl.DataFrame, predictions: list[str]) -> pl.DataFrame:
    """Exact verification of each prediction by its skill's verifier (real items: normalised exact match)."""
    from curriculum.anchor import verify_exact

    correct = []
    for row, pred in zip(items.iter_rows(named=True), predictions):
        skill = REGISTRY.get(row["skill"])
        try:
            if row.get("source") == "real":
                correct.append(verify_exact(row, pred))
                continue
            correct.append(bool(skill is not None and skill.verify(row, pred)))
        except Exception:
            correct.append(False)
    return items.select("item_id", "skill", "domain", "level", "source", "question", "answer").with_columns(
        pl.Series("prediction", predictions, dtype=pl.String), pl.Series("correct", correct, dtype=pl.Boolean)
    )


def evaluate_step(config: RunConfig, run_id: str, tier: int, attempt: int, map_fn: MapFn | None = None) -> pl.DataFrame:
    """Greedy answers on the tier's held-out items, scored and stored.

    With `map_fn`, a remote model's questions go out in slices (each with the configured concurrency),
    e.g. one per Dask worker; the local learner always answers in the flow's process, where it trained.
    """
    store = Store(config.data_dir)
    held = store.tier_items(run_id, tier, attempt).filter(pl.col("split") == "eval")
    learner = make_learner(config.learner, run_dir(config, run_id), config.seed)
    questions = held["question"].to_list()
    if hasattr(learner, "answer_records"):  # remote models: keep latency, token usage and per-item errors
        if map_fn is None:
            records = learner.answer_records(questions)
        else:
            from functools import partial

            from curriculum.learners.openai_chat import answer_slice

            slices = [questions[i : i + EVAL_SLICE] for i in range(0, len(questions), EVAL_SLICE)]
            answer = partial(answer_slice, learner.config, config.seed)  # the model trained so far, if any
            records = [r for part in map_fn(answer, slices) for r in part]
        scored = score(held, [r.prediction or "" for r in records]).with_columns(
            pl.Series("latency_ms", [r.latency_ms for r in records], dtype=pl.Float64),
            pl.Series("prompt_tokens", [r.prompt_tokens for r in records], dtype=pl.Int64),
            pl.Series("completion_tokens", [r.completion_tokens for r in records], dtype=pl.Int64),
            pl.Series("error", [r.error for r in records], dtype=pl.String),
        )
    else:
        scored = score(held, learner.answer(questions))
    scored = scored.with_columns(pl.lit(config.learner.kind).alias("learner"))
    store.write_evaluations(run_id, tier, scored)
    store.set_tier_status(run_id, tier, attempt, TierStatus.EVALUATED)
    return scored


def decide_step(config: RunConfig, run_id: str, tier: int, attempt: int) -> pl.DataFrame:
    """The controller's decisions from this tier's probes, one row per skill with its evidence and reason.
    Real (anchor) items are reported apart and never reach the controller."""
    store = Store(config.data_dir)
    controller = controller_of(config)
    state = controller.state(config, store.latest_decisions(run_id))
    scored = store.query(
        "SELECT * FROM evaluations WHERE run_id = ? AND tier = ? AND coalesce(source, '') <> 'real'", [run_id, tier]
    )
    _, decisions = controller.decide(config, state, scored, tier)
    store.write_decisions(run_id, tier, decisions)
    store.set_tier_status(run_id, tier, attempt, TierStatus.COMPLETE)
    return decisions
