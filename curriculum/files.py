"""Writing a file a user named: atomically, only over a regular file, and never leaving a temp file behind.

`curriculum export -o /dev/full` once replaced a device node with a regular file (a temp file renamed over
whatever was there); a symlink or a FIFO went the same way. A target that exists must be a regular file;
anything else is refused in one line. A failed write (a full disk, a read-only directory) removes its temp
file and is one line too.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from curriculum.errors import InputFileError

KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_target(out: Path) -> None:
    """`out` may be written: a new name or a regular file, in a directory that exists."""
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise InputFileError(f"cannot write {out}: {err.strerror or err}") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise InputFileError(f"cannot write {out}: it is a symbolic link; name a regular file")
        for test, kind in KINDS:
            if test(st.st_mode):
                raise InputFileError(f"cannot write {out}: it is {kind}; name a regular file")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputFileError(f"cannot write {out}: directory {parent} does not exist")


OS_ERROR = re.compile(r"(?:underlying IO error: )?([^:]*?) \(os error (\d+)\)")


def io_reason(err: BaseException) -> tuple[str, int | None] | None:
    """(reason, errno) when `err` is the operating system refusing a write: an OSError, or the same wrapped
    by a library (polars reports a full disk as a ComputeError "... (os error 28)"); else None."""
    if isinstance(err, OSError):
        return err.strerror or str(err), err.errno
    found = OS_ERROR.search(str(err))
    return (found.group(1).strip(), int(found.group(2))) if found else None


def failure(out: Path, err: BaseException) -> InputFileError:
    reason, code = io_reason(err) or (str(err), None)
    hint = "; free some space and try again" if code == errno.ENOSPC else ""
    return InputFileError(f"cannot write {out}: {reason}{hint}")


@contextmanager
def atomic_write(out: Path) -> Iterator[Path]:
    """A temp path beside `out` to write to; renamed over `out` when the block succeeds, removed if it fails."""
    out = Path(out)
    check_target(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, out)
    except Exception as err:
        if io_reason(err) is None:
            raise
        raise failure(out, err) from None
    finally:
        tmp.unlink(missing_ok=True)
