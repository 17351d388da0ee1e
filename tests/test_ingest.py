"""Ingest (SPEC §4): each dropped file is stored whole or quarantined whole, with a report a
clerk can act on; re-drops replace a month; files that are not ledgers are never half read.

Every test works on a real workspace and real files, and looks where a user would: the exit
code, the CLI's words, the folders, the error report and the real ``ledger.db``. The standard
roster (conftest) has 张三 007 and 李四 0123 (综采队) and 王芳 2001 (机电队).
"""

from __future__ import annotations

import gc
import hashlib
import json
import random
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
import weakref
import zipfile
from decimal import Decimal
from pathlib import Path

import olefile
import openpyxl
import pytest

from ledger_batch.workspace import Workspace
from tests.conftest import roster_rows
from tests.ledgers import item, person, write_workbook


def month_file(folder: Path, name: str, sheets: dict) -> Path:
    """A monthly workbook written by openpyxl (title row, header row, data)."""
    return write_workbook(folder / name, sheets)


def unstamped(name: str) -> str:
    """A file name without the time stamp quarantine/ and duplicates/ put in front."""
    return re.sub(r"^\d{8}-\d{6}_", "", name)


def error_reports(workspace: Workspace) -> dict[str, str]:
    """Quarantined file's name → the text of the error report beside it."""
    reports = workspace.folder("quarantine").glob("*.错误报告.txt")
    return {
        unstamped(p.name.removesuffix(".错误报告.txt")): p.read_text(encoding="utf-8-sig")
        for p in reports
    }


def names_in(folder: Path) -> list[str]:
    """Names of the files in ``folder``, time stamps removed, sorted."""
    return sorted(unstamped(p.name) for p in folder.iterdir() if p.is_file())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- a bad file is quarantined whole -------------------------------------------------------


def test_a_bad_file_is_quarantined_whole_while_good_files_are_stored(rostered, cli, stored):
    inbox = rostered.folder("inbox")
    month_file(inbox, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "井下通风")]})
    bad = month_file(
        inbox,
        "2025-04.xlsx",
        {
            "信息报送": [
                item("2025-04-03", "张三", "皮带跑偏"),  # row 3: fine
                item("2025-04-31", "李四", "食堂"),  # row 4: there is no 31 April
            ],
            "会议考勤": [
                {"会议日期": "2025-04-20", "姓名": "王芳", "出席情况": "缺席"},  # fine
            ],
        },
    )
    bad_sha = sha256(bad)

    result = cli("ingest")

    assert result.exit_code == 1
    assert "✔ 2025-03.xlsx: 已入库 2025-03 第1版" in result.output
    assert "✘ 2025-04.xlsx: 1 处错误，已隔离" in result.output
    assert names_in(inbox) == []
    assert names_in(rostered.folder("quarantine")) == ["2025-04.xlsx", "2025-04.xlsx.错误报告.txt"]
    (quarantined,) = rostered.folder("quarantine").glob("*_2025-04.xlsx")
    assert sha256(quarantined) == bad_sha  # the office's file, untouched
    # The good month is stored; nothing at all of the bad one, not even its good rows.
    assert stored("SELECT period, content FROM submissions") == [("2025-03", "井下通风")]
    for table in ("submissions", "attendance", "files", "active_sheets"):
        assert stored(f"SELECT COUNT(*) FROM {table} WHERE period = '2025-04'") == [(0,)]
    report = error_reports(rostered)["2025-04.xlsx"]
    # UTF-8 with a BOM, so that Notepad on a Chinese Windows shows it right
    (report_path,) = rostered.folder("quarantine").glob("*.错误报告.txt")
    assert report_path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "错误 Errors: 1（此文件未入库 / this file was NOT stored" in report
    # file · sheet · row · column · value · what · fix, in Chinese and in English
    assert (
        "  文件 file: 2025-04.xlsx\n"
        "  工作表 sheet: 信息报送\n"
        "  行 row: 4\n"
        "  列 column: B 报送日期\n"
        "  单元格 cell: 信息报送!B4\n"
        "  值 value: 2025-04-31\n"
        "  问题：无法识别的日期\n"
        "  改正：写成 2025-03-05、2025/3/5、2025年3月5日 或 Excel 日期格式\n"
        "  Problem: not a date that can be read\n"
        "  Fix: write it as 2025-03-05, 2025/3/5, 2025年3月5日 or an Excel date\n"
    ) in report


def test_the_error_report_lists_every_problem_of_the_file_at_once(rostered, cli, stored):
    month_file(
        rostered.folder("inbox"),
        "2025-04.xlsx",
        {
            "信息报送": [
                item("2025-04-31", "张三", "皮带跑偏"),  # row 3: unreadable date
                item("2025-04-08", "赵六", "食堂"),  # row 4: nobody of that name
            ],
            "闭环跟踪": [{"编号": "202401-009", "日期": "2025-04-10", "办理状态": "整改落实"}],
        },
    )

    result = cli("ingest")

    assert result.exit_code == 1
    assert "✘ 2025-04.xlsx: 3 处错误，已隔离" in result.output
    report = error_reports(rostered)["2025-04.xlsx"]
    assert "错误 Errors: 3" in report
    assert "单元格 cell: 信息报送!B3" in report
    assert "单元格 cell: 信息报送!C4" in report
    assert "问题：名册中没有此人（赵六）" in report
    assert "单元格 cell: 闭环跟踪!A3" in report
    assert "Problem: item number 202401-009 is not among the stored items" in report
    assert stored("SELECT COUNT(*) FROM files WHERE period = '2025-04'") == [(0,)]


def test_a_roster_sheet_with_blank_cells_is_reported_with_the_rest(workspace, cli, stored):
    month_file(
        workspace.folder("inbox"),
        "2025-03.xlsx",
        {
            "人员名册": [
                person("007", "张三", "综采队"),
                person("0123", None, None),  # row 4: 姓名 and 单位 left blank
                person("2001", "王芳", "机电队"),
            ],
            "信息报送": [
                item("2025-03-05", "张三", "井下通风"),
                item("2025-03-06", "赵六", "食堂"),
            ],
        },
    )

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(workspace)["2025-03.xlsx"]
    assert "错误 Errors: 3" in report
    assert "单元格 cell: 人员名册!B4\n  问题：必填项“姓名”为空" in report
    assert "单元格 cell: 人员名册!D4\n  问题：必填项“单位”为空" in report
    assert "单元格 cell: 信息报送!C4\n  值 value: 赵六\n  问题：名册中没有此人（赵六）" in report
    assert stored("SELECT COUNT(*) FROM files") == [(0,)]


# --- re-dropping a month -------------------------------------------------------------------


def test_redropping_a_month_replaces_it_and_keeps_the_old_version(rostered, cli, stored, tmp_path):
    inbox = rostered.folder("inbox")
    first = month_file(
        tmp_path / "v1",
        "2025-03.xlsx",
        {
            "信息报送": [
                item("2025-03-03", "张三", "井下通风"),
                item("2025-03-04", "张三", "皮带跑偏"),
                item("2025-03-05", "李四", "食堂价格"),
            ],
            "会议考勤": [{"会议日期": "2025-03-20", "姓名": "李四", "出席情况": "缺席"}],
        },
    )
    shutil.copy2(first, inbox)
    assert cli("ingest").exit_code == 0
    second = month_file(
        inbox,
        "2025年3月联络员台账.xlsx",
        {
            "信息报送": [
                item("2025-03-03", "张三", "井下通风"),
                item("2025-03-04", "张三", "皮带跑偏"),
                item("2025-03-06", "张三", "巷道积水"),
                item("2025-03-05", "李四", "食堂价格"),
                item("2025-03-07", "王芳", "女工休息室"),
            ],
            # no 会议考勤 sheet: the month's attendance becomes empty (李四 no longer absent)
        },
    )
    second_sha = sha256(second)

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert "✔ 2025年3月联络员台账.xlsx: 已入库 2025-03 第2版（替换第1版）" in result.output
    # Per person, what changed: 张三 2→3 items, 王芳 0→1, 李四's absence 1→0; 李四's items
    # (1 → 1) did not change and are not mentioned.
    assert "张三（007）: 信息 2→3" in result.output
    assert "王芳（2001）: 信息 0→1" in result.output
    assert "李四（0123）: 缺席 1→0" in result.output
    assert "李四（0123）: 信息" not in result.output
    assert stored("SELECT original_name, version FROM files WHERE period = '2025-03'") == [
        ("2025-03.xlsx", 1),
        ("2025年3月联络员台账.xlsx", 2),
    ]
    in_force = (
        "SELECT t.name, t.content FROM {table} t JOIN active_sheets a ON a.file_id = t.file_id "
        "AND a.ledger = '{table}' AND a.period = t.period ORDER BY t.source_row"
    )
    assert stored(in_force.format(table="submissions")) == [
        ("张三", "井下通风"),
        ("张三", "皮带跑偏"),
        ("张三", "巷道积水"),
        ("李四", "食堂价格"),
        ("王芳", "女工休息室"),
    ]
    assert stored(in_force.format(table="attendance").replace("t.content", "t.presence")) == []
    # History: the old rows stay in the store (not in force), the old original in archive/.
    assert stored("SELECT COUNT(*) FROM submissions WHERE period = '2025-03'") == [(8,)]
    assert stored("SELECT COUNT(*) FROM attendance WHERE period = '2025-03'") == [(1,)]
    archive = rostered.folder("archive") / "2025-03"
    (v1,) = archive.glob("2025-03.v1-*.xlsx")
    (v2,) = archive.glob("2025年3月联络员台账.v2-*.xlsx")
    assert v1.read_bytes() == first.read_bytes()
    assert v2.name == f"2025年3月联络员台账.v2-{second_sha[:8]}.xlsx"
    assert sha256(v2) == second_sha
    assert not second.exists()
    ((detail,),) = stored("SELECT detail FROM events WHERE action = 'replace'")
    assert json.loads(detail)["replaced_version"] == 1


def test_a_redrop_with_an_error_leaves_the_month_as_it_was(rostered, cli, stored):
    inbox = rostered.folder("inbox")
    month_file(inbox, "2025-03.xlsx", {"信息报送": [item("2025-03-03", "张三", "井下通风")]})
    assert cli("ingest").exit_code == 0
    month_file(
        inbox,
        "2025-03.xlsx",
        {"信息报送": [item("2025-03-03", "张三", "改过的"), item("2025-03-04", "赵六", "x")]},
    )

    result = cli("ingest")

    assert result.exit_code == 1
    assert stored(
        "SELECT t.content FROM submissions t JOIN active_sheets a ON a.file_id = t.file_id "
        "AND a.ledger = 'submissions'"
    ) == [("井下通风",)]
    assert stored("SELECT version FROM files WHERE period = '2025-03'") == [(1,)]


def test_the_same_bytes_dropped_again_are_recognised_and_not_stored_twice(
    rostered, cli, stored, tmp_path
):
    original = month_file(
        tmp_path, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "井下通风")]}
    )
    shutil.copy2(original, rostered.folder("inbox"))
    assert cli("ingest").exit_code == 0
    shutil.copy2(original, rostered.folder("inbox") / "2025-03 副本.xlsx")

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    recognised = "· 2025-03 副本.xlsx: 与已入库的 2025-03 版本 1 内容完全相同，未重复入库"
    assert recognised in result.output
    assert stored("SELECT version FROM files WHERE period = '2025-03'") == [(1,)]
    assert stored("SELECT COUNT(*) FROM submissions") == [(1,)]
    assert names_in(rostered.folder("inbox")) == []
    assert names_in(rostered.folder("archive") / "duplicates") == ["2025-03 副本.xlsx"]


def test_two_copies_of_one_file_in_one_drop_are_stored_once(rostered, cli, stored):
    inbox = rostered.folder("inbox")
    original = month_file(inbox, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "a")]})
    shutil.copy2(original, inbox / "2025-03 (1).xlsx")

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert result.output.count("已入库 2025-03 第1版") == 1
    assert "与已入库的 2025-03 版本 1 内容完全相同，未重复入库" in result.output
    assert stored("SELECT COUNT(*) FROM files WHERE period = '2025-03'") == [(1,)]
    assert stored("SELECT COUNT(*) FROM submissions") == [(1,)]


def test_a_file_named_twice_on_the_command_line_is_ingested_once(rostered, cli, stored):
    inbox = rostered.folder("inbox")
    month = month_file(inbox, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "a")]})

    result = cli("ingest", str(month), str(inbox / "." / "2025-03.xlsx"))

    assert result.exit_code == 0, result.output
    assert result.output.count("2025-03.xlsx") == 1
    assert "已入库 2025-03 第1版" in result.output
    assert stored("SELECT COUNT(*) FROM submissions") == [(1,)]
    assert (rostered.folder("archive")).exists() and not month.exists()


def test_an_ingest_leaves_no_object_out_of_cycle_collection(rostered, cli, stored):
    # While its readers run, an ingest keeps the objects that existed before it out of the
    # cycle collector (memory.start_up_frozen). `watch` ingests drop after drop for weeks: a
    # cycle that was garbage when an ingest began must not be frozen with the rest, and
    # nothing may stay frozen afterwards.
    inbox = rostered.folder("inbox")
    month_file(inbox, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "a")]})
    month_file(inbox, "2025-04.xlsx", {"信息报送": [item("2025-04-05", "张三", "b")]})

    class Node:
        me: object

    cycle = Node()
    cycle.me = cycle
    gone = weakref.ref(cycle)
    gc.disable()  # the collector runs only when the ingest asks for it
    try:
        del cycle
        result = cli("ingest")
        assert gone() is None
    finally:
        gc.enable()

    assert result.exit_code == 0, result.output
    assert stored("SELECT COUNT(*) FROM submissions") == [(2,)]
    assert gc.get_freeze_count() == 0


def test_columns_left_empty_down_a_sheet_are_stored_as_empty_beside_filled_ones(
    rostered, cli, stored
):
    # 备注 and 复查结果 empty in every row, 反馈情况 and 办理状态 in one row each: the rows
    # are stored whole, the empty cells as NULL, in the sheet's order (a problem without a
    # stage starts at 反映问题; a suggestion has none).
    month_file(
        rostered.folder("inbox"),
        "2025-03.xlsx",
        {
            "信息报送": [
                item("2025-03-05", "张三", "井下通风", 反馈情况="已反馈"),
                item("2025-03-06", "李四", "皮带跑偏", 办理状态="调查核实"),
                item("2025-03-07", "王芳", "食堂", 信息类型="建议"),
            ]
        },
    )

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored(
        "SELECT source_row, name, kind, feedback, inspection, notes, stage FROM submissions "
        "ORDER BY rowid"
    ) == [
        (3, "张三", "问题", "已反馈", None, None, "反映问题"),
        (4, "李四", "问题", None, None, None, "调查核实"),
        (5, "王芳", "建议", None, None, None, None),
    ]
    assert cli("month", "2025-03").exit_code == 0


# --- rosters and the order files arrive in -------------------------------------------------


def test_a_roster_on_its_own_is_in_force_from_the_years_first_month(
    workspace, cli, stored, standard_roster
):
    write_workbook(
        workspace.folder("inbox") / "2025 人员名册.xlsx", {"人员名册": standard_roster()}
    )

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert "✔ 2025 人员名册.xlsx: 已入库 2025-01 第1版" in result.output
    assert stored("SELECT kind, period, ledgers FROM files") == [("roster", "2025-01", "roster")]
    assert stored("SELECT employee_id, name, unit, position, gender FROM roster") == [
        ("007", "张三", "综采队", "班组长", "男"),
        ("0123", "李四", "综采队", "职工", "男"),
        ("2001", "王芳", "机电队", "职工", "女"),
    ]


def test_a_roster_inside_a_monthly_workbook_is_in_force_from_that_month(
    workspace, cli, stored, standard_roster
):
    inbox = workspace.folder("inbox")
    month_file(
        inbox,
        "2025-03.xlsx",
        {"人员名册": standard_roster(), "信息报送": [item("2025-03-05", "王芳", "女工休息室")]},
    )
    month_file(inbox, "2025-04.xlsx", {"信息报送": [item("2025-04-05", "王芳", "澡堂")]})
    month_file(inbox, "2025-02.xlsx", {"信息报送": [item("2025-02-05", "王芳", "早了")]})

    result = cli("ingest")

    assert result.exit_code == 1
    assert "✔ 2025-03.xlsx: 已入库 2025-03 第1版" in result.output
    assert "✔ 2025-04.xlsx: 已入库 2025-04 第1版" in result.output
    assert "还没有 2025-02 适用的人员名册" in error_reports(workspace)["2025-02.xlsx"]
    assert stored("SELECT period, ledger FROM active_sheets WHERE ledger = 'roster'") == [
        ("2025-03", "roster")
    ]
    assert stored("SELECT period, employee_id FROM submissions ORDER BY period") == [
        ("2025-03", "2001"),
        ("2025-04", "2001"),
    ]


def test_files_dropped_together_in_any_order_all_succeed(workspace, cli, stored, standard_roster):
    inbox = workspace.folder("inbox")
    february = month_file(
        inbox, "2025-02.xlsx", {"信息报送": [item("2025-02-10", "张三", "二月的问题")]}
    )
    march = month_file(
        inbox,
        "2025-03.xlsx",
        {
            "信息报送": [item("2025-03-05", "李四", "三月的问题")],
            # an update to February's item: February must be stored first
            "闭环跟踪": [{"编号": "202502-001", "日期": "2025-03-12", "办理状态": "调查核实"}],
        },
    )
    roster = write_workbook(inbox / "联络员名册 2025.xlsx", {"人员名册": standard_roster()})

    # Months first, the roster last, March before February.
    result = cli("ingest", march, february, roster)

    assert result.exit_code == 0, result.output
    assert stored("SELECT kind, period FROM files ORDER BY file_id") == [
        ("roster", "2025-01"),
        ("month", "2025-02"),
        ("month", "2025-03"),
    ]
    assert stored("SELECT item_id, stage FROM tracking") == [("202502-001", "调查核实")]


# --- what is not a ledger ------------------------------------------------------------------


def test_excel_and_libreoffice_lock_files_are_ignored_and_left_alone(rostered, cli, stored):
    inbox = rostered.folder("inbox")
    month_file(inbox, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "井下通风")]})
    # Excel's owner file: the user's name padded to 165 bytes; LibreOffice's: one CSV line.
    excel_lock = inbox / "~$2025-03.xlsx"
    excel_lock.write_bytes(b"\x04zhang" + b" " * 50 + b"\x04\x00z\x00h\x00" + b"\x00" * 100)
    office_lock = inbox / ".~lock.2025-03.xlsx#"
    office_lock.write_text(",张三,PC-07,24.11.2025 09:30,file:///home/zhang;", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (excel_lock, office_lock)}

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert "· ~$2025-03.xlsx: 这是 Excel/WPS 的临时锁文件，已忽略" in result.output
    assert "· .~lock.2025-03.xlsx#: 这是 Excel/WPS 的临时锁文件，已忽略" in result.output
    assert {p.name: p.read_bytes() for p in inbox.iterdir()} == before
    assert names_in(rostered.folder("quarantine")) == []
    assert stored("SELECT COUNT(*) FROM submissions") == [(1,)]


@pytest.mark.parametrize(
    ("name", "content", "what_zh", "what_en"),
    [
        (
            "2025-03.xlsx",
            "这是三月份联络员会议纪要，不是台账。\n".encode(),
            "文件不是电子表格（text or binary）",
            "the file is not a spreadsheet (text or binary)",
        ),
        (
            "2025-03.xls",
            b"<html><body><table><tr><td>2025-03-05</td></tr></table></body></html>",
            "文件不是电子表格（HTML）",
            "the file is not a spreadsheet (HTML)",
        ),
        (
            "2025-03.xlsx",
            b"",
            "文件已损坏或不完整：0 字节 / empty file",
            "the file is damaged or incomplete: 0 字节 / empty file",
        ),
        (
            "2025-03.pdf",
            b"%PDF-1.7\n",
            "文件不是电子表格（.pdf）",
            "the file is not a spreadsheet (.pdf)",
        ),
        (
            "2025-03.xlsx",
            "docx",
            "文件不是电子表格（zip/docx）",
            "the file is not a spreadsheet (zip/docx)",
        ),
    ],
    ids=["text-renamed-xlsx", "html-saved-as-xls", "zero-bytes", "pdf", "docx-renamed-xlsx"],
)
def test_a_file_that_is_not_a_spreadsheet_is_quarantined_with_a_clear_message(
    rostered, cli, stored, tmp_path, name, content, what_zh, what_en
):
    if content == "docx":  # a Word document: a zip, but not a workbook
        with zipfile.ZipFile(tmp_path / "memo.docx", "w") as docx:
            docx.writestr("[Content_Types].xml", "<Types/>")
            docx.writestr("word/document.xml", "<w:document/>")
        content = (tmp_path / "memo.docx").read_bytes()
    (rostered.folder("inbox") / name).write_bytes(content)

    result = cli("ingest")

    assert result.exit_code == 1
    assert what_zh in result.output
    report = error_reports(rostered)[name]
    assert f"问题：{what_zh}" in report
    assert f"Problem: {what_en}" in report
    assert names_in(rostered.folder("quarantine")) == [name, f"{name}.错误报告.txt"]
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]


def test_an_xlsx_renamed_to_xls_is_still_read(rostered, cli, stored, tmp_path):
    source = month_file(tmp_path, "x.xlsx", {"信息报送": [item("2025-03-05", "张三", "井下通风")]})
    shutil.copy2(source, rostered.folder("inbox") / "2025-03.xls")

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored("SELECT period, name, content FROM submissions") == [
        ("2025-03", "张三", "井下通风")
    ]
    assert [p.name for p in (rostered.folder("archive") / "2025-03").iterdir()] == [
        f"2025-03.v1-{sha256(source)[:8]}.xls"
    ]


def _has_filepass_record(xls: Path) -> bool:
    """Whether a BIFF8 workbook is encrypted: a FILEPASS (0x002F) record in its globals."""
    with olefile.OleFileIO(str(xls)) as ole:
        stream = ole.openstream("Workbook").read()
    position = 0
    while position + 4 <= len(stream):
        record_type, length = struct.unpack_from("<HH", stream, position)
        if record_type == 0x002F:
            return True
        if record_type == 0x000A:  # EOF of the globals
            return False
        position += 4 + length
    return False


@pytest.mark.libreoffice
def test_a_password_protected_workbook_is_refused_with_remove_the_password(
    rostered, cli, stored, libreoffice, tmp_path
):
    source = month_file(tmp_path, "plain.xlsx", {"信息报送": [item("2025-03-05", "张三", "a")]})
    inbox = rostered.folder("inbox")
    protected = [inbox / "2025-03.xlsx", inbox / "2025-04.xls"]
    libreoffice.save_with_password(source, protected, "pw")
    # Really encrypted: OOXML inside an OLE EncryptedPackage; BIFF8 with a FILEPASS record.
    with olefile.OleFileIO(str(protected[0])) as ole:
        assert {"EncryptionInfo", "EncryptedPackage"} <= {e[0] for e in ole.listdir()}
    assert _has_filepass_record(protected[1])

    result = cli("ingest")

    assert result.exit_code == 1
    reports = error_reports(rostered)
    for name in ("2025-03.xlsx", "2025-04.xls"):
        assert "问题：文件设有密码保护，无法读取" in reports[name]
        assert "改正：在 Excel 中去掉密码" in reports[name]
        assert "Fix: remove the password in Excel" in reports[name]
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]


def _far_cell_workbook(path: Path, dimension: str | None = None) -> Path:
    """A small ledger with one stray value in XFD1048576, Excel's last cell."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "信息报送"
    sheet.append(["报送日期", "姓名", "信息类别", "信息类型", "信息内容"])
    sheet.append(["2025-03-05", "张三", "其他", "情况", "正常"])
    sheet["XFD1048576"] = "x"
    workbook.save(path)
    if dimension is None:
        return path
    # Writers may leave the <dimension> out or wrong; rewrite it to claim A1:E2.
    rewritten = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename.startswith("xl/worksheets/"):
                data = re.sub(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), data
                )
            target.writestr(member, data)
    rewritten.replace(path)
    return path


@pytest.mark.parametrize("dimension", [None, "A1:E2"], ids=["honest-dimension", "lying-dimension"])
def test_a_sheet_reaching_xfd1048576_is_rejected_before_reading(rostered, stored, dimension):
    path = _far_cell_workbook(rostered.folder("inbox") / "2025-03.xlsx", dimension)
    assert path.stat().st_size < 10_000

    # In a child process: were the guard to fail, the reader would abort the process.
    done = subprocess.run(
        [sys.executable, "-m", "ledger_batch", "-w", str(rostered.root), "ingest"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    report = error_reports(rostered)["2025-03.xlsx"]
    assert "问题：工作表范围过大（信息报送!XFD1048576）" in report
    assert "单元格 cell: 信息报送!XFD1048576" in report
    assert "Fix: delete stray far-away cells (e.g. XFD1048576) and save again" in report
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]


@pytest.mark.libreoffice
def test_an_ods_reaching_xfd1048576_is_refused_without_crashing(rostered, stored, libreoffice):
    source = _far_cell_workbook(rostered.root / "2025-03.xlsx")
    (ods,) = libreoffice.convert([source], "ods", rostered.folder("inbox"))
    assert ods.stat().st_size < 20_000

    done = subprocess.run(
        [sys.executable, "-m", "ledger_batch", "-w", str(rostered.root), "ingest"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    report = error_reports(rostered)["2025-03.ods"]
    assert "问题：工作表范围过大" in report
    assert "Fix: delete stray far-away cells (e.g. XFD1048576) and save again" in report
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]


def test_a_file_still_being_copied_is_skipped_and_left_in_the_inbox(
    rostered, cli, stored, tmp_path
):
    rostered.config_path.write_text("[limits]\nsettle_seconds = 2\n", encoding="utf-8")
    data = month_file(
        tmp_path, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "井下通风")]}
    ).read_bytes()
    target = rostered.folder("inbox") / "2025-03.xlsx"
    first_bytes_written, stop = threading.Event(), threading.Event()

    def copy_slowly() -> None:
        """Append 16 bytes every 20 ms; when told to stop, write the rest at once."""
        with target.open("wb") as out:
            position = 0
            while position < len(data) and not stop.is_set():
                out.write(data[position : position + 16])
                out.flush()
                position += 16
                first_bytes_written.set()
                time.sleep(0.02)
            out.write(data[position:])

    copier = threading.Thread(target=copy_slowly)
    copier.start()
    first_bytes_written.wait(5)
    try:
        result = cli("ingest")
        copying_throughout = copier.is_alive()
    finally:
        stop.set()
        copier.join()

    assert copying_throughout  # the copy outlasted the whole ingest run
    assert result.exit_code == 0, result.output
    assert "· 2025-03.xlsx: 文件仍在写入（大小或修改时间在变化），本次跳过" in result.output
    assert target.read_bytes() == data  # left in the inbox, whole, for the next run
    assert names_in(rostered.folder("quarantine")) == []
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]

    again = cli("ingest")  # the copy has finished: now it is read

    assert again.exit_code == 0, again.output
    assert stored("SELECT content FROM submissions") == [("井下通风",)]


# --- check ---------------------------------------------------------------------------------


def test_check_validates_but_stores_nothing_and_moves_nothing(rostered, cli, stored):
    inbox = rostered.folder("inbox")
    good = month_file(inbox, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "通风")]})
    bad = month_file(inbox, "2025-04.xlsx", {"信息报送": [item("2025-04-05", "赵六", "皮带")]})
    files_before = stored("SELECT * FROM files")
    store_before = rostered.store_path.read_bytes()

    result = cli("check", good, bad)

    assert result.exit_code == 1
    assert "✔ 2025-03.xlsx: 可入库为 2025-03 第1版（仅检查，未入库）" in result.output
    assert "✘ 2025-04.xlsx: 1 处错误，不能入库（仅检查，未移动）" in result.output
    unknown = "信息报送 · 行 3 · C 姓名 (信息报送!C3) · '赵六': 名册中没有此人（赵六）"
    assert unknown in result.output
    assert "已入库" not in result.output  # nothing claims to be stored…
    assert "已隔离" not in result.output  # …or quarantined
    assert names_in(inbox) == ["2025-03.xlsx", "2025-04.xlsx"]
    assert names_in(rostered.folder("quarantine")) == []
    assert list((rostered.folder("archive")).rglob("2025-0[34]*")) == []
    assert stored("SELECT * FROM files") == files_before
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]
    assert rostered.store_path.read_bytes() == store_before


# --- a whole year authored through LibreOffice -------------------------------------------

ABSENCES = {
    3: {"张三": "缺席", "李四": "缺席"},
    6: {"王芳": "请假"},
    9: {"李四": "缺席"},
    12: {"王芳": "缺席"},
}
"""Who missed each quarterly meeting (everyone else 出席)."""


def _year_month_sheets(month: int) -> dict[str, list[dict[str, object]]]:
    """One month of the hand-computed year (see the test for the plan)."""
    period = f"2025-{month:02d}"

    def day(number: int) -> str:
        return f"{period}-{number:02d}"

    items = [item(day(5), "张三", f"{period} 张三第{k}条", 工号="007") for k in (1, 2)]
    if month not in (5, 9):
        items += [item(day(6), "李四", f"{period} 李四第{k}条") for k in (1, 2)]
    if month == 7:
        items.append(item(day(7), "李四", "编造的情况", 是否属实="否"))
    items.append(item(day(8), "王芳", f"{period} 王芳", 信息类型="建议"))
    sheets: dict[str, list[dict[str, object]]] = {"信息报送": items}
    if month % 3 == 0:
        sheets["会议考勤"] = [
            {
                "会议日期": day(20),
                "会议名称": f"第{month // 3}季度联络员会议",
                "会议类型": "季度例会",
                "姓名": name,
                "出席情况": ABSENCES[month].get(name, "出席"),
            }
            for name in ("张三", "李四", "王芳")
        ]
    if month == 6:
        sheets["违规通报"] = [
            {"日期": day(15), "姓名": "张三", "类型": "违反规章", "事由": "未戴安全帽"}
        ]
    if month == 12:
        sheets["质量加减分"] = [
            {"日期": day(28), "姓名": "张三", "分值": "1.5", "理由": "信息质量高"},
            {"日期": day(28), "姓名": "李四", "分值": "-5.5", "理由": "多条信息空泛"},
            {"日期": day(28), "姓名": "王芳", "分值": 1.5, "理由": "建议被采纳"},
        ]
    return sheets


@pytest.mark.libreoffice
def test_a_year_authored_in_libreoffice_and_dropped_shuffled_pays_out_as_computed_by_hand(
    workspace, cli, libreoffice, standard_roster, tmp_path
):
    # The plan, month by month (_year_month_sheets), and the payout worked out by hand:
    #
    # 张三 007: 2 items × 12 months = 24 → base min(5 × 24, 100) = 100
    #           absent (缺席) at the March meeting −2; 违反规章 in June −3; adjustment +1.5
    #           100 − 2 − 3 + 1.5 = 96.5 → half up 97 → ≥ 91 → 1.0 → 1000 × 1.0 = 1000.00
    # 李四 0123: 2 items in each month but May and September = 20, plus one item in July
    #           marked 是否属实=否 (not counted) → base min(5 × 20, 100) = 100
    #           two months with no item −5 × 2 = −10; one untrue item −10;
    #           absent in March and September −2 × 2 = −4; adjustment −5.5
    #           100 − 10 − 10 − 4 − 5.5 = 70.5 → half up 71 (banker's rounding would give 70
    #           and the 0.7 tier) → 71–80 → 0.8 → 800.00
    # 王芳 2001: 1 item × 12 months = 12 → base 5 × 12 = 60
    #           excused (请假) in June costs nothing; absent in December −2; adjustment +1.5
    #           60 − 2 + 1.5 = 59.5 → half up 60 → 60–70 → 0.7 → 700.00
    # Total: 1000.00 + 800.00 + 700.00 = 2500.00
    sources = tmp_path / "openpyxl"
    by_format: dict[str, list[Path]] = {"xlsx": [], "ods": [], "xls": []}
    by_format["ods"].append(
        write_workbook(sources / "2025年度联络员名册.xlsx", {"人员名册": standard_roster()})
    )
    for month in range(1, 13):
        name = f"2025-{month:02d}.xlsx" if month % 2 else f"2025年{month}月联络员台账.xlsx"
        path = write_workbook(sources / name, _year_month_sheets(month))
        by_format[("xlsx", "ods", "xls")[month % 3]].append(path)
    authored = [
        path
        for suffix, paths in by_format.items()
        for path in libreoffice.convert(paths, suffix, tmp_path / suffix)
    ]
    assert sorted(p.suffix for p in authored) == [".ods"] * 5 + [".xls"] * 4 + [".xlsx"] * 4
    random.Random(2025).shuffle(authored)
    dropped = [Path(shutil.copy2(p, workspace.folder("inbox"))) for p in authored]

    result = cli("ingest", *dropped)

    assert result.exit_code == 0, result.output
    assert result.output.count("✔") == 13
    payout = cli("payout", "2025", "--json")
    assert payout.exit_code == 0, payout.output
    figures = json.loads(payout.stdout)
    rows = {
        row["employee_id"]: (
            row["items_count"],
            row["base_score"],
            row["absences"],
            row["missing_months"],
            row["untrue_count"],
            row["violations"],
            Decimal(str(row["deduction_points"])),
            Decimal(str(row["adjustment_points"])),
            row["final_score"],
            row["coefficient"],
            row["allowance_amount"],
        )
        for row in figures["rows"]
    }
    assert rows == {
        "007": (24, 100, 1, 0, 0, 1, Decimal(5), Decimal("1.5"), 97, "1.0", "1000.00"),
        "0123": (20, 100, 2, 2, 1, 0, Decimal(24), Decimal("-5.5"), 71, "0.8", "800.00"),
        "2001": (12, 60, 1, 0, 0, 0, Decimal(2), Decimal("1.5"), 60, "0.7", "700.00"),
    }
    assert figures["complete"] is True
    assert figures["total_amount"] == "2500.00"


# --- items outside a liaison's term ----------------------------------------------------------


def test_an_item_outside_the_liaisons_term_is_an_error_naming_its_cell(workspace, cli, stored):
    inbox = workspace.folder("inbox")
    roster = roster_rows(
        **{
            "0123": {"解聘日期": "2025-03-15", "解聘原因": "工作调动"},  # 李四 leaves mid-March
            "2001": {"聘任日期": "2025-03-10"},  # 王芳 starts on the 10th
        }
    )
    write_workbook(inbox / "2025 人员名册.xlsx", {"人员名册": roster})
    assert cli("ingest").exit_code == 0
    month_file(
        inbox,
        "2025-03.xlsx",
        {
            "信息报送": [
                item("2025-03-14", "李四", "最后一天前"),  # row 3: still serving
                item("2025-03-15", "李四", "解聘当日"),  # row 4: the dismissal day is outside
                item("2025-03-09", "王芳", "聘任之前"),  # row 5: before appointment
                item("2025-03-10", "王芳", "聘任当日"),  # row 6: the first day counts
                item("2025-03-20", "张三", "一直在任"),  # row 7
            ]
        },
    )

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(workspace)["2025-03.xlsx"]
    assert "单元格 cell: 信息报送!B4" in report
    assert "李四 在 2025-03-15 不在联络员任期内（2025-01-01 – 2025-03-15）" in report
    assert "单元格 cell: 信息报送!B5" in report
    assert "王芳 在 2025-03-09 不在联络员任期内（2025-03-10 – ）" in report
    assert report.count("不在联络员任期内") == 2
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


# --- item numbers ----------------------------------------------------------------------------


def test_an_item_number_used_twice_or_in_another_month_is_an_error_naming_both(
    rostered, cli, stored
):
    inbox = rostered.folder("inbox")
    month_file(
        inbox,
        "2025-03.xlsx",
        {"信息报送": [item("2025-03-05", "张三", "井口照明", 编号="202503-001")]},
    )
    assert cli("ingest").exit_code == 0
    month_file(
        inbox,
        "2025-04.xlsx",
        {
            "信息报送": [
                item("2025-04-01", "李四", "水泵房积水", 编号="202504-001"),  # row 3
                item("2025-04-02", "王芳", "配电柜标识", 编号="202503-001"),  # row 4: March's
                item("2025-04-03", "张三", "风门关闭不严", 编号="202504-001"),  # row 5: row 3's
                item("2025-04-04", "张三", "巷道积尘", 编号=None),  # row 6: numbered for us
            ]
        },
    )

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-04.xlsx"]
    assert report.count("错误 ERROR") == 2
    assert "单元格 cell: 信息报送!A4" in report and "编号 202503-001 已在 2025-03 使用" in report
    assert "单元格 cell: 信息报送!A5" in report
    assert "编号 202504-001 重复（另见第 3 行）" in report
    assert report.index("信息报送!A4") < report.index("信息报送!A5")  # in row order
    assert stored("SELECT period, item_id FROM submissions") == [("2025-03", "202503-001")]


def test_a_number_with_the_months_prefix_already_used_in_another_month_is_an_error(rostered, cli):
    # March's ledger used two numbers with April's prefix (the second one with a character
    # beyond U+FFFF, outside any range of ordinary text); April's uses them again.
    inbox = rostered.folder("inbox")
    month_file(
        inbox,
        "2025-03.xlsx",
        {
            "信息报送": [
                item("2025-03-05", "张三", "井口照明", 编号="202504-009"),
                item("2025-03-06", "张三", "井口积水", 编号="202504-\U0001f6a7"),
            ]
        },
    )
    assert cli("ingest").exit_code == 0
    month_file(
        inbox,
        "2025-04.xlsx",
        {
            "信息报送": [
                item("2025-04-01", "李四", "水泵房积水", 编号="202504-009"),  # row 3
                item("2025-04-02", "李四", "配电柜标识", 编号="202504-\U0001f6a7"),  # row 4
                item("2025-04-03", "李四", "风门关闭不严", 编号="202504-010"),  # row 5: new
            ]
        },
    )

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-04.xlsx"]
    assert report.count("错误 ERROR") == 2
    assert "编号 202504-009 已在 2025-03 使用" in report
    assert "编号 202504-\U0001f6a7 已在 2025-03 使用" in report
    assert "信息报送!A5" not in report


# --- possibly repeated items -----------------------------------------------------------------


def test_an_item_its_author_already_reported_is_a_warning_naming_the_first(rostered, cli):
    inbox = rostered.folder("inbox")
    month_file(inbox, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "井下通风不良")]})
    assert cli("ingest").exit_code == 0
    month_file(
        inbox,
        "2025-04.xlsx",
        {
            "信息报送": [
                item("2025-04-01", "张三", "井下通风不良"),  # row 3: March's 202503-001
                item("2025-04-02", "李四", "水泵房积水"),  # row 4: 202504-002
                item("2025-04-03", "李四", "水泵房\u3000积水"),  # row 5: row 4 again
                item("2025-04-04", "张三", "水泵房积水"),  # row 6: another author: not repeated
                item("2025-04-05", "张三", "井下通风不良"),  # row 7: March's again
            ]
        },
    )

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    warnings = [line.strip() for line in result.output.splitlines() if "可能是重复信息" in line]
    assert len(warnings) == 3, result.output
    assert "(信息报送!H3)" in warnings[0] and "与 202503-001 内容相同" in warnings[0]
    assert "(信息报送!H5)" in warnings[1] and "与 202504-002 内容相同" in warnings[1]
    assert "(信息报送!H7)" in warnings[2] and "与 202503-001 内容相同" in warnings[2]


# --- tracking rows and notices name items --------------------------------------------------


def test_tracking_rows_and_notices_are_checked_against_the_items_they_name(rostered, cli):
    inbox = rostered.folder("inbox")
    month_file(inbox, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "井下通风不良")]})
    assert cli("ingest").exit_code == 0  # 张三's item 202503-001
    month_file(
        inbox,
        "2025-04.xlsx",
        {
            "信息报送": [item("2025-04-02", "李四", "水泵房积水")],  # 李四's 202504-001
            "闭环跟踪": [
                # row 3: an update dated before this month's own item was reported
                {"编号": "202504-001", "日期": "2025-04-01", "办理状态": "反映问题"},
                # row 4: an inspection result before the 督查验收 stage
                {
                    "编号": "202503-001",
                    "日期": "2025-04-10",
                    "办理状态": "整改落实",
                    "复查结果": "合格",
                },
                # row 5: in order
                {
                    "编号": "202503-001",
                    "日期": "2025-04-20",
                    "办理状态": "督查验收",
                    "复查结果": "合格",
                },
            ],
            "违规通报": [
                # row 3: a notice to 李四 naming 张三's item
                {
                    "日期": "2025-04-15",
                    "姓名": "李四",
                    "类型": "信息不实",
                    "事由": "不实",
                    "编号": "202503-001",
                },
            ],
        },
    )

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-04.xlsx"]
    assert report.count("错误 ERROR") == 3
    assert "单元格 cell: 闭环跟踪!B3" in report
    assert "跟踪日期早于该信息的报送日期 2025-04-02" in report
    assert "单元格 cell: 闭环跟踪!D4" in report
    assert "有复查结果但办理状态不是“督查验收”" in report
    assert "闭环跟踪!B5" not in report and "闭环跟踪!D5" not in report
    assert "单元格 cell: 违规通报!G3" in report
    assert "编号 202503-001 是 张三 报送的，不是 李四" in report


def test_a_month_dropped_with_the_one_before_finds_that_months_items(rostered, cli, stored):
    # April's repeat of March's item and its update of it are checked against March, stored
    # moments before in the same run.
    inbox = rostered.folder("inbox")
    month_file(inbox, "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "井下通风不良")]})
    month_file(
        inbox,
        "2025-04.xlsx",
        {
            "信息报送": [item("2025-04-01", "张三", "井下通风不良")],  # row 3: March's again
            "闭环跟踪": [{"编号": "202503-001", "日期": "2025-04-02", "办理状态": "调查核实"}],
        },
    )

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    warnings = [line.strip() for line in result.output.splitlines() if "可能是重复信息" in line]
    assert len(warnings) == 1, result.output
    assert "(信息报送!H3)" in warnings[0] and "与 202503-001 内容相同" in warnings[0]
    assert stored("SELECT item_id, stage FROM tracking") == [("202503-001", "调查核实")]
