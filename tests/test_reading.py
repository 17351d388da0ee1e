"""Reading ledgers (SPEC §3): the cell values real ledgers hold are read as the office meant
them, and what cannot be read is an error naming its cell.

Every test drops a real file into a real workspace, runs ``ledger-batch ingest`` and looks at
what the SQLite store holds (or at the error report). The standard roster (conftest) has
张三 007, 李四 0123 and 王芳 2001.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from ledger_batch.cli import cli as ledger_batch_cli
from ledger_batch.workspace import Workspace
from tests.ledgers import item, write_workbook


def error_report(workspace: Workspace) -> str:
    """The one error report in quarantine/."""
    reports = list(workspace.folder("quarantine").glob("*.错误报告.txt"))
    assert len(reports) == 1, reports
    return reports[0].read_text(encoding="utf-8-sig")


def month_file(workspace: Workspace, sheets: dict, name: str = "2025-03.xlsx", **kw) -> Path:
    """Write a monthly workbook into the inbox."""
    return write_workbook(workspace.folder("inbox") / name, sheets, **kw)


# --- dates ---------------------------------------------------------------------------------


def test_dates_in_every_form_real_ledgers_use_are_read_as_that_day(rostered, cli, stored):
    dates = [
        45721,  # an Excel date serial in a date column: 1899-12-30 + 45721 days = 2025-03-05
        datetime(2025, 3, 6),  # a real date cell
        datetime(2025, 3, 7, 9, 15),  # a date cell with a time of day
        "2025-03-08",
        "2025/3/9",
        "2025.3.10",
        "2025年3月11日",
        "20250312",
        "２０２５－０３－１３",  # full-width digits and dash
        "2025-03-14\u3000",  # an ideographic space after it
        "45732",  # a serial stored as text: 45721 + 11 → 2025-03-16
    ]
    rows = [item(d, "张三", f"第{n}条") for n, d in enumerate(dates, start=1)]
    month_file(rostered, {"信息报送": rows})

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    # Title row 1, header row 2: the first item is Excel row 3.
    assert stored("SELECT source_row, date FROM submissions ORDER BY source_row") == [
        (3, "2025-03-05"),
        (4, "2025-03-06"),
        (5, "2025-03-07"),
        (6, "2025-03-08"),
        (7, "2025-03-09"),
        (8, "2025-03-10"),
        (9, "2025-03-11"),
        (10, "2025-03-12"),
        (11, "2025-03-13"),
        (12, "2025-03-14"),
        (13, "2025-03-16"),
    ]


def test_an_ambiguous_us_style_date_is_an_error_naming_its_cell(rostered, cli, stored):
    rows = [
        item("2025-03-04", "张三", "井下通风"),
        item("2025-03-05", "李四", "皮带跑偏"),
        item("3/5/2025", "王芳", "食堂"),  # 3 May or 5 March? Not guessed.
    ]
    month_file(rostered, {"信息报送": rows})

    result = cli("ingest")

    assert result.exit_code == 1
    assert "信息报送 · 行 5 · B 报送日期 (信息报送!B5) · '3/5/2025'" in result.output
    report = error_report(rostered)
    assert "单元格 cell: 信息报送!B5" in report
    assert "值 value: 3/5/2025" in report
    assert "问题：无法识别的日期" in report
    assert "Problem: not a date that can be read" in report
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


# --- full-width forms, spaces, numbers as text --------------------------------------------


def test_full_width_digits_and_spaces_in_headers_and_values(rostered, cli, stored):
    headers = [
        "编号",
        "报送\u3000日期",  # ideographic space inside the header
        "\u00a0姓名 ",  # no-break space before, space after
        "工\u3000号",
        "信息类别",
        "信息类型",
        "信息内容\u3000",
    ]
    row = dict(
        zip(
            headers,
            [
                "２０２５０３－Ａ１",
                "２０２５－０３－０５",
                "李\u3000四",
                "０１２３",
                "安全生产\u3000",
                "\u00a0问题",
                "\u3000井下巷道积水\u00a0",
            ],
            strict=True,
        )
    )
    month_file(rostered, {"信息报送": [row]}, headers={"信息报送": headers})

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored(
        "SELECT item_id, date, name, employee_id, category, kind, content FROM submissions"
    ) == [("202503-A1", "2025-03-05", "李四", "0123", "安全生产", "问题", "井下巷道积水")]


def test_numbers_stored_as_text_and_leading_zeros_are_kept(rostered, cli, stored):
    rows = [
        item("2025-03-05", "张三", "a", 工号="007"),  # text 工号 with leading zeros
        item("2025-03-06", "王芳", "b", 工号=2001),  # 工号 typed as a number
    ]
    adjustments = [
        {"日期": "2025-03-31", "姓名": "张三", "工号": "007", "分值": "+1.5", "理由": "文本"},
        {"日期": "2025-03-31", "姓名": "李四", "分值": "－２", "理由": "全角"},
        {"日期": "2025-03-31", "姓名": "王芳", "分值": " 0.5 ", "理由": "带空格"},
        {"日期": "2025-03-31", "姓名": "王芳", "分值": -1, "理由": "数字"},
        {"日期": "2025-03-31", "姓名": "王芳", "分值": 0.25, "理由": "小数"},
    ]
    month_file(rostered, {"信息报送": rows, "质量加减分": adjustments})

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored("SELECT employee_id FROM submissions ORDER BY source_row") == [
        ("007",),
        ("2001",),
    ]
    assert stored("SELECT employee_id, points FROM adjustments ORDER BY source_row") == [
        ("007", "1.5"),
        ("0123", "-2"),
        ("2001", "0.5"),
        ("2001", "-1"),
        ("2001", "0.25"),
    ]


@pytest.mark.parametrize(
    ("truthful", "adopted", "expected"),
    [
        ("是", "否", ("是", "否")),
        ("Y", "N", ("是", "否")),
        ("y", "n", ("是", "否")),
        ("ｙ", "ｎ", ("是", "否")),  # full-width letters
        ("√", "×", ("是", "否")),
        ("1", "0", ("是", "否")),  # as text
        (1, 0, ("是", "否")),  # as numbers
        (True, False, ("是", "否")),  # as Excel booleans
        ("否", "是", ("否", "是")),
        ("×", "√", ("否", "是")),
        ("0", "1", ("否", "是")),
        ("N ", "Y\u3000", ("否", "是")),  # trailing spaces
        (None, None, ("待核实", "否")),  # blank: not yet verified, not adopted
    ],
)
def test_yes_and_no_in_the_forms_offices_write(rostered, cli, stored, truthful, adopted, expected):
    month_file(
        rostered,
        {"信息报送": [item("2025-03-05", "张三", "a", 是否属实=truthful, 是否采纳=adopted)]},
    )

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored("SELECT truthful, adopted FROM submissions") == [expected]


def test_trailing_spaces_are_not_part_of_a_value(rostered, cli, stored):
    rows = [
        item("2025-03-05 ", "张三 ", "皮带跑偏  ", 信息类别="安全生产 ", 信息类型="建议\u3000"),
        item("2025-03-06", "李四\u3000", "\t食堂\u00a0", 报送方式="直报经理 "),
    ]
    month_file(rostered, {"信息报送": rows})

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored(
        "SELECT date, name, employee_id, category, kind, content, channel FROM submissions "
        "ORDER BY source_row"
    ) == [
        ("2025-03-05", "张三", "007", "安全生产", "建议", "皮带跑偏", "办公室"),
        ("2025-03-06", "李四", "0123", "安全生产", "问题", "食堂", "直报经理"),
    ]


# --- layout: title rows, aliases, unknown columns and sheets ------------------------------


def test_title_rows_with_merged_cells_above_the_header_are_skipped(rostered, cli, stored):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "信息报送"
    sheet.append(["2025年3月经理联络员信息报送台账"])
    sheet.merge_cells("A1:H1")
    sheet.append(["填报单位：行政办公室", None, None, None, "填报日期：2025年3月31日"])
    sheet.merge_cells("A2:D2")
    sheet.merge_cells("E2:H2")
    sheet.append(["编号", "报送日期", "姓名", "工号", "信息类别", "信息类型", "信息内容"])
    sheet.append([None, "2025-03-05", "王芳", None, "福利待遇", "建议", "增设女工休息室"])
    workbook.save(rostered.folder("inbox") / "2025-03.xlsx")

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored(
        "SELECT source_row, item_id, date, employee_id, category, content FROM submissions"
    ) == [(4, "202503-001", "2025-03-05", "2001", "福利待遇", "增设女工休息室")]


def test_a_table_right_of_column_a_names_each_cell_by_its_own_column(rostered, cli, stored):
    # The office's sheet keeps a blank margin: nothing in columns A and B, nor in row 1.
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "信息报送"
    table = [
        ["报送日期", "姓名", "工号", "信息类别", "信息类型", "信息内容"],
        ["2025-03-05", "张三", "007", "安全生产", "问题", "皮带跑偏"],
        ["2025-03-06", "李四", "0123", "生产安全", "建议", "增设护栏"],
    ]
    for row_number, values in enumerate(table, start=2):
        for column_number, value in enumerate(values, start=3):  # C, D, E, F, G, H
            sheet.cell(row_number, column_number, value)
    workbook.save(rostered.folder("inbox") / "2025-03.xlsx")

    result = cli("ingest")

    assert result.exit_code == 1
    assert "信息报送 · 行 4 · F 信息类别 (信息报送!F4) · '生产安全'" in result.output
    report = error_report(rostered)
    assert "单元格 cell: 信息报送!F4" in report
    assert "列 column: F 信息类别" in report
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


def test_english_header_aliases_are_accepted(rostered, cli, stored):
    headers = ["Item_ID", "date", "NAME", "employee-id", "category", "kind", "content", "adopted"]
    row = dict(
        zip(
            headers,
            ["A-7", "2025-03-05", "张三", "007", "项目建设", "情况", "二号井进度", "Y"],
            strict=True,
        )
    )
    month_file(rostered, {"submissions": [row]}, headers={"submissions": headers})

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored(
        "SELECT source_sheet, item_id, date, name, employee_id, category, kind, content, "
        "adopted FROM submissions"
    ) == [
        ("submissions", "A-7", "2025-03-05", "张三", "007", "项目建设", "情况", "二号井进度", "是")
    ]


@pytest.mark.parametrize("written", ["NA", "N/A", "n/a"])
def test_na_as_a_name_is_text_and_so_an_unknown_person(rostered, cli, stored, written):
    month_file(rostered, {"信息报送": [item("2025-03-05", written, "皮带跑偏")]})

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_report(rostered)
    assert "单元格 cell: 信息报送!C3" in report
    assert f"问题：名册中没有此人（{written}）" in report
    assert f"Problem: nobody on the roster matches {written}" in report
    assert "必填项" not in report  # not treated as a blank cell
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


def test_unreadable_values_are_errors_naming_sheet_row_and_column(rostered, cli, stored):
    rows = [item(f"2025-03-0{day}", "张三", f"第{day}条") for day in range(1, 6)]
    rows[4]["信息类别"] = "生产安全"  # fifth item: Excel row 7, column F 信息类别
    adjustments = [{"日期": "2025-03-31", "姓名": "李四", "分值": "加两分", "理由": "好"}]
    month_file(rostered, {"信息报送": rows, "质量加减分": adjustments})

    result = cli("ingest")

    assert result.exit_code == 1
    assert "信息报送 · 行 7 · F 信息类别 (信息报送!F7) · '生产安全'" in result.output
    assert "质量加减分 · 行 3 · D 分值 (质量加减分!D3) · '加两分'" in result.output
    report = error_report(rostered)
    assert "错误 Errors: 2" in report
    assert "单元格 cell: 信息报送!F7" in report
    assert "列 column: F 信息类别" in report
    assert "问题：“信息类别”的值不在允许范围内" in report
    assert "Problem: not an allowed value for 信息类别" in report
    assert "单元格 cell: 质量加减分!D3" in report
    assert "Problem: not a number" in report
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]
    assert stored("SELECT COUNT(*) FROM adjustments") == [(0,)]


def test_unknown_columns_and_sheets_are_ignored_with_a_note(rostered, cli, stored):
    headers = ["报送日期", "姓名", "联系电话", "信息类别", "信息类型", "信息内容"]
    row = dict(
        zip(headers, ["2025-03-05", "张三", "13800000000", "其他", "情况", "正常"], strict=True)
    )
    month_file(
        rostered,
        {"信息报送": [row], "填表说明": [{"说明": "每月5日前报送"}]},
        headers={"信息报送": headers},
    )

    result = cli("-v", "ingest")

    assert result.exit_code == 0, result.output
    assert "列“联系电话”不是台账字段，已忽略" in result.output
    assert "工作表“填表说明”不是台账表，已忽略" in result.output
    assert stored("SELECT name, category, content FROM submissions") == [("张三", "其他", "正常")]


# --- CSV -----------------------------------------------------------------------------------

CSV_TEXT = (
    "2025年3月经理联络员信息报送台账,,,,,,\r\n"
    "编号,报送日期,姓名,工号,信息类别,信息类型,信息内容\r\n"
    ",2025/3/5,张三,007,安全生产,问题,“三违”现象反弹\r\n"
    ",20250306,王芳,2001,福利待遇,建议,女工休息室\r\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk(rostered, cli, stored, encoding):
    data = CSV_TEXT.encode(encoding)
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really GBK, not UTF-8 by accident
    (rostered.folder("inbox") / "2025-03 信息报送.csv").write_bytes(data)

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored(
        "SELECT source_sheet, source_row, item_id, date, name, employee_id, content "
        "FROM submissions ORDER BY source_row"
    ) == [
        ("信息报送", 3, "202503-001", "2025-03-05", "张三", "007", "“三违”现象反弹"),
        ("信息报送", 4, "202503-002", "2025-03-06", "王芳", "2001", "女工休息室"),
    ]


# --- the same workbook re-saved by LibreOffice ----------------------------------------------

LEDGER_TABLES = ("submissions", "tracking", "attendance", "violations", "adjustments", "roster")


def _round_trip_workbook(path: Path, roster: list[dict[str, object]]) -> Path:
    """One month with a roster sheet, in the cell forms offices produce."""
    submissions = [
        item(45721, "张三", "井下通风不良", 工号="007"),
        item(datetime(2025, 3, 6), "李四", "皮带跑偏", 是否属实="Y", 是否采纳="√"),
        item(
            "2025年3月7日", "王芳", "休息室", 工号=2001, 信息类型="建议", 是否属实=None, 是否采纳=0
        ),
        item("２０２５－０３－０８", "李\u3000四", "食堂价格", 工号="０１２３", 是否属实="×"),
        item("20250309", "张三 ", "巷道积水", 办理状态="督查验收", 复查结果="合格"),
    ]
    tracking = [{"编号": "202503-001", "日期": "2025-03-20", "办理状态": "整改", "说明": "已整改"}]
    attendance = [
        {"会议日期": 45736, "会议名称": "一季度例会", "会议类型": "例会", "姓名": n, "出席情况": p}
        for n, p in (("张三", "√"), ("李四", "缺"), ("王芳", "假"))
    ]
    violations = [
        {
            "日期": "2025/3/25",
            "姓名": "张三",
            "类型": "违规",
            "事由": "迟到",
            "通报文号": "〔2025〕3号",
        }
    ]
    adjustments = [
        {"日期": "2025-03-31", "姓名": "王芳", "分值": 1.5, "理由": "质量高"},
        {"日期": "2025-03-31", "工号": "0123", "姓名": "李四", "分值": -2, "理由": "不实"},
        {"日期": "2025-03-31", "姓名": "张三", "分值": "+0.5", "理由": "文本"},
    ]
    return write_workbook(
        path,
        {
            "人员名册": roster,
            "信息报送": submissions,
            "闭环跟踪": tracking,
            "会议考勤": attendance,
            "违规通报": violations,
            "质量加减分": adjustments,
        },
    )


@pytest.fixture(scope="module")
def resaved(tmp_path_factory, libreoffice, standard_roster) -> dict[str, Path]:
    """The openpyxl original and its LibreOffice re-saves as xlsx, ods and xls."""
    folder = tmp_path_factory.mktemp("resaved")
    original = _round_trip_workbook(folder / "original" / "2025-03.xlsx", standard_roster())
    files = {"openpyxl": original}
    for suffix in ("xlsx", "ods", "xls"):
        files[suffix] = libreoffice.convert([original], suffix, folder / suffix)[0]
    return files


def _stored_rows(path: Path, root: Path) -> dict[str, list[tuple]]:
    """Drop a copy of ``path`` into a fresh workspace at ``root``; every row the store holds."""
    workspace, _ = Workspace.create(root)
    workspace.config_path.write_text("[limits]\nsettle_seconds = 0\n", encoding="utf-8")
    shutil.copy2(path, workspace.folder("inbox") / path.name)
    result = CliRunner().invoke(ledger_batch_cli, ["-w", str(root), "ingest"])
    assert result.exit_code == 0, result.output
    with closing(sqlite3.connect(workspace.store_path)) as db:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY source_sheet, source_row").fetchall()
            for table in LEDGER_TABLES
        }


@pytest.mark.libreoffice
@pytest.mark.parametrize("suffix", ["xlsx", "ods", "xls"])
def test_libreoffice_resaves_read_to_the_same_stored_rows(resaved, tmp_path, suffix):
    original = _stored_rows(resaved["openpyxl"], tmp_path / "original")

    again = _stored_rows(resaved[suffix], tmp_path / suffix)

    assert again == original
    # The original's rows are what the office meant (file_id, period, sheet, row, fields…).
    assert [r[4:12] for r in original["submissions"]] == [
        ("202503-001", "2025-03-05", "张三", "007", None, "安全生产", "问题", "井下通风不良"),
        ("202503-002", "2025-03-06", "李四", "0123", None, "安全生产", "问题", "皮带跑偏"),
        ("202503-003", "2025-03-07", "王芳", "2001", None, "安全生产", "建议", "休息室"),
        ("202503-004", "2025-03-08", "李四", "0123", None, "安全生产", "问题", "食堂价格"),
        ("202503-005", "2025-03-09", "张三", "007", None, "安全生产", "问题", "巷道积水"),
    ]
    assert [r[13:17] for r in original["submissions"]] == [
        ("是", "否", "反映问题", None),
        ("是", "是", "反映问题", None),
        ("待核实", "否", None, None),
        ("否", "否", "反映问题", None),
        ("是", "否", "督查验收", "合格"),
    ]
    assert [r[4:] for r in original["attendance"]] == [
        ("2025-03-20", "一季度例会", "季度例会", "张三", "007", "出席"),
        ("2025-03-20", "一季度例会", "季度例会", "李四", "0123", "缺席"),
        ("2025-03-20", "一季度例会", "季度例会", "王芳", "2001", "请假"),
    ]
    assert [r[6:8] for r in original["adjustments"]] == [
        ("2001", "1.5"),
        ("0123", "-2"),
        ("007", "0.5"),
    ]
    assert [r[4:7] for r in original["tracking"]] == [("202503-001", "2025-03-20", "整改落实")]
    assert [r[4:6] for r in original["roster"]] == [
        ("007", "张三"),
        ("0123", "李四"),
        ("2001", "王芳"),
    ]
