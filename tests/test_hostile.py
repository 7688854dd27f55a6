"""Hostile input and faults, class by class: one line on stderr, the documented exit code, no traceback, nothing
written that was not there before, and no secret in any file."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from curriculum.errors import InputFileError
from curriculum.store import Store
from tests.conftest import tiny_config_dict
from tests.openai_server import FakeOpenAI
from tests.test_cli import ROOT, cli, one_line_error

KEY = "sk-hostile-7d1e0b9c55aa-SECRET"


def files_under(*roots: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """The data dir of one small finished run (two tiers), to damage and to export from."""
    from curriculum.config import parse_config
    from tests.test_steps import run_tiers

    data = tmp_path_factory.mktemp("finished") / "data"
    run_tiers(parse_config(tiny_config_dict(data)), 2)
    return data


# ---- flags and configs: bounds at the door, one line each, nothing written -----------------------


@pytest.mark.parametrize(
    "args, line",
    [
        (["run", "--tiers", "10000000000"], "--tiers: must be at most 100,000"),
        (["run", "--seed", "99999999999999999999"], "--seed: must be at most 9,223,372,036,854,775,807"),
        (["run", "--seed", "-1"], "--seed: must be >= 0, got -1"),
        (["run", "--strategy", "greedy"], "unknown strategy 'greedy'"),
        (["run", "--learner", "openai", "--base-url", "http://[::1/v1", "--model", "m"], "base_url is not a valid URL"),
        (
            ["run", "--learner", "openai", "--base-url", "http://127.0.0.1:99999/v1", "--model", "m"],
            "Port out of range",
        ),
        (
            ["run", "--learner", "openai", "--base-url", f"http://user:{KEY}@127.0.0.1:1/v1", "--model", "m"],
            "base_url must not carry credentials",
        ),
        (
            ["generate", "--skill", "addition", "--level", "2", "-n", "1000000000", "-o", "x.parquet"],
            "-n: must be at most 5,000,000",
        ),
        (
            ["generate", "--skill", "addition", "--level", "2", "-n", str(10**21), "-o", "x.parquet"],
            "-n: must be at most",
        ),
        (
            ["generate", "--skill", "addition", "--level", "2", "-n", "5", "--seed", "-5", "-o", "x.parquet"],
            "--seed: must be >= 0",
        ),
        (["validate", "x.parquet", "--suite", "../../../../tmp/evil"], "unknown suite '../../../../tmp/evil'"),
    ],
)
def test_bad_flags_are_one_line_and_write_nothing(tmp_path, args, line):
    (tmp_path / "x.parquet").write_bytes(b"")
    before = files_under(tmp_path)
    result = cli(*args, "--data-dir", str(tmp_path / "data")) if args[0] == "run" else cli(*args, cwd=tmp_path)
    got = one_line_error(result)
    assert line in got and KEY not in result.stderr + result.stdout
    assert files_under(tmp_path) == before and not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "raw, line",
    [
        ({"tier": {"train_items_per_skill": 1_000_000_000}}, "tier.train_items_per_skill"),
        ({"tier": {"eval_items_per_level": 10**9}}, "tier.eval_items_per_level"),
        ({"tiers": 10**10}, "tiers"),
        ({"seed": -1}, "seed"),
        ({"skills": [{"name": "addition"}] * 2_000_000}, "is not a run config (at most 4,000,000)"),
        ({"skills": [{"name": "addition"}] * 20_000}, "at most 1000 skills, got 20,000"),
    ],
)
def test_bad_configs_are_one_line(tmp_path, raw, line):
    path = tmp_path / "run.yaml"
    path.write_text(json.dumps(tiny_config_dict(tmp_path / "data") | raw))  # JSON is YAML, and fast to write
    assert line in one_line_error(cli("run", "--config", str(path)))
    assert not (tmp_path / "data").exists()


def test_a_huge_skills_list_is_refused_before_any_entry_is_checked(monkeypatch):
    from curriculum.config import SkillConfig, parse_config
    from curriculum.errors import ConfigError

    checked = []
    monkeypatch.setattr(SkillConfig, "levels_served", lambda self: checked.append(1) or self)
    with pytest.raises(ConfigError, match="at most 1000 skills"):
        parse_config({"skills": [{"name": "addition"}] * 5000})
    assert checked == []


def test_files_that_are_not_utf8_are_one_line(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_bytes(b"name: x\nskills: [{name: addition}]\n# \xff\xfe\n")
    assert "not UTF-8 text" in one_line_error(cli("run", "--config", str(config)))
    anchor = tmp_path / "real.jsonl"
    anchor.write_bytes(b'{"question": "caf\xe9?", "answer": "1"}\n')
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(tiny_config_dict(tmp_path / "data", anchor={"path": str(anchor)})))
    assert "not UTF-8 text" in one_line_error(cli("run", "--config", str(good)))
    assert not (tmp_path / "data").exists()  # refused before the catalogue exists


def test_levels_a_skill_does_not_serve_are_refused(monkeypatch):
    import dataclasses

    from curriculum.config import parse_config
    from curriculum.errors import ConfigError, LevelOutOfRange
    from curriculum.generate import generate_items
    from curriculum.plan import PlanEntry
    from curriculum.skills import REGISTRY
    from curriculum.steps import served

    monkeypatch.setitem(REGISTRY, "comparison", dataclasses.replace(REGISTRY["comparison"], max_level=3))
    with pytest.raises(LevelOutOfRange, match="comparison serves levels 1..3, not 4"):
        generate_items("comparison", 4, 5, seed=0)
    with pytest.raises(ConfigError, match="start_level 5: comparison serves levels 1..3"):
        parse_config({"skills": [{"name": "comparison", "start_level": 5}]})
    plan = served(
        [
            PlanEntry("comparison", 5, "train", 10),
            PlanEntry("comparison", 4, "eval", 6, "probe"),
            PlanEntry("comparison", 2, "eval", 6, "probe"),
        ]
    )
    assert plan == (PlanEntry("comparison", 3, "train", 10), PlanEntry("comparison", 2, "eval", 6, "probe"))


# ---- suites: a name, never a path; never an empty or broken suite ----------------------------------


def test_only_named_suites_with_expectations_are_loaded(tmp_path, monkeypatch):
    from curriculum import validation

    (tmp_path / "empty.json").write_text(json.dumps({"name": "empty", "expectations": []}))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "foreign.json").write_text("[1, 2]")
    monkeypatch.setattr(validation, "SUITES_DIR", tmp_path)
    for name, message in [
        ("empty", "has no expectations"),
        ("broken", "is not valid JSON"),
        ("foreign", "has no expectations"),
        ("../empty", "unknown suite"),
        ("/etc/passwd", "unknown suite"),
    ]:
        with pytest.raises(InputFileError, match=message):
            validation.load_suite(name)


# ---- writing where a user points: only over regular files, never a temp file left ---------------


@pytest.mark.parametrize("kind", ["device", "symlink", "fifo", "directory", "read-only place"])
def test_export_writes_only_regular_files(finished_run, tmp_path, kind):
    target = {"device": Path("/dev/full"), "read-only place": Path("/proc/curriculum-export.jsonl")}.get(
        kind, tmp_path / "out"
    )
    if kind == "symlink":
        (tmp_path / "victim").write_text("keep me")
        target.symlink_to(tmp_path / "victim")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    mode = os.lstat(target).st_mode if os.path.lexists(target) else None
    line = one_line_error(cli("export", "--format", "jsonl", "--data-dir", str(finished_run), "-o", str(target)))
    assert line.startswith(f"curriculum: error: cannot write {target}")
    assert (os.lstat(target).st_mode if os.path.lexists(target) else None) == mode  # untouched
    assert not list(target.parent.glob(f".{target.name}*.tmp")) if kind != "read-only place" else True
    if kind == "symlink":
        assert (tmp_path / "victim").read_text() == "keep me"
    if kind == "device":
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_report_to_a_place_it_cannot_write_is_one_line(finished_run):
    assert "cannot write the report to /proc/curriculum-report" in one_line_error(
        cli("report", "--data-dir", str(finished_run), "-o", "/proc/curriculum-report")
    )


# ---- a damaged catalogue: named, and its items rebuilt from the tier files ------------------------


def damage(path: Path, how: str) -> None:
    if how == "truncated":
        os.truncate(path, 5000)
    elif how == "zeroed":
        path.write_bytes(b"\0" * path.stat().st_size)
    elif how == "flipped":
        data = bytearray(path.read_bytes())
        for i in range(4096, len(data), 997):
            data[i] ^= 0xFF
        path.write_bytes(bytes(data))
    elif how == "text":
        path.write_text("this is not a database\n")
    else:
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize("how", ["truncated", "zeroed", "flipped", "text", "directory"])
def test_a_damaged_catalogue_is_named_in_one_line_and_rebuilt(finished_run, tmp_path, how):
    data = tmp_path / "data"
    shutil.copytree(finished_run, data)
    items = Store(data).query("SELECT count(*) AS n FROM items")["n"].item()
    damage(data / "curriculum.duckdb", how)
    for args in (
        ["run", "--resume"],
        ["inspect"],
        ["report"],
        ["export", "--format", "jsonl", "-o", str(tmp_path / "x")],
        ["check"],
    ):
        line = one_line_error(cli(*args, "--data-dir", str(data)))
        assert f"{data / 'curriculum.duckdb'} is damaged" in line and "the 2 tier file(s)" in line, (args, line)
    rebuilt = cli("check", "--data-dir", str(data), "--rebuild")
    assert rebuilt.returncode == 0 and "rebuilt" in rebuilt.stdout, rebuilt.stderr
    assert Store(data).query("SELECT count(*) AS n FROM items")["n"].item() == items
    assert cli("check", "--data-dir", str(data)).returncode == 0
    assert (
        "rebuilt from the tier files"
        in cli("inspect", "--data-dir", str(data)).stdout
        + Store(data).query("SELECT message FROM runs")["message"].item()
    )


def test_a_run_whose_stored_config_is_not_json_says_so(finished_run, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(finished_run, data)
    with Store(data).connect() as con:
        con.execute("UPDATE runs SET status = 'failed', config = '\"not a mapping\"'")
    assert "its stored config is missing or not JSON" in one_line_error(cli("run", "--resume", "--data-dir", str(data)))


def test_check_names_a_missing_tier_file(finished_run, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(finished_run, data)
    next(data.glob("runs/*/tier-002.parquet")).unlink()
    result = cli("check", "--data-dir", str(data))
    assert result.returncode == 1 and "tier 2 attempt 1: tier file" in result.stdout and "is missing" in result.stdout


# ---- endpoints: refused before anything is written; keys never stored ----------------------------


def remote_config(tmp_path, url: str, **learner) -> Path:
    raw = tiny_config_dict(tmp_path / "data", skills=[{"name": "comparison"}])
    raw["learner"] = {"kind": "openai", "base_url": url, "model": "tiny-model", "backoff_base_s": 0.01, **learner}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_an_endpoint_that_is_not_a_chat_api_is_refused_before_the_catalogue_exists(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    from tests.openai_server import Fault

    with FakeOpenAI(api_key=KEY, models=("tiny-model",)) as srv:
        srv.script(*[Fault("body", payload={"choices": "nope"})] * 4)
        line = one_line_error(cli("run", "--config", str(remote_config(tmp_path, srv.url))))
    assert "failed a test request" in line and "malformed response" in line
    assert not (tmp_path / "data").exists()


def test_an_endpoint_that_never_answers_is_named_within_the_check_timeout(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    from tests.openai_server import Fault

    with FakeOpenAI(api_key=KEY, models=("tiny-model",)) as srv:
        srv.script(*[Fault("slow", seconds=60)] * 4)
        line = one_line_error(cli("run", "--config", str(remote_config(tmp_path, srv.url, timeout_s=1))))
    assert "no reply within 1 s (2 attempts)" in line
    assert not (tmp_path / "data").exists()


def test_a_batch_waiting_on_a_slow_endpoint_says_so(monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    from curriculum import chat
    from curriculum.learners.openai_chat import OpenAIConfig, OpenAILearner
    from tests.openai_server import Fault

    monkeypatch.setattr(chat, "PROGRESS_EVERY_S", 0.2)
    with FakeOpenAI(api_key=KEY, models=("tiny-model",), answer_fn=lambda q: "1") as srv:
        srv.script(Fault("slow", seconds=1.0))
        records = OpenAILearner(OpenAIConfig(base_url=srv.url, model="tiny-model")).answer_records(
            ["1 + 0 =", "0 + 1 ="]
        )
    assert [r.prediction for r in records] == ["1", "1"]
    err = capsys.readouterr().err
    assert "still waiting for 1 of 2 answers from tiny-model at" in err


def test_a_model_that_echoes_the_key_never_puts_it_in_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAI(api_key=KEY, models=("tiny-model",), answer_fn=lambda q: f"Authorization: Bearer {KEY}") as srv:
        env = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "curriculum.cli",
                "run",
                "--config",
                str(remote_config(tmp_path, srv.url)),
                "--tiers",
                "1",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
        )
    assert run.returncode == 0, run.stderr[-2000:]
    stored = Store(tmp_path / "data").query("SELECT prediction FROM evaluations")["prediction"]
    assert stored.len() > 0 and stored.str.contains("[api key]", literal=True).all()
    leaked = [p for p, data in files_under(tmp_path / "data", tmp_path / "prefect").items() if KEY.encode() in data]
    assert leaked == [] and KEY not in run.stdout + run.stderr


# ---- a run held by another process, and a full disk ------------------------------------------------


def test_a_second_resume_of_the_same_run_is_refused(finished_run, tmp_path):
    from curriculum.runs import run_lock

    data = tmp_path / "data"
    shutil.copytree(finished_run, data)
    with Store(data).connect() as con:
        con.execute("UPDATE runs SET status = 'failed'")
    run_id = Store(data).query("SELECT run_id FROM runs")["run_id"].item()
    with run_lock(data, run_id):
        line = one_line_error(cli("run", "--resume", "--data-dir", str(data)))
    assert f"run {run_id} is being run by pid {os.getpid()}" in line


def test_a_full_disk_leaves_no_half_written_file_and_says_so(tmp_path, monkeypatch):
    import errno

    import polars as pl

    from curriculum import runs, steps
    from curriculum.config import parse_config
    from curriculum.errors import DataDirError

    config = parse_config(tiny_config_dict(tmp_path / "data"))
    run_id = runs.start_run(config)
    steps.plan_step(config, run_id, 1)

    def full(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PAR1")  # a few bytes got out before the disk filled
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    with pytest.raises(DataDirError, match="No space left on device; free space, then `curriculum run --resume`"):
        steps.generate_step(config, run_id, 1)
    assert list((tmp_path / "data" / "runs").rglob("*.parquet*")) == []
    assert Store(config.data_dir).tier_status(run_id, 1) == (1, "planned")  # the step is redone on resume


def test_a_run_on_a_disk_that_fills_up_stops_in_one_line_and_resumes(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1400k", "tmpfs", str(mount)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        raw = tiny_config_dict(mount / "data", tiers=3)
        raw["tier"] = {"train_items_per_skill": 2000, "eval_items_per_level": 20}
        config = tmp_path / "run.yaml"
        config.write_text(yaml.safe_dump(raw))
        env = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        run = subprocess.run(
            [sys.executable, "-m", "curriculum.cli", "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
        )
        assert run.returncode == 2, run.stderr[-3000:]
        assert "Traceback" not in run.stderr and run.stderr.strip().splitlines()[-1].startswith(
            "curriculum: error: cannot write"
        )
        assert "disk is full" in run.stderr or "No space left on device" in run.stderr
        assert not [p for p in (mount / "data").rglob("*") if p.name.endswith(".tmp")]
        subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)
        resumed = subprocess.run(
            [sys.executable, "-m", "curriculum.cli", "run", "--resume", "--data-dir", str(mount / "data")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
        )
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert Store(mount / "data").query("SELECT status FROM runs")["status"].item() == "completed"
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
