"""An LLM teacher that writes new items; the project, not the model, vouches for every one it keeps.

- `rewrite_as_word_problems`: procedural items rewritten as word problems (same numbers, same gold).
- `harder_variants`: harder numeric items whose answer `safe_math` computes from a teacher-given expression.

Both return (accepted items in the item schema with source "llm:<model>", rejections as a
(reason, count) frame). `reverify(row)` re-derives an accepted item's gold answer from the evidence
recorded in its params, for checks that cannot parse a teacher-written question themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from curriculum.skills import REGISTRY
from curriculum.teacher import safe_math
from curriculum.teacher.rewrite import rewrite_as_word_problems
from curriculum.teacher.variants import harder_variants

__all__ = ["harder_variants", "reverify", "rewrite_as_word_problems", "safe_math"]


def reverify(row: Mapping[str, Any]) -> bool:
    """True when a teacher-written item's answer is re-derived from its recorded evidence.

    Variants: the recorded expression is recomputed by safe_math. Rewrites: the skill's solver reads the
    recorded source question. Either way the skill's verifier must accept the item's answer.
    """
    skill = REGISTRY.get(str(row.get("skill") or ""))
    if skill is None or row.get("answer") is None:
        return False
    try:
        params = json.loads(row.get("params") or "{}")
        if not isinstance(params, dict) or "verification" not in params:
            return False
        if "expression" in params:
            derived = safe_math.format_number(safe_math.compute(str(params["expression"])))
        elif "source_question" in params:
            recorded = json.dumps(params.get("source_params"), sort_keys=True)
            source = dict(row) | {"question": params["source_question"], "params": recorded}
            derived = skill.solve(source)
        else:
            return False
        return bool(skill.verify(row, derived))
    except Exception:
        return False
