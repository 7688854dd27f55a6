"""The deployments in prefect.yaml on a real Prefect server and worker, as `make ui` sets them up."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curriculum.store import Store
from tests.conftest import tiny_config_dict
from tests.test_cli import ROOT

PREFECT = str(Path(sys.executable).parent / "prefect")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ui(tmp_path):
    """`scripts/ui.sh` in its own session: server, pool, deployments, worker; all killed afterwards."""
    port = free_port()
    env = os.environ | {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_UI_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    script = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "ui.sh")], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = script.communicate(timeout=180)
        assert script.returncode == 0, err
        assert f"http://127.0.0.1:{port}" in out
        yield env | {"PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):  # the worker may linger after SIGTERM
            try:
                os.killpg(script.pid, sig)
            except ProcessLookupError:
                break
            time.sleep(3)


def test_adhoc_deployment_runs_on_a_worker(ui, tmp_path):
    data = tmp_path / "data"
    config = tiny_config_dict(data, tiers=1)
    listed = subprocess.run([PREFECT, "deployment", "ls"], env=ui, capture_output=True, text=True, timeout=60)
    assert "curriculum-run/nightly" in listed.stdout and "curriculum-run/adhoc" in listed.stdout
    run = subprocess.run(
        [PREFECT, "deployment", "run", "curriculum-run/adhoc", "--params", json.dumps({"config": config}),
         "--watch", "--watch-timeout", "300"],
        env=ui, capture_output=True, text=True, timeout=360,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Completed" in run.stdout
    store = Store(data)
    assert store.query("SELECT status FROM runs")["status"].item() == "completed"
    assert store.query("SELECT count(*) n FROM decisions")["n"].item() == 2


def test_bad_parameters_are_rejected_before_the_run(ui, tmp_path):
    bad = {"config": {"skills": [{"name": "addition"}], "tiers": 0, "data_dir": str(tmp_path / "d")}}
    run = subprocess.run(
        [PREFECT, "deployment", "run", "curriculum-run/adhoc", "--params", json.dumps(bad)],
        env=ui, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode != 0
    assert "tiers" in (run.stdout + run.stderr)
    assert not (tmp_path / "d").exists()
