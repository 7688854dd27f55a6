"""Crash safety: SIGKILL `curriculum run` at random moments, resume each time, then audit the catalogue.

Usage: python benchmarks/kill_resume.py [--kills 20] [--seed 0]
Prints each kill (when, how far the run was) and the audit: duplicate rows, lost rows, tiers trained twice.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import yaml

from curriculum.store import Store

ROOT = Path(__file__).resolve().parent.parent
CONFIG = {
    "name": "kill-test",
    "seed": 3,
    "tiers": 6,
    "skills": [{"name": "comparison"}, {"name": "boolean_eval"}],
    "tier": {"train_items_per_skill": 300, "eval_items_per_level": 20},
    "learner": {
        "steps_per_tier": 60,
        "batch_size": 32,
        "threads": 1,
        "model": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 64},
    },
}


def progress(store: Store) -> str:
    if not store.path.is_file():
        return "no catalogue yet"
    rows = store.query("SELECT tier, attempt, status FROM tiers ORDER BY tier DESC, attempt DESC LIMIT 1")
    return "nothing written" if rows.height == 0 else "tier {} attempt {} {}".format(*rows.row(0))


def audit(store: Store, run_dir: Path) -> dict[str, int]:
    q = lambda sql: store.query(sql).row(0)[0]  # noqa: E731
    ckpt = torch.load(next(run_dir.glob("*/learner.pt")), weights_only=False)
    tiers = CONFIG["tiers"]
    return {
        "runs": q("SELECT count(*) FROM runs"),
        "completed_tiers": q("SELECT count(*) FROM tiers WHERE status = 'complete'"),
        "duplicate_items": q("SELECT count(*) - count(DISTINCT (tier, attempt, item_id)) FROM items"),
        "lost_items": q(
            "SELECT coalesce(sum(abs(t.n_items - (SELECT count(*) FROM items i WHERE i.run_id = t.run_id"
            " AND i.tier = t.tier AND i.attempt = t.attempt))), 0) FROM tiers t"
        ),
        "duplicate_evaluations": q("SELECT count(*) - count(DISTINCT (tier, item_id)) FROM evaluations"),
        "lost_evaluations": q(
            "SELECT coalesce(sum(abs(t.n_eval - (SELECT count(*) FROM evaluations e WHERE"
            " e.run_id = t.run_id AND e.tier = t.tier))), 0) FROM tiers t WHERE t.status = 'complete'"
        ),
        "duplicate_decisions": q("SELECT count(*) - count(DISTINCT (tier, skill)) FROM decisions"),
        "missing_decisions": tiers * len(CONFIG["skills"]) - q("SELECT count(*) FROM decisions"),
        "tiers_trained_twice": ckpt["steps_done"] // CONFIG["learner"]["steps_per_tier"] - len(ckpt["trained"]),
        "tiers_trained": len(ckpt["trained"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-delay", type=float, default=35.0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        cfg = Path(tmp) / "run.yaml"
        cfg.write_text(yaml.safe_dump(CONFIG | {"data_dir": str(data)}))
        env = os.environ | {"PREFECT_HOME": str(Path(tmp) / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        store = Store(data)
        base = [sys.executable, "-m", "curriculum.cli", "run"]
        kills = 0
        while kills < args.kills:
            started = store.path.is_file() and store.query("SELECT count(*) FROM runs").row(0)[0] > 0
            cmd = base + (["--resume", "--data-dir", str(data)] if started else ["--config", str(cfg)])
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
            delay = rng.uniform(1.0, args.max_delay)
            try:
                proc.wait(timeout=delay)
                print(f"run finished before the kill at {delay:.1f} s; {progress(store)}", flush=True)
                break
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                kills += 1
                print(f"kill {kills:2d} after {delay:5.1f} s: {progress(store)}", flush=True)
        final = subprocess.run(
            base + ["--resume", "--data-dir", str(data)], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if final.returncode != 0 and "nothing to resume" not in final.stderr:
            raise SystemExit(f"final resume failed: {final.stderr[-500:]}")
        result = audit(store, data / "runs")
        print(f"{kills} kills; audit: {result}")
        bad = {k: v for k, v in result.items() if k not in ("runs", "completed_tiers", "tiers_trained") and v}
        print("OK: no duplicate or lost rows" if not bad else f"FAILED: {bad}")


if __name__ == "__main__":
    main()
