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


def test_the_index_names_the_module_of_every_skill():
    from curriculum.skills import MODULES

    registered = {name: skill.generate_batch.__module__ for name, skill in REGISTRY.items()}
    assert registered == {name: f"curriculum.skills.{module}" for name, module in MODULES.items()}


def test_asking_for_one_skill_imports_its_module_only():
    import subprocess
    import sys

    code = (
        "import sys; from curriculum.skills import get_skill; get_skill('addition'); "
        "print(sorted(m for m in sys.modules if m.startswith('curriculum.skills.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "curriculum.skills.arithmetic" in loaded
    assert "curriculum.skills.seating" not in loaded and "curriculum.skills.word_problems" not in loaded


@pytest.mark.parametrize("name", SKILLS)
def test_params_encoded_per_batch_equal_params_encoded_per_item(name):
    from curriculum.generate import params_json

    for level in (1, 3, 8):
        batch = get_skill(name).generate_batch(np.random.default_rng(level), level, 200)
        if batch.params is not None and hasattr(batch.params, "json"):
            assert batch.params.json() == [json.dumps(p, sort_keys=True) for p in batch.params]
            assert batch.params.json() == params_json(list(batch.params))


def test_item_params_keep_the_json_of_every_value_type():
    from curriculum.skills.base import ItemParams

    values = [1, 1.0, True, None, 2, "x", float("nan")]
    params = ItemParams({"b": 1, "a": 2}, values)
    assert params.json() == [json.dumps({"a": 2, "b": 1, "difficulty": v}, sort_keys=True) for v in values]
    assert params[1:3] == [{"b": 1, "a": 2, "difficulty": 1.0}, {"b": 1, "a": 2, "difficulty": True}]
    assert ItemParams({}, [3, 3, 4]).json() == ['{"difficulty": 3}', '{"difficulty": 3}', '{"difficulty": 4}']
