"""A remote chat model behind an OpenAI-compatible endpoint, as an evaluate-only learner.

Requests go through `openai.AsyncOpenAI` with the client's own retries switched off: the retry loop
here (exponential backoff with jitter, Retry-After honoured in seconds or as an HTTP date) covers
429, 5xx, timeouts and connection errors, and is what the tests drive. At most `concurrency`
requests are in flight (one semaphore); each has a hard per-request timeout.

Model output is untrusted: it is only ever cut to `max_answer_chars` and pattern-matched for the
final answer (curriculum.extraction), never executed. An item that still fails after its retries
becomes an `AnswerRecord` with `error` set. Setup failures raise one exception each:
`EndpointUnreachable` (nothing answered while the first requests used up their retries),
`AuthenticationFailed` (401) and `UnknownModel` (404).

The API key is read from the environment variable named by the config at the start of each batch
and lives only in that batch's session (its HTTP client); it is never kept on the learner or its
config, logged, or put in a record or message.
Sync callers are served by running an event loop internally (a private thread when the caller's
thread already runs one).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import json
import logging
import math
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from curriculum.errors import CurriculumError
from curriculum.extraction import extract_answer

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_SYSTEM_PROMPT = (
    "You are solving a maths or logic exercise. Work it out briefly if you need to, then give the final "
    "answer alone on the last line in the form \"Answer: <answer>\", using any answer format the "
    "exercise asks for."
)
NO_KEY = "no-key-set"  # sent when the key variable is unset: local servers often need none
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})


class EndpointError(CurriculumError):
    """The chat endpoint cannot be used for this run."""


class EndpointUnreachable(EndpointError):
    """Nothing answered at the base URL (connection refused, DNS failure, no reply in time)."""


class AuthenticationFailed(EndpointError):
    """The endpoint rejected the API key (HTTP 401)."""


class UnknownModel(EndpointError):
    """The endpoint does not serve the model (HTTP 404)."""


class OpenAIConfig(BaseModel):
    """An OpenAI-compatible chat endpoint and how to call it. The key itself never appears here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["openai"] = "openai"
    base_url: str = Field(min_length=1)
    model: str = Field(min_length=1)
    api_key_env: str = Field("OPENAI_API_KEY", min_length=1)
    # or the name of a Prefect Secret block holding the key: loaded into $api_key_env for the run's process
    api_key_secret: str | None = None
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int = Field(256, ge=1)
    concurrency: int = Field(16, ge=1, le=1024)
    max_retries: int = Field(5, ge=0, le=50)
    timeout_s: float = Field(60.0, gt=0)
    max_answer_chars: int = Field(2000, ge=16)
    backoff_base_s: float = Field(0.5, ge=0)  # first retry waits about this long, doubling after
    backoff_max_s: float = Field(30.0, ge=0)
    max_retry_after_s: float = Field(120.0, ge=0)  # a longer Retry-After is cut to this
    send_seed: bool = True  # pass the learner's seed along (servers that reject it: set false)
    # training between tiers (curriculum mode): a shell command given the tier's chat JSONL, and/or the
    # endpoint's fine-tuning API; either may name the model evaluated from then on
    train_command: str | None = None
    fine_tune: bool = False
    fine_tune_poll_s: float = Field(10.0, gt=0)
    fine_tune_timeout_s: float = Field(86_400.0, gt=0)

    @property
    def trains(self) -> bool:
        return bool(self.train_command) or self.fine_tune

    @field_validator("base_url")
    @classmethod
    def http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
        return url.rstrip("/")


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


@dataclass(frozen=True)
class ChatReply:
    """A completed (or given-up) chat request: bounded text plus accounting."""

    text: str | None
    latency_ms: float
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None
    attempts: int
    finish_reason: str | None = None


def retry_after_seconds(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (delta seconds or an HTTP date); None if absent."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    raw_ms = lower.get("retry-after-ms")
    if raw_ms is not None:
        try:
            ms = float(raw_ms)
            if math.isfinite(ms) and ms >= 0:
                return ms / 1000
        except ValueError:
            pass
    raw = lower.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        return None  # an HTTP date is always GMT; a zone-less one is not an HTTP date
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def truncate(text: str, limit: int) -> str:
    """Text cut to at most `limit` chars, keeping its head and its tail (where final answers are)."""
    if len(text) <= limit:
        return text
    mark = "\n…\n"
    head = (limit - len(mark)) // 2
    tail = limit - len(mark) - head
    return text[:head] + mark + text[len(text) - tail :]


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine made by `factory` to completion from sync code, in any thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="curriculum-chat") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


async def gather_all(coros: Iterable[Awaitable[T]]) -> list[T]:
    """asyncio.gather that cancels the rest as soon as one raises."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _connection_detail(err: BaseException) -> str:
    seen: set[int] = set()
    node: BaseException | None = err
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, ConnectionRefusedError) or "refused" in str(node).lower():
            return "connection refused"
        node = node.__cause__ or node.__context__
    return "connection failed"


def _count(value: Any) -> int | None:
    """A token count from an untrusted body: a non-negative int, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class ChatSession:
    """One batch on one event loop: an AsyncOpenAI client, the semaphore and the retry loop."""

    def __init__(self, config: OpenAIConfig, rng: random.Random) -> None:
        import openai

        self.config = config
        self.rng = rng
        self.sem = asyncio.Semaphore(config.concurrency)
        self.reached = False  # any HTTP response seen in this batch
        key = os.environ.get(config.api_key_env) or NO_KEY
        self.key_set = key != NO_KEY
        self.client = openai.AsyncOpenAI(
            base_url=config.base_url, api_key=key, max_retries=0, timeout=config.timeout_s
        )

    def __repr__(self) -> str:
        return f"ChatSession(base_url={self.config.base_url!r}, model={self.config.model!r})"

    async def __aenter__(self) -> ChatSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()

    def _safe(self, message: str) -> str:
        """The message with the key masked, should a configured value (say, the URL) carry it."""
        key = os.environ.get(self.config.api_key_env)
        return message.replace(key, "***") if key else message

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry number `attempt` (1-based): jittered doubling, at least Retry-After."""
        cfg = self.config
        base = min(cfg.backoff_max_s, cfg.backoff_base_s * 2 ** min(attempt - 1, 30))
        delay = base * (0.5 + 0.5 * self.rng.random())
        if retry_after is not None:
            delay = max(delay, min(retry_after, cfg.max_retry_after_s))
        return delay

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> ChatReply:
        """One chat completion with retries; fatal setup errors raise, anything else is a ChatReply.error."""
        import openai

        cfg = self.config
        extra: dict[str, Any] = {}
        if seed is not None and cfg.send_seed:
            extra["seed"] = seed
        async with self.sem:
            started = time.perf_counter()
            attempt = 0
            while True:
                attempt += 1
                retry_after: float | None = None
                connection_failure: str | None = None
                try:
                    async with asyncio.timeout(cfg.timeout_s):
                        completion = await self.client.chat.completions.create(
                            model=cfg.model,
                            messages=messages,  # type: ignore[arg-type]
                            temperature=cfg.temperature if temperature is None else temperature,
                            max_tokens=max_tokens or cfg.max_tokens,
                            **extra,
                        )
                    self.reached = True
                    return self._reply(completion, started, attempt)
                except openai.APIStatusError as err:
                    self.reached = True
                    status = err.status_code
                    if status == 401:
                        hint = "it is not set" if not self.key_set else "the key was rejected"
                        raise AuthenticationFailed(
                            self._safe(f"{cfg.base_url} answered 401 Unauthorized: check {cfg.api_key_env} ({hint})")
                        ) from None
                    if status == 404:
                        raise UnknownModel(
                            self._safe(
                                f"{cfg.base_url} answered 404 for model {cfg.model!r}: check the model name "
                                "and that the base URL ends in /v1"
                            )
                        ) from None
                    error = f"http {status}"
                    retryable = status in RETRYABLE_STATUS or status >= 500
                    retry_after = retry_after_seconds(err.response.headers) if retryable else None
                except (openai.APITimeoutError, TimeoutError):
                    error, retryable = "timeout", True
                    connection_failure = f"no reply within {cfg.timeout_s:g} s"
                except openai.APIConnectionError as err:
                    error, retryable = "connection error", True
                    connection_failure = _connection_detail(err)
                except (ValueError, openai.APIResponseValidationError):  # a body that is not the JSON promised
                    self.reached = True
                    error, retryable = "malformed response", False
                except Exception as err:  # anything else fails this item only
                    log.warning("chat request failed with %s", type(err).__name__)
                    error, retryable = f"error: {type(err).__name__}", False
                if not retryable or attempt > cfg.max_retries:
                    if connection_failure is not None and not self.reached:
                        raise EndpointUnreachable(
                            self._safe(f"cannot reach {cfg.base_url}: {connection_failure} ({attempt} attempts)")
                        ) from None
                    latency = (time.perf_counter() - started) * 1000
                    return ChatReply(None, latency, None, None, error, attempt)
                delay = self.backoff(attempt, retry_after)
                log.debug("retrying after %s in %.3f s (attempt %d of %d)", error, delay, attempt, cfg.max_retries + 1)
                await asyncio.sleep(delay)

    def _reply(self, completion: Any, started: float, attempt: int) -> ChatReply:
        latency = (time.perf_counter() - started) * 1000
        usage = getattr(completion, "usage", None)
        prompt_tokens = _count(getattr(usage, "prompt_tokens", None))
        completion_tokens = _count(getattr(usage, "completion_tokens", None))
        if not hasattr(completion, "choices"):
            return ChatReply(None, latency, None, None, "malformed response", attempt)
        choices = getattr(completion, "choices", None) or []
        if not choices:
            return ChatReply(None, latency, prompt_tokens, completion_tokens, "empty choices", attempt)
        choice = choices[0]
        message = getattr(choice, "message", None)
        content = getattr(message, "content", None)
        finish = getattr(choice, "finish_reason", None)
        if not isinstance(content, str):
            refusal = getattr(message, "refusal", None)
            text = truncate(str(refusal), self.config.max_answer_chars) if isinstance(refusal, str) else None
            reason = "refusal" if text is not None else "no content"
            return ChatReply(text, latency, prompt_tokens, completion_tokens, reason, attempt, finish)
        text = truncate(content.replace("\x00", ""), self.config.max_answer_chars)
        return ChatReply(text, latency, prompt_tokens, completion_tokens, None, attempt, finish)


class ChatClient:
    """Sync facade over ChatSession: each `run(fn)` opens a fresh session on its own event loop."""

    def __init__(self, config: OpenAIConfig | Mapping[str, Any], seed: int = 0) -> None:
        self.config = config if isinstance(config, OpenAIConfig) else OpenAIConfig.model_validate(config)
        self.seed = seed
        self._rng = random.Random(seed)

    def __repr__(self) -> str:
        cfg = self.config
        return f"ChatClient(base_url={cfg.base_url!r}, model={cfg.model!r}, key from ${cfg.api_key_env})"

    def run(self, fn: Callable[[ChatSession], Awaitable[T]]) -> T:
        async def main() -> T:
            async with ChatSession(self.config, self._rng) as session:
                return await fn(session)

        return run_sync(main)

    def messages(self, question: str, system_prompt: str | None = None) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": self.config.system_prompt if system_prompt is None else system_prompt},
            {"role": "user", "content": question},
        ]

    def check_endpoint(self) -> dict[str, Any]:
        """One tiny request: raises EndpointUnreachable / AuthenticationFailed / UnknownModel / EndpointError."""
        probe = [
            {"role": "system", "content": "Reply with the single word: ok"},
            {"role": "user", "content": "ping"},
        ]

        async def once(session: ChatSession) -> ChatReply:
            return await session.complete(probe, temperature=0.0, max_tokens=8)

        reply = self.run(once)
        if reply.error is not None and reply.error not in ("no content", "refusal"):
            cfg = self.config
            raise EndpointError(f"{cfg.base_url} failed a test request for {cfg.model!r}: {reply.error}")
        return {
            "base_url": self.config.base_url,
            "model": self.config.model,
            "latency_ms": round(reply.latency_ms, 1),
            "attempts": reply.attempts,
            "reply": (reply.text or "")[:80],
        }


class OpenAILearner:
    """A remote chat model answers each question. It is trained between tiers only when the config names
    a train_command or fine_tune; the model a training step produced is kept in WORKDIR/model.json and
    answers from then on."""

    def __init__(
        self, config: OpenAIConfig | Mapping[str, Any], workdir: Path | str | None = None, seed: int = 0
    ) -> None:
        self.workdir = None if workdir is None else Path(workdir)
        state = self._state()
        if state.get("model"):
            config = OpenAIConfig.model_validate(config).model_copy(update={"model": state["model"]})
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
                prediction, reply.text, round(reply.latency_ms, 3), reply.prompt_tokens, reply.completion_tokens,
                reply.error, reply.attempts,
            )

        async def batch(session: ChatSession) -> list[AnswerRecord]:
            return await gather_all(one(session, q) for q in questions)

        started = time.perf_counter()
        records = self.client.run(batch)
        errors = sum(r.error is not None for r in records)
        log.info(
            "%s answered %d questions in %.1f s (%d errors, median latency %.0f ms)",
            self.config.model, len(records), time.perf_counter() - started, errors,
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
            "question": pl.String, "prediction": pl.String, "raw_text": pl.String, "latency_ms": pl.Float64,
            "prompt_tokens": pl.Int64, "completion_tokens": pl.Int64, "error": pl.String, "attempts": pl.Int64,
        },
    )
