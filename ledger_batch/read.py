"""Stage 1, read: guard a dropped file, then read its sheets as text grids.

Files are routed by their bytes, not their extension. Before a workbook reaches the
Rust reader (fastexcel/calamine) its zip members and each sheet's used range are checked
(sheet_layout.py measures them), because a calamine reader allocates the whole rectangle up
to the last used cell and a single far-away cell can abort the process (READERS.md trap 8).
Every cell is read as text (trap 1: type inference silently turns values into NaN); the
normalise stage converts types and reports each cell it cannot read.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import olefile
import pandas as pd
import pyarrow as pa

from ledger_batch.config import Limits
from ledger_batch.errors import FileRejected, Problem
from ledger_batch.sheet_layout import (
    SheetLayout,
    UnsafeWorkbook,
    column_letter,
    ods_layouts,
    xls_layouts,
    xlsx_layouts,
)

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}


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


def ignore_reason(path: Path) -> str | None:
    """Why a file in the inbox is left alone: ``lock_file`` or ``system_file``; None to read it."""
    name = path.name
    if name.startswith(("~$", ".~lock.")):
        return "lock_file"
    if name.startswith("._") or name.lower() in {"thumbs.db", "desktop.ini", ".ds_store"}:
        return "system_file"
    return None


def detect_format(path: Path, head: bytes) -> str:
    """The file's format: ``xlsx``, ``ods``, ``xls`` or ``csv``; FileRejected otherwise."""
    if not head:
        raise rejection(path, "corrupt", detail="0 字节 / empty file")
    if head.startswith(ZIP_MAGIC):
        return _zip_format(path)
    if head.startswith(OLE_MAGIC):
        return _ole_format(path)
    if path.suffix.lower() == ".csv":
        return "csv"
    sniff = head[:512].lstrip().lower()
    detected = (
        "HTML"
        if sniff.startswith((b"<!doctype html", b"<html", b"<table"))
        else ("XML/text" if sniff.startswith(b"<") else "text or binary")
    )
    raise rejection(path, "not_a_spreadsheet", detected=detected)


def rejection(path: Path, code: str, **params: object) -> FileRejected:
    """A FileRejected carrying one file-level problem."""
    return FileRejected(path.name, [Problem(code, file=path.name, params=params)])


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:80] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise rejection(path, "corrupt", detail=str(exc)) from exc
    if b"opendocument.spreadsheet" in mimetype:
        return "ods"
    if "xl/workbook.xml" in names:
        return "xlsx"
    detected = "xlsb" if "xl/workbook.bin" in names else "zip/docx"
    raise rejection(path, "not_a_spreadsheet", detected=detected)


def _ole_format(path: Path) -> str:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir()}
    except OSError as exc:
        raise rejection(path, "corrupt", detail=str(exc)) from exc
    if "encryptioninfo" in streams or "encryptedpackage" in streams:
        raise rejection(path, "encrypted")
    if "workbook" in streams or "book" in streams:
        return "xls"
    raise rejection(path, "not_a_spreadsheet", detected="OLE (doc/ppt)")


def guard_workbook(path: Path, file_format: str, limits: Limits) -> dict[str, SheetLayout]:
    """Check an xlsx/ods/xls before any reader sees it; its sheets' layouts by sheet name.

    FileRejected for a zip bomb (declared or disguised), XML entity declarations, an
    encrypted part, or a sheet whose used range is beyond the limits (READERS.md trap 8).
    """
    try:
        if file_format == "xls":
            layouts = xls_layouts(path)
        else:
            with zipfile.ZipFile(path) as archive:
                problems = _zip_size_problems(archive, path.name, limits)
                if problems:
                    raise FileRejected(path.name, problems)
                scan = xlsx_layouts if file_format == "xlsx" else ods_layouts
                layouts = scan(path, archive)
    except UnsafeWorkbook as unsafe:
        raise rejection(path, unsafe.code, detail=unsafe.detail) from unsafe
    except (zipfile.BadZipFile, OSError, EOFError, struct.error) as exc:
        raise rejection(path, "corrupt", detail=str(exc)) from exc
    problems = [p for layout in layouts if (p := _range_problem(layout, path.name, limits))]
    if problems:
        raise FileRejected(path.name, problems)
    return {layout.name: layout for layout in layouts}


def _zip_size_problems(archive: zipfile.ZipFile, name: str, limits: Limits) -> list[Problem]:
    """A zip bomb by its declared sizes (sheet_layout checks that the sizes do not lie)."""
    members = archive.infolist()
    total = sum(member.file_size for member in members)
    if total > limits.max_unpacked_bytes:
        detail = f"{total:,} > {limits.max_unpacked_bytes:,} bytes"
        return [Problem("too_large", file=name, params={"detail": detail})]
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 10_000_000 and ratio > limits.max_compression_ratio:
            detail = f"{member.filename}: {ratio:.0f}:1"
            return [Problem("too_large", file=name, params={"detail": detail})]
    return []


def _range_problem(layout: SheetLayout, name: str, limits: Limits) -> Problem | None:
    """A sheet whose rectangle (A1 to its last used cell) a reader must not allocate."""
    if (
        layout.last_column <= limits.max_columns_per_sheet
        and layout.last_row <= limits.max_rows_per_sheet + 1000
        and layout.cells <= limits.max_cells_per_sheet
    ):
        return None
    letter = column_letter(layout.last_column)
    return Problem(
        "sheet_too_large",
        file=name,
        sheet=layout.name,
        row=layout.last_row,
        column=letter,
        params={"detail": f"{layout.name}!{letter}{layout.last_row}"},
    )


def read_workbook(path: Path, file_format: str, limits: Limits) -> RawWorkbook:
    """Guard, then read every sheet of an xlsx/xlsm/xls/ods, or the one sheet of a CSV, as
    text; FileRejected for what must not reach a reader."""
    if file_format == "csv":
        return RawWorkbook(path, "csv", [read_csv_sheet(path, limits)])
    layouts = guard_workbook(path, file_format, limits)
    if path.suffix.lower() in _SUFFIXES[file_format]:
        sheets = _read_sheets(path, path)
    else:
        # calamine picks its parser by the extension: read a copy named for what the bytes are.
        with tempfile.TemporaryDirectory(prefix="ledger-batch-") as folder:
            copy = Path(folder) / f"workbook.{file_format}"
            shutil.copyfile(path, copy)
            sheets = _read_sheets(copy, path)
    for sheet in sheets:
        sheet.layout = layouts.get(sheet.name)
    return RawWorkbook(path, file_format, sheets)


_SUFFIXES = {"xlsx": (".xlsx", ".xlsm"), "xls": (".xls",), "ods": (".ods",)}


READER_VARIABLE = "LEDGER_BATCH_READER"
"""Set to ``openpyxl`` to read xlsx through pandas' default engine: only for the benchmark,
which compares the same ingest path on both readers."""


def _read_sheets(source: Path, path: Path) -> list[RawSheet]:
    if os.environ.get(READER_VARIABLE) == "openpyxl" and source.suffix.lower() == ".xlsx":
        return _read_sheets_openpyxl(source)
    try:
        reader = fastexcel.read_excel(source)
        return [_read_sheet(reader, sheet_name) for sheet_name in reader.sheet_names]
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


def _read_sheet(reader: fastexcel.ExcelReader, sheet_name: str) -> RawSheet:
    sheet = reader.load_sheet(sheet_name, header_row=None, dtypes="string", skip_rows=0)
    columns = [info.absolute_index + 1 for info in sheet.available_columns()]
    if sheet.width == 0 or sheet.height == 0:
        return RawSheet(sheet_name, pd.DataFrame(), [])
    cells = sheet.to_pandas()
    cells.columns = range(len(cells.columns))
    return RawSheet(sheet_name, cells, columns)


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
    problem = _range_problem(SheetLayout(path.stem, len(rows), width), path.name, limits)
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
