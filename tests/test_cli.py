"""The `curriculum` command as a user types it: bad input is one line on stderr and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from tests.conftest import tiny_config_dict

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = os.environ | {"PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return subprocess.run(
        [sys.executable, "-m", "curriculum.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=300,
    )


def one_line_error(result: subprocess.CompletedProcess, code: int = 2) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def write_config(tmp_path: Path, **overrides) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(tiny_config_dict(tmp_path / "data", **overrides)))
    return path


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "--config", "missing.yaml"], "config file not found"),
        (["run", "--tiers", "0"], "--tiers: must be >= 1"),
        (["run", "--learner", "gpt"], "unknown learner 'gpt'"),
        (["run", "--task-runner", "spark"], "unknown task runner 'spark'; known: thread, dask, ray"),
        (
            ["run", "--task-runner", "thread", "--scheduler", "tcp://127.0.0.1:8786"],
            "--scheduler needs --task-runner dask or ray",
        ),
        (
            ["run", "--task-runner", "dask", "--scheduler", "tcp://127.0.0.1:1"],
            "no dask scheduler reachable at tcp://127.0.0.1:1",
        ),
        (["run", "--workers", "0"], "--workers: must be >= 1"),
        (["generate", "--skill", "additon", "--level", "2", "-n", "5", "-o", "x.parquet"], "did you mean addition"),
        (["generate", "--skill", "addition", "--level", "0", "-n", "5", "-o", "x.parquet"], "--level: must be >= 1"),
        (["generate", "--skill", "addition", "--level", "2", "-n", "0", "-o", "x.parquet"], "-n: must be >= 1"),
        (
            ["generate", "--skill", "addition", "--level", "2", "-n", "5", "-o", "/nonexistent/dir/x.parquet"],
            "does not exist",
        ),
        (["validate", "missing.parquet"], "file not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, needle):
    assert needle in one_line_error(cli(*args, cwd=tmp_path))


def test_malformed_config_and_unknown_skill_write_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tiers: [1,\n")
    assert "not valid YAML" in one_line_error(cli("run", "--config", str(bad)))
    cfg = write_config(tmp_path, skills=[{"name": "boolean_evl"}])
    assert "did you mean boolean_eval" in one_line_error(cli("run", "--config", str(cfg)))
    assert not (tmp_path / "data").exists()


def test_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    cfg = write_config(tmp_path)
    assert "not writable" in one_line_error(cli("run", "--config", str(cfg), "--data-dir", str(blocker / "d")))


def test_generate_then_validate_round_trip(tmp_path):
    out = tmp_path / "items.parquet"
    result = cli("generate", "--skill", "boolean_eval", "--level", "3", "-n", "200", "--seed", "4", "-o", str(out))
    assert result.returncode == 0, result.stderr
    items = pl.read_parquet(out)
    assert items.height == 200 and set(items["split"]) == {"train", "eval"}
    ok = cli("validate", str(out))
    assert ok.returncode == 0 and "passed" in ok.stdout


def test_validate_reports_failures_with_exit_1(tmp_path):
    out = tmp_path / "items.parquet"
    cli("generate", "--skill", "addition", "--level", "2", "-n", "50", "-o", str(out))
    items = pl.read_parquet(out)
    pl.concat([items, items.head(3)]).write_parquet(out)
    result = cli("validate", str(out))
    assert result.returncode == 1
    assert "FAILED" in result.stdout and "expect_column_values_to_be_unique(item_id): 6 unexpected" in result.stdout


def test_validate_rejects_non_parquet_and_missing_columns(tmp_path):
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    assert "not a Parquet file" in one_line_error(cli("validate", str(junk)))
    partial = tmp_path / "partial.parquet"
    pl.DataFrame({"question": ["1 + 1 ="]}).write_parquet(partial)
    assert "missing columns" in one_line_error(cli("validate", str(partial)))


def test_skills_lists_every_skill_with_examples():
    from curriculum.skills import REGISTRY

    result = cli("skills")
    assert result.returncode == 0, result.stderr
    for name in REGISTRY:
        assert name in result.stdout
