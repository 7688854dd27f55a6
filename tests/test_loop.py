"""The tier loop: one place drives plan -> generate -> validate -> train -> evaluate -> decide, from wherever a
tier stands, and the stored plan is the plan."""

from __future__ import annotations

import pytest

from curriculum import loop, runs, steps
from curriculum.controllers import get_controller
from curriculum.lifecycle import TierStatus
from curriculum.plan import PlanEntry
from curriculum.store import Store


def test_the_loop_runs_each_step_once_in_order(tiny_config):
    calls: list[str] = []

    def record(name: str):
        step = getattr(loop.LIBRARY_STEPS, name)
        return lambda *args: (calls.append(name), step(*args))[1]

    names = ("plan", "generate", "validate", "train", "evaluate", "decide")
    do = loop.TierSteps(**{n: record(n) for n in names})
    run_id = runs.start_run(tiny_config)
    decided = loop.run_tier(tiny_config, run_id, 1, do)
    assert calls == list(names) and decided.height == 2
    assert loop.run_tier(tiny_config, run_id, 1, do) is None and len(calls) == 6  # complete: nothing redone


def test_a_stored_plan_is_never_recomputed(tiny_config, monkeypatch):
    run_id = runs.start_run(tiny_config)
    plan = steps.plan_step(tiny_config, run_id, 1)
    # the controller changes its mind after the plan was stored (a crash, then newer code): the tier keeps its plan
    adaptive = get_controller("adaptive")
    monkeypatch.setattr(type(adaptive), "plan", lambda *a: (PlanEntry("addition", 40, "train", 5),))
    loop.run_tier(tiny_config, run_id, 1)
    store = Store(tiny_config.data_dir)
    assert store.tier_plan(run_id, 1, 1) == plan
    levels = set(store.query("SELECT DISTINCT level FROM items WHERE skill = 'addition'")["level"])
    assert levels == {e.level for e in plan.entries if e.skill == "addition"} and 40 not in levels


def test_a_retry_keeps_the_plan_with_a_fresh_seed(tiny_config):
    run_id = runs.start_run(tiny_config)
    first = steps.plan_step(tiny_config, run_id, 1)
    steps.generate_step(tiny_config, run_id, 1)
    store = Store(tiny_config.data_dir)
    store.set_tier_status(run_id, 1, 1, TierStatus.REJECTED)
    second = steps.plan_step(tiny_config, run_id, 1, attempt=2)
    assert second.entries == first.entries and second.seed != first.seed


def test_a_frontier_search_skips_training(tmp_path):
    from curriculum.config import parse_config
    from tests.conftest import tiny_config_dict

    config = parse_config(
        tiny_config_dict(tmp_path / "data", strategy="frontier-search", frontier={"max_rounds": 2, "batch": 5})
    )
    calls: list[str] = []
    do = loop.TierSteps(train=lambda *args: calls.append("train"))
    run_id = runs.start_run(config)
    loop.run_tiers(config, run_id, do)
    store = Store(config.data_dir)
    rounds = store.query("SELECT count(*) n FROM tiers WHERE status = 'complete'")["n"].item()
    assert (
        calls == [] and 1 <= rounds <= 2 and store.query("SELECT count(*) n FROM search_rounds")["n"].item() == rounds
    )
    # an untrained learner fails level 1, so the search is done after its first round and the run stops there
    assert rounds == 1 and steps.finished(config, run_id)


def test_too_many_rejections_stop_the_tier(tiny_config, monkeypatch):
    from curriculum.errors import TierRejected

    def reject(config, run_id, tier, attempt):
        Store(config.data_dir).set_tier_status(run_id, tier, attempt, TierStatus.REJECTED)

    run_id = runs.start_run(tiny_config)
    with pytest.raises(TierRejected, match="failed validation 3 times"):
        loop.run_tier(tiny_config, run_id, 1, loop.TierSteps(validate=reject))
    statuses = Store(tiny_config.data_dir).query("SELECT status FROM tiers ORDER BY attempt")["status"].to_list()
    assert statuses == ["rejected"] * 3
