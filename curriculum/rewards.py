"""Verifier-backed rewards for RL trainers: TRL's GRPOTrainer, verl and OpenRLHF.

A completion earns 1.0 only when its skill's own verifier accepts the final answer that
`curriculum.extraction` reads from it; everything else earns 0.0: a wrong answer, no answer, text that
merely contains the gold somewhere (that rewards hedging), a malformed or hostile completion. What a model
wrote is never evaluated or executed and never raises: extraction reads a bounded tail with linear-time
patterns and capped retries, and a verifier sees at most MAX_ANSWER_CHARS, so each completion costs
bounded time. What the trainer hands over is another matter: a missing column or an unknown skill is a
setup mistake and raises `RewardSetupError` (one line) on the first batch, or before training when the
reward is built with its dataset, never a run of silent zeros.

`score_completions` is the one code path. The trainer-shaped entry points only adapt their arguments,
and TRL's can hand each batch's `Score`s to an `on_scores` callback: that is how a controller inside a
trainer gets its rewards back, per item.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from curriculum.errors import CurriculumError
from curriculum.extraction import MAX_ANSWER_CHARS, MAX_INPUT_CHARS, extract_answer
from curriculum.skills import REGISTRY, Skill, get_skill

DATA_SOURCE_PREFIX = "curriculum/"
REQUIRED_COLUMNS = ("skill", "answer")  # the item columns a TRL dataset must carry
Outcome = Literal["correct", "wrong", "no_answer", "verifier_error"]


class RewardSetupError(CurriculumError):
    """The trainer's data cannot be scored: a missing column, an unknown skill, a gold the verifier rejects."""


class Score(NamedTuple):
    """One completion's reward and why. `extracted` is the final answer read from it (None: none found)."""

    reward: float
    outcome: Outcome
    skill: str
    level: int | None
    item_id: str | None
    extracted: str | None


@dataclass
class RewardTally:
    """Running counts of what completions earned, overall and per skill ([scored, correct])."""

    scored: int = 0
    correct: int = 0
    no_answer: int = 0
    verifier_errors: int = 0
    per_skill: dict[str, list[int]] = field(default_factory=dict)

    def add(self, scores: Iterable[Score]) -> None:
        per_skill = self.per_skill
        for s in scores:
            outcome = s.outcome
            counts = per_skill.get(s.skill)
            if counts is None:
                counts = per_skill[s.skill] = [0, 0]
            counts[0] += 1
            if outcome == "correct":
                self.correct += 1
                counts[1] += 1
            elif outcome == "no_answer":
                self.no_answer += 1
            elif outcome == "verifier_error":
                self.verifier_errors += 1
            self.scored += 1


def completion_text(completion: Any) -> str | None:
    """The text of a completion: a string, or the last assistant message of a conversational one
    (`[{"role": "assistant", "content": str | [{"type": "text", "text": ...}]}]`); None for anything else."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if not isinstance(completion, Sequence):
        return None
    for message in reversed(completion):
        if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, Sequence):  # content parts: the text ones, bounded like any text
                parts, size = [], 0
                for part in content:
                    text = part.get("text") if isinstance(part, Mapping) else None
                    if isinstance(text, str):
                        parts.append(text[-MAX_INPUT_CHARS:])
                        size += len(parts[-1])
                        if size > MAX_INPUT_CHARS:
                            break
                return "".join(parts) if parts else None
            return None
    return None


def resolve_skills(skills: Sequence[Any] | None, golds: Sequence[Any] | None, n: int) -> list[Skill]:
    """Each row's Skill, or RewardSetupError naming what is missing or unknown."""
    for name, column in (("skill", skills), ("answer", golds)):
        if column is None:
            raise RewardSetupError(
                f"reward needs the dataset column {name!r} (columns {', '.join(REQUIRED_COLUMNS)}); "
                "export the data with `curriculum export --format trl`"
            )
        if len(column) != n:
            raise RewardSetupError(f"reward got {len(column)} values of {name!r} for {n} completions")
    out: list[Skill] = []
    for name, gold in zip(skills, golds):  # type: ignore[arg-type]
        skill = REGISTRY.get(name) if isinstance(name, str) else None
        if skill is None:
            try:
                get_skill(str(name))
            except CurriculumError as err:
                raise RewardSetupError(f"reward: {err}") from None
        if gold is None:
            raise RewardSetupError(f"reward: an item of skill {name!r} has no gold answer")
        out.append(skill)  # type: ignore[arg-type]
    return out


def score_completions(
    skills: Sequence[Any] | None,
    golds: Sequence[Any] | None,
    completions: Sequence[Any],
    *,
    questions: Sequence[Any] | None = None,
    levels: Sequence[Any] | None = None,
    item_ids: Sequence[Any] | None = None,
    params: Sequence[Any] | None = None,
) -> list[Score]:
    """One Score per completion, by its row's skill verifier on the extracted final answer."""
    n = len(completions)
    resolved = resolve_skills(skills, golds, n)
    blank = [None] * n
    out: list[Score] = []
    append = out.append
    for skill, gold, completion, question, level, item_id, param in zip(
        resolved, golds, completions, questions or blank, levels or blank, item_ids or blank, params or blank  # type: ignore[arg-type]
    ):
        if type(level) is not int:
            level = _int_or_none(level)
        if item_id is not None and type(item_id) is not str:
            item_id = str(item_id)
        text = completion if type(completion) is str else completion_text(completion)
        extracted = extract_answer(text) if text else None
        if extracted is None:
            append(Score(0.0, "no_answer", skill.name, level, item_id, None))
            continue
        if type(gold) is not str:
            gold = str(gold)
        if extracted == gold:  # every verifier accepts its own gold (the registry's contract, check_golds)
            append(Score(1.0, "correct", skill.name, level, item_id, extracted))
            continue
        item = {
            "skill": skill.name, "answer": gold, "level": level,
            "item_id": item_id, "question": "" if question is None else str(question), "params": param,
        }
        try:
            ok = bool(skill.verify(item, extracted[:MAX_ANSWER_CHARS]))
        except Exception:  # a verifier that cannot read an answer rejects it
            append(Score(0.0, "verifier_error", skill.name, level, item_id, extracted))
            continue
        append(Score(1.0, "correct", skill.name, level, item_id, extracted) if ok
               else Score(0.0, "wrong", skill.name, level, item_id, extracted))
    return out


def check_golds(skills: Sequence[Any], golds: Sequence[Any], questions: Sequence[Any] | None = None) -> None:
    """Each row's verifier accepts its own gold, read back from an "Answer: ..." line: catches shuffled or
    mislabelled columns before training (and keeps the gold shortcut in score_completions sound)."""
    resolved = resolve_skills(skills, golds, len(golds))
    for i, (skill, gold) in enumerate(zip(resolved, golds)):
        item = {"skill": skill.name, "answer": str(gold), "question": str(questions[i]) if questions else ""}
        try:
            ok = bool(skill.verify(item, extract_answer(f"Answer: {gold}") or ""))
        except Exception:
            ok = False
        if not ok:
            raise RewardSetupError(
                f"reward: the {skill.name} verifier rejects the dataset's own answer {str(gold)[:60]!r}; "
                "is the 'answer' column the gold answer?"
            )


# -- TRL ------------------------------------------------------------------------------------------


class TRLReward:
    """A GRPOTrainer reward function, `f(prompts, completions, **columns) -> list[float]`.

    Reads the columns TRL passes through: skill and answer (required), question, item_id, level and
    extra_info (optional). Counts outcomes in `tally`, logs accuracy and the share of completions with no
    extractable answer through TRL's `log_metric`, and calls `on_scores(scores)` after each batch.
    """

    def __init__(self, on_scores: Callable[[list[Score]], None] | None = None) -> None:
        self.__name__ = "verifier_reward"  # the name TRL logs the reward under
        self.on_scores = on_scores
        self.tally = RewardTally()
        self._checked = False

    def check_dataset(self, dataset: Any) -> None:
        """Fail before training when a dataset (a `datasets.Dataset`) lacks a column or names an unknown skill."""
        columns = list(getattr(dataset, "column_names", None) or [])
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise RewardSetupError(
                f"reward needs the dataset column(s) {', '.join(map(repr, missing))} (has {', '.join(columns) or 'none'}); "
                "export the data with `curriculum export --format trl`"
            )
        skills = list(dataset["skill"])
        first = {s: i for i, s in reversed(list(enumerate(skills)))}  # one row per distinct skill
        rows = sorted(first.values())
        golds = list(dataset["answer"])
        questions = list(dataset["question"]) if "question" in columns else None
        check_golds([skills[i] for i in rows], [golds[i] for i in rows], [questions[i] for i in rows] if questions else None)
        self._checked = True

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] = (),
        skill: Sequence[Any] | None = None,
        answer: Sequence[Any] | None = None,
        question: Sequence[Any] | None = None,
        item_id: Sequence[Any] | None = None,
        level: Sequence[Any] | None = None,
        extra_info: Sequence[Any] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        **_: Any,
    ) -> list[float]:
        if not self._checked:
            resolve_skills(skill, answer, len(completions))
            check_golds(skill, answer, question)  # type: ignore[arg-type]
            self._checked = True
        params = [e.get("params") if isinstance(e, Mapping) else None for e in extra_info] if extra_info else None
        scores = score_completions(
            skill, answer, completions, questions=question, levels=level, item_ids=item_id, params=params
        )
        self.tally.add(scores)
        if log_metric is not None and scores:
            log_metric("verifier/accuracy", sum(s.reward for s in scores) / len(scores))
            log_metric("verifier/no_answer_rate", sum(s.outcome == "no_answer" for s in scores) / len(scores))
        if self.on_scores is not None:
            self.on_scores(scores)
        return [s.reward for s in scores]


def trl_reward(dataset: Any = None, on_scores: Callable[[list[Score]], None] | None = None) -> TRLReward:
    """The GRPOTrainer reward; given the training dataset, its columns and skills are checked now."""
    reward = TRLReward(on_scores)
    if dataset is not None:
        reward.check_dataset(dataset)
    return reward


# -- verl -----------------------------------------------------------------------------------------


def compute_score(
    data_source: str, solution_str: str, ground_truth: str, extra_info: Mapping[str, Any] | None = None, **_: Any
) -> dict[str, Any]:
    """verl's custom reward (`custom_reward_function.name=compute_score`).

    `data_source` is `curriculum/<skill>` (or extra_info names the skill). Returns the score plus the
    same keys for every sample, which verl logs per data source: acc, no_answer (1.0 when nothing was
    extractable), level, skill.
    """
    info = extra_info if isinstance(extra_info, Mapping) else {}
    name = info.get("skill")
    if isinstance(data_source, str) and data_source.startswith(DATA_SOURCE_PREFIX):
        name = data_source[len(DATA_SOURCE_PREFIX):]
    if name is None:
        raise RewardSetupError(
            f"reward: data_source {str(data_source)[:80]!r} is not curriculum/<skill> and extra_info names no skill"
        )
    [s] = score_completions(
        [name], [ground_truth], [solution_str],
        questions=[info.get("question")], levels=[info.get("level")], item_ids=[info.get("item_id")],
        params=[info.get("params")],
    )
    return {
        "score": s.reward, "acc": s.reward, "no_answer": float(s.outcome == "no_answer"),
        "level": s.level if s.level is not None else 0, "skill": s.skill,
    }


# -- OpenRLHF -------------------------------------------------------------------------------------


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], **_: Any) -> dict[str, Any]:
    """OpenRLHF's `--remote_rm_url path/to/rewards.py` with `--label_key label`.

    A query is prompt + response; a label is the export's `label` (JSON with skill and answer, or that
    mapping itself). Returns rewards and scores as tensors and the share with no extractable answer.
    """
    import torch

    parsed = [_label(x) for x in labels]
    responses = [
        q[len(p):] if isinstance(q, str) and isinstance(p, str) and q.startswith(p) else q
        for q, p in zip(queries, prompts)
    ]
    scores = score_completions(
        [x.get("skill") for x in parsed], [x.get("answer") for x in parsed], responses,
        levels=[x.get("level") for x in parsed], item_ids=[x.get("item_id") for x in parsed],
    )
    rewards = torch.tensor([s.reward for s in scores], dtype=torch.float32)
    no_answer = sum(s.outcome == "no_answer" for s in scores) / max(len(scores), 1)
    return {"rewards": rewards, "scores": rewards, "extra_logs": {"no_answer_rate": torch.tensor(no_answer)}}


def label_of(skill: str, answer: str, level: int | None = None, item_id: str | None = None) -> str:
    """The `label` column an export writes for OpenRLHF: what reward_func needs, as one JSON string."""
    return json.dumps({"skill": skill, "answer": answer, "level": level, "item_id": item_id}, ensure_ascii=False)


def _label(raw: Any) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    try:
        got = json.loads(raw) if isinstance(raw, (str, bytes)) else None
    except ValueError:
        got = None
    if not isinstance(got, Mapping):
        raise RewardSetupError(
            f"reward: label {str(raw)[:80]!r} is not the export's JSON label; use --label_key label"
        )
    return got


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError, OverflowError):
        return None


