"""The one way the `curriculum` command starts a run: the flow on the Prefect API in reach (a temporary one
when none is configured), without a heartbeat thread per run."""

from __future__ import annotations

from curriculum.config import RunConfig


def launch(config: RunConfig, run_id: str, resume: bool = False) -> str:
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    from flows.curriculum_flow import curriculum_run

    # a busy machine may take a while to start the temporary API
    settings = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 120}
    with temporary_settings(updates=settings):
        return curriculum_run(config, run_id=run_id, resume=resume)
