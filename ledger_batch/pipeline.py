"""The one place that chains the stages for dropped files: read → normalise → validate → store.

Each file is accepted whole or rejected whole (SPEC §4). Accepted originals go to
``archive/``; rejected ones to ``quarantine/`` with an error report beside them. Files of
one run are processed in calendar order, a month's roster before its ledgers, whatever
order they arrived in; several files are read side by side in worker processes.
"""

from __future__ import annotations

import ctypes
import heapq
import multiprocessing
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import partial
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TYPE_CHECKING

from ledger_batch.atomic import write_atomically
from ledger_batch.config import Settings
from ledger_batch.early_read import EarlyRead, EarlyTake, file_sha256, take
from ledger_batch.errors import FileRejected, OutputError, Problem, capped, problem_count
from ledger_batch.guard import SPREADSHEET_SUFFIXES, detect_format, rejection
from ledger_batch.lazy import lazy_module
from ledger_batch.memory import reusing_freed_memory, start_up_frozen
from ledger_batch.normalise import LedgerFile, SheetRecords, normalise_workbook
from ledger_batch.periods import assessment_year_of
from ledger_batch.read import EarlyLookup, read_workbook
from ledger_batch.store import (
    STAGED_LEDGERS,
    STAGING_ERRORS,
    StagedSheet,
    Store,
    StoredFile,
    StoredItems,
    stage_rows,
)
from ledger_batch.validate import FILLED_BY_VALIDATION, StoreContext, validate_file
from ledger_batch.workspace import Workspace, earliest_order, ignore_reason, scratch_prefix

if TYPE_CHECKING:
    from ledger_batch import templating
else:  # jinja2 loads only when an error report is written
    templating = lazy_module("templating")


LEDGER_LABELS = {
    "submissions": "信息",
    "attendance": "缺席",
    "violations": "通报",
    "adjustments": "加减分",
}


@dataclass
class FileOutcome:
    """What happened to one dropped file."""

    path: Path
    status: str
    """stored, duplicate, quarantined, skipped (still copying) or ignored (lock file)."""
    period: str = ""
    kind: str = ""
    version: int = 0
    problems: list[Problem] = field(default_factory=list)
    moved_to: Path | None = None
    report_path: Path | None = None
    replaced_version: int | None = None
    changes: list[PersonChange] = field(default_factory=list)


@dataclass
class _Parsed:
    path: Path
    sha256: str
    ledger_file: LedgerFile | None
    problems: list[Problem]
    staged: Path | None = None
    """Where a reader staged the file's items (``store.stage_rows``), if it did."""


def ignored_outcome(path: Path) -> FileOutcome | None:
    """The outcome for a lock file or OS clutter, which is left where it is; None otherwise."""
    reason = ignore_reason(path)
    if reason is None:
        return None
    return FileOutcome(path, "ignored", problems=[Problem(reason, "note", file=path.name)])


def ingest(
    workspace: Workspace,
    paths: Iterable[Path],
    *,
    dry_run: bool = False,
    on_step: Callable[[], None] | None = None,
    reason: str | None = None,
    early: EarlyRead | None = None,
) -> list[FileOutcome]:
    """Validate and store each file; move it to archive/ or quarantine/ (not when dry_run).

    ``on_step`` is called twice per file (read, then stored or quarantined), for progress;
    ``reason`` is recorded with every month a file replaces; ``early`` is an early read of
    the files started by the caller (early_read.py), which stays the caller's to close.
    """
    step = on_step or (lambda: None)
    outcomes: list[FileOutcome] = []
    candidates: list[Path] = []
    for path in _each_once(paths):
        ignored = ignored_outcome(path)
        if ignored is not None:
            outcomes.append(ignored)
        else:
            candidates.append(path)
    settled, still_copying = _settled(candidates, workspace.settings.limits.settle_seconds)
    outcomes += [
        FileOutcome(p, "skipped", problems=[Problem("still_copying", "note", file=p.name)])
        for p in still_copying
    ]
    idle = _WhileWaiting()
    with (
        reusing_freed_memory(),
        start_up_frozen(),
        _parsed_in_order(settled, workspace, step, early, idle) as parsed,
        _store_for(workspace, dry_run) as store,
    ):
        idle.task = store.checkpoint
        for item in parsed:
            try:
                outcomes.append(_ingest_one(item, workspace, store, dry_run, reason))
            except sqlite3.OperationalError as error:  # the file's transaction rolled back
                if "full" not in str(error):
                    raise
                raise OutputError(
                    "cannot_write", path=str(workspace.store_path), reason=str(error)
                ) from error
            finally:
                if item.staged is not None:
                    item.staged.unlink(missing_ok=True)
            step()
    return outcomes


@dataclass
class _WhileWaiting:
    """What the run does when the next file is not read yet (the store's WAL checkpoint, so
    that little is left to copy when the store is closed, after the last file): set once
    the store is open, which is after the readers are forked."""

    task: Callable[[], None] | None = None


def _each_once(paths: Iterable[Path]) -> list[Path]:
    """``paths`` without a file named again (``ingest a.xlsx ./a.xlsx``): read once."""
    seen: set[Path] = set()
    once = []
    for path in paths:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            once.append(path)
    return once


@contextmanager
def _store_for(workspace: Workspace, dry_run: bool) -> Iterator[Store]:
    """The workspace store, or for a dry run a throw-away copy of it."""
    if not dry_run:
        with workspace.store() as store:
            yield store
        return
    with tempfile.TemporaryDirectory(prefix="ledger-batch-check-") as folder:
        copy_path = Path(folder) / "check.db"
        with (
            closing(sqlite3.connect(workspace.store_path)) as source,
            closing(sqlite3.connect(copy_path)) as target,
        ):
            source.backup(target)
        store = Store(copy_path)
        try:
            yield store
        finally:
            store.close()


def _settled(paths: list[Path], settle_seconds: float) -> tuple[list[Path], list[Path]]:
    """Split into files that have finished arriving and files still changing."""
    now = time.time()
    first = {p: p.stat() for p in paths}
    young = [p for p, st in first.items() if now - st.st_mtime < settle_seconds]
    if not young:
        return paths, []
    time.sleep(min(settle_seconds, 1.0))
    changing = {
        p
        for p in young
        if (st := p.stat()).st_size != first[p].st_size or st.st_mtime != first[p].st_mtime
    }
    return [p for p in paths if p not in changing], sorted(changing)


def read_ledger_file(
    path: Path, settings: Settings, early: EarlyLookup | None = None
) -> LedgerFile:
    """Guard, read and normalise one file; FileRejected for file-level problems. ``early``
    gives the early read's result for the file, if there is one (early_read.py)."""
    limits = settings.limits
    if path.suffix.lower() not in SPREADSHEET_SUFFIXES and path.suffix:
        with path.open("rb") as stream:
            head = stream.read(8)
        if not head.startswith((b"PK", b"\xd0\xcf")):
            raise rejection(path, "not_a_spreadsheet", detected=path.suffix or "?")
    if path.stat().st_size > limits.max_file_bytes:
        raise rejection(path, "too_large", detail=f"{path.stat().st_size:,} bytes")
    with path.open("rb") as stream:
        head = stream.read(4096)
    file_format = detect_format(path, head)
    raw = read_workbook(path, file_format, limits, early)
    return normalise_workbook(raw, settings.rules.year_start_month, limits.max_rows_per_sheet)


def _parse(
    path: Path,
    settings: Settings,
    stage_in: Path | None = None,
    early: EarlyTake | None = None,
) -> _Parsed:
    """Read one file; with ``stage_in`` (a reader process's), also stage its items there."""
    try:
        sha = file_sha256(path)
        ledger_file = read_ledger_file(path, settings, partial(early, sha=sha) if early else None)
    except FileRejected as rejected:
        return _Parsed(path, "", None, rejected.problems)
    except OSError as exc:
        return _Parsed(
            path, "", None, [Problem("corrupt", file=path.name, params={"detail": str(exc)})]
        )
    problems = list(ledger_file.problems)
    staged = _staged(ledger_file, stage_in) if stage_in and not _errors(problems) else None
    return _Parsed(path, sha, ledger_file, problems, staged)


def _staged(ledger_file: LedgerFile, folder: Path) -> Path | None:
    """The file's items staged in a new file in ``folder``; None when it has none, or when
    staging fails (a full disk, say): the run then stores them itself."""
    sheet = _staged_sheet(ledger_file)
    if sheet is None or sheet.records.empty:
        return None
    staged: Path | None = None
    try:
        handle, name = tempfile.mkstemp(suffix=".db", dir=folder)
        os.close(handle)
        staged = Path(name)
        stage_rows(staged, sheet.ledger, sheet.records)
    except STAGING_ERRORS:
        if staged is not None:
            staged.unlink(missing_ok=True)
        return None
    return staged


def _staged_sheet(ledger_file: LedgerFile) -> SheetRecords | None:
    """The file's sheet of a ledger readers stage (``store.STAGED_LEDGERS``), if it has one."""
    return next((ledger_file.sheets[n] for n in STAGED_LEDGERS if n in ledger_file.sheets), None)


def _processing_order(item: _Parsed) -> tuple[int, str, int, str]:
    """Months in calendar order, a month's roster before its ledgers; unreadable files last."""
    ledger_file = item.ledger_file
    if ledger_file is None:
        return (1, "", 0, item.path.name)
    rank = 0 if ledger_file.kind == "roster" else 1
    return (0, ledger_file.period, rank, item.path.name)


@contextmanager
def _parsed_in_order(
    paths: list[Path],
    workspace: Workspace,
    step: Callable[[], None],
    early: EarlyRead | None,
    idle: _WhileWaiting,
) -> Iterator[Iterator[_Parsed]]:
    """The files read and normalised, handed over in processing order.

    Reading is the costly, independent part of a file's way in, so reader processes read
    side by side (``limits.workers``) while this process validates and stores in order: a
    file is handed over as soon as no file still being read could come before it. Two files
    per reader and one more are read ahead, which bounds the memory a large drop takes.
    Readers also stage each file's items for the run (``store.STAGED_LEDGERS``).
    """
    settings = workspace.settings
    ordered = sorted(paths, key=earliest_order)
    readers = _reader_count(settings.limits.workers, len(ordered))
    _remove_killed_runs_staging(workspace.root)
    if not readers:
        lookup = early.take if early else None
        yield _in_order(ordered, (_parse(path, settings, None, lookup) for path in ordered), step)
        return
    if early:  # the readers take over: what the early read finished is theirs
        early.finish(READER_NICENESS)
    lookup = partial(take, early.folder) if early else None
    staging = _staging_folder(workspace.root)
    stage_in = Path(staging.name) if staging else None
    pool = ProcessPoolExecutor(readers, mp_context=_pool_context(), initializer=_worker_setup)
    ahead = readers * 2 + 1
    try:
        window = deque(
            (_submitted(pool, path, settings, stage_in, lookup), path) for path in ordered[:ahead]
        )
        waiting = iter(ordered[ahead:])

        def results() -> Iterator[_Parsed]:
            while window:
                future, path = window.popleft()
                try:
                    item = _result(future, pool, idle)
                except BrokenProcessPool:  # a reader died (the OOM killer, say): read it here
                    item = _parse(path, settings, None, lookup)
                if (following := next(waiting, None)) is not None:
                    window.append(
                        (_submitted(pool, following, settings, stage_in, lookup), following)
                    )
                if not window:  # all read: the readers end while the run stores the last
                    pool.shutdown(wait=False)
                yield item

        yield _in_order(ordered, results(), step)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if staging:
            staging.cleanup()


def _remove_killed_runs_staging(root: Path) -> None:
    """Remove the staging folders that killed runs of this workspace left behind: those whose
    process is gone (a check may run beside an ingest, each with its own folder). Every
    ingest does this, whether or not it reads side by side itself."""
    prefix = scratch_prefix(root)
    for left in Path(tempfile.gettempdir()).glob(prefix + "*"):
        owner = left.name.removeprefix(prefix).split("-")[0]
        if owner.isdigit() and not _running(int(owner)):
            shutil.rmtree(left, ignore_errors=True)


def _staging_folder(root: Path) -> tempfile.TemporaryDirectory[str] | None:
    """A new folder for the readers' staged items, named with this process's id; None when
    no folder can be made: the run then stores the rows itself."""
    try:
        return tempfile.TemporaryDirectory(
            prefix=f"{scratch_prefix(root)}{os.getpid()}-", ignore_cleanup_errors=True
        )
    except OSError:
        return None


def _running(pid: int) -> bool:
    """Whether a process with this id exists (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _result(
    future: Future[_Parsed], pool: ProcessPoolExecutor, idle: _WhileWaiting | None = None
) -> _Parsed:
    """A reader's result; BrokenProcessPool once a reader has died.

    Python 3.11's pool marks the files it still holds as failed without the lock its
    ``submit`` takes, so a file handed over just as a reader dies can be lost and its result
    never come (measured: about one run in fifteen with a reader killed at start). The wait
    therefore also ends when the pool says it is broken. A run about to wait does ``idle``'s
    task first.
    """
    if idle is not None and idle.task is not None and not future.done():
        idle.task()  # once: the file may be read by the time it is done
    while True:
        done, _ = wait([future], timeout=0.5)
        if done:
            return future.result()
        if getattr(pool, "_broken", False):
            raise BrokenProcessPool("a reader process ended")


def _submitted(
    pool: ProcessPoolExecutor,
    path: Path,
    settings: Settings,
    stage_in: Path | None,
    early: EarlyTake | None,
) -> Future[_Parsed]:
    """``path`` handed to a reader; once a reader has died, read here when its turn comes."""
    try:
        return pool.submit(_parse, path, settings, stage_in, early)
    except BrokenProcessPool:
        broken: Future[_Parsed] = Future()
        broken.set_exception(BrokenProcessPool("a reader process ended"))
        return broken


def _in_order(
    ordered: list[Path], results: Iterator[_Parsed], step: Callable[[], None]
) -> Iterator[_Parsed]:
    """``results`` (one per path of ``ordered``, in that order) re-sorted by processing order."""
    bounds = [earliest_order(path) for path in ordered]
    held: list[tuple[tuple[int, str, int, str], int, _Parsed]] = []
    for position, item in enumerate(results):
        step()
        heapq.heappush(held, (_processing_order(item), position, item))
        following = bounds[position + 1] if position + 1 < len(bounds) else None
        while held and (following is None or held[0][0] <= following):
            yield heapq.heappop(held)[2]


def _reader_count(configured: int, files: int) -> int:
    """Reader processes for ``files`` files: ``workers`` of them (0: one per CPU core, at most
    4); none when only one would read, or for a single file (the run reads it itself)."""
    if files <= 1:
        return 0
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    wanted = configured or min(available or os.cpu_count() or 1, 4)
    return 0 if wanted <= 1 else min(wanted, files)


def _pool_context() -> BaseContext:
    """Fork where there is fork: the workers start with everything already imported."""
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return multiprocessing.get_context()


READER_NICENESS = 19
"""Readers yield the CPU to the run: every file waits on the run, which
validates and stores in order, while the readers only need to stay ahead of it. With one
reader per core they take what the run leaves (measured on 2 cores: 1.8 s for the group's
year, against 2.2 s with readers at the run's priority and 2.3 s with one reader fewer)."""


def _worker_setup() -> None:
    """A reading worker leaves Ctrl-C to the run that started it, and ends with it: it holds
    a copy of the workspace lock, which must not outlive that run. It reads at a lower
    priority than the run (``READER_NICENESS``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):
        os.nice(READER_NICENESS)
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the run already ended
            os._exit(1)


def _errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


CELL_ERRORS = frozenset(
    {
        "required_blank",
        "bad_date",
        "bad_number",
        "bad_choice",
        "text_too_long",
        "control_character",
        "formula_without_value",
        "excel_error",
        "merged_cells",
    }
)
"""Errors confined to one cell: the file is still cross-checked, so that its error report
lists every problem at once (SPEC §4) rather than one stage's problems per re-drop."""


def _closed_year_problem(
    ledger_file: LedgerFile, workspace: Workspace, store: Store
) -> Problem | None:
    """A "year closed" error when the file's month belongs to a closed assessment year."""
    year = assessment_year_of(ledger_file.period, workspace.settings.rules.year_start_month)
    if store.closed_year(year) is None:
        return None
    return Problem(
        "year_closed",
        file=ledger_file.file_name,
        params={"year": year, "period": ledger_file.period},
    )


def _ingest_one(
    item: _Parsed, workspace: Workspace, store: Store, dry_run: bool, reason: str | None
) -> FileOutcome:
    ledger_file = item.ledger_file
    if ledger_file is None or any(p.code not in CELL_ERRORS for p in _errors(item.problems)):
        return _quarantine(item.path, item.problems, workspace, dry_run)
    closed = _closed_year_problem(ledger_file, workspace, store)
    if closed is not None:
        return _quarantine(item.path, [closed, *item.problems], workspace, dry_run)
    duplicate = store.find_active_duplicate(item.sha256, ledger_file.period)
    if duplicate is not None:
        note = Problem(
            "duplicate_file",
            "note",
            file=item.path.name,
            params={"period": duplicate.period, "version": duplicate.version},
        )
        moved = None if dry_run else _move_aside(item.path, workspace, "duplicates")
        return FileOutcome(
            item.path,
            "duplicate",
            ledger_file.period,
            ledger_file.kind,
            duplicate.version,
            [note],
            moved,
        )
    context = StoreContext(
        store.roster_for(ledger_file.period), StoredItems(store, ledger_file.period)
    )
    staged = _as_staged(item.staged, ledger_file)
    settings = workspace.settings
    problems = item.problems + [
        replace_file(p, item.path.name)
        for p in validate_file(ledger_file, context, settings.rules, settings.seats)
    ]
    if _errors(problems):
        return _quarantine(item.path, problems, workspace, dry_run)
    return _store(item, ledger_file, problems, workspace, store, dry_run, reason, staged)


def _as_staged(path: Path | None, ledger_file: LedgerFile) -> StagedSheet | None:
    """The staged sheet, with its fillable columns as read (taken before validation)."""
    sheet = _staged_sheet(ledger_file)
    if path is None or sheet is None:
        return None
    name = sheet.ledger.name
    as_read = {column: sheet.records[column].tolist() for column in FILLED_BY_VALIDATION[name]}
    return StagedSheet(path, name, as_read)


def replace_file(problem: Problem, file_name: str) -> Problem:
    """The problem with its file named."""
    return problem if problem.file else replace(problem, file=file_name)


def _store(
    item: _Parsed,
    ledger_file: LedgerFile,
    problems: list[Problem],
    workspace: Workspace,
    store: Store,
    dry_run: bool,
    reason: str | None,
    staged: StagedSheet | None,
) -> FileOutcome:
    kind, period = ledger_file.kind, ledger_file.period
    version = store.next_version(period, kind)
    previous = {name: store.active_file(period, name) for name in LEDGER_LABELS}
    replaced = store.active_file(period, _main_ledger(ledger_file))
    archived = _archive_path(workspace, ledger_file, item.path, version, item.sha256)
    if not dry_run:
        write_atomically(archived, lambda copy: shutil.copy2(item.path, copy))
    file_id = store.store_file(
        ledger_file, item.sha256, str(archived.relative_to(workspace.root)), version, staged
    )
    changes = person_changes(store, previous, file_id) if replaced else []
    if replaced is not None:
        store.record_event(
            "replace",
            period,
            {
                "file": item.path.name,
                "version": version,
                "replaced_version": replaced.version,
                "changes": [asdict(change) for change in changes],
                "reason": reason,
            },
        )
    if not dry_run:
        item.path.unlink()
    return FileOutcome(
        item.path,
        "stored",
        period,
        kind,
        version,
        problems,
        None if dry_run else archived,
        replaced_version=replaced.version if replaced else None,
        changes=changes,
    )


def _main_ledger(ledger_file: LedgerFile) -> str:
    """The ledger whose earlier version this file replaces (its month's submissions, usually)."""
    if ledger_file.kind == "roster":
        return "roster"
    if "submissions" in ledger_file.sheets:
        return "submissions"
    return next(name for name in ledger_file.sheets if name != "roster")


def _archive_path(
    workspace: Workspace, ledger_file: LedgerFile, original: Path, version: int, sha256: str
) -> Path:
    folder = workspace.folder("archive") / ledger_file.period
    return folder / f"{original.stem}.v{version}-{sha256[:8]}{original.suffix.lower()}"


@dataclass(frozen=True)
class PersonChange:
    """How one person's rows changed when a month was replaced: label → (before, after)."""

    employee_id: str
    name: str
    moves: dict[str, tuple[int, int]]


def person_changes(
    store: Store, previous: Mapping[str, StoredFile | None], file_id: int
) -> list[PersonChange]:
    """Per person, how the counts of each ledger changed between the old and new version."""
    counts: dict[tuple[str, str], dict[str, list[int]]] = {}
    for ledger_name, label in LEDGER_LABELS.items():
        old_file = previous.get(ledger_name)
        versions = (
            store.load_file_rows(ledger_name, old_file.file_id) if old_file else None,
            store.load_file_rows(ledger_name, file_id),
        )
        for position, frame in enumerate(versions):
            if frame is None or frame.empty:
                continue
            if ledger_name == "attendance":
                frame = frame[frame["presence"] == "缺席"]
            for (employee_id, name), size in frame.groupby(["employee_id", "name"]).size().items():
                entry = counts.setdefault((employee_id, name), {})
                entry.setdefault(label, [0, 0])[position] = int(size)
    changes = []
    for (employee_id, name), by_label in sorted(counts.items()):
        moves = {label: (v[0], v[1]) for label, v in by_label.items() if v[0] != v[1]}
        if moves:
            changes.append(PersonChange(employee_id, name, moves))
    return changes


def _move_aside(path: Path, workspace: Workspace, folder_name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target_dir = workspace.folder("archive") / folder_name
    target_dir.mkdir(parents=True, exist_ok=True)
    target = _free_name(target_dir / f"{stamp}_{path.name}")
    shutil.move(str(path), target)
    return target


def _free_name(target: Path) -> Path:
    counter = 1
    candidate = target
    while candidate.exists():
        candidate = target.with_name(f"{target.stem}-{counter}{target.suffix}")
        counter += 1
    return candidate


def _quarantine(
    path: Path, problems: list[Problem], workspace: Workspace, dry_run: bool
) -> FileOutcome:
    problems = capped(problems)
    if dry_run:
        return FileOutcome(path, "quarantined", problems=problems)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = _free_name(workspace.folder("quarantine") / f"{stamp}_{path.name}")
    report = target.with_name(target.name + ".错误报告.txt")
    text = error_report_text(path.name, problems)
    write_atomically(report, lambda part: part.write_text(text, encoding="utf-8-sig"))
    shutil.move(str(path), target)
    return FileOutcome(path, "quarantined", problems=problems, moved_to=target, report_path=report)


def error_report_text(file_name: str, problems: list[Problem]) -> str:
    """The error report left beside a quarantined file, Chinese and English."""
    order = {"error": 0, "warning": 1, "note": 2}
    ordered = sorted(problems, key=lambda p: (order[p.severity], p.sheet, p.row or 0))
    rows = [
        {
            "severity": p.severity,
            "file": p.file or file_name,
            "sheet": p.sheet,
            "row": p.row or "",
            "column": p.column,
            "cell": p.cell,
            "value": p.value,
            "what_zh": p.what("zh"),
            "fix_zh": p.fix("zh"),
            "what_en": p.what("en"),
            "fix_en": p.fix("en"),
        }
        for p in ordered
    ]
    return (
        templating.environment()
        .get_template("error_report.txt.j2")
        .render(
            file_name=file_name,
            problems=rows,
            errors=problem_count(problems),
            written_at=datetime.now().isoformat(timespec="seconds"),
        )
    )
