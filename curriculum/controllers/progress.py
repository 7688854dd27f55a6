"""progress: every level 1..target of every skill weighted by its learning progress (TSCL, Matiisen et al. 2017).

A level's learning progress is how fast its held-out accuracy is moving (an exponential average of the size of
each change, so forgetting counts too). Training goes where accuracy moves: neither to a level already learnt
nor to one that nothing moves yet. The weights of all levels of all skills compete for the whole tier, so a skill
that is learning gets more items than one that is stuck. Each level also keeps an exploration share (a fraction
of its skill's mean progress), so a level that has not moved yet is still tried; a level never measured counts
at its skill's mean (every level alike before any is measured); a mastered level (recent accuracy >= 0.9) keeps
a part of its weight, as replay.
"""

from __future__ import annotations

from typing import ClassVar

from curriculum.controllers import register
from curriculum.controllers.base import Cells, LevelSampler


class Progress(LevelSampler):
    name = "progress"
    description = "levels 1..target of every skill weighted by learning progress; mastered ones kept as replay"
    GLOBAL = True
    EXPLORE: ClassVar[float] = 0.3  # of the skill's mean progress, added to every level's weight
    STILL: ClassVar[float] = 0.05  # the progress the exploration share assumes where none is measured above 0
    MASTERED: ClassVar[float] = 0.9  # recent accuracy at which a level is learnt
    KEPT: ClassVar[float] = 0.3  # of a learnt level's weight, kept as replay

    def weights(self, cells: Cells) -> tuple[dict[int, float], str]:
        measured = [c.progress for c in cells.values() if c.progress is not None]
        mean = sum(measured) / len(measured) if measured else 1.0
        explore = self.EXPLORE * (mean if mean > 0 else self.STILL)
        weights, learnt = {}, []
        for lv, c in cells.items():
            w = (mean if c.progress is None else c.progress) + explore
            if c.recent is not None and c.recent >= self.MASTERED:
                w *= self.KEPT
                learnt.append(lv)
            weights[lv] = w
        if not measured:
            why = "no learning progress measured yet: every level alike"
        else:
            why = f"weights the learning progress of each level (mean {mean:.2f})"
        if learnt:
            why += f", learnt {', '.join(f'L{lv}' for lv in learnt)} kept as replay"
        return weights, why


register(Progress())
