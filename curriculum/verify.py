"""Gold-answer checks: each item's answer must equal the answer re-derived from its question.

Shared by `curriculum generate` (refuses to write a wrong item) and the validation suite.
"""

from __future__ import annotations

import polars as pl

from curriculum.skills import REGISTRY


def gold_checks(items: pl.DataFrame) -> list[bool]:
    """Per row: the skill's verifier accepts the answer its solver re-derives from the question.

    With a skill `solve`, that proves the gold right; without one, it checks the gold is readable.
    Model-written items (source llm:*) are re-derived from the checkable form stored with them.
    Unknown skills, missing text and solvers that cannot read the question all fail.
    """
    out: list[bool] = []
    append = out.append
    cols = [items[c].to_list() for c in ("skill", "question", "answer", "params")]
    sources = items["source"].to_list() if "source" in items.columns else [None] * items.height
    for skill_name, question, answer, params, source in zip(*cols, sources):
        skill = REGISTRY.get(skill_name or "")
        if skill is None or answer is None or question is None:
            append(False)
            continue
        row = {"skill": skill_name, "question": question, "answer": answer, "params": params}
        try:
            if source is not None and source.startswith("llm:"):  # model-written: its stored evidence, re-derived
                from curriculum.teacher import reverify

                append(bool(reverify(row | {"source": source})))
                continue
            derived = skill.solve(row) if skill.solve is not None else answer
            append(bool(skill.verify(row, derived)))
        except Exception:  # a question that cannot be solved or an unreadable answer fails the check
            append(False)
    return out
