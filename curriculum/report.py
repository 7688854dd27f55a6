"""Read-only views of the catalogue for people: runs, tiers, level trajectories, accuracies."""

from __future__ import annotations

import polars as pl

from curriculum.errors import InputFileError
from curriculum.store import Store


def open_store(data_dir) -> Store:
    store = Store(data_dir)
    if store.path.exists() and not store.path.is_file():
        raise store.damaged(OSError(f"{store.path} is a directory, not a file"))
    if not store.path.is_file():
        raise InputFileError(f"no catalogue at {store.path}; run `curriculum run --data-dir {data_dir}` first")
    return store


def resolve_run(store: Store, run_id: str | None) -> str:
    """The given run id (checked), or the latest run."""
    runs = store.query("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC")
    if runs.height == 0:
        raise InputFileError(f"no runs in {store.path}")
    if run_id is None:
        return runs["run_id"][0]
    if run_id not in set(runs["run_id"]):
        raise InputFileError(f"unknown run id {run_id!r} in {store.path}")
    return run_id


def runs_table(store: Store) -> pl.DataFrame:
    return store.query(
        "SELECT run_id, name, status, strategy, tiers_planned AS tiers, learner, strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started,"
        " round(epoch(finished_at - started_at)) AS seconds FROM runs ORDER BY started_at"
    )


def tiers_table(store: Store, run_id: str) -> pl.DataFrame:
    return store.query(
        "SELECT tier, attempt, status, n_items, n_train, n_eval,"
        " round((train_stats->>'final_loss')::DOUBLE, 4) AS train_loss"
        " FROM tiers WHERE run_id = ? ORDER BY tier, attempt",
        [run_id],
    )


def trajectory_table(store: Store, run_id: str) -> pl.DataFrame:
    """Per skill: the level it started at and its level after each tier; per tier, the held-out accuracy at the
    level that tier trained (the probe the decision read)."""
    return store.query(
        "SELECT skill,"
        " arg_min(level_before, tier)::VARCHAR || ' -> '"
        " || string_agg(level_after::VARCHAR, ' -> ' ORDER BY tier) AS levels,"
        " string_agg(coalesce(round(accuracy, 2)::VARCHAR, '-'), ' / ' ORDER BY tier) AS accuracy_at_level"
        " FROM decisions WHERE run_id = ? GROUP BY skill ORDER BY skill",
        [run_id],
    )


def frontier_table(store: Store, run_id: str) -> pl.DataFrame:
    """Per skill, from a frontier search: the frontier found, whether the search finished, items used and
    every probe (level: accuracy, n). Empty for curriculum runs."""
    import json

    from curriculum.controllers.frontier_search import Search

    latest = store.query(
        "SELECT skill, evidence FROM decisions WHERE run_id = ? AND rule = 'frontier-search'"
        " QUALIFY row_number() OVER (PARTITION BY skill ORDER BY tier DESC) = 1 ORDER BY skill",
        [run_id],
    )
    max_level = (
        json.loads(store.query("SELECT config FROM runs WHERE run_id = ?", [run_id])["config"][0])
        .get("frontier", {})
        .get("max_level", 64)
    )
    rows = []
    for skill, evidence in latest.iter_rows():
        search = Search.from_json(json.loads(evidence)["search"])
        capped = search.hi is None and search.done(max_level)
        rows.append(
            {
                "skill": skill,
                "frontier": f">={search.frontier}" if capped else str(search.frontier),
                "finished": search.done(max_level),
                "items": search.items,
                "probes": ", ".join(f"L{lv}: {acc:.2f} ({n})" for lv, acc, n in search.probes),
            }
        )
    schema = {"skill": pl.String, "frontier": pl.String, "finished": pl.Boolean, "items": pl.Int64, "probes": pl.String}
    return pl.DataFrame(rows, schema=schema)


def real_items_table(store: Store, run_id: str) -> pl.DataFrame:
    """Held-out accuracy on the user's real items (the anchor), tier by tier: reported apart from the
    generated skills, never used to move a level."""
    return store.query(
        "SELECT tier, skill, count(*) AS n, round(avg(correct::INT), 3) AS accuracy"
        " FROM evaluations WHERE run_id = ? AND source = 'real' GROUP BY tier, skill ORDER BY tier, skill",
        [run_id],
    )


def write_report(data_dir, run_id: str | None = None, out_dir=None):
    """A markdown report with two plots (level and held-out accuracy by tier, per skill)."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    store = open_store(data_dir)
    run_id = resolve_run(store, run_id)
    out = Path(out_dir) if out_dir is not None else Path(data_dir) / "reports" / run_id
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputFileError(f"cannot write the report to {out}: {err.strerror or err}") from None
    decisions = store.query(
        "SELECT tier, skill, level_before, level_after, accuracy, action, reason FROM decisions"
        " WHERE run_id = ? ORDER BY skill, tier",
        [run_id],
    )
    accuracy = store.query(
        "SELECT tier, skill, level, n, accuracy FROM skill_accuracy WHERE run_id = ? ORDER BY skill, tier, level",
        [run_id],
    )

    fig, (ax_level, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for skill, rows in decisions.group_by("skill", maintain_order=True):
        ax_level.step([0, *rows["tier"]], [rows["level_before"][0], *rows["level_after"]], where="post", label=skill[0])
        ax_acc.plot(rows["tier"], rows["accuracy"], marker="o", label=skill[0])
    ax_level.yaxis.set_major_locator(MaxNLocator(integer=True))
    if decisions.height:
        ax_level.set_ylim(0, max(decisions["level_before"].max(), decisions["level_after"].max()) + 1)
    ax_level.set(title="Level after each tier", xlabel="tier", ylabel="level")
    ax_acc.set(title="Held-out accuracy at the level", xlabel="tier", ylabel="accuracy", ylim=(0, 1.05))
    for ax in (ax_level, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    from curriculum.files import atomic_write

    with atomic_write(out / "trajectory.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)

    lines = [
        f"# Curriculum run `{run_id}`",
        "",
        "![trajectory](trajectory.png)",
        "",
        "## Runs",
        "",
        markdown_table(runs_table(store).filter(pl.col("run_id") == run_id)),
        "",
        "## Tiers",
        "",
        markdown_table(tiers_table(store, run_id)),
        "",
        "## Level per skill",
        "",
        markdown_table(trajectory_table(store, run_id)),
        "",
        "## Held-out accuracy by tier, skill and level",
        "",
        markdown_table(accuracy),
        "",
        "## Decisions",
        "",
    ]
    lines += [f"- tier {r['tier']}: {r['reason']}" for r in decisions.sort("tier", "skill").iter_rows(named=True)]
    path = out / "report.md"
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


def markdown_table(frame: pl.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = [
        "| " + " | ".join("" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in frame.iter_rows()
    ]
    return "\n".join([head, rule, *body])
