"""What the Prefect UI shows of a run, as plain data: artifact keys, flat tables and markdown.

Kept free of Prefect so it is tested alone; flows/ posts these. Keys follow Prefect's rule (lowercase
letters, digits, dashes) and carry the run id, so the Artifacts page lists every run's level table, its
validation record and its summary, and each tier adds a version to the run's keys.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from curriculum.validation import ValidationReport


def key(run_id: str, what: str) -> str:
    """`curriculum-<run id>-<what>`, in the characters Prefect allows in an artifact key."""
    return re.sub(r"[^a-z0-9-]+", "-", f"curriculum-{run_id}-{what}".lower()).strip("-")


def level_table(decisions: pl.DataFrame) -> list[dict[str, Any]]:
    """One flat row per skill: the level probed, held-out accuracy at L-1, L and L+1, and what comes next."""
    rows = []
    for r in decisions.iter_rows(named=True):
        by_level = {int(lv): a for lv, a in json.loads(r["evidence"]).get("accuracy_by_level", {}).items()}
        level = r["level_before"]
        rounded = lambda a: None if a is None else round(a, 3)  # noqa: E731
        rows.append(
            {
                "skill": r["skill"],
                "level": level,
                "accuracy": rounded(r["accuracy"]),
                "n_eval": r["n_eval"],
                "accuracy_below": rounded(by_level.get(level - 1)),
                "accuracy_above": rounded(by_level.get(level + 1)),
                "action": r["action"],
                "next_level": r["level_after"],
            }
        )
    return rows


def decisions_markdown(tier: int, decisions: pl.DataFrame) -> str:
    return "\n".join([f"## Tier {tier}: what the controller decided", ""] + [f"- {r}" for r in decisions["reason"]])


def validation_markdown(report: ValidationReport, tier: int, attempt: int, max_attempts: int, docs: Path | None) -> str:
    """Every expectation of a tier attempt with its outcome, observed value and unexpected count, and what the
    run does next."""
    failed = report.failures().height
    if report.success:
        verdict, then = "**passed**", "accepted: the learner is trained and probed on it next"
    elif attempt < max_attempts:
        verdict, then = (
            "**FAILED**",
            f"rejected: regenerated with a new seed as attempt {attempt + 1} of {max_attempts}",
        )
    else:
        verdict, then = "**FAILED**", f"rejected for the last time ({max_attempts} attempts): the run stops here"
    lines = [
        f"## Tier {tier}, attempt {attempt}: validation {verdict}",
        "",
        f"{report.results.height - failed} of {report.results.height} expectations passed (suite `{report.suite}`). "
        f"Next: {then}.",
        "",
        "| expectation | column | result | observed | unexpected | of |",
        "|---|---|---|---|---|---|",
    ]
    for r in report.results.iter_rows(named=True):
        details = json.loads(r["details"] or "{}")
        observed = details.get("observed_value", "")
        if not r["success"] and details.get("examples"):
            observed = (observed + "; " if observed else "") + "e.g. " + "; ".join(details["examples"][:2])
        lines.append(
            f"| {r['expectation']} | {r['column'] or ''} | {'pass' if r['success'] else '**FAIL**'} | "
            f"{_cell(observed)} | {r['unexpected_count'] if r['unexpected_count'] is not None else ''} | "
            f"{r['element_count'] if r['element_count'] is not None else ''} |"
        )
    if docs is not None:
        lines += ["", f"Great Expectations Data Docs of this validation are files on the run's machine: `{docs}`."]
    return "\n".join(lines)


def _cell(text: Any) -> str:
    """A markdown table cell: one line, pipes escaped, bounded."""
    s = " ".join(str(text).split()).replace("|", "\\|")
    return s if len(s) <= 120 else s[:117] + "..."


def summary_markdown(
    run_id: str,
    strategy: str,
    title: str,
    table: pl.DataFrame,
    catalogue: Path,
    picture: Path | None = None,
    docs: Path | None = None,
) -> str:
    """The run's summary: its result table, the level trajectory as a picture, and where the files are."""
    from curriculum.report import markdown_table

    lines = [f"# Curriculum run `{run_id}`", "", f"Strategy: {strategy}.", "", f"## {title}", "", markdown_table(table)]
    if picture is not None and picture.is_file():
        data = base64.b64encode(picture.read_bytes()).decode()
        lines += [
            "",
            f"![level and held-out accuracy per tier](data:image/png;base64,{data})",
            "",
            f"The same picture as a file: `{picture}`.",
        ]
    lines += ["", f"Catalogue: `{catalogue}`"]
    if docs is not None:
        lines.append(f"Data Docs (files on the run's machine): `{docs}`")
    return "\n".join(lines)
