"""A small decoder-only transformer (nanoGPT-shaped) that learns question -> answer.

An item is read as its question's tokens, a space, then the answer char by char and an end mark; the loss
covers only the answer and its end mark. Prompts are read as words by default (each run of letters is one
hashed token, every other char one token; spaces beside a word carry nothing and are dropped), so a logic
question of 200 chars is about 50 tokens; `word_buckets: 0` reads them char by char. Answers are always spelt in
chars. The last `answer_room` positions of the block are kept for the answer, in training and in answering alike:
a longer prompt loses its start, the same way in both, so what the model answers from is what it learnt from.
Evaluation is greedy decoding with exact match, batched by prompt length.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from curriculum.seeds import batch_seed

PAD, EOS = 0, 1
LENGTH_GROUPS = 2  # a training batch runs as this many groups of similar length (see LocalLearner._backward)
_CHARS = [chr(c) for c in range(32, 127)]
STOI = {ch: i + 2 for i, ch in enumerate(_CHARS)}
ITOS = {i: ch for ch, i in STOI.items()} | {EOS: "\n"}
VOCAB_SIZE = len(_CHARS) + 2
UNKNOWN = STOI["?"]
SPACE = STOI[" "]
_PIECES = re.compile(r"[A-Za-z]+|\s|.", re.S)  # words, whitespace, any other single char


def encode(text: str) -> list[int]:
    return [STOI.get(ch, UNKNOWN) for ch in text]


def decode(ids: list[int]) -> str:
    return "".join(ITOS.get(i, "?") for i in ids)


@functools.lru_cache(maxsize=1 << 16)
def word_id(word: str, buckets: int) -> int:
    """The token of a word (or of a char outside printable ASCII): one of `buckets` ids after the chars, by a
    stable hash (the same in every process and on every machine)."""
    digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
    return VOCAB_SIZE + int.from_bytes(digest, "little") % buckets


def encode_words(text: str, buckets: int) -> list[int]:
    """`text` as word tokens: each run of ASCII letters one hashed token, digits and signs one char each; a space
    next to a word is dropped (the word's token already ends there), other spaces kept ("12 34" is not "1234")."""
    pieces = _PIECES.findall(text)
    out = []
    for i, piece in enumerate(pieces):
        if piece.isspace():
            beside_word = (i > 0 and pieces[i - 1].isalpha()) or (i + 1 < len(pieces) and pieces[i + 1].isalpha())
            if not beside_word:
                out.append(SPACE)
        elif piece in STOI and not piece.isalpha():
            out.append(STOI[piece])
        else:
            out.append(word_id(piece, buckets))
    return out


@dataclass(frozen=True)
class TinyGPTConfig:
    vocab_size: int = VOCAB_SIZE  # the chars it writes
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    word_buckets: int = 0  # hashed word tokens it reads besides the chars; 0: prompts are read char by char
    answer_room: int = 0  # last positions of the block kept for the answer; 0: min(32, block_size // 2)
    match_head: bool = False  # see MatchHead; False: a checkpoint from before it

    def __post_init__(self) -> None:
        if not self.answer_room:
            object.__setattr__(self, "answer_room", min(32, self.block_size // 2))
        assert 1 <= self.answer_room < self.block_size

    def prompts_cut(self, items: pl.DataFrame, sample: int = 64) -> dict[str, float]:
        """Per skill and level ("syllogism L2"), the share of prompts (of the first `sample`) longer than the
        prompt room, whose first tokens the model never sees; only those with any."""
        keys = [c for c in ("skill", "level") if c in items.columns]
        groups = items.group_by(keys, maintain_order=True) if keys else [((), items)]
        out = {}
        for key, group in groups:
            lengths = [len(read_tokens(q, self.word_buckets)) for q in group["question"].head(sample)]
            share = sum(n > self.prompt_room for n in lengths) / max(1, len(lengths))
            if share > 0:
                out[" L".join(map(str, key)) or "all"] = round(share, 2)
        return dict(sorted(out.items()))

    @property
    def prompt_room(self) -> int:
        """A question's tokens the model reads at most (the block less the answer room and the space)."""
        return self.block_size - self.answer_room - 1

    def prompt(self, question: str) -> list[int]:
        """The tokens the model reads for a question: its last prompt_room tokens, then a space."""
        return list(_prompt(question, self.word_buckets, self.prompt_room))


def read_tokens(question: str, buckets: int) -> list[int]:
    """A question's tokens, before any cut: words when the model has word buckets, else chars."""
    return encode_words(question, buckets) if buckets else encode(question)


@functools.lru_cache(maxsize=1 << 16)
def _prompt(question: str, buckets: int, keep: int) -> tuple[int, ...]:
    """TinyGPTConfig.prompt, remembered: every tier trains on its replay items again, and reading them anew took
    about as long as a tenth of the training steps."""
    ids = read_tokens(question, buckets)
    return (*(ids[-keep:] if keep > 0 else ()), SPACE)  # keep 0: an answer room of the whole block but one


class SelfAttention(nn.Module):
    def __init__(self, cfg: TinyGPTConfig) -> None:
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MatchHead(nn.Module):
    """Each position looks back at the earlier positions holding the same token and reads where they stand.

    Whether two tokens are the same (is this variable the one before? which premise names this term again?) is
    what logic items turn on, and the model's own attention does not learn it in a few hundred steps: trained on
    sat_count's level 1, it stayed at 0.71 on its own training items, failing exactly where a formula uses one
    variable twice, and reached 1.00 with this head. Its scores are the cosine of the token embeddings themselves,
    not of learnt projections, so identity is there from the first step; a null slot lets a token without an
    earlier twin read little. What it reads (a learnt view of the twins' positions) is learnt."""

    sharpness = 16.0  # a twin scores 16, two random embeddings of 64 dims about +-2, the null slot half of 16

    def __init__(self, cfg: TinyGPTConfig) -> None:
        super().__init__()
        self.value = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)

    def weights(self, tok: torch.Tensor) -> torch.Tensor:
        """(B, T, T): how much each position reads of each earlier one (the null slot takes the rest)."""
        B, T, _ = tok.shape
        unit = F.normalize(tok.detach(), dim=-1)  # identity only: the scores do not train the embeddings
        scores = unit @ unit.transpose(1, 2) * self.sharpness
        earlier = torch.ones(T, T, dtype=torch.bool, device=tok.device).tril(-1)
        scores = scores.masked_fill(~earlier, float("-inf"))
        null = scores.new_full((B, T, 1), self.sharpness / 2)  # above any non-twin: cosine 0.5
        scores = torch.cat([scores, null], dim=2)
        return scores.softmax(-1)[..., :T]

    def forward(self, tok: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """tok: (B, T, C) token embeddings; pos: (T, C) position embeddings."""
        return self.proj(self.weights(tok) @ self.value(pos))


class Block(nn.Module):
    def __init__(self, cfg: TinyGPTConfig) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.n_embd), nn.LayerNorm(cfg.n_embd)
        self.attn = SelfAttention(cfg)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(), nn.Linear(4 * cfg.n_embd, cfg.n_embd)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, cfg: TinyGPTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size + cfg.word_buckets, cfg.n_embd)
        self.pos = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.match = MatchHead(cfg) if cfg.match_head else None
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        B, T = idx.shape  # (B, T) token ids
        tok, pos = self.tok(idx), self.pos(torch.arange(T, device=idx.device))
        x = tok + pos if self.match is None else tok + pos + self.match(tok, pos)
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))  # (B, T, vocab): chars only, the model never writes a word token
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def lr_at(step: int, total: int, base: float) -> float:
    """Linear warmup over 5% of the tier's steps, then cosine decay to 10% of base."""
    warmup = max(1, total // 20)
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def make_batch(prompts: list[list[int]], answers: list[list[int]], block: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (B, T) inputs and targets; targets are -1 except on answer chars and EOS."""
    seqs, starts = [], []
    for p, a in zip(prompts, answers):
        keep = max(0, len(p) + len(a) + 1 - (block + 1))
        p = p[keep:]  # drop the oldest prompt chars when the item does not fit
        seqs.append(p + a + [EOS])
        starts.append(len(p))
    T = min(block + 1, max(len(s) for s in seqs))
    x = torch.full((len(seqs), T - 1), PAD, dtype=torch.long)
    y = torch.full((len(seqs), T - 1), -1, dtype=torch.long)
    for i, (s, start) in enumerate(zip(seqs, starts)):
        s = s[:T]
        x[i, : len(s) - 1] = torch.tensor(s[:-1])
        y[i, start - 1 : len(s) - 1] = torch.tensor(s[start:])
    return x, y


def prompt_of(question: str) -> list[int]:
    """A question read char by char, then the space before its answer (no block limit)."""
    return encode(question + " ")


def model_args(model: Any) -> TinyGPTConfig:
    """The network a learner config's `model:` section describes."""
    return TinyGPTConfig(**(model.model_dump() | {"answer_room": model.answer_room or 0}))


class LocalLearner:
    """The built-in learner: a TinyGPT trained across tiers, checkpointed after each tier."""

    def __init__(self, config: Any, workdir: Path, seed: int) -> None:
        self.config = config
        self.path = Path(workdir) / "learner.pt"
        self.seed = seed
        if config.threads:
            torch.set_num_threads(config.threads)
        want = config.device
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if want == "auto" else want
        self.steps_done = 0
        self.trained: dict[str, dict[str, Any]] = {}  # tag -> stats of each training call already done
        self._build(model_args(config.model))
        if self.path.exists():
            self._load()

    def _build(self, model_cfg: TinyGPTConfig) -> None:
        self.model_cfg = model_cfg
        torch.manual_seed(self.seed)
        self.model = TinyGPT(model_cfg).to(self.device)
        # fused: one kernel for every parameter's update, not a dozen small ops each (about 0.9x a step on 2 cores)
        self.opt = torch.optim.AdamW(
            self.model.parameters(), lr=self.config.learning_rate, weight_decay=0.01, fused=True
        )

    def _load(self) -> None:
        ckpt = torch.load(self.path, map_location=self.device, weights_only=False)
        saved = TinyGPTConfig(**ckpt["model_args"])  # a checkpoint from before word tokens reads chars
        if saved != self.model_cfg:
            self._build(saved)
        self.model.load_state_dict(ckpt["model"])
        self.opt.load_state_dict(ckpt["optimizer"])
        self.steps_done = ckpt["steps_done"]
        self.trained = ckpt.get("trained", {})

    def save(self) -> None:
        """Checkpoint weights, optimizer, model args and step; written to a temp file, then renamed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "model_args": asdict(self.model_cfg),
            "steps_done": self.steps_done,
            "trained": self.trained,
            "config": self.config.model_dump(mode="json"),
        }
        try:
            torch.save(state, tmp)
            tmp.replace(self.path)
        except (OSError, RuntimeError) as err:  # torch reports a full disk as a RuntimeError
            tmp.unlink(missing_ok=True)
            from curriculum.errors import DataDirError

            reason = getattr(err, "strerror", None) or str(err).splitlines()[0][:120]
            raise DataDirError(
                f"cannot write {self.path}: {reason}; free space, then `curriculum run --resume`"
            ) from None

    def train(
        self,
        items: pl.DataFrame,
        replay: pl.DataFrame | None = None,
        on_progress: Callable[[float], None] | None = None,
        tag: str | None = None,
    ) -> dict[str, Any]:
        """Train for steps_per_tier steps; with a tag already in the checkpoint, return its stats instead."""
        if tag is not None and tag in self.trained:
            return self.trained[tag]
        cfg = self.config
        fresh = items.filter(pl.col("split") == "train")
        old = replay.filter(pl.col("split") == "train") if replay is not None else None
        if fresh.height == 0:
            raise ValueError("no train items in this tier")
        room = self.model_cfg.answer_room  # an answer longer than the room is cut there: it is never answered right

        def encode_all(f: pl.DataFrame) -> tuple[list[list[int]], list[list[int]]]:
            return [self.model_cfg.prompt(q) for q in f["question"]], [encode(a)[:room] for a in f["answer"]]

        fp, fa = encode_all(fresh)
        op, oa = encode_all(old) if old is not None and old.height else ([], [])
        rng = np.random.default_rng(batch_seed(self.seed, self.steps_done))
        n_old = int(round(cfg.batch_size * cfg.replay_share)) if op else 0
        started, losses = time.perf_counter(), []
        self.model.train()
        total = cfg.steps_per_tier
        bar = tqdm(range(total), desc="train", unit="step", leave=False, disable=None)
        for step in bar:
            for g in self.opt.param_groups:
                g["lr"] = lr_at(step, total, cfg.learning_rate)
            idx_new = rng.integers(0, len(fp), cfg.batch_size - n_old)
            idx_old = rng.integers(0, len(op), n_old) if n_old else []
            self.opt.zero_grad(set_to_none=True)
            loss = self._backward(
                [fp[i] for i in idx_new] + [op[i] for i in idx_old],
                [fa[i] for i in idx_new] + [oa[i] for i in idx_old],
            )
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.opt.step()
            losses.append(loss)
            if step % 25 == 0:
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
                if on_progress:
                    on_progress(step / total)
        bar.close()
        self.steps_done += total
        tail = losses[-max(1, total // 10) :]
        stats = {
            "steps": total,
            "steps_done": self.steps_done,
            "train_items": fresh.height,
            "replay_items": old.height if old is not None else 0,
            "final_loss": float(np.mean(tail)),
            "seconds": time.perf_counter() - started,
            "parameters": self.model.n_params(),
            "prompts_cut": self.model_cfg.prompts_cut(fresh),
        }
        if tag is not None:
            self.trained[tag] = stats
        self.save()
        if on_progress:
            on_progress(1.0)
        return stats

    def _backward(self, prompts: list[list[int]], answers: list[list[int]]) -> float:
        """Gradients of one batch's loss (mean over its answer tokens), computed in `LENGTH_GROUPS` groups of
        similar length: a short comparison item is not padded to a long syllogism's length. The same loss and
        gradients as one padded batch (up to float rounding), in three quarters of the time on a mixed tier."""
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]) + len(answers[i]))
        groups = [g for g in np.array_split(np.array(order), LENGTH_GROUPS) if len(g)]
        batches = [
            make_batch([prompts[i] for i in g], [answers[i] for i in g], self.model_cfg.block_size) for g in groups
        ]
        targets = sum(int((y >= 0).sum()) for _, y in batches)
        total = 0.0
        for x, y in batches:
            logits, _ = self.model(x.to(self.device))
            y = y.to(self.device)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1), ignore_index=-1, reduction="sum")
            (loss / targets).backward()
            total += loss.item()
        return total / targets

    @torch.no_grad()
    def answer(self, questions: list[str], max_new: int = 32) -> list[str]:
        """Greedy decoding until EOS (at most the answer room), batched by prompt length (no padding inside a
        batch); prompts are cut as in training, so the whole answer fits in the block beside them."""
        self.model.eval()
        block = self.model_cfg.block_size
        max_new = min(max_new, self.model_cfg.answer_room) + 1  # the answer's chars, then the end mark
        out: list[str] = [""] * len(questions)
        groups: dict[int, list[int]] = {}
        prompts = [self.model_cfg.prompt(q) for q in questions]
        for i, p in enumerate(prompts):
            groups.setdefault(len(p), []).append(i)
        for members in groups.values():
            for start in range(0, len(members), 512):
                chunk = members[start : start + 512]
                idx = torch.tensor([prompts[i] for i in chunk], device=self.device)
                done = torch.zeros(len(chunk), dtype=torch.bool, device=self.device)
                generated = []
                for _ in range(max_new):
                    logits, _ = self.model(idx[:, -block:])
                    nxt = logits[:, -1, :].argmax(-1)
                    nxt = torch.where(done, torch.full_like(nxt, EOS), nxt)
                    generated.append(nxt)
                    done |= nxt == EOS
                    if bool(done.all()):
                        break
                    idx = torch.cat([idx, nxt[:, None]], dim=1)
                gen = torch.stack(generated, dim=1).tolist()
                for i, row in zip(chunk, gen):
                    row = row[: row.index(EOS)] if EOS in row else row
                    out[i] = decode([t for t in row if t > EOS])
        return out
