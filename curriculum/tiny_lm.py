"""A tiny, randomly initialised Llama-style causal LM and its tokenizer, written to a folder.

What tests and first experiments need from a Hugging Face model without downloading one: the folder
loads with `AutoModelForCausalLM.from_pretrained` / `AutoTokenizer.from_pretrained` and trains in TRL.
The tokenizer is byte-level with no merges, so every digit, operator and bracket is its own token (no
number is split oddly), and any text encodes; role markers are special tokens and the chat template is
`<|role|>content<|end|>`, which keeps a prompt's tokens a prefix of prompt + completion (what
completion-only losses rely on). Needs the optional extra `.[trl]` (transformers, tokenizers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

ROLES = ("system", "user", "assistant")
EOS, PAD, BOS = "<|end|>", "<|pad|>", "<|begin|>"
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


@dataclass(frozen=True)
class TinyLMConfig:
    """Shape only; the defaults give ~90k parameters (a 262-token vocabulary): an SFT of a few dozen
    steps teaches it an answer format on one CPU core."""

    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 1024
    seed: int = 0

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")


def build_tokenizer():
    """A byte-level tokenizer without merges (every byte one token) plus the special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    byte_chars = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(byte_chars))}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], fuse_unk=False))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    specials = [PAD, BOS, EOS, *(f"<|{role}|>" for role in ROLES)]
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        chat_template=CHAT_TEMPLATE,
        model_max_length=1024,
    )
    tokenizer.add_special_tokens({"additional_special_tokens": specials[3:]})
    return tokenizer


def build_tiny_causal_lm(path: Path | str, config: TinyLMConfig | None = None) -> Path:
    """Write a random tiny Llama causal LM, its tokenizer and generation config to `path`; returns it."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = config or TinyLMConfig()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    ids = {name: tokenizer.convert_tokens_to_ids(name) for name in (BOS, EOS, PAD)}
    model_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_key_value_heads,
        max_position_embeddings=config.max_position_embeddings,
        bos_token_id=ids[BOS],
        eos_token_id=ids[EOS],
        pad_token_id=ids[PAD],
        tie_word_embeddings=True,
    )
    torch.manual_seed(config.seed)
    model = LlamaForCausalLM(model_config)
    model.generation_config = GenerationConfig(bos_token_id=ids[BOS], eos_token_id=ids[EOS], pad_token_id=ids[PAD])
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def init_model(
    path: Path | str, hidden_size: int = 64, layers: int = 2, heads: int = 4, seed: int = 0
) -> tuple[Path, int]:
    """`curriculum init-model`: a fresh tiny causal LM in a new or empty folder (never over another model);
    returns the folder and the parameter count."""
    from curriculum.errors import ModelError

    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ModelError(f"{path} already exists and is not an empty folder; choose a new one")
    if hidden_size % heads:
        raise ModelError(f"--hidden-size ({hidden_size}) must be a multiple of --heads ({heads})")
    config = TinyLMConfig(
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads // 2 if heads % 2 == 0 else heads,
        seed=seed,
    )
    import transformers
    from safetensors import safe_open

    transformers.utils.logging.disable_progress_bar()
    build_tiny_causal_lm(path, config)

    with safe_open(path / "model.safetensors", "pt") as weights:  # tied embeddings are stored once
        names = weights.keys()  # a safetensors file handle, not a dict
        parameters = sum(math.prod(weights.get_slice(name).get_shape()) for name in names)
    return path, parameters
