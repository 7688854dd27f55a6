"""Reward throughput and worst-case cost: curriculum.rewards against reasoning-gym's score_answer.

Times are CPU seconds of this process (`time.process_time`), so other load on the machine does not
count against either side. Both sides score the same kind of completions end to end (a reasoning paragraph, then a final answer
that is right half the time, wrong 40% and missing 10%), in one process, side by side:

- curriculum: the TRL reward (`trl_reward`), batches of 1024: extraction (boxed / Answer: / last line)
  and the skill's verifier;
- reasoning-gym: its own `extract_answer` (`<answer>...</answer>`) and the dataset's `score_answer`.

Also the worst single-completion time over 100 kB adversarial completions, for every skill.
reasoning-gym is not a project dependency: install it somewhere else and point PYTHONPATH here, e.g.

    python3.11 -m venv /tmp/rg && /tmp/rg/bin/pip install reasoning-gym==0.1.25 numpy pydantic polars pyyaml
    PYTHONPATH=. /tmp/rg/bin/python benchmarks/rewards.py            # --n 100000 by default

Without it the curriculum side is measured alone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from curriculum.generate import generate_items
from curriculum.rewards import score_completions, trl_reward
from curriculum.skills import REGISTRY

# comparable tasks, by family
OURS = {
    "maths": ["addition", "subtraction", "expression", "gcd_lcm", "fraction_simplify"],
    "logic": ["knights_knaves", "syllogism", "family_relations"],
}
THEIRS = {
    "maths": ["chain_sum", "basic_arithmetic", "gcd", "lcm", "fraction_simplification"],
    "logic": ["knights_knaves", "syllogism", "family_relationships"],
}
PREAMBLES = [
    "Let me work through this step by step. First I read the question carefully and note what is given.\n"
    "Then I combine the parts in order, checking each intermediate result before moving on.\n",
    "We can solve this directly. Writing down the known facts and applying the rules one at a time gives "
    "a single consistent result, which I double-check below.\n",
    "",
]
BATCH = 1024
KB100 = 100_000


def completions_for(golds: list[str], n: int, final: str, seed: int = 0) -> tuple[list[int], list[str]]:
    """n (item index, completion) pairs: right 50%, another item's answer 40%, no final answer 10%."""
    rng = random.Random(seed)
    idx, texts = [], []
    for i in range(n):
        k = rng.randrange(len(golds))
        roll = rng.random()
        pre = PREAMBLES[i % len(PREAMBLES)]
        if roll < 0.5:
            text = pre + final.format(golds[k])
        elif roll < 0.9:
            text = pre + final.format(golds[rng.randrange(len(golds))])
        else:
            text = pre.rstrip()
        idx.append(k)
        texts.append(text)
    return idx, texts


def ours(family: str, n: int) -> tuple[float, float]:
    """(items/s, mean reward) of the TRL reward over n completions of the family's skills."""
    rows = [r for s in OURS[family] for r in generate_items(s, 3, 200, seed=0).iter_rows(named=True)]
    idx, texts = completions_for([r["answer"] for r in rows], n, "Answer: {}")
    cols = {c: [rows[k][c] for k in idx] for c in ("skill", "answer", "question", "item_id", "level")}
    reward = trl_reward()
    total = 0.0
    start = time.process_time()
    for lo in range(0, n, BATCH):
        part = {c: v[lo : lo + BATCH] for c, v in cols.items()}
        total += sum(reward(prompts=part["question"], completions=texts[lo : lo + BATCH], **part))
    return n / (time.process_time() - start), total / n


def theirs(family: str, n: int) -> tuple[float, float] | None:
    """The same for reasoning-gym (None when it is not installed)."""
    try:
        import reasoning_gym
        from reasoning_gym.utils import extract_answer
    except ImportError:
        return None
    entries = []
    for name in THEIRS[family]:
        ds = reasoning_gym.create_dataset(name, size=200, seed=0)
        entries += [(ds, ds[i]) for i in range(len(ds))]
    idx, texts = completions_for([str(e["answer"]) for _, e in entries], n, "<answer>{}</answer>")
    total = 0.0
    start = time.process_time()
    for k, text in zip(idx, texts):
        ds, entry = entries[k]
        total += ds.score_answer(extract_answer(text), entry)
    return n / (time.process_time() - start), total / n


def adversarial() -> dict[str, str]:
    """100 kB completions built to hurt parsers: unclosed braces and tags, marker floods, huge numbers."""
    n = KB100
    return {
        "open braces": "{" * n,
        "unclosed boxed": "\\boxed{" * (n // 7),
        "empty boxed": "\\boxed{}" * (n // 8),
        "marker flood": "Answer:\n\n\n\n" * (n // 11),
        "marker, dots": "Answer: .\n.\n.\n" * (n // 14),
        "answer is": "the answer is . " * (n // 16),
        "blank lines": "\n" * n,
        "dot lines": "...\n" * (n // 4),
        "one digit run": "Answer: " + "9" * n,
        "boxed digits": "\\boxed{" + "9" * n + "}",
        "nested fracs": "\\frac{" * (n // 6),
        "fraction chain": "Answer: " + "1/" * (n // 2),
        "parens": "Answer: " + "(" * n,
        "roles": "Answer: " + "Alice: knight, " * (n // 15),
        "mixed latex": "Answer: \\boxed{\\frac{\\text{" * (n // 27),
        "unicode": "\u2212\u00e9" * (n // 2),
        "nul bytes": "\x00" * n,
        "answer tags": "<answer>" * (n // 8),
    }


def worst_case(repeat: int = 5) -> tuple[float, str]:
    """(ms, what) of the slowest single completion over every skill and adversarial completion: each pair's
    median of `repeat` runs, so that one preemption of the process is not taken for the cost of a text."""
    golds = {name: generate_items(name, 3, 1, seed=0).row(0, named=True) for name in sorted(REGISTRY)}
    worst, what = 0.0, ""
    for label, text in adversarial().items():
        assert len(text) >= KB100 * 0.99, label
        for name, row in golds.items():
            took = []
            for _ in range(repeat):
                start = time.process_time()
                score_completions([name], [row["answer"]], [text], questions=[row["question"]])
                took.append((time.process_time() - start) * 1000)
            if statistics.median(took) > worst:
                worst, what = statistics.median(took), f"{label} / {name}"
    return worst, what


def worst_case_theirs() -> tuple[float, str] | None:
    try:
        import reasoning_gym
        from reasoning_gym.utils import extract_answer
    except ImportError:
        return None
    worst, what = 0.0, ""
    for name in (THEIRS["maths"][0], THEIRS["logic"][0]):  # its extractor is the same for every task
        ds = reasoning_gym.create_dataset(name, size=1, seed=0)
        for label, text in adversarial().items():
            for wrapped in (text, f"<answer>{text}</answer>"):
                start = time.process_time()
                ds.score_answer(extract_answer(wrapped), ds[0])
                took = (time.process_time() - start) * 1000
                if took > worst:
                    worst, what = took, f"{label} / {name}"
    return worst, what


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="completions per family (default 100000)")
    parser.add_argument("--repeat", type=int, default=9, help="runs per figure, alternately; the median is reported")
    args = parser.parse_args()
    print("| family | completions | curriculum items/s | reasoning-gym items/s | ratio | mean reward (ours / theirs) |")
    print("|---|---:|---:|---:|---:|---|")
    for family in ("maths", "logic"):
        mine, other = [], []
        for _ in range(args.repeat):  # alternately, so that a change in the machine's load falls on both sides
            mine.append(ours(family, args.n))
            other.append(theirs(family, args.n))
        rate = statistics.median(r for r, _ in mine)
        if other[0] is None:
            print(f"| {family} | {args.n} | {rate:,.0f} | not installed | | {mine[0][1]:.3f} |")
            continue
        rate_rg = statistics.median(r for r, _ in other)
        print(
            f"| {family} | {args.n} | {rate:,.0f} | {rate_rg:,.0f} | {rate / rate_rg:.2f}x"
            f" | {mine[0][1]:.3f} / {other[0][1]:.3f} |"
        )
    ms, what = worst_case()
    print(f"\nworst single completion (100 kB adversarial, every skill): {ms:.2f} ms ({what})")
    rg = worst_case_theirs()
    if rg is not None:
        print(f"reasoning-gym on the same completions: {rg[0]:.2f} ms ({rg[1]})")


if __name__ == "__main__":
    main()
