"""The item schema every part of the pipeline shares, and content ids.

An item's id is a hash of its skill and canonical question, so equal content gets an equal id
whatever seed or tier produced it. The train/eval split is a function of that id too, which makes
train and eval disjoint across a whole run (and across runs) by construction.
"""

from __future__ import annotations

import hashlib

import polars as pl

ITEM_SCHEMA: dict[str, pl.DataType] = {
    "item_id": pl.String(),
    "skill": pl.String(),
    "domain": pl.String(),
    "level": pl.Int32(),
    "question": pl.String(),
    "answer": pl.String(),
    "params": pl.String(),
    "source": pl.String(),
    "split": pl.String(),
    "seed": pl.Int64(),
    "generator_version": pl.String(),
}
ITEM_COLUMNS = list(ITEM_SCHEMA)
DOMAINS = ("maths", "logic")
SPLITS = ("train", "eval")
EVAL_PERMILLE = 200  # share of the content space reserved for held-out evaluation, in 1/1000


def canonical_question(question: str) -> str:
    """Whitespace-collapsed question: formatting noise must not create a new item."""
    return " ".join(question.split())


def item_id(skill: str, question: str) -> str:
    """16 hex chars of blake2b over skill and canonical question."""
    key = f"{skill}\x1f{canonical_question(question)}".encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


# text Python's str.split() would change: leading, trailing or repeated whitespace, or whitespace other
# than a single space (Rust's \s is Unicode White_Space; str.split() also splits on \x1c-\x1f)
_NOT_CANONICAL = r"^\s|\s$|\s\s|[^\S ]|[\x1c-\x1f]"


def item_ids(skill: str, questions: list[str]) -> list[str]:
    """Vector form of item_id (the hot path of generation): generated text is already canonical, so
    only the rows that need it are collapsed in Python, found in one vectorised pass."""
    blake, prefix = hashlib.blake2b, f"{skill}\x1f"
    messy = pl.Series(questions, dtype=pl.String).str.contains(_NOT_CANONICAL)
    if messy.any():
        questions = [" ".join(q.split()) if m else q for q, m in zip(questions, messy.to_list())]
    return [blake((prefix + q).encode(), digest_size=8).hexdigest() for q in questions]


def split_of(item_id_: str) -> str:
    """`eval` for ~EVAL_PERMILLE/1000 of the id space, else `train`; stable for equal content."""
    return "eval" if int(item_id_[:8], 16) % 1000 < EVAL_PERMILLE else "train"


def empty_items() -> pl.DataFrame:
    return pl.DataFrame(schema=ITEM_SCHEMA)
