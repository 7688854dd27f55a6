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
        ["bash", str(ROOT / "scripts" / "ui.sh")],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
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


def run_adhoc(config: dict, env: dict) -> subprocess.CompletedProcess:
    """`prefect deployment run curriculum-run/adhoc` with this config, watched to its end."""
    return subprocess.run(
        [
            PREFECT,
            "deployment",
            "run",
            "curriculum-run/adhoc",
            "--params",
            json.dumps({"config": config}),
            "--watch",
            "--watch-timeout",
            "300",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=360,
    )


def test_adhoc_deployment_runs_on_a_worker(ui, tmp_path):
    data = tmp_path / "data"
    config = tiny_config_dict(data, tiers=1)
    listed = subprocess.run([PREFECT, "deployment", "ls"], env=ui, capture_output=True, text=True, timeout=60)
    assert "curriculum-run/nightly" in listed.stdout and "curriculum-run/adhoc" in listed.stdout
    run = run_adhoc(config, ui)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Completed" in run.stdout
    store = Store(data)
    assert store.query("SELECT status FROM runs")["status"].item() == "completed"
    assert store.query("SELECT count(*) n FROM decisions")["n"].item() == 2
    run_id = store.query("SELECT run_id FROM runs")["run_id"].item()
    assert flow_runs(ui)[-1]["name"] == f"test-{run_id}"  # the UI's name carries the catalogue's run id


def flow_runs(env: dict) -> list[dict]:
    """The adhoc deployment's flow runs, oldest first: name, state and its message.

    Only adhoc's: the server's scheduler adds the nightly deployment's scheduled runs whenever its loop comes round,
    so "the newest run on the server" may be one of those.
    """
    script = (
        "import asyncio, json\n"
        "from prefect.client.orchestration import get_client\n"
        "from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName\n"
        "async def main():\n"
        "    async with get_client() as c:\n"
        "        runs = await c.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=['adhoc'])))\n"
        "    runs.sort(key=lambda r: r.created)\n"
        "    print(json.dumps([{'name': r.name, 'state': r.state_name, 'message': r.state.message} for r in runs]))\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_bad_parameters_are_rejected_before_the_run(ui, tmp_path):
    bad = {"config": {"skills": [{"name": "addition"}], "tiers": 0, "data_dir": str(tmp_path / "d")}}
    run = subprocess.run(
        [PREFECT, "deployment", "run", "curriculum-run/adhoc", "--params", json.dumps(bad)],
        env=ui,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "tiers" in (run.stdout + run.stderr)
    assert not (tmp_path / "d").exists()
    # parameters the deployment's schema accepts but the run config or the run's pre-flight refuses: the CLI's
    # line in the flow run's state, before anything is written
    for config, line in (
        (tiny_config_dict(tmp_path / "d", tiers=1, strategy="greedy"), "unknown strategy 'greedy'"),
        (
            tiny_config_dict(tmp_path / "d", tiers=1, anchor={"path": str(tmp_path / "missing.jsonl")}),
            f"anchor file not found: {tmp_path / 'missing.jsonl'}",
        ),
    ):
        run = run_adhoc(config, ui)
        assert run.returncode != 0
        failed = flow_runs(ui)[-1]
        assert failed["state"] == "Failed" and line in failed["message"], failed
        assert not (tmp_path / "d").exists()
