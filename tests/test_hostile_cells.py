"""Cell values that are wrong, strange or only look right (issue 6, cells): each unreadable
value is an error naming its cell; what can be read is read exactly as written.

Proven elsewhere (test_reading): every date form of SPEC §3 and Excel serials
(test_dates_in_every_form_…), the ambiguous 3/5/2025 (test_an_ambiguous_us_style_date_…),
full-width digits and spaces (test_full_width_digits_and_spaces_…), 工号 with leading zeros
(test_numbers_stored_as_text_and_leading_zeros_…), and NA, N/A, n/a as names
(test_na_as_a_name_is_text_…).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from ledger_batch.normalise import parse_date_text
from tests.hostile import error_reports, rewrite_zip
from tests.ledgers import item, person, write_workbook


def march(workspace, rows, name: str = "2025-03.xlsx") -> Path:
    return write_workbook(workspace.folder("inbox") / name, {"信息报送": rows})


def csv_month(workspace, rows: list[list[str]], name: str = "2025-03 信息报送.csv") -> Path:
    """A CSV (UTF-8) with the header 报送日期, 姓名, 信息类别, 信息类型, 信息内容."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["报送日期", "姓名", "信息类别", "信息类型", "信息内容"])
    writer.writerows(rows)
    path = workspace.folder("inbox") / name
    path.write_text(text.getvalue(), encoding="utf-8")
    return path


# --- dates ----------------------------------------------------------------------------------


def test_excel_serials_outside_the_month_are_errors_naming_the_cell(rostered, cli, stored):
    march(
        rostered,
        [
            item(45721, "张三", "三月五日"),  # 2025-03-05: fine
            item(45658, "李四", "一月一日"),  # 2025-01-01: a serial from another month
            item("45800", "王芳", "五月"),  # 2025-05-23, as text
            item(2958466, "张三", "超出 Excel 的最后一天"),  # after 9999-12-31
        ],
    )

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-03.xlsx"]
    assert (
        "单元格 cell: 信息报送!B4\n  值 value: 2025-01-01\n  问题：日期不在本月（2025-03）"
        in report
    )
    assert (
        "单元格 cell: 信息报送!B5\n  值 value: 2025-05-23\n  问题：日期不在本月（2025-03）"
        in report
    )
    assert "单元格 cell: 信息报送!B6\n  值 value: 2958466\n  问题：无法识别的日期" in report
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


def test_the_1900_leap_year_serial_60_is_not_a_date_and_its_neighbours_are(rostered, cli):
    # Excel counts 29 February 1900, which never existed, as serial 60 (a Lotus 1-2-3 bug).
    assert parse_date_text("59") == date(1900, 2, 28)
    assert parse_date_text("60") is None
    assert parse_date_text("61") == date(1900, 3, 1)
    march(rostered, [item(60, "张三", "1900 年的闰日")])

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-03.xlsx"]
    assert "单元格 cell: 信息报送!B3\n  值 value: 60\n  问题：无法识别的日期" in report
    assert "1900-02-29" not in report


# --- names that look like "nothing" -----------------------------------------------------------


@pytest.mark.parametrize("written", ["null", "NULL", "None", "nan", "NaN", "-"])
def test_null_like_names_are_text_and_so_unknown_people_never_blanks(rostered, cli, written):
    march(rostered, [item("2025-03-05", written, "皮带跑偏")])

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-03.xlsx"]
    assert (
        f"单元格 cell: 信息报送!C3\n  值 value: {written}\n  问题：名册中没有此人（{written}）"
        in (report)
    )
    assert "必填项" not in report


def test_an_excel_error_value_as_a_name_is_reported_as_that_error(rostered, cli):
    march(rostered, [item("2025-03-05", "#N/A", "皮带跑偏")])  # openpyxl stores it as an error

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-03.xlsx"]
    assert "单元格 cell: 信息报送!C3\n  值 value: #N/A\n" in report
    assert "问题：单元格显示的是 Excel 错误值 #N/A，不是数据" in report
    assert "必填项" not in report


# --- control characters --------------------------------------------------------------------


def test_control_characters_in_names_are_errors_and_in_free_text_are_kept(
    workspace, cli, stored, standard_roster
):
    inbox = workspace.folder("inbox")
    roster = standard_roster()
    roster[2]["姓名"] = "王芳\x1b[2J"  # an escape sequence that would clear the clerk's terminal
    book = xlsxwriter.Workbook(str(inbox / "2025 人员名册.xlsx"))  # openpyxl refuses to write these
    sheet = book.add_worksheet("人员名册")
    sheet.write_row(0, 0, list(roster[0]))
    for number, row in enumerate(roster, start=1):
        sheet.write_row(number, 0, [str(v) if v is not None else "" for v in row.values()])
    book.close()
    csv_month(
        workspace,
        [
            ["2025-03-05", "张\x07三", "其他", "情况", "名字里有响铃字符"],
            ["2025-03-06", "李四", "其他", "情况", "内容里有\x01控制\x1f字符"],
        ],
    )

    result = cli("ingest")

    assert result.exit_code == 1
    reports = error_reports(workspace)
    assert "单元格 cell: 人员名册!B4\n" in reports["2025 人员名册.xlsx"]
    assert "问题：含有看不见的控制字符（U+001B）" in reports["2025 人员名册.xlsx"]
    assert "\x1b" not in reports["2025 人员名册.xlsx"] and "\x1b" not in result.output
    month = reports["2025-03 信息报送.csv"]
    assert (
        "单元格 cell: 信息报送!B2\n  值 value: 张\ufffd三\n  问题：含有看不见的控制字符（U+0007）"
        in month
    )
    assert "Fix: type the cell again (do not paste it from another system)" in month
    assert "C3" not in month  # the content with control characters is not an error
    assert stored("SELECT COUNT(*) FROM files") == [(0,)]


def test_free_text_keeps_its_control_characters_exactly(rostered, cli, stored):
    csv_month(rostered, [["2025-03-06", "李四", "其他", "情况", "内容里有\x01控制\x1f字符"]])

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored("SELECT content FROM submissions") == [("内容里有\x01控制\x1f字符",)]


# --- text longer than a cell holds ----------------------------------------------------------


def test_text_longer_than_an_excel_cell_is_an_error_counting_as_excel_counts(
    rostered, cli, stored, tmp_path
):
    csv_month(
        rostered,
        [
            ["2025-03-05", "张三", "其他", "情况", "长" * 32_767],  # the most a cell holds
            ["2025-03-06", "李四", "其他", "情况", "长" * 32_768],
            [
                "2025-03-07",
                "王芳",
                "其他",
                "情况",
                "𠮷" * 16_384,
            ],  # 16,384 characters, 32,768 in UTF-16
        ],
    )
    # A workbook written by hand (libraries cut text at 32,767 themselves; readers do not).
    source = write_workbook(tmp_path / "long.xlsx", {"信息报送": [item("2025-04-05", "张三", "x")]})
    rewrite_zip(
        source,
        rostered.folder("inbox") / "2025-04.xlsx",
        {
            "xl/worksheets/sheet1.xml": lambda d: d.replace(
                b"<t>x</t>", b"<t>" + b"y" * 40_000 + b"</t>"
            )
        },
    )

    result = cli("ingest")

    assert result.exit_code == 1
    reports = error_reports(rostered)
    text_csv = reports["2025-03 信息报送.csv"]
    assert "错误 Errors: 2（" in text_csv
    for cell in ("E3", "E4"):
        assert f"单元格 cell: 信息报送!{cell}\n" in text_csv
    assert "问题：文字超过 32767 个字符" in text_csv
    assert "单元格 cell: 信息报送!H3\n" in reports["2025-04.xlsx"]
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


def test_text_of_exactly_32767_characters_is_stored_whole(rostered, cli, stored):
    csv_month(rostered, [["2025-03-05", "张三", "其他", "情况", "长" * 32_767]])

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored("SELECT length(content) FROM submissions") == [(32_767,)]


# --- rare characters and shared names --------------------------------------------------------

RARE = "𠮷"  # U+20BB7, outside the Basic Multilingual Plane (a surrogate pair in UTF-16)
COMPATIBILITY = "\uf929"  # 朗 as a CJK compatibility ideograph; NFKC turns it into U+6717


def test_rare_and_compatibility_ideographs_are_kept_exactly_as_written(workspace, cli, stored):
    inbox = workspace.folder("inbox")
    write_workbook(
        inbox / "2025 人员名册.xlsx",
        {
            "人员名册": [
                person("007", f"{RARE}田", "综采队", 岗位="班组长"),
                person("0123", f"李{COMPATIBILITY}", "综采队"),
            ]
        },
    )
    content = f"{RARE}野家门前 {COMPATIBILITY} 路灯不亮，⼀号井（康熙部首）"
    march(
        workspace,
        [
            item("2025-03-05", f"{RARE}田", content),
            item("2025-03-06", "李\u6717", "写成统一汉字的“朗”"),  # matches the roster's 朗
        ],
    )
    assert cli("ingest").exit_code == 0

    assert stored("SELECT name, employee_id, content FROM submissions ORDER BY source_row") == [
        (f"{RARE}田", "007", content),
        (f"李{COMPATIBILITY}", "0123", "写成统一汉字的“朗”"),  # the roster's spelling
    ]
    assert stored("SELECT name FROM roster ORDER BY employee_id") == [
        (f"{RARE}田",),
        (f"李{COMPATIBILITY}",),
    ]
    assert cli("month", "2025-03").exit_code == 0
    folder = workspace.folder("reports") / "2025"
    page = (folder / "2025-03 月考核.html").read_text(encoding="utf-8")
    assert content in page and f"李{COMPATIBILITY}" in page
    cells = {
        cell.value
        for sheet in openpyxl.load_workbook(folder / "2025-03 月考核.xlsx")
        for row in sheet.iter_rows()
        for cell in row
    }
    assert content in cells and f"{RARE}田" in cells and f"李{COMPATIBILITY}" in cells


def test_two_liaisons_with_the_same_name_are_told_apart_by_employee_id(workspace, cli, stored):
    inbox = workspace.folder("inbox")
    write_workbook(
        inbox / "2025 人员名册.xlsx",
        {
            "人员名册": [
                person("1001", "张伟", "综采队", 岗位="班组长"),
                person("1002", "张伟", "机电队", 性别="女"),
            ]
        },
    )
    assert cli("ingest").exit_code == 0
    march(workspace, [item("2025-03-05", "张伟", "没写工号")])
    march(
        workspace,
        [
            item("2025-04-05", "张伟", "一号张伟", 工号="1001"),
            item("2025-04-06", "张伟", "二号张伟", 工号="1002"),
            item("2025-04-07", "张 伟", "二号张伟又一条", 工号="1002"),
        ],
        name="2025-04.xlsx",
    )

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(workspace)["2025-03.xlsx"]
    assert "单元格 cell: 信息报送!C3\n  值 value: 张伟\n  问题：名册中有 2 人同名“张伟”" in report
    assert "改正：填写工号以区分" in report
    assert stored("SELECT employee_id, content FROM submissions ORDER BY source_row") == [
        ("1001", "一号张伟"),
        ("1002", "二号张伟"),
        ("1002", "二号张伟又一条"),
    ]
    assert cli("month", "2025-04").exit_code == 0
    figures = json.dumps(stored("SELECT employee_id, COUNT(*) FROM submissions GROUP BY 1"))
    assert figures == json.dumps([["1001", 1], ["1002", 2]])
    assert zipfile.is_zipfile(workspace.folder("reports") / "2025" / "2025-04 月考核.xlsx")
