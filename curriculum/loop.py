"""The tier loop, once: plan -> generate -> validate -> train -> evaluate -> decide, for every caller.

`run_tier` carries one tier from wherever the catalogue says it stands to complete (a rejected attempt is
planned again with a fresh seed, up to `validation.max_attempts`); `run_tiers` does that for each tier of a
run until the controller is finished. Callers choose how each step runs through `TierSteps`: the plain
library steps (the benchmark, tests, trainer adapters) or the Prefect tasks that wrap them (flows/), so
what the benchmark measures is exactly what a run does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from curriculum import steps
from curriculum.config import RunConfig
from curriculum.errors import TierRejected
from curriculum.lifecycle import ACCEPTED, TierStatus
from curriculum.store import Store

Step = Callable[[RunConfig, str, int, int], Any]  # (config, run_id, tier, attempt) -> anything


@dataclass(frozen=True)
class TierSteps:
    """How each step of a tier runs; each takes (config, run_id, tier, attempt) and records its own result."""

    plan: Step = steps.plan_step
    generate: Step = steps.generate_step
    validate: Step = steps.validate_step
    train: Step = steps.train_step
    evaluate: Step = steps.evaluate_step
    decide: Step = steps.decide_step


LIBRARY_STEPS = TierSteps()


def run_tier(
    config: RunConfig, run_id: str, tier: int, do: TierSteps = LIBRARY_STEPS, until: TierStatus = TierStatus.COMPLETE
) -> Any:
    """Carry one tier to complete, redoing only what the catalogue does not hold yet; returns what the
    decide step returned, or None when the tier was already complete. `until` validated stops at an
    accepted tier (an external trainer takes it from there)."""
    store = Store(config.data_dir)
    trains = steps.controller_of(config).trains
    attempt, status = store.tier_status(run_id, tier)
    if status is TierStatus.COMPLETE:
        return None
    while True:
        if until is TierStatus.VALIDATED and status in ACCEPTED:
            return None
        if status in (TierStatus.NEW, TierStatus.REJECTED):
            if status is TierStatus.REJECTED:
                attempt += 1
            if attempt > config.validation.max_attempts:
                raise TierRejected(
                    f"tier {tier} failed validation {config.validation.max_attempts} times; "
                    f"see: SELECT * FROM validations WHERE run_id = '{run_id}' AND NOT success"
                )
            do.plan(config, run_id, tier, attempt)
        elif status is TierStatus.PLANNED:
            do.generate(config, run_id, tier, attempt)
        elif status is TierStatus.GENERATED:
            do.validate(config, run_id, tier, attempt)
        elif status is TierStatus.VALIDATED and trains:
            do.train(config, run_id, tier, attempt)
        elif status in (TierStatus.VALIDATED, TierStatus.TRAINED):
            do.evaluate(config, run_id, tier, attempt)
        else:  # evaluated
            return do.decide(config, run_id, tier, attempt)
        attempt, status = store.tier_status(run_id, tier)


def run_tiers(
    config: RunConfig,
    run_id: str,
    do: TierSteps = LIBRARY_STEPS,
    on_tier: Callable[[int, Any], None] | None = None,
) -> None:
    """Every tier of a run in order (a resumed run skips what is complete), until the controller is finished;
    `on_tier(tier, decided)` after each tier (decided is None for a tier that was already complete)."""
    for tier in range(1, steps.controller_of(config).max_tiers(config) + 1):
        if steps.finished(config, run_id):
            break
        decided = run_tier(config, run_id, tier, do)
        if on_tier is not None:
            on_tier(tier, decided)
