"""Stage 1, read: guard a dropped file, then read its sheets as text grids.

Files are routed by their bytes, not their extension. Before a workbook reaches the
Rust reader (fastexcel/calamine) its zip sizes and each sheet's used range are checked,
because a calamine reader allocates the whole rectangle up to the last used cell and a
single far-away cell can abort the process (READERS.md trap 8). Every cell is read as
text (trap 1: type inference silently turns values into NaN); the normalise stage
converts types and reports each cell it cannot read.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import olefile
import pandas as pd

from ledger_batch.config import Limits
from ledger_batch.errors import FileRejected, Problem

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}
_ROW_TAG = re.compile(rb'<row [^>]*?r="(\d+)"')
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_CELL_REF = re.compile(rb'<c r="([A-Z]+)(\d+)"')


@dataclass
class RawSheet:
    """One sheet as a grid of text: ``cells.iloc[i, j]`` is Excel row ``i + 1``."""

    name: str
    cells: pd.DataFrame
    column_numbers: list[int]
    """1-based Excel column number of each column of ``cells``."""


@dataclass
class RawWorkbook:
    """The readable content of one dropped file."""

    path: Path
    file_format: str
    sheets: list[RawSheet]


def column_letter(number: int) -> str:
    """Excel's letters for a 1-based column number: 1 → A, 28 → AB."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_number(letters: str) -> int:
    """1-based column number of Excel letters: A → 1, AB → 28."""
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


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


def guard_zip(path: Path, limits: Limits) -> list[Problem]:
    """Problems that make an xlsx/ods unsafe to hand to a reader: bombs and huge ranges."""
    name = path.name
    problems: list[Problem] = []
    with zipfile.ZipFile(path) as archive:
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
        for member in members:
            if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                problems += _guard_sheet_range(archive, member, name, limits)
    return problems


def _guard_sheet_range(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, limits: Limits
) -> list[Problem]:
    max_row, max_col = 0, 0
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(4 << 20):
            window = tail + chunk
            for match in _DIMENSION.finditer(window):
                max_col = max(max_col, column_number((match[3] or match[1]).decode()))
                max_row = max(max_row, int(match[4] or match[2]))
            rows = _ROW_TAG.findall(window)
            if rows:
                max_row = max(max_row, *(int(r) for r in rows[-1:]))
            max_col = max(max_col, _widest_cell(window))
            tail = window[-256:]
    if max_col > limits.max_columns_per_sheet or max_row > limits.max_rows_per_sheet + 1000:
        ref = f"{column_letter(max_col)}{max_row}"
        detail = f"{member.filename}: {ref}"
        return [Problem("sheet_too_large", file=name, params={"detail": detail})]
    return []


def _widest_cell(window: bytes) -> int:
    """Widest column among cell refs with 2+ letters (cheap: single letters are ≤ 26)."""
    widest = 0
    for letters in set(re.findall(rb'<c r="([A-Z]{2,})\d', window)):
        widest = max(widest, column_number(letters.decode()))
    return widest


def read_workbook(path: Path, file_format: str) -> RawWorkbook:
    """Read every sheet of an xlsx/xlsm/xls/ods, or the one sheet of a CSV, as text."""
    if file_format == "csv":
        return RawWorkbook(path, "csv", [read_csv_sheet(path)])
    if path.suffix.lower() in _SUFFIXES[file_format]:
        return RawWorkbook(path, file_format, _read_sheets(path, path))
    # calamine picks its parser by the extension: read a copy named for what the bytes are.
    with tempfile.TemporaryDirectory(prefix="ledger-batch-") as folder:
        copy = Path(folder) / f"workbook.{file_format}"
        shutil.copyfile(path, copy)
        return RawWorkbook(path, file_format, _read_sheets(copy, path))


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


def read_csv_sheet(path: Path) -> RawSheet:
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
    rows = list(csv.reader(io.StringIO(text, newline="")))
    width = max((len(row) for row in rows), default=0)
    padded = [
        [cell if cell != "" else None for cell in row] + [None] * (width - len(row)) for row in rows
    ]
    cells = pd.DataFrame(padded, dtype="str") if padded else pd.DataFrame()
    return RawSheet(path.stem, cells, list(range(1, width + 1)))
