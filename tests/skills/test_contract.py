"""The contract every registered skill keeps, run over the whole registry; the exceptions are listed with why."""

from __future__ import annotations

import pytest

from curriculum.generate import generate_chunk
from curriculum.skills import REGISTRY
from tests.skills.contract import (
    assert_balanced,
    assert_consistent,
    assert_deterministic,
    assert_difficulty_recorded_and_rising,
    assert_diverse,
    assert_even_split,
    assert_every_level_harder,
    assert_gate_solves_every_item,
    assert_high_levels_generate,
    assert_params_open_ended,
    assert_single_item_verifies,
    assert_solver_rederives_gold,
    assert_top_level_served,
)

SKILLS = sorted(REGISTRY)

MATHS_SKILLS = {
    "addition", "subtraction", "multiplication", "expression", "division_remainder", "comparison",
    "linear_equation", "linear_system", "polynomial", "fraction_simplify", "fraction_add", "fraction_compare",
    "modular", "gcd_lcm", "primality", "sequence_next", "word_problem",
}  # fmt: skip

# Generators that balance their answers by construction: every possible answer is gold equally often.
EVEN_SPLIT = {
    "boolean_eval": ("True", "False"),
    "entailment": ("yes", "no"),
    "fraction_compare": ("<", "=", ">"),
    "graph_reachability": ("Yes", "No"),
    "primality": ("yes", "no"),
    "syllogism": ("yes", "no"),
}

# From level 6 a sequence shows one term fewer (5 -> 4): a shorter prefix is the harder question; and plain
# arithmetic sequences stop there, leaving the harder families.
KNOBS_THAT_SHRINK = {"sequence_next": {"terms_shown", "arithmetic"}}

# Knobs deliberately the same at every level; the skill's other knobs carry the difficulty.
KNOBS_HELD_CONSTANT = {
    "boolean_eval": {"negation_rate"},  # difficulty comes from the number of operators
    "family_relations": {"max_children"},  # families grow by generations and couples per generation
}

DETERMINISM_LEVELS = (3, 4, 5)
DETERMINISM_SEED_PAIRS = ((5, 6), (7, 8))
BALANCE_LEVELS = (1, 3)  # level 1 too: its answer space is the smallest, where one answer could dominate
SAMPLE_SEEDS = (0, 3, 9, 11)  # every seed the family files sampled with, so no family's batch is dropped

# Distinct items a level must hold for a full held-out probe: 60 probe items (the default eval_items_per_level)
# at 20 % held out. A level with fewer says so in its skill's `small_levels`, with the count it holds.
MIN_DISTINCT = 300
PROBED_LEVELS = (1, 2, 3)


@pytest.mark.parametrize("name", SKILLS)
def test_domain(name):
    assert REGISTRY[name].domain == ("maths" if name in MATHS_SKILLS else "logic")


@pytest.mark.parametrize("name", SKILLS)
def test_params_open_ended_and_growing(name):
    assert_params_open_ended(
        name, may_shrink=KNOBS_THAT_SHRINK.get(name, ()), held_constant=KNOBS_HELD_CONSTANT.get(name, ())
    )


@pytest.mark.parametrize("name", SKILLS)
@pytest.mark.parametrize("level", DETERMINISM_LEVELS)
def test_deterministic(name, level):
    for seeds in DETERMINISM_SEED_PAIRS:
        assert_deterministic(name, level, seeds=seeds)


@pytest.mark.parametrize("name", SKILLS)
def test_single_item_generate(name):
    for seed in (0, 3):
        assert_single_item_verifies(name, level=4, seed=seed)


@pytest.mark.parametrize("name", SKILLS)
def test_high_levels_generate(name):
    assert_high_levels_generate(name)


@pytest.mark.parametrize("name", SKILLS)
def test_top_level_served_and_the_next_refused(name):
    assert_top_level_served(name)


@pytest.mark.parametrize("name", SKILLS)
def test_diverse_at_level_3(name):
    for seed in SAMPLE_SEEDS:
        assert_diverse(name, level=3, seed=seed)


@pytest.mark.parametrize("name", SKILLS)
@pytest.mark.parametrize("level", BALANCE_LEVELS)
def test_balanced(name, level):
    for seed in SAMPLE_SEEDS:
        assert_balanced(name, level, seed=seed)


@pytest.mark.parametrize("name", sorted(EVEN_SPLIT))
@pytest.mark.parametrize("level", BALANCE_LEVELS)
def test_even_split(name, level):
    for seed in SAMPLE_SEEDS:
        assert_even_split(name, EVEN_SPLIT[name], level, seed=seed)


@pytest.mark.parametrize("name", SKILLS)
def test_solver_rederives_gold_over_levels(name):
    assert_solver_rederives_gold(name)


@pytest.mark.parametrize("name", SKILLS)
def test_gate_solves_every_level_3_item(name):
    assert_gate_solves_every_item(name)


@pytest.mark.parametrize("name", SKILLS)
def test_every_level_differs_from_the_one_below(name):
    assert_every_level_harder(name)


@pytest.mark.parametrize("name", SKILLS)
def test_difficulty_recorded_and_rising(name):
    assert_difficulty_recorded_and_rising(name)


@pytest.mark.parametrize("name", sorted(n for n in SKILLS if REGISTRY[n].consistent is not None))
def test_generated_worlds_are_possible(name):
    assert_consistent(name)


def distinct_items(name: str, level: int) -> int:
    """Distinct items among a few chunks of candidates; a level that shows fewer than MIN_DISTINCT is counted out
    in full (8 x 4000 candidates: every item of a level of ~100 shows up)."""
    seen = lambda chunks, n: {i for c in range(chunks) for i in generate_chunk(name, level, n, 0, c)["item_id"]}  # noqa: E731
    have = len(seen(4, 2 * MIN_DISTINCT))
    return have if have >= MIN_DISTINCT else len(seen(8, 4000))


@pytest.mark.parametrize("name", SKILLS)
def test_low_levels_hold_a_held_out_probe_or_say_how_small_they_are(name):
    small = dict(REGISTRY[name].small_levels)
    for level in PROBED_LEVELS:
        have = distinct_items(name, level)
        if level in small:
            assert have == small[level] < MIN_DISTINCT, f"{name} level {level}: {have} distinct items"
        else:
            assert have >= MIN_DISTINCT, f"{name} level {level}: only {have} distinct items; declare small_levels"
