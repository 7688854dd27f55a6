"""The controller inside a trainer: a run whose learner is trained by TRL or verl, with the curriculum in charge.

`OnlineCurriculum(config)` is a catalogue run like any other, driven from the trainer's side:

- `next_record()` hands out the current tier's training items (fresh, validated, never held out) as trainer
  records (curriculum.export.trainer_records, the prompt template of the exports). A tier is planned,
  generated and validated by the run's own steps (curriculum.loop.run_tier, stopping at validated).
- `observe(scores)` takes the rewards back (curriculum.rewards.Score, per item) and stores them
  (evaluations, kind reward). Once every skill of the tier has `decide_every` new rewards, or the tier's
  items run out, the run's controller decides on a rolling window of the last `window` rewards per skill
  and level (the reasoning-gym anchor: 20), with its own promote/demote rule, hysteresis and allocation; the
  decision completes the tier and the next records come from the next tier's plan.
- `probe(generate)` scores the tier's held-out items with the current model where the adapter can generate;
  the next decision reads those probes instead of the training rewards.

Everything lands in the catalogue (learner `trl` or `verl`), so `curriculum inspect`, `report` and the
README's queries work on a trainer-driven run, and a new `OnlineCurriculum(config, run_id)` carries on
after the trainer restarts: the rewards window is rebuilt from the stored rewards.
"""

from __future__ import annotations

import sys
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import polars as pl

from curriculum import loop, runs, seeds, steps
from curriculum.config import RunConfig, load_config
from curriculum.errors import ConfigError, CurriculumError
from curriculum.lifecycle import TierStatus
from curriculum.prompts import PromptTemplate, load_template
from curriculum.store import Store

TRAINERS = ("trl", "verl")
REWARD_SCHEMA = {
    "tier": pl.Int32,
    "item_id": pl.String,
    "skill": pl.String,
    "domain": pl.String,
    "level": pl.Int32,
    "source": pl.String,
    "question": pl.String,
    "answer": pl.String,
    "prediction": pl.String,
    "correct": pl.Boolean,
    "learner": pl.String,
}


class OnlineCurriculum:
    """A run's controller serving an external trainer (see the module docstring)."""

    def __init__(
        self,
        config: RunConfig,
        run_id: str | None = None,
        *,
        trainer: str = "trl",
        window: int = 20,
        decide_every: int = 20,
        template: str | Path | PromptTemplate | None = None,
    ) -> None:
        if trainer not in TRAINERS:
            raise ConfigError(f"unknown trainer {trainer!r}; known: {', '.join(TRAINERS)}")
        if window < 1 or decide_every < 1:
            raise ConfigError(f"window and decide_every must be >= 1, got {window} and {decide_every}")
        self.controller = steps.controller_of(config)
        if not self.controller.trains:
            raise ConfigError(f"strategy {config.controller!r} does not train; a trainer needs one that does")
        runs.preflight(config)
        self.config, self.trainer, self.window, self.decide_every = config, trainer, window, decide_every
        self.template = template if isinstance(template, PromptTemplate) else load_template(template)
        self.store = Store(config.data_dir)
        known = self.store.path.is_file() and run_id is not None and self._exists(run_id)
        self.run_id = run_id if known else runs.start_run(config, run_id, learner=trainer)
        if known:
            self.store.reopen_run(self.run_id)
        self.tier = 0
        self._records: list[dict[str, Any]] = []
        self._next = 0
        self._items: dict[str, dict[str, Any]] = {}  # item_id -> its row (tier included), for rewards coming back
        self._rewards: dict[tuple[str, int], deque[bool]] = defaultdict(lambda: deque(maxlen=window))
        self._new: dict[str, int] = defaultdict(int)  # rewards per skill since the last decision
        self._probes: pl.DataFrame | None = None
        self._decided = False  # the current tier has its decision (only the last tier is served after that)
        from curriculum.skills import get_skill

        self._skills = {s.name: get_skill(s.name).domain for s in config.skills}
        self._restore()

    @classmethod
    def open(cls, config: str | Path | RunConfig, run_id: str | None = None, **options: Any) -> OnlineCurriculum:
        """For a training script: a config that cannot be served (unknown skill, bad thresholds, a missing
        anchor) is one line on stderr and exit 2, before the trainer starts."""
        try:
            cfg = config if isinstance(config, RunConfig) else load_config(config)
            return cls(cfg, run_id, **options)
        except CurriculumError as err:
            print(f"curriculum: error: {err}", file=sys.stderr)
            raise SystemExit(err.exit_code) from None

    # -- items out ------------------------------------------------------------------------------
    def next_record(self) -> dict[str, Any]:
        """The next training record of the current tier; a tier that runs out is decided and the next one begins.
        After the config's last tier its items come round again (the run is out of tiers, the trainer is not)."""
        if self._next >= len(self._records):
            if self.tier and not self._decided:
                self.decide()
            if self.tier < self.config.tiers:
                self._start(self.tier + 1)
            self._next = 0
        record = self._records[self._next]
        self._next += 1
        return record

    def records(self, n: int) -> list[dict[str, Any]]:
        return [self.next_record() for _ in range(n)]

    def stream(self) -> Iterator[dict[str, Any]]:
        while True:
            yield self.next_record()

    def level(self, skill: str) -> int:
        """The controller's current level of a skill."""
        latest = self.store.latest_decisions(self.run_id)
        state = self.controller.state(self.config, latest)
        value = state[skill]
        if hasattr(self.controller, "focus"):  # a level sampler: the level it trains most
            return self.controller.focus(value)
        return getattr(value, "level", value)

    # -- rewards back ---------------------------------------------------------------------------
    def observe(self, scores: Iterable[Any]) -> None:
        """Store each completion's reward and decide once every skill of the tier has enough new ones."""
        rows = []
        for s in scores:
            item = self._items.get(s.item_id or "")
            if item is None:  # not one of this run's tiers (a row of a trainer's fixed pool): the current tier's
                if s.skill not in self._skills or s.level is None:
                    continue
                item = {
                    "tier": max(self.tier, 1),
                    "item_id": s.item_id,
                    "skill": s.skill,
                    "level": int(s.level),
                    "domain": self._skills[s.skill],
                    "source": "pool",
                    "question": None,
                    "answer": None,
                }
            correct = s.reward >= 1.0
            self._rewards[(item["skill"], item["level"])].append(correct)
            self._new[item["skill"]] += 1
            rows.append(
                {
                    "tier": item["tier"],
                    "item_id": item["item_id"],
                    "skill": item["skill"],
                    "domain": item["domain"],
                    "level": item["level"],
                    "source": item["source"],
                    "question": item["question"],
                    "answer": item["answer"],
                    "prediction": s.extracted,
                    "correct": correct,
                    "learner": self.trainer,
                }
            )
        if rows:
            self.store.append_rewards(self.run_id, pl.DataFrame(rows, schema=REWARD_SCHEMA))
        skills = {r["skill"] for r in self._records}
        if skills and not self._decided and all(self._new[skill] >= self.decide_every for skill in skills):
            self.decide()
            if self.tier < self.config.tiers:
                self._start(self.tier + 1)

    def reward(self) -> Any:
        """The TRL reward function, wired to feed its scores back here."""
        from curriculum.rewards import trl_reward

        return trl_reward(on_scores=self.observe)

    def dataset(self) -> Any:
        """A `datasets.IterableDataset` that follows the controller, for TRL's GRPOTrainer (set `max_steps`, and
        `shuffle_dataset=False` so no shuffle buffer runs ahead of the plan)."""
        from datasets import IterableDataset

        return IterableDataset.from_generator(self.stream)

    def probe(self, generate: Callable[[list[str]], list[str]]) -> pl.DataFrame:
        """Score the current tier's held-out items with `generate` (prompts' questions -> completions); the next
        decision reads these probes."""
        from curriculum.extraction import extract_answer

        if not self._records:
            self._start(self.tier + 1)
        _, attempt = self._attempt()
        held = self.store.tier_items(self.run_id, self.tier, attempt).filter(pl.col("split") == "eval")
        completions = generate(held["question"].to_list())
        scored = steps.score(held, [extract_answer(c) or "" for c in completions])
        self.store.write_evaluations(self.run_id, self.tier, scored.with_columns(pl.lit(self.trainer).alias("learner")))
        self._probes = scored
        return scored

    def decide(self) -> pl.DataFrame:
        """The controller's decisions for the current tier, from its probes or the rolling window of rewards."""
        state = self.controller.state(self.config, self.store.latest_decisions(self.run_id))
        if self._probes is not None:
            scored = self._probes.select("skill", "level", "correct")
        else:
            scored = pl.DataFrame(
                [{"skill": s, "level": lv, "correct": c} for (s, lv), window in self._rewards.items() for c in window],
                schema={"skill": pl.String, "level": pl.Int32, "correct": pl.Boolean},
            )
        _, decisions = self.controller.decide(self.config, state, scored, self.tier)
        _, attempt = self._attempt()
        self.store.write_decisions(self.run_id, self.tier, decisions)
        for status in (TierStatus.TRAINED, TierStatus.EVALUATED, TierStatus.COMPLETE):
            self.store.set_tier_status(self.run_id, self.tier, attempt, status)
        self._new.clear()
        self._probes = None
        self._decided = True
        return decisions

    def finish(self, status: str = "completed") -> None:
        """Mark the run finished (a trainer that stops early leaves it resumable instead)."""
        self.store.finish_run(self.run_id, status)

    # -- the tiers behind it --------------------------------------------------------------------
    def _start(self, tier: int) -> None:
        """Plan, generate and validate `tier` through the run's steps, then hand out its training items."""
        loop.run_tier(self.config, self.run_id, tier, until=TierStatus.VALIDATED)
        self.tier = tier
        _, attempt = self._attempt()
        from curriculum.export import trainer_records

        items = self.store.tier_items(self.run_id, tier, attempt).with_columns(pl.lit(tier).alias("tier"))
        train = items.filter(pl.col("split") == "train").sample(
            fraction=1.0, shuffle=True, seed=seeds.derive(self.config.seed, "online", tier)
        )
        self._items |= {r["item_id"]: r for r in train.iter_rows(named=True)}
        self._records, self._next, self._decided = trainer_records(train, self.run_id, self.template), 0, False

    def plan_weights(self) -> dict[tuple[str, int], int]:
        """Training items the current tier's plan asks for, by (skill, level): what a sampler over a fixed
        pool (verl) follows."""
        if not self._records:
            self._start(self.tier + 1)
        _, attempt = self._attempt()
        return {
            (s, lv): n
            for (s, lv, split), n in self.store.tier_plan(self.run_id, self.tier, attempt).counts().items()
            if split == "train"
        }

    def _attempt(self) -> tuple[TierStatus, int]:
        attempt, status = self.store.tier_status(self.run_id, self.tier)
        return status, attempt

    def _exists(self, run_id: str) -> bool:
        return self.store.query("SELECT count(*) AS n FROM runs WHERE run_id = ?", [run_id])["n"].item() > 0

    def _restore(self) -> None:
        """After a restart: the rewards window from the stored rewards, and the tier that was being served."""
        rewards = self.store.query(
            "SELECT skill, level, correct, tier FROM evaluations WHERE run_id = ? AND kind = 'reward'"
            " ORDER BY evaluated_at",
            [self.run_id],
        )
        latest = self.store.query("SELECT max(tier) AS t FROM tiers WHERE run_id = ?", [self.run_id])["t"].item()
        if latest is None:
            return
        for skill, level, correct, _tier in rewards.iter_rows():
            self._rewards[(skill, level)].append(correct)
        self.tier = latest
        done = self._attempt()[0] is TierStatus.COMPLETE
        if done and latest < self.config.tiers:
            return  # the next record plans the next tier
        for skill, _, _, tier in rewards.iter_rows():
            if tier == latest and not done:
                self._new[skill] += 1
        self._start(latest)
        self._decided = done
