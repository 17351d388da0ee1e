"""Guard a dropped file before any spreadsheet reader sees it: what the file is (by its
bytes, not its extension), and whether its zip members and each sheet's used range are safe
to hand to a reader (sheet_layout.py measures them; READERS.md trap 8).

This module imports neither pandas nor a reader, so that an early read (early_read.py) can
guard files while the run is still starting.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import olefile

from ledger_batch.errors import FileRejected, Problem
from ledger_batch.limits import GuardLimits
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


def guard_workbook(path: Path, file_format: str, limits: GuardLimits) -> dict[str, SheetLayout]:
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
    problems = [p for layout in layouts if (p := range_problem(layout, path.name, limits))]
    if problems:
        raise FileRejected(path.name, problems)
    return {layout.name: layout for layout in layouts}


def _zip_size_problems(archive: zipfile.ZipFile, name: str, limits: GuardLimits) -> list[Problem]:
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


def range_problem(layout: SheetLayout, name: str, limits: GuardLimits) -> Problem | None:
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
