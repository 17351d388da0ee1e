"""Stage 1, read: guard a dropped file, then read its sheets as text grids.

Files are routed by their bytes, not their extension. Before a workbook reaches the
Rust reader (fastexcel/calamine) its zip members and each sheet's used range are checked
(guard.py, with sheet_layout.py measuring them), because a calamine reader allocates the
whole rectangle up to the last used cell and a single far-away cell can abort the process
(READERS.md trap 8).
Every cell is read as text (trap 1: type inference silently turns values into NaN); the
normalise stage converts types and reports each cell it cannot read.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import pandas as pd
import pyarrow as pa

from ledger_batch.config import Limits
from ledger_batch.early_read import READER_VARIABLE, ArrowSheet, EarlyResult, arrow_sheets
from ledger_batch.errors import FileRejected, Problem
from ledger_batch.guard import guard_workbook, range_problem, rejection
from ledger_batch.sheet_layout import SheetLayout

EarlyLookup = Callable[[Path], EarlyResult | None]
"""The early read's result for a file, if it has one (early_read.py)."""


@dataclass
class RawSheet:
    """One sheet as a grid of text: ``cells.iloc[i, j]`` is Excel row ``i + 1``."""

    name: str
    cells: pd.DataFrame
    column_numbers: list[int]
    """1-based Excel column number of each column of ``cells``."""
    layout: SheetLayout | None = None
    """Hidden rows, merged cells and formulas without values, where the file tells them."""


@dataclass
class RawWorkbook:
    """The readable content of one dropped file."""

    path: Path
    file_format: str
    sheets: list[RawSheet]


def read_workbook(
    path: Path, file_format: str, limits: Limits, early: EarlyLookup | None = None
) -> RawWorkbook:
    """Guard, then read every sheet of an xlsx/xlsm/xls/ods, or the one sheet of a CSV, as
    text; FileRejected for what must not reach a reader. ``early`` gives the early read's
    result for a workbook it guarded and read already (early_read.py)."""
    if file_format == "csv":
        return RawWorkbook(path, "csv", [read_csv_sheet(path, limits)])
    result = early(path) if early else None
    if result is not None:
        layouts, sheets = result.layouts, [_raw_sheet(sheet) for sheet in result.sheets]
    else:
        layouts = guard_workbook(path, file_format, limits)
        if path.suffix.lower() in _SUFFIXES[file_format]:
            sheets = _read_sheets(path, path)
        else:
            # calamine picks its parser by the extension: read a copy named for the bytes.
            with tempfile.TemporaryDirectory(prefix="ledger-batch-") as folder:
                copy = Path(folder) / f"workbook.{file_format}"
                shutil.copyfile(path, copy)
                sheets = _read_sheets(copy, path)
    for sheet in sheets:
        sheet.layout = layouts.get(sheet.name)
    return RawWorkbook(path, file_format, sheets)


_SUFFIXES = {"xlsx": (".xlsx", ".xlsm"), "xls": (".xls",), "ods": (".ods",)}


def _read_sheets(source: Path, path: Path) -> list[RawSheet]:
    if os.environ.get(READER_VARIABLE) == "openpyxl" and source.suffix.lower() == ".xlsx":
        return _read_sheets_openpyxl(source)
    try:
        return [_raw_sheet(sheet) for sheet in arrow_sheets(source)]
    except fastexcel.FastExcelError as exc:
        detail = str(exc).splitlines()[0]
        lowered = detail.lower()
        code = (
            "encrypted"
            if "password" in lowered
            else "sheet_too_large"
            if "cell limit exceeded" in lowered  # calamine's own guard (ods)
            else "corrupt"
        )
        raise rejection(path, code, detail=detail) from exc


def _read_sheets_openpyxl(source: Path) -> list[RawSheet]:
    frames = pd.read_excel(source, sheet_name=None, header=None, dtype=str, engine="openpyxl")
    sheets = []
    for name, frame in frames.items():
        cells = frame.astype("str").where(frame.notna(), None).astype("str")
        cells.columns = range(len(cells.columns))
        sheets.append(RawSheet(str(name), cells, list(range(1, len(cells.columns) + 1))))
    return sheets


def _raw_sheet(sheet: ArrowSheet) -> RawSheet:
    if sheet.cells is None:
        return RawSheet(sheet.name, pd.DataFrame(), [])
    cells = sheet.cells.to_pandas()
    cells.columns = range(len(cells.columns))
    return RawSheet(sheet.name, cells, sheet.columns)


def read_csv_sheet(path: Path, limits: Limits) -> RawSheet:
    """A CSV as one sheet; UTF-8 (with or without BOM), else GBK/GB18030."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRejected(path.name, [Problem("csv_encoding", file=path.name)])
    fields = text.count(",")  # at least this many cells: refused before parsing them all
    if fields > limits.max_cells_per_sheet:
        detail = f"{path.stem}: {fields:,} > {limits.max_cells_per_sheet:,} cells"
        raise rejection(path, "sheet_too_large", detail=detail)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    width = max((len(row) for row in rows), default=0)
    problem = range_problem(SheetLayout(path.stem, len(rows), width), path.name, limits)
    if problem is not None:
        raise FileRejected(path.name, [problem])
    padded = [
        [cell if cell != "" else None for cell in row] + [None] * (width - len(row)) for row in rows
    ]
    cells = pd.DataFrame(padded, dtype="str") if padded else pd.DataFrame()
    return RawSheet(path.stem, cells, list(range(1, width + 1)))


def arrow_text(column: pd.Series) -> pa.Array:
    """The column as one Arrow string array (zero-copy for the reader's Arrow-backed text)."""
    array = pa.array(column.array) if len(column) else pa.array([], pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        array = pa.array(
            [v if isinstance(v, str) else None for v in column.tolist()], type=pa.string()
        )
    return array
