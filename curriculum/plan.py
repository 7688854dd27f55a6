"""A tier plan: which skill, level, split and how many items; what the controller hands to generation."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

Role = Literal["frontier", "stretch", "replay", "uniform", "probe"]


@dataclass(frozen=True)
class PlanEntry:
    skill: str
    level: int
    split: Literal["train", "eval"]
    count: int
    role: Role = "frontier"


@dataclass(frozen=True)
class TierPlan:
    tier: int
    seed: int
    entries: tuple[PlanEntry, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TierPlan:
        raw = json.loads(text)
        return cls(raw["tier"], raw["seed"], tuple(PlanEntry(**e) for e in raw["entries"]))

    def counts(self) -> dict[tuple[str, int, str], int]:
        """Planned items per (skill, level, split), roles merged."""
        out: dict[tuple[str, int, str], int] = {}
        for e in self.entries:
            key = (e.skill, e.level, e.split)
            out[key] = out.get(key, 0) + e.count
        return out
