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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import and_, eq, is_not, not_
from typing import Any, Literal, NamedTuple

from curriculum.errors import CurriculumError
from curriculum.extraction import MAX_ANSWER_CHARS, MAX_INPUT_CHARS, extract_answer, extract_answers
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


class Scores(Sequence[Score]):
    """A batch's Scores, held as columns (`rewards`, `outcomes`, `skills`, `levels`, `item_ids`, `extracted`).

    A Score is built when one is read, and the columns a reward alone does not need (outcomes, levels and item
    ids as types the Score promises) are derived on first read, so a trainer that wants the rewards pays for
    nothing more; otherwise it is a read-only sequence of Score.
    """

    __slots__ = ("rewards", "skills", "extracted", "verifier_errors", "_given", "_levels", "_item_ids", "_outcomes")

    def __init__(
        self,
        rewards: list[float],
        skills: list[str],
        extracted: list[str | None],
        levels: Sequence[Any] | None = None,
        item_ids: Sequence[Any] | None = None,
        verifier_errors: Sequence[int] = (),
    ) -> None:
        self.rewards, self.skills, self.extracted = rewards, skills, extracted
        self.verifier_errors = verifier_errors  # rows whose verifier raised
        self._given = (levels, item_ids)  # as the trainer handed them over
        self._levels = self._item_ids = self._outcomes = None

    @property
    def outcomes(self) -> list[Outcome]:
        if self._outcomes is None:
            got: list[Outcome] = [
                "correct" if r else "no_answer" if x is None else "wrong" for r, x in zip(self.rewards, self.extracted)
            ]
            for i in self.verifier_errors:
                got[i] = "verifier_error"
            self._outcomes = got
        return self._outcomes

    @property
    def levels(self) -> list[int | None]:
        if self._levels is None:
            self._levels = _column(self._given[0], len(self.rewards), (int, type(None)), _int_or_none)
        return self._levels

    @property
    def item_ids(self) -> list[str | None]:
        if self._item_ids is None:
            self._item_ids = _column(self._given[1], len(self.rewards), (str, type(None)), _str_or_none)
        return self._item_ids

    def __len__(self) -> int:
        return len(self.rewards)

    def __iter__(self) -> Iterator[Score]:
        return map(Score, self.rewards, self.outcomes, self.skills, self.levels, self.item_ids, self.extracted)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return list(self)[i]
        return Score(
            self.rewards[i], self.outcomes[i], self.skills[i], self.levels[i], self.item_ids[i], self.extracted[i]
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Scores({list(self)!r})"


@dataclass
class RewardTally:
    """Running counts of what completions earned, overall and per skill ([scored, correct])."""

    scored: int = 0
    correct: int = 0
    no_answer: int = 0
    verifier_errors: int = 0
    per_skill: dict[str, list[int]] = field(default_factory=dict)

    def add(self, scores: Iterable[Score]) -> None:
        if isinstance(scores, Scores):
            skills, rewards = scores.skills, scores.rewards
            correct, no_answer = rewards.count(1.0), scores.extracted.count(None)
            errors = len(scores.verifier_errors)
        else:
            scores = list(scores)
            skills, outcomes = [s.skill for s in scores], [s.outcome for s in scores]
            rewards = [s.reward for s in scores]
            correct, no_answer = outcomes.count("correct"), outcomes.count("no_answer")
            errors = outcomes.count("verifier_error")
        kinds = set(skills)
        if len(kinds) == 1:  # a batch of one skill (a GRPO group, say)
            per = {skill: (len(skills), correct) for skill in kinds}
        else:
            right = Counter(compress(skills, rewards))
            per = {skill: (k, right[skill]) for skill, k in Counter(skills).items()}
        for skill, (k, ok) in per.items():
            counts = self.per_skill.setdefault(skill, [0, 0])
            counts[0] += k
            counts[1] += ok
        self.scored += len(rewards)
        self.correct += correct
        self.no_answer += no_answer
        self.verifier_errors += errors


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
    found = _skills_of(skills, golds, n)
    return list(map(found.__getitem__, skills))  # type: ignore[arg-type]


def _skills_of(skills: Sequence[Any] | None, golds: Sequence[Any] | None, n: int) -> dict[Any, Skill]:
    """The Skill of each distinct name in the column (each looked up once), after checking both columns."""
    for name, column in (("skill", skills), ("answer", golds)):
        if column is None:
            raise RewardSetupError(
                f"reward needs the dataset column {name!r} (columns {', '.join(REQUIRED_COLUMNS)}); "
                "export the data with `curriculum export --format trl`"
            )
        if len(column) != n:
            raise RewardSetupError(f"reward got {len(column)} values of {name!r} for {n} completions")
    try:
        found = {name: _skill(name) for name in set(skills)}  # type: ignore[arg-type]
    except TypeError:  # an unhashable name: not a skill
        for name in skills:  # type: ignore[union-attr]
            _skill(name)
        raise
    if None in golds:  # type: ignore[operator]
        name = skills[list(golds).index(None)]  # type: ignore[index,arg-type]
        raise RewardSetupError(f"reward: an item of skill {name!r} has no gold answer")
    return found


def _skill(name: Any) -> Skill:
    skill = REGISTRY.get(name) if isinstance(name, str) else None
    if skill is None:
        try:
            return get_skill(str(name))
        except CurriculumError as err:
            raise RewardSetupError(f"reward: {err}") from None
    return skill


def score_completions(
    skills: Sequence[Any] | None,
    golds: Sequence[Any] | None,
    completions: Sequence[Any],
    *,
    questions: Sequence[Any] | None = None,
    levels: Sequence[Any] | None = None,
    item_ids: Sequence[Any] | None = None,
    params: Sequence[Any] | None = None,
) -> Scores:
    """One Score per completion, by its row's skill verifier on the extracted final answer.

    In batch: answers are read by `extract_answers`; an answer equal to its gold string is correct at once
    (every verifier accepts its own gold: the registry's contract, which check_golds holds the data to); only
    the other answers go to their skill's verifier, skill by skill.
    """
    n = len(completions)
    found = _skills_of(skills, golds, n)
    for name, column in (("question", questions), ("level", levels), ("item_id", item_ids), ("params", params)):
        if column and len(column) != n:
            raise RewardSetupError(f"reward got {len(column)} values of {name!r} for {n} completions")
    if all(skill.name == name for name, skill in found.items()):
        names = list(skills)  # type: ignore[arg-type]
    else:
        names = [found[name].name for name in skills]  # type: ignore[union-attr]
    golds = list(golds) if _all_str(golds) else list(map(str, golds))  # type: ignore[arg-type]
    if _all_str(completions):
        texts = list(completions)
    else:
        texts = [c if type(c) is str else completion_text(c) for c in completions]
    extracted = extract_answers(texts)
    rewards = list(map(float, map(eq, extracted, golds)))
    # the rows a verifier decides: an answer, not the gold string
    others = list(compress(range(n), map(and_, map(not_, rewards), map(is_not, extracted, repeat(None)))))
    judged: dict[Any, list[int]] = {}  # skill name as given -> its rows
    if len(found) == 1:
        judged = dict.fromkeys(found, others) if others else {}
    else:
        given = list(map(skills.__getitem__, others))  # type: ignore[union-attr]
        for name in set(given):
            judged[name] = list(compress(others, map(eq, given, repeat(name))))
    errors: list[int] = []
    scores = Scores(rewards, names, extracted, levels, item_ids, errors)
    for name, rows in judged.items():
        skill = found[name]
        read = getattr(skill.verify, "read", None)
        accepted = (
            _read_all(skill.verify, list(map(extracted.__getitem__, rows)), list(map(golds.__getitem__, rows)))
            if read
            else None
        )
        if accepted is None:  # a verifier that reads items one by one (or raised: each row is tried alone)
            accepted = []
            for i in rows:
                item = {
                    "skill": skill.name,
                    "answer": golds[i],
                    "level": scores.levels[i],
                    "item_id": scores.item_ids[i],
                    "question": "" if not questions or questions[i] is None else str(questions[i]),
                    "params": params[i] if params else None,
                }
                try:
                    accepted.append(bool(skill.verify(item, extracted[i][:MAX_ANSWER_CHARS])))  # type: ignore[index]
                except Exception:  # a verifier that cannot read an answer rejects it
                    accepted.append(False)
                    errors.append(i)
        for i in compress(rows, accepted):
            rewards[i] = 1.0
    return scores


def _read_all(verify: Any, answers: list[str], golds: list[str]) -> list[bool] | None:
    """What a keyed verifier (curriculum.skills.answers.keyed) says of each answer, read in one pass; None
    when a reader raised, so that the rows are judged one by one."""
    try:
        got = _read(verify.read, answers)
        return list(map(and_, map(is_not, got, repeat(None)), map(eq, got, _read(verify.read_gold, golds))))
    except Exception:
        return None


def _read(reader: Callable[[str], Any], texts: list[str]) -> list[Any]:
    """reader(text) for each text. Readers are pure: what one made of a text is remembered (boundedly) across
    batches, since completions keep repeating the same few answers, and each distinct text is read once."""
    memo = _READ_MEMO.setdefault(reader, {})
    new = set(texts).difference(memo)
    if new:
        if len(memo) + len(new) > READ_MEMO_SIZE:
            memo.clear()
        memo.update(zip(new, map(reader, new)))
    return list(map(memo.__getitem__, texts))


READ_MEMO_SIZE = 1 << 14  # texts remembered per reader (each at most MAX_ANSWER_CHARS long)
_READ_MEMO: dict[Callable[[str], Any], dict[str, Any]] = {}


def _all_str(column: Sequence[Any]) -> bool:
    """Every value of the column is a string (a join is the quickest test of that)."""
    try:
        "".join(column)
    except TypeError:
        return False
    return True


def _all_of(column: Sequence[Any], types: tuple[type, ...]) -> bool:
    """Every value of the column is exactly of one of these types."""
    return set(map(type, column)).issubset(types)


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

    def __init__(self, on_scores: Callable[[Scores], None] | None = None) -> None:
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
        check_golds(
            [skills[i] for i in rows], [golds[i] for i in rows], [questions[i] for i in rows] if questions else None
        )
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
            log_metric("verifier/accuracy", sum(scores.rewards) / len(scores))
            log_metric("verifier/no_answer_rate", scores.outcomes.count("no_answer") / len(scores))
        if self.on_scores is not None:
            self.on_scores(scores)
        return list(scores.rewards)


def trl_reward(dataset: Any = None, on_scores: Callable[[Scores], None] | None = None) -> TRLReward:
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
        name = data_source[len(DATA_SOURCE_PREFIX) :]
    if name is None:
        raise RewardSetupError(
            f"reward: data_source {str(data_source)[:80]!r} is not curriculum/<skill> and extra_info names no skill"
        )
    [s] = score_completions(
        [name],
        [ground_truth],
        [solution_str],
        questions=[info.get("question")],
        levels=[info.get("level")],
        item_ids=[info.get("item_id")],
        params=[info.get("params")],
    )
    return {
        "score": s.reward,
        "acc": s.reward,
        "no_answer": float(s.outcome == "no_answer"),
        "level": s.level if s.level is not None else 0,
        "skill": s.skill,
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
        q[len(p) :] if isinstance(q, str) and isinstance(p, str) and q.startswith(p) else q
        for q, p in zip(queries, prompts)
    ]
    scores = score_completions(
        [x.get("skill") for x in parsed],
        [x.get("answer") for x in parsed],
        responses,
        levels=[x.get("level") for x in parsed],
        item_ids=[x.get("item_id") for x in parsed],
    )
    rewards = torch.tensor(scores.rewards, dtype=torch.float32)
    no_answer = scores.outcomes.count("no_answer") / max(len(scores), 1)
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
        raise RewardSetupError(f"reward: label {str(raw)[:80]!r} is not the export's JSON label; use --label_key label")
    return got


def _column(given: Sequence[Any] | None, n: int, types: tuple[type, ...], each: Callable[[Any], Any]) -> list[Any]:
    """A column as a Score holds it: n Nones when absent, a copy when every value is of these types, else
    each value converted."""
    if not given:
        return [None] * n
    if (str in types and _all_str(given)) or _all_of(given, types):
        return list(given)
    return list(map(each, given))


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError, OverflowError):
        return None
