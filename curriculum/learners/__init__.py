"""Learners: anything that can train on a tier frame and answer held-out questions.

`LEARNERS` is the one registry of learner kinds: the config model each kind reads (its `kind` field is the
name) and the class that implements it, imported only when a learner is made (torch stays out of the
config path). `make_learner(config, workdir, seed)` builds one from a run config's `learner` section.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol, Union

import polars as pl
from pydantic import BaseModel, Field

from curriculum.errors import UnknownLearner
from curriculum.learners.hf_config import HFConfig
from curriculum.learners.local_config import LearnerConfig
from curriculum.learners.openai_chat import OpenAIConfig


class Learner(Protocol):
    def train(
        self, items: pl.DataFrame, replay: pl.DataFrame | None = None, on_progress: Any = None, tag: str | None = None
    ) -> dict[str, Any]:
        """Train on the tier's train items (plus replay); return stats. A repeated tag is not trained twice."""

    def answer(self, questions: list[str]) -> list[str]:
        """Greedy answers to questions, one string each."""


@dataclass(frozen=True)
class LearnerKind:
    config: type[BaseModel]  # the `learner:` section of a run config for this kind
    implementation: str  # "module:Class", imported by make_learner only
    # "module:function" called by a run's pre-flight with the run config, before anything is written: raises
    # one CurriculumError line when the learner cannot serve the run (a missing model, an extra not installed)
    preflight: str | None = None


LEARNERS: dict[str, LearnerKind] = {
    "local": LearnerKind(LearnerConfig, "curriculum.learners.tiny_transformer:LocalLearner"),
    "openai": LearnerKind(OpenAIConfig, "curriculum.learners.openai_chat:OpenAILearner"),
    "hf": LearnerKind(HFConfig, "curriculum.learners.hf:HFLearner", "curriculum.learners.hf_checks:check_model"),
}

# the run config's `learner` field: any registered kind, told apart by `kind`
AnyLearnerConfig = Annotated[Union[tuple(k.config for k in LEARNERS.values())], Field(discriminator="kind")]  # noqa: UP007


def check_kind(kind: str) -> str:
    if kind not in LEARNERS:
        raise UnknownLearner(f"unknown learner {kind!r}; known: {', '.join(LEARNERS)}")
    return kind


def _load(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def make_learner(config: Any, workdir: Path | None, seed: int) -> Learner:
    """The learner named by config.kind, checkpointing under workdir."""
    return _load(LEARNERS[check_kind(config.kind)].implementation)(config, workdir, seed)


def check_learner(run_config: Any) -> None:
    """The learner kind's own pre-flight check, where it has one."""
    kind = LEARNERS[check_kind(run_config.learner.kind)]
    if kind.preflight is not None:
        _load(kind.preflight)(run_config)
