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


def test_curriculum_mode_with_a_remote_model_moves_the_level_and_stores_usage(server, tmp_path):
    raw = tiny_config_dict(tmp_path / "data", tiers=3, skills=[{"name": "comparison"}], strategy="adaptive")
    raw["learner"] = {
        "kind": "openai",
        "base_url": server.url,
        "model": "tiny-model",
        "concurrency": 4,
        "backoff_base_s": 0.01,
    }
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


def digits_model(limit: int):
    """A model that compares numbers of up to `limit` digits and fails on longer ones."""

    def answer(question: str) -> str | None:
        solved = REGISTRY["comparison"].solve({"question": question})
        return solved if len(solved) <= limit else "0"

    return answer


def test_evaluate_only_run_searches_the_frontier_in_few_items(prefect_api, monkeypatch, tmp_path):
    """mode auto + an openai learner = adaptive frontier search: gallop 1, 2, 4, 8, 16 then bisect to 11."""
    from curriculum.report import frontier_table
    from flows.curriculum_flow import curriculum_run

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAI(api_key=KEY, models=("tiny-model",), answer_fn=digits_model(11)) as srv:
        raw = tiny_config_dict(tmp_path / "data", skills=[{"name": "comparison"}])
        raw["learner"] = {"kind": "openai", "base_url": srv.url, "model": "tiny-model", "backoff_base_s": 0.01}
        config = parse_config(raw)
        assert config.controller == "frontier-search"
        run_id = curriculum_run(config)
    store = Store(config.data_dir)
    table = frontier_table(store, run_id).row(0, named=True)
    assert table["frontier"] == "11" and table["finished"]
    probed = [int(p.split(":")[0][1:]) for p in table["probes"].split(", ")]
    assert probed[:5] == [1, 2, 4, 8, 16] and set(probed[5:]) <= set(range(9, 16))
    evaluated = store.query("SELECT count(*) n FROM evaluations")["n"].item()
    assert evaluated == table["items"] <= 10 * 10  # a fixed 60-item probe per level would need 60 x 12
    assert store.query("SELECT count(*) n FROM tiers WHERE n_train > 0")["n"].item() == 0  # probes only
    assert store.query("SELECT status FROM runs")["status"].item() == "completed"


def remote_config(tmp_path, url: str, **learner) -> object:
    raw = tiny_config_dict(tmp_path / "data", tiers=1, skills=[{"name": "comparison"}])
    raw["learner"] = {"kind": "openai", "base_url": url, "model": "tiny-model", "backoff_base_s": 0.01, **learner}
    return parse_config(raw)


def first_tier(config) -> tuple[str, Store]:
    from curriculum import runs, steps

    run_id = runs.start_run(config)
    steps.plan_step(config, run_id, 1)
    steps.generate_step(config, run_id, 1)
    assert steps.validate_step(config, run_id, 1).success
    return run_id, Store(config.data_dir)


def test_a_train_command_gets_the_tier_and_names_the_next_model(monkeypatch, tmp_path):
    from curriculum import steps

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    script = tmp_path / "train.py"
    script.write_text(
        "import os, pathlib\n"
        "lines = pathlib.Path(os.environ['CURRICULUM_TRAIN_FILE']).read_text().splitlines()\n"
        "print(f\"trained {os.environ['CURRICULUM_MODEL']} on {len(lines)} examples\")\n"
        "pathlib.Path(os.environ['CURRICULUM_MODEL_OUT']).write_text('tiny-model-2\\n')\n"
    )
    import sys

    with FakeOpenAI(api_key=KEY, models=("tiny-model", "tiny-model-2"), answer_fn=two_digit_model) as srv:
        config = remote_config(tmp_path, srv.url, train_command=f"{sys.executable} {script}")
        assert config.controller == "adaptive"
        run_id, store = first_tier(config)
        stats = steps.train_step(config, run_id, 1, 1)
        n_train = store.query("SELECT count(*) n FROM items WHERE split = 'train'")["n"].item()
        assert stats["model"] == "tiny-model-2" and stats["items"] == n_train
        log = (steps.run_dir(config, run_id) / "tier-1.train.log").read_text()
        assert f"trained tiny-model on {n_train} examples" in log
        assert steps.train_step(config, run_id, 1, 1)["note"] == "tier-1 already trained"  # a redo is a no-op
        steps.evaluate_step(config, run_id, 1, 1)
        assert {r.body["model"] for r in srv.chat_requests()} == {"tiny-model-2"}


def test_a_failing_train_command_is_one_line_and_keeps_the_tier(monkeypatch, tmp_path):
    from curriculum import steps
    from curriculum.learners.remote_training import TrainingFailed

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAI(api_key=KEY, models=("tiny-model",), answer_fn=two_digit_model) as srv:
        config = remote_config(tmp_path, srv.url, train_command="echo starting; echo 'CUDA out of memory' >&2; exit 3")
        run_id, store = first_tier(config)
        with pytest.raises(TrainingFailed) as err:
            steps.train_step(config, run_id, 1, 1)
    assert str(err.value) == "train_command exited with 3 on tier-1: CUDA out of memory" and err.value.exit_code == 1
    assert Store(config.data_dir).tier_status(run_id, 1) == (1, "validated")  # resume runs the command again
    assert store.query("SELECT count(*) n FROM items")["n"].item() > 0


def test_fine_tuning_api_job_is_created_awaited_and_its_model_evaluated(monkeypatch, tmp_path):
    from curriculum import steps

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAI(api_key=KEY, models=("tiny-model",), answer_fn=two_digit_model, fine_tuning="succeed") as srv:
        config = remote_config(tmp_path, srv.url, fine_tune=True, fine_tune_poll_s=0.01)
        run_id, store = first_tier(config)
        stats = steps.train_step(config, run_id, 1, 1)
        assert stats["model"] == "ft:tiny-model:curriculum:ftjob-1"
        uploaded = srv.files["file-1"]
        assert uploaded.count(b'"role": "assistant"') == stats["items"] > 0
        steps.evaluate_step(config, run_id, 1, 1)
        assert {r.body["model"] for r in srv.chat_requests()} == {"ft:tiny-model:curriculum:ftjob-1"}
        assert all(KEY not in str(r.headers) for r in srv.requests)


@pytest.mark.parametrize(
    "api, message",
    [
        (None, "offers no fine-tuning API (404); use train_command instead"),
        ("fail", "fine-tuning job ftjob-1 failed: training file rejected"),
    ],
)
def test_fine_tuning_failures_are_one_line(monkeypatch, tmp_path, api, message):
    from curriculum import steps
    from curriculum.learners.remote_training import TrainingFailed

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAI(api_key=KEY, models=("tiny-model",), answer_fn=two_digit_model, fine_tuning=api) as srv:
        config = remote_config(tmp_path, srv.url, fine_tune=True, fine_tune_poll_s=0.01)
        run_id, _ = first_tier(config)
        with pytest.raises(TrainingFailed) as err:
            steps.train_step(config, run_id, 1, 1)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_key_can_come_from_a_prefect_secret_block(prefect_api, monkeypatch, tmp_path):
    from prefect.blocks.system import Secret

    from curriculum.errors import ConfigError
    from flows.curriculum_flow import curriculum_run
    from flows.secrets import load_api_keys

    monkeypatch.delenv("CURRICULUM_TEST_KEY", raising=False)
    Secret(value=KEY).save("curriculum-test-key", overwrite=True)
    with FakeOpenAI(api_key=KEY, models=("tiny-model",), answer_fn=digits_model(2)) as srv:
        raw = tiny_config_dict(tmp_path / "data", skills=[{"name": "comparison"}])
        raw["learner"] = {
            "kind": "openai",
            "base_url": srv.url,
            "model": "tiny-model",
            "backoff_base_s": 0.01,
            "api_key_env": "CURRICULUM_TEST_KEY",
            "api_key_secret": "curriculum-test-key",
        }
        run_id = curriculum_run(parse_config(raw))
        assert srv.requests and all(r.auth_ok for r in srv.requests)
    store = Store(tmp_path / "data")
    assert store.query("SELECT status FROM runs")["status"].item() == "completed" and run_id
    assert KEY not in store.query("SELECT config FROM runs")["config"].item()
    raw["learner"]["api_key_secret"] = "no-such-block"
    with pytest.raises(ConfigError, match="no Prefect Secret block named 'no-such-block'"):
        load_api_keys(parse_config(raw))
