"""Watching the inbox: ingest each dropped file once it has finished arriving.

A file is taken when its size and modification time have not changed for
``limits.settle_seconds``, it can be opened, and (for xlsx/xlsm/ods) the zip's central
directory parses. A file that stays incomplete for three times that long is handed over
anyway and is quarantined with a clear error. Lock files and OS clutter are ignored.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import watchfiles

from ledger_batch.errors import WorkspaceBusy
from ledger_batch.guard import ZIP_MAGIC
from ledger_batch.lock import workspace_lock
from ledger_batch.pipeline import FileOutcome, ignored_outcome, ingest
from ledger_batch.workspace import Workspace, inbox_files


class StopSignal(Protocol):
    """Anything with ``is_set()`` (a ``threading.Event``)."""

    def is_set(self) -> bool: ...


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    unchanged_since: float


def looks_complete(path: Path) -> bool:
    """Whether the file can be opened and, for a zip-based workbook, its end record parses."""
    try:
        with path.open("rb") as stream:
            head = stream.read(4)
        if head.startswith(ZIP_MAGIC):
            with zipfile.ZipFile(path):
                pass
    except (OSError, zipfile.BadZipFile, EOFError):
        return False
    return True


class ArrivalTracker:
    """Remembers each inbox file's size and time between polls."""

    def __init__(self, settle_seconds: float) -> None:
        self.settle_seconds = settle_seconds
        self.seen: dict[Path, _Seen] = {}

    def ready(self, paths: list[Path], now: float | None = None) -> list[Path]:
        """The files that have finished arriving."""
        now = time.monotonic() if now is None else now
        ready = []
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                continue
            seen = self.seen.get(path)
            if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                self.seen[path] = _Seen(stat.st_size, stat.st_mtime_ns, now)
                continue
            quiet = now - seen.unchanged_since
            if quiet >= self.settle_seconds and (
                looks_complete(path) or quiet >= 3 * self.settle_seconds
            ):
                ready.append(path)
        self.seen = {p: s for p, s in self.seen.items() if p in set(paths)}
        return ready

    def forget(self, path: Path) -> None:
        """Stop tracking a file that has been handled."""
        self.seen.pop(path, None)


def watch_inbox(
    workspace: Workspace,
    on_outcome: Callable[[FileOutcome], None],
    *,
    poll_seconds: float = 1.0,
    stop: StopSignal | None = None,
    on_busy: Callable[[WorkspaceBusy], None] | None = None,
) -> None:
    """Ingest files as they arrive in the inbox until ``stop`` is set or Ctrl-C."""
    limits = workspace.settings.limits
    tracker = ArrivalTracker(limits.settle_seconds)
    inbox = workspace.folder("inbox")
    ignored: set[Path] = set()
    changes = watchfiles.watch(
        inbox,
        watch_filter=None,
        rust_timeout=int(poll_seconds * 1000),
        yield_on_timeout=True,
        stop_event=stop,
        raise_interrupt=False,
        recursive=False,
        debounce=int(poll_seconds * 500),
    )
    try:
        for _ in _first_then(changes):
            files = [p for p in inbox_files(workspace) if p not in ignored]
            for path in files:
                outcome = ignored_outcome(path)
                if outcome is not None:
                    ignored.add(path)
                    on_outcome(outcome)
            ready = tracker.ready([p for p in files if p not in ignored])
            if not ready:
                continue
            try:
                with workspace_lock(workspace.root, "watch", limits.lock_wait_seconds):
                    for outcome in ingest(workspace, ready):
                        tracker.forget(outcome.path)
                        on_outcome(outcome)
            except WorkspaceBusy as busy:
                # A long report run holds the workspace: say so, and try again at the next look.
                if on_busy is not None:
                    on_busy(busy)
    except KeyboardInterrupt:
        # Ctrl-C during an ingest (watchfiles handles it while waiting): the store keeps each
        # file whole or not at all, and a file not finished stays in the inbox. Stop as usual.
        return


def _first_then(
    changes: Iterator[set[tuple[watchfiles.Change, str]]],
) -> Iterator[set[tuple[watchfiles.Change, str]]]:
    """One pass straight away (files already waiting), then one per change or poll."""
    yield set()
    yield from changes
