"""ladder: level 1, 2, 3, ... on a fixed clock, one level at a time (the naive curriculum)."""

from __future__ import annotations

from typing import Any

from curriculum.controllers import register
from curriculum.controllers.base import Schedule, ladder_level


class Ladder(Schedule):
    name = "ladder"
    description = "one level at a time, up on a fixed clock (schedule.ladder_every)"

    def level(self, config: Any, target: int, tier: int) -> int:
        return ladder_level(config, target, tier)

    def mix(self, config: Any, target: int, tier: int) -> dict[str, dict[int, float]]:
        return {"current": {ladder_level(config, target, tier): 1.0}}


register(Ladder())
