"""Faults around a run (issue 6): a full disk, a mail server that is down, and runs killed
with SIGKILL while many files are being ingested. Afterwards nothing is lost, nothing is half
written, and the next run finishes the job.

The full disk is a small tmpfs mounted over the folder being written (as root); where
mounting is not allowed the child run gets a file-size limit instead (RLIMIT_FSIZE: writes
past it fail with EFBIG, as a full disk fails with ENOSPC). Proven elsewhere: SIGKILL in the
middle of storing one big month and of writing reports (test_workflow:
test_an_ingest_killed_with_sigkill_…, test_a_report_run_killed_with_sigkill_…), of an SMTP
transaction (test_email_send: test_a_run_killed_mid_transaction_…), and a connection lost in
the middle of a batch (test_email_send: test_a_connection_dropped_mid_batch_…).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from ledger_batch.cli import cli as ledger_batch_cli
from ledger_batch.pipeline import _result
from ledger_batch.store import Store
from ledger_batch.workspace import Workspace
from tests.hostile import Child, child_env, names_in, run_child
from tests.ledgers import item, write_workbook
from tests.mailserver import SAMPLE_EMAIL_TOML, MailHandler, free_port, smtp_server, write_config

LIAISONS = {"007": "张三", "0123": "李四", "2001": "王芳"}


def drop_year(workspace: Workspace, items_each: int = 2) -> None:
    """Twelve months of 2025 in the inbox, every liaison reporting ``items_each`` a month."""
    for month in range(1, 13):
        period = f"2025-{month:02d}"
        rows = [
            item(f"{period}-{5 + k:02d}", name, f"{period} {name} 第{k + 1}条", 工号=employee_id)
            for employee_id, name in LIAISONS.items()
            for k in range(items_each)
        ]
        write_workbook(workspace.folder("inbox") / f"{period}.xlsx", {"信息报送": rows})


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- a full disk ----------------------------------------------------------------------------


@contextmanager
def small_disk(folder: Path, size: str = "1m") -> Iterator[bool]:
    """Mount a tmpfs of ``size`` over ``folder``; yields whether that was allowed here."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = (
        hasattr(os, "geteuid")
        and os.geteuid() == 0
        and shutil.which("mount") is not None
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def fill(folder: Path) -> Path:
    """Write into ``folder`` until the disk is full; returns the filler file."""
    filler = folder / "filler.bin"
    with filler.open("wb", buffering=0) as out:
        try:
            while out.write(b"\0" * 4096):
                pass
        except OSError:
            pass
    return filler


def file_size_limit(limit: int) -> Callable[[], None]:
    """For a child: no file may grow past ``limit`` bytes (writes then fail with EFBIG)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def assert_clean_refusal(child: Child, path_part: str) -> None:
    assert child.returncode == 2, child.stdout + child.stderr
    assert "Traceback" not in child.stderr and "Exception ignored" not in child.stderr
    assert f"无法写入 {path_part}" in child.stderr, child.stderr
    assert "No space left on device" in child.stderr or "File too large" in child.stderr
    assert "原有的文件没有被改动" in child.stderr


def test_a_full_disk_while_writing_reports_leaves_the_earlier_reports_whole(rostered, cli):
    drop_year(rostered)
    assert cli("ingest").exit_code == 0
    reports = rostered.folder("reports")
    with small_disk(reports) as mounted:
        folder = reports / "2025"
        assert cli("payout", "2025").exit_code == 0
        earlier = contents(folder)
        assert set(earlier) == {"2025 年兑现.xlsx", "2025 年兑现.html"}
        write_workbook(  # December changes: the next payout differs from the one on disk
            rostered.folder("inbox") / "2025-12 补充.xlsx",
            {"信息报送": [item("2025-12-20", "王芳", "补报的一条")]},
        )
        assert cli("ingest").exit_code == 0
        filler = fill(reports) if mounted else None
        # Without a mount: files may not grow past 64 KB. The store's index (-shm, 32 KB)
        # and the payout workbook (≈22 KB) fit; its HTML page (≈100 KB) does not.
        limit = None if mounted else file_size_limit(64 * 1024)

        child = run_child(rostered, "payout", "2025", preexec=limit)

        assert_clean_refusal(child, str(folder / "2025 年兑现."))
        after = contents(folder)  # no .part file left behind
        assert set(after) == set(earlier)
        assert after["2025 年兑现.html"] == earlier["2025 年兑现.html"]
        # A file either stayed as it was or was replaced whole (before the disk filled up).
        assert openpyxl.load_workbook(folder / "2025 年兑现.xlsx").sheetnames
        assert after["2025 年兑现.xlsx"] == earlier["2025 年兑现.xlsx"] or not mounted
        if mounted:
            statements = run_child(rostered, "statements", "2025")
            assert_clean_refusal(statements, str(folder / "个人考核通知单"))
            assert contents(folder) == earlier
        if filler is not None:
            filler.unlink()
        again = run_child(rostered, "payout", "2025")
        assert again.returncode == 0, again.stderr
        assert contents(folder)["2025 年兑现.html"] != earlier["2025 年兑现.html"]


def test_a_full_disk_while_ingesting_keeps_the_file_in_the_inbox(rostered, cli, stored):
    month = write_workbook(
        rostered.folder("inbox") / "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "a")]}
    )
    original = month.read_bytes()
    archive = rostered.folder("archive")
    with small_disk(archive, "64k") as mounted:
        if not mounted:  # a file-size limit would stop the store's own writes first
            pytest.skip("mounting a small tmpfs needs root (and a container that allows it)")
        filler = fill(archive)

        child = run_child(rostered, "ingest")

        assert child.returncode == 2, child.stdout + child.stderr
        assert "Traceback" not in child.stderr
        assert "无法写入" in child.stderr and "原有的文件没有被改动" in child.stderr
        assert month.read_bytes() == original  # still in the inbox, untouched
        assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]
        assert [p for p in archive.rglob("*") if p.is_file() and p != filler] == []  # no part
        filler.unlink()
        assert cli("ingest").exit_code == 0
    assert stored("SELECT content FROM submissions") == [("a",)]


def test_a_file_handed_to_the_readers_as_one_dies_is_read_by_the_run():
    # Python 3.11's process pool can lose a file handed over just as a reader dies: its
    # result never comes. The run must notice the broken pool and read the file itself.
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    try:
        os.kill(pool.submit(os.getpid).result(timeout=30), signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):  # once the pool has noticed
            pool.submit(os.getpid).result(timeout=30)
        lost: Future = Future()  # handed over as the reader died: no result will come
        ended: list[BaseException] = []

        def wait_for_it() -> None:
            try:
                _result(lost, pool)
            except BaseException as error:
                ended.append(error)

        waiting = threading.Thread(target=wait_for_it, daemon=True)
        waiting.start()
        waiting.join(timeout=10)
        assert len(ended) == 1 and isinstance(ended[0], BrokenProcessPool), ended
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def test_a_commit_that_fails_is_rolled_back_and_the_store_takes_the_next_file(tmp_path):
    # A COMMIT can fail and leave its transaction open (a full disk; here a deferred check):
    # nothing of it may stay, and the next file's transaction must be able to begin.
    store = Store(tmp_path / "ledger.db")
    try:
        store.connection.execute("CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)")
        store.connection.execute(
            "CREATE TEMP TABLE child (parent_id REFERENCES parent DEFERRABLE INITIALLY DEFERRED)"
        )
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as db:
            db.execute("INSERT INTO child VALUES (1)")  # fails only at COMMIT

        assert not store.connection.in_transaction
        with store.transaction() as db:
            db.execute("INSERT INTO parent VALUES (1)")
        assert store.connection.execute("SELECT * FROM child").fetchall() == []
        assert store.connection.execute("SELECT * FROM parent").fetchall() == [(1,)]
    finally:
        store.close()


def test_a_copy_of_the_wal_that_sqlite_refuses_stops_nothing_and_loses_nothing(tmp_path):
    # While the run waits for a reader it copies the WAL into ledger.db; should SQLite refuse
    # (a full disk; here a write still open), the run goes on and the change is kept.
    store = Store(tmp_path / "ledger.db")
    try:
        with store.transaction() as db:
            db.execute("INSERT INTO meta VALUES ('copied', 'while writing')")
            store.checkpoint()  # SQLite: "database table is locked"
        store.checkpoint()
    finally:
        store.close()
    assert not (tmp_path / "ledger.db-wal").exists()
    with closing(sqlite3.connect(tmp_path / "ledger.db")) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'copied'").fetchall() == [
            ("while writing",)
        ]


# --- the mail server is down ----------------------------------------------------------------


def test_the_smtp_server_down_leaves_every_message_queued_until_it_is_back(rostered, cli):
    write_workbook(
        rostered.folder("inbox") / "2025-01.xlsx", {"信息报送": [item("2025-01-06", "张三", "a")]}
    )
    assert cli("ingest").exit_code == 0
    write_config(rostered.root, **SAMPLE_EMAIL_TOML)
    assert cli("month", "2025-01", "--email").exit_code == 0  # the summary, two reminders
    down = free_port()  # nothing listens there
    write_config(
        rostered.root, **SAMPLE_EMAIL_TOML, smtp_host="127.0.0.1", smtp_port=down, security="none"
    )

    refused = cli("send")

    assert refused.exit_code == 2, refused.output
    assert "无法连接邮件服务器" in refused.output
    with closing(sqlite3.connect(rostered.store_path)) as db:
        queued = db.execute("SELECT key, state, attempts FROM outbox").fetchall()
    assert len(queued) == 4  # month report to the manager and the office, 李四 and 王芳
    assert {(state, attempts) for _, state, attempts in queued} == {("pending", 0)}
    handler = MailHandler()
    with smtp_server(handler) as port:
        write_config(
            rostered.root,
            **SAMPLE_EMAIL_TOML,
            smtp_host="127.0.0.1",
            smtp_port=port,
            security="none",
        )
        delivered = cli("send")
    assert delivered.exit_code == 0, delivered.output
    assert sorted(handler.keys()) == sorted(key for key, _, _ in queued)  # each once


# --- SIGKILL while many files are ingested ------------------------------------------------

GOOD_MONTHS = 8
ITEMS_PER_MONTH = 300


@pytest.fixture(scope="module")
def drop(tmp_path_factory, standard_roster) -> Path:
    """A workspace with a roster, eight good months, four bad months and three non-ledgers
    waiting in the inbox (copied for each kill)."""
    root = tmp_path_factory.mktemp("drop") / "ws"
    workspace, _ = Workspace.create(root)
    workspace.config_path.write_text("[limits]\nsettle_seconds = 0\n", encoding="utf-8")
    inbox = workspace.folder("inbox")
    write_workbook(inbox / "2025 人员名册.xlsx", {"人员名册": standard_roster()})
    names = list(LIAISONS.values())
    for month in range(1, GOOD_MONTHS + 1):
        period = f"2025-{month:02d}"
        rows = [
            item(f"{period}-{1 + k % 28:02d}", names[k % 3], f"{period} 第{k + 1}条")
            for k in range(ITEMS_PER_MONTH)
        ]
        write_workbook(inbox / f"{period}.xlsx", {"信息报送": rows})
    for month in range(9, 13):  # someone not on the roster: quarantined
        period = f"2025-{month:02d}"
        write_workbook(inbox / f"{period}.xlsx", {"信息报送": [item(f"{period}-05", "赵六", "x")]})
    for name in ("会议纪要.txt", "2025-13.xlsx", "照片.jpg"):
        (inbox / name).write_bytes(b"\x89PNG not a ledger " + name.encode())
    return root


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_nothing_lost_nothing_half_stored(root: Path, dropped: dict[str, bytes]) -> None:
    """Every dropped file is in the inbox, the archive or quarantine; the store holds whole
    files only, each matching its archived original."""
    where = {
        sha(p.read_bytes())
        for folder in ("inbox", "archive", "quarantine")
        for p in (root / folder).rglob("*")
        if p.is_file() and not p.name.endswith((".part", ".错误报告.txt"))
    }
    assert {sha(data) for data in dropped.values()} <= where
    with closing(sqlite3.connect(root / "ledger.db")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        files = db.execute("SELECT file_id, kind, sha256, archived_as FROM files").fetchall()
        for file_id, kind, digest, archived_as in files:
            assert sha((root / archived_as).read_bytes()) == digest
            rows = db.execute("SELECT COUNT(*) FROM submissions WHERE file_id = ?", (file_id,))
            assert rows.fetchone()[0] == (ITEMS_PER_MONTH if kind == "month" else 0)
        orphans = (
            "SELECT COUNT(*) FROM submissions WHERE file_id NOT IN (SELECT file_id FROM files)"
        )
        assert db.execute(orphans).fetchone() == (0,)


def moments(root: Path) -> dict[str, Callable[[], Callable[[], bool]]]:
    """When to kill: label → a maker of the moment, called as the run starts."""

    def after(seconds: float) -> Callable[[], bool]:
        deadline = time.monotonic() + seconds
        return lambda: time.monotonic() >= deadline

    def files_in(folder: str, count: int, pattern: str = "*") -> Callable[[], bool]:
        return lambda: len(list((root / folder).rglob(pattern))) >= count

    return {
        "while reading": lambda: after(0.3),
        "as the first month is archived": lambda: files_in("archive", 1, "*.xlsx*"),
        "after three months are archived": lambda: files_in("archive", 3, "*.xlsx*"),
        "after six months are archived": lambda: files_in("archive", 6, "*.xlsx*"),
        "as the first error report is written": lambda: files_in("quarantine", 1),
        "as the last files are quarantined": lambda: files_in("quarantine", 8),
    }


def kill_at(root: Path, moment: Callable[[], bool]) -> bool:
    """Start ``ingest``, SIGKILL it when ``moment()`` holds; whether it was still running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger_batch", "-w", str(root), "ingest"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(),
    )
    deadline = time.monotonic() + 60
    while process.poll() is None and not moment() and time.monotonic() < deadline:
        time.sleep(0.001)
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    # The processes that read files side by side end with the run: they hold a copy of the
    # workspace lock, and a reader left behind would keep the next run waiting.
    deadline = time.monotonic() + 10
    while processes_of(root) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert processes_of(root) == []
    return running


def live_processes() -> Iterator[tuple[int, int, list[bytes]]]:
    """(pid, parent pid, command-line arguments) of every process that is not a zombie."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():  # self, thread-self, meminfo …
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if state != "Z":
            yield int(entry.name), int(parent), command.split(b"\0")


def processes_of(root: Path) -> list[int]:
    """Live processes whose command line names the workspace ``root``."""
    return [pid for pid, _, arguments in live_processes() if str(root).encode() in arguments]


def test_an_ingest_of_many_files_killed_at_any_moment_loses_nothing(drop, tmp_path):
    killed_while_running = []
    for number, label in enumerate(moments(Path())):
        root = Path(shutil.copytree(drop, tmp_path / f"ws{number}"))
        dropped = contents(root / "inbox")

        if kill_at(root, moments(root)[label]()):
            killed_while_running.append(label)

        assert_nothing_lost_nothing_half_stored(root, dropped)
        result = CliRunner().invoke(ledger_batch_cli, ["-w", str(root), "ingest"])
        assert result.exit_code in (0, 1), (label, result.output)
        assert names_in(root / "inbox") == [], label
        assert_nothing_lost_nothing_half_stored(root, dropped)
        with closing(sqlite3.connect(root / "ledger.db")) as db:
            months = db.execute("SELECT period, version FROM files WHERE kind = 'month'")
            assert sorted(months) == [(f"2025-{m:02d}", 1) for m in range(1, GOOD_MONTHS + 1)]
        good = {"2025 人员名册.xlsx"} | {f"2025-{m:02d}.xlsx" for m in range(1, GOOD_MONTHS + 1)}
        quarantined = {
            sha(p.read_bytes()) for p in (root / "quarantine").iterdir() if "错误报告" not in p.name
        }
        assert {sha(d) for n, d in dropped.items() if n not in good} <= quarantined, label
    assert len(killed_while_running) >= 4, killed_while_running


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is ``pid``."""
    return [child for child, parent, _ in live_processes() if parent == pid]


def test_a_reader_process_killed_mid_ingest_leaves_the_run_to_finish_its_files(drop, tmp_path):
    root = Path(shutil.copytree(drop, tmp_path / "ws"))
    config = root / "ledger-batch.toml"
    config.write_text(config.read_text(encoding="utf-8") + "workers = 3\n", encoding="utf-8")
    dropped = contents(root / "inbox")
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger_batch", "-w", str(root), "ingest"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and process.poll() is None and time.monotonic() < deadline:
        readers = children_of(process.pid)
        if readers:  # as the OOM killer would: a reader ends in the middle of its work
            os.kill(readers[0], signal.SIGKILL)
            killed = readers[0]
        time.sleep(0.001)
    _, stderr = process.communicate(timeout=120)

    assert killed is not None
    assert process.returncode == 1, stderr.decode()  # the bad months, quarantined as always
    assert b"Traceback" not in stderr
    assert names_in(root / "inbox") == []
    assert_nothing_lost_nothing_half_stored(root, dropped)
    with closing(sqlite3.connect(root / "ledger.db")) as db:
        months = db.execute("SELECT period, version FROM files WHERE kind = 'month'")
        assert sorted(months) == [(f"2025-{m:02d}", 1) for m in range(1, GOOD_MONTHS + 1)]
