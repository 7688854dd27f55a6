"""frontier-search, for evaluate-only learners: each skill's frontier (highest level with held-out
accuracy >= threshold), found in few items. Its rounds only probe: nothing is trained.

Per skill: gallop up (start, 2x, 4x, ...) until a level fails, then bisect between the highest level
passed and the lowest level failed. Each probe grows in batches of fresh items until its accuracy is
more than one standard error (under the threshold's own variance) away from the threshold, or reaches
the per-level cap, where the plain comparison decides. A frontier of 20 takes ~10 probes, not 20 levels
of a fixed-size probe each. The search assumes accuracy falls as the level rises (what levels are for);
every probe is kept as evidence, so a non-monotone skill shows in the record.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import polars as pl

from curriculum.controllers import register
from curriculum.controllers.base import DECISION_SCHEMA, Controller
from curriculum.plan import PlanEntry

Probe = tuple[int, float, int]  # (level, accuracy, items)


@dataclass(frozen=True)
class Search:
    """The search state of one skill. `lo`: highest level passed (0: none); `hi`: lowest failed."""

    level: int  # the level being probed next
    lo: int = 0
    hi: int | None = None
    correct: int = 0  # at `level`, so far
    n: int = 0
    items: int = 0  # items used by the whole search
    probes: tuple[Probe, ...] = ()  # finished probes, in order

    def done(self, max_level: int) -> bool:
        return (self.hi is not None and self.hi - self.lo <= 1) or (self.hi is None and self.lo >= max_level)

    @property
    def frontier(self) -> int:
        return self.lo

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Search:
        raw = json.loads(text)
        return cls(**{**raw, "probes": tuple(tuple(p) for p in raw["probes"])})


def verdict(correct: int, n: int, threshold: float, cap: int) -> bool | None:
    """True (pass), False (fail) or None (probe more): decided once the accuracy is one standard error
    from the threshold, or at the cap."""
    if n == 0:
        return None
    accuracy = correct / n
    if n >= cap:
        return accuracy >= threshold
    se = math.sqrt(threshold * (1 - threshold) / n)
    if accuracy - threshold > se:
        return True
    if threshold - accuracy > se:
        return False
    return None


def next_level(lo: int, hi: int | None, max_level: int) -> int:
    """Gallop (double) while nothing has failed; then the middle of (lo, hi)."""
    if hi is None:
        return min(max(2 * lo, lo + 1), max_level)
    return (lo + hi) // 2


def update(search: Search, correct: int, n: int, cfg: Any) -> tuple[Search, str]:
    """The state after `correct` of `n` fresh items at `search.level`, and what happened: pass, fail, more."""
    c, m = search.correct + correct, search.n + n
    items = search.items + n
    outcome = verdict(c, m, cfg.threshold, cfg.max_items_per_level)
    if outcome is None:
        return replace(search, correct=c, n=m, items=items), "more"
    return _settle(search, c, m, items, outcome, cfg)


def conclude(search: Search, cfg: Any) -> tuple[Search, str]:
    """Decide the current level on what it has (a level with no fresh items left); nothing at all is a fail."""
    outcome = search.n > 0 and search.correct / search.n >= cfg.threshold
    return _settle(search, search.correct, search.n, search.items, outcome, cfg)


def _settle(search: Search, c: int, m: int, items: int, outcome: bool, cfg: Any) -> tuple[Search, str]:
    probes = (*search.probes, (search.level, round(c / m, 4) if m else 0.0, m))
    lo, hi = (search.level, search.hi) if outcome else (search.lo, search.level)
    if hi is not None and hi <= lo:  # a level above a failed one passed: accuracy is not monotone here
        hi = None if outcome else hi
        lo = lo if outcome else min(lo, hi - 1)
    state = Search(next_level(lo, hi, cfg.max_level), lo, hi, 0, 0, items, probes)
    return state, "pass" if outcome else "fail"


def start(level: int = 1) -> Search:
    return Search(level=max(1, level))


def describe(skill: str, search: Search, action: str, max_level: int) -> str:
    """One sentence for the log and the decisions table."""
    level, acc, n = search.probes[-1] if search.probes and action != "more" else (search.level, None, search.n)
    if search.done(max_level):
        top = f">= {search.frontier} (the search cap)" if search.hi is None else str(search.frontier)
        return f"{skill}: frontier {top} after {search.items} items ({len(search.probes)} probes)."
    if action == "more":
        return f"{skill}: level {level} undecided after {n} items; probing it again."
    return f"{skill}: level {level} {'passed' if action == 'pass' else 'failed'} ({acc:.2f}, n={n}); next level {search.level}."


class FrontierSearch(Controller):
    """One search per skill; each round probes `frontier.batch` fresh held-out items at the level each
    unfinished search asks for. The search state is stored in each decision's evidence (rule frontier-search)."""

    name = "frontier-search"
    description = "evaluate only: gallop then bisect to each skill's frontier in few items"
    trains = False

    def max_tiers(self, config: Any) -> int:
        return config.frontier.max_rounds

    def state(self, config: Any, latest: pl.DataFrame) -> dict[str, Search]:
        states = {s.name: start(s.start_level) for s in config.skills}
        for row in latest.iter_rows(named=True):
            if row["skill"] in states and row["rule"] == "frontier-search":
                states[row["skill"]] = Search.from_json(json.loads(row["evidence"])["search"])
        return states

    def plan(self, config: Any, state: Any, tier: int) -> tuple[PlanEntry, ...]:
        cfg = config.frontier
        return tuple(
            PlanEntry(skill, search.level, "eval", cfg.batch, "probe")
            for skill, search in state.items()
            if not search.done(cfg.max_level)
        )

    def finished(self, config: Any, state: Any) -> bool:
        return all(s.done(config.frontier.max_level) for s in state.values())

    def decide(self, config: Any, state: Any, scored: pl.DataFrame, tier: int) -> tuple[dict[str, Any], pl.DataFrame]:
        cfg, rows, after_state = config.frontier, [], dict(state)
        for skill, search in state.items():
            if search.done(cfg.max_level):
                continue
            probe = scored.filter((pl.col("skill") == skill) & (pl.col("level") == search.level))
            correct, n = int(probe["correct"].sum()), probe.height
            if n == 0:  # no fresh held-out items left at this level: decide on what it has
                after, action = conclude(search, cfg)
            else:
                after, action = update(search, correct, n, cfg)
            after_state[skill] = after
            done = after.done(cfg.max_level)
            rows.append(
                {
                    "skill": skill,
                    "level_before": search.level,
                    "level_after": after.frontier if done else after.level,
                    "action": "done" if done else action,
                    "rule": "frontier-search",
                    "accuracy": None if n == 0 else correct / n,
                    "n_eval": n,
                    "evidence": json.dumps(
                        {"search": after.to_json(), "probe": {"level": search.level, "correct": correct, "n": n}}
                    ),
                    "reason": describe(skill, after, action, cfg.max_level),
                }
            )
        return after_state, pl.DataFrame(rows, schema=DECISION_SCHEMA)


register(FrontierSearch())
