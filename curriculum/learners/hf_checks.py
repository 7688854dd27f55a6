"""Pre-flight of the hf learner: can this local model folder serve this run? One line when it cannot.

Run by a run's pre-flight (curriculum.runs.preflight) before anything is written, so a missing folder, a
checkpoint that is not a causal LM, a tokenizer that cannot encode the run's items, or TRL not installed
stops `curriculum run` with exit 2 and no catalogue. Reads only config and tokenizer files (never the
weights) and imports transformers only when called; nothing is downloaded (`local_files_only`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from curriculum.errors import MissingExtra, ModelError

WEIGHTS = ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json")
PROBE_LEVELS = (0, 1, 4)  # above each skill's start level: a few item shapes the run will show the model
PROBES_PER_LEVEL = 5


def require_trainers() -> None:
    """TRL, transformers and datasets import, or one line on how to install them."""
    try:
        import datasets  # noqa: F401
        import transformers  # noqa: F401
        import trl  # noqa: F401
    except ImportError as err:
        missing = getattr(err, "name", None) or "trl"
        raise MissingExtra(
            f"the hf learner needs TRL and transformers ({missing} is not installed): pip install -e '.[trl]'"
        ) from None


def check_model(run_config: Any) -> None:
    """The learner's `model` is a local causal LM whose tokenizer encodes the run's items; else ModelError."""
    cfg = run_config.learner
    path = Path(cfg.model)
    if not path.is_dir():
        raise ModelError(
            f"learner.model: no model folder at {path} (the hf learner reads a local folder and downloads nothing; "
            f"`curriculum init-model {path}` makes a small one)"
        )
    require_trainers()
    from curriculum.prompts import load_template

    template = load_template(cfg.prompt_template)
    vocab = causal_lm_vocab(path)
    tokenizer = load_tokenizer(path)
    if len(tokenizer) > vocab:
        raise ModelError(f"{path}: the tokenizer has {len(tokenizer)} tokens but the model embeds only {vocab}")
    check_encodes(
        tokenizer, path, [s.name for s in run_config.skills], [s.start_level for s in run_config.skills], template
    )


def causal_lm_vocab(path: Path) -> int:
    """The model's vocabulary size, once config.json says it is a causal LM with weights beside it."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if not (path / "config.json").is_file():
        raise ModelError(f"{path} is not a Hugging Face model folder (no config.json)")
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, KeyError) as err:
        raise ModelError(f"{path}: config.json does not load ({first_line(err)})") from None
    causal = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.get(config.model_type)
    names = {n for v in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values() for n in ((v,) if isinstance(v, str) else v)}
    architectures = list(getattr(config, "architectures", None) or [])
    if causal is None or (architectures and not set(architectures) & names):
        what = architectures[0] if architectures else config.model_type
        raise ModelError(
            f"{path} is not a causal language model ({what}); the hf learner needs an AutoModelForCausalLM"
        )
    if not any(next(path.glob(pattern), None) for pattern in WEIGHTS):
        raise ModelError(f"{path} has no weights (model.safetensors or pytorch_model.bin)")
    vocab = getattr(config, "vocab_size", None) or getattr(config.get_text_config(), "vocab_size", None)
    return int(vocab) if vocab else 2**62


def load_tokenizer(path: Path) -> Any:
    """The folder's tokenizer, which must have a chat template (prompts are chat messages, as in exports)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception as err:  # noqa: BLE001 - any failure to load is the same one line
        raise ModelError(f"{path}: the tokenizer does not load ({type(err).__name__}: {first_line(err)})") from None
    if not getattr(tokenizer, "chat_template", None):
        raise ModelError(
            f"{path}: the tokenizer has no chat template (instruct checkpoints ship one; `curriculum init-model` writes one)"
        )
    return tokenizer


def check_encodes(tokenizer: Any, path: Path, skills: list[str], starts: list[int], template: Any) -> None:
    """Sample items of each skill come back from encode -> decode with every character intact."""
    from curriculum.skills import get_skill

    texts = [("the prompt template", template.system or "")]
    for name, start in zip(skills, starts):
        skill = get_skill(name)
        rng = np.random.default_rng(0)
        for extra in PROBE_LEVELS:
            for _ in range(PROBES_PER_LEVEL):
                item = skill.generate(rng, start + extra)
                texts.append((f"a {name} item", item["question"]))
                texts.append((f"a {name} answer", template.completion(item["answer"])))
    unk = getattr(tokenizer, "unk_token_id", None)
    for what, text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False)
        back = tokenizer.decode(ids, skip_special_tokens=False)
        if (unk is not None and unk in ids) or "".join(back.split()) != "".join(text.split()):
            raise ModelError(f"{path}: the tokenizer cannot encode {what}: {text[:50]!r} comes back as {back[:50]!r}")


def first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:160] if text else type(err).__name__
