"""The `curriculum` command: a thin veneer over the library; every failure is one line and an exit code.

Exit codes: 0 ok, 1 a check failed (validation), 2 bad input (config, skill, file, data dir, learner).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from curriculum.errors import CurriculumError, GenerationError

LATEST = "latest"
MAX_SEED = 2**63 - 1  # seeds are stored as BIGINT
MAX_TIERS = 100_000
MAX_GENERATE = 5_000_000  # items `curriculum generate` holds in memory at once


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"curriculum: error: {message}\n")
        raise SystemExit(2)


def bounded_int(low: int, high: int):
    """An argparse type: an integer in [low, high], the bound named in the message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text[:40]!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        if value > high:
            raise argparse.ArgumentTypeError(
                f"must be at most {high:,}, got {value:,}"
                if value < 10**30
                else f"must be at most {high:,}, got a {len(str(value))}-digit number"
            )
        return value

    return parse


positive_int = bounded_int(1, 10**9)  # counts and tier numbers; the config bounds what each may be


def cmd_run(args: argparse.Namespace) -> int:
    """Run a curriculum through the Prefect flow, then say where the results are."""
    from curriculum import runs
    from curriculum.config import load_config
    from curriculum.store import new_run_id

    if args.task_runner is not None:  # flag mistakes are named as flags, before the config is read
        from curriculum.execution import check_options

        check_options(args.task_runner, args.scheduler, args.workers)
    if args.resume is not None:
        run_id, config = runs.resumable_run(
            args.data_dir or Path("data"), None if args.resume == LATEST else args.resume, **resume_overrides(args)
        )
        print(f"resuming run {run_id}", file=sys.stderr)
    else:
        config, run_id = load_config(args.config, **run_overrides(args)), new_run_id()
    for note in runs.preflight(config, secrets_loaded=False):  # keys in Secret blocks: checked by the flow
        print(note, file=sys.stderr)
    from flows.launch import launch

    run_id = launch(config, run_id, resume=args.resume is not None)
    print(runs.summary_text(config, run_id))
    return 0


def run_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The `curriculum run` flags that override the config file (None: keep the file's)."""
    if args.learner is not None:
        from curriculum.learners import check_kind

        check_kind(args.learner)
    if args.strategy is not None and args.strategy != "auto":
        from curriculum.controllers import get_controller

        get_controller(args.strategy)
    return {
        "tiers": args.tiers,
        "seed": args.seed,
        "data_dir": args.data_dir,
        "strategy": args.strategy,
        "learner_kind": args.learner,
        "base_url": args.base_url,
        "model": args.model,
        "batch_size": args.batch_size,
        "task_runner": args.task_runner,
        "scheduler": args.scheduler,
        "workers": args.workers,
    }


def resume_overrides(args: argparse.Namespace) -> dict[str, object]:
    """What `curriculum run --resume` may change for the rest of a run: where shards run, the batch size."""
    execution = {"task_runner": args.task_runner or "thread", "scheduler": args.scheduler, "workers": args.workers}
    return {
        "execution": execution if args.task_runner or args.scheduler or args.workers else None,
        "learner": {"batch_size": args.batch_size} if args.batch_size is not None else None,
    }


def cmd_init_model(args: argparse.Namespace) -> int:
    """Write a randomly initialised tiny causal LM with a byte-level tokenizer (every digit and symbol one token)."""
    from curriculum.learners.hf_checks import require_trainers
    from curriculum.tiny_lm import init_model

    require_trainers()
    path, parameters = init_model(args.dir, args.hidden_size, args.layers, args.heads, args.seed)
    print(
        f"wrote a {parameters:,}-parameter causal LM to {path}; use it with: learner: {{kind: hf, model: {path}}}",
        file=sys.stderr,
    )
    return 0


def cmd_strategies(args: argparse.Namespace) -> int:
    """Print every registered strategy (controller) with what it does."""
    from curriculum.controllers import CONTROLLERS

    width = max(len(name) for name in CONTROLLERS)
    print(
        f"{'auto'.ljust(width)}  adaptive for a learner trained here (uniform when every skill has a target_level), "
        "frontier-search for an evaluate-only one"
    )
    for name, controller in CONTROLLERS.items():
        print(f"{name.ljust(width)}  {controller.description}")
    return 0


def cmd_skills(args: argparse.Namespace) -> int:
    """Print every registered skill with its knobs, an example at levels 1 and 5, and under it the mean of its
    per-item difficulty measure at a few levels (so L + 1 can be seen to ask more than L)."""
    import numpy as np

    from curriculum.skills import REGISTRY, difficulty_profile

    rows = []
    for name in sorted(REGISTRY, key=lambda n: (REGISTRY[n].domain, n)):
        skill = REGISTRY[name]
        examples = []
        for level in (1, 5):
            item = skill.generate(np.random.default_rng(level), level)
            examples.append(f"{item['question']} -> {item['answer']}")
        rows.append((name, skill.domain, ", ".join(skill.knobs), *examples, difficulty_profile(skill)))
    widths = [max(len(r[i]) for r in rows + [("skill", "domain", "knobs", "", "")]) for i in range(3)]
    head = ("skill", "domain", "knobs")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)) + "  example (level 1 | level 5)")
    for r in rows:
        ex = " | ".join(e if len(e) <= 70 else e[:67] + "..." for e in r[3:5])
        print("  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + ex)
        print("    " + r[5])
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate n items of one skill and level (both splits), re-verify every answer, write Parquet."""
    from curriculum.files import atomic_write, check_target
    from curriculum.generate import generate_items
    from curriculum.skills import get_skill
    from curriculum.skills.base import check_level
    from curriculum.verify import gold_checks

    check_level(args.level, get_skill(args.skill))
    out = Path(args.output)
    check_target(out)
    items = generate_items(args.skill, args.level, args.n, args.seed)
    wrong = items.height - sum(gold_checks(items))
    if wrong:
        raise GenerationError(f"{wrong} of {items.height} generated answers failed re-verification; nothing written")
    with atomic_write(out) as tmp:
        items.write_parquet(tmp)
    print(f"wrote {items.height} items ({args.skill}, level {args.level}) to {out}", file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a Parquet file of items with a suite; exit 1 when an expectation fails."""
    from curriculum.validation import load_suite, read_items, validate_items

    load_suite(args.suite)
    items = read_items(args.file)
    report = validate_items(items, suite=args.suite)
    total, failed = report.results.height, report.failures().height
    if report.success:
        print(f"{args.file}: passed {total} expectations on {items.height} items ({report.suite})")
        return 0
    print(f"{args.file}: FAILED {failed} of {total} expectations on {items.height} items ({report.suite})")
    for line in report.describe_failures():
        print(f"  - {line}")
    return 1


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print runs, then one run's tiers and per-skill level trajectories (latest run by default)."""
    import polars as pl

    from curriculum.report import (
        frontier_table,
        open_store,
        real_items_table,
        resolve_run,
        runs_table,
        tiers_table,
        trajectory_table,
    )

    store = open_store(args.data_dir)
    run_id = resolve_run(store, args.run)
    with pl.Config(
        tbl_rows=200, tbl_cols=20, fmt_str_lengths=120, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True
    ):
        print("runs\n", runs_table(store), sep="")
        frontiers = frontier_table(store, run_id)
        if frontiers.height:  # a frontier search: its rounds only probe, and its table says it all
            print(f"\nsearch rounds of {run_id}\n", tiers_table(store, run_id).rename({"tier": "round"}), sep="")
            print(
                f"\nfrontier per skill: highest level with held-out accuracy >= threshold ({run_id})\n",
                frontiers,
                sep="",
            )
        else:
            print(f"\ntiers of {run_id}\n", tiers_table(store, run_id), sep="")
            print(
                f"\nlevel and held-out accuracy per skill, tier by tier ({run_id})\n",
                trajectory_table(store, run_id),
                sep="",
            )
        real = real_items_table(store, run_id)
        if real.height:
            print(f"\nheld-out accuracy on real items (anchor), tier by tier ({run_id})\n", real, sep="")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export a run's (or one tier's) accepted items: parquet, jsonl, openai-chat, trl (JSONL) or verl (Parquet)."""
    from curriculum.export import export_split, select_items, write_export
    from curriculum.prompts import load_template

    template = load_template(args.prompt_template)
    split = export_split(args.format, args.split, args.include_held_out)
    run_id, items = select_items(args.data_dir, args.run, args.tier, split)
    out = write_export(items, args.format, Path(args.output), run_id=run_id, template=template)
    print(
        f"wrote {items.height} items of run {run_id} to {out} ({args.format}, split {split or 'all'})", file=sys.stderr
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Check the catalogue and its tier files (exit 1 on a mismatch; damage is one line, exit 2); --rebuild
    rebuilds a damaged or lost catalogue's items from the tier files."""
    from curriculum.check import check, rebuild
    from curriculum.errors import CatalogueDamaged

    if args.rebuild:
        try:
            problems = check(args.data_dir)
        except CatalogueDamaged as err:
            moved, n_runs, n_files = rebuild(args.data_dir)
            aside = f"; the damaged file is now {moved}" if moved else ""
            print(
                f"rebuilt {args.data_dir / 'curriculum.duckdb'} from {n_files} tier file(s) of {n_runs} run(s){aside}"
                f" (it was: {str(err).split('; the ')[0]})"
            )
            return 0
    else:
        problems = check(args.data_dir)
    for line in problems:
        print(f"  - {line}")
    print(f"{args.data_dir / 'curriculum.duckdb'}: " + (f"{len(problems)} problem(s)" if problems else "whole"))
    return 1 if problems else 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write a markdown report with plots for a run (latest by default)."""
    from curriculum.report import write_report

    path = write_report(args.data_dir, args.run_id, args.output)
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="curriculum", description="Tiered curriculum learning on Prefect.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    run = sub.add_parser("run", help="run a curriculum (Prefect flow) on a config")
    run.add_argument("--config", type=Path, help="run config YAML (default: configs/default.yaml)")
    run.add_argument("--tiers", type=bounded_int(1, MAX_TIERS), help=f"number of tiers (at most {MAX_TIERS:,})")
    run.add_argument("--seed", type=bounded_int(0, MAX_SEED), help="run seed (0 to 2^63 - 1)")
    run.add_argument("--data-dir", type=Path, help="where the catalogue and tier files go (default: data)")
    run.add_argument(
        "--strategy", help="the controller that chooses each tier (default: auto; `curriculum strategies` lists them)"
    )
    run.add_argument(
        "--learner",
        help="learner kind: local (built-in transformer), openai (any OpenAI-compatible "
        "endpoint) or hf (a local Hugging Face causal LM trained by TRL)",
    )
    run.add_argument("--base-url", help="openai learner: endpoint, e.g. http://127.0.0.1:8000/v1")
    run.add_argument("--model", help="openai learner: model name; hf learner: a local model folder")
    run.add_argument(
        "--batch-size",
        type=positive_int,
        help="training batch size (local, hf); with --resume, for the rest of the run (e.g. after out of memory)",
    )
    run.add_argument("--task-runner", help="where shard work runs: thread (default), dask or ray")
    run.add_argument(
        "--scheduler", metavar="ADDRESS", help="an existing cluster: tcp://HOST:8786 (dask) or ray://HOST:10001 (ray)"
    )
    run.add_argument(
        "--workers", type=positive_int, help="processes of a local dask/ray cluster (default: one per core)"
    )
    run.add_argument(
        "--resume",
        nargs="?",
        const=LATEST,
        metavar="RUN_ID",
        help="continue the latest unfinished run in --data-dir (or RUN_ID), redoing only unfinished steps",
    )
    run.set_defaults(func=cmd_run)

    init = sub.add_parser(
        "init-model", help="write a small random causal LM and its tokenizer to a folder (hf learner)"
    )
    init.add_argument("dir", type=Path, help="the model folder to create")
    init.add_argument("--hidden-size", type=positive_int, default=64, help="width (default: 64)")
    init.add_argument("--layers", type=positive_int, default=2, help="transformer layers (default: 2)")
    init.add_argument("--heads", type=positive_int, default=4, help="attention heads (default: 4)")
    init.add_argument("--seed", type=int, default=0, help="initialisation seed (default: 0)")
    init.set_defaults(func=cmd_init_model)

    strategies = sub.add_parser("strategies", help="list the strategies a run can use (--strategy)")
    strategies.set_defaults(func=cmd_strategies)

    skills = sub.add_parser("skills", help="list the skills with examples")
    skills.set_defaults(func=cmd_skills)

    gen = sub.add_parser("generate", help="generate items of one skill and level to Parquet")
    gen.add_argument("--skill", required=True)
    gen.add_argument("--level", type=positive_int, required=True)
    gen.add_argument(
        "-n", type=bounded_int(1, MAX_GENERATE), required=True, help=f"number of items (at most {MAX_GENERATE:,})"
    )
    gen.add_argument("--seed", type=bounded_int(0, MAX_SEED), default=0)
    gen.add_argument("-o", "--output", required=True, help="output .parquet file")
    gen.set_defaults(func=cmd_generate)

    val = sub.add_parser("validate", help="validate a Parquet file of items (exit 1 on failure)")
    val.add_argument("file", type=Path)
    val.add_argument("--suite", default="tier", help="suite name in expectations/ (default: tier)")
    val.set_defaults(func=cmd_validate)
    ins = sub.add_parser("inspect", help="print runs, tiers and level trajectories from the catalogue")
    ins.add_argument("--data-dir", type=Path, default=Path("data"))
    ins.add_argument("--run", help="run id (default: the latest run)")
    ins.set_defaults(func=cmd_inspect)

    exp = sub.add_parser("export", help="export a run's or tier's items (parquet, jsonl, openai-chat, trl, verl)")
    exp.add_argument(
        "--format",
        required=True,
        choices=("parquet", "jsonl", "openai-chat", "trl", "verl"),
        help="trl: JSONL for TRL/OpenRLHF; verl: Parquet in verl's schema",
    )
    exp.add_argument("--data-dir", type=Path, default=Path("data"))
    exp.add_argument("--run", help="run id (default: the latest run)")
    exp.add_argument("--tier", type=positive_int, help="one tier only")
    exp.add_argument(
        "--split",
        choices=("train", "eval"),
        help="one split only (default: all for parquet/jsonl, train for openai-chat/trl/verl)",
    )
    exp.add_argument(
        "--include-held-out",
        action="store_true",
        help="training formats: export eval (held-out) items too, in the same file",
    )
    exp.add_argument(
        "--prompt-template",
        metavar="NAME|FILE",
        help="trl/verl prompts: answer-line (default), boxed, short, or a YAML file with system, user, answer",
    )
    exp.add_argument("-o", "--output", required=True)
    exp.set_defaults(func=cmd_export)

    chk = sub.add_parser("check", help="check the catalogue and its tier files; --rebuild a damaged one")
    chk.add_argument("--data-dir", type=Path, default=Path("data"))
    chk.add_argument(
        "--rebuild", action="store_true", help="rebuild a damaged or lost catalogue's items from the tier files"
    )
    chk.set_defaults(func=cmd_check)

    rep = sub.add_parser("report", help="write a markdown report with plots for a run")
    rep.add_argument("run_id", nargs="?", help="run id (default: the latest run)")
    rep.add_argument("--data-dir", type=Path, default=Path("data"))
    rep.add_argument("-o", "--output", type=Path, help="output folder (default: DATA_DIR/reports/RUN_ID)")
    rep.set_defaults(func=cmd_report)

    bench = sub.add_parser("benchmark", help="compare curriculum strategies at equal compute")
    bench.add_argument(
        "--strategies", help="comma-separated (default: every strategy that trains; `curriculum strategies` lists them)"
    )
    bench.add_argument("--seeds", type=int, help="seeds per strategy (default: the preset's)")
    bench.add_argument("--steps", type=int, help="training steps per run (default: the preset's)")
    bench.add_argument("--workers", type=int, help="runs in parallel (default: the preset's)")
    bench.add_argument("--out", type=Path, help="results JSON (default: data/reports/benchmark-<timestamp>.json)")
    bench.add_argument(
        "--preset",
        default="default",
        help="budget and skills: default (2 cores, <= 20 min), long (2 cores, 10 tiers) or gpu",
    )
    bench.set_defaults(func=cmd_benchmark)
    return parser


def cmd_benchmark(args: argparse.Namespace) -> int:
    """Compare curriculum strategies at equal compute (curriculum.benchmark, imported only when asked)."""
    from curriculum.benchmark import cmd_benchmark as run

    return run(args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `curriculum` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CurriculumError as err:
        print(f"curriculum: error: {err}", file=sys.stderr)
        return err.exit_code
    except Exception as err:  # the operating system refusing a write (a full disk) is one line too
        from curriculum.files import io_reason

        failed = io_reason(err)
        if failed is None:
            raise
        print(
            f"curriculum: error: {failed[0]}; free space or fix the data dir, then `curriculum run --resume`",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM/SIGHUP during a run (flows.launch.Stopped)
        signum = getattr(err, "signum", 2)
        how = "interrupted" if signum == 2 else f"stopped by {err}"
        hint = "; carry on with `curriculum run --resume`" if args.command == "run" else ""
        print(f"curriculum: {how}{hint}", file=sys.stderr)
        return 128 + signum


if __name__ == "__main__":
    sys.exit(main())
