"""Shared fixtures: a tiny run config in a temp data dir, and a real Prefect API for flow tests."""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest

from curriculum.config import RunConfig, parse_config
from curriculum.plan import PlanEntry, TierPlan

# a small tier of a maths and a logic skill whose every key is served by its first chunk
SMALL_PLAN = TierPlan(
    tier=1,
    seed=3,
    entries=(
        PlanEntry("addition", 2, "train", 200),
        PlanEntry("addition", 2, "eval", 30, "probe"),
        PlanEntry("boolean_eval", 2, "train", 100),
        PlanEntry("boolean_eval", 3, "eval", 30, "probe"),
    ),
)


def tiny_config_dict(data_dir, **overrides) -> dict:
    raw = {
        "name": "test",
        "seed": 1,
        "tiers": 2,
        "data_dir": str(data_dir),
        "skills": [{"name": "addition"}, {"name": "boolean_eval"}],
        "tier": {"train_items_per_skill": 60, "eval_items_per_level": 8},
        "learner": {
            "steps_per_tier": 4,
            "batch_size": 8,
            "threads": 1,
            "model": {"n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 64},
        },
    }
    raw.update(overrides)
    return raw


@pytest.fixture
def tiny_config(tmp_path) -> RunConfig:
    return parse_config(tiny_config_dict(tmp_path / "data"))


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """A real (temporary) Prefect API for the whole session; results stay in a temp dir."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_RESULTS_LOCAL_STORAGE_PATH,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    results = tmp_path_factory.mktemp("prefect-results")
    with temporary_settings(
        updates={PREFECT_RESULTS_LOCAL_STORAGE_PATH: str(results), PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    ):
        with prefect_test_harness(server_startup_timeout=60):
            yield
