"""The skill registry: every module in this package registers its skills on import.

`REGISTRY` maps a skill name to its `Skill`; `get_skill` fails loudly with the closest names.
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

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in _NOT_SKILLS and not _module.startswith("_"):
        importlib.import_module(f"{__name__}.{_module}")

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
