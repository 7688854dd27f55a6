"""A run's config: YAML -> pydantic models, validated at the door with errors that name the field."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from curriculum.chat import EndpointConfig
from curriculum.errors import ConfigError
from curriculum.execution import TASK_RUNNERS
from curriculum.learners import LEARNERS, AnyLearnerConfig
from curriculum.learners.local_config import LearnerConfig, ModelConfig

__all__ = ["LearnerConfig", "ModelConfig", "RunConfig", "load_config", "parse_config"]

MAX_SKILLS = 1_000
MAX_CONFIG_BYTES = 4_000_000  # a run config is a few kB; a file this big is something else
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SkillConfig(Strict):
    name: str
    start_level: int = Field(1, ge=1)  # where the adaptive controller and the frontier search start
    # the top of what the run trains: what a fixed schedule or a sampler (uniform, progress, ...) covers, and a
    # level the adaptive controller never climbs, trains or probes above
    target_level: int | None = Field(None, ge=1)

    @field_validator("name")
    @classmethod
    def known_skill(cls, name: str) -> str:
        from curriculum.skills import get_skill

        return get_skill(name).name  # raises UnknownSkill with suggestions

    @model_validator(mode="after")
    def levels_served(self) -> SkillConfig:
        from curriculum.skills import get_skill

        top = get_skill(self.name).max_level
        for field in ("start_level", "target_level"):
            level = getattr(self, field)
            if top is not None and level is not None and level > top:
                raise ValueError(f"{field} {level}: {self.name} serves levels 1..{top}")
        return self


class MixConfig(Strict):
    """Shares of a skill's training items by role (Zaremba & Sutskever's "combined" curriculum)."""

    # items at the skill's current level (`frontier` in configs written before the name changed)
    # the benchmarked default (`curriculum benchmark`, seeds 0-2: mean accuracy 0.634 against 0.601 for the earlier
    # 0.5 / 0.1 / 0.25 / 0.15, with lookahead 8 against 4): less at L, more at L+1 and over 1..L+lookahead
    current: float = Field(0.3, ge=0, validation_alias=AliasChoices("current", "frontier"))
    stretch: float = Field(0.25, ge=0)
    replay: float = Field(0.2, ge=0)
    uniform: float = Field(0.25, ge=0)

    @model_validator(mode="after")
    def sums_to_one(self) -> MixConfig:
        total = self.current + self.stretch + self.replay + self.uniform
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"mix shares must sum to 1, got {total:g}")
        return self


class TierConfig(Strict):
    # on average: the tier holds this many times the skill count (bounded: a tier is held in memory)
    train_items_per_skill: int = Field(600, ge=1, le=1_000_000)
    eval_items_per_level: int = Field(60, ge=1, le=100_000)
    mix: MixConfig = MixConfig()


class PolicyConfig(Strict):
    """When a skill's level moves, and how a tier's training items are shared across skills."""

    promote_at: float = Field(0.85, gt=0, le=1)
    demote_below: float = Field(0.4, ge=0, lt=1)
    probes_to_promote: int = Field(1, ge=1)
    probes_to_demote: int = Field(2, ge=1)
    cooldown: int = Field(0, ge=0)  # tiers after a level change during which the level stays put
    lookahead: int = Field(8, ge=1)  # the uniform share covers levels 1..L+lookahead (8: the benchmarked default)
    progress_smoothing: float = Field(0.5, gt=0, le=1)  # weight of the latest change in learning progress
    # share of the equal split every skill keeps (1 = equal split). 0.75, not 0.5: learning progress is small on a
    # skill just under the bar, and at 0.5 fraction_compare sat at 0.82 on level 1 through all five tiers of make run
    allocation_floor: float = Field(0.75, ge=0, le=1)
    targeted: bool = True  # replay favours levels whose last probe failed

    @model_validator(mode="after")
    def ordered(self) -> PolicyConfig:
        if self.demote_below >= self.promote_at:
            raise ValueError("demote_below must be below promote_at")
        return self


class ValidationConfig(Strict):
    max_attempts: int = Field(3, ge=1)
    data_docs: bool = True  # rebuild Great Expectations Data Docs under DATA_DIR/docs after each validation


class ScheduleConfig(Strict):
    """The fixed schedules (ladder, combined): one level up every `ladder_every` tiers, or evenly from level 1
    to each skill's target_level over the run's tiers (None)."""

    ladder_every: int | None = Field(None, ge=1)


class AnchorConfig(Strict):
    """Real items (Parquet or JSONL with question, answer, optional skill) mixed into every tier."""

    path: Path
    ratio: float = Field(0.1, ge=0, le=1)  # anchor items per generated training item of a tier
    domain: Literal["maths", "logic"] = "maths"  # used when the file has no domain column


class FrontierConfig(Strict):
    """The frontier search (curriculum.controllers.frontier_search), for evaluate-only learners."""

    threshold: float = Field(0.85, gt=0, lt=1)  # a level is passed at held-out accuracy >= this
    batch: int = Field(10, ge=1)  # fresh items per probe round
    max_items_per_level: int = Field(40, ge=1)  # a probe undecided at this size is decided by plain comparison
    max_level: int = Field(64, ge=1)  # the search stops climbing here
    max_rounds: int = Field(40, ge=1)  # rounds of probes (one tier each) at most


class TeacherConfig(Strict):
    """An LLM teacher writing extra training items each tier; only items the project re-verifies are kept."""

    endpoint: EndpointConfig  # the teacher model (the endpoint fields of the openai learner)
    rewrite_share: float = Field(0.1, ge=0, le=1)  # of a tier's procedural train items, rewritten as word problems
    variant_share: float = Field(0.0, ge=0, le=1)  # ... turned into harder variants (numeric answers)
    k_samples: int = Field(3, ge=1)  # model samples that must re-derive a rewrite's gold answer

    @field_validator("endpoint", mode="before")
    @classmethod
    def endpoint_only(cls, value: object) -> object:
        """Configs stored before the endpoint had its own model carried the learner's fields: drop them."""
        if isinstance(value, dict):
            learner_only = ("kind", "train_command", "fine_tune", "fine_tune_poll_s", "fine_tune_timeout_s")
            return {k: v for k, v in value.items() if k not in learner_only}
        return value


class ExecutionConfig(Strict):
    """Where a run's sharded work runs: generation shards, gold re-verification, remote evaluation.

    The items never depend on it: every shard is a pure function of (plan, seed, chunk).
    """

    task_runner: str = "thread"
    scheduler: str | None = None  # address of an existing Dask (tcp://HOST:8786) or Ray (ray://HOST:10001) cluster
    workers: int | None = Field(None, ge=1)  # processes of a local cluster (default: one per core)
    max_items_per_shard: int = Field(50_000, ge=100)

    @field_validator("task_runner")
    @classmethod
    def known_runner(cls, name: str) -> str:
        name = name.strip().lower()
        if name not in TASK_RUNNERS:
            raise ValueError(f"unknown task runner {name!r}; known: {', '.join(TASK_RUNNERS)}")
        return name

    @model_validator(mode="after")
    def fits_the_runner(self) -> ExecutionConfig:
        if self.scheduler and self.task_runner == "thread":
            raise ValueError("a scheduler address needs task_runner dask or ray")
        if self.scheduler and self.workers is not None:
            raise ValueError(f"workers applies to a local cluster; the cluster at {self.scheduler} brings its own")
        return self


class RunConfig(Strict):
    name: str = "curriculum"
    # which controller chooses each tier (curriculum.controllers: adaptive, frontier-search, progress, uniform,
    # hardest, ladder, combined, ...); auto: adaptive for a learner trained here (uniform when every skill has a
    # target_level), frontier-search for an evaluate-only one
    strategy: str = "auto"
    seed: int = Field(0, ge=0, le=2**63 - 1)  # stored as BIGINT
    tiers: int = Field(5, ge=1, le=100_000)
    data_dir: Path = Path("data")
    skills: list[SkillConfig] = Field(min_length=1)
    tier: TierConfig = TierConfig()
    policy: PolicyConfig = PolicyConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    learner: AnyLearnerConfig = Field(default_factory=LearnerConfig)
    validation: ValidationConfig = ValidationConfig()
    anchor: AnchorConfig | None = None
    execution: ExecutionConfig = ExecutionConfig()
    frontier: FrontierConfig = FrontierConfig()
    teacher: TeacherConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def legacy_mode(cls, value: object) -> object:
        """Configs stored before strategies existed said `mode: auto | curriculum | frontier`."""
        if isinstance(value, dict) and "mode" in value:
            value = dict(value)
            mode = value.pop("mode")
            legacy = {"auto": "auto", "curriculum": "adaptive", "frontier": "frontier-search"}
            if "strategy" not in value:
                value["strategy"] = legacy.get(mode, mode)
        return value

    @field_validator("learner", mode="before")
    @classmethod
    def learner_kind(cls, value: object) -> object:
        """`kind` defaults to local; an unknown kind is named before any of its fields are checked."""
        if isinstance(value, dict):
            kind = value.get("kind", "local")
            if kind not in LEARNERS:
                raise ValueError(f"unknown learner {kind!r}; known: {', '.join(LEARNERS)}")
            return {**value, "kind": kind}
        return value

    @field_validator("strategy")
    @classmethod
    def known_strategy(cls, name: str) -> str:
        from curriculum.controllers import CONTROLLERS

        name = name.strip().lower()
        if name != "auto" and name not in CONTROLLERS:
            raise ValueError(f"unknown strategy {name!r}; known: auto, {', '.join(CONTROLLERS)}")
        return name

    @field_validator("skills", mode="before")
    @classmethod
    def few_enough(cls, skills: object) -> object:
        """Counted before each entry is checked, so a huge list is refused at once."""
        if isinstance(skills, list | tuple) and len(skills) > MAX_SKILLS:
            raise ValueError(f"at most {MAX_SKILLS} skills, got {len(skills):,}")
        return skills

    @field_validator("skills")
    @classmethod
    def distinct(cls, skills: list[SkillConfig]) -> list[SkillConfig]:
        names = [s.name for s in skills]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"skills listed twice: {', '.join(dupes)}")
        return skills

    @model_validator(mode="after")
    def controller_fits(self) -> RunConfig:
        from curriculum.controllers import get_controller

        get_controller(self.controller).check(self)
        return self

    @property
    def controller(self) -> str:
        """The strategy `auto` resolves to. A learner that cannot be trained here gets the frontier search. One
        that trains gets uniform sampling over 1..target when every skill names its target level (what won
        `curriculum benchmark`'s default preset on mean held-out accuracy over known levels: benchmarks/results),
        else the adaptive controller, the one strategy that climbs without knowing where the top is."""
        if self.strategy != "auto":
            return self.strategy
        if not self.learner.trains:
            return "frontier-search"
        return "uniform" if all(s.target_level is not None for s in self.skills) else "adaptive"


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    where = ".".join(str(p) for p in e["loc"]) or "config"
    msg = e["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}"


def parse_config(raw: object, source: str = "config") -> RunConfig:
    """Validate a mapping into a RunConfig; errors become one ConfigError line naming the field."""
    from curriculum.errors import UnknownSkill

    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        return RunConfig.model_validate(raw)
    except UnknownSkill:
        raise
    except ValidationError as err:
        cause = next((e.get("ctx", {}).get("error") for e in err.errors() if e.get("ctx")), None)
        if isinstance(cause, UnknownSkill):
            raise cause from None
        raise ConfigError(f"{source}: {_first_error(err)}") from None


def load_config(path: Path | str | None = None, **overrides: object) -> RunConfig:
    """Read YAML (the embedded default when path is None) and apply top-level overrides."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {size:,} bytes is not a run config (at most {MAX_CONFIG_BYTES:,})")
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the config as UTF-8") from None
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "learner_kind":
            learner = raw.setdefault("learner", {})
            if learner.get("kind", "local") != value:
                raw["learner"] = learner = {}  # another kind of learner: its own fields, its own defaults
            learner["kind"] = value
        elif key in ("base_url", "model", "batch_size"):
            raw.setdefault("learner", {})[key] = value
        elif key in ("task_runner", "scheduler", "workers"):
            raw.setdefault("execution", {})[key] = value
        else:
            raw[key] = value
    return parse_config(raw, str(path))
