"""Every strategy is a controller: the same small interface, run through the same tier loop as a real run."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curriculum import loop, runs
from curriculum.config import parse_config
from curriculum.controllers import CONTROLLERS, DECISION_SCHEMA, get_controller
from curriculum.controllers.base import Cell
from curriculum.errors import UnknownStrategy
from curriculum.store import Store
from tests.conftest import tiny_config_dict
from tests.test_cli import cli, one_line_error


def config_for(tmp_path, strategy: str, **overrides):
    raw = tiny_config_dict(tmp_path / "data", strategy=strategy, **overrides)
    raw["skills"] = [{"name": "addition", "target_level": 3}, {"name": "boolean_eval", "target_level": 2}]
    return parse_config(raw)


def fake_scores(entries, right: float) -> pl.DataFrame:
    """Scored probes: the first `right` share of each probed level answered correctly."""
    rows = []
    for e in entries:
        if e.split == "eval":
            k = round(right * e.count)
            rows += [{"skill": e.skill, "level": e.level, "correct": i < k} for i in range(e.count)]
    return pl.DataFrame(rows, schema={"skill": pl.String, "level": pl.Int32, "correct": pl.Boolean})


@pytest.mark.parametrize("name", sorted(CONTROLLERS))
def test_every_controller_plans_and_explains_each_skill(tmp_path, name):
    config = config_for(tmp_path, name)
    controller = get_controller(name)
    state = controller.state(config, pl.DataFrame(schema=DECISION_SCHEMA))
    entries = controller.plan(config, state, 1)
    skills = {s.name for s in config.skills}
    assert {e.skill for e in entries} == skills and all(e.level >= 1 and e.count > 0 for e in entries)
    assert any(e.split == "eval" for e in entries)  # every strategy probes
    train = sum(e.count for e in entries if e.split == "train")
    assert train == (config.tier.train_items_per_skill * len(skills) if controller.trains else 0)
    after, decisions = controller.decide(config, state, fake_scores(entries, 1.0), 1)
    assert decisions.schema == pl.Schema(DECISION_SCHEMA)
    assert set(decisions["skill"]) == skills and decisions["reason"].str.len_chars().min() > 20
    assert all(isinstance(json.loads(e), dict) for e in decisions["evidence"])
    # the state a controller rebuilds from its own decisions is the state it returned
    rebuilt = controller.state(config, decisions.with_columns(pl.lit(1).alias("tier")))
    assert rebuilt == after


def test_a_perfect_probe_moves_the_adaptive_level_and_the_ladder_follows_its_clock(tmp_path):
    adaptive, ladder = (config_for(tmp_path, s, tiers=4) for s in ("adaptive", "ladder"))
    for config in (adaptive, ladder):
        controller = get_controller(config.strategy)
        state = controller.state(config, pl.DataFrame(schema=DECISION_SCHEMA))
        _, decisions = controller.decide(config, state, fake_scores(controller.plan(config, state, 1), 1.0), 1)
        levels = dict(zip(decisions["skill"], decisions["level_after"]))
        if config.strategy == "adaptive":
            assert levels == {"addition": 3, "boolean_eval": 2}  # L and L+1 passed: two up, but not past target 2
        else:
            assert levels == {"addition": 1, "boolean_eval": 1}  # 4 tiers to level 3: still 1 in tier 2


def test_unknown_strategies_are_one_line_naming_the_known_ones(tmp_path):
    with pytest.raises(UnknownStrategy, match="unknown strategy 'greedy'; known: adaptive"):
        get_controller("greedy")
    line = one_line_error(cli("run", "--strategy", "greedy", "--data-dir", str(tmp_path / "d")))
    assert "unknown strategy 'greedy'" in line and "uniform" in line
    assert not (tmp_path / "d").exists()
    listed = cli("strategies")
    assert listed.returncode == 0 and all(name in listed.stdout for name in CONTROLLERS)


def test_a_fixed_schedule_runs_through_the_same_loop(tmp_path):
    config = config_for(tmp_path, "uniform", tiers=2)
    run_id = runs.start_run(config)
    loop.run_tiers(config, run_id)
    store = Store(config.data_dir)
    assert store.query("SELECT strategy FROM runs")["strategy"].item() == "uniform"
    tiers = store.query("SELECT tier, status FROM tiers ORDER BY tier")
    assert tiers["status"].to_list() == ["complete", "complete"]
    levels = store.query(
        "SELECT skill, level, count(*) AS n FROM items WHERE split = 'train' AND tier = 1 GROUP BY ALL ORDER BY ALL"
    )
    # every (skill, level) alike: the tier's 2 x 60 items over addition's 3 levels and boolean_eval's 2
    assert levels.rows() == [
        ("addition", 1, 24),
        ("addition", 2, 24),
        ("addition", 3, 24),
        ("boolean_eval", 1, 24),
        ("boolean_eval", 2, 24),
    ]
    reasons = store.query("SELECT reason FROM decisions")["reason"]
    assert reasons.str.contains("uniform schedule").all()


def probes_at(accuracy: dict[int, float], skill: str = "addition", n: int = 20) -> pl.DataFrame:
    rows = [{"skill": skill, "level": lv, "correct": i < round(a * n)} for lv, a in accuracy.items() for i in range(n)]
    return pl.DataFrame(rows, schema={"skill": pl.String, "level": pl.Int32, "correct": pl.Boolean})


def cells(recent: dict[int, float]) -> dict[int, Cell]:
    return {lv: Cell(a) for lv, a in recent.items()}


def train_levels(controller, config, state, skill: str = "addition") -> dict[int, int]:
    return {e.level: e.count for e in controller.plan(config, state, 2) if e.skill == skill and e.split == "train"}


def test_learnability_weights_levels_by_p_times_one_minus_p(tmp_path):
    config = config_for(tmp_path, "learnability")
    controller = get_controller("learnability")
    state = controller.state(config, pl.DataFrame(schema=DECISION_SCHEMA))
    assert set(train_levels(controller, config, state)) == {1, 2, 3}  # never probed: every level counts as p = 0.5
    probes = sorted(e.level for e in controller.plan(config, state, 1) if e.skill == "addition" and e.split == "eval")
    assert probes == [1, 2, 3]  # it probes every level, every tier
    state, decisions = controller.decide(config, state, probes_at({1: 1.0, 2: 0.5, 3: 0.0}), 1)
    share = config.tier.train_items_per_skill * 2 * 3 // 5  # addition holds 3 of the run's 5 levels
    assert train_levels(controller, config, state) == {2: share}  # p(1-p) = 0, .25, 0
    assert decisions.filter(pl.col("skill") == "addition")["level_after"].item() == 2
    # the recent accuracy is an exponential average: a level at 0.5 then 1.0 sits at 0.75, still worth training
    state, _ = controller.decide(config, state, probes_at({1: 1.0, 2: 1.0, 3: 0.0}), 2)
    assert state["addition"][2].recent == pytest.approx(0.75) and set(train_levels(controller, config, state)) == {2}


def test_filtering_trains_only_inside_the_band(tmp_path):
    config = config_for(tmp_path, "filtering")
    controller = get_controller("filtering")
    state = controller.state(config, pl.DataFrame(schema=DECISION_SCHEMA))
    state, _ = controller.decide(config, state, probes_at({1: 1.0, 2: 0.5, 3: 0.05}), 1)
    assert set(train_levels(controller, config, state)) == {2}
    state, _ = controller.decide(config, state, probes_at({1: 1.0, 2: 1.0, 3: 0.0}), 2)  # L2 at 0.75: still in
    assert set(train_levels(controller, config, state)) == {2}
    mastered = {"addition": cells({1: 1.0, 2: 0.95, 3: 0.0}), "boolean_eval": cells({1: 1.0, 2: 1.0})}
    assert set(train_levels(controller, config, mastered)) == {3}  # nothing in the band: what is left to learn
    assert set(train_levels(controller, config, mastered, "boolean_eval")) == {1, 2}  # all mastered: all of them


def test_progress_trains_where_accuracy_moves_across_every_skill(tmp_path):
    config = config_for(tmp_path, "progress")
    controller = get_controller("progress")
    state = controller.state(config, pl.DataFrame(schema=DECISION_SCHEMA))
    total = config.tier.train_items_per_skill * 2
    first = train_levels(controller, config, state) | {
        -lv: n for lv, n in train_levels(controller, config, state, "boolean_eval").items()
    }
    assert sorted(first.values()) == [total // 5] * 5  # nothing measured yet: every (skill, level) alike
    flat = {1: 0.0, 2: 0.0, 3: 0.0}
    state, _ = controller.decide(config, state, both(flat, {1: 0.0, 2: 0.0}), 1)
    # addition's level 1 jumps, level 2 moves a little, level 3 stays; boolean_eval does not move at all
    state, decisions = controller.decide(config, state, both({1: 0.8, 2: 0.2, 3: 0.0}, {1: 0.0, 2: 0.0}), 2)
    assert state["addition"][1].progress == pytest.approx(0.4) and state["addition"][3].progress == 0.0
    addition, boolean = train_levels(controller, config, state), train_levels(controller, config, state, "boolean_eval")
    assert addition[1] > addition[2] > addition[3] > 0  # progress first, and a share to explore even at none
    assert sum(addition.values()) > 0.9 * total and sum(boolean.values()) > 0  # a stuck skill keeps a little
    assert decisions.filter(pl.col("skill") == "addition")["level_after"].item() == 1
    evidence = json.loads(decisions.filter(pl.col("skill") == "addition")["evidence"].item())
    assert evidence["items"] == {str(lv): n for lv, n in addition.items()}
    # a learnt level (recent accuracy >= 0.9) keeps 30 % of its weight, as replay
    learnt = {
        "addition": {1: Cell(0.95, 0.2), 2: Cell(0.5, 0.2), 3: Cell(0.1, 0.2)},
        "boolean_eval": state["boolean_eval"],
    }
    counts = train_levels(controller, config, learnt)
    assert counts[1] == pytest.approx(0.3 * counts[2], abs=1) and abs(counts[2] - counts[3]) <= 1


def both(addition: dict[int, float], boolean: dict[int, float]) -> pl.DataFrame:
    return pl.concat([probes_at(addition), probes_at(boolean, "boolean_eval")])
