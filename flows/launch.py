"""The one way the `curriculum` command starts a run: the flow on a Prefect API, stopping cleanly on signals.

With no API configured (`PREFECT_API_URL` unset) the run gets a temporary one of its own: Prefect's server in a
child process, in its own session (a Ctrl-C or SIGTERM sent to the terminal's process group reaches the run,
which shuts it down in order, not the server mid-request) and set to die with its parent (a run killed with
SIGKILL leaves no server behind); its output goes to $PREFECT_HOME/temporary-server.log. SIGTERM and SIGHUP
stop a run as Ctrl-C does: the run is marked failed with the reason and can be resumed.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import logging
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from curriculum.config import RunConfig

PR_SET_PDEATHSIG = 1


class Stopped(KeyboardInterrupt):
    """The run was asked to stop by a signal (SIGTERM, SIGHUP): handled like Ctrl-C, with its own name."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _die_with_parent() -> None:  # runs in the server's child process, before exec
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def server_log() -> Path:
    """Where the temporary server writes: its output (a traceback of its own when the run is killed under it)
    stays out of the run's terminal and log."""
    from prefect.settings import PREFECT_HOME

    home = Path(PREFECT_HOME.value())
    home.mkdir(parents=True, exist_ok=True)
    return home / "temporary-server.log"


def heavy_modules(config: RunConfig) -> list[str]:
    """The modules a run's first tier imports that take seconds (more on a fresh install, which compiles them):
    Great Expectations for the gate, the learner's implementation (torch)."""
    from curriculum.learners import LEARNERS

    return ["great_expectations", LEARNERS[config.learner.kind].implementation.split(":")[0]]


def import_all(modules: list[str]) -> None:
    """Import each module; one that fails is left for the run to import and report where it needs it."""
    for module in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(module)


@contextlib.contextmanager
def temporary_api(meanwhile: Callable[[], None] | None = None) -> Iterator[str | None]:
    """A Prefect server of the run's own for the block (None when an API is configured already).

    `meanwhile` runs in a thread while the server starts in its child process (the server takes one core for
    10-20 s, the run would otherwise wait on it with the other idle); the block begins when both are done."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield None
        return

    log_path = server_log()

    class Server(SubprocessASGIServer):
        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            real = subprocess.Popen

            def guarded(*args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
                with log_path.open("ab") as log:  # the child keeps its own copy of the file
                    return real(
                        *args,
                        **kwargs,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        preexec_fn=_die_with_parent,
                    )

            subprocess.Popen = guarded  # type: ignore[misc]
            try:
                return super()._run_uvicorn_command()
            finally:
                subprocess.Popen = real  # type: ignore[misc]

    server = Server()
    side = threading.Thread(target=meanwhile or (lambda: None), name="while-the-server-starts", daemon=True)
    side.start()
    try:
        server.start(timeout=120)  # a busy machine may take a while; stopped at exit, after the log and event
    except RuntimeError as err:
        raise RuntimeError(f"{err} (the server's own output: {log_path})") from None
    side.join()  # not on the way out of a failed or interrupted start: the thread dies with the process
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):  # workers have sent what they hold
        yield server.api_url


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise Stopped in the main thread, as SIGINT raises KeyboardInterrupt. A signal the run
    was started with ignored stays ignored: `nohup curriculum run` goes on when its terminal closes."""

    def stop(signum: int, frame: Any) -> None:
        raise Stopped(signum)

    watched = [s for s in (signal.SIGTERM, signal.SIGHUP) if signal.getsignal(s) is not signal.SIG_IGN]
    previous = {s: signal.signal(s, stop) for s in watched}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class ExpectedFailures(logging.Filter):
    """Prefect logs a failed run's exception with its traceback; for the project's own one-line errors (a tier
    rejected, an endpoint gone) and the system refusing a write (a full disk) the line is the message, and the
    traceback is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        from curriculum.errors import CurriculumError
        from curriculum.files import io_reason

        err = record.exc_info[1] if record.exc_info else None
        if err is not None and (isinstance(err, CurriculumError) or io_reason(err) is not None):
            record.exc_info, record.exc_text = None, None
        return True


def launch(config: RunConfig, run_id: str, resume: bool = False) -> str:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.curriculum_flow import curriculum_run

    quiet = ExpectedFailures()
    handlers = [
        h
        for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs")
        for h in logging.getLogger(name).handlers
    ]
    for handler in handlers:
        handler.addFilter(quiet)
    preload = heavy_modules(config)
    with (
        stop_on_signals(),
        temporary_api(lambda: import_all(preload)),
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        return curriculum_run(config, run_id=run_id, resume=resume)
