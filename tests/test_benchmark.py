"""The benchmark: metrics on hand-made curves, equal budgets per strategy, the results schema, the CLI."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curriculum import benchmark
from curriculum.benchmark import (
    METRICS,
    auc,
    bootstrap_ci,
    compare,
    forgetting,
    hardest_accuracy,
    held_out_items,
    make_spec,
    mastered_level,
    mean_accuracy,
    mean_mastered_level,
    run_benchmark,
    run_config,
    sample_efficiency,
    steps_per_tier,
    steps_to,
    steps_to_reach,
    write_report,
)
from curriculum.controllers import get_controller
from curriculum.controllers.base import ladder_level
from curriculum.errors import ConfigError
from curriculum.plan import PlanEntry, TierPlan
from curriculum.shards import generate_tier
from tests.test_cli import cli, one_line_error

TINY = {
    "skills": {"comparison": 3, "boolean_eval": 2},
    "seeds": 1,
    "tiers": 2,
    "steps": 4,
    "train_items_per_skill": 24,
    "test_items_per_level": 6,
    "probe_items_per_level": 4,
    "eval_every": 1,
    "workers": 1,
    "learner": {
        "steps_per_tier": 2,
        "batch_size": 8,
        "threads": 1,
        "device": "cpu",
        "model": {"n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 64},
    },
}


def tiny(**overrides):
    return make_spec("default", **(TINY | overrides))


# ---- metrics ----


def test_mean_accuracy_weights_every_level_equally():
    cells = {("a", 1): 1.0, ("a", 2): 0.5, ("b", 1): 0.0, ("b", 2): 0.5}
    assert mean_accuracy(cells) == 0.5


def test_mastered_level_is_the_highest_level_held_with_everything_below():
    assert mastered_level({1: 1.0, 2: 0.95, 3: 0.9, 4: 0.5, 5: 1.0}) == 3  # level 5 alone does not count
    assert mastered_level({1: 0.85, 2: 1.0}) == 0
    assert mastered_level({1: 1.0, 2: 1.0}) == 2
    assert mean_mastered_level({("a", 1): 1.0, ("a", 2): 1.0, ("b", 1): 0.2, ("b", 2): 1.0}) == 1.0


def test_hardest_accuracy_is_the_target_level_only():
    cells = {("a", 1): 1.0, ("a", 3): 0.4, ("b", 2): 0.2, ("b", 1): 1.0}
    assert hardest_accuracy(cells, {"a": 3, "b": 2}) == pytest.approx(0.3)


def test_steps_to_80_is_the_first_point_at_or_above():
    steps, curve = [100, 200, 300, 400], [0.3, 0.79, 0.8, 0.95]
    assert steps_to(steps, curve) == 300
    assert steps_to(steps, [0.1, 0.2, 0.3, 0.4]) is None


def test_auc_is_the_normalised_area_from_an_untrained_start():
    # (0,0) -> (100, 0.5) -> (200, 1.0): 25 + 75 = 100 over 200 steps
    assert auc([100, 200], [0.5, 1.0]) == pytest.approx(0.5)
    assert auc([50, 100], [1.0, 1.0]) == pytest.approx(0.75)
    assert auc([10, 20, 30], [0.0, 0.0, 0.0]) == 0.0


def test_steps_to_reach_interpolates_between_evaluations():
    steps, curve = [100, 200, 300], [0.2, 0.6, 0.6]
    assert steps_to_reach(steps, curve, 0.4) == pytest.approx(150)  # halfway from 0.2 at 100 to 0.6 at 200
    assert steps_to_reach(steps, curve, 0.1) == pytest.approx(50)  # from an untrained (0, 0)
    assert steps_to_reach(steps, curve, 0.6) == 200 and steps_to_reach(steps, curve, 0.7) is None


def test_sample_efficiency_is_the_step_ratio_to_reach_uniforms_final_accuracy():
    uniform = {"curve": {"steps": [100, 200, 300, 400], "mean_accuracy": [0.1, 0.2, 0.3, 0.4]}}
    fast = {"curve": {"steps": [100, 200, 300, 400], "mean_accuracy": [0.2, 0.4, 0.5, 0.6]}}
    never = {"curve": {"steps": [100, 200, 300, 400], "mean_accuracy": [0.1, 0.1, 0.2, 0.3]}}
    assert sample_efficiency(uniform, uniform) == 1.0
    assert sample_efficiency(fast, uniform) == pytest.approx(0.5)  # 0.4 at step 200 against uniform's 400
    assert sample_efficiency(never, uniform) == 1.0  # never there: counted at its whole budget, a lower bound


def test_paired_differences_and_bootstrap_intervals():
    lo, hi = bootstrap_ci([0.1, 0.2, 0.3, 0.4, 0.5])
    assert lo < 0.3 < hi and 0.1 <= lo and hi <= 0.5
    assert bootstrap_ci([0.2]) == (0.2, 0.2)
    strategies = {
        "uniform": {"mean_accuracy": [0.5, 0.6, 0.7, 0.4, 0.5]},
        "adaptive": {"mean_accuracy": [0.6, 0.7, 0.8, 0.5, 0.6]},  # +0.1 on every seed: a tight interval above 0
        "noisy": {"mean_accuracy": [0.9, 0.3, 0.8, 0.2, 0.6]},
    }
    out = compare(strategies)
    assert out["adaptive"]["mean_accuracy"]["diff"] == pytest.approx(0.1)
    assert out["adaptive"]["mean_accuracy"]["diff_ci"] == pytest.approx((0.1, 0.1))
    lo, hi = out["noisy"]["mean_accuracy"]["diff_ci"]
    assert lo < 0 < hi  # paired by seed, the noisy strategy's gain is not distinguishable from none
    assert "diff" not in out["uniform"]["mean_accuracy"]


def test_forgetting_is_the_largest_drop_below_the_target():
    targets = {"a": 3}
    history = [
        {("a", 1): 0.5, ("a", 2): 0.1, ("a", 3): 0.9},
        {("a", 1): 1.0, ("a", 2): 0.8, ("a", 3): 0.0},
        {("a", 1): 0.7, ("a", 2): 0.8, ("a", 3): 0.1},  # level 1 lost 0.3; the target's drop does not count
    ]
    assert forgetting(history, targets) == pytest.approx(0.3)
    assert forgetting(history[:2], targets) == 0.0


# ---- strategies and budgets ----


def train_plan(spec, strategy: str, tier: int, tmp_path) -> list[PlanEntry]:
    """The training entries the strategy's controller plans for a tier of the benchmark's run config."""
    config = run_config(spec, strategy, 0, tmp_path)
    controller = get_controller(strategy)
    state = controller.state(config, pl.DataFrame())
    return [e for e in controller.plan(config, state, tier) if e.split == "train"]


def test_every_strategy_gets_the_same_items_and_steps(tmp_path):
    spec = make_spec("default")
    for tier in (1, 4, 9):
        totals = {s: sum(e.count for e in train_plan(spec, s, tier, tmp_path)) for s in spec.strategies}
        assert set(totals.values()) == {spec.train_items_per_skill * len(spec.skills)}
    assert sum(steps_per_tier(make_spec("default", steps=1003, tiers=10))) == 1003


def test_schedules_pick_their_levels(tmp_path):
    spec = make_spec("default", skills={"comparison": 5}, ladder_every=2)
    levels = lambda s, t: sorted({e.level for e in train_plan(spec, s, t, tmp_path)})  # noqa: E731
    assert levels("uniform", 1) == [1, 2, 3, 4, 5] and levels("hardest", 1) == [5]
    assert [levels("ladder", t) for t in (1, 2, 3, 4, 9, 20)] == [[1], [1], [2], [2], [5], [5]]
    even = run_config(
        make_spec("default", skills={"comparison": 4, "boolean_eval": 2}, tiers=8, ladder_every=None),
        "ladder",
        0,
        tmp_path,
    )
    assert [ladder_level(even, 4, t) for t in range(1, 9)] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert [ladder_level(even, 2, t) for t in range(1, 9)] == [1, 1, 1, 1, 2, 2, 2, 2]
    combined = train_plan(spec, "combined", 3, tmp_path)
    assert sum(e.count for e in combined if e.role == "current" and e.level == 2) == spec.train_items_per_skill // 2


def test_a_fixed_schedule_needs_every_target_level(tmp_path):
    from curriculum.config import parse_config
    from tests.conftest import tiny_config_dict

    with pytest.raises(ConfigError, match="strategy 'uniform' needs a target_level for every skill"):
        parse_config(tiny_config_dict(tmp_path, strategy="uniform"))


def test_test_items_are_held_out_and_never_trained_on(tmp_path):
    spec = tiny()
    test = held_out_items(spec)
    assert set(test["split"]) == {"eval"}
    assert sorted(test.select("skill", "level").unique().rows()) == [
        ("boolean_eval", 1),
        ("boolean_eval", 2),
        ("comparison", 1),
        ("comparison", 2),
        ("comparison", 3),
    ]
    train = generate_tier(TierPlan(1, 5, tuple(train_plan(spec, "uniform", 1, tmp_path))))
    assert set(train["split"]) == {"train"}
    assert not set(train["item_id"]) & set(test["item_id"])


def test_tiny_levels_give_what_they_have():
    train = generate_tier(TierPlan(1, 1, (PlanEntry("comparison", 1, "train", 500, "current"),)))
    assert 0 < train.height < 100 and train["item_id"].n_unique() == train.height  # one-digit pairs: fewer than 100


# ---- the whole benchmark on a tiny spec ----


def test_tiny_benchmark_results_schema_and_report(tmp_path):
    spec = tiny(strategies=["adaptive", "uniform", "ladder"])
    results = run_benchmark(spec)
    assert list(results["strategies"]) == ["adaptive", "uniform", "ladder"]
    for metrics in results["strategies"].values():
        assert list(metrics) == list(METRICS)
        assert all(len(values) == spec.seeds for values in metrics.values())
        assert all(0 <= v <= 1 for v in metrics["mean_accuracy"] + metrics["hardest_accuracy"] + metrics["auc"])
    assert results["config"]["skills"] == TINY["skills"] and results["config"]["steps"] == 4
    adaptive = next(r for r in results["runs"] if r["strategy"] == "adaptive")
    assert adaptive["curve"]["steps"] == [2, 4] and len(adaptive["controller_levels"]) == 2
    assert len(adaptive["controller_reasons"]) == 2 * len(TINY["skills"])
    for run in results["runs"]:  # every strategy ran as a real run: its tiers through the gate, decisions stored
        assert run["validated_attempts"] >= spec.tiers and run["expectations_passed"] > 0
        assert len(run["controller_levels"]) == spec.tiers
    out = tmp_path / "reports" / "bench.json"
    json_path, png, md = write_report(results, out)
    assert json.loads(json_path.read_text())["strategies"].keys() == results["strategies"].keys()
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "| adaptive |" in md.read_text() and "## comparison" in md.read_text()


def test_cli_runs_a_benchmark_and_prints_the_table(tmp_path, monkeypatch, capsys):
    from curriculum.cli import main

    monkeypatch.setitem(benchmark.PRESETS, "default", TINY)
    out = tmp_path / "b.json"
    assert (
        main(["benchmark", "--strategies", "uniform,hardest", "--seeds", "1", "--steps", "2", "--out", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    assert "strategy" in printed and "hardest" in printed and str(out) in printed
    data = json.loads(out.read_text())
    assert list(data["strategies"]) == ["uniform", "hardest"] and data["config"]["steps"] == 2
    assert out.with_suffix(".png").is_file() and out.with_suffix(".md").is_file()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"strategies": ["nope"]}, "unknown strategy 'nope'"),
        ({"seeds": 0}, "seeds"),
        ({"steps": 0}, "steps"),
        ({"skills": {"comparison": 0}}, "target level"),
    ],
)
def test_bad_specs_are_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_spec("default", **overrides)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--strategies", "nope"], "unknown strategy 'nope'"),
        (["--seeds", "0"], "seeds"),
        (["--steps", "0"], "steps"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, message):
    line = one_line_error(cli("benchmark", *args))
    assert message in line
