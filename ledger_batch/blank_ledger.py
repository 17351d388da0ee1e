"""Blank monthly ledger workbooks (``template YYYY-MM``), generated from the field registry.

Every month sheet of SPEC §3 with its headers exactly as the reader expects, drop-downs for
every field with allowed values and for liaison names, date cells as dates, and an
instructions sheet. In a quarter's last month the attendance sheet is prefilled with the
liaisons in service for the quarterly meeting. A filled template comes back through
``ingest`` without errors.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ledger_batch.fields import MONTH_LEDGERS, Field, Ledger
from ledger_batch.periods import month_end, month_start, split_period
from ledger_batch.validate import in_service

LISTS_SHEET = "选项"
INSTRUCTIONS_SHEET = "填表说明"
BLANK_ROWS = 200
HEADER_ROW = 2
QUARTER_END_MONTHS = (3, 6, 9, 12)


def write_blank_ledger(
    path: Path, period: str, roster: pd.DataFrame | None, company: str, start_month: int
) -> Path:
    """Write the blank workbook for ``period`` to ``path``."""
    serving = _serving(roster, period)
    workbook = Workbook()
    workbook.remove(workbook.active)
    lists = _write_lists(workbook, serving)
    for ledger in MONTH_LEDGERS:
        sheet = workbook.create_sheet(ledger.sheet_zh)
        _write_sheet(sheet, ledger, period, company, lists)
        if ledger.name == "attendance" and _is_quarter_end(period, start_month):
            _prefill_attendance(sheet, ledger, serving, period)
    _write_instructions(workbook, period)
    workbook.move_sheet(LISTS_SHEET, offset=len(workbook.sheetnames))
    workbook[LISTS_SHEET].sheet_state = "hidden"
    workbook.save(path)
    return path


def _serving(roster: pd.DataFrame | None, period: str) -> pd.DataFrame:
    if roster is None or roster.empty:
        return pd.DataFrame(columns=["employee_id", "name", "unit"])
    serving = roster[in_service(roster, month_end(period))]
    return serving.sort_values(["unit", "name"])


def _is_quarter_end(period: str, start_month: int) -> bool:
    _, month = split_period(period)
    return (month - start_month) % 3 == 2


def _write_lists(workbook: Workbook, serving: pd.DataFrame) -> dict[str, str]:
    """A hidden sheet of allowed values; returns field key → range formula for validation."""
    sheet = workbook.create_sheet(LISTS_SHEET)
    columns: dict[str, list[str]] = {"names": list(serving["name"])}
    for ledger in MONTH_LEDGERS:
        for spec in ledger.fields:
            if spec.choices:
                columns[f"{ledger.name}.{spec.name}"] = list(spec.choices)
    ranges = {}
    for index, (key, values) in enumerate(columns.items(), start=1):
        letter = get_column_letter(index)
        sheet.cell(1, index, key)
        for row, value in enumerate(values, start=2):
            sheet.cell(row, index, value).data_type = "s"
        last = max(len(values) + 1, 2)
        ranges[key] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${last}"
    return ranges


def _write_sheet(
    sheet: Worksheet, ledger: Ledger, period: str, company: str, lists: dict[str, str]
) -> None:
    year, month = split_period(period)
    sheet.cell(1, 1, f"{company}{year}年{month}月经理联络员{ledger.sheet_zh}台账")
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(ledger.fields))
    for index, spec in enumerate(ledger.fields, start=1):
        cell = sheet.cell(HEADER_ROW, index, spec.header_zh)
        cell.font = Font(bold=True, color="C00000" if spec.required else "000000")
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = _width(spec)
        _validate_column(sheet, ledger, spec, letter, period, lists)
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)


def _width(spec: Field) -> float:
    if spec.kind == "text":
        return 40 if spec.name in ("content", "reason") else 16
    return {"date": 12, "id": 12, "name": 10, "number": 8}.get(spec.kind, 12)


def _validate_column(
    sheet: Worksheet, ledger: Ledger, spec: Field, letter: str, period: str, lists: dict[str, str]
) -> None:
    cells = f"{letter}{HEADER_ROW + 1}:{letter}{HEADER_ROW + BLANK_ROWS}"
    validation: DataValidation | None = None
    if spec.choices:
        validation = DataValidation(
            type="list", formula1=lists[f"{ledger.name}.{spec.name}"], allow_blank=not spec.required
        )
        validation.error = "请从下拉列表中选择 / choose from the list"
    elif spec.kind == "name":
        validation = DataValidation(type="list", formula1=lists["names"], allow_blank=False)
        validation.error = "请选择名册中的联络员 / choose a rostered liaison"
    elif spec.kind == "date":
        first, last = month_start(period), month_end(period)
        validation = DataValidation(
            type="date", operator="between", formula1=_serial(first), formula2=_serial(last)
        )
        validation.error = f"日期应在 {first} 至 {last} 之间 / a date of {period}"
        for row in range(HEADER_ROW + 1, HEADER_ROW + BLANK_ROWS + 1):
            sheet[f"{letter}{row}"].number_format = "yyyy-mm-dd"
    elif spec.kind == "number":
        validation = DataValidation(
            type="decimal", operator="between", formula1="-100", formula2="100"
        )
        validation.error = "填写数字 / a number"
    if validation is not None:
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
        validation.add(cells)
    if spec.kind == "id":
        for row in range(HEADER_ROW + 1, HEADER_ROW + BLANK_ROWS + 1):
            sheet[f"{letter}{row}"].number_format = "@"


def _serial(day: date) -> str:
    return str((day - date(1899, 12, 30)).days)


def _prefill_attendance(
    sheet: Worksheet, ledger: Ledger, serving: pd.DataFrame, period: str
) -> None:
    """One row per liaison in service for the quarterly meeting; the clerk marks 出席情况."""
    columns = {spec.name: index for index, spec in enumerate(ledger.fields, start=1)}
    for row, person in enumerate(serving.itertuples(), start=HEADER_ROW + 1):
        sheet.cell(row, columns["meeting_type"], "季度例会").data_type = "s"
        sheet.cell(row, columns["meeting_name"], f"{period} 季度联络员会议").data_type = "s"
        sheet.cell(row, columns["name"], person.name).data_type = "s"
        sheet.cell(row, columns["employee_id"], person.employee_id).data_type = "s"


def _write_instructions(workbook: Workbook, period: str) -> None:
    sheet = workbook.create_sheet(INSTRUCTIONS_SHEET)
    lines = [
        f"{period} 经理联络员台账 填表说明",
        "1. 每张表第2行是表头，请勿修改表头文字和顺序；从第3行起每行填一条记录。",
        "2. 红色表头为必填项；有下拉箭头的单元格请从列表中选择。",
        "3. 日期填本月日期（如 2025-03-05）；工号按名册填写，可保留前导0。",
        "4. 信息报送的编号可留空，系统按行序自动编号（YYYYMM-NNN）。",
        "5. 会议考勤：季度末月已按名册列出在任联络员，请在“出席情况”中选择 出席/请假/缺席；"
        "本月未开会时请删除这些行。",
        "6. 闭环跟踪用于更新以前月份信息的办理状态，编号须为已入库的信息编号。",
        "7. 填好后按“年-月”命名（如 2025-03.xlsx）放入工作区的 inbox 文件夹。",
        "",
        "Fill one row per record from row 3; red headers are required; pick values from the "
        "drop-downs; name the file by its month and drop it into the inbox.",
    ]
    for row, line in enumerate(lines, start=1):
        sheet.cell(row, 1, line).data_type = "s"
    sheet.column_dimensions["A"].width = 110
    sheet.cell(1, 1).font = Font(bold=True, size=14)
