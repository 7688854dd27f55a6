"""A whole run with the openai learner against a real HTTP server on 127.0.0.1 speaking the protocol."""

from __future__ import annotations

import pytest

from curriculum.config import parse_config
from curriculum.skills import REGISTRY
from curriculum.store import Store
from tests.conftest import tiny_config_dict
from tests.openai_server import FakeOpenAI
from tests.test_steps import run_tiers

KEY = "sk-run-secret-0123456789"


def two_digit_model(question: str) -> str | None:
    """A model that compares numbers of up to two digits and fails on longer ones."""
    answer = REGISTRY["comparison"].solve({"question": question})
    return answer if len(answer) <= 2 else "0"


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAI(api_key=KEY, models=("tiny-model",), answer_fn=two_digit_model) as srv:
        yield srv


def test_evaluate_only_run_finds_the_frontier_and_stores_usage(server, tmp_path):
    raw = tiny_config_dict(tmp_path / "data", tiers=3, skills=[{"name": "comparison"}])
    raw["learner"] = {"kind": "openai", "base_url": server.url, "model": "tiny-model", "concurrency": 4,
                      "backoff_base_s": 0.01}
    config = parse_config(raw)
    run_id = run_tiers(config, 3)
    store = Store(config.data_dir)
    levels = store.query("SELECT tier, level_before, level_after FROM decisions ORDER BY tier").rows()
    # L1 and L2 pass at once (a skip to 3); L3 fails twice in a row, so the frontier settles back at 2
    assert levels == [(1, 1, 3), (2, 3, 3), (3, 3, 2)]
    evals = store.query("SELECT * FROM evaluations")
    assert evals["latency_ms"].min() > 0 and evals["prompt_tokens"].min() > 0
    assert evals["error"].null_count() == evals.height
    assert evals.filter(evals["level"] <= 2)["correct"].all()
    assert not evals.filter(evals["level"] >= 3)["correct"].any()
    dump = store.query("SELECT config FROM runs")["config"].item()
    assert KEY not in dump and run_id
    assert all(KEY not in str(r.headers) for r in server.requests)
