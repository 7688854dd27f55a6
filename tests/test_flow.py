"""The Prefect flow on a real (temporary) Prefect API: every step lands in the catalogue."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curriculum.config import parse_config
from curriculum.errors import TierRejected
from curriculum.skills import REGISTRY, Batch, Skill
from curriculum.skills.answers import verify_int
from curriculum.skills.arithmetic import addition_params
from curriculum.store import Store
from tests.conftest import tiny_config_dict


def test_flow_runs_tiers_end_to_end(prefect_api, tmp_path):
    from prefect.client.orchestration import get_client

    from flows.curriculum_flow import curriculum_run

    config = parse_config(tiny_config_dict(tmp_path / "data", tiers=2))
    run_id = curriculum_run(config)
    store = Store(config.data_dir)
    runs = store.query("SELECT * FROM runs")
    assert runs.row(0, named=True)["status"] == "completed" and runs["run_id"].item() == run_id
    tiers = store.query("SELECT tier, status, n_train, n_eval FROM tiers ORDER BY tier")
    assert tiers["tier"].to_list() == [1, 2] and set(tiers["status"]) == {"complete"}
    assert (tiers["n_train"] > 0).all() and (tiers["n_eval"] > 0).all()
    assert store.query("SELECT count(*) n FROM validations WHERE NOT success")["n"].item() == 0
    decisions = store.query("SELECT * FROM decisions")
    assert decisions.height == 4 and decisions["reason"].str.contains("level").all()
    evals = store.query("SELECT * FROM evaluations")
    assert set(evals["skill"]) == {"addition", "boolean_eval"}
    items = store.query("SELECT item_id, split FROM items")
    assert not set(evals["item_id"]) & set(items.filter(pl.col("split") == "train")["item_id"])

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts()

    import asyncio

    found = asyncio.run(artifacts())
    assert {"table", "markdown", "progress"} <= {a.type for a in found}
    explained = [a for a in found if a.type == "markdown" and f"Run {run_id}, tier" in (a.description or "")]
    assert len(explained) == 2  # one per tier, a sentence per skill
    assert all(str(a.data).count("\n- ") == 2 and "level" in str(a.data) for a in explained)


@pytest.fixture
def broken_skill():
    """A skill whose gold answers are wrong: validation must stop it before any training."""

    def generate(rng: np.random.Generator, level: int, n: int) -> Batch:
        a = rng.integers(10, 99, n).tolist()
        return Batch([f"{x} + 1 =" for x in a], [str(x + 2) for x in a])

    skill = Skill("broken_sum", "maths", "wrong on purpose", addition_params, generate, verify_int,
                  solve=lambda item: str(int(item["question"].split(" + ")[0]) + 1))
    REGISTRY[skill.name] = skill
    yield skill
    del REGISTRY[skill.name]


def test_failing_tier_is_recorded_and_never_trained_on(prefect_api, tmp_path, broken_skill):
    from flows.curriculum_flow import curriculum_run

    raw = tiny_config_dict(tmp_path / "data", skills=[{"name": "broken_sum"}, {"name": "addition"}])
    raw["validation"] = {"max_attempts": 2}
    config = parse_config(raw)
    with pytest.raises(TierRejected, match="failed validation 2 times"):
        curriculum_run(config)
    store = Store(config.data_dir)
    tiers = store.query("SELECT attempt, status, train_stats FROM tiers ORDER BY attempt")
    assert tiers["status"].to_list() == ["rejected", "rejected"]
    assert tiers["train_stats"].is_null().all()
    failed = store.query("SELECT DISTINCT \"column\" FROM validations WHERE NOT success")
    assert failed["column"].to_list() == ["check_gold_verified"]
    assert store.query("SELECT status FROM runs")["status"].item() == "failed"
    assert store.query("SELECT count(*) n FROM evaluations")["n"].item() == 0
    assert not list((config.data_dir / "runs").glob("*/learner.pt"))
