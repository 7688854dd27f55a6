"""The controller: promotion and demotion with hysteresis, the tier mix, and the reasons it records."""

from __future__ import annotations

import json

import polars as pl

from curriculum.config import parse_config
from curriculum.policy import SkillState, decide, initial_state, plan_tier, state_from_decisions
from tests.conftest import tiny_config_dict


def config(tmp_path, **policy):
    raw = tiny_config_dict(tmp_path, tier={"train_items_per_skill": 100, "eval_items_per_level": 10})
    raw["policy"] = {"promote_at": 0.85, "demote_below": 0.4, "probes_to_promote": 1, "probes_to_demote": 2, **policy}
    return parse_config(raw)


def scored(skill: str, level_acc: dict[int, float], n: int = 20) -> pl.DataFrame:
    rows = []
    for level, acc in level_acc.items():
        k = round(acc * n)
        rows += [{"skill": skill, "level": level, "correct": i < k} for i in range(n)]
    return pl.DataFrame(rows)


def test_plan_mixes_frontier_stretch_replay_uniform(tmp_path):
    cfg = config(tmp_path)
    plan = plan_tier(cfg, {"addition": SkillState(4), "boolean_eval": SkillState(1)}, tier=3)
    add = [e for e in plan.entries if e.skill == "addition"]
    train = {(e.role, e.level): e.count for e in add if e.split == "train"}
    assert sum(train.values()) == 100
    assert train[("frontier", 4)] == 50 and train[("stretch", 5)] == 10
    assert sum(c for (role, _), c in train.items() if role == "replay") == 25
    assert {lv for (role, lv) in train if role == "uniform"} == {1, 2, 3, 4, 5}
    probes = sorted(e.level for e in add if e.split == "eval")
    assert probes == [3, 4, 5]
    # at level 1 there is nothing to replay: the frontier gets those items, and no L-1 probe exists
    bool_train = {(e.role, e.level): e.count for e in plan.entries if e.skill == "boolean_eval" and e.split == "train"}
    assert sum(bool_train.values()) == 100 and not any(r == "replay" for r, _ in bool_train)
    assert sorted(e.level for e in plan.entries if e.skill == "boolean_eval" and e.split == "eval") == [1, 2]


def test_promotes_at_threshold_and_skips_when_stretch_passes_too(tmp_path):
    cfg = config(tmp_path)
    state = {"addition": SkillState(2), "boolean_eval": SkillState(1)}
    frame = pl.concat([scored("addition", {1: 1.0, 2: 0.9, 3: 0.5}), scored("boolean_eval", {1: 0.9, 2: 0.9})])
    new, rows = decide(cfg, state, frame)
    assert new["addition"].level == 3 and new["boolean_eval"].level == 3
    by_skill = {r["skill"]: r for r in rows.iter_rows(named=True)}
    assert by_skill["addition"]["action"] == "promote"
    assert json.loads(by_skill["addition"]["evidence"])["accuracy_by_level"] == {"1": 1.0, "2": 0.9, "3": 0.5}
    assert "moves up to level 3" in by_skill["addition"]["reason"]


def test_holds_in_band_and_demotes_only_after_two_low_probes(tmp_path):
    cfg = config(tmp_path)
    state = {"addition": SkillState(3), "boolean_eval": SkillState(1)}
    low = pl.concat([scored("addition", {2: 0.5, 3: 0.2, 4: 0.0}), scored("boolean_eval", {1: 0.6, 2: 0.5})])
    state, rows = decide(cfg, state, low)
    assert state["addition"] == SkillState(3, above=0, below=1)
    assert state["boolean_eval"].level == 1
    assert set(rows["action"]) == {"hold"}
    state, rows = decide(cfg, state, low)
    assert state["addition"].level == 2
    assert rows.filter(pl.col("skill") == "addition")["action"].item() == "demote"


def test_never_demotes_below_level_one(tmp_path):
    cfg = config(tmp_path, probes_to_demote=1)
    state, _ = decide(cfg, {"addition": SkillState(1), "boolean_eval": SkillState(1)},
                      pl.concat([scored("addition", {1: 0.0}), scored("boolean_eval", {1: 0.0})]))
    assert state["addition"].level == 1


def test_hysteresis_needs_consecutive_probes(tmp_path):
    cfg = config(tmp_path, probes_to_promote=2)
    state = {"addition": SkillState(2), "boolean_eval": SkillState(1)}
    hi = pl.concat([scored("addition", {2: 0.9}), scored("boolean_eval", {1: 0.5})])
    mid = pl.concat([scored("addition", {2: 0.6}), scored("boolean_eval", {1: 0.5})])
    state, _ = decide(cfg, state, hi)
    assert state["addition"] == SkillState(2, above=1)
    state, _ = decide(cfg, state, mid)
    assert state["addition"] == SkillState(2)
    state, _ = decide(cfg, state, hi)
    state, _ = decide(cfg, state, hi)
    assert state["addition"].level == 3


def test_state_round_trips_through_decision_rows(tmp_path):
    cfg = config(tmp_path, probes_to_promote=2)
    state = initial_state(cfg)
    frame = pl.concat([scored("addition", {1: 0.95, 2: 0.2}), scored("boolean_eval", {1: 0.1, 2: 0.0})])
    new, rows = decide(cfg, state, frame)
    rebuilt = state_from_decisions(cfg, rows.with_columns(pl.lit(1).alias("tier")))
    assert rebuilt == new
