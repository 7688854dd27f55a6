"""Stopping a run: Ctrl-C and SIGTERM, to the terminal's process group or to the run alone, end it within a few
seconds with no temporary Prefect server left behind, and the run resumes; SIGKILL leaves no server either."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from curriculum.learners import LEARNERS
from curriculum.store import Store
from tests.conftest import tiny_config_dict
from tests.test_cli import ROOT

CASES = [("SIGINT", "group", 130), ("SIGTERM", "group", 143), ("SIGTERM", "main", 143), ("SIGKILL", "main", -9)]


def start(tmp_path, name: str) -> tuple[subprocess.Popen, object]:
    raw = tiny_config_dict(tmp_path / name / "data", tiers=1)
    raw["learner"]["steps_per_tier"] = 1500  # long enough to be caught training
    config = tmp_path / name / "run.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump(raw))
    env = os.environ | {"PREFECT_HOME": str(tmp_path / name / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = (tmp_path / name / "run.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "curriculum.cli", "run", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal, not a background job
    )
    return proc, env


def training(data) -> bool:
    db = data / "curriculum.duckdb"
    try:
        return (
            db.is_file()
            and Store(data).query("SELECT count(*) n FROM tiers WHERE status = 'validated'")["n"].item() > 0
        )
    except Exception:
        return False


def server_pids(prefect_home) -> list[int]:
    """Prefect servers still running with this PREFECT_HOME (read from /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes()
            env = (proc / "environ").read_bytes()
        except (OSError, ValueError):
            continue
        if b"prefect.server.api.server:create_app" in cmd and f"PREFECT_HOME={prefect_home}".encode() in env:
            found.append(int(proc.name))
    return found


def test_signals_stop_a_run_cleanly_and_it_resumes(tmp_path):
    runs = {f"{s}-{t}": (s, t, code, *start(tmp_path, f"{s}-{t}")) for s, t, code in CASES}
    try:
        deadline = time.monotonic() + 300
        pending = dict(runs)
        while pending:  # signal each run as soon as it is training
            assert time.monotonic() < deadline, "runs did not reach training in time"
            for name, (sig, target, _, proc, _) in list(pending.items()):
                assert proc.poll() is None, (tmp_path / name / "run.log").read_text()[-2000:]
                if training(tmp_path / name / "data"):
                    signum = getattr(signal, sig)
                    os.killpg(proc.pid, signum) if target == "group" else os.kill(proc.pid, signum)
                    pending.pop(name)
                    runs[name] = (*runs[name], time.monotonic())
            time.sleep(0.2)
        for name, (sig, _target, code, proc, _env, sent) in runs.items():
            proc.wait(timeout=30)
            assert time.monotonic() - sent < 30
            assert proc.returncode == code, (name, (tmp_path / name / "run.log").read_text()[-2000:])
            time.sleep(0.5)
            assert server_pids(tmp_path / name / "prefect") == [], f"{name} left its Prefect server running"
            log = (tmp_path / name / "run.log").read_text()
            assert "Traceback" not in log
            store = Store(tmp_path / name / "data")
            status = store.query("SELECT status, message FROM runs").row(0, named=True)
            if sig == "SIGKILL":
                assert status["status"] == "running"
            else:
                stopped = "interrupted (Ctrl-C)" if sig == "SIGINT" else f"stopped by {sig}"
                assert (status["status"], status["message"]) == (
                    "failed",
                    f"{stopped}; carry on with curriculum run --resume",
                ), (name, log[-2000:])
                assert f"curriculum: {'interrupted' if sig == 'SIGINT' else 'stopped by ' + sig}" in log
    finally:
        for _, _, _, proc, *_ in runs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    for name in ("SIGTERM-group", "SIGKILL-main"):
        data = tmp_path / name / "data"
        resumed = subprocess.run(
            [sys.executable, "-m", "curriculum.cli", "run", "--resume", "--data-dir", str(data)],
            cwd=ROOT,
            env=runs[name][4],
            capture_output=True,
            text=True,
            timeout=400,
        )
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert Store(data).query("SELECT status FROM runs")["status"].item() == "completed"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_stop_signals_raise_in_the_main_thread(signum):
    from flows.launch import Stopped, stop_on_signals

    before = signal.signal(signum, signal.SIG_DFL)  # as a shell starts it (under nohup SIGHUP comes ignored)
    try:
        with stop_on_signals(), pytest.raises(Stopped) as stopped:
            os.kill(os.getpid(), signum)
            time.sleep(5)
        assert stopped.value.signum == signum and isinstance(stopped.value, KeyboardInterrupt)
        assert signal.getsignal(signum) == signal.SIG_DFL
    finally:
        signal.signal(signum, before)


def test_a_hangup_ignored_by_nohup_stays_ignored():
    from flows.launch import stop_on_signals

    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stop_on_signals():
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.5)  # a handler would have raised by now
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


@pytest.mark.parametrize("kind", list(LEARNERS))
def test_what_a_run_imports_while_its_server_starts_names_real_modules(kind):
    import importlib.util

    from flows.launch import heavy_modules

    config = SimpleNamespace(learner=SimpleNamespace(kind=kind))
    modules = heavy_modules(config)
    assert "great_expectations" in modules and len(modules) == 2
    assert all(importlib.util.find_spec(m) is not None for m in modules), modules
