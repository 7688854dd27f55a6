"""Training a remote model between tiers: a user command (e.g. a TRL script), or the endpoint's
fine-tuning API (files + fine_tuning.jobs), both fed the tier's training items as chat JSONL.

Either may name a new model to evaluate from then on: the command by writing it to the file named by
$CURRICULUM_MODEL_OUT, the fine-tuning job by its `fine_tuned_model`. The name is untrusted text: one
line, bounded, no control characters. Failures are one line (TrainingFailed, exit 1), raised before
the tier is marked trained, so `curriculum run --resume` runs the step again.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from curriculum.errors import CurriculumError

MODEL_NAME = re.compile(r"^[\w.:/@+-]{1,200}$")
TERMINAL = ("succeeded", "failed", "cancelled")


class TrainingFailed(CurriculumError):
    """A training command or fine-tuning job between tiers did not succeed."""

    exit_code = 1


def _model_name(text: str, source: str) -> str:
    name = text.strip()
    if not MODEL_NAME.fullmatch(name):
        raise TrainingFailed(f"{source} named no usable model ({name[:60]!r}); expected one line like ft:base:suffix")
    return name


def run_train_command(command: str, train_file: Path, model: str, tier: str, workdir: Path) -> str:
    """Run `command` in a shell with the tier's training file in its environment; the model to evaluate next."""
    model_out = workdir / f"{tier}.model"
    model_out.unlink(missing_ok=True)
    env = os.environ | {
        "CURRICULUM_TRAIN_FILE": str(train_file.resolve()),
        "CURRICULUM_MODEL": model,
        "CURRICULUM_TIER": tier,
        "CURRICULUM_MODEL_OUT": str(model_out.resolve()),
    }
    done = subprocess.run(command, shell=True, env=env, capture_output=True, text=True, cwd=workdir)
    (workdir / f"{tier}.train.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1][:200]
        raise TrainingFailed(f"train_command exited with {done.returncode} on {tier}: {last}")
    if model_out.is_file() and model_out.read_text().strip():
        return _model_name(model_out.read_text(), "train_command")
    return model


def fine_tune(config: Any, train_file: Path, model: str, seed: int) -> str:
    """Upload the file, create a fine-tuning job on `model`, wait for it; the fine-tuned model's name."""
    import openai

    client = openai.OpenAI(
        base_url=config.base_url,
        api_key=os.environ.get(config.api_key_env) or "no-key-set",
        timeout=config.timeout_s,
        max_retries=config.max_retries,
    )
    where = config.base_url
    try:
        with train_file.open("rb") as fh:
            uploaded = client.files.create(file=fh, purpose="fine-tune")
        job = client.fine_tuning.jobs.create(model=model, training_file=uploaded.id, seed=seed)
        deadline = time.monotonic() + config.fine_tune_timeout_s
        while job.status not in TERMINAL:
            if time.monotonic() > deadline:
                raise TrainingFailed(
                    f"fine-tuning job {job.id} still {job.status} after {config.fine_tune_timeout_s:g} s"
                )
            time.sleep(config.fine_tune_poll_s)
            job = client.fine_tuning.jobs.retrieve(job.id)
    except openai.NotFoundError:
        raise TrainingFailed(f"{where} offers no fine-tuning API (404); use train_command instead") from None
    except openai.AuthenticationError:
        raise TrainingFailed(f"{where} rejected the API key from ${config.api_key_env} (401)") from None
    except openai.APIConnectionError:
        raise TrainingFailed(f"no answer from {where} while fine-tuning") from None
    except openai.APIStatusError as err:
        raise TrainingFailed(f"fine-tuning at {where} failed with HTTP {err.status_code}") from None
    if job.status != "succeeded":
        message = getattr(job.error, "message", None) or "no reason given"
        raise TrainingFailed(f"fine-tuning job {job.id} {job.status}: {str(message)[:200]}")
    return _model_name(job.fine_tuned_model or "", f"fine-tuning job {job.id}")
