"""The built-in learner's config: its size and training budget (kept apart from the torch module, so a run
config can be read without importing torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    n_layer: int = Field(2, ge=1)
    n_head: int = Field(4, ge=1)
    n_embd: int = Field(128, ge=8)
    block_size: int = Field(64, ge=16)  # tokens the model sees at once: prompt plus answer
    # prompts read as words: each run of letters is one of this many hashed tokens (0: read char by char)
    word_buckets: int = Field(4096, ge=0)
    answer_room: int | None = Field(None, ge=1)  # positions kept for the answer; None: min(32, block_size // 2)
    match_head: bool = True  # a fixed head that finds earlier copies of each token (what logic items turn on)

    @model_validator(mode="after")
    def heads_divide(self) -> ModelConfig:
        if self.n_embd % self.n_head:
            raise ValueError("n_embd must be a multiple of n_head")
        if self.answer_room is not None and self.answer_room >= self.block_size:
            raise ValueError("answer_room must be below block_size")
        return self


class LearnerConfig(BaseModel):
    """learner: {kind: local, ...}: the small char-level transformer trained in the run's process."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["local"] = "local"
    steps_per_tier: int = Field(400, ge=1)
    batch_size: int = Field(64, ge=1)
    learning_rate: float = Field(3e-3, gt=0)
    replay_share: float = Field(0.3, ge=0, le=1)  # of each batch, drawn from earlier tiers' train items
    device: str = "auto"
    threads: int = Field(0, ge=0)  # 0 = torch's default
    model: ModelConfig = ModelConfig()

    @property
    def trains(self) -> bool:
        return True
