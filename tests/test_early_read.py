"""The early read (early_read.py): while an ingest starts, one process guards and reads the
drop's workbooks ahead of the readers. What it read is used only for the very file it read,
and the clerk gets exactly what an ingest without it gives: the same store, the same
messages, the same refusals.
"""

from __future__ import annotations

import errno
import gc
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger_batch import early_read
from ledger_batch.cli import cli as ledger_batch_cli
from ledger_batch.config import Settings
from ledger_batch.early_read import file_sha256
from ledger_batch.pipeline import READER_NICENESS, ingest
from ledger_batch.resources import data_dir
from ledger_batch.workspace import Workspace, inbox_files
from tests.conftest import roster_rows
from tests.ledgers import item, write_workbook
from tests.test_side_by_side import run, table_rows

needs_two_cores = pytest.mark.skipif(
    early_read._cores() < 2, reason="the early read needs a second core"
)


def workspace_at(root: Path, workers: int, read_early: bool = True) -> Workspace:
    workspace, _ = Workspace.create(root)
    workspace.config_path.write_text(
        f"[limits]\nsettle_seconds = 0\nworkers = {workers}\n"
        f"read_early = {'true' if read_early else 'false'}\n",
        encoding="utf-8",
    )
    return workspace


def read_to_the_end(workspace: Workspace) -> early_read.EarlyRead:
    """The early read of the workspace's inbox, waited for until it has read every file."""
    early = early_read.start(workspace, inbox_files(workspace))
    assert early is not None
    ended(early)
    return early


def ended(early: early_read.EarlyRead) -> None:
    """Wait for the early read to end, leaving it for ``close`` to collect."""
    os.waitid(os.P_PID, early.pid, os.WEXITED | os.WNOWAIT)


def roster_and_march(workspace: Workspace) -> tuple[Path, Path]:
    """The term roster and a March of one item, dropped in the inbox."""
    inbox = workspace.folder("inbox")
    roster = write_workbook(inbox / "2025 人员名册.xlsx", {"人员名册": roster_rows()})
    march = write_workbook(
        inbox / "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "皮带跑偏")]}
    )
    return roster, march


def march_corrected_after_the_early_read(
    tmp_path: Path, workspace: Workspace
) -> tuple[early_read.EarlyRead, Path]:
    """The roster and March read early; then the clerk drops a corrected March before the
    run reads it: same name, same size. Returns the early read and March's path."""
    inbox = workspace.folder("inbox")
    write_workbook(inbox / "2025 人员名册.xlsx", {"人员名册": roster_rows()})
    month = write_workbook(
        inbox / "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "皮带跑偏")]}
    )
    early = read_to_the_end(workspace)
    corrected = write_workbook(
        tmp_path / "corrected.xlsx", {"信息报送": [item("2025-03-05", "张三", "皮带跑正")]}
    )
    shutil.copyfile(corrected, month)
    return early, month


def results_left(early: early_read.EarlyRead) -> list[Path]:
    """The early read's results not yet taken (its folder also holds claims and its lock)."""
    return [p for p in early.folder.iterdir() if p.suffix == "" and p.name != "stop"]


def sample_year(workspace: Workspace) -> None:
    for path in data_dir("sample_ledgers").iterdir():
        if path.suffix in (".xlsx", ".xls", ".ods", ".csv"):
            shutil.copy2(path, workspace.folder("inbox") / path.name)


@needs_two_cores
@pytest.mark.parametrize("workers", [1, 3])
def test_a_year_read_early_is_stored_exactly_as_one_read_without_it(tmp_path, workers):
    plain = workspace_at(tmp_path / "plain", workers, read_early=False)
    sample_year(plain)
    assert run(plain, "ingest").exit_code == 0
    early_one = workspace_at(tmp_path / "early", workers)
    sample_year(early_one)
    early = read_to_the_end(early_one)
    workbooks = [p for p in inbox_files(early_one) if p.suffix == ".xlsx"]
    assert len(results_left(early)) == len(workbooks) == 11  # read, all of them

    try:
        outcomes = ingest(early_one, inbox_files(early_one), early=early)
        assert results_left(early) == []  # every result taken, none read again
    finally:
        early.close()

    assert [o.status for o in outcomes].count("stored") == 15
    assert table_rows(early_one) == table_rows(plain)
    assert not early.folder.exists()


@needs_two_cores
@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_replaced_after_the_early_read_is_read_again(tmp_path, workers):
    workspace = workspace_at(tmp_path / "ws", workers)
    early, month = march_corrected_after_the_early_read(tmp_path, workspace)
    stamp = month.stat().st_mtime_ns + 1_000_000_000
    os.utime(month, ns=(stamp, stamp))

    try:
        ingest(workspace, inbox_files(workspace), early=early)
    finally:
        early.close()

    with closing(sqlite3.connect(workspace.store_path)) as db:
        assert db.execute("SELECT content FROM submissions").fetchall() == [("皮带跑正",)]


@needs_two_cores
def test_a_single_file_read_by_the_run_takes_the_early_result(tmp_path):
    workspace = workspace_at(tmp_path / "ws", workers=2)
    write_workbook(workspace.folder("inbox") / "2025 人员名册.xlsx", {"人员名册": roster_rows()})
    early = read_to_the_end(workspace)

    try:
        outcomes = ingest(workspace, inbox_files(workspace), early=early)
    finally:
        early.close()

    assert [o.status for o in outcomes] == ["stored"]
    assert early.used == 1  # the run took the result instead of reading the file again
    with closing(sqlite3.connect(workspace.store_path)) as db:
        assert db.execute("SELECT count(*) FROM roster").fetchone() == (len(roster_rows()),)


@needs_two_cores
def test_a_file_the_run_claimed_first_is_left_to_the_run(tmp_path):
    workspace = workspace_at(tmp_path / "ws", workers=1)
    roster, march = roster_and_march(workspace)
    early = early_read.start(workspace, [march, roster])  # March first: the run wants both
    assert early is not None
    try:
        first = early.take(roster, file_sha256(roster))  # claimed before the early read
        ended(early)  # gets there, or read
        assert early.take(march, file_sha256(march)) is not None  # waited for, or read
        # A file the run claimed was never read early: no result is left over for it.
        assert results_left(early) == []
        assert early.used == 1 + (first is not None)
    finally:
        early.close()


@needs_two_cores
def test_a_workbook_the_early_guard_refuses_is_refused_by_the_reader_with_its_message(
    tmp_path,
):
    results = {}
    for read_early in (False, True):
        workspace = workspace_at(tmp_path / f"early-{read_early}", 2, read_early)
        inbox = workspace.folder("inbox")
        write_workbook(inbox / "2025 人员名册.xlsx", {"人员名册": roster_rows()})
        write_workbook(
            inbox / "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "皮带跑偏")]}
        )
        far = write_workbook(
            inbox / "2025-04.xlsx", {"信息报送": [item("2025-04-05", "张三", "水仓")]}
        )
        _one_far_cell(far)
        early = read_to_the_end(workspace) if read_early else None
        try:
            outcomes = ingest(workspace, inbox_files(workspace), early=early)
        finally:
            if early:
                early.close()
        results[read_early] = [
            (o.path.name, o.status, [(p.code, p.sheet, p.row, p.column) for p in o.problems])
            for o in outcomes
        ]
    assert results[True] == results[False]
    assert results[True][-1][:2] == ("2025-04.xlsx", "quarantined")
    assert results[True][-1][2][0][0] == "sheet_too_large"


def _one_far_cell(path: Path) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    workbook["信息报送"]["GR1048576"] = "x"
    workbook.save(path)


def test_no_early_read_where_it_cannot_help_or_is_turned_off(tmp_path, monkeypatch):
    workspace = workspace_at(tmp_path / "ws", 2)
    inbox = workspace.folder("inbox")
    csv = inbox / "2025-03 信息报送.csv"
    csv.write_text("报送日期,姓名\n", encoding="utf-8")
    lock_file = inbox / "~$2025-03.xlsx"
    lock_file.write_bytes(b"owner")
    assert early_read.start(workspace, [csv, lock_file]) is None  # no workbook to read early

    month = write_workbook(inbox / "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "x")]})
    monkeypatch.setenv(early_read.READER_VARIABLE, "openpyxl")  # the benchmark's usual way
    assert early_read.start(workspace, [month]) is None
    monkeypatch.delenv(early_read.READER_VARIABLE)
    off = workspace_at(tmp_path / "off", 2, read_early=False)
    assert early_read.start(off, [month]) is None
    monkeypatch.setattr(early_read, "_cores", lambda: 1)
    assert early_read.start(workspace, [month]) is None
    assert Settings().limits.read_early  # on unless the workspace turns it off


def test_a_system_that_cannot_fork_now_reads_everything_as_before(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # the system's, for this test
    workspace = workspace_at(tmp_path / "ws", 2)
    month = write_workbook(
        workspace.folder("inbox") / "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "x")]}
    )

    def no_processes_left() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_processes_left)
    monkeypatch.setattr(early_read, "_cores", lambda: 2)

    assert early_read.start(workspace, [month]) is None
    assert list(scratch.iterdir()) == []  # its folder is not left behind
    assert gc.get_freeze_count() == 0  # nor its start-up left out of cycle collection


@needs_two_cores
def test_a_file_rewritten_in_place_keeping_its_size_and_time_is_read_again(tmp_path, monkeypatch):
    # As on a file system whose times are coarse, or after a copy that keeps them: nothing
    # but the bytes tells the rewritten file from the one read early.
    monkeypatch.setattr(early_read, "_identity", lambda path: (0, 0, 0, 0))
    workspace = workspace_at(tmp_path / "ws", workers=1)
    early, _ = march_corrected_after_the_early_read(tmp_path, workspace)

    try:
        ingest(workspace, inbox_files(workspace), early=early)
    finally:
        early.close()

    assert early.used == 1  # the roster's result, not March's
    with closing(sqlite3.connect(workspace.store_path)) as db:
        assert db.execute("SELECT content FROM submissions").fetchall() == [("皮带跑正",)]


@needs_two_cores
def test_the_early_read_runs_at_the_runs_priority_until_the_readers_take_over(tmp_path):
    # The run may wait for the file the early read is reading: a low priority would let
    # other work on the machine starve it, and the run with it.
    workspace = workspace_at(tmp_path / "ws", workers=1)
    sample_year(workspace)
    early = early_read.start(workspace, inbox_files(workspace))
    assert early is not None
    try:
        while not early_read._alive(early.folder) and not results_left(early):
            time.sleep(0.001)
        run_priority = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, early.pid) == run_priority

        early.finish(READER_NICENESS)  # the readers take over: it finishes as one of them

        readers_priority = min(run_priority + READER_NICENESS, 19)
        assert os.getpriority(os.PRIO_PROCESS, early.pid) == readers_priority
    finally:
        early.close()


FORKS_RECORDED = """
import os, runpy, sys

record = sys.argv.pop(1)
real_fork = os.fork


def fork():
    with open(record, "a", encoding="utf-8") as out:
        out.write(" ".join(m for m in ("pydantic", "pandas") if m in sys.modules) + "\\n")
    return real_fork()


os.fork = fork
sys.argv[0] = "ledger-batch"
runpy.run_module("ledger_batch", run_name="__main__")
"""


@needs_two_cores
def test_the_early_read_starts_before_the_rules_files_models_load(tmp_path):
    # Loading the rules file's models (pydantic) is a quarter of a second on the one core the
    # run starts on: the early read forks first, guarding with the defaults, which a rules
    # file that sets no limit of the guard's keeps.
    workspace, _ = Workspace.create(tmp_path / "ws")  # the rules file init writes: every limit
    rules = workspace.config_path.read_text(encoding="utf-8")  # written, at its default
    assert "max_cells_per_sheet = 5000000" in rules
    workspace.config_path.write_text(
        rules.replace("workers = 0", "workers = 2").replace(
            "settle_seconds = 2.0", "settle_seconds = 0"
        ),
        encoding="utf-8",
    )
    roster_and_march(workspace)
    record = tmp_path / "forks.txt"

    result = subprocess.run(
        [sys.executable, "-c", FORKS_RECORDED, str(record), "-w", str(workspace.root), "ingest"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "✔ 2025-03.xlsx: 已入库 2025-03 第1版" in result.stdout
    forks = record.read_text(encoding="utf-8").splitlines()
    assert forks[0] == ""  # the early read: neither pydantic nor pandas loaded yet
    assert all(fork == "pydantic pandas" for fork in forks[1:])  # the readers


LIMITED_RULES = "[limits]\nsettle_seconds = 0\nworkers = 2\nmax_cells_per_sheet = 40\n"
"""Rules whose cell limit a March of two items (60 cells) is beyond."""


def roster_and_sixty_cell_march(workspace: Workspace) -> Path:
    """A roster and a March of two items (15 columns by 4 rows: 60 cells); the inbox."""
    inbox = workspace.folder("inbox")
    write_workbook(inbox / "2025 人员名册.xlsx", {"人员名册": roster_rows()[:3]})
    write_workbook(
        inbox / "2025-03.xlsx",
        {"信息报送": [item("2025-03-05", "张三", "皮带跑偏"), item("2025-03-06", "张三", "水仓")]},
    )
    return inbox


@needs_two_cores
def test_limits_the_rules_file_sets_guard_the_early_read_too(tmp_path):
    # Had the early read guarded with the defaults, the reader would take its result and
    # store a workbook the office's own limit refuses.
    workspace, _ = Workspace.create(tmp_path / "ws")
    workspace.config_path.write_text(LIMITED_RULES, encoding="utf-8")
    roster_and_sixty_cell_march(workspace)
    early = read_to_the_end(workspace)
    try:
        outcomes = ingest(workspace, inbox_files(workspace), early=early)
    finally:
        early.close()

    march = next(o for o in outcomes if o.path.name == "2025-03.xlsx")
    assert march.status == "quarantined"
    assert [p.code for p in march.problems] == ["sheet_too_large"]


def test_a_wrong_rules_file_stops_an_ingest_before_anything_is_read_or_moved(tmp_path):
    # The early read may start before the rules file is read (its limits are the defaults
    # when it sets none); the file is read right after, and a wrong one ends the run, also
    # when the inbox is empty and when a file named is not there.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    workspace, _ = Workspace.create(tmp_path / "ws")
    workspace.config_path.write_text("[limits]\nsettle_seconds = -1\n", encoding="utf-8")
    month = write_workbook(
        workspace.folder("inbox") / "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "x")]}
    )
    empty, _ = Workspace.create(tmp_path / "empty")
    empty.config_path.write_text("[limits]\nsettle_seconds = -1\n", encoding="utf-8")

    for root, named in ((workspace.root, ()), (empty.root, ()), (empty.root, ("gone.xlsx",))):
        result = subprocess.run(
            [sys.executable, "-m", "ledger_batch", "-w", str(root), "ingest", *named],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**os.environ, "TMPDIR": str(scratch)},
            timeout=120,
        )
        assert result.returncode == 2, result.stdout + result.stderr
        assert "limits.settle_seconds" in result.stderr
        assert "Traceback" not in result.stderr

    assert month.is_file()
    assert not any(workspace.folder("archive").iterdir())
    assert not any(workspace.folder("quarantine").iterdir())
    assert list(scratch.iterdir()) == []  # the early read's folder went with the run


@needs_two_cores
def test_limits_changed_while_the_early_read_starts_are_the_ones_that_guard(tmp_path, monkeypatch):
    # The early read guards with the defaults when the rules file sets no limit; should the
    # clerk add one before the run has loaded the rules file, nothing read early is taken.
    workspace, _ = Workspace.create(tmp_path / "ws")
    workspace.config_path.write_text(
        "[limits]\nsettle_seconds = 0\nworkers = 2\n", encoding="utf-8"
    )
    inbox = roster_and_sixty_cell_march(workspace)
    started = early_read.start

    def start_then_edit(*args: object) -> early_read.EarlyRead | None:
        early = started(*args)  # type: ignore[arg-type]
        assert early is not None
        ended(early)  # it has read every file, guarded with the defaults
        workspace.config_path.write_text(LIMITED_RULES, encoding="utf-8")
        return early

    monkeypatch.setattr(early_read, "start", start_then_edit)
    result = CliRunner().invoke(ledger_batch_cli, ["-w", str(workspace.root), "ingest"])

    assert result.exit_code == 1, result.output
    assert "✘ 2025-03.xlsx" in result.output and "工作表范围过大" in result.output
    assert not (inbox / "2025-03.xlsx").exists()  # quarantined, not stored
    with closing(sqlite3.connect(workspace.store_path)) as db:
        assert db.execute("SELECT COUNT(*) FROM submissions").fetchone() == (0,)
