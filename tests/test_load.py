"""Load (issue 6): many files dropped at once, and a mining group's whole year, are ingested
in one run without error, in bounded time and memory.

Each run is ``ledger-batch ingest`` in a child process (tests/hostile.py), so the peak
memory measured is its own.
"""

from __future__ import annotations

import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import xlsxwriter

from ledger_batch import memory
from ledger_batch.fields import SUBMISSIONS
from tests.hostile import PEAK_MB_BOUND, error_reports, names_in, run_child
from tests.ledgers import item, person, write_workbook

ROOT = Path(__file__).resolve().parents[1]
YEARS = range(1986, 2026)  # 40 years × 12 months = 480 monthly files
LIAISONS = (("007", "张三"), ("0123", "李四"), ("2001", "王芳"))


def _month_rows(period: str) -> list[dict[str, object]]:
    return [
        item(f"{period}-{5 + n:02d}", name, f"{period} {name}的情况", 工号=employee_id)
        for n, (employee_id, name) in enumerate(LIAISONS)
    ]


def _csv_month(path: Path, period: str) -> None:
    lines = ["报送日期,姓名,工号,信息类别,信息类型,信息内容"]
    lines += [
        f"{r['报送日期']},{r['姓名']},{r['工号']},其他,情况,{r['信息内容']}"
        for r in _month_rows(period)
    ]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="gbk")


def test_five_hundred_files_dropped_at_once_are_all_dealt_with(workspace, stored):
    inbox = workspace.folder("inbox")
    roster = [person(i, n, "综采队", 聘任日期="1986-01-01") for i, n in LIAISONS]
    write_workbook(inbox / "1986 人员名册.xlsx", {"人员名册": roster})
    periods = [f"{year}-{month:02d}" for year in YEARS for month in range(1, 13)]
    for number, period in enumerate(periods):
        if number % 2:  # half as workbooks, half as GBK CSV files
            write_workbook(inbox / f"{period}.xlsx", {"信息报送": _month_rows(period)})
        else:
            _csv_month(inbox / f"{period} 信息报送.csv", period)
    for period in periods[1:20:2]:  # ten copies of months already in the drop
        shutil.copy2(inbox / f"{period}.xlsx", inbox / f"{period} 副本.xlsx")
    for number in range(9):  # nine files that are not ledgers
        (inbox / f"2026-{number + 1:02d} 会议纪要.xlsx").write_text("纪要", encoding="utf-8")
    assert len(list(inbox.iterdir())) == 500

    started = time.monotonic()
    child = run_child(workspace, "-q", "ingest")
    seconds = time.monotonic() - started

    assert child.returncode == 1, child.stdout + child.stderr  # the nine non-ledgers
    assert "Traceback" not in child.stderr
    assert names_in(inbox) == []
    assert len(error_reports(workspace)) == 9
    assert len(names_in(workspace.folder("archive") / "duplicates")) == 10
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(480,)]
    assert stored("SELECT COUNT(*) FROM submissions") == [(480 * len(LIAISONS),)]
    assert stored("SELECT MIN(period), MAX(period) FROM files") == [("1986-01", "2025-12")]
    assert child.peak_mb < PEAK_MB_BOUND, f"peak {child.peak_mb:.0f} MB"
    assert seconds < 120, f"{seconds:.0f} s"


def test_a_mining_groups_year_is_ingested_without_error(workspace, stored, tmp_path):
    # The benchmark's data: 100 mines × 19 liaisons, 10,000 items a month (scripts/bench_data.py).
    generated = tmp_path / "group"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_data.py"), str(generated)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    files = sorted(generated.glob("*.xlsx"))
    assert len(files) == 13
    for path in files:
        shutil.copy2(path, workspace.folder("inbox") / path.name)

    child = run_child(workspace, "-q", "ingest")

    assert child.returncode == 0, child.stdout + child.stderr
    assert names_in(workspace.folder("quarantine")) == []
    with closing(sqlite3.connect(workspace.store_path)) as db:
        assert db.execute("SELECT kind, COUNT(*) FROM files GROUP BY kind").fetchall() == [
            ("month", 12),
            ("roster", 1),
        ]
        assert db.execute("SELECT COUNT(*) FROM submissions").fetchone() == (120_000,)
        assert db.execute("SELECT COUNT(*) FROM roster").fetchone() == (1_900,)
    assert child.peak_mb < 1_000, f"peak {child.peak_mb:.0f} MB"


def test_a_sheet_of_two_hundred_thousand_broken_rows_gets_a_short_report(rostered, stored):
    # A 工号 typed into every row down to row 200,001 and nothing else: five blank required
    # cells a row, a million problems. Listed one by one they made a 600 MB report and the
    # run took 4.5 GB; the report lists the first 200 of each kind and counts the rest.
    path = rostered.folder("inbox") / "2025-03.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("信息报送")
    sheet.write_row(0, 0, [f.header_zh for f in SUBMISSIONS.fields])
    for row in range(1, 200_001):
        sheet.write_string(row, 3, "007")
    workbook.close()

    child = run_child(rostered, "ingest")

    assert child.returncode == 1, child.stdout + child.stderr
    assert "✘ 2025-03.xlsx: 1000000 处错误，已隔离" in child.stdout
    report = error_reports(rostered)["2025-03.xlsx"]
    assert "错误 Errors: 1000000（" in report
    assert len(report.encode()) < 2_000_000
    assert report.count("问题：必填项“报送日期”为空") == 200
    assert (
        "问题：同样的问题还有 199800 处（必填项“报送日期”为空；行 202–200001），未逐条列出"
        in report
    )
    assert child.peak_mb < PEAK_MB_BOUND, f"peak {child.peak_mb:.0f} MB"
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


def test_malloc_is_tuned_for_an_ingest_only_where_the_user_has_not_tuned_it(monkeypatch):
    # An ingest keeps freed memory for the next file (ledger_batch/memory.py); a user who set
    # glibc's malloc themselves keeps their settings.
    for name in (*memory.USER_SETTINGS, "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    if sys.platform == "linux" and platform.libc_ver()[0] == "glibc":
        assert memory._glibc() is not None
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert memory._glibc() is None
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.top_pad=0")
    assert memory._glibc() is None
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=512")
    with memory.reusing_freed_memory():  # and the block runs either way
        block = bytearray(64 << 20)
    assert len(block) == 64 << 20
