"""Config validation: every mistake is one ConfigError (or UnknownSkill) that names the field."""

from __future__ import annotations

import pytest

from curriculum.config import DEFAULT_CONFIG, load_config, parse_config
from curriculum.errors import ConfigError, UnknownSkill
from tests.conftest import tiny_config_dict


def test_default_config_loads():
    config = load_config()
    assert config.tiers >= 3
    assert {s.name for s in config.skills}
    assert DEFAULT_CONFIG.is_file()


def test_overrides_apply(tmp_path):
    config = load_config(None, tiers=2, seed=9, data_dir=tmp_path)
    assert (config.tiers, config.seed, config.data_dir) == (2, 9, tmp_path)


@pytest.mark.parametrize(
    "override, field",
    [
        ({"tiers": 0}, "tiers"),
        ({"skills": []}, "skills"),
        ({"colour": "red"}, "colour"),
        ({"tier": {"mix": {"frontier": 0.9, "stretch": 0.9, "replay": 0, "uniform": 0}}}, "tier.mix"),
        ({"policy": {"promote_at": 0.3, "demote_below": 0.5}}, "policy"),
        ({"learner": {"kind": "gpt5"}}, "learner: unknown learner 'gpt5'"),
        ({"skills": [{"name": "addition"}, {"name": "addition"}]}, "skills"),
    ],
)
def test_bad_values_name_the_field(tmp_path, override, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        parse_config(tiny_config_dict(tmp_path, **override))


def test_unknown_skill_is_its_own_error(tmp_path):
    with pytest.raises(UnknownSkill, match="boolean_eval"):
        parse_config(tiny_config_dict(tmp_path, skills=[{"name": "boolean_evl"}]))


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("skills: [addition\n  - x: {")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(scalar)


def test_auto_picks_what_the_benchmark_found_for_the_setting(tmp_path):
    """auto: uniform over 1..target when every skill names its target (it won the benchmark there), adaptive
    when the top is open (the one strategy that climbs without it), the frontier search for an evaluate-only model."""
    open_ended = parse_config({"skills": [{"name": "addition"}, {"name": "syllogism", "target_level": 3}]})
    known = parse_config(
        {"skills": [{"name": "addition", "target_level": 4}, {"name": "syllogism", "target_level": 3}]}
    )
    evaluated = parse_config(
        {
            "skills": [{"name": "addition", "target_level": 4}],
            "learner": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
        }
    )
    assert (open_ended.controller, known.controller, evaluated.controller) == ("adaptive", "uniform", "frontier-search")
    assert (
        parse_config({"strategy": "adaptive", "skills": [{"name": "addition", "target_level": 4}]}).controller
        == "adaptive"
    )
