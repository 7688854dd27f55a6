"""The Prefect flow on a real (temporary) Prefect API: every step lands in the catalogue."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from curriculum.artifacts import key
from curriculum.config import parse_config
from curriculum.errors import TierRejected
from curriculum.skills import REGISTRY, Batch, Skill
from curriculum.skills.answers import verify_int
from curriculum.skills.arithmetic import addition_params
from curriculum.store import Store
from tests.conftest import tiny_config_dict


def test_flow_runs_tiers_end_to_end(prefect_api, tmp_path):

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

    by_key = artifacts_by_key()
    levels = by_key[key(run_id, "levels")]  # one version per tier, flat columns only
    assert [a.type for a in levels] == ["table", "table"]
    for artifact in levels:
        rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
        assert {r["skill"] for r in rows} == {"addition", "boolean_eval"}
        assert all(not isinstance(v, (dict, list)) for r in rows for v in r.values())
        assert {"level", "accuracy", "accuracy_below", "accuracy_above", "next_level"} <= set(rows[0])
    explained = by_key[key(run_id, "decisions")]
    assert len(explained) == 2  # one per tier, a sentence per skill
    assert all(str(a.data).count("\n- ") == 2 and "level" in str(a.data) for a in explained)
    validation = by_key[key(run_id, "validation")]
    assert len(validation) == 2 and all(a.type == "markdown" for a in validation)
    text = str(validation[0].data)
    assert "validation **passed**" in text and "Next: accepted" in text
    assert "| expect_column_values_to_be_in_set | check_gold_verified | pass |" in text
    assert str(tmp_path / "data" / "docs" / "index.html") in text and "file://" not in text
    summary = by_key[key(run_id, "summary")]
    assert len(summary) == 1 and "data:image/png;base64," in str(summary[0].data)
    assert len(by_key[key(run_id, "training")]) == 2 and {a.type for a in by_key[key(run_id, "training")]} == {
        "progress"
    }
    names = [e.event for e in curriculum_events(run_id, expect="curriculum.run.completed")]
    assert names.count("curriculum.tier.generated") == 2 and names.count("curriculum.tier.validated") == 2
    assert names.count("curriculum.run.completed") == 1 and "curriculum.tier.rejected" not in names


def artifacts_by_key() -> dict[str, list]:
    """Every artifact on the API, grouped by key, oldest version first."""
    import asyncio

    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            return await client.read_artifacts()

    grouped: dict[str, list] = {}
    for artifact in sorted(asyncio.run(read()), key=lambda a: a.created):
        if artifact.key:
            grouped.setdefault(artifact.key, []).append(artifact)
    return grouped


def curriculum_events(run_id: str, expect: str, timeout: float = 30.0) -> list:
    """The `curriculum.*` events of a run as the API stored them, once `expect` has arrived (events are
    persisted by the server shortly after they are emitted)."""
    import asyncio
    import time

    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    async def read():
        async with get_client() as client:
            flt = EventFilter(
                event=EventNameFilter(prefix=["curriculum."]),
                resource=EventResourceFilter(id=[f"curriculum.run.{run_id}"]),
            )
            page = await client.read_events(filter=flt, limit=50)
            return sorted(page.events, key=lambda e: e.occurred)

    deadline = time.monotonic() + timeout
    while True:
        events = asyncio.run(read())
        if any(e.event == expect for e in events) or time.monotonic() > deadline:
            return events
        time.sleep(0.5)


@pytest.fixture
def broken_skill():
    """A skill whose gold answers are wrong: validation must stop it before any training."""

    def generate(rng: np.random.Generator, level: int, n: int) -> Batch:
        a = rng.integers(10, 99, n).tolist()
        return Batch([f"{x} + 1 =" for x in a], [str(x + 2) for x in a])

    skill = Skill(
        "broken_sum",
        "maths",
        "wrong on purpose",
        addition_params,
        generate,
        verify_int,
        solve=lambda item: str(int(item["question"].split(" + ")[0]) + 1),
    )
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
    failed = store.query('SELECT DISTINCT "column" FROM validations WHERE NOT success')
    assert failed["column"].to_list() == ["check_gold_verified"]
    assert store.query("SELECT status FROM runs")["status"].item() == "failed"
    assert store.query("SELECT count(*) n FROM evaluations")["n"].item() == 0
    assert not list((config.data_dir / "runs").glob("*/learner.pt"))
    rejected = curriculum_events(
        store.query("SELECT run_id FROM runs")["run_id"].item(), expect="curriculum.run.failed"
    )
    names = [e.event for e in rejected]
    assert names.count("curriculum.tier.rejected") == 2 and names[-1] == "curriculum.run.failed"
    last = [e for e in rejected if e.event == "curriculum.tier.rejected"][-1]
    assert last.resource["curriculum.tier"] == "1" and last.payload["final"] is True
    assert last.payload["failed_expectations"] == ["expect_column_values_to_be_in_set"]


def test_a_failing_artifact_post_never_fails_a_tier(prefect_api, tmp_path, monkeypatch):
    import flows.curriculum_flow as module

    def down(*args, **kwargs):
        raise ConnectionError("server hiccup")

    monkeypatch.setattr(module, "create_table_artifact", down)
    monkeypatch.setattr(module, "emit_event", down)
    config = parse_config(tiny_config_dict(tmp_path / "data", tiers=1))
    run_id = module.curriculum_run(config)
    assert (
        Store(config.data_dir).query("SELECT status FROM runs WHERE run_id = ?", [run_id])["status"].item()
        == "completed"
    )
