"""The OpenAI-compatible chat transport: one endpoint config, bounded concurrency, retries, one-line errors.

Shared by the OpenAI learner and the teacher. Requests go through `openai.AsyncOpenAI` with the client's own
retries switched off: the retry loop here (exponential backoff with jitter, Retry-After honoured in seconds or
as an HTTP date) covers 429, 5xx, timeouts and connection errors, and is what the tests drive. At most
`concurrency` requests are in flight (one semaphore); each has a hard per-request timeout.

Model output is untrusted: it is only ever cut to `max_answer_chars`, never executed. Setup failures raise
one exception each: `EndpointUnreachable` (nothing answered while the first requests used up their retries),
`AuthenticationFailed` (401) and `UnknownModel` (404).

The API key is read from the environment variable named by the config at the start of each batch and lives
only in that batch's session (its HTTP client); it is never kept on a client or its config, logged, or put in
a message. Sync callers are served by running an event loop internally (a private thread when the caller's
thread already runs one).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import logging
import math
import os
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from curriculum.errors import CurriculumError

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_SYSTEM_PROMPT = (
    "You are solving a maths or logic exercise. Work it out briefly if you need to, then give the final "
    'answer alone on the last line in the form "Answer: <answer>", using any answer format the '
    "exercise asks for."
)
NO_KEY = "no-key-set"  # sent when the key variable is unset: local servers often need none
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})
CHECK_TIMEOUT_S = 15.0  # the endpoint check before a run waits at most this long per attempt (two attempts)
PROGRESS_EVERY_S = 30.0  # a batch still waiting on answers says so this often


class EndpointError(CurriculumError):
    """The chat endpoint cannot be used for this run."""


class EndpointUnreachable(EndpointError):
    """Nothing answered at the base URL (connection refused, DNS failure, no reply in time)."""


class AuthenticationFailed(EndpointError):
    """The endpoint rejected the API key (HTTP 401)."""


class UnknownModel(EndpointError):
    """The endpoint does not serve the model (HTTP 404)."""


class EndpointConfig(BaseModel):
    """An OpenAI-compatible chat endpoint and how to call it. The key itself never appears here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
    send_seed: bool = True  # pass the caller's seed along (servers that reject it: set false)

    @field_validator("base_url")
    @classmethod
    def http_url(cls, url: str) -> str:
        """An http(s) URL with a host and a valid port, and no credentials in it: a key in the URL would be
        stored with the run's config and shown in messages; it belongs in $api_key_env."""
        from urllib.parse import urlsplit

        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {url[:80]!r}")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as err:
            raise ValueError(f"base_url is not a valid URL ({err})") from None
        if parts.username is not None or parts.password is not None:
            raise ValueError(
                "base_url must not carry credentials (user:key@host); put the key in the variable named by api_key_env"
            )
        if not parts.hostname:
            raise ValueError("base_url names no host, e.g. http://127.0.0.1:8000/v1")
        if port == 0:
            raise ValueError("base_url has port 0")
        return url.rstrip("/")


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


async def waiting_notice(what: str, pending: Callable[[], int], total: int, every: float | None = None) -> None:
    """While a batch waits on a slow endpoint, one line to stderr every `every` seconds: what it waits for."""
    import sys

    every = every or PROGRESS_EVERY_S
    started = time.monotonic()
    while True:
        await asyncio.sleep(every)
        print(
            f"still waiting for {pending()} of {total} answers from {what} ({time.monotonic() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )


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

    def __init__(self, config: EndpointConfig, rng: random.Random) -> None:
        import openai

        self.config = config
        self.rng = rng
        self.sem = asyncio.Semaphore(config.concurrency)
        self.reached = False  # any HTTP response seen in this batch
        key = os.environ.get(config.api_key_env) or NO_KEY
        self.key_set = key != NO_KEY
        self.client = openai.AsyncOpenAI(base_url=config.base_url, api_key=key, max_retries=0, timeout=config.timeout_s)

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
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list):  # {"choices": "nope"} is not a chat completion
            return ChatReply(None, latency, None, None, "malformed response", attempt)
        if not choices:
            return ChatReply(None, latency, prompt_tokens, completion_tokens, "empty choices", attempt)
        choice = choices[0]
        message = getattr(choice, "message", None)
        if message is None:
            return ChatReply(None, latency, prompt_tokens, completion_tokens, "malformed response", attempt)
        content = getattr(message, "content", None)
        finish = getattr(choice, "finish_reason", None)
        if not isinstance(content, str):
            refusal = getattr(message, "refusal", None)
            text = (
                self._masked(truncate(str(refusal), self.config.max_answer_chars)) if isinstance(refusal, str) else None
            )
            reason = "refusal" if text is not None else "no content"
            return ChatReply(text, latency, prompt_tokens, completion_tokens, reason, attempt, finish)
        text = self._masked(truncate(content.replace("\x00", ""), self.config.max_answer_chars))
        return ChatReply(text, latency, prompt_tokens, completion_tokens, None, attempt, finish)

    def _masked(self, text: str) -> str:
        """Model text with the API key masked: a model (or a proxy) that echoes the request's Authorization
        header must not put the key into the catalogue."""
        key = os.environ.get(self.config.api_key_env)
        return text.replace(key, "[api key]") if key and len(key) >= 8 else text


class ChatClient:
    """Sync facade over ChatSession: each `run(fn)` opens a fresh session on its own event loop."""

    def __init__(self, config: EndpointConfig | Mapping[str, Any], seed: int = 0) -> None:
        self.config = config if isinstance(config, EndpointConfig) else EndpointConfig.model_validate(config)
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

        cfg = self.config  # bounded: an endpoint that accepts and never answers is named within ~30 s
        quick = cfg.model_copy(
            update={"timeout_s": min(cfg.timeout_s, CHECK_TIMEOUT_S), "max_retries": min(cfg.max_retries, 1)}
        )
        reply = ChatClient(quick, self.seed).run(once)
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
