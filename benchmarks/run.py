"""`make bench`: every benchmark in this folder, one after another, each printing its own table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["generation.py", "validation.py", "openai_bench.py", "scale.py"]

if __name__ == "__main__":
    for name in BENCHMARKS:
        path = HERE / name
        if path.exists():
            print(f"\n== {name} ==", flush=True)
            subprocess.run([sys.executable, str(path)], check=True)
