"""API keys from Prefect Secret blocks: loaded into the process environment, never into config or data.

A config names the block (`api_key_secret`) and the variable the client reads (`api_key_env`); the key
is set there for the run's process only, so it reaches the HTTP client and a training command, and is
never written to the catalogue, an artifact or a log.
"""

from __future__ import annotations

import os
from typing import Any

from curriculum.errors import ConfigError


def endpoints(config: Any) -> list[Any]:
    """The OpenAI-compatible endpoint configs of a run: the learner's and the teacher's."""
    out = [config.learner] if config.learner.kind == "openai" else []
    if config.teacher is not None:
        out.append(config.teacher.endpoint)
    return out


def load_api_keys(config: Any) -> None:
    """Set each endpoint's key variable from its Secret block, where one is named."""
    for endpoint in endpoints(config):
        name = getattr(endpoint, "api_key_secret", None)
        if not name:
            continue
        from prefect.blocks.system import Secret

        try:
            value = Secret.load(name).get()
        except (ValueError, OSError, RuntimeError):
            raise ConfigError(
                f"no Prefect Secret block named {name!r}; create one (prefect block create secret)"
            ) from None
        os.environ[endpoint.api_key_env] = str(value)
