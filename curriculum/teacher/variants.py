"""Harder variants of numeric items, written by an LLM teacher and computed by the project.

The teacher answers with strict JSON `{"question": str, "expression": str}`: the new exercise, and the
arithmetic expression whose value (or the equation in x whose solution) is its answer. The answer is
computed by `safe_math` (exact fractions, bounded, never eval) and never taken from the model. A
variant is accepted only when the JSON is exactly that shape, the expression parses, an equation has
a unique solution, the computed answer is a valid answer for the skill, every number of the expression
appears in the question, and `k_samples` answers sampled from the model agree with the computed one.

Only items whose gold answer is a number are used as seeds; rejections are counted by reason.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import polars as pl

from curriculum.chat import ChatClient, ChatSession, EndpointConfig
from curriculum.items import canonical_question
from curriculum.skills.answers import parse_fraction
from curriculum.skills.base import Skill
from curriculum.teacher import safe_math
from curriculum.teacher.rewrite import (
    MAX_QUESTION_CHARS,
    agreement,
    clean_text,
    llm_item,
    number_values,
    source_params,
    teach_each,
    verifies,
)

MAX_REPLY_CHARS = 4_000  # a JSON reply longer than this is not read at all
VARIANT_SYSTEM = (
    "You write harder variants of maths exercises. Given an exercise and its answer, write one new exercise "
    "of the same kind that is somewhat harder, keeping any instruction about the form of the answer. Reply with "
    'strict JSON only, no prose and no code fence: {"question": "<the new exercise>", "expression": "<its '
    'computation>"}. The expression is either an arithmetic expression over integers with + - * / ^ and '
    'parentheses whose value is the answer, or an equation in x such as "2*x + 3 = 11" whose unique '
    "solution is the answer. Every number in the expression must appear in the question."
)
VARIANT_USER = "Exercise: {question}\nAnswer: {answer}"
_FENCE = re.compile(r"^```(?:json)?\s*\n?(.*?)\n?```$", re.S | re.I)


def parse_reply(text: str | None) -> tuple[dict[str, str] | None, str | None]:
    """({"question", "expression"}, None) for a well-formed reply, else (None, rejection reason)."""
    if not text or not text.strip():
        return None, "bad_json"
    if len(text) > MAX_REPLY_CHARS:
        return None, "too_long"
    s = text.strip()
    m = _FENCE.match(s)
    if m:
        s = m.group(1).strip()
    try:
        data = json.loads(s)
    except ValueError:
        return None, "bad_json"
    if not isinstance(data, dict) or set(data) != {"question", "expression"}:
        return None, "bad_json"
    if not all(isinstance(data[k], str) and data[k].strip() for k in ("question", "expression")):
        return None, "bad_json"
    return {"question": data["question"], "expression": data["expression"].strip()}, None


def harder_variants(
    client_cfg: EndpointConfig | Mapping[str, Any],
    items_frame: pl.DataFrame,
    k_samples: int = 2,
    *,
    level_delta: int = 1,
    seed: int = 0,
    sample_temperature: float = 0.7,
    max_question_chars: int = MAX_QUESTION_CHARS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted items in the item schema, rejections as (reason, count)). One request per source item.

    Accepted items keep the source's skill, domain and split, sit `level_delta` levels above it, and
    record the expression in `params` so the answer can be recomputed.
    """
    if level_delta < 0:
        raise ValueError("level_delta must be >= 0")

    async def one(
        session: ChatSession, client: ChatClient, skill: Skill, row: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, str]:
        model = client.config.model
        if parse_fraction(str(row.get("answer") or "")) is None:
            return None, "not_numeric"
        reply = await session.complete(
            client.messages(VARIANT_USER.format(question=row["question"], answer=row["answer"]), VARIANT_SYSTEM),
            seed=seed,
        )
        if reply.error is not None:
            return None, "error"
        data, reason = parse_reply(reply.text)
        if data is None:
            return None, reason or "bad_json"
        question = clean_text(data["question"])
        expression = data["expression"]
        if not question:
            return None, "bad_json"
        if len(question) > max_question_chars:
            return None, "too_long"
        try:
            value = safe_math.compute(expression)
            literals = safe_math.numbers(expression)
        except safe_math.SafeMathError as err:
            return None, err.reason
        if canonical_question(question).lower() == canonical_question(row["question"]).lower():
            return None, "unchanged"
        if Counter(Fraction(n) for n in literals) - number_values(question):
            return None, "numbers_missing"
        answer = safe_math.format_number(value)
        candidate = dict(row) | {"question": question, "answer": answer}
        # the skill's own verifier must read the answer: padded, so no gold-string fast path answers
        # for it, and an integer skill rejects a fraction
        if not verifies(skill, candidate, f" {answer} "):
            return None, "answer_type"
        verdict = await agreement(session, client, skill, candidate, question, k_samples, sample_temperature, seed)
        if verdict is not None:
            return None, verdict
        params = {
            "variant_of": row["item_id"],
            "source_question": row["question"],
            "source_params": source_params(row),
            "expression": expression,
            "teacher": model,
            "verification": {"method": "safe-math", "expression": expression, "k": k_samples, "agreed": k_samples},
        }
        level = int(row["level"]) + level_delta
        return llm_item(row, question, answer, params, model, level, "variant@2"), "accepted"

    return teach_each(client_cfg, seed, items_frame, one, "variants")
