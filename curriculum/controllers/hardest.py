"""hardest: the target level only (what "train on the task you care about" does)."""

from __future__ import annotations

from typing import Any

from curriculum.controllers import register
from curriculum.controllers.base import Schedule


class Hardest(Schedule):
    name = "hardest"
    description = "the target level only"

    def level(self, config: Any, target: int, tier: int) -> int:
        return target

    def mix(self, config: Any, target: int, tier: int) -> dict[str, dict[int, float]]:
        return {"current": {target: 1.0}}


register(Hardest())
