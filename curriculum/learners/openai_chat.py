"""A remote chat model behind an OpenAI-compatible endpoint (curriculum.chat), as a learner.

It answers each held-out question; model output is untrusted and only pattern-matched for the final answer
(curriculum.extraction), never executed. An item that still fails after its retries becomes an
`AnswerRecord` with `error` set. It is trained between tiers only when the config names a `train_command`
or `fine_tune` (curriculum.learners.remote_training).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import Field

from curriculum.chat import ChatClient, ChatSession, EndpointConfig, gather_all, waiting_notice
from curriculum.extraction import extract_answer

log = logging.getLogger(__name__)


class OpenAIConfig(EndpointConfig):
    """The openai learner: an endpoint, plus how it is trained between tiers (if at all)."""

    kind: Literal["openai"] = "openai"
    # training between tiers (curriculum mode): a shell command given the tier's chat JSONL, and/or the
    # endpoint's fine-tuning API; either may name the model evaluated from then on
    train_command: str | None = None
    fine_tune: bool = False
    fine_tune_poll_s: float = Field(10.0, gt=0)
    fine_tune_timeout_s: float = Field(86_400.0, gt=0)

    @property
    def trains(self) -> bool:
        return bool(self.train_command) or self.fine_tune


@dataclass(frozen=True)
class AnswerRecord:
    """One question's outcome. `prediction` is the extracted answer; `error` a short reason or None."""

    prediction: str | None
    raw_text: str | None
    latency_ms: float
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None
    attempts: int = 1


class OpenAILearner:
    """A remote chat model answers each question. It is trained between tiers only when the config names
    a train_command or fine_tune; the model a training step produced is kept in WORKDIR/model.json and
    answers from then on."""

    def __init__(
        self, config: OpenAIConfig | Mapping[str, Any], workdir: Path | str | None = None, seed: int = 0
    ) -> None:
        self.workdir = None if workdir is None else Path(workdir)
        config = OpenAIConfig.model_validate(config)
        state = self._state()
        if state.get("model"):
            config = config.model_copy(update={"model": state["model"]})
        self.client = ChatClient(config, seed)
        self.config = self.client.config
        self.seed = seed

    def _state(self) -> dict[str, Any]:
        path = None if self.workdir is None else self.workdir / "model.json"
        return json.loads(path.read_text()) if path is not None and path.is_file() else {}

    def __repr__(self) -> str:
        cfg = self.config
        return f"OpenAILearner(base_url={cfg.base_url!r}, model={cfg.model!r}, key from ${cfg.api_key_env})"

    def train(
        self, items: pl.DataFrame, replay: pl.DataFrame | None = None, on_progress: Any = None, tag: str | None = None
    ) -> dict[str, Any]:
        """Hand the tier's training items (chat JSONL) to the train_command and/or a fine-tuning job.
        A tag already trained (a step redone after a crash) is not trained twice."""
        cfg = self.config
        if not cfg.trains:
            if on_progress:
                on_progress(1.0)
            return {"steps": 0, "note": "remote model: evaluate-only"}
        from curriculum.export import write_export
        from curriculum.learners.remote_training import fine_tune, run_train_command

        tag = tag or "train"
        state = self._state()
        if tag in state.get("trained", []):
            return {"model": cfg.model, "note": f"{tag} already trained"}
        assert self.workdir is not None, "training a remote model needs a run directory"
        self.workdir.mkdir(parents=True, exist_ok=True)
        train = items.filter(pl.col("split") == "train")
        path = write_export(train, "openai-chat", self.workdir / f"{tag}.jsonl")
        model = before = cfg.model
        if cfg.train_command:
            model = run_train_command(cfg.train_command, path, model, tag, self.workdir)
        if on_progress:
            on_progress(0.5)
        if cfg.fine_tune:
            model = fine_tune(cfg, path, model, self.seed)
        state = {"model": model, "trained": [*state.get("trained", []), tag]}
        tmp = self.workdir / "model.json.tmp"
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.workdir / "model.json")
        if on_progress:
            on_progress(1.0)
        return {"items": train.height, "train_file": str(path), "model_before": before, "model": model}

    def check_endpoint(self) -> dict[str, Any]:
        return self.client.check_endpoint()

    def answer(self, questions: list[str]) -> list[str]:
        """The extracted answer to each question ("" when there is none)."""
        return [r.prediction or "" for r in self.answer_records(questions)]

    def answer_records(self, questions: list[str]) -> list[AnswerRecord]:
        """One AnswerRecord per question, in order; failures after retries are records with `error` set."""
        questions = list(questions)
        if not questions:
            return []

        async def one(session: ChatSession, question: str) -> AnswerRecord:
            reply = await session.complete(self.client.messages(question), seed=self.seed)
            prediction = extract_answer(reply.text) if reply.error is None else None
            return AnswerRecord(
                prediction,
                reply.text,
                round(reply.latency_ms, 3),
                reply.prompt_tokens,
                reply.completion_tokens,
                reply.error,
                reply.attempts,
            )

        async def batch(session: ChatSession) -> list[AnswerRecord]:
            done = [0]

            async def counted(question: str) -> AnswerRecord:
                record = await one(session, question)
                done[0] += 1
                return record

            where = f"{self.config.model} at {self.config.base_url}"
            notice = asyncio.ensure_future(waiting_notice(where, lambda: len(questions) - done[0], len(questions)))
            try:
                return await gather_all(counted(q) for q in questions)
            finally:
                notice.cancel()

        started = time.perf_counter()
        records = self.client.run(batch)
        errors = sum(r.error is not None for r in records)
        log.info(
            "%s answered %d questions in %.1f s (%d errors, median latency %.0f ms)",
            self.config.model,
            len(records),
            time.perf_counter() - started,
            errors,
            statistics.median(r.latency_ms for r in records),
        )
        return records


def answer_slice(config: OpenAIConfig | Mapping[str, Any], seed: int, questions: list[str]) -> list[AnswerRecord]:
    """One slice of a remote evaluation, self-contained for a task runner's worker: its own client,
    the configured concurrency within the slice."""
    return OpenAILearner(config, None, seed).answer_records(questions)


def records_frame(questions: list[str], records: list[AnswerRecord]) -> pl.DataFrame:
    """Questions and their records as one frame (for storing alongside evaluations)."""
    rows = [{"question": q} | asdict(r) for q, r in zip(questions, records, strict=True)]
    return pl.DataFrame(
        rows,
        schema={
            "question": pl.String,
            "prediction": pl.String,
            "raw_text": pl.String,
            "latency_ms": pl.Float64,
            "prompt_tokens": pl.Int64,
            "completion_tokens": pl.Int64,
            "error": pl.String,
            "attempts": pl.Int64,
        },
    )
