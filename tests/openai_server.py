"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

It speaks `POST /v1/chat/completions` and `GET /v1/models` over plain HTTP/1.1, answers registered
questions correctly ("...\\nAnswer: <gold>"), and can be scripted to misbehave: 429 with Retry-After,
500, slow replies, malformed JSON, empty choices, dropped connections. A wrong key gets 401 and an
unknown model 404. Every request is recorded (path, headers without the Authorization value, body),
and the peak number of requests in flight is tracked.

    with FakeOpenAI(api_key="sk-test") as server:
        server.register({"2 + 2 =": "4"})
        server.script(Fault("429", retry_after="1"))
        ... OpenAIConfig(base_url=server.url, model=server.models[0]) ...
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

FaultKind = Literal["429", "500", "503", "slow", "malformed", "empty_choices", "disconnect", "null_content", "body"]
Responder = Callable[[list[dict[str, Any]]], str | None]


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour, used up by one request.

    `retry_after` is sent verbatim as the Retry-After header (429/500/503); `seconds` is the delay of
    a "slow" reply, which then answers normally (if the client is still there).
    """

    kind: FaultKind
    retry_after: str | None = None
    seconds: float = 0.0
    payload: Any = None  # kind "body": this JSON, sent as the reply whatever it is


@dataclass
class RecordedRequest:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names; the Authorization value is never kept
    body: Any
    auth_ok: bool
    status: int = 0
    fault: str | None = None

    @property
    def question(self) -> str | None:
        return last_user_message(self.body) if isinstance(self.body, dict) else None


def last_user_message(body: Mapping[str, Any]) -> str | None:
    messages = body.get("messages") or []
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else None
    return None


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    question_faults: dict[str, deque[Fault]] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0


class FakeOpenAI:
    """The server; start()/stop() or use it as a context manager. Listens on an ephemeral port."""

    def __init__(
        self,
        *,
        api_key: str = "sk-test-key",
        models: tuple[str, ...] = ("test-model",),
        delay_s: float = 0.0,
        answers: Mapping[str, str] | None = None,
        answer_fn: Callable[[str], str | None] | None = None,
        responder: Responder | None = None,
        fine_tuning: Literal["succeed", "fail"] | None = None,
    ) -> None:
        self.api_key = api_key
        self.models = models
        self.delay_s = delay_s
        self.answers: dict[str, str] = dict(answers or {})
        self.answer_fn = answer_fn  # question -> gold answer (None: unknown)
        self.responder = responder  # messages -> full reply text; overrides the default reply
        self.fine_tuning = fine_tuning  # None: no fine-tuning API (404 on /v1/files), like most local servers
        self.files: dict[str, bytes] = {}  # uploaded training files by id
        self.jobs: dict[str, dict[str, Any]] = {}  # fine-tuning jobs by id
        self._state = _State()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- setup -------------------------------------------------------------------------------
    def register(self, items: Any) -> None:
        """Questions the default reply answers correctly: a {question: answer} mapping or an items frame."""
        if isinstance(items, Mapping):
            pairs = items.items()
        else:
            pairs = zip(items["question"].to_list(), items["answer"].to_list())
        with self._state.lock:
            for question, answer in pairs:
                self.answers[" ".join(str(question).split())] = str(answer)

    def script(self, *faults: Fault) -> None:
        """Faults for the next requests, one each, in arrival order."""
        with self._state.lock:
            self._state.faults.extend(faults)

    def fail_question(self, question: str, *faults: Fault) -> None:
        """Faults for the next requests about this question (matched on the last user message)."""
        with self._state.lock:
            self._state.question_faults.setdefault(" ".join(question.split()), deque()).extend(faults)

    # ---- observations ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def max_in_flight(self) -> int:
        return self._state.max_in_flight

    def reset_counters(self) -> None:
        with self._state.lock:
            self._state.requests.clear()
            self._state.max_in_flight = 0

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- behaviour ---------------------------------------------------------------------------
    def default_reply(self, messages: list[dict[str, Any]]) -> str:
        question = last_user_message({"messages": messages}) or ""
        key = " ".join(question.split())
        answer = self.answers.get(key)
        if answer is None and self.answer_fn is not None:
            try:
                answer = self.answer_fn(question)
            except Exception:  # not one of its questions (a ping, say): a model answers anyway
                answer = None
        if answer is None:
            return "I am not sure how to solve this."
        return f"Let me work through it step by step.\nAnswer: {answer}"

    def _next_fault(self, question: str | None) -> Fault | None:
        with self._state.lock:
            if self._state.faults:
                return self._state.faults.popleft()
            queue = self._state.question_faults.get(" ".join((question or "").split()))
            if queue:
                return queue.popleft()
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # bursts of concurrent connects must not overflow the listen backlog

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out and hang up are expected here


def _completion(model: str, content: str | None, prompt: str) -> dict[str, Any]:
    prompt_tokens = max(1, len(prompt.split()))
    completion_tokens = len((content or "").split())
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _make_handler(owner: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    state = owner._state

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeOpenAI/1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except (ConnectionError, TimeoutError, OSError):
                pass

        # -- helpers --
        def _record(self, body: Any) -> RecordedRequest:
            headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
            auth = self.headers.get("Authorization", "")
            auth_ok = auth == f"Bearer {owner.api_key}"
            rec = RecordedRequest(time.monotonic(), self.command, self.path, headers, body, auth_ok)
            with state.lock:
                state.requests.append(rec)
            return rec

        def _send(
            self, rec: RecordedRequest, status: int, payload: Any, extra: Mapping[str, str] | None = None
        ) -> None:
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            rec.status = status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)
            self.wfile.flush()

        def _error(
            self, rec: RecordedRequest, status: int, message: str, code: str, extra: Mapping[str, str] | None = None
        ) -> None:
            error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
            self._send(rec, status, {"error": error}, extra)

        # -- routes --
        def do_GET(self) -> None:
            rec = self._record(None)
            if not rec.auth_ok:
                return self._error(rec, 401, "Incorrect API key provided.", "invalid_api_key")
            if self.path.rstrip("/") == "/v1/models":
                data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in owner.models]
                return self._send(rec, 200, {"object": "list", "data": data})
            if self.path.startswith("/v1/fine_tuning/jobs/") and owner.fine_tuning:
                job = owner.jobs.get(self.path.rsplit("/", 1)[-1])
                if job is None:
                    return self._error(rec, 404, "no such job", "not_found")
                if job["status"] == "queued":
                    job["status"] = "running"
                elif job["status"] == "running" and owner.fine_tuning == "fail":
                    job.update(
                        status="failed",
                        error={"code": "invalid_file", "message": "training file rejected", "param": None},
                    )
                elif job["status"] == "running":
                    job.update(status="succeeded", fine_tuned_model=f"ft:{job['model']}:curriculum:{job['id']}")
                    owner.models = (*owner.models, job["fine_tuned_model"])
                return self._send(rec, 200, job)
            return self._error(rec, 404, f"no route {self.path}", "not_found")

        def _fine_tuning(self, rec: RecordedRequest, raw: bytes, body: Any) -> None:
            """Files and fine-tuning jobs: a job is queued, then running, then succeeds (or fails)."""
            if not owner.fine_tuning:
                return self._error(rec, 404, f"no route {self.path}", "not_found")
            if not rec.auth_ok:
                return self._error(rec, 401, "Incorrect API key provided.", "invalid_api_key")
            if self.path.rstrip("/") == "/v1/files":
                file_id = f"file-{len(owner.files) + 1}"
                owner.files[file_id] = raw
                return self._send(
                    rec,
                    200,
                    {
                        "id": file_id,
                        "object": "file",
                        "bytes": len(raw),
                        "created_at": 0,
                        "filename": "train.jsonl",
                        "purpose": "fine-tune",
                        "status": "processed",
                    },
                )
            if self.path.rstrip("/") == "/v1/fine_tuning/jobs" and isinstance(body, dict):
                if body.get("model") not in owner.models or body.get("training_file") not in owner.files:
                    return self._error(rec, 400, "unknown model or training file", "invalid_request")
                job_id = f"ftjob-{len(owner.jobs) + 1}"
                owner.jobs[job_id] = {
                    "id": job_id,
                    "object": "fine_tuning.job",
                    "model": body["model"],
                    "status": "queued",
                    "training_file": body["training_file"],
                    "created_at": 0,
                    "fine_tuned_model": None,
                    "organization_id": "org-test",
                    "result_files": [],
                    "seed": body.get("seed", 0),
                    "hyperparameters": {"n_epochs": "auto"},
                    "error": None,
                }
                return self._send(rec, 200, owner.jobs[job_id])
            return self._error(rec, 404, f"no route {self.path}", "not_found")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                body = None
            rec = self._record(body)
            if self.path.startswith(("/v1/files", "/v1/fine_tuning")):
                return self._fine_tuning(rec, raw, body)
            with state.lock:
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                self._chat(rec, body)
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _chat(self, rec: RecordedRequest, body: Any) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._error(rec, 404, f"no route {self.path}", "not_found")
            if not rec.auth_ok:
                return self._error(rec, 401, "Incorrect API key provided.", "invalid_api_key")
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                return self._error(rec, 400, "messages must be a list", "invalid_request")
            model = body.get("model")
            if model not in owner.models:
                return self._error(rec, 404, f"The model `{model}` does not exist.", "model_not_found")
            question = last_user_message(body)
            if owner.delay_s:
                time.sleep(owner.delay_s)
            fault = owner._next_fault(question)
            if fault is not None:
                rec.fault = fault.kind
                extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
                if fault.kind in ("429", "500", "503"):
                    names = {"429": "Rate limit reached.", "500": "Internal error.", "503": "Overloaded."}
                    return self._error(rec, int(fault.kind), names[fault.kind], "server_error", extra)
                if fault.kind == "malformed":
                    return self._send(rec, 200, b'{"id": "chatcmpl-1", "choices": [{"message": ')
                if fault.kind == "empty_choices":
                    payload = _completion(model, None, question or "")
                    payload["choices"] = []
                    return self._send(rec, 200, payload)
                if fault.kind == "null_content":
                    return self._send(rec, 200, _completion(model, None, question or ""))
                if fault.kind == "disconnect":
                    rec.status = -1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                if fault.kind == "slow":
                    time.sleep(fault.seconds)
                if fault.kind == "body":
                    return self._send(rec, 200, fault.payload)
            messages = body["messages"]
            content = owner.responder(messages) if owner.responder is not None else None
            if content is None:
                content = owner.default_reply(messages)
            return self._send(rec, 200, _completion(model, content, question or ""))

    return Handler
