"""Learners: anything that can train on a tier frame and answer held-out questions.

`make_learner(config, workdir)` builds one from the run config; torch is imported only by the local one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import polars as pl

from curriculum.errors import UnknownLearner

LEARNERS = ("local", "openai")


class Learner(Protocol):
    def train(
        self, items: pl.DataFrame, replay: pl.DataFrame | None = None, on_progress: Any = None, tag: str | None = None
    ) -> dict[str, Any]:
        """Train on the tier's train items (plus replay); return stats. A repeated tag is not trained twice."""

    def answer(self, questions: list[str]) -> list[str]:
        """Greedy answers to questions, one string each."""


def make_learner(config: Any, workdir: Path, seed: int) -> Learner:
    """The learner named by config.kind, checkpointing under workdir."""
    if config.kind == "local":
        from curriculum.learners.tiny_transformer import LocalLearner

        return LocalLearner(config, workdir, seed)
    if config.kind == "openai":
        from curriculum.learners.openai_chat import OpenAILearner

        return OpenAILearner(config, workdir, seed)
    raise UnknownLearner(f"unknown learner {config.kind!r}; known: {', '.join(LEARNERS)}")
