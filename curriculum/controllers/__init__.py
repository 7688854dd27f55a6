"""The strategies a run can use, by name: every module in this package registers its controller on import.

Adding a strategy is one module here that ends with `register(MyController())`.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil

from curriculum.controllers.base import DECISION_SCHEMA, Controller, Schedule
from curriculum.errors import UnknownStrategy

CONTROLLERS: dict[str, Controller] = {}


def register(controller: Controller) -> Controller:
    if controller.name in CONTROLLERS:
        raise ValueError(f"strategy {controller.name!r} registered twice")
    CONTROLLERS[controller.name] = controller
    return controller


def get_controller(name: str) -> Controller:
    """The controller registered as `name`; an unknown name is one line naming the known ones."""
    try:
        return CONTROLLERS[name]
    except KeyError:
        close = difflib.get_close_matches(name, CONTROLLERS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UnknownStrategy(f"unknown strategy {name!r}{hint}; known: {', '.join(CONTROLLERS)}") from None


for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "base" and not _module.startswith("_"):
        importlib.import_module(f"{__name__}.{_module}")

__all__ = ["CONTROLLERS", "DECISION_SCHEMA", "Controller", "Schedule", "get_controller", "register"]
