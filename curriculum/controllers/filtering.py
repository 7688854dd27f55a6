"""filtering: train only on levels whose recent pass rate lies inside a band (online difficulty filtering:
balanced online filtering, DAPO's dynamic sampling, which drops prompts solved always or never).

Levels inside BAND share a skill's items equally. When none is inside, the levels not yet above the band do
(what is left to learn), or every level once all are above it. A level never probed counts as inside.
"""

from __future__ import annotations

from typing import ClassVar

from curriculum.controllers import register
from curriculum.controllers.base import Cells, LevelSampler


class Filtering(LevelSampler):
    name = "filtering"
    description = "levels 1..target whose recent held-out accuracy lies in (0.1, 0.9), equally"
    BAND: ClassVar[tuple[float, float]] = (0.1, 0.9)

    def weights(self, cells: Cells) -> tuple[dict[int, float], str]:
        recent = {lv: c.recent for lv, c in cells.items()}
        low, high = self.BAND
        inside = [lv for lv, a in recent.items() if a is None or low < a < high]
        if inside:
            return {lv: 1.0 for lv in inside}, f"levels with recent accuracy in ({low:g}, {high:g}) share alike"
        unlearnt = [lv for lv, a in recent.items() if a is not None and a <= low]
        if unlearnt:
            return {lv: 1.0 for lv in unlearnt}, f"no level lies in ({low:g}, {high:g}): the ones below it share alike"
        return {lv: 1.0 for lv in recent}, f"every level is above {high:g}: all share alike"


register(Filtering())
