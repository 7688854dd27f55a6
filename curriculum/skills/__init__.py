"""The skill registry: every module in this package registers its skills on import.

`REGISTRY` maps a skill name to its `Skill`, importing a skill's module when the skill is first asked for
(`MODULES` says which module registers which skill; a test holds it to what the modules register);
`get_skill` fails loudly with the closest names.
"""

from __future__ import annotations

import importlib
import pkgutil

from curriculum.skills.base import (
    REGISTRY,
    Batch,
    Skill,
    consistency_checks,
    difficulty_profile,
    get_skill,
    mean_difficulty,
    register,
)

_NOT_SKILLS = {"base", "answers"}

MODULES = {  # skill -> the module of this package that registers it
    "addition": "arithmetic",
    "boolean_eval": "boolean_logic",
    "comparison": "comparison",
    "division_remainder": "arithmetic",
    "entailment": "propositional",
    "expression": "arithmetic",
    "family_relations": "relations",
    "fraction_add": "fractions",
    "fraction_compare": "fractions",
    "fraction_simplify": "fractions",
    "gcd_lcm": "number_theory",
    "graph_reachability": "graphs",
    "knights_knaves": "knights_knaves",
    "linear_equation": "algebra",
    "linear_system": "algebra",
    "modular": "number_theory",
    "multiplication": "arithmetic",
    "ordering": "ordering",
    "polynomial": "algebra",
    "primality": "number_theory",
    "sat_count": "propositional",
    "seating": "seating",
    "sequence_next": "sequences",
    "set_relations": "sets",
    "shortest_path": "graphs",
    "subtraction": "arithmetic",
    "syllogism": "syllogisms",
    "word_problem": "word_problems",
}


def skill_modules() -> list[str]:
    """Every module of this package that registers skills."""
    return sorted(
        m.name for m in pkgutil.iter_modules(__path__) if m.name not in _NOT_SKILLS and not m.name.startswith("_")
    )


def _load_all() -> None:
    for module in skill_modules():
        importlib.import_module(f"{__name__}.{module}")


REGISTRY.index({skill: f"{__name__}.{module}" for skill, module in MODULES.items()}, _load_all)

__all__ = [
    "REGISTRY",
    "Batch",
    "Skill",
    "consistency_checks",
    "difficulty_profile",
    "get_skill",
    "mean_difficulty",
    "register",
]
