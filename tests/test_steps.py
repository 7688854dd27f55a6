"""The run steps as plain library calls (no Prefect): what each step leaves in the catalogue."""

from __future__ import annotations

import polars as pl

from curriculum import runs, steps
from curriculum.store import Store
from tests.test_cli import cli


def run_tiers(config, tiers: int) -> str:
    run_id = runs.start_run(config)
    for tier in range(1, tiers + 1):
        steps.plan_step(config, run_id, tier)
        steps.generate_step(config, run_id, tier, 1)
        assert steps.validate_step(config, run_id, tier, 1).success
        steps.train_step(config, run_id, tier, 1)
        steps.evaluate_step(config, run_id, tier, 1)
        steps.decide_step(config, run_id, tier, 1)
    return run_id


def test_steps_record_every_tier(tiny_config):
    run_id = run_tiers(tiny_config, 2)
    store = Store(tiny_config.data_dir)
    assert store.query("SELECT list(status ORDER BY tier) s FROM tiers")["s"].item().to_list() == ["complete"] * 2
    # a later tier's training items never include an item held out earlier, and vice versa
    items = store.query("SELECT item_id, split FROM items")
    assert items.group_by("item_id").agg(pl.col("split").n_unique().alias("k"))["k"].max() == 1
    # the second tier's plan starts from the first tier's decisions
    first = store.query("SELECT skill, level_after FROM decisions WHERE tier = 1")
    second = store.query("SELECT skill, level_before FROM decisions WHERE tier = 2")
    assert dict(first.iter_rows()) == dict(second.iter_rows())
    assert (tiny_config.data_dir / "runs" / run_id / "learner.pt").is_file()
    assert (tiny_config.data_dir / "docs" / "index.html").is_file()


def test_inspect_prints_runs_tiers_and_trajectories(tiny_config):
    run_id = run_tiers(tiny_config, 1)
    result = cli("inspect", "--data-dir", str(tiny_config.data_dir))
    assert result.returncode == 0, result.stderr
    for text in (run_id, "addition", "boolean_eval", "complete"):
        assert text in result.stdout
    bad = cli("inspect", "--data-dir", str(tiny_config.data_dir), "--run", "nope")
    assert bad.returncode == 2 and "unknown run id 'nope'" in bad.stderr


def test_export_formats(tiny_config, tmp_path):
    import json

    run_id = run_tiers(tiny_config, 1)
    data = str(tiny_config.data_dir)
    out = tmp_path / "x.parquet"
    assert cli("export", "--format", "parquet", "--data-dir", data, "-o", str(out)).returncode == 0
    items = pl.read_parquet(out)
    assert items.height == Store(tiny_config.data_dir).query("SELECT count(*) n FROM items")["n"].item()
    chat = tmp_path / "train.jsonl"
    result = cli(
        "export",
        "--format",
        "openai-chat",
        "--data-dir",
        data,
        "--run",
        run_id,
        "--tier",
        "1",
        "--split",
        "train",
        "-o",
        str(chat),
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in chat.read_text().splitlines()]
    assert len(records) == (items["split"] == "train").sum()
    assert [m["role"] for m in records[0]["messages"]] == ["system", "user", "assistant"]
    train = items.filter(pl.col("split") == "train")
    assert {r["messages"][1]["content"] for r in records} == set(train["question"])
    jsonl = tmp_path / "all.jsonl"
    assert cli("export", "--format", "jsonl", "--data-dir", data, "-o", str(jsonl)).returncode == 0
    assert pl.read_ndjson(jsonl).height == items.height
    missing = cli("export", "--format", "jsonl", "--data-dir", data, "--tier", "9", "-o", str(jsonl))
    assert missing.returncode == 2 and "nothing to export" in missing.stderr


def test_report_writes_markdown_and_plot(tiny_config):
    run_id = run_tiers(tiny_config, 2)
    result = cli("report", run_id, "--data-dir", str(tiny_config.data_dir))
    assert result.returncode == 0, result.stderr
    report = tiny_config.data_dir / "reports" / run_id / "report.md"
    assert result.stdout.strip() == str(report)
    text = report.read_text()
    assert "![trajectory](trajectory.png)" in text and "addition" in text and "tier 2:" in text
    png = report.with_name("trajectory.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
