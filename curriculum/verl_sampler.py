"""verl's curriculum hook: a sampler over a fixed pool that follows the run's controller.

verl (its experimental `AbstractCurriculumSampler`) builds the sampler named by `data.sampler.class_path` /
`class_name` as `Sampler(data_source, data_config)` and calls `sampler.update(batch)` after every training
step (set `data.dataloader_num_workers=0` so the sampler lives in the trainer's process). The pool is a verl
export of items over a range of levels (`curriculum export --format verl` of earlier runs, or any items with
curriculum's `extra_info`); `data.curriculum.config` names the run config and `data.curriculum.run_id` (optional)
a run to carry on. Each index is drawn where the controller's current plan puts its training items, by skill
and level; `update` reads each sample's reward (the sum of `token_level_scores`) and its `extra_info` and hands
them to the run (curriculum.online.OnlineCurriculum), whose decisions move the plan.

verl itself is not a dependency: where it is installed the class subclasses its AbstractCurriculumSampler.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sized
from typing import Any

import numpy as np

from curriculum.online import OnlineCurriculum
from curriculum.rewards import Score

try:  # verl's interface where verl is installed; the same shape without it
    from verl.experimental.dataset.sampler import AbstractCurriculumSampler as _Base  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - verl is not installed in this project's environment
    from torch.utils.data import Sampler as _Base


def _get(mapping: Any, key: str, default: Any = None) -> Any:
    """`mapping[key]` for dicts, omegaconf DictConfigs and objects alike."""
    if isinstance(mapping, Mapping) or hasattr(mapping, "get"):
        return mapping.get(key, default)
    return getattr(mapping, key, default)


class CurriculumSampler(_Base):  # type: ignore[misc, valid-type]
    def __init__(self, data_source: Sized, data_config: Any, curriculum: OnlineCurriculum | None = None) -> None:
        settings = _get(data_config, "curriculum", {}) or {}
        self.curriculum = curriculum or OnlineCurriculum.open(
            _get(settings, "config"),
            _get(settings, "run_id"),
            trainer="verl",
            window=int(_get(settings, "window", 20)),
            decide_every=int(_get(settings, "decide_every", 20)),
        )
        rows = getattr(data_source, "dataframe", data_source)
        self.size = len(rows)
        self.pool: dict[tuple[str, int], list[int]] = {}
        for i in range(self.size):
            info = rows[i]["extra_info"]
            self.pool.setdefault((info["skill"], int(info["level"])), []).append(i)
        self._cursor: dict[tuple[str, int], int] = {}
        self.rng = np.random.default_rng(self.curriculum.config.seed)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        for _ in range(self.size):
            yield self._draw()

    def _draw(self) -> int:
        """An index where the current plan asks for training items (the nearest level the pool holds)."""
        weights = self.curriculum.plan_weights()
        keys = list(weights)
        skill, level = keys[self.rng.choice(len(keys), p=np.array(list(weights.values())) / sum(weights.values()))]
        held = [lv for s, lv in self.pool if s == skill]
        if not held:
            raise ValueError(f"the pool has no items of skill {skill!r}; export items of every skill in the run config")
        key = (skill, min(held, key=lambda lv: (abs(lv - level), lv)))
        position = self._cursor.get(key, 0)
        self._cursor[key] = position + 1
        rows = self.pool[key]
        return rows[position % len(rows)]

    def update(self, batch: Any) -> None:
        """verl's hook after each step: each sample's reward and extra_info go to the run's controller."""
        infos = batch.non_tensor_batch["extra_info"]
        scores = batch.batch["token_level_scores"].sum(-1).tolist()
        self.curriculum.observe(
            Score(
                float(r),
                "correct" if r >= 1.0 else "wrong",
                info["skill"],
                int(info["level"]),
                info.get("item_id"),
                None,
            )
            for info, r in zip(infos, scores)
        )
