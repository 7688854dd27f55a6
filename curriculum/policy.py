"""The controller: held-out accuracy per skill and level -> next frontier levels and the next tier's plan.

Per skill it keeps a frontier level L. Each tier probes fresh held-out items at L-1, L and L+1, trains
on a mix (frontier, stretch L+1, replay of lower levels, uniform over 1..L+1: "mix, don't ladder"),
and moves L with hysteresis: promote after `probes_to_promote` probes at >= promote_at in a row,
demote after `probes_to_demote` below demote_below. Levels are open-ended. Every decision keeps its
evidence and a one-sentence reason.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

import polars as pl

from curriculum.plan import PlanEntry, TierPlan


@dataclass(frozen=True)
class SkillState:
    level: int
    above: int = 0  # probes in a row at or above promote_at
    below: int = 0  # probes in a row below demote_below


def initial_state(config: Any) -> dict[str, SkillState]:
    return {s.name: SkillState(level=s.start_level) for s in config.skills}


def state_from_decisions(config: Any, latest: pl.DataFrame) -> dict[str, SkillState]:
    """Rebuild the controller state from each skill's latest decision (for resume and inspection)."""
    state = initial_state(config)
    for row in latest.iter_rows(named=True):
        if row["skill"] in state:
            ev = json.loads(row["evidence"])
            state[row["skill"]] = SkillState(row["level_after"], ev.get("above", 0), ev.get("below", 0))
    return state


def _spread(total: int, levels: list[int]) -> dict[int, int]:
    """Split `total` items over `levels` as evenly as possible (lower levels get the remainder first)."""
    if not levels or total <= 0:
        return {}
    base, extra = divmod(total, len(levels))
    return {lv: base + (1 if i < extra else 0) for i, lv in enumerate(levels)}


def plan_tier(config: Any, state: dict[str, SkillState], tier: int) -> TierPlan:
    """The next tier: each skill's training mix around its frontier, plus held-out probes at L-1..L+1."""
    mix, n = config.tier.mix, config.tier.train_items_per_skill
    entries: list[PlanEntry] = []
    for skill, st in state.items():
        L = st.level
        counts = {
            "stretch": {L + 1: round(n * mix.stretch)},
            "replay": _spread(round(n * mix.replay), list(range(1, L))),
            "uniform": _spread(round(n * mix.uniform), list(range(1, L + 2))),
        }
        used = sum(sum(c.values()) for c in counts.values())
        counts["frontier"] = {L: n - used}  # whatever replay could not use (L = 1) goes to the frontier
        for role in ("frontier", "stretch", "replay", "uniform"):
            for level, count in counts[role].items():
                if count > 0:
                    entries.append(PlanEntry(skill, level, "train", count, role))  # type: ignore[arg-type]
        for level in (L - 1, L, L + 1):
            if level >= 1:
                entries.append(PlanEntry(skill, level, "eval", config.tier.eval_items_per_level, "probe"))
    return TierPlan(tier=tier, seed=config.seed, entries=tuple(entries))


def accuracy_table(scored: pl.DataFrame) -> pl.DataFrame:
    """Per (skill, level): n and accuracy of scored evaluations."""
    return (
        scored.group_by("skill", "level")
        .agg(pl.len().alias("n"), pl.col("correct").cast(pl.Float64).mean().alias("accuracy"))
        .sort("skill", "level")
    )


def decide(config: Any, state: dict[str, SkillState], scored: pl.DataFrame) -> tuple[dict[str, SkillState], pl.DataFrame]:
    """Apply the promotion/demotion rules to this tier's probes; returns the new state and decision rows."""
    pol = config.policy
    acc = {(r["skill"], r["level"]): (r["accuracy"], r["n"]) for r in accuracy_table(scored).iter_rows(named=True)}
    new_state, rows = dict(state), []
    for skill, st in state.items():
        L = st.level
        probes = {lv: acc[(skill, lv)] for lv in (L - 1, L, L + 1) if (skill, lv) in acc}
        if L not in probes:
            a, n = None, 0
            nxt, action, rule = st, "hold", "no-probe"
        else:
            a, n = probes[L]
            above = st.above + 1 if a >= pol.promote_at else 0
            below = st.below + 1 if a < pol.demote_below else 0
            nxt, action, rule = replace(st, above=above, below=below), "hold", "within-band"
            if above >= pol.probes_to_promote:
                step = 2 if probes.get(L + 1, (0.0, 0))[0] >= pol.promote_at else 1
                nxt, action = SkillState(L + step), "promote"
                rule = f"accuracy >= {pol.promote_at:g} for {above} probe(s)" + (" and at L+1" if step == 2 else "")
            elif below >= pol.probes_to_demote and L > 1:
                nxt, action = SkillState(L - 1), "demote"
                rule = f"accuracy < {pol.demote_below:g} for {below} probe(s)"
            elif above or below:
                rule = "streak-building"
        new_state[skill] = nxt
        shown = ", ".join(f"L{lv} {p[0]:.2f} (n={p[1]})" for lv, p in sorted(probes.items()))
        verb = {"promote": "moves up to", "demote": "moves down to", "hold": "stays at"}[action]
        reason = f"{skill} {verb} level {nxt.level}: held-out accuracy {shown or 'none'}; {rule}."
        evidence = {
            "accuracy_by_level": {str(lv): p[0] for lv, p in probes.items()},
            "n_by_level": {str(lv): p[1] for lv, p in probes.items()},
            "above": nxt.above,
            "below": nxt.below,
            "promote_at": pol.promote_at,
            "demote_below": pol.demote_below,
        }
        rows.append(
            {
                "skill": skill, "level_before": L, "level_after": nxt.level, "action": action, "rule": rule,
                "accuracy": a, "n_eval": n, "evidence": json.dumps(evidence), "reason": reason,
            }
        )
    schema = {"skill": pl.String, "level_before": pl.Int32, "level_after": pl.Int32, "action": pl.String,
              "rule": pl.String, "accuracy": pl.Float64, "n_eval": pl.Int32, "evidence": pl.String, "reason": pl.String}
    return new_state, pl.DataFrame(rows, schema=schema)


def state_table(state: dict[str, SkillState]) -> list[dict[str, Any]]:
    return [{"skill": k, **asdict(v)} for k, v in state.items()]
