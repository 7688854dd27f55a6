"""Look at a run in the Prefect UI as a user does: a real server, a small run, headless Chromium screenshots.

    .venv/bin/python scripts/ui_screenshots.py [OUT_DIR]      (`make ui-check`; needs Debian's chromium)

Starts a Prefect server on a free port (its own PREFECT_HOME), runs a two-tier curriculum against it, then
renders the run's page, the Artifacts page and the run's summary and validation artifacts with
`chromium --headless`, checks each page's text for what a user must see there, and writes PNGs to OUT_DIR
(default data/ui-check). Exit 1 with one line per missing thing.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1440,1400",
    "--virtual-time-budget=20000",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(api: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{api}/health", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the Prefect server at {api} did not start")


def chromium(url: str, png: Path, profile: Path) -> str:
    """Render `url`; write a screenshot to `png` and return the page's text (its DOM after scripts ran)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    common = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    subprocess.run([*common, f"--screenshot={png}", url], capture_output=True, timeout=120)
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    return dom.stdout


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "data" / "ui-check").resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="curriculum-ui-"))
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = os.environ | {
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_healthy(api)
        config = work / "run.yaml"
        config.write_text(
            json.dumps(
                {
                    "name": "ui-check",
                    "tiers": 2,
                    "data_dir": str(work / "data"),
                    "skills": [{"name": "comparison"}, {"name": "boolean_eval"}],
                    "tier": {"train_items_per_skill": 300, "eval_items_per_level": 30},
                    "learner": {"steps_per_tier": 60, "threads": 1, "model": {"n_layer": 1, "n_head": 2, "n_embd": 32}},
                }
            )
        )
        run = subprocess.run(
            [str(BIN / "curriculum"), "run", "--config", str(config)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if run.returncode != 0:
            print(run.stderr[-2000:], file=sys.stderr)
            return 1
        sys.path.insert(0, str(ROOT))
        os.environ.update(env)
        from prefect.client.orchestration import get_client

        async def read():
            async with get_client() as client:
                return await client.read_flow_runs(), await client.read_artifacts()

        flow_runs, found = asyncio.run(read())
        flow_run = flow_runs[0]
        run_id = flow_run.name.removeprefix("ui-check-")
        ui = f"http://127.0.0.1:{port}"
        keys = {f"curriculum-{run_id}-{what}" for what in ("levels", "decisions", "validation", "summary")}
        latest = {a.key: a.id for a in sorted(found, key=lambda a: a.created)}  # the newest version of each key

        def artifact(what: str) -> str:
            return f"{ui}/artifacts/artifact/{latest.get(f'curriculum-{run_id}-{what}')}"

        pages = {
            "run": (f"{ui}/runs/flow-run/{flow_run.id}", [flow_run.name]),
            "artifacts": (f"{ui}/artifacts", sorted(keys)),
            "history": (f"{ui}/artifacts/key/curriculum-{run_id}-levels", [flow_run.name]),
            "summary": (artifact("summary"), ["Curriculum run", "comparison"]),
            "validation": (artifact("validation"), ["validation", "check_gold_verified"]),
            "levels": (artifact("levels"), ["accuracy_below", "next_level"]),
        }
        missing = sorted(f"no artifact {k}" for k in keys - {a.key for a in found})
        versions = sum(a.key == f"curriculum-{run_id}-levels" for a in found)
        if versions != 2:
            missing.append(f"the level table has {versions} versions, not one per tier (2)")
        for name, (url, needles) in pages.items():
            text = chromium(url, out / f"{name}.png", work / f"chromium-{name}")
            missing += [f"{name} page ({url}) does not show {n!r}" for n in needles if n not in text]
            if name == "summary" and "data:image/png;base64" not in text:
                missing.append(f"summary page ({url}) shows no trajectory picture")
        for line in missing:
            print(f"ui-check: {line}", file=sys.stderr)
        print(f"screenshots in {out}: {', '.join(sorted(p.name for p in out.glob('*.png')))}")
        return 1 if missing else 0
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
