"""Walks every registered skill: the contract every skill keeps, whatever its family."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curriculum.errors import UnknownSkill
from curriculum.generate import generate_items
from curriculum.skills import REGISTRY, get_skill

SKILLS = sorted(REGISTRY)


def test_registry_has_both_domains():
    domains = {s.domain for s in REGISTRY.values()}
    assert domains == {"maths", "logic"}
    assert sum(s.domain == "maths" for s in REGISTRY.values()) >= 2
    assert sum(s.domain == "logic" for s in REGISTRY.values()) >= 2


@pytest.mark.parametrize("name", SKILLS)
def test_same_seed_same_items_other_seed_other_items(name):
    a = generate_items(name, 3, 40, seed=11)
    b = generate_items(name, 3, 40, seed=11)
    c = generate_items(name, 3, 40, seed=12)
    assert a.equals(b)
    assert set(a["item_id"]) != set(c["item_id"])


@pytest.mark.parametrize("name", SKILLS)
def test_gold_verifies_and_perturbed_does_not(name):
    skill = get_skill(name)
    items = generate_items(name, 2, 30, seed=5)
    for row in items.iter_rows(named=True):
        assert skill.verify(row, row["answer"]), row
        assert not skill.verify(row, row["answer"] + "7"), row
        assert not skill.verify(row, ""), row


@pytest.mark.parametrize("name", SKILLS)
def test_solver_rederives_every_gold_answer(name):
    skill = get_skill(name)
    for level in (1, 2, 3, 5):
        for row in generate_items(name, level, 25, seed=level).iter_rows(named=True):
            assert skill.verify(row, skill.solve(row)), row


@pytest.mark.parametrize("name", SKILLS)
def test_params_open_ended(name):
    skill = get_skill(name)
    knobs1, knobs50 = skill.params(1).model_dump(), skill.params(50).model_dump()
    assert knobs1 != knobs50, "at least one knob must grow with level"
    item = skill.generate(np.random.default_rng(0), 12)
    assert item["question"] and item["answer"]
    json.dumps(item["params"])


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_level_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError):
        generate_items("addition", bad, 5, seed=0)


def test_unknown_skill_suggests_close_names():
    with pytest.raises(UnknownSkill, match="did you mean addition"):
        get_skill("additon")
