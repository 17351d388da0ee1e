"""Sheets laid out in ways a reader's grid of text does not show (issue 6, structure):
missing sheets and headers, merged cells and hidden rows, totals rows, a second table under
the data, and formulas a library wrote without calculating them. Each is reported at its
cell; nothing is silently dropped or guessed.

The layout facts come from the file's bytes, so merged cells and hidden rows are checked in
each format an office saves: openpyxl's xlsx and LibreOffice's xlsx, ods and xls. Title rows
above the header are proven in test_reading (test_title_rows_with_merged_cells_…).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from ledger_batch.fields import SUBMISSIONS
from tests.hostile import error_reports, names_in
from tests.ledgers import item, write_workbook

HEADERS = [f.header_zh for f in SUBMISSIONS.fields]
"""Column order of write_workbook's 信息报送: 姓名 is C, 信息内容 H, 备注 O; data from row 3."""


def month_rows(*names: str) -> list[dict[str, object]]:
    return [
        item(f"2025-03-{5 + n:02d}", name, f"{name}第{n + 1}条") for n, name in enumerate(names)
    ]


# --- sheets and headers ---------------------------------------------------------------------


def test_a_month_without_its_submissions_sheet_is_quarantined_naming_the_sheet(
    rostered, cli, stored
):
    write_workbook(
        rostered.folder("inbox") / "2025-03.xlsx",
        {"会议考勤": [{"会议日期": "2025-03-20", "姓名": "张三", "出席情况": "出席"}]},
    )

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-03.xlsx"]
    assert "问题：月度台账缺少“信息报送”表" in report
    assert "改正：添加“信息报送”表（本月无人报送时也保留表头）" in report
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]


def test_a_renamed_required_header_is_an_error_naming_the_missing_column(rostered, cli, stored):
    renamed = ["编号", "报送时间", "姓名", "信息类别", "信息类型", "信息内容"]
    rows = [dict(zip(renamed, ["", "2025-03-05", "张三", "其他", "情况", "a"], strict=True))]
    write_workbook(
        rostered.folder("inbox") / "2025-03.xlsx", {"信息报送": rows}, headers={"信息报送": renamed}
    )

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-03.xlsx"]
    assert "工作表 sheet: 信息报送\n  行 row: 2\n" in report
    assert "问题：缺少必填列“报送日期”" in report
    assert "Fix: add the column 报送日期 to the header row" in report
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


def test_a_duplicated_header_is_an_error_naming_both_columns(rostered, cli, stored):
    doubled = [*HEADERS, "姓名"]
    rows = [{**item("2025-03-05", "张三", "a"), "姓名": "张三"}]
    write_workbook(
        rostered.folder("inbox") / "2025-03.xlsx", {"信息报送": rows}, headers={"信息报送": doubled}
    )

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-03.xlsx"]
    assert "单元格 cell: 信息报送!P2" in report
    assert "问题：“姓名”列出现了两次（C, P）" in report
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


# --- merged cells and hidden rows, in every format -------------------------------------------


def _merged_names(path: Path) -> Path:
    """张三's three items with 姓名 merged over C3:C5 (only C3 holds 张三), then 王芳's."""
    write_workbook(path, {"信息报送": month_rows("张三", "张三", "张三", "王芳")})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["信息报送"]
    sheet["C4"] = sheet["C5"] = None
    sheet.merge_cells("C3:C5")
    workbook.save(path)
    return path


def _hidden_rows(path: Path) -> Path:
    """Four items; rows 5 and 6 (李四's and 王芳's) hidden, as a filter or a clerk hides them."""
    write_workbook(path, {"信息报送": month_rows("张三", "李四", "李四", "王芳")})
    workbook = openpyxl.load_workbook(path)
    for row in (5, 6):
        workbook["信息报送"].row_dimensions[row].hidden = True
    workbook.save(path)
    return path


def _error_values(path: Path) -> Path:
    """Two items; 备注 of row 3 is =1/0 and 信息内容 of row 4 a function Calc does not know."""
    write_workbook(path, {"信息报送": month_rows("张三", "李四")})
    workbook = openpyxl.load_workbook(path)
    workbook["信息报送"]["O3"] = "=1/0"
    workbook["信息报送"]["H4"] = "=NOSUCHFUNCTION(1)"
    workbook.save(path)
    return path


@pytest.fixture(scope="module")
def layouts(tmp_path_factory, libreoffice) -> dict[str, dict[str, Path]]:
    """format → {"merged", "hidden", "errors": path}: openpyxl's originals (errors: only
    LibreOffice saves, which calculate) and LibreOffice's xlsx, ods and xls saves."""
    folder = tmp_path_factory.mktemp("layouts")
    originals = {
        "merged": _merged_names(folder / "merged" / "2025-03.xlsx"),
        "hidden": _hidden_rows(folder / "hidden" / "2025-03.xlsx"),
        "errors": _error_values(folder / "errors" / "2025-03.xlsx"),
    }
    files = {"openpyxl": originals}
    for suffix in ("xlsx", "ods", "xls"):
        files[suffix] = {
            kind: libreoffice.convert([path], suffix, folder / f"{kind}-{suffix}")[0]
            for kind, path in originals.items()
        }
    return files


FORMATS = ["openpyxl", "xlsx", "ods", "xls"]


@pytest.mark.libreoffice
@pytest.mark.parametrize("saved_by", FORMATS)
def test_merged_cells_in_a_key_column_are_an_error_naming_the_range(
    rostered, cli, stored, layouts, saved_by
):
    source = layouts[saved_by]["merged"]
    shutil.copy2(source, rostered.folder("inbox") / source.name)

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)[source.name]
    assert "单元格 cell: 信息报送!C3\n" in report
    assert "问题：合并单元格 C3:C5 跨越数据行：只有左上角单元格有值，其余各行读作空白" in report
    assert "Fix: unmerge the cells and fill in the value on every row" in report
    assert "必填项“姓名”为空" not in report  # C4 and C5 are explained, not blank
    assert "错误 Errors: 1（" in report
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


@pytest.mark.libreoffice
@pytest.mark.parametrize("saved_by", FORMATS)
def test_hidden_rows_are_read_and_counted_with_a_warning_naming_them(
    rostered, cli, stored, layouts, saved_by
):
    source = layouts[saved_by]["hidden"]
    shutil.copy2(source, rostered.folder("inbox") / source.name)

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert (
        f"⚠ {source.name} · 信息报送 · 行 5: 2 行在 Excel 中被隐藏（行 5–6），"
        "但隐藏不等于删除：已照常读入并计分" in result.output
    )
    assert stored("SELECT source_row, name FROM submissions ORDER BY source_row") == [
        (3, "张三"),
        (4, "李四"),
        (5, "李四"),
        (6, "王芳"),
    ]


# --- totals rows and a second table -------------------------------------------------------


def _with_rows_below(path: Path, rows_below: list[list[object]]) -> Path:
    write_workbook(path, {"信息报送": month_rows("张三", "李四", "王芳")})
    workbook = openpyxl.load_workbook(path)
    for row in rows_below:
        workbook["信息报送"].append(row)
    workbook.save(path)
    return path


def test_a_totals_row_under_the_data_is_skipped_with_a_note(rostered, cli, stored):
    totals = ["合计", None, None, None, None, None, None, "3条"]
    _with_rows_below(rostered.folder("inbox") / "2025-03.xlsx", [totals])

    result = cli("-v", "ingest")

    assert result.exit_code == 0, result.output
    assert "信息报送 · 行 6 · '合计': 这是合计行（合计），不是一条记录，未读取" in result.output
    assert stored("SELECT source_row, name FROM submissions ORDER BY source_row") == [
        (3, "张三"),
        (4, "李四"),
        (5, "王芳"),
    ]


def test_a_second_table_under_the_data_is_an_error_and_is_not_read(rostered, cli, stored):
    rows_below = [
        ["合计", None, None, None, None, None, None, "3条"],  # row 6
        [],  # row 7
        HEADERS,  # row 8: last month's table pasted under this one
        [None, "2025-02-03", "张三", None, None, "安全生产", "问题", "二月的问题"],
        [None, "2025-02-04", "赵六", None, None, "安全生产", "问题", "二月的问题"],
    ]
    _with_rows_below(rostered.folder("inbox") / "2025-03.xlsx", rows_below)

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-03.xlsx"]
    assert "错误 Errors: 1（" in report
    assert "单元格 cell: 信息报送!8\n" in report
    assert "问题：第 8 行重复了第 2 行的表头：表下方还有第二张表，从此行起未读取" in report
    assert "这是合计行（合计）" in report
    assert "赵六" not in report and "日期不在本月" not in report  # rows 9-10 were not read
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


# --- formulas a library wrote without calculating -----------------------------------------


def _formulas_by_openpyxl(path: Path) -> Path:
    write_workbook(path, {"信息报送": month_rows("张三", "李四")})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["信息报送"]
    sheet["H3"] = '="井下"&"通风"'  # 信息内容, required
    sheet["O4"] = "=1+1"  # 备注, optional: would silently read as blank
    workbook.save(path)
    return path


def test_formulas_without_calculated_values_are_errors_naming_each_cell(
    rostered, cli, stored, tmp_path
):
    _formulas_by_openpyxl(rostered.folder("inbox") / "2025-03.xlsx")
    written = rostered.folder("inbox") / "2025-04.xlsx"
    workbook = xlsxwriter.Workbook(str(written))  # writes 0 as the "value" of every formula
    sheet = workbook.add_worksheet("信息报送")
    sheet.write_row(0, 0, ["报送日期", "姓名", "信息类别", "信息类型", "信息内容"])
    sheet.write_row(1, 0, ["2025-04-05", "张三", "其他", "情况"])
    sheet.write_formula(1, 4, '=CONCAT("皮带","跑偏")')
    workbook.close()

    result = cli("ingest")

    assert result.exit_code == 1
    reports = error_reports(rostered)
    march = reports["2025-03.xlsx"]
    assert "错误 Errors: 2（" in march
    for cell, column in (("H3", "H 信息内容"), ("O4", "O 备注")):
        assert f"列 column: {column}\n  单元格 cell: 信息报送!{cell}\n" in march
    assert "问题：公式没有保存计算结果（文件由程序生成，未经 Excel 计算），无法知道它的值" in march
    assert "Fix: open and save the file once in Excel, WPS or LibreOffice" in march
    assert "必填项“信息内容”为空" not in march
    assert "单元格 cell: 信息报送!E2\n" in reports["2025-04.xlsx"]
    assert "公式没有保存计算结果" in reports["2025-04.xlsx"]
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]


@pytest.mark.libreoffice
def test_the_same_formulas_saved_by_libreoffice_are_read_as_their_values(
    rostered, cli, stored, libreoffice, tmp_path
):
    source = _formulas_by_openpyxl(tmp_path / "2025-03.xlsx")
    (saved,) = libreoffice.convert([source], "xlsx", rostered.folder("inbox"))

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored("SELECT source_row, content, notes FROM submissions ORDER BY source_row") == [
        (3, "井下通风", None),
        (4, "李四第2条", "2"),
    ]
    assert names_in(rostered.folder("inbox")) == []
    assert saved.name == "2025-03.xlsx"


@pytest.mark.libreoffice
@pytest.mark.parametrize("saved_by", ["xlsx", "ods", "xls"])
def test_cells_showing_an_excel_error_are_errors_naming_each_cell(
    rostered, cli, stored, layouts, saved_by
):
    source = layouts[saved_by]["errors"]
    shutil.copy2(source, rostered.folder("inbox") / source.name)

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)[source.name]
    assert "错误 Errors: 2（" in report
    assert "单元格 cell: 信息报送!O3\n  值 value: #DIV/0!\n" in report
    assert "问题：单元格显示的是 Excel 错误值 #DIV/0!，不是数据" in report
    assert "单元格 cell: 信息报送!H4\n  值 value: #NAME?\n" in report
    assert "必填项“信息内容”为空" not in report
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]
