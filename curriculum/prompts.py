"""Prompt templates: how a question becomes chat messages, and how a reply states its final answer.

One template serves every place a model sees an item: trainer exports (TRL, verl), remote and local
model learners. Each template names an answer format that `curriculum.extraction` reads back, so a
reward never depends on which template was used. Templates are plain data: `{question}` and `{answer}`
are replaced as text (never `str.format`), so braces in questions or in a template are safe.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from curriculum.errors import InputFileError

ANSWER_LINE_SYSTEM = (
    "You are solving a maths or logic exercise. Work it out briefly if you need to, then give the final "
    'answer alone on the last line in the form "Answer: <answer>", using any answer format the '
    "exercise asks for."
)
BOXED_SYSTEM = (
    "You are solving a maths or logic exercise. Work it out briefly if you need to, then put the final "
    "answer in \\boxed{...}, using any answer format the exercise asks for."
)


class PromptTemplate(BaseModel):
    """`system` (optional) and `user` (holds `{question}`) make the prompt; `answer` (holds `{answer}`)
    is how a correct reply ends, the target of supervised fine-tuning."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("custom", min_length=1)
    system: str | None = None
    user: str = "{question}"
    answer: str = "Answer: {answer}"

    @field_validator("user")
    @classmethod
    def has_question(cls, text: str) -> str:
        if "{question}" not in text:
            raise ValueError("user must contain {question}")
        return text

    @field_validator("answer")
    @classmethod
    def has_answer(cls, text: str) -> str:
        if "{answer}" not in text:
            raise ValueError("answer must contain {answer}")
        return text

    def messages(self, question: str) -> list[dict[str, str]]:
        """The prompt as chat messages (system first when there is one)."""
        user = {"role": "user", "content": self.user.replace("{question}", question)}
        return [{"role": "system", "content": self.system}, user] if self.system else [user]

    def completion(self, answer: str) -> str:
        """A reply that states `answer` in this template's format."""
        return self.answer.replace("{answer}", answer)


TEMPLATES: dict[str, PromptTemplate] = {
    t.name: t
    for t in (
        PromptTemplate(name="answer-line", system=ANSWER_LINE_SYSTEM, answer="Answer: {answer}"),
        PromptTemplate(name="boxed", system=BOXED_SYSTEM, answer="\\boxed{{answer}}"),
        # no system message: for small models and short contexts
        PromptTemplate(name="short", user='{question}\nEnd with "Answer: <answer>".', answer="Answer: {answer}"),
    )
}
DEFAULT_TEMPLATE = "answer-line"


def load_template(name_or_path: str | Path | None = None) -> PromptTemplate:
    """A built-in template by name, or one from a YAML file with keys system, user, answer."""
    if name_or_path is None:
        return TEMPLATES[DEFAULT_TEMPLATE]
    if str(name_or_path) in TEMPLATES:
        return TEMPLATES[str(name_or_path)]
    path = Path(name_or_path)
    if not path.is_file():
        raise InputFileError(
            f"unknown prompt template {str(name_or_path)!r}: not a file, and not one of {', '.join(TEMPLATES)}"
        )
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise InputFileError(f"prompt template {path}: cannot read it ({type(err).__name__})") from None
    if not isinstance(raw, dict):
        raise InputFileError(f"prompt template {path}: expected a mapping with keys system, user, answer")
    try:
        return PromptTemplate(**({"name": path.stem} | raw))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "template"
        raise InputFileError(f"prompt template {path}: {where}: {first['msg']}") from None
