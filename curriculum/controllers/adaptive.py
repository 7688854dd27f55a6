"""adaptive (the default): held-out accuracy per skill and level -> each skill's next level and the next tier's plan.

Per skill it keeps a level L (open-ended). Each tier probes fresh held-out items at L-1, L and
L+1, and moves L with hysteresis: promote after `probes_to_promote` probes in a row at >= promote_at
at L or at the harder L+1 (two levels when both pass), demote after `probes_to_demote` in a row below demote_below, then
hold for `cooldown` tiers. Training items are shared across skills by absolute learning progress
(TSCL: the smoothed size of the latest change in a skill's score, less what probe noise explains),
each skill keeping a floor; within a
skill they follow the mix "current level L, stretch L+1, replay of lower levels, uniform over 1..L+lookahead"
(mix, don't ladder), with replay leaning towards levels whose last probe failed. A skill with a `target_level`
never trains, probes or climbs above it (what would lie above is not what the run is for). Every decision keeps
its evidence and a one-sentence reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from curriculum.controllers import register
from curriculum.controllers.base import DECISION_SCHEMA, Controller, apportion, probe_entries, probes_by_skill
from curriculum.plan import PlanEntry, TierPlan
from curriculum.skills import REGISTRY

MIN_REPLAY_WEIGHT = 0.05  # a mastered level still gets some replay when replay is targeted


@dataclass(frozen=True)
class SkillState:
    level: int
    above: int = 0  # probes in a row at or above promote_at
    below: int = 0  # probes in a row below demote_below
    wait: int = 0  # tiers left during which the level may not move (cooldown after a change)
    score: float | None = None  # (L-2) + acc(L-1) + acc(L) + acc(L+1): levels mastered, on a continuous scale
    progress: float | None = None  # smoothed |change of score| per tier: absolute learning progress
    seen: tuple[tuple[int, float], ...] = ()  # latest probe accuracy per level, by level


def initial_state(config: Any) -> dict[str, SkillState]:
    return {s.name: SkillState(level=s.start_level) for s in config.skills}


def state_from_decisions(config: Any, latest: pl.DataFrame) -> dict[str, SkillState]:
    """Rebuild the controller state from each skill's latest decision (for resume and inspection)."""
    state = initial_state(config)
    for row in latest.iter_rows(named=True):
        if row["skill"] in state:
            ev = json.loads(row["evidence"])
            state[row["skill"]] = SkillState(
                level=row["level_after"],
                above=ev.get("above", 0),
                below=ev.get("below", 0),
                wait=ev.get("wait", 0),
                score=ev.get("score"),
                progress=ev.get("progress"),
                seen=tuple(sorted((int(lv), float(a)) for lv, a in ev.get("seen", {}).items())),
            )
    return state


def target_level(config: Any, skill: str) -> int | None:
    """The skill's `target_level` in the run config (None: not given)."""
    return next((s.target_level for s in config.skills if s.name == skill), None)


def top_level(config: Any, skill: str) -> int | None:
    """The highest level a skill may reach: its target level, or the highest it serves (None: no top)."""
    target = target_level(config, skill)
    served = REGISTRY[skill].max_level if skill in REGISTRY else None
    tops = [t for t in (target, served) if t is not None]
    return min(tops) if tops else None


def _spread(total: int, levels: list[int]) -> dict[int, int]:
    """Split `total` items over `levels` as evenly as possible (lower levels get the remainder first)."""
    return apportion(total, {lv: 1.0 for lv in levels})


def allocation(config: Any, state: dict[str, SkillState]) -> dict[str, float]:
    """Each skill's share of the tier's training items: a floor, plus the rest by learning progress.

    A skill without a measured progress yet counts as the fastest one (optimism: try it before judging). The floor
    is split equally even where targets are known (split by level count, the benchmark's mean accuracy was 0.638
    against 0.650).
    """
    if not state:
        return {}
    pol, k = config.policy, len(state)
    prior = max((s.progress for s in state.values() if s.progress is not None), default=1.0)
    lp = {name: (s.progress if s.progress is not None else prior) for name, s in state.items()}
    mass = sum(lp.values())
    free = 1.0 - pol.allocation_floor
    return {name: pol.allocation_floor / k + (free * v / mass if mass > 0 else free / k) for name, v in lp.items()}


def replay_weights(config: Any, st: SkillState) -> dict[int, float]:
    """Weights over levels 1..L-1 for replay: the error of each level's latest probe when targeted, else even."""
    levels = list(range(1, st.level))
    if not config.policy.targeted:
        return {lv: 1.0 for lv in levels}
    seen = dict(st.seen)
    just_mastered = config.policy.promote_at  # the accuracy assumed for a level never probed
    return {lv: max(MIN_REPLAY_WEIGHT, 1.0 - seen.get(lv, just_mastered)) for lv in levels}


def skill_mix(config: Any, st: SkillState, n: int, top: int | None = None) -> dict[str, dict[int, int]]:
    """n training items of one skill by role and level, none above `top`; what replay cannot use (L = 1) and
    stretch cannot use (L = top) goes to the current level."""
    mix, L = config.tier.mix, st.level
    window = L + config.policy.lookahead if top is None else min(top, L + config.policy.lookahead)
    counts = {
        "stretch": {L + 1: round(n * mix.stretch)} if top is None or L < top else {},
        "replay": apportion(round(n * mix.replay), replay_weights(config, st)),
        "uniform": _spread(round(n * mix.uniform), list(range(1, window + 1))),
    }
    used = sum(sum(c.values()) for c in counts.values())
    counts["current"] = {L: max(0, n - used)}
    return counts


def plan_tier(config: Any, state: dict[str, SkillState], tier: int) -> TierPlan:
    """The next tier: training items shared across skills by learning progress, each skill's mix around its
    level, plus held-out probes at L-1..L+1."""
    shares = allocation(config, state)
    per_skill = apportion(config.tier.train_items_per_skill * len(state), shares)
    entries: list[PlanEntry] = []
    for skill, st in state.items():
        top = top_level(config, skill)
        counts = skill_mix(config, st, per_skill.get(skill, 0), top)
        for role in ("current", "stretch", "replay", "uniform"):
            for level, count in sorted(counts[role].items()):
                if count > 0:
                    entries.append(PlanEntry(skill, level, "train", count, role))  # type: ignore[arg-type]
        probes = probe_entries(skill, st.level, config.tier.eval_items_per_level)
        entries += [e for e in probes if top is None or e.level <= top]
    return TierPlan(tier=tier, seed=config.seed, entries=tuple(entries))


def skill_score(level: int, accuracy: dict[int, float]) -> float:
    """(L-2) + acc(L-1) + acc(L) + acc(L+1): comparable across level changes (level 0 counts as mastered)."""
    get = lambda lv: 1.0 if lv < 1 else accuracy.get(lv, 0.0)  # noqa: E731
    return (level - 2) + get(level - 1) + get(level) + get(level + 1)


def score_noise(probes: dict[int, tuple[float, int]], level: int) -> float:
    """Standard error of the change of a skill's score between two tiers with probes like these:
    sqrt(2) x the score's own standard error, from the binomial variance of each probed level."""
    var = sum(a * (1 - a) / n for lv, (a, n) in probes.items() if lv in (level - 1, level, level + 1) and n > 0)
    return (2 * var) ** 0.5


def _step(pol: Any, st: SkillState, probes: dict[int, tuple[float, int]]) -> tuple[SkillState, str, str]:
    """The hysteresis rules for one skill: (next state without progress fields, action, rule fired)."""
    L = st.level
    if L not in probes:
        return replace(st, wait=max(0, st.wait - 1)), "hold", "no-probe"
    a, harder = probes[L][0], probes.get(L + 1, (0.0, 0))[0]
    # levels are ordered: L+1 passing says L is passed too, even where L's own probe fell just short
    passed = a >= pol.promote_at or harder >= pol.promote_at
    above = st.above + 1 if passed else 0
    below = st.below + 1 if a < pol.demote_below else 0
    held = replace(st, above=above, below=below, wait=max(0, st.wait - 1))
    if st.wait > 0 and (above >= pol.probes_to_promote or (below >= pol.probes_to_demote and L > 1)):
        return held, "hold", f"cooldown ({st.wait} tier(s) left after the last change)"
    if above >= pol.probes_to_promote:
        both = a >= pol.promote_at and harder >= pol.promote_at
        if a >= pol.promote_at:
            rule = f"accuracy >= {pol.promote_at:g} for {above} probe(s)" + (" and at L+1" if both else "")
        else:
            rule = f"accuracy >= {pol.promote_at:g} at L+1 for {above} probe(s), the harder level"
        return SkillState(L + (2 if both else 1), wait=pol.cooldown), "promote", rule
    if below >= pol.probes_to_demote and L > 1:
        return SkillState(L - 1, wait=pol.cooldown), "demote", f"accuracy < {pol.demote_below:g} for {below} probe(s)"
    return held, "hold", "streak-building" if above or below else "within-band"


def decide(
    config: Any, state: dict[str, SkillState], scored: pl.DataFrame
) -> tuple[dict[str, SkillState], pl.DataFrame]:
    """Apply the promotion/demotion rules to this tier's probes, update learning progress and the next
    tier's allocation; returns the new state and one decision row per skill."""
    pol = config.policy
    if "source" in scored.columns:  # real (anchor) items are reported, never used to move a level
        scored = scored.filter(pl.col("source") != "real")
    seen_now = probes_by_skill(scored)
    new_state, fired = dict(state), {}
    for skill, st in state.items():
        L = st.level
        probes = {lv: p for lv, p in seen_now.get(skill, {}).items() if lv in (L - 1, L, L + 1)}
        nxt, action, rule = _step(pol, st, probes)
        top = top_level(config, skill)
        if top is not None and nxt.level > top:  # no promotion past the target or the highest level served
            nxt = replace(nxt, level=top)
            if st.level >= top:
                what = "its target level" if target_level(config, skill) == top else f"the highest {skill} serves"
                action, rule = "hold", f"level {top} is {what}"
        seen = dict(st.seen) | {lv: p[0] for lv, p in probes.items()}
        score, progress = st.score, st.progress
        if L in probes:
            score = skill_score(L, {lv: p[0] for lv, p in probes.items()})
            if st.score is not None:  # a change within the probes' sampling noise is not progress
                change = max(0.0, abs(score - st.score) - score_noise(probes, L))
                prev = change if st.progress is None else st.progress
                progress = pol.progress_smoothing * change + (1 - pol.progress_smoothing) * prev
        new_state[skill] = replace(nxt, score=score, progress=progress, seen=tuple(sorted(seen.items())))
        fired[skill] = (probes, action, rule)
    shares = allocation(config, new_state)
    rows = []
    for skill, st in state.items():
        probes, action, rule = fired[skill]
        nxt = new_state[skill]
        a, n = probes.get(st.level, (None, 0))
        shown = ", ".join(f"L{lv} {p[0]:.2f} (n={p[1]})" for lv, p in sorted(probes.items()))
        verb = {"promote": "moves up to", "demote": "moves down to", "hold": "stays at"}[action]
        lp = "not measured yet" if nxt.progress is None else f"{nxt.progress:.2f}"
        reason = (
            f"{skill} {verb} level {nxt.level}: held-out accuracy {shown or 'none'}; {rule}; "
            f"it gets {shares[skill]:.0%} of the next tier's training items (learning progress {lp})."
        )
        evidence = {
            "accuracy_by_level": {str(lv): p[0] for lv, p in probes.items()},
            "n_by_level": {str(lv): p[1] for lv, p in probes.items()},
            "above": nxt.above,
            "below": nxt.below,
            "wait": nxt.wait,
            "score": nxt.score,
            "progress": nxt.progress,
            "share": shares[skill],
            "seen": {str(lv): v for lv, v in nxt.seen},
            "promote_at": pol.promote_at,
            "demote_below": pol.demote_below,
        }
        rows.append(
            {
                "skill": skill,
                "level_before": st.level,
                "level_after": nxt.level,
                "action": action,
                "rule": rule,
                "accuracy": a,
                "n_eval": n,
                "evidence": json.dumps(evidence),
                "reason": reason,
            }
        )
    return new_state, pl.DataFrame(rows, schema=DECISION_SCHEMA)


class Adaptive(Controller):
    name = "adaptive"
    description = "per-skill level with hysteresis; items shared by learning progress; mix around the level"

    def state(self, config: Any, latest: pl.DataFrame) -> dict[str, SkillState]:
        return state_from_decisions(config, latest)

    def plan(self, config: Any, state: Any, tier: int) -> tuple[PlanEntry, ...]:
        return plan_tier(config, state, tier).entries

    def decide(self, config: Any, state: Any, scored: pl.DataFrame, tier: int) -> tuple[dict[str, Any], pl.DataFrame]:
        return decide(config, state, scored)


register(Adaptive())
