"""Gold-answer checks: each item's answer must equal the answer re-derived from its question.

Shared by `curriculum generate` (refuses to write a wrong item) and the validation suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from curriculum.skills import REGISTRY
from curriculum.skills.answers import clean

SLICE_ROWS = 50_000  # rows per slice of gold checks handed to a task runner

MapFn = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


def gold_checks(items: pl.DataFrame) -> list[bool]:
    """Per row: the skill's verifier accepts the answer its solver re-derives from the question.

    Every skill has a `solve`, so that proves the gold right.
    Model-written items (source llm:*) are re-derived from the checkable form stored with them; a user's
    real items (source real) carry their own labels: a question and an answer that is not blank once normalised
    (the exact-match verifier's normal form).
    Unknown skills, missing text and solvers that cannot read the question all fail.
    """
    cols = [items[c].to_list() for c in ("skill", "question", "answer", "params")]
    sources = items["source"].to_list() if "source" in items.columns else [None] * items.height
    out: list[bool] = [False] * items.height
    batched: dict[str, list[int]] = {}  # generated rows of skills with a vector solver, solved together
    skills: dict[str | None, Any] = {}  # a batch is mostly one skill: look it up once
    for i, (skill_name, question, answer, params, source) in enumerate(zip(*cols, sources)):
        if source == "real":  # a user's real item: its answer is the label, checked by exact match
            out[i] = bool(question and question.strip()) and answer is not None and clean(answer) != ""
            continue
        if skill_name in skills:
            skill = skills[skill_name]
        else:  # unknown names are remembered too (as None)
            skill = skills[skill_name] = REGISTRY.get(skill_name or "")
        if skill is None or answer is None or question is None:
            continue
        if skill.solve_batch is not None and (source is None or source == "procedural"):
            batched.setdefault(skill_name, []).append(i)
            continue
        out[i] = _gold_check(
            skill, {"skill": skill_name, "question": question, "answer": answer, "params": params}, source
        )
    for skill_name, rows in batched.items():
        skill, answers = skills[skill_name], cols[2]
        try:
            derived: list[str | None] = list(skill.solve_batch([cols[1][i] for i in rows]))
        except Exception:  # a vector solver that fails leaves every row to the solver
            derived = [None] * len(rows)
        for i, got in zip(rows, derived):
            if got is not None and got == answers[i]:
                out[i] = True
                continue
            row = {"skill": skill_name, "question": cols[1][i], "answer": answers[i], "params": cols[3][i]}
            out[i] = _gold_check(skill, row, None) if got is None else _accepts(skill, row, got)
    return out


def _gold_check(skill: Any, row: dict[str, Any], source: str | None) -> bool:
    try:
        if source is not None and source != "procedural" and source.startswith("llm:"):
            from curriculum.teacher import reverify  # model-written: its stored evidence, re-derived

            return bool(reverify(row | {"source": source}))
        derived = skill.solve(row)
    except Exception:  # a question that cannot be solved fails the check
        return False
    # the solver's canonical string equal to the gold proves it; anything else goes to the verifier
    return derived == row["answer"] or _accepts(skill, row, derived)


def _accepts(skill: Any, row: dict[str, Any], derived: str) -> bool:
    try:
        return bool(skill.verify(row, derived))
    except Exception:  # an unreadable answer fails the check
        return False


def gold_checks_sliced(items: pl.DataFrame, map_fn: MapFn = map, rows: int = SLICE_ROWS) -> list[bool]:
    """gold_checks over slices of `rows` rows through `map_fn` (a task runner's map runs them anywhere);
    each row's check depends on that row alone, so the result never depends on the slicing."""
    slices = [items.slice(start, rows) for start in range(0, items.height, rows)]
    return [ok for part in map_fn(gold_checks, slices) for ok in part]
