"""A tier attempt's lifecycle: one status per step done, and the only moves allowed between them.

    (new) -> planned -> generated -> validated -> trained -> evaluated -> complete
                                  `-> rejected (the next attempt starts again at planned)

A controller that does not train (the frontier search) goes from validated straight to evaluated. The
catalogue stores the status of each attempt (`tiers.status`); `Store.set_tier_status` refuses any other move.
"""

from __future__ import annotations

from enum import StrEnum


class TierStatus(StrEnum):
    NEW = "new"  # nothing stored yet: never written to the catalogue
    PLANNED = "planned"
    GENERATED = "generated"
    VALIDATED = "validated"
    REJECTED = "rejected"
    TRAINED = "trained"
    EVALUATED = "evaluated"
    COMPLETE = "complete"


MOVES: dict[TierStatus, frozenset[TierStatus]] = {
    TierStatus.NEW: frozenset({TierStatus.PLANNED}),
    TierStatus.PLANNED: frozenset({TierStatus.GENERATED}),
    TierStatus.GENERATED: frozenset({TierStatus.VALIDATED, TierStatus.REJECTED}),
    TierStatus.VALIDATED: frozenset({TierStatus.TRAINED, TierStatus.EVALUATED}),
    TierStatus.TRAINED: frozenset({TierStatus.EVALUATED}),
    TierStatus.EVALUATED: frozenset({TierStatus.COMPLETE}),
    TierStatus.REJECTED: frozenset(),
    TierStatus.COMPLETE: frozenset(),
}

# attempts whose items a run may use: the replay pool, the leakage reference, exports
ACCEPTED = (TierStatus.VALIDATED, TierStatus.TRAINED, TierStatus.EVALUATED, TierStatus.COMPLETE)


class LifecycleError(RuntimeError):
    """A step tried a move the lifecycle does not allow (a bug, or a catalogue edited by hand)."""


def check_move(current: TierStatus, new: TierStatus) -> None:
    """Allow `new` after `current`; repeating a status (a step redone after a crash) is allowed too."""
    if new != current and new not in MOVES[current]:
        raise LifecycleError(f"a tier cannot move from {current} to {new}")


def accepted_sql() -> str:
    """`('validated', ...)`: the ACCEPTED statuses as an SQL list."""
    return "(" + ", ".join(f"'{s}'" for s in ACCEPTED) + ")"
