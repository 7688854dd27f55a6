"""A local Hugging Face causal LM as a run's learner: trained on each tier by TRL, evaluated by generation.

`sft` runs TRL's SFTTrainer on the tier's training items plus replay of earlier tiers, as prompt-completion
rows in the exports' prompt template (curriculum.export.trainer_records), so the loss covers the answer
only. `grpo` runs GRPOTrainer on the tier's training prompts with the skills' verifiers as the reward
(curriculum.rewards), and keeps what each item's completions earned. Held-out items are answered by batched
greedy generation, read by curriculum.extraction and judged by the verifiers, with latency and token counts
kept per item like the OpenAI learner's.

Each trained tier leaves a checkpoint in Hugging Face format, RUN_DIR/checkpoints/tier-N, and
RUN_DIR/checkpoints/state.json lists the tiers trained (written only after the checkpoint is in place), so a
redone step never trains a tier twice and the next tier starts from the last checkpoint. Each tier gets a
fresh optimizer. Nothing is downloaded: the model is a local folder (curriculum.learners.hf_checks checks it
before a run writes anything). Out of memory while training raises OutOfMemory before anything is recorded:
the tier stays validated and `curriculum run --resume --batch-size N` carries on.

This module (torch, transformers) is imported only when a learner is made (curriculum.learners.LEARNERS);
TRL and datasets only when a tier trains.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import torch
import transformers
from tqdm import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, TrainerCallback

from curriculum import seeds
from curriculum.errors import OutOfMemory
from curriculum.export import trainer_records
from curriculum.extraction import extract_answer
from curriculum.learners.hf_config import HFConfig
from curriculum.learners.openai_chat import AnswerRecord
from curriculum.prompts import load_template

log = logging.getLogger(__name__)
DEFAULT_LEARNING_RATE = {"sft": 2e-5, "grpo": 1e-6}  # SFTConfig's and GRPOConfig's own defaults
GRPO_COLUMNS = ("prompt", "skill", "answer", "question", "item_id", "level", "extra_info")


def pick_device(want: str) -> str:
    return ("cuda" if torch.cuda.is_available() else "cpu") if want == "auto" else want


def load_dtype(config: HFConfig, device: str) -> torch.dtype:
    """The weights' dtype: float32 (master weights) unless bfloat16 is asked for on a GPU."""
    return torch.bfloat16 if device != "cpu" and config.dtype == "bfloat16" else torch.float32


def autocast_dtype(config: HFConfig, device: str) -> str | None:
    """Mixed precision on a GPU: bf16 where it has it (auto, bfloat16), fp16 when asked; none on CPU."""
    if device == "cpu" or config.dtype == "float32":
        return None
    if config.dtype == "float16":
        return "fp16"
    return "bf16" if config.dtype == "bfloat16" or torch.cuda.is_bf16_supported() else None


def is_out_of_memory(err: BaseException) -> bool:
    """CUDA's OutOfMemoryError, or the CPU allocator's RuntimeError when the machine has no memory left."""
    if isinstance(err, torch.OutOfMemoryError):
        return True
    text = str(err).lower()
    return isinstance(err, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


class HFLearner:
    """A local causal LM trained by TRL between tiers; a checkpoint per tier under WORKDIR/checkpoints."""

    def __init__(self, config: HFConfig | dict[str, Any], workdir: Path | str | None = None, seed: int = 0) -> None:
        self.config = HFConfig.model_validate(config)
        self.workdir = None if workdir is None else Path(workdir)
        self.seed = seed
        self.template = load_template(self.config.prompt_template)
        self.device = pick_device(self.config.device)
        if self.config.threads:
            torch.set_num_threads(self.config.threads)
        self._loaded: tuple[Any, Any] | None = None
        transformers.utils.logging.disable_progress_bar()  # loading and saving bars; training has its own

    # -- checkpoints ----------------------------------------------------------------------------------

    @property
    def checkpoints(self) -> Path:
        assert self.workdir is not None, "the hf learner needs a run directory"
        return self.workdir / "checkpoints"

    def state(self) -> dict[str, Any]:
        """{"trained": {tag: stats}, "latest": tag}: what checkpoints/state.json records."""
        path = None if self.workdir is None else self.checkpoints / "state.json"
        return json.loads(path.read_text()) if path is not None and path.is_file() else {"trained": {}, "latest": None}

    def current_model(self) -> Path:
        """The last tier's checkpoint, or the configured model before any tier was trained."""
        latest = self.state().get("latest")
        return self.checkpoints / latest if latest else Path(self.config.model)

    def _record(self, tag: str, stats: dict[str, Any]) -> None:
        state = self.state()
        state = {"trained": {**state["trained"], tag: stats}, "latest": tag}
        tmp = self.checkpoints / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, self.checkpoints / "state.json")

    def _save(self, trainer: Any, tokenizer: Any, tag: str) -> Path:
        """The trained model and its tokenizer in HF format, moved into place in one rename."""
        final = self.checkpoints / tag
        tmp = self.checkpoints / f"{tag}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        trainer.save_model(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        (tmp / "training_args.bin").unlink(missing_ok=True)
        if final.exists():  # a checkpoint left by a crash before state.json recorded it
            shutil.rmtree(final)
        os.replace(tmp, final)
        return final

    def load(self) -> tuple[Any, Any]:
        """(model, tokenizer) of the current checkpoint on the learner's device."""
        if self._loaded is None:
            path = self.current_model()
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            model = AutoModelForCausalLM.from_pretrained(
                path, local_files_only=True, dtype=load_dtype(self.config, self.device)
            ).to(self.device)
            self._loaded = (model, tokenizer)
        return self._loaded

    # -- training -------------------------------------------------------------------------------------

    def train(
        self,
        items: pl.DataFrame,
        replay: pl.DataFrame | None = None,
        on_progress: Callable[[float], None] | None = None,
        tag: str | None = None,
    ) -> dict[str, Any]:
        """Train on the tier with the configured method; a tag already trained returns its stats instead."""
        tag = tag or "train"
        done = self.state()["trained"]
        if tag in done:
            return done[tag]
        cfg = self.config
        fresh = items.filter(pl.col("split") == "train")
        if fresh.height == 0:
            raise ValueError("no train items in this tier")
        old = replay.filter(pl.col("split") == "train") if replay is not None else None
        old = self._replay_sample(old, fresh.height, tag) if cfg.method == "sft" else None
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        model, tokenizer = self.load()
        before = str(self.current_model())
        started = time.perf_counter()
        scores: list[Any] = []
        trainer = self._trainer(model, tokenizer, fresh, old, tag, scores.extend)
        progress = ProgressBar(on_progress, f"train {tag}")
        trainer.add_callback(progress)
        try:
            trainer.train()
        except BaseException as err:
            if not is_out_of_memory(err):
                raise
            self._loaded = None
            del trainer, model
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            raise OutOfMemory(
                f"out of memory training {tag} with batch_size {cfg.batch_size} on {self.device} "
                f"({str(err).strip().splitlines()[0][:120] if str(err).strip() else type(err).__name__}); "
                f"carry on with a smaller batch: curriculum run --resume --batch-size {max(1, cfg.batch_size // 2)}"
            ) from None
        shutil.rmtree(self.checkpoints / f"{tag}.trainer", ignore_errors=True)
        path = self._save(trainer, tokenizer, tag)
        losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        stats = {
            "method": cfg.method,
            "steps": trainer.state.global_step,
            "batch_size": cfg.batch_size,
            "train_items": fresh.height,
            "replay_items": old.height if old is not None else 0,
            "final_loss": losses[-1] if losses else None,
            "seconds": round(time.perf_counter() - started, 3),
            "parameters": sum(p.numel() for p in model.parameters()),
            "device": self.device,
            "model_before": before,
            "checkpoint": str(path),
        }
        if cfg.method == "grpo":
            stats |= self._write_rewards(scores, tag)
        self._record(tag, stats)
        if on_progress:
            on_progress(1.0)
        return stats

    def _replay_sample(self, old: pl.DataFrame | None, n_fresh: int, tag: str) -> pl.DataFrame | None:
        """Earlier tiers' training items, replay_share of the rows SFT sees (a seeded draw per tier)."""
        share = self.config.replay_share
        if old is None or old.height == 0 or share == 0:
            return None
        n = min(old.height, round(n_fresh * share / (1 - share)))
        return old.sample(n, seed=seeds.derive(self.seed, "hf-replay", tag) % 2**32, shuffle=True) if n else None

    def _args(self, tag: str) -> dict[str, Any]:
        """TrainingArguments shared by both trainers."""
        cfg = self.config
        mixed = autocast_dtype(cfg, self.device)
        return {
            "output_dir": str(self.checkpoints / f"{tag}.trainer"),  # nothing is saved there (save_strategy no)
            "per_device_train_batch_size": cfg.batch_size,
            "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
            "max_steps": cfg.steps_per_tier,
            "learning_rate": cfg.learning_rate or DEFAULT_LEARNING_RATE[cfg.method],
            "lr_scheduler_type": cfg.lr_scheduler,
            "warmup_steps": cfg.warmup_steps,
            "weight_decay": cfg.weight_decay,
            "logging_steps": max(1, cfg.steps_per_tier // 20),
            "save_strategy": "no",
            "report_to": "none",
            "disable_tqdm": True,  # the learner draws its own bar (ProgressBar)
            "dataloader_num_workers": 0,
            "seed": seeds.derive(self.seed, "hf-train", tag) % 2**31,
            "use_cpu": self.device == "cpu",
            "bf16": mixed == "bf16",
            "fp16": mixed == "fp16",
            "activation_checkpointing": cfg.gradient_checkpointing,  # transformers' new name for it
        }

    def _trainer(
        self,
        model: Any,
        tokenizer: Any,
        fresh: pl.DataFrame,
        old: pl.DataFrame | None,
        tag: str,
        on_scores: Callable[[list[Any]], None],
    ) -> Any:
        import datasets
        from datasets import Dataset

        datasets.disable_progress_bars()  # one bar per tier: the learner's own
        cfg = self.config
        if cfg.method == "sft":
            from trl import SFTConfig, SFTTrainer

            rows = pl.concat([fresh, old], how="diagonal_relaxed") if old is not None else fresh
            records = [
                {"prompt": r["prompt"], "completion": r["completion"]}
                for r in trainer_records(rows, template=self.template)
            ]
            args = SFTConfig(**self._args(tag), max_length=cfg.max_length, completion_only_loss=True)
            trainer = SFTTrainer(
                model=model, args=args, train_dataset=Dataset.from_list(records), processing_class=tokenizer
            )
        else:
            from trl import GRPOConfig, GRPOTrainer

            from curriculum.rewards import trl_reward

            records = [{k: r[k] for k in GRPO_COLUMNS} for r in trainer_records(fresh, template=self.template)]
            dataset = Dataset.from_list(records)
            args = GRPOConfig(
                **self._args(tag),
                num_generations=cfg.num_generations,
                max_completion_length=cfg.max_new_tokens,
                temperature=cfg.temperature,
                beta=cfg.beta,
            )
            trainer = GRPOTrainer(
                model=model,
                reward_funcs=trl_reward(dataset, on_scores=on_scores),
                args=args,
                train_dataset=dataset,
                processing_class=tokenizer,
            )
        trainer.remove_callback(PrinterCallback)  # no dict of metrics printed per logging step
        return trainer

    def _write_rewards(self, scores: list[Any], tag: str) -> dict[str, Any]:
        """What each item's GRPO completions earned, as RUN_DIR/rewards/<tag>.parquet, plus the totals."""
        frame = pl.DataFrame(
            [
                {"item_id": s.item_id, "skill": s.skill, "level": s.level, "reward": s.reward, "outcome": s.outcome}
                for s in scores
            ],
            schema={
                "item_id": pl.String,
                "skill": pl.String,
                "level": pl.Int64,
                "reward": pl.Float64,
                "outcome": pl.String,
            },
        )
        per_item = (
            frame.group_by("item_id", "skill", "level")
            .agg(
                pl.len().alias("completions"),
                (pl.col("outcome") == "correct").sum().alias("correct"),
                (pl.col("outcome") == "no_answer").sum().alias("no_answer"),
                pl.col("reward").mean().alias("mean_reward"),
            )
            .sort("skill", "level", "item_id")
        )
        out = self.workdir / "rewards" / f"{tag}.parquet"  # type: ignore[operator]
        out.parent.mkdir(parents=True, exist_ok=True)
        per_item.write_parquet(out.with_suffix(".parquet.tmp"))
        os.replace(out.with_suffix(".parquet.tmp"), out)
        n = frame.height
        correct = int((frame["outcome"] == "correct").sum())
        return {
            "rewards_file": str(out),
            "completions": n,
            "correct": correct,
            "no_answer": int((frame["outcome"] == "no_answer").sum()),
            "reward_mean": round(correct / n, 4) if n else None,
            "rewarded_items": per_item.height,
        }

    # -- evaluation -----------------------------------------------------------------------------------

    def answer(self, questions: list[str]) -> list[str]:
        """The extracted answer to each question ("" when there is none)."""
        return [r.prediction or "" for r in self.answer_records(questions)]

    @torch.no_grad()
    def answer_records(self, questions: list[str]) -> list[AnswerRecord]:
        """Greedy answers, batched by prompt length; each record's latency is its batch's wall time."""
        questions = list(questions)
        if not questions:
            return []
        model, tokenizer = self.load()
        model.eval()
        tokenizer.padding_side = "left"
        prompts = [
            tokenizer.apply_chat_template(self.template.messages(q), add_generation_prompt=True, tokenize=False)
            for q in questions
        ]
        encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        order = sorted(range(len(questions)), key=lambda i: len(encoded[i]))
        eos = model.generation_config.eos_token_id or tokenizer.eos_token_id
        eos = set(eos if isinstance(eos, list) else [eos])
        records: list[AnswerRecord | None] = [None] * len(questions)
        size, start = self.config.eval_batch_size, 0
        while start < len(order):
            chunk = order[start : start + size]
            try:
                rows, seconds = self._generate(model, tokenizer, [encoded[i] for i in chunk])
            except BaseException as err:  # out of memory: the same questions in smaller batches
                if not is_out_of_memory(err) or size == 1:
                    raise
                size = max(1, size // 2)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            for i, row in zip(chunk, rows):
                end = next((k + 1 for k, t in enumerate(row) if t in eos), len(row))
                text = tokenizer.decode(row[:end], skip_special_tokens=True)
                records[i] = AnswerRecord(
                    extract_answer(text), text, round(1000 * seconds, 3), len(encoded[i]), end, None
                )
            start += len(chunk)
        log.info("%s answered %d questions", self.current_model(), len(questions))
        return records  # type: ignore[return-value]

    def _generate(self, model: Any, tokenizer: Any, ids: list[list[int]]) -> tuple[list[list[int]], float]:
        """Greedy completions (token ids after the prompt) of left-padded prompts, and the batch's seconds."""
        batch = tokenizer.pad({"input_ids": ids}, padding=True, return_tensors="pt").to(self.device)
        started = time.perf_counter()
        out = model.generate(
            **batch,
            max_new_tokens=self.config.max_new_tokens,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=tokenizer.pad_token_id,
        )
        seconds = time.perf_counter() - started
        return out[:, batch["input_ids"].shape[1] :].tolist(), seconds


class ProgressBar(TrainerCallback):
    """A tqdm bar in the terminal while a tier trains, and on_progress(fraction) for the flow's artifact."""

    def __init__(self, on_progress: Callable[[float], None] | None, desc: str, every: float = 0.02) -> None:
        self.on_progress, self.desc, self.every = on_progress, desc, every
        self.bar: Any = None
        self.reported = 0.0

    def on_train_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        self.bar = tqdm(total=state.max_steps, desc=self.desc, unit="step", leave=False, disable=None)

    def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        self.bar.update(state.global_step - self.bar.n)
        fraction = state.global_step / max(1, state.max_steps)
        if self.on_progress and fraction - self.reported >= self.every:
            self.reported = fraction
            self.on_progress(fraction)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **_: Any) -> None:
        if logs and "loss" in logs and self.bar is not None:
            self.bar.set_postfix(loss=f"{logs['loss']:.3f}")

    def on_train_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        if self.bar is not None:
            self.bar.close()
