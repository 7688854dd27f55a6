"""combined: half the ladder's current level, half uniform over 1..target (Zaremba & Sutskever 2014)."""

from __future__ import annotations

from typing import Any

from curriculum.controllers import register
from curriculum.controllers.base import Schedule, ladder_level, spread


class Combined(Schedule):
    name = "combined"
    description = "half the ladder's level, half uniform over 1..target"

    def level(self, config: Any, target: int, tier: int) -> int:
        return ladder_level(config, target, tier)

    def mix(self, config: Any, target: int, tier: int) -> dict[str, dict[int, float]]:
        uniform = spread(range(1, target + 1))
        return {"current": {ladder_level(config, target, tier): 0.5}, "uniform": {lv: 0.5 / target for lv in uniform}}


register(Combined())
