"""The library stays free of Prefect: only the CLI reaches the flow, through its one entry point."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_library_module_imports_prefect_or_flows():
    offenders = {}
    for path in sorted((ROOT / "curriculum").rglob("*.py")):
        bad = {m for m in imported_modules(path) if m.split(".")[0] in ("prefect", "flows")}
        if path.name == "cli.py":
            bad -= {"flows.launch"}  # `curriculum run` starts the flow through its one entry point
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_run_command_is_a_veneer():
    import inspect

    from curriculum.cli import cmd_run

    assert len(inspect.getsource(cmd_run).splitlines()) <= 25
