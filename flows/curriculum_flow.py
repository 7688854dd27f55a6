"""The curriculum run as a Prefect flow: per tier plan+generate, validate, train, evaluate, decide.

Tasks are coarse (one per step per tier) and pass run ids and tier numbers, never frames. The run's
shard work (generation shards, gold re-verification, remote evaluation slices) goes to the task runner
named in `config.execution` (thread, dask, ray), started once for the whole run; results never depend on it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from curriculum import steps
from curriculum.config import RunConfig
from curriculum.errors import TierRejected
from curriculum.store import Store
from flows.runners import active_runner, map_shards, runner_map, shard_runner
from flows.secrets import load_api_keys


def shard_map(config: RunConfig, generation: bool = False):
    """How a step maps its shards: tasks on the run's task runner when one was started, else in-process."""
    if active_runner() is None:
        return map
    if generation:
        return partial(map_shards, max_items_per_shard=config.execution.max_items_per_shard)
    return runner_map


@task(task_run_name="generate-tier-{tier}-attempt-{attempt}")
def generate_tier(config: RunConfig, run_id: str, tier: int, attempt: int) -> str:
    return str(steps.generate_step(config, run_id, tier, attempt, shard_map(config, generation=True)))


@task(task_run_name="validate-tier-{tier}-attempt-{attempt}")
def validate_tier(config: RunConfig, run_id: str, tier: int, attempt: int) -> bool:
    report = steps.validate_step(config, run_id, tier, attempt, shard_map(config))
    logger = get_run_logger()
    for line in report.describe_failures():
        logger.warning("tier %s attempt %s failed %s", tier, attempt, line)
    if report.docs is not None:
        create_link_artifact(
            key="curriculum-data-docs",
            link=report.docs.resolve().as_uri(),
            link_text="Great Expectations Data Docs",
            description=f"Validation of tier {tier} (attempt {attempt}): {'passed' if report.success else 'FAILED'}",
        )
    return report.success


@task(task_run_name="train-tier-{tier}")
def train_learner(config: RunConfig, run_id: str, tier: int, attempt: int) -> dict:
    artifact_id = create_progress_artifact(progress=0.0, description=f"Training on tier {tier}")

    def on_progress(fraction: float) -> None:
        if artifact_id is not None:
            update_progress_artifact(artifact_id=artifact_id, progress=round(100 * fraction, 1))

    return steps.train_step(config, run_id, tier, attempt, on_progress)


@task(task_run_name="evaluate-tier-{tier}")
def evaluate_learner(config: RunConfig, run_id: str, tier: int, attempt: int) -> int:
    remote = shard_map(config) if config.learner.kind == "openai" and active_runner() is not None else None
    return steps.evaluate_step(config, run_id, tier, attempt, remote).height


@task(task_run_name="decide-after-tier-{tier}")
def decide_next(config: RunConfig, run_id: str, tier: int, attempt: int) -> list[dict]:
    decisions = steps.decide_step(config, run_id, tier, attempt)
    rows = steps.tier_summary(decisions)
    create_table_artifact(table=rows, description=f"Run {run_id}, tier {tier}: held-out accuracy and level per skill")
    create_markdown_artifact(
        markdown="\n".join([f"## Tier {tier}: what the controller decided", ""] + [f"- {r}" for r in decisions["reason"]]),
        description=f"Run {run_id}, tier {tier}: one sentence per skill",
    )
    logger = get_run_logger()
    for reason in decisions["reason"].to_list():
        logger.info(reason)
    return rows


def run_tier(config: RunConfig, run_id: str, tier: int) -> list[dict] | None:
    """Carry one tier from wherever it stands to complete; a failed validation means a fresh attempt."""
    attempt, status = steps.tier_status(config, run_id, tier)
    if status == "complete":
        return None
    while status in ("new", "generated", "rejected"):
        if status == "rejected":
            attempt, status = attempt + 1, "new"
        if attempt > config.validation.max_attempts:
            raise TierRejected(
                f"tier {tier} failed validation {config.validation.max_attempts} times; "
                f"see: SELECT * FROM validations WHERE run_id = '{run_id}' AND NOT success"
            )
        if status == "new":
            generate_tier(config, run_id, tier, attempt)
        status = "validated" if validate_tier(config, run_id, tier, attempt) else "rejected"
    if status == "validated":
        if config.run_mode == "curriculum":  # a frontier search only probes
            train_learner(config, run_id, tier, attempt)
        status = "trained"
    if status == "trained":
        evaluate_learner(config, run_id, tier, attempt)
    return decide_next(config, run_id, tier, attempt)


def run_name() -> str:
    """`<config name>-<run id>` in the UI (the run id is made here when the caller gave none)."""
    from prefect.runtime import flow_run

    params = flow_run.parameters
    config = params["config"]
    name = config.name if isinstance(config, RunConfig) else dict(config).get("name", "curriculum")
    return f"{name}-{params.get('run_id') or 'seed-' + str(getattr(config, 'seed', 0))}"


@flow(name="curriculum-run", flow_run_name=run_name, log_prints=True)
def curriculum_run(config: RunConfig, run_id: str | None = None, resume: bool = False) -> str:
    """Run `config.tiers` tiers; with resume, carry on an existing run, redoing only unfinished steps."""
    load_api_keys(config)  # keys named by Prefect Secret blocks (deployments), into this process only
    run_id = run_id if resume and run_id else steps.start_run(config, run_id)
    store = Store(config.data_dir)
    search = config.run_mode == "frontier"
    what = f"frontier search, up to {config.frontier.max_rounds} rounds" if search else f"{config.tiers} tiers"
    print(f"run {run_id}: {what}, skills {', '.join(s.name for s in config.skills)}")
    try:
        with shard_runner(config.execution):
            for tier in range(1, (config.frontier.max_rounds if search else config.tiers) + 1):
                if search and steps.search_finished(config, run_id):
                    break
                rows = run_tier(config, run_id, tier)
                if rows is None:
                    print(f"tier {tier}: already complete")
                    continue
                levels = ", ".join(f"{r['skill']} L{r['level']}->{r['next_level']} ({r['accuracy']})" for r in rows)
                print(f"tier {tier}: {levels}")
    except BaseException as err:
        store.finish_run(run_id, "failed", str(err)[:500] or type(err).__name__)
        raise
    store.finish_run(run_id, "completed")
    trajectory = store.query(
        "SELECT skill, string_agg(level_after::VARCHAR, ' -> ' ORDER BY tier) AS levels"
        " FROM decisions WHERE run_id = ? GROUP BY skill ORDER BY skill",
        [run_id],
    )
    lines = [f"| {r['skill']} | {r['levels']} |" for r in trajectory.iter_rows(named=True)]
    if config.run_mode == "frontier":
        from curriculum.report import frontier_table

        table = frontier_table(store, run_id)
        print(f"frontier per skill:\n{table}")
        lines += ["", "| skill | frontier | items used | probes (level: accuracy, n) |", "|---|---|---|---|"]
        lines += [f"| {r['skill']} | {r['frontier']} | {r['items']} | {r['probes']} |" for r in table.iter_rows(named=True)]
    create_markdown_artifact(
        markdown="\n".join(
            [f"# Curriculum run `{run_id}`", "", "| skill | frontier level after each tier |", "|---|---|", *lines,
             "", f"Catalogue: `{store.path}`", f"Data Docs: `{Path(config.data_dir).resolve() / 'docs' / 'index.html'}`"]
        ),
        description=f"Summary of run {run_id}",
    )
    return run_id
