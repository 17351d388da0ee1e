"""Report workbooks whose table rows are streamed into the sheet as it is saved.

A report's table bodies are written straight into the sheet XML (ledger_batch/xlsx_rows.py)
rather than through one openpyxl cell per value. A report is built here by hand with every
kind of value a table holds (text that wraps, leading spaces, markup characters, a carriage
return, a control character, a character outside the BMP, Decimals, NaN, empty cells, dates,
a totals row) and a chart whose data sits in the table's rows. The streamed workbook must read
back cell for cell as the same workbook written through openpyxl's cells, hold the values
worked out below, and survive LibreOffice opening and re-saving it.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from ledger_batch.render_xlsx import build_workbook, write_cells, write_workbook
from ledger_batch.reports import Bar, Chart, Column, Report, Section, Table

LONG = "长" * 30  # 60 character widths: wider than 40, so its cell wraps
SCRIPT = "=1+1 第一行\r\n第二行 "
COLUMNS = [
    Column("unit", "单位", "text"),
    Column("name", "姓名", "text"),
    Column("items_count", "条数", "int"),
    Column("base_score", "基础分", "points"),
    Column("final_score", "得分", "score"),
    Column("coefficient", "系数", "coef"),
    Column("allowance_amount", "金额", "money"),
    Column("date", "日期", "date"),
    Column("ratio", "比率 %", "pct"),
    Column("content", "内容", "text"),
]
ROWS: list[list[object]] = [
    ["综采队", "张三", 24, Decimal("100"), Decimal("98"), Decimal("1.0"), Decimal("1000.00"),
     date(2025, 3, 5), 12.5, "短"],
    ["机电队", " 王芳", 11, Decimal("55.5"), Decimal("56"), Decimal("0"), Decimal("0.00"),
     date(2025, 12, 31), float("nan"), LONG],
    ["机关", "a&b<c>", 0, None, None, None, None, None, None, SCRIPT],
    ["", "控制\x01字符", 3, 2.5, 90, 0.9, Decimal("1234.5"), datetime(2025, 1, 2, 9, 30), 0,
     "𠮷"],
]  # fmt: skip
TOTALS: list[object] = ["合计", None, 38, None, None, None, Decimal("2234.50"), None, None, None]


def _report() -> Report:
    chart = Chart(
        "scores", "得分", [Bar("张三", 98.0), Bar("王芳", 56.0)], "得分", [(60.0, "及格")]
    )
    return Report(
        kind="payout",
        lang="zh",
        company="示范煤矿",
        title="年度兑现",
        period_label="2025 年",
        file_stem="2025 年兑现",
        generated_at="生成于 2025-12-31 17:00",
        notices=[],
        sections=[
            Section("register", "名单", Table(COLUMNS, ROWS, TOTALS), charts=[chart]),
            Section("empty", "空表", Table(COLUMNS[:3], [])),
            Section("note", "说明", sentences=["无表格"]),
        ],
    )


@pytest.fixture(scope="module")
def streamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("streamed") / "streamed.xlsx"
    write_workbook(_report(), path)
    return path


def _described(sheet: Worksheet) -> dict[str, object]:
    """Everything a reader of the sheet sees, cell by cell."""
    cells = {
        cell.coordinate: (
            cell.value,
            cell.data_type,
            cell.number_format,
            cell.style,
            cell.font.b,
            cell.font.sz,
            cell.border.left.style,
            cell.alignment.wrap_text,
            cell.fill.fgColor.rgb,
        )
        for row in sheet.iter_rows()
        for cell in row
    }
    return {
        "dimensions": sheet.dimensions,
        "freeze": sheet.freeze_panes,
        "filter": sheet.auto_filter.ref,
        "merged": sorted(str(r) for r in sheet.merged_cells.ranges),
        "heights": {r: d.height for r, d in sheet.row_dimensions.items() if d.height},
        "charts": len(sheet._charts),
        "cells": cells,
    }


def test_streamed_rows_read_back_as_openpyxl_writes_the_same_cells(
    streamed: Path, tmp_path: Path
) -> None:
    workbook, bodies = build_workbook(_report())
    write_cells(workbook, bodies)
    reference = tmp_path / "reference.xlsx"
    workbook.save(reference)
    ours, theirs = load_workbook(streamed), load_workbook(reference)
    assert ours.sheetnames == theirs.sheetnames == ["名单", "空表", "说明"]
    for name in ours.sheetnames:
        assert _described(ours[name]) == _described(theirs[name]), name


def test_streamed_cells_hold_the_values_and_styles_of_the_report(streamed: Path) -> None:
    sheet = load_workbook(streamed)["名单"]
    assert [cell.value for cell in sheet[3][:10]] == [c.label for c in COLUMNS]
    assert [cell.value for cell in sheet[4][:10]] == [
        "综采队", "张三", 24, 100, 98, 1, 1000, datetime(2025, 3, 5), 12.5, "短",
    ]  # fmt: skip
    assert sheet["B5"].value == " 王芳"  # the leading space kept
    assert sheet["I5"].value is None  # NaN: an empty cell
    assert sheet["D6"].value is None and sheet["D6"].border.left.style == "thin"
    assert sheet["B6"].value == "a&b<c>"
    assert sheet["J6"].value == SCRIPT and sheet["J6"].data_type == "s"  # text, not a formula
    assert sheet["B7"].value == "控制\ufffd字符"  # the control character replaced
    assert sheet["J7"].value == "𠮷"
    assert sheet["H7"].value == datetime(2025, 1, 2, 9, 30)
    assert sheet["G7"].value == 1234.5 and sheet["G7"].number_format == "#,##0.00"
    assert sheet["H4"].number_format == "yyyy-mm-dd"
    assert sheet["C4"].number_format == "0" and sheet["F4"].number_format == "0.0"
    assert sheet["J5"].alignment.wrap_text and not sheet["J4"].alignment.wrap_text
    assert [sheet["A8"].value, sheet["C8"].value, sheet["G8"].value] == ["合计", 38, 2234.5]
    assert sheet["G8"].font.b and not sheet["G7"].font.b
    assert sheet.max_row == 8  # heading, note, header, four rows, totals
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == "A3:J7"
    # The chart's data sits right of the table, in the same rows.
    assert [sheet["L4"].value, sheet["M4"].value, sheet["N4"].value] == ["张三", 98, 60]
    assert [sheet["L5"].value, sheet["M5"].value] == ["王芳", 56]
    assert load_workbook(streamed)["空表"].max_row == 3


def test_streamed_xml_is_what_spreadsheet_applications_expect(streamed: Path) -> None:
    with zipfile.ZipFile(streamed) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert '<dimension ref="A1:N8"/>' in xml  # the totals in row 8, the chart data to column N
    assert '<t xml:space="preserve"> 王芳</t>' in xml
    assert "<t>a&amp;b&lt;c&gt;</t>" in xml
    assert "第一行&#13;\n第二行" in xml
    assert xml.count('<row r="4"') == 1 and xml.count('r="A4"') == 1


@pytest.mark.libreoffice
def test_libreoffice_opens_and_resaves_a_streamed_workbook_unchanged(
    streamed: Path, libreoffice, tmp_path: Path
) -> None:
    (resaved,) = libreoffice.convert([streamed], "xlsx", tmp_path / "resaved")
    ours, theirs = load_workbook(streamed)["名单"], load_workbook(resaved)["名单"]
    for row in range(3, 9):
        for column in range(1, 11):
            expected, got = ours.cell(row, column).value, theirs.cell(row, column).value
            if isinstance(expected, str):
                expected = expected.replace("\r\n", "\n")  # LibreOffice keeps line feeds only
                got = got.replace("\r\n", "\n") if isinstance(got, str) else got
            assert got == expected, (row, column)
    assert theirs["G7"].number_format == "#,##0.00"
    assert theirs["J5"].alignment.wrap_text
