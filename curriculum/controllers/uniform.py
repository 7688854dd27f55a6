"""uniform: every level 1..target equally, every tier (the strong baseline of curriculum studies)."""

from __future__ import annotations

from typing import Any

from curriculum.controllers import register
from curriculum.controllers.base import Schedule, spread


class Uniform(Schedule):
    name = "uniform"
    description = "every level 1..target equally, every tier"

    def level(self, config: Any, target: int, tier: int) -> int:
        return target

    def mix(self, config: Any, target: int, tier: int) -> dict[str, dict[int, float]]:
        return {"uniform": spread(range(1, target + 1))}


register(Uniform())
