"""The frontier search: the highest level at or above threshold, found in few items."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.config import FrontierConfig
from curriculum.controllers.frontier_search import Search, conclude, start, update, verdict

CFG = FrontierConfig()


def search(accuracy_at, cfg: FrontierConfig = CFG, rng: random.Random | None = None, first: int = 1) -> Search:
    """Run a search against a learner whose accuracy at each level is `accuracy_at(level)`."""
    s = start(first)
    for _ in range(500):
        if s.done(cfg.max_level):
            return s
        p = accuracy_at(s.level)
        correct = (
            sum((rng or random.Random(s.level)).random() < p for _ in range(cfg.batch))
            if 0 < p < 1
            else int(p * cfg.batch)
        )
        s, _ = update(s, correct, cfg.batch, cfg)
    raise AssertionError("the search did not finish")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 80), st.integers(1, CFG.max_level))
def test_a_sharp_frontier_is_found_exactly_in_logarithmic_items(frontier, first):
    s = search(lambda level: 1.0 if level <= frontier else 0.0, first=first)
    assert s.frontier == min(frontier, CFG.max_level)
    bound = 2 * math.ceil(math.log2(max(frontier, first) + 2)) + 3  # gallop + bisection probes
    assert len(s.probes) <= bound and s.items == CFG.batch * len(s.probes)


def test_a_noisy_learner_is_placed_within_one_level_of_its_frontier():
    hits = 0
    for seed in range(40):
        rng = random.Random(seed)
        s = search(lambda level: 0.97 if level <= 13 else 0.35, rng=rng)
        assert abs(s.frontier - 13) <= 1
        hits += s.frontier == 13
        assert s.items <= 200  # a fixed 60-item probe per level up to 14 would take 840
    assert hits >= 36


def test_undecided_probes_grow_until_decided_or_capped():
    assert verdict(10, 10, 0.85, 40) is True  # 1.00 vs 0.85 with a standard error of 0.11
    assert verdict(9, 10, 0.85, 40) is None  # 0.90: within one standard error
    assert verdict(0, 10, 0.85, 40) is False
    assert verdict(34, 40, 0.85, 40) is True and verdict(33, 40, 0.85, 40) is False  # the cap decides
    s, action = update(start(3), 9, 10, CFG)
    assert action == "more" and (s.level, s.correct, s.n, s.items) == (3, 9, 10, 10)
    s, action = update(s, 10, 10, CFG)
    assert action == "pass" and s.lo == 3 and s.level == 6 and s.probes == ((3, 0.95, 20),)


def test_a_level_with_no_items_left_is_decided_on_what_it_has():
    s, action = conclude(start(2), CFG)
    assert action == "fail" and s.hi == 2 and s.level == 1
    s, _ = update(start(1), 9, 10, CFG)
    s, action = conclude(s, CFG)
    assert action == "pass" and s.lo == 1


def test_state_survives_the_catalogue_round_trip():
    s = search(lambda level: 1.0 if level <= 5 else 0.0)
    assert Search.from_json(s.to_json()) == s
