"""The controller: hysteresis and cooldown, the tier mix, allocation by learning progress, targeted replay,
and the evidence and reasons it records."""

from __future__ import annotations

import json

import polars as pl

from curriculum.config import parse_config
from curriculum.controllers.adaptive import (
    SkillState,
    allocation,
    apportion,
    decide,
    initial_state,
    plan_tier,
    skill_score,
    state_from_decisions,
)
from tests.conftest import tiny_config_dict

MIX = {"current": 0.5, "stretch": 0.1, "replay": 0.25, "uniform": 0.15}  # the counts below are worked out for it


def config(tmp_path, **policy):
    raw = tiny_config_dict(tmp_path, tier={"train_items_per_skill": 100, "eval_items_per_level": 10, "mix": MIX})
    raw["policy"] = {"promote_at": 0.85, "demote_below": 0.4, "probes_to_promote": 1, "probes_to_demote": 2, **policy}
    return parse_config(raw)


def scored(skill: str, level_acc: dict[int, float], n: int = 20) -> pl.DataFrame:
    rows = []
    for level, acc in level_acc.items():
        k = round(acc * n)
        rows += [{"skill": skill, "level": level, "correct": i < k} for i in range(n)]
    return pl.DataFrame(rows)


def both(add: dict[int, float], boolean: dict[int, float]) -> pl.DataFrame:
    return pl.concat([scored("addition", add), scored("boolean_eval", boolean)])


def train_counts(plan, skill: str) -> dict[tuple[str, int], int]:
    return {(e.role, e.level): e.count for e in plan.entries if e.skill == skill and e.split == "train"}


def test_plan_mixes_current_stretch_replay_uniform(tmp_path):
    cfg = config(tmp_path, allocation_floor=1.0, targeted=False, lookahead=1)
    plan = plan_tier(cfg, {"addition": SkillState(4), "boolean_eval": SkillState(1)}, tier=3)
    train = train_counts(plan, "addition")
    assert sum(train.values()) == 100
    assert train[("current", 4)] == 50 and train[("stretch", 5)] == 10
    assert {lv: c for (role, lv), c in train.items() if role == "replay"} == {1: 9, 2: 8, 3: 8}
    assert {lv: c for (role, lv), c in train.items() if role == "uniform"} == {1: 3, 2: 3, 3: 3, 4: 3, 5: 3}
    probes = sorted(e.level for e in plan.entries if e.skill == "addition" and e.split == "eval")
    assert probes == [3, 4, 5]
    # at level 1 there is nothing to replay: the current level gets those items, and no L-1 probe exists
    bool_train = train_counts(plan, "boolean_eval")
    assert sum(bool_train.values()) == 100 and not any(r == "replay" for r, _ in bool_train)
    assert bool_train[("current", 1)] == 75
    assert sorted(e.level for e in plan.entries if e.skill == "boolean_eval" and e.split == "eval") == [1, 2]


def test_mix_counts_follow_the_configured_shares(tmp_path):
    raw = tiny_config_dict(
        tmp_path,
        tier={
            "train_items_per_skill": 1000,
            "eval_items_per_level": 10,
            "mix": {"current": 0.3, "stretch": 0.2, "replay": 0.3, "uniform": 0.2},
        },
    )
    raw["policy"] = {"allocation_floor": 1.0}
    plan = plan_tier(parse_config(raw), {"addition": SkillState(6), "boolean_eval": SkillState(6)}, tier=1)
    by_role: dict[str, int] = {}
    for e in plan.entries:
        if e.skill == "addition" and e.split == "train":
            by_role[e.role] = by_role.get(e.role, 0) + e.count
    assert by_role == {"current": 300, "stretch": 200, "replay": 300, "uniform": 200}


def test_promotes_at_threshold_and_skips_when_stretch_passes_too(tmp_path):
    cfg = config(tmp_path)
    state = {"addition": SkillState(2), "boolean_eval": SkillState(1)}
    new, rows = decide(cfg, state, both({1: 1.0, 2: 0.9, 3: 0.5}, {1: 0.9, 2: 0.9}))
    assert new["addition"].level == 3 and new["boolean_eval"].level == 3
    by_skill = {r["skill"]: r for r in rows.iter_rows(named=True)}
    assert by_skill["addition"]["action"] == "promote"
    evidence = json.loads(by_skill["addition"]["evidence"])
    assert evidence["accuracy_by_level"] == {"1": 1.0, "2": 0.9, "3": 0.5}
    assert evidence["n_by_level"] == {"1": 20, "2": 20, "3": 20}
    assert 0 < evidence["share"] < 1 and by_skill["addition"]["rule"].startswith("accuracy >= 0.85")
    reason = by_skill["addition"]["reason"]
    assert "moves up to level 3" in reason and "of the next tier's training items" in reason
    assert reason.count(".") >= 1 and "\n" not in reason


def test_holds_in_band_and_demotes_only_after_two_low_probes(tmp_path):
    cfg = config(tmp_path)
    state = {"addition": SkillState(3), "boolean_eval": SkillState(1)}
    low = both({2: 0.5, 3: 0.2, 4: 0.0}, {1: 0.6, 2: 0.5})
    state, rows = decide(cfg, state, low)
    assert (state["addition"].level, state["addition"].above, state["addition"].below) == (3, 0, 1)
    assert state["boolean_eval"].level == 1
    assert set(rows["action"]) == {"hold"}
    state, rows = decide(cfg, state, low)
    assert state["addition"].level == 2
    assert rows.filter(pl.col("skill") == "addition")["action"].item() == "demote"


def test_never_demotes_below_level_one(tmp_path):
    cfg = config(tmp_path, probes_to_demote=1)
    state, _ = decide(cfg, {"addition": SkillState(1), "boolean_eval": SkillState(1)}, both({1: 0.0}, {1: 0.0}))
    assert state["addition"].level == 1


def test_hysteresis_needs_consecutive_probes(tmp_path):
    cfg = config(tmp_path, probes_to_promote=2)
    state = {"addition": SkillState(2), "boolean_eval": SkillState(1)}
    hi, mid = both({2: 0.9}, {1: 0.5}), both({2: 0.6}, {1: 0.5})
    state, _ = decide(cfg, state, hi)
    assert (state["addition"].level, state["addition"].above) == (2, 1)
    state, _ = decide(cfg, state, mid)
    assert (state["addition"].level, state["addition"].above) == (2, 0)
    state, _ = decide(cfg, state, hi)
    state, _ = decide(cfg, state, hi)
    assert state["addition"].level == 3


def test_cooldown_holds_the_level_after_a_change(tmp_path):
    cfg = config(tmp_path, cooldown=2)
    state = {"addition": SkillState(2), "boolean_eval": SkillState(1)}
    state, _ = decide(cfg, state, both({2: 0.9}, {1: 0.5}))
    assert state["addition"].level == 3 and state["addition"].wait == 2
    for wait_left in (1, 0):  # two passing probes at the new level: the cooldown holds it
        state, rows = decide(cfg, state, both({3: 0.95}, {1: 0.5}))
        row = rows.filter(pl.col("skill") == "addition").row(0, named=True)
        assert (state["addition"].level, state["addition"].wait) == (3, wait_left)
        assert row["action"] == "hold" and row["rule"].startswith("cooldown")
    state, rows = decide(cfg, state, both({3: 0.95}, {1: 0.5}))
    assert state["addition"].level == 4  # the streak built during the cooldown fires at once


def test_learning_progress_is_the_smoothed_change_of_score(tmp_path):
    cfg = config(tmp_path, progress_smoothing=0.5)
    state = {"addition": SkillState(2), "boolean_eval": SkillState(1)}
    # accuracies of 0 and 1 have no sampling noise, so the changes below are exact
    state, _ = decide(cfg, state, both({1: 1.0, 2: 0.0, 3: 0.0}, {1: 0.0, 2: 0.0}))
    assert state["addition"].score == skill_score(2, {1: 1.0, 2: 0.0, 3: 0.0}) == 1.0
    assert state["addition"].progress is None  # one measurement: no change yet
    state, _ = decide(cfg, state, both({1: 1.0, 2: 1.0, 3: 0.0}, {1: 0.0, 2: 0.0}))
    assert state["addition"].progress == 1.0  # first change: |2.0 - 1.0|
    state, _ = decide(cfg, state, both({1: 1.0, 2: 1.0, 3: 0.0}, {1: 0.0, 2: 0.0}))
    assert state["addition"].progress == 0.5  # no change: halved
    assert state["boolean_eval"].progress == 0.0


def test_changes_within_probe_noise_are_not_progress(tmp_path):
    cfg = config(tmp_path, progress_smoothing=1.0)
    state = {"addition": SkillState(2), "boolean_eval": SkillState(1)}
    state, _ = decide(cfg, state, both({1: 1.0, 2: 0.5, 3: 0.0}, {1: 0.5, 2: 0.5}))
    # 20 probes at 0.5 accuracy: a standard error of 0.11 per level; a 0.1 wobble is noise
    state, _ = decide(cfg, state, both({1: 1.0, 2: 0.6, 3: 0.0}, {1: 0.4, 2: 0.5}))
    assert state["addition"].progress == 0.0 and state["boolean_eval"].progress == 0.0
    state, _ = decide(cfg, state, both({1: 1.0, 2: 1.0, 3: 0.5}, {1: 0.4, 2: 0.5}))
    assert 0.5 < state["addition"].progress < 0.9  # 0.9 of real change, less the noise of the new probes


def test_score_stays_comparable_across_a_promotion():
    before = skill_score(2, {1: 1.0, 2: 0.9, 3: 0.3})  # 0 + 1 + 0.9 + 0.3
    after = skill_score(3, {2: 0.95, 3: 0.4, 4: 0.0})  # 1 + 0.95 + 0.4 + 0
    assert abs(before - 2.2) < 1e-9 and abs(after - 2.35) < 1e-9


def test_allocation_follows_learning_progress_with_a_floor(tmp_path):
    cfg = config(tmp_path, allocation_floor=0.4)
    fast, stuck = SkillState(3, progress=0.6), SkillState(5, progress=0.0)
    shares = allocation(cfg, {"addition": fast, "boolean_eval": stuck})
    assert abs(shares["boolean_eval"] - 0.2) < 1e-9  # the floor: 0.4 of an equal half
    assert abs(shares["addition"] - 0.8) < 1e-9 and abs(sum(shares.values()) - 1) < 1e-9
    plan = plan_tier(cfg, {"addition": fast, "boolean_eval": stuck}, tier=2)
    assert sum(train_counts(plan, "addition").values()) == 160
    assert sum(train_counts(plan, "boolean_eval").values()) == 40
    # a skill not measured yet counts as the fastest; with floor 1 the split is equal whatever the progress
    new = allocation(cfg, {"addition": fast, "boolean_eval": SkillState(1)})
    assert new["addition"] == new["boolean_eval"]
    assert set(
        allocation(config(tmp_path, allocation_floor=1.0), {"addition": fast, "boolean_eval": stuck}).values()
    ) == {0.5}


def test_decisions_record_the_next_allocation(tmp_path):
    cfg = config(tmp_path)
    state = {"addition": SkillState(2, score=1.0, progress=0.1), "boolean_eval": SkillState(1, score=1.5, progress=0.1)}
    state, rows = decide(cfg, state, both({1: 1.0, 2: 0.9, 3: 0.6}, {1: 0.5, 2: 0.5}))
    shares = {r["skill"]: json.loads(r["evidence"])["share"] for r in rows.iter_rows(named=True)}
    assert shares == allocation(cfg, state)
    assert shares["addition"] > shares["boolean_eval"]  # addition moved by 1.5, boolean_eval not at all


def test_targeted_replay_oversamples_levels_whose_probes_failed(tmp_path):
    cfg = config(tmp_path, allocation_floor=1.0)
    st = SkillState(5, seen=((1, 1.0), (2, 0.95), (3, 0.5), (4, 0.9)))
    replay = {
        lv: c
        for (role, lv), c in train_counts(
            plan_tier(cfg, {"addition": st, "boolean_eval": SkillState(1)}, 1), "addition"
        ).items()
        if role == "replay"
    }
    assert sum(replay.values()) == 25
    assert replay[3] == max(replay.values()) and replay[3] >= 3 * replay[2]
    even = plan_tier(
        config(tmp_path, allocation_floor=1.0, targeted=False), {"addition": st, "boolean_eval": SkillState(1)}, 1
    )
    assert {lv: c for (role, lv), c in train_counts(even, "addition").items() if role == "replay"} == {
        1: 7,
        2: 6,
        3: 6,
        4: 6,
    }


def test_failed_probe_below_the_level_gets_more_replay_next_tier(tmp_path):
    cfg = config(tmp_path, allocation_floor=1.0)
    state = {"addition": SkillState(4), "boolean_eval": SkillState(1)}
    state, _ = decide(cfg, state, both({3: 0.3, 4: 0.6, 5: 0.1}, {1: 0.5, 2: 0.5}))
    replay = {lv: c for (role, lv), c in train_counts(plan_tier(cfg, state, 2), "addition").items() if role == "replay"}
    assert replay[3] > replay[1] and replay[3] > replay[2]


def test_levels_are_open_ended(tmp_path):
    cfg = config(tmp_path, probes_to_promote=1)
    state = {"addition": SkillState(40), "boolean_eval": SkillState(1)}
    state, _ = decide(cfg, state, both({40: 1.0, 41: 1.0}, {1: 0.5}))
    assert state["addition"].level == 42
    plan = plan_tier(cfg, state, 2)
    assert max(e.level for e in plan.entries if e.skill == "addition") == 43


def test_apportion_keeps_the_total():
    assert apportion(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert sum(apportion(997, {i: i + 0.5 for i in range(7)}).values()) == 997
    assert apportion(5, {"a": 0, "b": 0}) == {"a": 3, "b": 2}
    assert apportion(0, {"a": 1}) == {}


def test_state_round_trips_through_decision_rows(tmp_path):
    cfg = config(tmp_path, probes_to_promote=2, cooldown=1)
    state = initial_state(cfg)
    frames = [
        both({1: 0.95, 2: 0.2}, {1: 0.1, 2: 0.0}),
        both({1: 0.95, 2: 0.5}, {1: 0.3, 2: 0.0}),
        both({2: 0.6, 3: 0.1}, {1: 0.2, 2: 0.1}),
    ]
    for frame in frames:
        new, rows = decide(cfg, state, frame)
        rebuilt = state_from_decisions(cfg, rows.with_columns(pl.lit(1).alias("tier")))
        assert rebuilt == new
        state = new


def test_real_anchor_items_never_move_a_level(tmp_path):
    cfg = config(tmp_path)
    state = {"addition": SkillState(1), "boolean_eval": SkillState(1)}
    probes = both({1: 0.5}, {1: 0.5}).with_columns(pl.lit("procedural").alias("source"))
    real = scored("addition", {1: 1.0}, n=200).with_columns(pl.lit("real").alias("source"))
    new, rows = decide(cfg, state, pl.concat([probes, real]))
    assert new["addition"].level == 1
    assert rows.filter(pl.col("skill") == "addition")["n_eval"].item() == 20


def test_a_target_level_caps_what_adaptive_trains_probes_and_reaches(tmp_path):
    raw = tiny_config_dict(tmp_path, tier={"train_items_per_skill": 100, "eval_items_per_level": 10, "mix": MIX})
    raw["skills"] = [{"name": "addition", "target_level": 4}, {"name": "boolean_eval"}]
    raw["policy"] = {"allocation_floor": 1.0, "lookahead": 8}
    cfg = parse_config(raw)
    plan = plan_tier(cfg, {"addition": SkillState(4), "boolean_eval": SkillState(4)}, tier=1)
    capped = [e for e in plan.entries if e.skill == "addition"]
    assert max(e.level for e in capped) == 4  # no stretch, uniform or probe above the target
    train = train_counts(plan, "addition")
    assert sum(train.values()) == 100 and not any(role == "stretch" for role, _ in train)
    assert train[("current", 4)] == 60  # the stretch share stays at the target level
    assert sorted(e.level for e in capped if e.split == "eval") == [3, 4]
    open_ended = [e.level for e in plan.entries if e.skill == "boolean_eval"]
    assert max(open_ended) == 12  # without a target: uniform over 1..L+lookahead, stretch and probe at L+1
    # promotion stops at the target, with the rule saying why
    new, rows = decide(
        cfg, {"addition": SkillState(3), "boolean_eval": SkillState(1)}, both({3: 1.0, 4: 1.0}, {1: 0.5})
    )
    assert new["addition"].level == 4
    new, rows = decide(cfg, new, both({3: 1.0, 4: 1.0}, {1: 0.5}))
    row = rows.filter(pl.col("skill") == "addition").row(0, named=True)
    assert new["addition"].level == 4 and row["action"] == "hold" and row["rule"] == "level 4 is its target level"


def test_a_passed_harder_level_promotes_a_level_just_short_of_the_bar(tmp_path):
    """Levels are ordered: L+1 at the bar says L is passed, though L's own probe fell short (one level up, not two)."""
    cfg = config(tmp_path)
    state = {"addition": SkillState(1), "boolean_eval": SkillState(1)}
    new, rows = decide(cfg, state, both({1: 0.8, 2: 0.9}, {1: 0.8, 2: 0.8}))
    assert new["addition"].level == 2 and new["boolean_eval"].level == 1
    row = rows.filter(pl.col("skill") == "addition").row(0, named=True)
    assert row["action"] == "promote" and "at L+1" in row["rule"] and "harder level" in row["rule"]
