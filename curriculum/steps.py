"""The steps of a curriculum run, as plain functions over a Store: what the Prefect tasks call.

Each step reads what it needs from the catalogue and writes its result back before returning, so a
step can be re-run after a crash and the flow passes only ids and paths between steps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from curriculum.config import RunConfig
from curriculum.frontier import Search, conclude, describe, update
from curriculum.frontier import start as start_search
from curriculum.learners import make_learner
from curriculum.plan import PlanEntry, TierPlan
from curriculum.policy import DECISION_SCHEMA, decide, plan_tier, state_from_decisions
from curriculum.shards import generate_tier
from curriculum.skills import REGISTRY
from curriculum.store import Store, new_run_id
from curriculum.validation import ValidationReport, validate_items
from curriculum.verify import MapFn

Progress = Callable[[float], None]
EVAL_SLICE = 512  # questions per slice when a remote evaluation is spread over a task runner's workers


def start_run(config: RunConfig, run_id: str | None = None) -> str:
    """Create the catalogue if needed and record the run with its full config."""
    store = Store(config.data_dir).init()
    run_id = run_id or new_run_id()
    store.start_run(run_id, config.name, config.seed, config.learner.kind, config.tiers, config.model_dump(mode="json"))
    return run_id


def resumable_run(data_dir: Path, run_id: str | None = None) -> tuple[str, RunConfig]:
    """The run to resume (the latest unfinished one, or `run_id`) and its recorded config."""
    from curriculum.config import parse_config
    from curriculum.errors import NothingToResume
    from curriculum.report import open_store

    store = open_store(data_dir)
    store.init()  # refuses catalogues from an unknown (newer) version
    if run_id is None:
        rows = store.query("SELECT run_id, config FROM runs WHERE status <> 'completed' ORDER BY started_at DESC LIMIT 1")
        if rows.height == 0:
            raise NothingToResume(f"nothing to resume in {store.path}: every run there completed")
    else:
        rows = store.query("SELECT run_id, status, config FROM runs WHERE run_id = ?", [run_id])
        if rows.height == 0:
            raise NothingToResume(f"unknown run id {run_id!r} in {store.path}")
        if rows["status"][0] == "completed":
            raise NothingToResume(f"run {run_id} already completed")
    raw = json.loads(rows["config"][0])
    raw["data_dir"] = str(data_dir)  # the catalogue may have moved since the run started
    store.reopen_run(rows["run_id"][0])
    return rows["run_id"][0], parse_config(raw, f"run {rows['run_id'][0]}")


def tier_status(config: RunConfig, run_id: str, tier: int) -> tuple[int, str]:
    """(latest attempt, its status) of a tier, or (1, "new") when nothing of it was written yet."""
    rows = Store(config.data_dir).query(
        "SELECT attempt, status FROM tiers WHERE run_id = ? AND tier = ? ORDER BY attempt DESC LIMIT 1", [run_id, tier]
    )
    return (1, "new") if rows.height == 0 else (rows["attempt"][0], rows["status"][0])


def run_dir(config: RunConfig, run_id: str) -> Path:
    return Path(config.data_dir) / "runs" / run_id


def next_plan(config: RunConfig, run_id: str, tier: int, attempt: int = 1) -> TierPlan:
    """The plan for a tier from the controller state in `decisions`; a retry gets a fresh seed.

    In frontier mode a tier is one round of probes: `frontier.batch` fresh held-out items at the level
    each unfinished skill's search asks for."""
    if config.run_mode == "frontier":
        entries = tuple(
            PlanEntry(skill, search.level, "eval", config.frontier.batch, "probe")
            for skill, search in search_states(config, run_id).items()
            if not search.done(config.frontier.max_level)
        )
        plan = TierPlan(tier, config.seed, entries)
    else:
        state = state_from_decisions(config, Store(config.data_dir).latest_levels(run_id))
        plan = plan_tier(config, state, tier)
    return TierPlan(plan.tier, plan.seed + 7_919 * (attempt - 1), plan.entries)


def search_states(config: RunConfig, run_id: str) -> dict[str, Search]:
    """Each skill's frontier search, from its latest decision (a fresh search from its start level if none)."""
    states = {s.name: start_search(s.start_level) for s in config.skills}
    for row in Store(config.data_dir).latest_levels(run_id).iter_rows(named=True):
        if row["skill"] in states and row["rule"] == "frontier-search":
            states[row["skill"]] = Search.from_json(json.loads(row["evidence"])["search"])
    return states


def search_finished(config: RunConfig, run_id: str) -> bool:
    return all(s.done(config.frontier.max_level) for s in search_states(config, run_id).values())


def generate_step(config: RunConfig, run_id: str, tier: int, attempt: int = 1, map_fn: MapFn = map) -> Path:
    """Generate and store a tier's items; items already seen earlier in the run are not drawn again.

    `map_fn` runs the tier's shards (flows.runners.map_shards on a task runner); the items do not depend on it.
    """
    store = Store(config.data_dir)
    plan = next_plan(config, run_id, tier, attempt)
    earlier = store.accepted_items(run_id, tier)
    exclude = set(earlier["item_id"].to_list())
    items = generate_tier(plan, exclude, map_fn, config.execution.max_items_per_shard)
    if config.teacher is not None:  # model-written items, each re-verified by the project before it is kept
        items = pl.concat([items, teach(config, run_id, tier, attempt, plan.seed, items)])
    if config.anchor is not None and config.anchor.ratio > 0:  # real items, tagged source = real
        from curriculum.anchor import load_anchor, mix_anchor

        anchor = load_anchor(config.anchor.path, config.anchor.domain)
        items = mix_anchor(items, anchor, config.anchor.ratio, plan.seed, exclude)
    return store.write_tier(run_id, tier, attempt, plan.seed, plan.to_json(), items)


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
        n = round(share * train.height)
        if n == 0:
            continue
        sources = train.sample(n, seed=seed + len(task_name), shuffle=True)
        accepted, rejected = fn(cfg.endpoint, sources, seed=seed, **extra)
        taught.append(accepted.cast(ITEM_SCHEMA))
        outcomes.append(pl.DataFrame({"task": task_name, "outcome": "accepted", "count": accepted.height}))
        outcomes.append(rejected.select(pl.lit(task_name).alias("task"), pl.col("reason").alias("outcome"), "count"))
    if outcomes:
        frame = pl.concat(outcomes, how="vertical_relaxed")
        Store(config.data_dir).write_teacher_outcomes(run_id, tier, attempt, frame)
    fresh = pl.concat(taught) if taught else items.clear()
    return fresh.filter(~pl.col("item_id").is_in(items["item_id"].implode()))


def validate_step(config: RunConfig, run_id: str, tier: int, attempt: int = 1, map_fn: MapFn = map) -> ValidationReport:
    """Run the suite on a stored tier, record one row per expectation, mark the tier validated or rejected."""
    store = Store(config.data_dir)
    items = store.tier_items(run_id, tier, attempt)
    plan = next_plan(config, run_id, tier, attempt)
    earlier = store.accepted_items(run_id, tier)
    report = validate_items(
        items,
        plan,
        earlier_train=earlier.filter(pl.col("split") == "train")["item_id"].to_list(),
        earlier_eval=earlier.filter(pl.col("split") == "eval")["item_id"].to_list(),
        docs_dir=Path(config.data_dir) / "docs",
        map_fn=map_fn,
    )
    store.write_validations(run_id, tier, attempt, report.results)
    store.set_tier_status(run_id, tier, attempt, "validated" if report.success else "rejected")
    return report


def train_step(config: RunConfig, run_id: str, tier: int, attempt: int, on_progress: Progress | None = None) -> dict[str, Any]:
    """Train the learner on the tier's train items plus replay of every earlier accepted tier."""
    store = Store(config.data_dir)
    items = store.tier_items(run_id, tier, attempt)
    replay = store.accepted_items(run_id, tier)
    learner = make_learner(config.learner, run_dir(config, run_id), config.seed)
    # the tag makes a redo after a crash a no-op when the checkpoint already holds this tier's training
    stats = learner.train(items, replay if replay.height else None, on_progress=on_progress, tag=f"tier-{tier}")
    store.set_tier_status(run_id, tier, attempt, "trained", stats)
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
    store.set_tier_status(run_id, tier, attempt, "evaluated")
    return scored


def decide_step(config: RunConfig, run_id: str, tier: int, attempt: int) -> pl.DataFrame:
    """Move each skill's frontier from this tier's probes; every decision is stored with its evidence."""
    if config.run_mode == "frontier":
        return frontier_decide_step(config, run_id, tier, attempt)
    store = Store(config.data_dir)
    state = state_from_decisions(config, store.latest_levels(run_id))
    scored = store.query("SELECT * FROM evaluations WHERE run_id = ? AND tier = ?", [run_id, tier])
    _, decisions = decide(config, state, scored)
    store.write_decisions(run_id, tier, decisions)
    store.set_tier_status(run_id, tier, attempt, "complete")
    return decisions


def frontier_decide_step(config: RunConfig, run_id: str, tier: int, attempt: int) -> pl.DataFrame:
    """Move each unfinished skill's frontier search on by this round's probe; one decision row per skill."""
    store = Store(config.data_dir)
    scored = store.query(
        "SELECT skill, level, correct FROM evaluations WHERE run_id = ? AND tier = ? AND source <> 'real'", [run_id, tier]
    )
    cfg, rows = config.frontier, []
    for skill, search in search_states(config, run_id).items():
        if search.done(cfg.max_level):
            continue
        probe = scored.filter((pl.col("skill") == skill) & (pl.col("level") == search.level))
        correct, n = int(probe["correct"].sum()), probe.height
        if n == 0:  # no fresh held-out items left at this level: decide on what it has
            after, action = conclude(search, cfg)
        else:
            after, action = update(search, correct, n, cfg)
        done = after.done(cfg.max_level)
        rows.append({
            "skill": skill, "level_before": search.level, "level_after": after.frontier if done else after.level,
            "action": "done" if done else action, "rule": "frontier-search",
            "accuracy": None if n == 0 else correct / n, "n_eval": n,
            "evidence": json.dumps({"search": after.to_json(), "probe": {"level": search.level, "correct": correct, "n": n}}),
            "reason": describe(skill, after, action, cfg.max_level),
        })
    decisions = pl.DataFrame(rows, schema=DECISION_SCHEMA)
    store.write_decisions(run_id, tier, decisions)
    store.set_tier_status(run_id, tier, attempt, "complete")
    return decisions


def tier_summary(decisions: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows for the per-tier table artifact: skill, level before/after, accuracy, action."""
    return [
        {
            "skill": r["skill"],
            "level": r["level_before"],
            "accuracy": None if r["accuracy"] is None else round(r["accuracy"], 3),
            "n_eval": r["n_eval"],
            "next_level": r["level_after"],
            "action": r["action"],
            "accuracy_by_level": json.loads(r["evidence"]).get("accuracy_by_level", {}),
        }
        for r in decisions.iter_rows(named=True)
    ]
