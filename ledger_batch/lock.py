"""One run at a time per workspace: a lock file, and a note of who holds it.

``watch``, ``ingest``, the report commands and ``reopen`` take the lock for as long as they
change the store or write reports. A second run waits up to ``limits.lock_wait_seconds``,
then stops with a message naming the run that holds the workspace. A free workspace is taken
at once, before the rules file is read.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from ledger_batch.errors import WorkspaceBusy

LOCK_NAME = ".ledger-batch.lock"
HOLDER_NAME = ".ledger-batch.lock.json"


def _holder_text(root: Path) -> str:
    try:
        holder = json.loads((root / HOLDER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "?"
    return (
        f"{holder.get('activity', '?')} (pid {holder.get('pid', '?')}, "
        f"{holder.get('user', '?')}@{holder.get('host', '?')}, {holder.get('since', '?')})"
    )


@contextmanager
def workspace_lock(
    root: Path, activity: str, wait_seconds: float | Callable[[], float]
) -> Iterator[None]:
    """Hold the workspace for ``activity``; WorkspaceBusy after ``wait_seconds``, which may be
    given as a function: asked only when another run holds the workspace (a free workspace is
    taken without reading the rules file, so an ingest can start its early read first)."""
    lock = FileLock(str(root / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        seconds = wait_seconds() if callable(wait_seconds) else wait_seconds
        try:
            lock.acquire(timeout=seconds)
        except Timeout as timeout:
            raise WorkspaceBusy(
                "workspace_busy", holder=_holder_text(root), seconds=seconds
            ) from timeout
    holder_path = root / HOLDER_NAME
    try:
        holder_path.write_text(
            json.dumps(
                {
                    "activity": activity,
                    "pid": os.getpid(),
                    "user": os_user(),
                    "host": socket.gethostname(),
                    "since": datetime.now().isoformat(timespec="seconds"),
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        yield
    finally:
        holder_path.unlink(missing_ok=True)
        lock.release()


def os_user() -> str:
    """The operating-system user running this command (kept with every change to the store)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
