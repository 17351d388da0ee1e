"""Builders for real ledger files in tests: rosters and monthly workbooks as the office writes them.

Rows are dicts keyed by the Chinese headers of SPEC §3; a header row (and by default a
title row above it) is written for every sheet given. ``soffice_convert`` re-saves a file
through LibreOffice, as an office machine would.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import openpyxl

from ledger_batch.fields import ledger_for_sheet

Row = Mapping[str, object]


def person(employee_id: str, name: str, unit: str, **extra: object) -> dict[str, object]:
    """A roster row; defaults: 男, 职工, appointed 2025-01-01, no dismissal."""
    row: dict[str, object] = {
        "工号": employee_id,
        "姓名": name,
        "性别": "男",
        "单位": unit,
        "岗位": "职工",
        "邮箱": f"{employee_id}@example.cn",
        "聘任日期": "2025-01-01",
        "解聘日期": None,
        "解聘原因": None,
        "单位负责人": f"{unit}负责人",
    }
    row.update(extra)
    return row


def item(date: str, name: str, content: str, **extra: object) -> dict[str, object]:
    """A 信息报送 row; defaults: 安全生产, 问题, 办公室, 属实 是, 采纳 否."""
    row: dict[str, object] = {
        "编号": None,
        "报送日期": date,
        "姓名": name,
        "工号": None,
        "单位": None,
        "信息类别": "安全生产",
        "信息类型": "问题",
        "信息内容": content,
        "报送方式": "办公室",
        "是否属实": "是",
        "是否采纳": "否",
        "办理状态": None,
        "复查结果": None,
        "反馈情况": None,
        "备注": None,
    }
    row.update(extra)
    return row


def write_workbook(
    path: Path,
    sheets: Mapping[str, Sequence[Row]],
    *,
    title_rows: bool = True,
    headers: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write an xlsx with one sheet per entry (sheet name → rows); returns ``path``."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet_name, rows in sheets.items():
        sheet = workbook.create_sheet(sheet_name)
        ledger = ledger_for_sheet(sheet_name)
        columns = list(
            (headers or {}).get(sheet_name)
            or ([f.header_zh for f in ledger.fields] if ledger else list(rows[0]))
        )
        if title_rows:
            sheet.append([f"{path.stem} {sheet_name}台账"])
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(column) for column in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def keep_formulas_as_text(path: Path) -> Path:
    """Type every ``=…`` cell as text, as Excel does for '=… (openpyxl writes them as formulas)."""
    workbook = openpyxl.load_workbook(path)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    workbook.save(path)
    return path


def soffice_convert(source: Path, target_suffix: str, target_dir: Path) -> Path:
    """Re-save ``source`` through LibreOffice as ``xlsx``, ``ods`` or ``xls``."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError(
            "LibreOffice (soffice) is required: apt-get install libreoffice-calc-nogui"
        )
    filters = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "ods": "ods", "xls": "xls:MS Excel 97"}
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                filters[target_suffix],
                "--outdir",
                str(target_dir),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    return target_dir / f"{source.stem}.{target_suffix}"
