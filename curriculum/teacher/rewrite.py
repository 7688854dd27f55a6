"""Word-problem rewrites of procedural items by an LLM teacher, kept only when the project can vouch for them.

The teacher rewrites each question as a word problem that keeps every number. A rewrite is accepted
only when it is new, bounded in length, keeps every number of the source question (as often as the
source has it), does not state the answer outright, and `k_samples` answers sampled from the model
for the rewrite all pass the skill's own verifier against the source's gold answer. The gold answer
is never the model's: an accepted item keeps the source's answer, skill and level, and records its
evidence in `params` (source id and question, the agreement check) so it can be re-verified later.

Rejections are counted by reason and returned as a (reason, count) frame.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from fractions import Fraction
from typing import Any

import polars as pl

from curriculum.chat import ChatClient, ChatSession, EndpointConfig, gather_all
from curriculum.extraction import extract_answer
from curriculum.items import ITEM_SCHEMA, canonical_question, empty_items, item_id
from curriculum.seeds import derive
from curriculum.skills import REGISTRY
from curriculum.skills.base import Skill
from curriculum.teacher.safe_math import numbers_in_text

log = logging.getLogger(__name__)
OneItem = Callable[[ChatSession, ChatClient, Skill, dict[str, Any]], Awaitable[tuple[dict[str, Any] | None, str]]]

MAX_QUESTION_CHARS = 1_000
REJECTION_SCHEMA = {"reason": pl.String, "count": pl.Int64}
REWRITE_SYSTEM = (
    "You rewrite short maths and logic exercises as word problems about everyday situations. Keep every "
    "number exactly as written, in digits. Keep any instruction about the form of the answer. Do not solve "
    "the exercise and do not state its answer. Reply with the word problem only."
)
REWRITE_USER = "Rewrite this exercise as a word problem:\n\n{question}"
_FENCE = re.compile(r"^```[\w-]*\s*\n?(.*?)\n?```$", re.S)
_LABEL = re.compile(r"^(?:word problem|rewritten(?: exercise)?|problem)\s*:\s*", re.I)


def rejection_frame(counts: Mapping[str, int]) -> pl.DataFrame:
    """(reason, count) rows, most frequent first."""
    rows = sorted(((r, int(c)) for r, c in counts.items() if c), key=lambda rc: (-rc[1], rc[0]))
    return pl.DataFrame(rows, schema=REJECTION_SCHEMA, orient="row")


def clean_text(text: str | None) -> str:
    """Model prose as one line: code fences, a leading label, wrapping quotes and control characters removed."""
    if not text:
        return ""
    s = text.strip()
    m = _FENCE.match(s)
    if m:
        s = m.group(1).strip()
    s = _LABEL.sub("", s)
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        s = s[1:-1]
    s = "".join(ch for ch in s if ch.isprintable() or ch.isspace())
    return " ".join(s.split())


def number_values(text: str) -> Counter[Fraction]:
    """The numbers written in text, by value ('2.50' and '2.5' are one number), with multiplicity."""
    return Counter(Fraction(n) for n in numbers_in_text(text))


def numbers_kept(source: str, rewrite: str) -> bool:
    """Every number of source appears in rewrite at least as often."""
    return not (number_values(source) - number_values(rewrite))


def answer_leaked(source: str, rewrite: str, answer: str) -> bool:
    """The rewrite states a numeric gold answer the source did not contain."""
    try:
        value = Fraction(answer.strip().replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return False
    return number_values(rewrite)[value] > number_values(source)[value]


def verifies(skill: Skill, gold: Mapping[str, Any], prediction: str | None) -> bool:
    if prediction is None:
        return False
    try:
        return bool(skill.verify(gold, prediction))
    except Exception:
        return False


async def agreement(
    session: ChatSession,
    client: ChatClient,
    skill: Skill,
    gold: Mapping[str, Any],
    question: str,
    k: int,
    temperature: float,
    seed: int,
) -> str | None:
    """None when k sampled answers to `question` all verify against gold; else the rejection reason."""
    if k <= 0:
        return None
    messages = client.messages(question)
    replies = await gather_all(
        session.complete(messages, temperature=temperature, seed=derive(seed, "agreement", i) % 2**31) for i in range(k)
    )
    if any(r.error is not None for r in replies):
        return "error"
    if all(verifies(skill, gold, extract_answer(r.text)) for r in replies):
        return None
    return "disagreement"


def llm_item(
    source: Mapping[str, Any], question: str, answer: str, params: dict[str, Any], model: str, level: int, suffix: str
) -> dict[str, Any]:
    """An item-schema row for a teacher-written question; split and seed follow the source item."""
    return {
        "item_id": item_id(source["skill"], question),
        "skill": source["skill"],
        "domain": source["domain"],
        "level": level,
        "question": question,
        "answer": answer,
        "params": json.dumps(params, sort_keys=True),
        "source": f"llm:{model}",
        "split": source["split"],  # a paraphrase stays on its source's side of the train/eval split
        "seed": source["seed"],
        "generator_version": f"{source['generator_version'] or source['skill']}+{suffix}",
    }


def collect(results: list[tuple[dict[str, Any] | None, str]]) -> tuple[pl.DataFrame, Counter[str]]:
    """Accepted rows as an item frame (a repeated item_id counts as a "duplicate" rejection) and the rejections."""
    counts: Counter[str] = Counter()
    rows, seen = [], set()
    for item, reason in results:
        if item is None:
            counts[reason] += 1
        elif item["item_id"] in seen:
            counts["duplicate"] += 1
        else:
            seen.add(item["item_id"])
            rows.append(item)
    frame = pl.DataFrame(rows, schema=ITEM_SCHEMA) if rows else empty_items()
    return frame, counts


def teach_each(
    client_cfg: EndpointConfig | Mapping[str, Any], seed: int, items_frame: pl.DataFrame, one: OneItem, what: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`one(session, client, skill, row)` for every source row whose skill is known, within the client's
    concurrency bound: (accepted items, rejection counts)."""
    client = ChatClient(client_cfg, seed)
    rows = list(items_frame.iter_rows(named=True))

    async def each(session: ChatSession, row: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        skill = REGISTRY.get(row.get("skill") or "")
        return (None, "unknown_skill") if skill is None else await one(session, client, skill, row)

    async def batch(session: ChatSession) -> list[tuple[dict[str, Any] | None, str]]:
        return await gather_all(each(session, row) for row in rows)

    accepted, counts = collect(client.run(batch) if rows else [])
    log.info("%s: %d accepted of %d; rejected %s", what, accepted.height, len(rows), dict(counts))
    return accepted, rejection_frame(counts)


def source_params(row: Mapping[str, Any]) -> Any:
    raw = row.get("params")
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return raw


def rewrite_as_word_problems(
    client_cfg: EndpointConfig | Mapping[str, Any],
    items_frame: pl.DataFrame,
    k_samples: int = 3,
    *,
    seed: int = 0,
    sample_temperature: float = 0.7,
    max_question_chars: int = MAX_QUESTION_CHARS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted items in the item schema, rejections as (reason, count)). See the module docstring."""
    if k_samples < 1:
        raise ValueError("k_samples must be >= 1: the agreement check is what vouches for a rewrite")

    async def one(
        session: ChatSession, client: ChatClient, skill: Skill, row: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, str]:
        model = client.config.model
        if row.get("source") not in (None, "procedural"):
            return None, "not_procedural"
        source_q = row["question"]
        reply = await session.complete(
            client.messages(REWRITE_USER.format(question=source_q), REWRITE_SYSTEM), seed=seed
        )
        if reply.error is not None:
            return None, "error"
        if reply.finish_reason == "length":
            return None, "too_long"
        text = clean_text(reply.text)
        if not text:
            return None, "empty"
        if len(text) > max_question_chars:
            return None, "too_long"
        if canonical_question(text).lower() == canonical_question(source_q).lower():
            return None, "unchanged"
        if not numbers_kept(source_q, text):
            return None, "numbers_missing"
        if answer_leaked(source_q, text, str(row["answer"])):
            return None, "answer_leaked"
        verdict = await agreement(session, client, skill, row, text, k_samples, sample_temperature, seed)
        if verdict is not None:
            return None, verdict
        params = {
            "source_item_id": row["item_id"],
            "source_question": source_q,
            "source_params": source_params(row),
            "teacher": model,
            "verification": {"method": "k-sample-agreement", "k": k_samples, "agreed": k_samples, "numbers_kept": True},
        }
        return llm_item(row, text, row["answer"], params, model, row["level"], "rewrite@2"), "accepted"

    return teach_each(client_cfg, seed, items_frame, one, "rewrites")
