"""Files that appear whole or not at all: written under a temporary name in the same folder
and renamed into place, so a killed run leaves the previous version readable."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger_batch.errors import OutputError


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it when the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # One fixed name per report: runs never overlap (the workspace lock), and a file left by a
    # killed run is simply written over by the next one.
    temporary = target.with_name(f".{target.name}.part")
    temporary.unlink(missing_ok=True)
    try:
        yield temporary
        os.chmod(temporary, _usual_file_mode())
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _usual_file_mode() -> int:
    """The mode ``open(path, "w")`` gives; mkstemp makes files readable by the owner only."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(target: Path, write: Callable[[Path], object]) -> Path:
    """Run ``write`` on a temporary path and move the result onto ``target``.

    A disk that is full (or a file held open by Excel on Windows) is an OutputError naming
    the file; whatever was at ``target`` before is left as it was.
    """
    reason = None
    quiet, sys.unraisablehook = sys.unraisablehook, lambda _: None
    try:
        try:
            with atomic_path(target) as temporary:
                write(temporary)
        except OSError as error:
            reason = error.strerror or str(error)
        # Leaving the except clause frees the writer's half-written zip; on a full disk its
        # finaliser fails to close it again and would print a second, unhelpful traceback.
    finally:
        sys.unraisablehook = quiet
    if reason is not None:
        raise OutputError("cannot_write", path=str(target), reason=reason)
    return target
