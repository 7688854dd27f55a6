"""The controller inside a trainer: validated items out, rewards back, decisions on a rolling window, all in
the catalogue, and a restart carries on."""

from __future__ import annotations

from collections import Counter

import pytest

from curriculum.config import parse_config
from curriculum.online import OnlineCurriculum
from curriculum.rewards import Score
from curriculum.store import Store
from tests.conftest import tiny_config_dict
from tests.test_cli import cli


def config(tmp_path, **policy):
    raw = tiny_config_dict(tmp_path / "data", tiers=4, skills=[{"name": "addition"}, {"name": "comparison"}])
    # a mix weighted to the current level and a short lookahead, so "most items at L" and "levels 1..5" hold
    mix = {"current": 0.5, "stretch": 0.1, "replay": 0.25, "uniform": 0.15}
    raw["tier"] = {"train_items_per_skill": 40, "eval_items_per_level": 6, "mix": mix}
    raw["policy"] = {"promote_at": 0.7, "demote_below": 0.1, "lookahead": 4, **policy}
    return parse_config(raw)


def answer_all(curriculum: OnlineCurriculum, records: list[dict], right: bool = True) -> None:
    """The trainer's side: each record's completion earns 1.0 (or 0.0), handed back as the reward function would."""
    curriculum.observe(
        [
            Score(
                1.0 if right else 0.0,
                "correct" if right else "wrong",
                r["skill"],
                r["level"],
                r["item_id"],
                r["answer"] if right else "nope",
            )
            for r in records
        ]
    )


def test_items_follow_the_plan_and_rewards_move_the_level(tmp_path):
    online = OnlineCurriculum(config(tmp_path), trainer="trl", window=20, decide_every=10)
    first = online.records(50)
    assert min(sum(r["skill"] == s for r in first) for s in ("addition", "comparison")) >= 10
    assert {r["level"] for r in first if r["skill"] == "addition"} <= {1, 2, 3, 4, 5}
    assert all(r["extra_info"]["split"] == "train" and r["extra_info"]["tier"] == 1 for r in first)
    assert online.level("addition") == 1
    answer_all(online, first)  # every skill has >= 10 new rewards, all right: the controller promotes
    store = Store(online.config.data_dir)
    decisions = store.query("SELECT skill, level_after, action FROM decisions ORDER BY skill")
    assert decisions["action"].to_list() == ["promote", "promote"] and online.level("addition") > 1
    later = online.records(40)
    assert all(r["extra_info"]["tier"] == 2 for r in later)
    common = lambda rs: Counter(r["level"] for r in rs if r["skill"] == "addition").most_common(1)[0][0]  # noqa: E731
    assert common(first) == 1 and common(later) == online.level("addition") > 1  # the items follow the new level
    runs = store.query("SELECT learner, strategy, status FROM runs").row(0, named=True)
    assert runs == {"learner": "trl", "strategy": "adaptive", "status": "running"}
    rewards = store.query("SELECT skill, sum(n) AS n FROM skill_rewards GROUP BY skill ORDER BY skill")
    assert rewards["n"].sum() == len(first)
    tiers = store.query("SELECT tier, status FROM tiers ORDER BY tier").rows()
    assert tiers == [(1, "complete"), (2, "validated")]
    assert store.query("SELECT count(*) AS n FROM validations WHERE NOT success")["n"].item() == 0
    shown = cli("inspect", "--data-dir", str(online.config.data_dir))
    assert shown.returncode == 0 and "trl" in shown.stdout and "addition" in shown.stdout


def test_held_out_items_never_go_to_the_trainer(tmp_path):
    online = OnlineCurriculum(config(tmp_path), decide_every=1000)
    records = online.records(200)  # more than one tier's worth: the first tier runs out and is decided
    store = Store(online.config.data_dir)
    held = set(store.query("SELECT item_id FROM items WHERE split = 'eval'")["item_id"])
    assert held and not held & {r["item_id"] for r in records}
    assert store.query("SELECT count(*) AS n FROM decisions")["n"].item() >= 2


def test_probes_decide_when_the_adapter_can_generate(tmp_path):
    online = OnlineCurriculum(config(tmp_path), decide_every=1000)
    online.records(5)
    probed = online.probe(lambda questions: ["Answer: 0" for _ in questions])  # a model that knows nothing
    assert probed.height > 0 and not probed["correct"].any()
    decisions = online.decide()
    assert decisions["accuracy"].max() == 0.0
    store = Store(online.config.data_dir)
    assert store.query("SELECT count(*) AS n FROM skill_accuracy")["n"].item() > 0  # probes, apart from rewards


def test_a_restart_carries_on_where_the_trainer_stopped(tmp_path):
    cfg = config(tmp_path)
    online = OnlineCurriculum(cfg, decide_every=10)
    batch = online.records(50)
    answer_all(online, batch[:12], right=False)  # some rewards of tier 1, not yet enough for a decision
    again = OnlineCurriculum(cfg, online.run_id, decide_every=10)
    assert again.tier == 1 and again.run_id == online.run_id
    assert sum(len(w) for w in again._rewards.values()) == 12  # the window came back from the catalogue
    answer_all(again, batch[12:])
    store = Store(cfg.data_dir)
    assert store.query("SELECT count(*) AS n FROM runs")["n"].item() == 1
    assert store.query("SELECT count(*) AS n FROM decisions WHERE tier = 1")["n"].item() == 2


@pytest.mark.parametrize(
    "raw, line",
    [
        ({"skills": [{"name": "additon"}]}, "did you mean addition"),
        (
            {"skills": [{"name": "addition"}], "policy": {"promote_at": 0.3, "demote_below": 0.5}},
            "demote_below must be below",
        ),
    ],
)
def test_a_config_the_controller_cannot_serve_is_one_line_and_exit_2(tmp_path, raw, line, capsys):
    path = tmp_path / "run.yaml"
    import yaml

    path.write_text(yaml.safe_dump(raw | {"data_dir": str(tmp_path / "data")}))
    with pytest.raises(SystemExit) as exit_:
        OnlineCurriculum.open(path)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1 and line in err[0]
    assert not (tmp_path / "data").exists()


def test_the_verl_sampler_follows_the_controller_over_a_fixed_pool(tmp_path):
    """verl's curriculum contract: Sampler(data_source, data_config), __iter__/__len__, update(batch) per step."""
    from types import SimpleNamespace

    import numpy as np
    import polars as pl
    import torch
    import yaml

    from curriculum.export import trainer_records
    from curriculum.generate import generate_items
    from curriculum.verl_sampler import CurriculumSampler

    pool = trainer_records(
        pl.concat(
            [
                generate_items(s, lv, 30, seed=lv, split="train")
                for s in ("addition", "comparison")
                for lv in range(1, 9)
            ]
        ),
        trl=False,
    )
    cfg = config(tmp_path)
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    sampler = CurriculumSampler(pool, {"curriculum": {"config": str(path), "decide_every": 10}})
    assert len(sampler) == len(pool)
    level_of = lambda i: pool[i]["extra_info"]["level"]  # noqa: E731
    first = [next(iter(sampler)) for _ in range(60)]
    assert Counter(level_of(i) for i in first).most_common(1)[0][0] == 1  # the plan is around level 1
    infos = np.array([pool[i]["extra_info"] for i in first], dtype=object)
    batch = SimpleNamespace(
        non_tensor_batch={"extra_info": infos, "data_source": [pool[i]["data_source"] for i in first]},
        batch={"token_level_scores": torch.ones(len(first), 4) / 4},
    )  # every sample earned 1.0
    sampler.update(batch)
    level = sampler.curriculum.level("addition")
    assert level > 1
    later = [i for i in (next(iter(sampler)) for _ in range(200)) if pool[i]["extra_info"]["skill"] == "addition"]
    assert Counter(level_of(i) for i in later).most_common(1)[0][0] == level
    rewards = Store(cfg.data_dir).query("SELECT count(*) AS n FROM evaluations WHERE kind = 'reward'")
    assert rewards["n"].item() == len(first)  # every sample's reward, pool rows included
