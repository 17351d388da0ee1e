"""The folder workflow (issue 5): watch the inbox, one run at a time, close and reopen a year,
blank ledgers for next month, and outputs that a killed run cannot leave half written.

Everything runs for real: ``ledger-batch`` in subprocesses (``watch``, two ``ingest`` runs at
once, runs killed with SIGKILL), files copied into the inbox as an office PC would (one of
them slowly, in chunks), the real ``ledger.db`` queried with sqlite3, LibreOffice re-saving a
filled template. Waits are bounded polls with generous deadlines (CI has two cores), never
long fixed sleeps. The standard roster (conftest): 张三 007 and 李四 0123 (综采队), 王芳 2001
(机电队).
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles.numbers import is_date_format
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ledger_batch.fields import MONTH_LEDGERS
from ledger_batch.watch import ArrivalTracker
from ledger_batch.workspace import Workspace
from tests.ledgers import item, write_workbook

DEADLINE_SECONDS = 60.0
"""How long a wait for a subprocess may take before the test fails (normally well under 5 s)."""

LIAISONS = {"007": "张三", "0123": "李四", "2001": "王芳"}
STAMPED_LINE = re.compile(r"^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] ")
STORED_AT = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"


# --- helpers -------------------------------------------------------------------------------


def month_sheets(period: str, items_each: int = 2) -> dict[str, list[dict[str, object]]]:
    """A month in which every liaison of the standard roster reports ``items_each`` items."""
    return {
        "信息报送": [
            item(f"{period}-{5 + k:02d}", name, f"{period} {name} 第{k + 1}条", 工号=employee_id)
            for employee_id, name in LIAISONS.items()
            for k in range(items_each)
        ]
    }


def drop_month(folder: Path, period: str, items_each: int = 2) -> Path:
    """Write ``<period>.xlsx`` (title row, header row, rows) into ``folder``."""
    return write_workbook(folder / f"{period}.xlsx", month_sheets(period, items_each))


def drop_year(folder: Path) -> list[Path]:
    """All twelve months of 2025, two items per liaison each month."""
    return [drop_month(folder, f"2025-{month:02d}") for month in range(1, 13)]


def unstamped(name: str) -> str:
    """A file name without the time stamp quarantine/ puts in front."""
    return re.sub(r"^\d{8}-\d{6}_", "", name)


def names_in(folder: Path) -> list[str]:
    """Names of the files in ``folder``, time stamps removed, sorted."""
    if not folder.is_dir():
        return []
    return sorted(unstamped(p.name) for p in folder.iterdir() if p.is_file())


def cli_args(workspace: Workspace, *args: object) -> list[str]:
    """``ledger-batch -w <workspace> ARGS…`` as a command line for a real process."""
    return [sys.executable, "-m", "ledger_batch", "-w", str(workspace.root), *map(str, args)]


def child_env() -> dict[str, str]:
    """The environment for child runs: unbuffered UTF-8 output."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}


def run_cli(workspace: Workspace, *args: object) -> subprocess.CompletedProcess[str]:
    """Run ``ledger-batch`` in a child process to the end."""
    return subprocess.run(
        cli_args(workspace, *args),
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=child_env(),
        timeout=DEADLINE_SECONDS * 2,
        check=False,
    )


def start_cli(workspace: Workspace, *args: object) -> subprocess.Popen[str]:
    """Start ``ledger-batch`` in a child process; the caller stops it in ``finally``."""
    return subprocess.Popen(
        cli_args(workspace, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=child_env(),
    )


def stop(process: subprocess.Popen[str]) -> None:
    """Kill a child that is still running, reap it and close its pipes."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=DEADLINE_SECONDS)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def wait_until(
    condition: Callable[[], object],
    what: str,
    detail: Callable[[], str] = lambda: "",
    timeout: float = DEADLINE_SECONDS,
    pause: float = 0.05,
) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds saying ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}\n{detail()}")
        time.sleep(pause)


@dataclass
class Logged:
    """A child process whose stdout and stderr go to files that can be read while it runs."""

    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    @classmethod
    def start(cls, args: list[str], folder: Path) -> Logged:
        folder.mkdir(parents=True, exist_ok=True)
        out_path, err_path = folder / "stdout.txt", folder / "stderr.txt"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(args, stdout=out, stderr=err, env=child_env())
        return cls(process, out_path, err_path)

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def both(self) -> str:
        return f"--- stdout\n{self.stdout()}\n--- stderr\n{self.stderr()}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=DEADLINE_SECONDS)


# --- watch ---------------------------------------------------------------------------------


def copy_in_chunks(source: Path, target: Path, chunks: int = 10, pause: float = 0.25) -> None:
    """Copy as a slow network share does: part of the file, flush, a pause, the next part."""
    data = source.read_bytes()
    size = -(-len(data) // chunks)
    with target.open("wb") as out:
        for start in range(0, len(data), size):
            out.write(data[start : start + size])
            out.flush()
            time.sleep(pause)


def test_a_file_is_taken_once_it_has_stopped_changing_and_its_zip_is_whole(tmp_path):
    whole = drop_month(tmp_path / "made", "2025-03").read_bytes()
    half = len(whole) // 2
    arriving, stalled = tmp_path / "inbox" / "2025-03.xlsx", tmp_path / "inbox" / "2025-04.xlsx"
    arriving.parent.mkdir()
    arriving.write_bytes(whole[:half])
    stalled.write_bytes(whole[:half])
    tracker = ArrivalTracker(settle_seconds=1)

    assert tracker.ready([arriving, stalled], now=100) == []  # first sight
    assert tracker.ready([arriving, stalled], now=102) == []  # quiet, but the zips are cut short
    with arriving.open("ab") as out:
        out.write(whole[half:])
    assert tracker.ready([arriving, stalled], now=102.5) == []  # it grew: settling starts again
    # Three seconds without a change: the stalled copy is handed over, to be quarantined with
    # a clear error rather than waited on forever. The completed one is quiet for 0.7 s only.
    assert tracker.ready([arriving, stalled], now=103.2) == [stalled]
    tracker.forget(stalled)
    assert tracker.ready([arriving], now=103.6) == [arriving]  # whole, and quiet for a second


def test_watch_ingests_each_dropped_file_once_and_stops_cleanly_on_ctrl_c(
    rostered, stored, tmp_path
):
    rostered.config_path.write_text("[limits]\nsettle_seconds = 0.5\n", encoding="utf-8")
    inbox, quarantine = rostered.folder("inbox"), rostered.folder("quarantine")
    made = tmp_path / "made"  # files are written here, then copied in as the office does
    sources = {month: drop_month(made, f"2025-{month:02d}") for month in (1, 2, 3, 5)}
    bad = write_workbook(made / "2025-04.xlsx", {"信息报送": [item("2025-04-07", "赵六", "皮带")]})
    excel_lock, office_lock = inbox / "~$2025-03.xlsx", inbox / ".~lock.2025-03.xlsx#"

    def stored_names() -> set[object]:
        return {name for (name,) in stored("SELECT original_name FROM files")}

    copy_seconds: list[float] = []

    def copy_slowly() -> None:
        started = time.monotonic()
        copy_in_chunks(sources[2], inbox / "2025-02.xlsx")
        copy_seconds.append(time.monotonic() - started)

    copier = threading.Thread(target=copy_slowly)
    watch = Logged.start(cli_args(rostered, "watch", "--poll", "0.2"), tmp_path / "watch")
    try:
        wait_until(lambda: "开始监视" in watch.stdout(), "watch to start", watch.both)
        excel_lock.write_bytes(b"\x04zhang" + b" " * 50 + b"\x04\x00z\x00h\x00" + b"\x00" * 100)
        office_lock.write_text(",张三,PC-07,24.11.2025 09:30,file:///home/zhang;", encoding="utf-8")
        locks = {p.name: p.read_bytes() for p in (excel_lock, office_lock)}
        (inbox / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
        (inbox / "._2025-03.xlsx").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
        clutter = {p.name: p.read_bytes() for p in inbox.iterdir() if p.name not in locks}
        shutil.copy(sources[1], inbox)
        copier.start()
        shutil.copy(sources[3], inbox)
        wait_until(
            lambda: {"2025-01.xlsx", "2025-02.xlsx", "2025-03.xlsx"} <= stored_names(),
            "January to March to be stored",
            watch.both,
        )
        copier.join(DEADLINE_SECONDS)

        shutil.copy(bad, inbox)
        wait_until(
            lambda: "2025-04.xlsx.错误报告.txt" in names_in(quarantine),
            "the bad file to be quarantined",
            watch.both,
        )
        shutil.copy(sources[5], inbox)  # dropped after the bad one: watching goes on
        wait_until(lambda: "2025-05.xlsx" in stored_names(), "May to be stored", watch.both)

        def may_reported() -> bool:  # said once May's reports are all written, files first
            lines = (STAMPED_LINE.sub("", line) for line in watch.stdout().splitlines())
            return any(a.startswith("报表已写入") and "2025-05 月考核" in a for a in lines)

        wait_until(may_reported, "May's assessment to be written", watch.both)

        watch.process.send_signal(signal.SIGINT)
        returncode = watch.process.wait(timeout=DEADLINE_SECONDS)
    finally:
        watch.stop()
        if copier.is_alive():
            copier.join(DEADLINE_SECONDS)

    assert copy_seconds and copy_seconds[0] >= 2  # the watcher polled while the copy went on
    assert returncode == 0, watch.both()
    assert "Traceback" not in watch.stderr()
    # Each file exactly once, whole (the slowly copied one too), nothing else stored.
    assert stored(
        "SELECT original_name, version FROM files WHERE kind = 'month' ORDER BY original_name"
    ) == [("2025-01.xlsx", 1), ("2025-02.xlsx", 1), ("2025-03.xlsx", 1), ("2025-05.xlsx", 1)]
    assert stored("SELECT period, COUNT(*) FROM submissions GROUP BY period ORDER BY period") == [
        ("2025-01", 6),
        ("2025-02", 6),
        ("2025-03", 6),
        ("2025-05", 6),
    ]
    ((archived_as,),) = stored("SELECT archived_as FROM files WHERE original_name = '2025-02.xlsx'")
    assert (rostered.root / str(archived_as)).read_bytes() == sources[2].read_bytes()
    assert names_in(quarantine) == ["2025-04.xlsx", "2025-04.xlsx.错误报告.txt"]
    # The lock files and the OS clutter stay in the inbox, untouched; nothing else is left.
    assert {p.name: p.read_bytes() for p in inbox.iterdir()} == {**locks, **clutter}
    # Every line is time stamped; each action is said once.
    lines = watch.stdout().splitlines()
    assert all(STAMPED_LINE.match(line) for line in lines), lines
    actions = [STAMPED_LINE.sub("", line) for line in lines]
    for month in ("01", "02", "03", "05"):
        stored_line = f"✔ 2025-{month}.xlsx: 已入库 2025-{month} 第1版"
        assert actions.count(stored_line) == 1, actions
    assert sum(a.startswith("✘ 2025-04.xlsx: 1 处错误，已隔离") for a in actions) == 1, actions
    for lock in locks:
        assert actions.count(f"· {lock}: 这是 Excel/WPS 的临时锁文件，已忽略") == 1, actions
    assert actions[0].startswith("开始监视 ")
    assert actions[-1] == "已停止监视"
    # Drop the file, get the reports: each stored month's assessment is written, once.
    reports = rostered.folder("reports") / "2025"
    for month in ("01", "02", "03", "05"):
        assert (reports / f"2025-{month} 月考核.xlsx").is_file()
        assert (reports / f"2025-{month} 月考核.html").is_file()
        written = [a for a in actions if a.startswith("报表已写入") and f"2025-{month} 月考核" in a]
        assert len(written) == 1, actions
    assert not (reports / "2025-04 月考核.xlsx").exists()


# --- one run at a time ---------------------------------------------------------------------


def test_two_ingest_runs_started_together_store_nothing_twice(rostered, stored):
    inbox = rostered.folder("inbox")
    for month in range(1, 7):
        drop_month(inbox, f"2025-{month:02d}")

    runs = [start_cli(rostered, "ingest"), start_cli(rostered, "ingest")]
    try:
        outputs = [run.communicate(timeout=DEADLINE_SECONDS * 2) for run in runs]
    finally:
        for run in runs:
            stop(run)

    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, out + err
        assert "Traceback" not in err, err
    assert stored(
        "SELECT original_name, COUNT(*), MAX(version) FROM files WHERE kind = 'month' "
        "GROUP BY original_name ORDER BY original_name"
    ) == [(f"2025-{month:02d}.xlsx", 1, 1) for month in range(1, 7)]
    assert stored("SELECT COUNT(*), COUNT(DISTINCT item_id) FROM submissions") == [(36, 36)]
    assert stored("SELECT COUNT(DISTINCT content) FROM submissions") == [(36,)]
    said = "".join(out for out, _ in outputs)
    for month in range(1, 7):
        assert said.count(f"✔ 2025-{month:02d}.xlsx:") == 1, said
    assert names_in(inbox) == []
    assert names_in(rostered.folder("quarantine")) == []
    assert names_in(rostered.folder("archive") / "duplicates") == []


HOLD_THE_WORKSPACE = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from ledger_batch.lock import workspace_lock

    with workspace_lock(Path(sys.argv[1]), "payout 2025", 10):
        print("holding", flush=True)
        sys.stdin.read()  # until the test closes our stdin
    """
)


def test_a_second_run_gives_up_naming_the_run_that_holds_the_workspace(rostered, stored):
    rostered.config_path.write_text(
        "[limits]\nsettle_seconds = 0\nlock_wait_seconds = 1\n", encoding="utf-8"
    )
    drop_month(rostered.folder("inbox"), "2025-03")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WORKSPACE, str(rostered.root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        busy = run_cli(rostered, "ingest")
        waited = time.monotonic() - started
        holder.stdin.close()
        assert holder.wait(timeout=DEADLINE_SECONDS) == 0
    finally:
        stop(holder)

    assert busy.returncode == 4, busy.stdout + busy.stderr
    assert "工作区正被另一个任务使用：payout 2025 (pid " in busy.stderr
    assert f"(pid {holder.pid}, " in busy.stderr
    assert re.search(r"已等待 1(\.0)? 秒", busy.stderr), busy.stderr
    assert "Traceback" not in busy.stderr
    assert waited >= 1
    assert (rostered.folder("inbox") / "2025-03.xlsx").is_file()
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]

    again = run_cli(rostered, "ingest")  # the holder has gone: the run goes through

    assert again.returncode == 0, again.stdout + again.stderr
    assert "✔ 2025-03.xlsx: 已入库 2025-03 第1版" in again.stdout
    assert stored("SELECT COUNT(*) FROM submissions") == [(6,)]


# --- closing and reopening a year ----------------------------------------------------------


def error_report(workspace: Workspace, file_name: str) -> str:
    """The text of the error report beside the quarantined ``file_name``."""
    (report,) = [
        p
        for p in workspace.folder("quarantine").glob("*.错误报告.txt")
        if unstamped(p.name) == f"{file_name}.错误报告.txt"
    ]
    return report.read_text(encoding="utf-8-sig")


def sheet_texts(sheet: Worksheet) -> list[str]:
    """Every text cell of a sheet."""
    return [
        cell for row in sheet.iter_rows(values_only=True) for cell in row if isinstance(cell, str)
    ]


def workbook_texts(path: Path) -> list[str]:
    """Every text cell of every sheet."""
    return [
        text for sheet in openpyxl.load_workbook(path).worksheets for text in sheet_texts(sheet)
    ]


def test_a_closed_year_refuses_its_months_until_reopened_and_all_is_recorded(rostered, cli, stored):
    inbox, user = rostered.folder("inbox"), getpass.getuser()
    drop_year(inbox)
    assert cli("ingest").exit_code == 0

    closing = cli("payout", "2025", "--close", "--reason", "2025年度兑现定稿")

    assert closing.exit_code == 0, closing.output
    assert "2025 年度已关闭；其月份的新文件将被隔离，除非 reopen。" in closing.output
    assert stored("SELECT year, os_user, reason FROM closed_years") == [
        (2025, user, "2025年度兑现定稿")
    ]

    # A corrected March (one more item) is refused while the year is closed.
    files_before = stored("SELECT * FROM files")
    rows_before = stored("SELECT * FROM submissions ORDER BY rowid")
    march = month_sheets("2025-03")
    march["信息报送"].append(item("2025-03-20", "张三", "补登：副井罐笼信号异常", 工号="007"))
    write_workbook(inbox / "2025-03.xlsx", march)

    refused = cli("ingest")

    assert refused.exit_code == 1, refused.output
    assert "2025 年度已兑现并关闭，不能再更改其月份（2025-03）" in refused.output
    report = error_report(rostered, "2025-03.xlsx")
    assert "2025 年度已兑现并关闭，不能再更改其月份（2025-03）" in report
    assert "assessment year 2025 is paid out and closed; 2025-03 cannot change" in report
    assert 'ledger-batch reopen 2025 --reason "原因"' in report
    assert stored("SELECT * FROM files") == files_before
    assert stored("SELECT * FROM submissions ORDER BY rowid") == rows_before
    assert names_in(inbox) == []

    # Reopening needs a reason.
    no_reason = cli("reopen", "2025")
    assert no_reason.exit_code == 2
    assert "--reason" in no_reason.output
    blank_reason = cli("reopen", "2025", "--reason", "  ")
    assert blank_reason.exit_code == 2
    assert "必须写明原因" in blank_reason.output
    assert stored("SELECT year FROM closed_years") == [(2025,)]

    reopened = cli("reopen", "2025", "--reason", "财务退回：3月漏登一条信息")

    assert reopened.exit_code == 0, reopened.output
    assert "2025 年度已重新打开" in reopened.output
    assert stored("SELECT year FROM closed_years") == []

    # The same file, taken back out of quarantine, is now accepted and replaces March.
    (quarantined,) = [
        p for p in rostered.folder("quarantine").iterdir() if unstamped(p.name) == "2025-03.xlsx"
    ]
    shutil.move(quarantined, inbox / "2025-03.xlsx")
    accepted = cli("ingest", "--reason", "补登张三3月漏报的一条")

    assert accepted.exit_code == 0, accepted.output
    assert "✔ 2025-03.xlsx: 已入库 2025-03 第2版（替换第1版）" in accepted.output
    assert stored(
        "SELECT COUNT(*) FROM submissions s JOIN active_sheets a ON a.file_id = s.file_id "
        "AND a.ledger = 'submissions' WHERE s.period = '2025-03'"
    ) == [(7,)]

    history = cli("history", "2025")

    assert history.exit_code == 0, history.output
    events = [line for line in history.output.splitlines() if re.match(STORED_AT, line)]
    assert len(events) == 3, history.output
    closed_line, reopened_line, replaced_line = events
    for line in events:
        assert user in line.split()[1:2], line
    assert "关闭年度" in closed_line and "2025年度兑现定稿" in closed_line
    assert "重新打开" in reopened_line and "财务退回：3月漏登一条信息" in reopened_line
    assert "替换月份" in replaced_line and "2025-03" in replaced_line
    assert "2025-03.xlsx 第1版→第2版（补登张三3月漏报的一条）" in replaced_line
    assert cli("history").output == history.output
    assert cli("history", "2024").output.strip() == "没有记录"

    # The payout of the reopened year says so: when, who and why.
    payout = cli("payout", "2025")

    assert payout.exit_code == 0, payout.output
    folder = rostered.folder("reports") / "2025"
    said = re.compile(
        rf"本年度曾重新打开：{STORED_AT}，{re.escape(user)}，原因：财务退回：3月漏登一条信息"
    )
    html = (folder / "2025 年兑现.html").read_text(encoding="utf-8")
    assert said.search(html), html[:3000]
    assert any(said.search(text) for text in workbook_texts(folder / "2025 年兑现.xlsx"))


# --- blank ledgers -------------------------------------------------------------------------

SPEC_HEADERS = {
    "信息报送": [
        "编号",
        "报送日期",
        "姓名",
        "工号",
        "单位",
        "信息类别",
        "信息类型",
        "信息内容",
        "报送方式",
        "是否属实",
        "是否采纳",
        "办理状态",
        "复查结果",
        "反馈情况",
        "备注",
    ],
    "闭环跟踪": ["编号", "日期", "办理状态", "复查结果", "说明"],
    "会议考勤": ["会议日期", "会议名称", "会议类型", "姓名", "工号", "出席情况"],
    "违规通报": ["日期", "姓名", "工号", "类型", "事由", "通报文号", "编号"],
    "质量加减分": ["日期", "姓名", "工号", "分值", "理由"],
}
"""The headers of SPEC §3, as the office reads them."""

SPEC_CHOICES = {
    ("信息报送", "信息类型"): ["问题", "建议", "情况"],
    ("信息报送", "报送方式"): ["办公室", "直报经理"],
    ("信息报送", "是否属实"): ["是", "否", "待核实"],
    ("信息报送", "是否采纳"): ["是", "否"],
    ("信息报送", "办理状态"): ["反映问题", "调查核实", "整改落实", "督查验收"],
    ("信息报送", "复查结果"): ["合格", "不合格"],
    ("信息报送", "反馈情况"): ["已反馈", "未反馈"],
    ("闭环跟踪", "办理状态"): ["反映问题", "调查核实", "整改落实", "督查验收"],
    ("会议考勤", "会议类型"): ["季度例会", "临时会议", "座谈会"],
    ("会议考勤", "出席情况"): ["出席", "请假", "缺席"],
    ("违规通报", "类型"): ["违反规章", "信息不实"],
}


def header_columns(sheet: Worksheet) -> dict[str, int]:
    """Header text (row 2) → column number."""
    return {cell.value: cell.column for cell in sheet[2] if cell.value}


def validation_at(sheet: Worksheet, coordinate: str) -> DataValidation | None:
    """The data validation covering a cell, if any."""
    matches = [v for v in sheet.data_validations.dataValidation if coordinate in v.sqref]
    assert len(matches) <= 1, coordinate
    return matches[0] if matches else None


def drop_down_values(workbook: openpyxl.Workbook, validation: DataValidation) -> list[object]:
    """The values a list validation offers (its formula names a range of another sheet)."""
    assert validation.type == "list"
    sheet_name, cells = str(validation.formula1).split("!")
    sheet = workbook[sheet_name.strip("'")]
    return [cell.value for row in sheet[cells.replace("$", "")] for cell in row]


def test_the_template_of_a_quarter_end_month_is_ready_to_fill(rostered, cli, tmp_path):
    target = tmp_path / "blank.xlsx"

    result = cli("template", "2025-06", "-o", target)

    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(target)
    assert [s for s in workbook.sheetnames if workbook[s].sheet_state == "visible"] == [
        *SPEC_HEADERS,
        "填表说明",
    ]
    names = {"张三", "李四", "王芳"}
    for sheet_name, headers in SPEC_HEADERS.items():
        sheet = workbook[sheet_name]
        assert [cell.value for cell in sheet[2]] == headers, sheet_name
        assert "2025年6月" in str(sheet["A1"].value)  # the title row the reader skips
        assert sheet.freeze_panes == "A3", sheet_name
        columns = header_columns(sheet)
        for header, column in columns.items():
            letter = openpyxl.utils.get_column_letter(column)
            validation = validation_at(sheet, f"{letter}3")
            if (sheet_name, header) in SPEC_CHOICES:
                assert validation is not None, (sheet_name, header)
                offered = drop_down_values(workbook, validation)
                assert offered == SPEC_CHOICES[sheet_name, header], (sheet_name, header)
                assert validation_at(sheet, f"{letter}100") is validation
            if header == "姓名":
                assert validation is not None, sheet_name
                assert set(drop_down_values(workbook, validation)) == names, sheet_name
            if "日期" in header:
                assert is_date_format(sheet.cell(3, column).number_format), (sheet_name, header)
            assert sheet.column_dimensions[letter].customWidth, (sheet_name, header)
    category = validation_at(workbook["信息报送"], "F3")
    assert category is not None
    assert drop_down_values(workbook, category)[:3] == ["安全生产", "经营管理", "项目建设"]
    # Every field with allowed values in the registry has its drop-down.
    for ledger in MONTH_LEDGERS:
        sheet = workbook[ledger.sheet_zh]
        for index, spec in enumerate(ledger.fields, start=1):
            if spec.choices:
                letter = openpyxl.utils.get_column_letter(index)
                validation = validation_at(sheet, f"{letter}3")
                assert validation is not None, (ledger.sheet_zh, spec.header_zh)
                assert drop_down_values(workbook, validation) == list(spec.choices)
    # June ends a quarter: the attendance sheet lists the liaisons in service for the meeting.
    attendance = workbook["会议考勤"]
    prefilled = {
        (row[3], row[4], row[2])
        for row in attendance.iter_rows(min_row=3, values_only=True)
        if any(row)
    }
    assert prefilled == {(n, e, "季度例会") for e, n in LIAISONS.items()}
    instructions = "\n".join(sheet_texts(workbook["填表说明"]))
    assert "2025-06" in instructions and "inbox" in instructions


def test_the_template_of_an_ordinary_month_has_an_empty_attendance_sheet(rostered, cli):
    result = cli("template", "2025-05")

    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(rostered.root / "2025-05 经理联络员台账.xlsx")
    attendance = workbook["会议考勤"]
    assert not any(any(row) for row in attendance.iter_rows(min_row=3, values_only=True))


def fill(sheet: Worksheet, row: int, **values: object) -> None:
    """Type ``values`` (header=value) into ``row`` as a clerk would."""
    columns = header_columns(sheet)
    for header, value in values.items():
        sheet.cell(row, columns[header], value)


def fill_june(template: Path, target: Path) -> Path:
    """A filled June: three items, the meeting's marks, a violation and an adjustment."""
    workbook = openpyxl.load_workbook(template)
    submissions = workbook["信息报送"]
    common = {"报送方式": "办公室", "是否属实": "是", "反馈情况": "已反馈"}
    fill(
        submissions,
        3,
        报送日期=date(2025, 6, 3),
        姓名="张三",
        工号="007",
        单位="综采队",
        信息类别="安全生产",
        信息类型="问题",
        信息内容="3号工作面液压支架漏液",
        是否采纳="是",
        办理状态="调查核实",
        **common,
    )
    fill(
        submissions,
        4,
        报送日期=date(2025, 6, 9),
        姓名="李四",
        信息类别="福利待遇",
        信息类型="建议",
        信息内容="井口浴室增加热水供应时段",
        是否采纳="否",
        **common,
    )
    fill(
        submissions,
        5,
        报送日期=date(2025, 6, 16),
        姓名="王芳",
        工号="2001",
        信息类别="后勤保障",
        信息类型="情况",
        信息内容="女工休息室已投入使用",
        备注="已回访",
        **common,
    )
    marks = {"张三": "出席", "李四": "请假", "王芳": "缺席"}
    attendance = workbook["会议考勤"]
    columns = header_columns(attendance)
    for row in range(3, 6):
        name = str(attendance.cell(row, columns["姓名"]).value)
        fill(attendance, row, 会议日期=date(2025, 6, 20), 出席情况=marks[name])
    fill(
        workbook["违规通报"],
        3,
        日期=date(2025, 6, 12),
        姓名="李四",
        工号="0123",
        类型="违反规章",
        事由="入井未携带自救器",
        通报文号="安监通〔2025〕12号",
    )
    fill(
        workbook["质量加减分"],
        3,
        日期=date(2025, 6, 28),
        姓名="王芳",
        工号="2001",
        分值=1.5,
        理由="建议被采纳，质量高",
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)
    return target


@pytest.mark.parametrize(
    "saved_by", ["openpyxl", pytest.param("libreoffice", marks=pytest.mark.libreoffice)]
)
def test_a_filled_template_comes_back_through_ingest_without_an_error(
    rostered, cli, stored, tmp_path, request, saved_by
):
    assert cli("template", "2025-06").exit_code == 0
    template = rostered.root / "2025-06 经理联络员台账.xlsx"
    filled = fill_june(template, tmp_path / "filled" / "2025年6月联络员台账.xlsx")
    if saved_by == "libreoffice":
        libreoffice = request.getfixturevalue("libreoffice")
        (filled,) = libreoffice.convert([filled], "xlsx", tmp_path / "saved-by-libreoffice")
    shutil.copy2(filled, rostered.folder("inbox"))

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert "✔ 2025年6月联络员台账.xlsx: 已入库 2025-06 第1版" in result.output
    assert "✘" not in result.output and "⚠" not in result.output, result.output
    assert names_in(rostered.folder("quarantine")) == []
    assert stored(
        "SELECT item_id, date, name, employee_id, category, kind FROM submissions "
        "ORDER BY source_row"
    ) == [
        ("202506-001", "2025-06-03", "张三", "007", "安全生产", "问题"),
        ("202506-002", "2025-06-09", "李四", "0123", "福利待遇", "建议"),
        ("202506-003", "2025-06-16", "王芳", "2001", "后勤保障", "情况"),
    ]
    assert stored("SELECT content, adopted, stage FROM submissions ORDER BY source_row") == [
        ("3号工作面液压支架漏液", "是", "调查核实"),
        ("井口浴室增加热水供应时段", "否", None),
        ("女工休息室已投入使用", "否", None),  # a blank 是否采纳 reads as 否
    ]
    assert set(
        stored("SELECT meeting_date, meeting_type, name, employee_id, presence FROM attendance")
    ) == {
        ("2025-06-20", "季度例会", "张三", "007", "出席"),
        ("2025-06-20", "季度例会", "李四", "0123", "请假"),
        ("2025-06-20", "季度例会", "王芳", "2001", "缺席"),
    }
    assert stored("SELECT date, name, employee_id, violation_type, notice_no FROM violations") == [
        ("2025-06-12", "李四", "0123", "违反规章", "安监通〔2025〕12号")
    ]
    assert stored("SELECT date, name, employee_id, points, reason FROM adjustments") == [
        ("2025-06-28", "王芳", "2001", "1.5", "建议被采纳，质量高")
    ]


# --- a killed run leaves the outputs whole -------------------------------------------------

MINUTE_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?")


def report_files(folder: Path) -> list[Path]:
    """The reports under ``folder`` (temporary ``.part`` files are not reports)."""
    return sorted(p for p in folder.rglob("*") if p.suffix in (".xlsx", ".html"))


def report_content(path: Path) -> str:
    """What a report says, with its "generated at" time masked; fails if it does not open."""
    if path.suffix == ".html":
        text = path.read_text(encoding="utf-8")
        assert text.rstrip().endswith("</html>"), f"{path.name} is cut short"
    else:
        workbook = openpyxl.load_workbook(path)
        text = "\n".join(
            f"{sheet.title}!{cell.coordinate}={cell.value!r}"
            for sheet in workbook.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None
        )
    return MINUTE_STAMP.sub("<time>", text)


def kill_at(process: subprocess.Popen[str], moment: Callable[[], bool]) -> bool:
    """SIGKILL ``process`` as soon as ``moment()`` holds; whether it was still running."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while process.poll() is None and not moment() and time.monotonic() < deadline:
        pass  # a tight loop: the moments looked for last milliseconds
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=DEADLINE_SECONDS)
    return running


def after(seconds: float) -> Callable[[], bool]:
    """A moment ``seconds`` from now."""
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() >= deadline


def writing_then(writing: Callable[[], bool], extra: float) -> Callable[[], bool]:
    """A moment ``extra`` seconds after ``writing()`` first holds."""
    seen: list[float] = []

    def moment() -> bool:
        if not seen and writing():
            seen.append(time.monotonic())
        return bool(seen) and time.monotonic() - seen[0] >= extra

    return moment


def temporary_files(folder: Path) -> set[str]:
    """The ``.part`` files in ``folder``: reports being written, or left by a killed run."""
    return {name for name in os.listdir(folder) if name.endswith(".part")}


def report_kill_moments(folder: Path) -> dict[str, Callable[[], Callable[[], bool]]]:
    """When to kill a payout run: label → a maker of the moment, called as the run starts."""

    def new_temporary_file() -> Callable[[], bool]:
        left_behind = temporary_files(folder)
        return lambda: bool(temporary_files(folder) - left_behind)

    def register_replaced() -> Callable[[], bool]:
        register = folder / "2025 年兑现.xlsx"
        inode = register.stat().st_ino
        return lambda: register.stat().st_ino != inode

    moments: dict[str, Callable[[], Callable[[], bool]]] = {
        f"{seconds} s after the start": (lambda seconds=seconds: after(seconds))
        for seconds in (0.05, 0.2, 0.5, 0.8, 1.2)
    }
    for seconds in (0, 0.005, 0.02):
        moments[f"{seconds} s after it began writing"] = lambda seconds=seconds: writing_then(
            new_temporary_file(), seconds
        )
    moments["as the workbook is replaced, before the HTML"] = register_replaced
    return moments


def test_a_report_run_killed_with_sigkill_leaves_the_earlier_reports_readable(rostered, cli):
    drop_year(rostered.folder("inbox"))
    assert cli("ingest").exit_code == 0
    first = cli("payout", "2025")
    assert first.exit_code == 0, first.output
    folder = rostered.folder("reports") / "2025"
    earlier = {p.name: p.read_bytes() for p in report_files(folder)}
    assert set(earlier) == {"2025 年兑现.xlsx", "2025 年兑现.html"}
    whole = {name: report_content(folder / name) for name in earlier}

    killed_while_writing = 0
    for label, make_moment in report_kill_moments(folder).items():
        moment = make_moment()
        process = start_cli(rostered, "payout", "2025")
        try:
            running = kill_at(process, moment)
        finally:
            stop(process)
        killed_while_writing += running and "writing" in label
        assert sorted(p.name for p in report_files(folder)) == sorted(earlier), label
        for path in report_files(folder):
            content = report_content(path)  # opens, whole
            assert path.read_bytes() == earlier[path.name] or content == whole[path.name], label
    assert killed_while_writing, "no run was killed while it was writing a report"

    last = run_cli(rostered, "payout", "2025")  # the lock of the killed runs is gone

    assert last.returncode == 0, last.stdout + last.stderr
    for path in report_files(folder):
        assert report_content(path) == whole[path.name]


def test_reports_are_readable_by_the_office_not_only_by_the_run_s_user(rostered, cli):
    drop_year(rostered.folder("inbox"))
    assert cli("ingest").exit_code == 0
    assert cli("payout", "2025").exit_code == 0
    assert cli("template", "2026-01").exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    usual = 0o666 & ~umask  # what a plain open(…, "w") gives

    written = [
        *report_files(rostered.folder("reports")),
        rostered.root / "2026-01 经理联络员台账.xlsx",
    ]

    assert len(written) == 3
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == usual, path.name


BIG_MONTH_ITEMS = 5000


@pytest.fixture(scope="module")
def big_month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A March with 5000 items: large enough that storing it takes a while."""
    names = list(LIAISONS.values())
    rows = [
        item(f"2025-03-{1 + k % 28:02d}", names[k % 3], f"第{k + 1}条 井下巷道情况")
        for k in range(BIG_MONTH_ITEMS)
    ]
    return write_workbook(tmp_path_factory.mktemp("big") / "2025-03.xlsx", {"信息报送": rows})


def archive_appears(workspace: Workspace, extra: float) -> Callable[[], bool]:
    """A moment ``extra`` seconds after the month's archive copy starts being written."""
    folder = workspace.folder("archive") / "2025-03"
    return writing_then(lambda: folder.is_dir() and any(os.scandir(folder)), extra)


def assert_march_as_before_or_whole(
    workspace: Workspace, stored, files_before: list[tuple[object, ...]], original: bytes
) -> None:
    """Either nothing of March and the file still in the inbox, or March whole and archived."""
    dropped = workspace.folder("inbox") / "2025-03.xlsx"
    march = stored("SELECT file_id, archived_as FROM files WHERE period = '2025-03'")
    in_force = stored("SELECT ledger, file_id FROM active_sheets WHERE period = '2025-03'")
    rows = stored("SELECT COUNT(*) FROM submissions")
    if not march:
        assert stored("SELECT * FROM files") == files_before
        assert (in_force, rows) == ([], [(0,)])
        assert dropped.read_bytes() == original
    else:
        ((file_id, archived_as),) = march
        assert sorted(in_force) == sorted((ledger.name, file_id) for ledger in MONTH_LEDGERS)
        assert rows == [(BIG_MONTH_ITEMS,)]
        assert (workspace.root / str(archived_as)).read_bytes() == original
        assert not dropped.exists() or dropped.read_bytes() == original


def assert_next_ingest_finishes_march(workspace: Workspace, stored, original: bytes) -> None:
    """A plain ``ingest`` afterwards leaves March stored once, whole, and the inbox empty."""
    again = run_cli(workspace, "ingest")

    assert again.returncode == 0, again.stdout + again.stderr
    ((version, archived_as),) = stored(
        "SELECT version, archived_as FROM files WHERE period = '2025-03'"
    )
    assert version == 1
    assert (workspace.root / str(archived_as)).read_bytes() == original
    assert stored("SELECT COUNT(*) FROM submissions") == [(BIG_MONTH_ITEMS,)]
    assert names_in(workspace.folder("inbox")) == []
    assert names_in(workspace.folder("quarantine")) == []


@pytest.mark.parametrize(
    "moment",
    ["0.3 s", "0.7 s", "archive + 0 s", "archive + 0.02 s", "archive + 0.1 s"],
)
def test_an_ingest_killed_with_sigkill_leaves_the_store_as_before_or_whole(
    rostered, stored, big_month, moment
):
    shutil.copy2(big_month, rostered.folder("inbox"))
    original = big_month.read_bytes()
    files_before = stored("SELECT * FROM files")
    seconds = float(moment.split()[-2])
    when = archive_appears(rostered, seconds) if moment.startswith("archive") else after(seconds)

    process = start_cli(rostered, "ingest")
    try:
        kill_at(process, when)
    finally:
        stop(process)

    assert_march_as_before_or_whole(rostered, stored, files_before, original)
    assert_next_ingest_finishes_march(rostered, stored, original)


def test_ctrl_c_while_watch_is_ingesting_stops_cleanly_and_keeps_the_store_whole(
    rostered, stored, big_month, tmp_path
):
    rostered.config_path.write_text("[limits]\nsettle_seconds = 0.2\n", encoding="utf-8")
    original = big_month.read_bytes()
    files_before = stored("SELECT * FROM files")
    watch = Logged.start(cli_args(rostered, "watch", "--poll", "0.2"), tmp_path / "watch")
    try:
        wait_until(lambda: "开始监视" in watch.stdout(), "watch to start", watch.both)
        shutil.copy(big_month, rostered.folder("inbox"))
        ingesting = archive_appears(rostered, 0)
        wait_until(
            lambda: ingesting() or watch.process.poll() is not None,
            "watch to begin storing March",
            watch.both,
            pause=0.001,
        )
        watch.process.send_signal(signal.SIGINT)
        returncode = watch.process.wait(timeout=DEADLINE_SECONDS)
    finally:
        watch.stop()

    assert returncode == 0, watch.both()
    assert "Traceback" not in watch.stderr() and "Aborted" not in watch.stderr()
    assert watch.stdout().splitlines()[-1].endswith("] 已停止监视"), watch.both()
    assert_march_as_before_or_whole(rostered, stored, files_before, original)
    assert_next_ingest_finishes_march(rostered, stored, original)
