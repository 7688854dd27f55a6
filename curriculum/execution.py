"""Where a run's shard work runs: the task runner names and the checks a choice must pass before a run starts.

Pure: nothing here imports Prefect or a runner. flows.runners makes the runner itself; these checks run in
a run's pre-flight (curriculum.runs.preflight) and on the CLI's flags, so a bad choice is one line and exit 2
before anything is written.
"""

from __future__ import annotations

import importlib.util
import socket
from urllib.parse import urlsplit

from curriculum.errors import ConfigError

TASK_RUNNERS = ("thread", "dask", "ray")
EXTRAS = {
    "dask": ("prefect_dask", "the dask extra: pip install 'curriculum[dask]'"),
    "ray": ("prefect_ray", "prefect-ray: pip install prefect-ray"),
}
DEFAULT_PORTS = {"dask": 8786, "ray": 10001}
CONNECT_TIMEOUT_S = 2.0


class TaskRunnerError(ConfigError):
    """A task runner that cannot be made: unknown name, missing extra, unreachable scheduler."""


def _host_port(kind: str, address: str) -> tuple[str, int] | None:
    """(host, port) of a scheduler address, or None for schemes without a TCP endpoint to probe."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls", "ray", "ws", "wss"):
        return None
    try:
        port = parts.port or DEFAULT_PORTS[kind]
    except ValueError:
        raise TaskRunnerError(f"scheduler address {address!r} has a bad port; expected e.g. tcp://HOST:8786") from None
    if not parts.hostname:
        raise TaskRunnerError(f"scheduler address {address!r} names no host; expected e.g. tcp://HOST:8786")
    return parts.hostname, port


def check_reachable(kind: str, address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """A short TCP connect to the scheduler, so a wrong address fails now, in one line, not at the first task."""
    target = _host_port(kind, address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        start = "dask scheduler" if kind == "dask" else "ray start --head"
        raise TaskRunnerError(
            f"no {kind} scheduler reachable at {address} ({reason}); start one (`{start}`) or fix --scheduler"
        ) from None


def check_options(kind: str, address: str | None = None, workers: int | None = None) -> str:
    """The runner's normalised name, or one TaskRunnerError line for options that cannot go together."""
    name = (kind or "").strip().lower()
    if name not in TASK_RUNNERS:
        raise TaskRunnerError(f"unknown task runner {kind!r}; known: {', '.join(TASK_RUNNERS)}")
    if workers is not None and workers < 1:
        raise TaskRunnerError(f"workers must be >= 1, got {workers}")
    if name == "thread" and address:
        raise TaskRunnerError("--scheduler needs --task-runner dask or ray; the thread runner has no scheduler")
    if address and workers is not None:
        raise TaskRunnerError(f"workers applies to a local cluster; the cluster at {address} brings its own workers")
    return name


def check_runner(kind: str, address: str | None = None, workers: int | None = None) -> str:
    """All a runner choice must pass before a run: the options, the extra installed, the scheduler reachable."""
    name = check_options(kind, address, workers)
    if name in EXTRAS:
        module, extra = EXTRAS[name]
        if importlib.util.find_spec(module) is None:
            raise TaskRunnerError(f"task runner {name!r} needs {extra}")
        if address:
            check_reachable(name, address)
    return name
