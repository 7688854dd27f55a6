"""The hf learner's config: a local Hugging Face causal LM trained between tiers by TRL (kept apart from
curriculum.learners.hf, so a run config can be read without importing torch or transformers)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

METHODS = ("sft", "grpo")


class HFConfig(BaseModel):
    """learner: {kind: hf, model: PATH, method: sft | grpo, ...}: a local causal LM folder, never downloaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["hf"] = "hf"
    model: Path  # a local folder with config.json, weights and a tokenizer (`curriculum init-model DIR` makes one)
    method: str = "sft"  # sft: SFTTrainer on the answers; grpo: GRPOTrainer on the verifiers' rewards
    prompt_template: str = "answer-line"  # a built-in template name or a YAML file (as `curriculum export`)
    steps_per_tier: int = Field(200, ge=1)  # optimizer steps per tier
    batch_size: int = Field(16, ge=1)  # per device; GRPO: completions per step, a multiple of num_generations
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float | None = Field(None, gt=0)  # None: TRL's default for the method (sft 2e-5, grpo 1e-6)
    lr_scheduler: str = "cosine"  # any transformers scheduler name (linear, cosine, constant, ...)
    warmup_steps: float = Field(0.05, ge=0)  # < 1: a share of steps_per_tier; else a number of steps
    weight_decay: float = Field(0.0, ge=0)
    replay_share: float = Field(0.3, ge=0, lt=1)  # SFT: of the tier's training rows, drawn from earlier tiers
    max_length: int = Field(512, ge=16)  # SFT: tokens per prompt + completion (longer ones are truncated)
    max_new_tokens: int = Field(32, ge=1)  # evaluation answers and GRPO completions
    num_generations: int = Field(8, ge=2)  # GRPO: completions sampled per prompt
    temperature: float = Field(1.0, gt=0)  # GRPO sampling temperature
    beta: float = Field(0.0, ge=0)  # GRPO: KL penalty against the tier's starting model (0: no reference model)
    eval_batch_size: int = Field(64, ge=1)  # held-out questions per greedy generation batch
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: cuda when present, else cpu
    # on a GPU: auto = float32 weights + bf16 autocast where the GPU has it; bfloat16 = bf16 weights too (half the
    # memory, but updates far below a weight's size round away); float16 = fp16 autocast. CPU: float32
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    gradient_checkpointing: bool = False  # trade compute for memory (large models on a GPU)
    threads: int = Field(0, ge=0)  # torch CPU threads; 0 = torch's default

    @property
    def trains(self) -> bool:
        return True

    @field_validator("method")
    @classmethod
    def known_method(cls, name: str) -> str:
        if name not in METHODS:
            raise ValueError(f"unknown method {name!r}; known: {', '.join(METHODS)}")
        return name

    @model_validator(mode="after")
    def whole_groups(self) -> HFConfig:
        if self.method == "grpo" and self.batch_size % self.num_generations:
            raise ValueError(
                f"grpo: batch_size ({self.batch_size}) must be a multiple of num_generations ({self.num_generations})"
            )
        return self
