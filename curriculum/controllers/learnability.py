"""learnability: levels weighted by p(1 - p) of their recent held-out accuracy p (LILO, Absolute Zero).

A level the learner always or never gets right teaches little; one it gets right half the time teaches most.
A level never probed counts as p = 0.5 (try it before judging); when every level is at 0 or 1, all weigh the same.
"""

from __future__ import annotations

from curriculum.controllers import register
from curriculum.controllers.base import Cells, LevelSampler


class Learnability(LevelSampler):
    name = "learnability"
    description = "levels 1..target weighted by p(1-p) of their recent held-out accuracy"

    def weights(self, cells: Cells) -> tuple[dict[int, float], str]:
        p = {lv: 0.5 if c.recent is None else c.recent for lv, c in cells.items()}
        w = {lv: a * (1 - a) for lv, a in p.items()}
        if sum(w.values()) <= 0:
            return {lv: 1.0 for lv in cells}, "every level is at 0 or 1: all weigh the same"
        return w, "weights p(1-p) of each level's recent accuracy"


register(Learnability())
