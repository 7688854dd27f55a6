"""The controller interface: how a strategy chooses each tier and what it concludes from the tier's probes.

Every way of choosing what to train on next is one object with four duties:

    state(config, latest)               each skill's state, rebuilt from its latest decision row (evidence JSON)
    plan(config, state, tier)           the tier's plan entries: training items by skill, level and role, and
                                        held-out probes
    decide(config, state, scored, tier) the next state and one decision row per skill, with evidence and a reason
    finished(config, state)             whether the run may stop before `max_tiers(config)` tiers

A controller never touches the catalogue or the learner: curriculum.steps reads what it needs, hands it over
and stores what it returns, so a Prefect run, `curriculum benchmark` and a trainer adapter drive the same
objects through the same steps. `Schedule` is the shared shape of the fixed schedules (uniform, hardest,
ladder, combined): their levels depend on the tier alone. `LevelSampler` is the shape of the strategies that
weigh every level 1..target by its probes (learnability, filtering, progress).

Strategies that know each skill's target share a tier's training items across skills in proportion to their
levels (`by_levels`), unless their own rule shares them otherwise: every (skill, level) the benchmark tests
then weighs the same, so uniform samples exactly the distribution it is tested on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import polars as pl

from curriculum.plan import PlanEntry

DECISION_SCHEMA = {
    "skill": pl.String,
    "level_before": pl.Int32,
    "level_after": pl.Int32,
    "action": pl.String,
    "rule": pl.String,
    "accuracy": pl.Float64,
    "n_eval": pl.Int32,
    "evidence": pl.String,
    "reason": pl.String,
}
Probes = dict[int, tuple[float, int]]  # level -> (held-out accuracy, items)


class Controller:
    """A strategy; subclasses set `name` and `description` and implement state, plan and decide."""

    name: ClassVar[str]
    description: ClassVar[str]
    trains: ClassVar[bool] = True  # False: the run only probes (an evaluate-only search)

    def check(self, config: Any) -> None:
        """Raise ValueError (one line, naming the field) when this controller cannot serve the run config."""

    def max_tiers(self, config: Any) -> int:
        return config.tiers

    def state(self, config: Any, latest: pl.DataFrame) -> dict[str, Any]:
        raise NotImplementedError

    def plan(self, config: Any, state: Mapping[str, Any], tier: int) -> tuple[PlanEntry, ...]:
        raise NotImplementedError

    def decide(
        self, config: Any, state: Mapping[str, Any], scored: pl.DataFrame, tier: int
    ) -> tuple[dict[str, Any], pl.DataFrame]:
        raise NotImplementedError

    def finished(self, config: Any, state: Mapping[str, Any]) -> bool:
        return False


def apportion(total: int, weights: Mapping[Any, float]) -> dict[Any, int]:
    """Split `total` items in proportion to `weights` (largest remainder; ties go to the earlier key)."""
    if not weights or total <= 0:
        return {}
    mass = sum(weights.values())
    if mass <= 0:
        weights, mass = {k: 1.0 for k in weights}, float(len(weights))
    exact = {k: total * w / mass for k, w in weights.items()}
    out = {k: int(v) for k, v in exact.items()}
    order = sorted(weights, key=lambda k: -(exact[k] - out[k]))  # sort is stable: earlier keys win ties
    for k in order[: total - sum(out.values())]:
        out[k] += 1
    return out


def by_levels(config: Any, targets: Mapping[str, int]) -> dict[str, int]:
    """A tier's training items (`tier.train_items_per_skill` per skill on average) shared across skills in
    proportion to their levels 1..target: a skill with 6 levels to learn gets twice the items of one with 3."""
    return apportion(config.tier.train_items_per_skill * len(targets), dict(targets))


def probes_by_skill(scored: pl.DataFrame) -> dict[str, Probes]:
    """Per skill and level: (held-out accuracy, n) of a tier's scored probes."""
    table = (
        scored.group_by("skill", "level")
        .agg(pl.len().alias("n"), pl.col("correct").cast(pl.Float64).mean().alias("accuracy"))
        .sort("skill", "level")
    )
    out: dict[str, Probes] = {}
    for r in table.iter_rows(named=True):
        out.setdefault(r["skill"], {})[r["level"]] = (r["accuracy"], r["n"])
    return out


def shown(probes: Probes) -> str:
    """`L2 0.95 (n=60), L3 0.72 (n=60)`, or `none`."""
    return ", ".join(f"L{lv} {a:.2f} (n={n})" for lv, (a, n) in sorted(probes.items())) or "none"


def probe_entries(skill: str, level: int, count: int) -> list[PlanEntry]:
    """Held-out probes at L-1, L and L+1 (levels >= 1)."""
    return [PlanEntry(skill, lv, "eval", count, "probe") for lv in (level - 1, level, level + 1) if lv >= 1]


class Schedule(Controller):
    """A fixed schedule: which levels a tier trains on depends on the tier alone, never on the probes.

    Each skill gets its share of the tier's training items (`by_levels`) split by `mix` (role -> level ->
    weight) and probes at L-1..L+1 around `level`; the decisions record the probes and the schedule's next level.
    Every skill needs a `target_level`: the top of what the schedule covers.
    """

    def level(self, config: Any, target: int, tier: int) -> int:
        """The level the schedule stands at in `tier` (its probes centre there)."""
        raise NotImplementedError

    def mix(self, config: Any, target: int, tier: int) -> dict[str, dict[int, float]]:
        """Weights of a skill's training items: role -> level -> weight."""
        raise NotImplementedError

    def check(self, config: Any) -> None:
        missing = [i for i, s in enumerate(config.skills) if s.target_level is None]
        if missing:
            raise ValueError(
                f"strategy {self.name!r} needs a target_level for every skill (skills.{missing[0]}.target_level)"
            )

    def state(self, config: Any, latest: pl.DataFrame) -> dict[str, Any]:
        return {s.name: s.target_level for s in config.skills}

    def plan(self, config: Any, state: Mapping[str, Any], tier: int) -> tuple[PlanEntry, ...]:
        entries: list[PlanEntry] = []
        shares = by_levels(config, state)
        for skill, target in state.items():
            mix = self.mix(config, target, tier)
            per_role = apportion(shares[skill], {role: sum(w.values()) for role, w in mix.items()})
            for role, weights in mix.items():
                for level, count in sorted(apportion(per_role.get(role, 0), weights).items()):
                    if count > 0:
                        entries.append(PlanEntry(skill, level, "train", count, role))  # type: ignore[arg-type]
            entries += probe_entries(skill, self.level(config, target, tier), config.tier.eval_items_per_level)
        return tuple(entries)

    def decide(
        self, config: Any, state: Mapping[str, Any], scored: pl.DataFrame, tier: int
    ) -> tuple[dict[str, Any], pl.DataFrame]:
        probes, rows = probes_by_skill(scored), []
        for skill, target in state.items():
            seen = probes.get(skill, {})
            before, after = self.level(config, target, tier), self.level(config, target, tier + 1)
            a, n = seen.get(before, (None, 0))
            evidence = {
                "accuracy_by_level": {str(lv): p[0] for lv, p in seen.items()},
                "n_by_level": {str(lv): p[1] for lv, p in seen.items()},
                "target_level": target,
            }
            move = "moves up to" if after > before else "stays at"
            rows.append(
                {
                    "skill": skill,
                    "level_before": before,
                    "level_after": after,
                    "action": "promote" if after > before else "hold",
                    "rule": f"{self.name} schedule",
                    "accuracy": a,
                    "n_eval": n,
                    "evidence": json.dumps(evidence),
                    "reason": f"{skill} {move} level {after} on the {self.name} schedule (levels 1..{target}); "
                    f"held-out accuracy {shown(seen)}; a fixed schedule does not read its probes.",
                }
            )
        return dict(state), pl.DataFrame(rows, schema=DECISION_SCHEMA)


def spread(levels: range) -> dict[int, float]:
    """Equal weight on every level of a range."""
    return {lv: 1.0 for lv in levels}


def ladder_level(config: Any, target: int, tier: int) -> int:
    """The naive ladder's level in a tier: up one level every `schedule.ladder_every` tiers, or evenly from
    level 1 to the target over the run's tiers."""
    every = config.schedule.ladder_every
    if every is None:
        return min(target, 1 + (tier - 1) * target // config.tiers)
    return min(target, 1 + (tier - 1) // every)


class Cell(NamedTuple):
    """What a level sampler knows of one level of a skill."""

    recent: float | None = None  # held-out accuracy: an exponential average of its probes (None: never probed)
    progress: float | None = None  # learning progress: an exponential average of the size of each change of
    # `recent` (TSCL's absolute learning progress; None until it has changed once)


Cells = dict[int, Cell]  # level -> Cell


class LevelSampler(Controller):
    """A sampler over levels 1..target of each skill, reading its probes: every tier probes every level, keeps
    each level's recent held-out accuracy and learning progress (exponential averages, `SMOOTHING` on the
    latest) and shares the tier's training items over the levels by `weights`. The published baselines
    (learnability sampling, online difficulty filtering) and learning-progress sampling have this shape.
    Every skill needs a `target_level`.

    With `GLOBAL` False each skill gets its share by level count (`by_levels`), split over its levels by their
    weights; with `GLOBAL` True the weights of every level of every skill compete for the whole tier.
    """

    SMOOTHING: ClassVar[float] = 0.5
    GLOBAL: ClassVar[bool] = False

    def weights(self, cells: Cells) -> tuple[dict[int, float], str]:
        """Training weight per level of one skill from what is known of it, and a few words on why."""
        raise NotImplementedError

    check = Schedule.check

    def focus(self, cells: Cells) -> int:
        """The level with the largest training weight (the lowest of equals): the sampler's level of a skill."""
        weights, _ = self.weights(cells)
        return max(sorted(weights), key=lambda lv: weights[lv]) if weights else 1

    def allocation(self, config: Any, state: Mapping[str, Cells]) -> dict[str, dict[int, int]]:
        """Training items per skill and level for a tier."""
        weights = {skill: self.weights(cells)[0] for skill, cells in state.items()}
        if self.GLOBAL:
            total = config.tier.train_items_per_skill * len(state)
            flat = apportion(total, {(s, lv): w for s, ws in weights.items() for lv, w in ws.items()})
            return {s: {lv: flat.get((s, lv), 0) for lv in ws} for s, ws in weights.items()}
        shares = by_levels(config, {skill: len(cells) for skill, cells in state.items()})
        return {s: apportion(shares[s], ws) for s, ws in weights.items()}

    def state(self, config: Any, latest: pl.DataFrame) -> dict[str, Cells]:
        state: dict[str, Cells] = {s.name: {lv: Cell() for lv in range(1, s.target_level + 1)} for s in config.skills}
        for row in latest.iter_rows(named=True):
            if row["skill"] in state:
                evidence = json.loads(row["evidence"])
                progress = evidence.get("progress", {})
                for lv, acc in evidence.get("recent", {}).items():
                    if int(lv) in state[row["skill"]]:
                        state[row["skill"]][int(lv)] = Cell(acc, progress.get(lv))
        return state

    def plan(self, config: Any, state: Mapping[str, Any], tier: int) -> tuple[PlanEntry, ...]:
        entries: list[PlanEntry] = []
        for skill, counts in self.allocation(config, state).items():
            for level, count in sorted(counts.items()):
                if count > 0:
                    entries.append(PlanEntry(skill, level, "train", count, "uniform"))
            entries += [PlanEntry(skill, lv, "eval", config.tier.eval_items_per_level, "probe") for lv in state[skill]]
        return tuple(entries)

    def update(self, cell: Cell, accuracy: float) -> Cell:
        """A level's cell after a probe at `accuracy`."""
        if cell.recent is None:
            return Cell(accuracy, None)
        recent = self.SMOOTHING * accuracy + (1 - self.SMOOTHING) * cell.recent
        change = abs(recent - cell.recent)
        progress = change if cell.progress is None else self.SMOOTHING * change + (1 - self.SMOOTHING) * cell.progress
        return Cell(recent, progress)

    def decide(
        self, config: Any, state: Mapping[str, Any], scored: pl.DataFrame, tier: int
    ) -> tuple[dict[str, Any], pl.DataFrame]:
        probes = probes_by_skill(scored)
        after = {
            skill: {
                lv: self.update(c, probes[skill][lv][0]) if lv in probes.get(skill, {}) else c
                for lv, c in cells.items()
            }
            for skill, cells in state.items()
        }
        planned = self.allocation(config, after)
        total = sum(sum(c.values()) for c in planned.values()) or 1
        rows = []
        for skill, cells in state.items():
            seen, new = probes.get(skill, {}), after[skill]
            weights, why = self.weights(new)
            evidence = {
                "accuracy_by_level": {str(lv): p[0] for lv, p in seen.items()},
                "n_by_level": {str(lv): p[1] for lv, p in seen.items()},
                "recent": {str(lv): c.recent for lv, c in new.items()},
                "progress": {str(lv): c.progress for lv, c in new.items()},
                "weights": {str(lv): w for lv, w in weights.items()},
                "items": {str(lv): n for lv, n in planned[skill].items()},
                "target_level": len(new),
            }
            before, focus = self.focus(cells), self.focus(new)
            items = sum(planned[skill].values())
            where = ", ".join(f"L{lv} {n}" for lv, n in sorted(planned[skill].items()) if n > 0) or "nothing"
            rows.append(
                {
                    "skill": skill,
                    "level_before": before,
                    "level_after": focus,
                    "action": "promote" if focus > before else "demote" if focus < before else "hold",
                    "rule": self.name,
                    "accuracy": seen.get(before, (None, 0))[0],
                    "n_eval": seen.get(before, (None, 0))[1],
                    "evidence": json.dumps(evidence),
                    "reason": f"{skill}: held-out accuracy {shown(seen)}; {why}; the next tier trains {where} "
                    f"({items / total:.0%} of its items).",
                }
            )
        return after, pl.DataFrame(rows, schema=DECISION_SCHEMA)
