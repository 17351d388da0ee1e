"""An early read: a head start on a drop's workbooks while the run is still starting.

An ingest spends its first second loading pandas, pydantic and the rest on one core while
the others wait: its reader processes are forked once everything has loaded. So once an
ingest has taken the workspace and listed its files, with the guard and calamine loaded but
not yet pandas nor the rules file's models (this module loads the first two; the pipeline,
the store and config.py load on first use), it forks one process that reads the workbooks
in processing order — the guard, then every sheet as Arrow text, exactly what a reader does
first — leaving each file's result in a folder of its own. The rules file is then loaded
while the early read reads. The early read guards with the rules file's limits: the
defaults, unless the file sets one of the guard's to other than its default, in which case
it is loaded first (``_guard_limits``). (Forked before Arrow and calamine had loaded, the
early read spent its head start loading them again, and gained nothing measurable.)

Each file is claimed by whoever comes to it first (an exclusive create): the early read,
the run or a reader; one that finds a file claimed by the early read waits for its result
rather than read it twice, and takes it instead of reading the file. When the run starts
its readers it tells the early read to stop after the file it is reading; a run that reads
its files itself (one file, ``workers = 1``) lets it go on.

A result is taken only for the same file: the early read checks that device, inode, size,
modification time and SHA-256 did not change while it read, and the reader takes the result
only if its SHA-256 is that of the file it stores (a file rewritten in place can keep its
size and time). Everything else — a
file the early read did not reach, one it could not read or that its guard refused (the
reader then rejects it with its messages), CSV, xls, ods — is read as before.

The early read runs where there is ``fork`` and more than one core, never on the benchmark's
openpyxl path, and at the run's priority (the run may be waiting for the file it is reading)
until the readers take over, then at theirs; it dies with the run (Linux; elsewhere it stops
at its next file) and its folder goes with the run, or with the workspace's next ingest after
a killed run (``scratch_prefix``).
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import os
import pickle
import shutil
import signal
import sys
import tempfile
import time
import tomllib
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

import fastexcel

from ledger_batch.guard import detect_format, guard_workbook
from ledger_batch.limits import DEFAULT_GUARD_LIMITS, GUARD_LIMIT_NAMES, GuardLimits
from ledger_batch.memory import freeze_live_objects
from ledger_batch.workspace import Workspace, ignore_reason, scratch_prefix

if sys.platform != "win32":  # the early read needs fork: there is none on Windows
    import fcntl

if TYPE_CHECKING:
    import pyarrow as pa

    from ledger_batch.sheet_layout import SheetLayout

READER_VARIABLE = "LEDGER_BATCH_READER"
"""Set to ``openpyxl`` to read xlsx through pandas' default engine: only for the benchmark,
which compares the same ingest path on both readers (and then nothing is read early)."""

EARLY_SUFFIXES = (".xlsx", ".xlsm")
"""The files read early: calamine picks its parser by the extension, and every monthly
ledger the office keeps is an xlsx; other formats are read by the readers as before."""

WAIT_STEP_SECONDS = 0.005
"""How often a reader waiting for a file the early read is reading looks again."""

ALIVE_NAME, STOP_NAME = "alive.lock", "stop"
"""In the early read's folder: the file it keeps locked while it runs; the file the run
creates to tell it to stop after the file it is reading."""


class ArrowSheet(NamedTuple):
    """One sheet as calamine reads it: its name, the 1-based Excel column of each column,
    and its cells as Arrow text (None for a sheet without cells)."""

    name: str
    columns: list[int]
    cells: pa.RecordBatch | None


def arrow_sheets(path: Path) -> list[ArrowSheet]:
    """Every sheet of a guarded workbook as Arrow text (fastexcel.FastExcelError when
    calamine cannot read it). The readers' one way of calling calamine, early or not."""
    reader = fastexcel.read_excel(path)
    return [_arrow_sheet(reader, name) for name in reader.sheet_names]


def _arrow_sheet(reader: fastexcel.ExcelReader, name: str) -> ArrowSheet:
    """One sheet loaded eagerly: for an xlsx, calamine then reads the cells by reference to
    the shared strings rather than copying each into a cell of its own first (a month of the
    group's items: 131 → 109 ms, the same Arrow table). An eager load returns no column
    information; ``use_columns`` is shown each column's, and keeps every one."""
    columns: list[int] = []

    def keep(column: fastexcel.ColumnInfoNoDtype) -> bool:
        columns.append(column.absolute_index + 1)
        return True

    cells = reader.load_sheet(
        name, header_row=None, dtypes="string", skip_rows=0, use_columns=keep, eager=True
    )
    if cells.num_columns == 0 or cells.num_rows == 0:
        return ArrowSheet(name, [], None)
    return ArrowSheet(name, columns, cells)


@dataclass(frozen=True)
class EarlyResult:
    """What the early read found in one file: the guard's layouts and the sheets."""

    sha256: str
    """The file's bytes as read (a file rewritten in place may keep its size and time)."""
    layouts: dict[str, SheetLayout]
    sheets: list[ArrowSheet]


class EarlyTake(Protocol):
    """``take`` for one early read: a file's result given the file and its SHA-256."""

    def __call__(self, path: Path, sha: str) -> EarlyResult | None: ...


@dataclass
class EarlyRead:
    """The early-read process of one ingest and the folder it leaves its results in."""

    folder: Path
    pid: int
    limits: tuple[int, ...]
    """The guard's limits it reads with (``guards_as``)."""
    used: int = 0
    """Results the run took itself (readers count theirs in their own processes)."""
    _running: bool = field(default=True, repr=False)

    def guards_as(self, limits: GuardLimits) -> bool:
        """Whether it guards with ``limits``: the rules file, loaded after it started, may
        have been changed in between, and a result guarded otherwise must not be taken."""
        return self.limits == _guard_values(limits)

    def finish(self, niceness: int) -> None:
        """Let the early read end after the file it is reading: the readers take over, and
        one that comes to that file waits for it (``take``). Until then it runs at the
        readers' ``niceness``, as one of them (a process may lower its own's priority)."""
        with suppress(OSError):
            (self.folder / STOP_NAME).touch()
        with suppress(OSError):
            now = os.getpriority(os.PRIO_PROCESS, self.pid)
            os.setpriority(os.PRIO_PROCESS, self.pid, max(now, min(now + niceness, 19)))

    def take(self, path: Path, sha: str) -> EarlyResult | None:
        """``take`` for the run itself, counted in ``used``."""
        result = take(self.folder, path, sha)
        self.used += result is not None
        return result

    def close(self) -> None:
        """End the early read, and remove the folder with whatever is left in it."""
        if self._running:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self._running = False
        shutil.rmtree(self.folder, ignore_errors=True)


def start(workspace: Workspace, paths: list[Path]) -> EarlyRead | None:
    """Fork the early read over ``paths`` (in the order given); None where there is no
    fork, only one core, no workbook to read early, no folder to leave results in, or the
    workspace turned it off (``limits.read_early``)."""
    wanted = [p for p in paths if p.suffix.lower() in EARLY_SUFFIXES and not ignore_reason(p)]
    if not wanted:
        return None
    limits = _guard_limits(workspace)
    if (
        limits is None
        or not hasattr(os, "fork")
        or os.environ.get(READER_VARIABLE) == "openpyxl"
        or _cores() < 2
    ):
        return None
    try:
        folder = Path(tempfile.mkdtemp(prefix=f"{scratch_prefix(workspace.root)}{os.getpid()}-"))
    except OSError:
        return None
    parent = os.getpid()
    # Neither process's cycle collector walks the start-up's 80,000 objects again (as
    # memory.start_up_frozen, which takes them back in once the ingest is done).
    freeze_live_objects()
    try:
        pid = os.fork()
    except OSError:  # no memory or processes left for it: the readers read everything
        gc.unfreeze()
        shutil.rmtree(folder, ignore_errors=True)
        return None
    if pid == 0:  # the early read: never returns, never runs the parent's exit handlers
        try:
            _read_ahead(wanted, limits, folder, parent)
        finally:
            os._exit(0)
    return EarlyRead(folder, pid, _guard_values(limits))


def _guard_limits(workspace: Workspace) -> GuardLimits | None:
    """The limits the early read guards with; None when the workspace turns it off.

    A rules file that sets none of the guard's limits (``limits.GUARD_LIMIT_NAMES``) to
    other than its default and leaves ``read_early`` as it is or sets it to true or false is
    read for those keys alone, and the early read guards with the defaults, which are then
    the rules file's limits too:
    it starts before the rules file's models load (pydantic, about a quarter of a second on
    the one core the run starts on). Any other rules file is loaded whole first, and one
    that is wrong stops the run with its message before anything is read."""
    table = _limits_as_written(workspace.config_path)
    read_early = table.get("read_early", True) if table is not None else None
    if (
        table is not None
        and isinstance(read_early, bool)
        and all(_written_as_default(name, table[name]) for name in GUARD_LIMIT_NAMES & table.keys())
    ):
        return DEFAULT_GUARD_LIMITS if read_early else None
    limits = workspace.settings.limits
    return limits if limits.read_early else None


def _written_as_default(name: str, value: object) -> bool:
    """Whether a guard limit is written as its default (``init`` writes every one so), an
    integer equal to it: the rules file then sets nothing the defaults do not."""
    return type(value) is int and value == getattr(DEFAULT_GUARD_LIMITS, name)


def _guard_values(limits: GuardLimits) -> tuple[int, ...]:
    return tuple(getattr(limits, name) for name in sorted(GUARD_LIMIT_NAMES))


def _limits_as_written(config_path: Path) -> dict[str, object] | None:
    """The rules file's ``[limits]`` table as written (empty without one); None when the file
    cannot be read as TOML or ``limits`` is not a table (loading the file then says why)."""
    try:
        written = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = written.get("limits", {})
    return table if isinstance(table, dict) else None


def take(folder: Path, path: Path, sha: str) -> EarlyResult | None:
    """The early result for ``path`` in ``folder``, waiting for it while the early read is
    reading that file; None when the caller is to read the file itself — which it then
    has claimed, so the early read leaves it — or when the file is not the file read early
    (``sha``: the digest of the file the caller is storing)."""
    result_path = folder / _key(path)
    if not result_path.exists():
        try:
            if _claimed(folder, path):
                return None
        except OSError:
            return None
        while not result_path.exists() and _alive(folder):
            time.sleep(WAIT_STEP_SECONDS)
    try:
        with result_path.open("rb") as stream:
            result = pickle.load(stream)
        result_path.unlink()
    except (OSError, EOFError, pickle.UnpicklingError):
        return None
    if not isinstance(result, EarlyResult) or result.sha256 != sha:
        return None
    return result


def _read_ahead(paths: list[Path], limits: GuardLimits, folder: Path, parent: int) -> None:
    """The early read's life: each file not yet claimed by the run, in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the run already ended
        return
    alive = (folder / ALIVE_NAME).open("wb")  # held, locked, for as long as it runs
    fcntl.flock(alive, fcntl.LOCK_EX)
    for path in paths:
        if os.getppid() != parent:
            return  # the run was killed (where the system does not end us with it)
        try:
            if (folder / STOP_NAME).exists():
                return  # the readers have taken over
            if not _claimed(folder, path):
                continue  # the run, or a reader, reads it itself
        except OSError:
            return  # the folder is gone
        try:
            result = _read_early(path, limits)
        except Exception:  # anything at all: the reader reads the file and says what is wrong
            result = None
        partial = folder / f"{_key(path)}.partial"
        try:
            with partial.open("wb") as stream:
                pickle.dump(result, stream, protocol=pickle.HIGHEST_PROTOCOL)
            partial.rename(folder / _key(path))
        except OSError:
            return


def _read_early(path: Path, limits: GuardLimits) -> EarlyResult | None:
    """Guard and read one workbook as a reader would; None to leave it to the reader."""
    before = _identity(path)
    if before is None or before[2] > limits.max_file_bytes:
        return None
    with path.open("rb") as stream:
        head = stream.read(4096)
    if detect_format(path, head) != "xlsx":
        return None
    sha = file_sha256(path)
    layouts = guard_workbook(path, "xlsx", limits)
    sheets = arrow_sheets(path)
    if _identity(path) != before or file_sha256(path) != sha:
        return None
    return EarlyResult(sha, layouts, sheets)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as the store records it."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _claimed(folder: Path, path: Path) -> bool:
    """Claim ``path`` for whoever asks first: True for the first asker, False after."""
    try:
        os.close(os.open(folder / f"{_key(path)}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _alive(folder: Path) -> bool:
    """Whether the early read still runs: it holds a lock on ``ALIVE_NAME`` until it ends
    (the system releases it however the process ends)."""
    try:
        with (folder / ALIVE_NAME).open("rb") as probe:
            fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def _key(path: Path) -> str:
    return hashlib.sha256(os.fsencode(path.resolve())).hexdigest()[:24]


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
