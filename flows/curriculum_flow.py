"""The curriculum run as a Prefect flow: each tier is plan -> generate -> validate -> train -> evaluate -> decide.

The tier loop itself is the library's (curriculum.loop); this module only makes each step a Prefect task
(coarse: one per step per tier, passing run ids and tier numbers, never frames) and reports to the UI. The
run's shard work (generation shards, gold re-verification, remote evaluation slices) goes to the task runner
named in `config.execution` (thread, dask, ray), started once for the whole run; results never depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.events import emit_event

from curriculum import artifacts, loop, runs, steps
from curriculum.config import RunConfig
from curriculum.errors import CurriculumError
from curriculum.store import Store, run_id_at
from flows.runners import active_runner, map_shards, runner_map, shard_runner
from flows.secrets import load_api_keys


def posted(what: str, post: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Post an artifact or an event; a server hiccup is a warning in the log, never a failed tier."""
    try:
        return post(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - reporting must not stop the run
        get_run_logger().warning("could not post %s (%s: %s); the run goes on", what, type(err).__name__, err)
        return None


def emit(
    event: str, run_id: str, tier: int | None = None, skill: str | None = None, level: int | None = None, **payload: Any
) -> None:
    """A `curriculum.*` Prefect event about a run, with the run id, tier, skill and level as resource labels,
    for automations to react to (e.g. on curriculum.tier.rejected)."""
    resource = {
        "prefect.resource.id": f"curriculum.run.{run_id}",
        "prefect.resource.name": run_id,
        "curriculum.run-id": run_id,
    }
    for label, value in (("curriculum.tier", tier), ("curriculum.skill", skill), ("curriculum.level", level)):
        if value is not None:
            resource[label] = str(value)
    posted(f"event {event}", emit_event, event=event, resource=resource, payload=payload)


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
    path = steps.generate_step(config, run_id, tier, attempt, shard_map(config, generation=True))
    emit("curriculum.tier.generated", run_id, tier, attempt=attempt, path=str(path))
    return str(path)


@task(task_run_name="validate-tier-{tier}-attempt-{attempt}")
def validate_tier(config: RunConfig, run_id: str, tier: int, attempt: int) -> bool:
    report = steps.validate_step(config, run_id, tier, attempt, shard_map(config))
    logger = get_run_logger()
    for line in report.describe_failures():
        logger.warning("tier %s attempt %s failed %s", tier, attempt, line)
    docs = report.docs.resolve() if report.docs is not None else None
    markdown = artifacts.validation_markdown(report, tier, attempt, config.validation.max_attempts, docs)
    outcome = "passed" if report.success else "FAILED"
    posted(
        "the validation artifact",
        create_markdown_artifact,
        markdown=markdown,
        key=artifacts.key(run_id, "validation"),
        description=f"Run {run_id}, tier {tier} attempt {attempt}: validation {outcome}",
    )
    failed = report.failures()["expectation"].to_list()
    emit(
        f"curriculum.tier.{'validated' if report.success else 'rejected'}",
        run_id,
        tier,
        attempt=attempt,
        failed_expectations=failed,
        final=not report.success and attempt >= config.validation.max_attempts,
    )
    return report.success


# prints stay prints while training: datasets' fingerprinting (dill) disassembles functions with dis.dis and
# captures the output itself, which print-as-log would flood the run's log with
@task(task_run_name="train-tier-{tier}", log_prints=False)
def train_learner(config: RunConfig, run_id: str, tier: int, attempt: int) -> dict:
    artifact_id = posted(
        "the training progress",
        create_progress_artifact,
        progress=0.0,
        key=artifacts.key(run_id, "training"),
        description=f"Run {run_id}: training on tier {tier}",
    )

    def on_progress(fraction: float) -> None:
        if artifact_id is not None:
            posted(
                "the training progress",
                update_progress_artifact,
                artifact_id=artifact_id,
                progress=round(100 * fraction, 1),
            )

    stats = steps.train_step(config, run_id, tier, attempt, on_progress)
    if stats.get("prompts_cut"):
        get_run_logger().warning(
            "prompts longer than the learner's block lose their first tokens (share cut per skill and level: %s);"
            " a larger learner.model.block_size lets it read them whole",
            ", ".join(f"{k} {v:.0%}" for k, v in stats["prompts_cut"].items()),
        )
    return stats


@task(task_run_name="evaluate-tier-{tier}")
def evaluate_learner(config: RunConfig, run_id: str, tier: int, attempt: int) -> int:
    remote = shard_map(config) if config.learner.kind == "openai" and active_runner() is not None else None
    return steps.evaluate_step(config, run_id, tier, attempt, remote).height


@task(task_run_name="decide-after-tier-{tier}")
def decide_next(config: RunConfig, run_id: str, tier: int, attempt: int) -> list[dict]:
    decisions = steps.decide_step(config, run_id, tier, attempt)
    rows = artifacts.level_table(decisions)
    posted(
        "the level table",
        create_table_artifact,
        table=rows,
        key=artifacts.key(run_id, "levels"),
        description=f"Run {run_id}, tier {tier}: held-out accuracy and level per skill",
    )
    posted(
        "the decisions",
        create_markdown_artifact,
        markdown=artifacts.decisions_markdown(tier, decisions),
        key=artifacts.key(run_id, "decisions"),
        description=f"Run {run_id}, tier {tier}: one sentence per skill",
    )
    logger = get_run_logger()
    for r in decisions.iter_rows(named=True):
        logger.info(r["reason"])
        if r["action"] in ("promote", "demote"):
            emit(
                f"curriculum.skill.{r['action']}d",
                run_id,
                tier,
                r["skill"],
                r["level_after"],
                level_before=r["level_before"],
                accuracy=r["accuracy"],
                reason=r["reason"],
            )
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
        print(
            f"tier {tier}: "
            + ", ".join(f"{r['skill']} L{r['level']}->{r['next_level']} ({r['accuracy']})" for r in rows)
        )


@flow(name="curriculum-run", flow_run_name=run_name, log_prints=True)
def curriculum_run(config: RunConfig, run_id: str | None = None, resume: bool = False) -> str:
    """Run the config's tiers; with resume, carry on an existing run, redoing only unfinished steps."""
    load_api_keys(config)  # keys named by Prefect Secret blocks (deployments), into this process only
    for note in runs.preflight(config):  # a deployment run refuses what the CLI refuses, before any write
        print(note)
    run_id = catalogue_run_id()
    with runs.run_lock(config.data_dir, run_id):  # one process per run: a second resume is refused
        return run_locked(config, run_id, resume)


def run_locked(config: RunConfig, run_id: str, resume: bool) -> str:
    if resume:
        runs.reopen(config, run_id)
    else:
        runs.start_run(config, run_id)
    store = Store(config.data_dir)
    controller = steps.controller_of(config)
    print(
        f"run {run_id}: {config.controller}, up to {controller.max_tiers(config)} tiers, "
        f"skills {', '.join(s.name for s in config.skills)}"
    )
    try:
        with shard_runner(config.execution):
            loop.run_tiers(config, run_id, TASKS, on_tier=report_tier)
    except BaseException as err:
        message = failure_message(err)
        try:
            store.finish_run(run_id, "failed", message)
        except CurriculumError as recording:  # e.g. the disk is full: the run stays `running`, and resumes
            get_run_logger().warning("could not record the failure (%s); the run resumes as it is", recording)
        emit("curriculum.run.failed", run_id, reason=message)
        raise
    store.finish_run(run_id, "completed")
    emit("curriculum.run.completed", run_id)
    posted(
        "the run summary",
        create_markdown_artifact,
        markdown=summary(config, run_id),
        key=artifacts.key(run_id, "summary"),
        description=f"Summary of run {run_id}",
    )
    return run_id


def failure_message(err: BaseException) -> str:
    """What the catalogue records for a run that did not finish: a stop by signal says so, and how to go on."""
    import signal

    from prefect.exceptions import TerminationSignal

    if isinstance(err, TerminationSignal | KeyboardInterrupt):
        signum = getattr(err, "signal", None) or getattr(err, "signum", None) or signal.SIGINT
        how = "interrupted (Ctrl-C)" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        return f"{how}; carry on with curriculum run --resume"
    return str(err)[:500] or type(err).__name__


def summary(config: RunConfig, run_id: str) -> str:
    """The run's summary artifact, with the report's trajectory picture in it."""
    from curriculum.report import write_report

    title, table = runs.tables(config, run_id)
    data = Path(config.data_dir).resolve()
    picture = posted("the trajectory picture", write_report, config.data_dir, run_id)
    docs = data / "docs" / "index.html" if config.validation.data_docs else None
    return artifacts.summary_markdown(
        run_id,
        config.controller,
        title,
        table,
        data / "curriculum.duckdb",
        picture.with_name("trajectory.png") if picture else None,
        docs,
    )
