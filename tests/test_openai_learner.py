"""The OpenAI-compatible learner against a real local HTTP server (tests/openai_server.py)."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import socket
import threading
import time

import polars as pl
import pytest
from pydantic import ValidationError

from curriculum.chat import (
    AuthenticationFailed,
    ChatSession,
    EndpointError,
    EndpointUnreachable,
    UnknownModel,
    retry_after_seconds,
    truncate,
)
from curriculum.errors import CurriculumError
from curriculum.generate import generate_items
from curriculum.learners.openai_chat import AnswerRecord, OpenAIConfig, OpenAILearner, records_frame
from curriculum.steps import score
from tests.openai_server import FakeOpenAI, Fault

KEY = "sk-test-3f9c2a7be41d-SECRET"
MODEL = "test-model"


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAI(api_key=KEY, models=(MODEL,)) as srv:
        yield srv


@pytest.fixture(scope="module")
def items() -> pl.DataFrame:
    frames = [generate_items(s, 2, 6, 0) for s in ("addition", "fraction_add", "boolean_eval", "linear_system")]
    return pl.concat(frames)


def make_config(server: FakeOpenAI | None = None, **overrides) -> OpenAIConfig:
    raw = {
        "base_url": server.url if server is not None else "http://127.0.0.1:9/v1",
        "model": MODEL,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        "timeout_s": 5.0,
        "max_retries": 3,
    }
    return OpenAIConfig(**(raw | overrides))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- config and helpers ------------------------------------------------------------------------


def test_config_defaults_are_strict_and_frozen():
    cfg = OpenAIConfig(base_url="http://x/v1", model="m")
    assert (cfg.api_key_env, cfg.temperature, cfg.max_tokens, cfg.concurrency) == ("OPENAI_API_KEY", 0.0, 256, 16)
    assert (cfg.max_retries, cfg.timeout_s, cfg.max_answer_chars) == (5, 60.0, 2000)
    assert "Answer:" in cfg.system_prompt
    with pytest.raises(ValidationError):
        OpenAIConfig(base_url="http://x/v1", model="m", api_key="sk-inline")
    with pytest.raises(ValidationError):
        cfg.model = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="http"):
        OpenAIConfig(base_url="localhost:8000/v1", model="m")
    assert OpenAIConfig(base_url="http://h:1/v1/", model="m").base_url == "http://h:1/v1"


def test_retry_after_parsing():
    now = 1_700_000_000.0
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after": "0.25"}) == 0.25
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert retry_after_seconds({"Retry-After": date}, now=now) == pytest.approx(7, abs=1)
    assert retry_after_seconds({"Retry-After": email.utils.formatdate(now - 60, usegmt=True)}, now=now) == 0.0
    for bad in ("soon", "-5", "nan", "inf", ""):
        assert retry_after_seconds({"Retry-After": bad}) is None
    assert retry_after_seconds({}) is None and retry_after_seconds(None) is None


def test_backoff_doubles_with_jitter_and_honours_retry_after():
    import random

    cfg = OpenAIConfig(base_url="http://x/v1", model="m", backoff_base_s=1.0, backoff_max_s=8.0, max_retry_after_s=20)
    session = ChatSession(cfg, random.Random(0))
    for attempt, full in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (12, 8)]:
        delays = {session.backoff(attempt, None) for _ in range(20)}
        assert all(full / 2 <= d <= full for d in delays)
        assert len(delays) > 1  # jittered
    assert session.backoff(1, 5.0) >= 5.0
    assert session.backoff(1, 10_000.0) == 20.0


def test_truncate_keeps_head_and_tail():
    text = "x" * 5000 + "\nAnswer: 7"
    cut = truncate(text, 100)
    assert len(cut) == 100 and cut.endswith("Answer: 7") and cut.startswith("x")
    assert truncate("short", 100) == "short"


# ---- answering -------------------------------------------------------------------------------


def test_answers_are_correct_and_recorded(server, items, tmp_path):
    server.register(items)
    learner = OpenAILearner(make_config(server), tmp_path, seed=3)
    questions = items["question"].to_list()
    records = learner.answer_records(questions)
    assert all(isinstance(r, AnswerRecord) for r in records) and len(records) == len(questions)
    assert all(r.error is None and r.attempts == 1 for r in records)
    assert all(r.prompt_tokens and r.completion_tokens and r.latency_ms > 0 for r in records)
    scored = score(items, [r.prediction for r in records])
    assert scored["correct"].all()
    # the server saw one well-formed request per question, with the key and the configured knobs
    reqs = server.chat_requests()
    assert len(reqs) == len(questions) and all(r.auth_ok for r in reqs)
    assert sorted(r.question for r in reqs) == sorted(questions)
    body = reqs[0].body
    assert body["model"] == MODEL and body["temperature"] == 0.0 and body["max_tokens"] == 256 and body["seed"] == 3
    assert body["messages"][0] == {"role": "system", "content": learner.config.system_prompt}
    assert "x-stainless-retry-count" not in reqs[0].headers or reqs[0].headers["x-stainless-retry-count"] == "0"
    frame = records_frame(questions, records)
    assert frame.height == len(questions) and frame["error"].null_count() == len(questions)
    assert learner.answer(questions) == [r.prediction for r in records]


def test_train_is_a_no_op(server, items):
    learner = OpenAILearner(make_config(server), None, 0)
    progress = []
    assert learner.train(items, None, on_progress=progress.append, tag="tier-1") == {
        "steps": 0,
        "note": "remote model: evaluate-only",
    }
    assert server.requests == [] and progress == [1.0]
    assert learner.answer([]) == []


def test_429_retry_after_seconds_is_honoured(server, items):
    server.register(items)
    question = items["question"][0]
    server.fail_question(question, Fault("429", retry_after="1"))
    cfg = make_config(server)
    [record] = OpenAILearner(cfg, None, 0).answer_records([question])
    assert record.error is None and record.attempts == 2 and record.prediction == items["answer"][0]
    first, second = server.chat_requests()
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 0.95  # waited the server's Retry-After, not the 10 ms backoff
    assert record.latency_ms >= 950


def test_429_retry_after_http_date_is_honoured(server, items):
    server.register(items)
    question = items["question"][0]
    server.fail_question(question, Fault("429", retry_after=email.utils.formatdate(time.time() + 2, usegmt=True)))
    [record] = OpenAILearner(make_config(server), None, 0).answer_records([question])
    assert record.error is None and record.attempts == 2
    first, second = server.chat_requests()
    assert second.at - first.at >= 0.9  # the date is whole seconds: between 1 and 2 s ahead when sent


def test_connection_errors_after_the_endpoint_answered_are_per_item(server, items):
    server.register(items)
    ok, dropped = items["question"].to_list()[:2]
    server.fail_question(dropped, *[Fault("disconnect")] * 5)
    records = OpenAILearner(make_config(server, concurrency=1, max_retries=2), None, 0).answer_records([ok, dropped])
    assert records[0].error is None
    assert (records[1].error, records[1].attempts, records[1].prediction) == ("connection error", 3, None)


def test_5xx_are_retried_then_given_up_per_item(server, items):
    server.register(items)
    good, flaky, dead = items["question"].to_list()[:3]
    server.fail_question(flaky, Fault("500"), Fault("503"))
    server.fail_question(dead, *[Fault("500")] * 10)
    records = OpenAILearner(make_config(server, max_retries=3), None, 0).answer_records([good, flaky, dead])
    assert [r.attempts for r in records] == [1, 3, 4]
    assert [r.error for r in records] == [None, None, "http 500"]
    assert records[2].prediction is None and records[2].raw_text is None
    assert sum(r.question == dead for r in server.chat_requests()) == 4  # 1 + max_retries; client retries off


def test_timeouts_and_dropped_connections_are_retried(server, items):
    server.register(items)
    slow, dropped = items["question"].to_list()[:2]
    server.fail_question(slow, Fault("slow", seconds=1.5))
    server.fail_question(dropped, Fault("disconnect"))
    records = OpenAILearner(make_config(server, timeout_s=0.3), None, 0).answer_records([slow, dropped])
    assert [r.error for r in records] == [None, None]
    assert [r.attempts for r in records] == [2, 2]
    assert records[0].latency_ms >= 300
    assert [r.prediction for r in records] == items["answer"].to_list()[:2]


def test_bad_bodies_are_recorded_per_item_not_raised(server, items):
    server.register(items)
    qs = items["question"].to_list()[:4]
    server.fail_question(qs[0], Fault("malformed"))
    server.fail_question(qs[1], Fault("empty_choices"))
    server.fail_question(qs[2], Fault("null_content"))
    learner = OpenAILearner(make_config(server), None, 0)
    records = learner.answer_records(qs)
    assert [r.error for r in records] == ["malformed response", "empty choices", "no content", None]
    assert [r.prediction for r in records][:3] == [None, None, None]
    assert records[3].prediction == items["answer"][3]
    assert learner.answer(qs[:1]) == [items["answer"][0]]  # the fault was used up; no state left behind


def test_concurrency_is_bounded(server, items):
    server.register(items)
    server.delay_s = 0.05
    for limit in (1, 4):
        questions = items["question"].to_list()[: 8 if limit == 1 else None]
        server.reset_counters()
        records = OpenAILearner(make_config(server, concurrency=limit), None, 0).answer_records(questions)
        assert all(r.error is None for r in records)
        assert server.max_in_flight == limit  # never more in flight, and really that many at once


def test_model_output_is_bounded_and_only_read(server, tmp_path):
    marker = tmp_path / "ran"
    huge = "blah " * 40_000 + "\nAnswer: 7"
    payload = f"__import__('os').system('touch {marker}')"
    server.responder = lambda messages: huge if "big" in messages[-1]["content"] else f"Answer: {payload}"
    records = OpenAILearner(make_config(server, max_answer_chars=500), None, 0).answer_records(["big?", "code?"])
    assert len(records[0].raw_text) <= 500 and records[0].prediction == "7"
    assert records[1].prediction == payload and not marker.exists()


# ---- sync use from threads and loops ----------------------------------------------------------


def test_works_from_a_thread_without_a_loop(server, items):
    server.register(items)
    learner = OpenAILearner(make_config(server), None, 0)
    out: list = []
    thread = threading.Thread(target=lambda: out.append(learner.answer(items["question"].to_list()[:3])))
    thread.start()
    thread.join(10)
    assert out == [items["answer"].to_list()[:3]]


def test_works_when_called_inside_a_running_loop(server, items):
    server.register(items)
    learner = OpenAILearner(make_config(server), None, 0)

    async def inside():
        return learner.answer(items["question"].to_list()[:3])

    assert asyncio.run(inside()) == items["answer"].to_list()[:3]


# ---- fatal setup errors ------------------------------------------------------------------------


def test_unreachable_endpoint_is_one_clean_exception(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    cfg = make_config(base_url=f"http://127.0.0.1:{closed_port()}/v1", max_retries=2)
    learner = OpenAILearner(cfg, None, 0)
    with pytest.raises(EndpointUnreachable) as info:
        learner.answer([f"{i} + 1 =" for i in range(20)])
    assert "refused" in str(info.value) and "3 attempts" in str(info.value)
    assert isinstance(info.value, CurriculumError) and info.value.__cause__ is None
    with pytest.raises(EndpointUnreachable):
        learner.check_endpoint()


def test_wrong_key_is_authentication_failed(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-77")
    learner = OpenAILearner(make_config(server), None, 0)
    with pytest.raises(AuthenticationFailed, match="check OPENAI_API_KEY") as info:
        learner.answer(["1 + 1 ="])
    assert "sk-wrong-key-77" not in str(info.value) and "sk-wrong-key-77" not in repr(info.value)
    assert len(server.chat_requests()) == 1  # a 401 is never retried
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(AuthenticationFailed, match="not set"):
        learner.check_endpoint()


def test_unknown_model_is_unknown_model(server):
    learner = OpenAILearner(make_config(server, model="no-such-model"), None, 0)
    with pytest.raises(UnknownModel, match="no-such-model"):
        learner.answer(["1 + 1 =", "2 + 2 ="])
    with pytest.raises(UnknownModel):
        learner.check_endpoint()


def test_check_endpoint(server):
    learner = OpenAILearner(make_config(server), None, 0)
    info = learner.check_endpoint()
    assert info["model"] == MODEL and info["attempts"] == 1 and info["latency_ms"] > 0
    [req] = server.chat_requests()
    assert req.body["max_tokens"] <= 8
    flaky = OpenAILearner(make_config(server, max_retries=1), None, 0)
    server.script(Fault("500"))
    assert flaky.check_endpoint()["attempts"] == 2
    server.script(Fault("500"), Fault("500"))
    with pytest.raises(EndpointError, match="http 500"):
        flaky.check_endpoint()


# ---- the key -----------------------------------------------------------------------------------


def test_api_key_never_leaks(server, items, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    server.register(items)
    qs = items["question"].to_list()[:4]
    server.fail_question(qs[0], Fault("429", retry_after="0"))
    server.fail_question(qs[1], *[Fault("500")] * 10)
    server.fail_question(qs[2], Fault("malformed"))
    cfg = make_config(server, max_retries=1)
    learner = OpenAILearner(cfg, None, 0)
    records = learner.answer_records(qs)
    info = learner.check_endpoint()
    texts = [repr(learner), str(learner), repr(cfg), cfg.model_dump_json(), repr(records), repr(info)]
    texts += [repr(vars(learner)), repr(vars(learner.client))]
    # a rejected key must not be echoed either
    monkeypatch.setenv("OPENAI_API_KEY", KEY + "-rotated")
    with pytest.raises(AuthenticationFailed) as info_401:
        learner.answer(qs[:1])
    texts += [str(info_401.value), repr(info_401.value), repr(info_401.value.args)]
    texts += [caplog.text] + [r.getMessage() for r in caplog.records]
    for req in server.requests:
        texts += [repr(req.headers), repr(req.body)]
    assert all(r.auth_ok for r in server.requests[:-1])  # the key was really sent
    assert not [t for t in texts if KEY in t]
    assert os.environ["OPENAI_API_KEY"] not in caplog.text
