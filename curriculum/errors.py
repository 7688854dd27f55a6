"""One small exception class per failure mode; the CLI maps each to one line and exit 2."""


class CurriculumError(Exception):
    """Base class: a user-facing failure with a one-line message."""

    exit_code = 2


class ConfigError(CurriculumError):
    """The run config is missing, malformed or inconsistent."""


class UnknownSkill(CurriculumError):
    """A skill name that is not in the registry."""


class LevelOutOfRange(CurriculumError, ValueError):
    """A level a skill does not serve (every skill declares the levels it can generate and verify)."""


class UnknownStrategy(CurriculumError):
    """A strategy (controller) name that is not registered."""


class UnknownLearner(CurriculumError):
    """A learner kind that does not exist."""


class DataDirError(CurriculumError):
    """The data directory cannot be created or written."""


class CatalogueBusy(CurriculumError):
    """Another process held the catalogue for longer than we wait."""


class CatalogueVersionError(CurriculumError):
    """The catalogue was written by a newer, incompatible version."""


class CatalogueDamaged(CurriculumError):
    """The catalogue file cannot be read as a DuckDB database (truncated, overwritten, corrupt)."""


class RunLocked(CurriculumError):
    """Another process is running (or resuming) the same run."""


class NothingToResume(CurriculumError):
    """No unfinished run matches what --resume asked for."""


class InputFileError(CurriculumError):
    """An input file is missing, unreadable or not in the expected format."""


class GenerationError(CurriculumError):
    """Generated items failed their own re-verification: a generator bug, never written out."""

    exit_code = 1


class TierRejected(CurriculumError):
    """A tier failed validation more times than the config allows."""

    exit_code = 1


class ModelError(CurriculumError):
    """A local model folder is missing, is not a causal LM, or its tokenizer cannot encode the items."""


class MissingExtra(CurriculumError):
    """An optional dependency the config needs is not installed (e.g. TRL for the hf learner)."""


class OutOfMemory(CurriculumError):
    """Training ran out of memory: the tier stays validated, and a resume with a smaller batch carries on."""

    exit_code = 1
