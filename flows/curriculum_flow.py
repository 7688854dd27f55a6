"""The curriculum run as a Prefect flow: each tier is plan -> generate -> validate -> train -> evaluate -> decide.

The tier loop itself is the library's (curriculum.loop); this module only makes each step a Prefect task
(coarse: one per step per tier, passing run ids and tier numbers, never frames) and reports to the UI. The
run's shard work (generation shards, gold re-verification, remote evaluation slices) goes to the task runner
named in `config.execution` (thread, dask, ray), started once for the whole run; results never depend on it.
"""

from __future__ import annotations

from functools import partial

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from curriculum import loop, runs, steps
from curriculum.config import RunConfig
from curriculum.store import Store, run_id_at
from flows.runners import active_runner, map_shards, runner_map, shard_runner
from flows.secrets import load_api_keys


def shard_map(config: RunConfig, generation: bool = False):
    """How a step maps its shards: tasks on the run's task runner when one was started, else in-process."""
    if active_runner() is None:
        return map
    if generation:
        return partial(map_shards, max_items_per_shard=config.execution.max_items_per_shard)
    return runner_map


@task(task_run_name="plan-tier-{tier}-attempt-{attempt}")
def plan_tier(config: RunConfig, run_id: str, tier: int, attempt: int) -> int:
    return len(steps.plan_step(config, run_id, tier, attempt).entries)


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


TASKS = loop.TierSteps(
    plan=plan_tier,
    generate=generate_tier,
    validate=validate_tier,
    train=train_learner,
    evaluate=evaluate_learner,
    decide=decide_next,
)


def catalogue_run_id() -> str:
    """The run id a flow run records in the catalogue: the one it was given, else one made from the flow
    run itself (its scheduled start and id), so a deployment run's name and its catalogue id agree."""
    from prefect.runtime import flow_run

    return flow_run.parameters.get("run_id") or run_id_at(flow_run.scheduled_start_time, str(flow_run.id))


def run_name() -> str:
    """`<config name>-<run id>` in the UI."""
    from prefect.runtime import flow_run

    config = flow_run.parameters["config"]
    name = config.name if isinstance(config, RunConfig) else dict(config).get("name", "curriculum")
    return f"{name}-{catalogue_run_id()}"


def report_tier(tier: int, rows: list[dict] | None) -> None:
    if rows is None:
        print(f"tier {tier}: already complete")
    else:
        print(f"tier {tier}: " + ", ".join(f"{r['skill']} L{r['level']}->{r['next_level']} ({r['accuracy']})" for r in rows))


@flow(name="curriculum-run", flow_run_name=run_name, log_prints=True)
def curriculum_run(config: RunConfig, run_id: str | None = None, resume: bool = False) -> str:
    """Run the config's tiers; with resume, carry on an existing run, redoing only unfinished steps."""
    load_api_keys(config)  # keys named by Prefect Secret blocks (deployments), into this process only
    for note in runs.preflight(config):  # a deployment run refuses what the CLI refuses, before any write
        print(note)
    run_id = catalogue_run_id()
    if resume:
        runs.reopen(config, run_id)
    else:
        runs.start_run(config, run_id)
    store = Store(config.data_dir)
    controller = steps.controller_of(config)
    print(f"run {run_id}: {config.controller}, up to {controller.max_tiers(config)} tiers, "
          f"skills {', '.join(s.name for s in config.skills)}")
    try:
        with shard_runner(config.execution):
            loop.run_tiers(config, run_id, TASKS, on_tier=report_tier)
    except BaseException as err:
        store.finish_run(run_id, "failed", str(err)[:500] or type(err).__name__)
        raise
    store.finish_run(run_id, "completed")
    create_markdown_artifact(markdown=runs.summary_markdown(config, run_id), description=f"Summary of run {run_id}")
    return run_id
