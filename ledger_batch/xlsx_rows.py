"""Report table bodies written straight into a worksheet's XML, the rest of the sheet by openpyxl.

The rows under a table's header are most of a large report: the group's payout has 48,000 rows
of sources and open items. openpyxl builds a ``Cell`` object for each value and writes it through
its XML writer, about 20 µs a cell. Here a body stays the list of rows the report already holds:
when the workbook is saved, each row's XML is produced as text and written into the sheet, in
row order among the rows openpyxl writes. Everything else in the sheet (the
heading, the header row, widths, frozen panes, filters, chart data, print settings, the named
styles) is still written by openpyxl, so a streamed cell is exactly what openpyxl writes for the
same value and style: an inline string, a number, a date as a serial number with its format.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell._writer import write_cell
from openpyxl.cell.cell import Cell
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._writer import ALL_TEMP_FILES, WorksheetWriter, create_temporary_file
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from ledger_batch.labels import INTEGER_KINDS

CHUNK_ROWS = 1_000
"""Rows written in one piece: few writes, and a piece of a few hundred kilobytes."""


@dataclass
class TableBody:
    """Rows of a table from ``first_row`` down, column 1 onwards, in one sheet.

    ``style_of(kind, wrap)`` is the style array of a cell of that column kind, wrapping its
    text or not (``CellStyles.body``); a text column's value wraps when ``wraps(value)``. Text
    is stored as ``clean_text`` gives it (``render_xlsx.safe_text``).
    """

    first_row: int
    rows: Sequence[Sequence[object]]
    kinds: Sequence[str]
    style_of: Callable[[str, bool], StyleArray]
    wraps: Callable[[object], bool]
    clean_text: Callable[[str], str]

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1

    def wrapped(self, kind: str, value: object) -> bool:
        """Whether a cell of this kind and value wraps its text."""
        return kind == "text" and self.wraps(value)


@dataclass
class StreamedBodies:
    """The table bodies of one workbook, by sheet title, written when it is saved."""

    by_sheet: dict[str, list[TableBody]] = field(default_factory=dict)

    def add(self, sheet: Worksheet, body: TableBody) -> None:
        if body.rows:
            self.by_sheet.setdefault(sheet.title, []).append(body)


def save_workbook(workbook: Workbook, path: Path, bodies: StreamedBodies) -> None:
    """Save ``workbook`` at ``path`` with ``bodies`` in their sheets (as ``Workbook.save``)."""
    workbook.properties.modified = datetime.now(tz=UTC).replace(tzinfo=None)
    with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True) as archive:  # closed on failure too
        _BodiesExcelWriter(workbook, archive, bodies).write_data()


class _BodiesExcelWriter(ExcelWriter):
    """openpyxl's workbook writer; a sheet with bodies goes through ``_BodiesSheetWriter``."""

    def __init__(self, workbook: Workbook, archive: ZipFile, bodies: StreamedBodies) -> None:
        super().__init__(workbook, archive)
        self.bodies = bodies

    def write_worksheet(self, ws: Worksheet) -> None:
        bodies = self.bodies.by_sheet.get(ws.title)
        if not bodies:
            super().write_worksheet(ws)
            return
        # As ExcelWriter.write_worksheet does for a sheet that is not write-only.
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _BodiesSheetWriter(ws, bodies)
        try:
            writer.write()
        finally:
            writer.handle.close()
        ws._rels = writer._rels
        self._archive.write(writer.path, ws.path[1:])
        self.manifest.append(ws)
        writer.cleanup()


class _BodiesSheetWriter(WorksheetWriter):
    """openpyxl's sheet writer, with the bodies' rows merged into ``sheetData`` in row order.

    The sheet is written to a file this writer holds open, so that a body row's XML can go
    straight into it once lxml has flushed what openpyxl wrote before it.
    """

    def __init__(self, ws: Worksheet, bodies: list[TableBody]) -> None:
        self.bodies = sorted(bodies, key=lambda body: body.first_row)
        self.path = create_temporary_file()
        self.handle = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        super().__init__(ws, out=self.handle)

    def write_dimensions(self) -> None:
        cells = list(self.ws._cells)
        rows = [row for row, _ in cells]
        columns = [column for _, column in cells]
        for body in self.bodies:
            rows += [body.first_row, body.last_row]
            columns += [1, len(body.kinds)]
        ref = (
            f"{get_column_letter(min(columns))}{min(rows)}:"
            f"{get_column_letter(max(columns))}{max(rows)}"
        )
        self.xf.send(SheetDimension(ref).to_tree())

    def write_rows(self) -> None:
        xf = self.xf.send(True)
        own_rows = dict(self.rows())
        body_rows: dict[int, tuple[_CellWriter, Sequence[object]]] = {}
        for body in self.bodies:
            cells = _CellWriter(self.ws, body)
            for row_number, values in enumerate(body.rows, start=body.first_row):
                body_rows[row_number] = (cells, values)
        pending: list[str] = []
        with xf.element("sheetData"):
            for row_number in sorted(own_rows.keys() | body_rows.keys()):
                own = own_rows.get(row_number)
                if row_number not in body_rows:
                    self._write_raw(xf, pending)
                    self.write_row(xf, own, row_number)
                    continue
                cells, values = body_rows[row_number]
                attributes = self._row_attributes(row_number)
                own = [cell for cell in own or [] if _written(cell, cells.width)]
                if own:  # chart data right of the table: openpyxl's cells after the body's
                    self._write_raw(xf, pending)
                    with xf.element("row", attributes):
                        self._write_raw(xf, [cells.row(row_number, values)])
                        for cell in own:
                            write_cell(xf, self.ws, cell, cell.has_style)
                    continue
                opening = " ".join(f'{key}="{value}"' for key, value in attributes.items())
                pending.append(f"<row {opening}>{cells.row(row_number, values)}</row>")
                if len(pending) >= CHUNK_ROWS:
                    self._write_raw(xf, pending)
            self._write_raw(xf, pending)
        self.xf.send(None)

    def _row_attributes(self, row_number: int) -> dict[str, str]:
        """A row's attributes as openpyxl's ``write_row`` gives them (its height, if set)."""
        attributes = {"r": str(row_number)}
        attributes.update(self.ws.row_dimensions.get(row_number, {}))
        return attributes

    def _write_raw(self, xf: Any, lines: list[str]) -> None:
        """Put ``lines`` of XML into the sheet after everything written so far, and empty it."""
        if lines:
            xf.flush()
            self.handle.write("".join(lines).encode("utf-8"))
            lines.clear()

    def close(self) -> None:
        super().close()
        self.handle.close()

    def cleanup(self) -> None:
        os.remove(self.path)
        ALL_TEMP_FILES.remove(self.path)


class _CellWriter:
    """The XML of one body's cells, as openpyxl writes the same value with the same style."""

    def __init__(self, ws: Worksheet, body: TableBody) -> None:
        self.body = body
        self.width = len(body.kinds)
        self.letters = [get_column_letter(i) for i in range(1, self.width + 1)]
        self.epoch = ws.parent.epoch
        self.style_ids: dict[tuple[str, bool], int] = {}
        self.registry = ws.parent._cell_styles
        self.memo: dict[tuple[object, str, type], str] = {}

    def row(self, row_number: int, values: Sequence[object]) -> str:
        if len(values) != len(self.letters):
            raise ValueError(
                f"row {row_number} has {len(values)} values for {len(self.letters)} columns"
            )
        number = str(row_number)
        return "".join(
            self.text_cell(letter + number, value, kind)
            if value.__class__ is str and value
            else self.cell(letter + number, value, kind)
            for letter, kind, value in zip(self.letters, self.body.kinds, values, strict=True)
        )

    def cell(self, ref: str, value: object, kind: str) -> str:
        if isinstance(value, str) and value:
            return self.text_cell(ref, value, kind)
        key = (value, kind, value.__class__)
        if value != value:  # NaN: never equal to itself, so never found again
            return f'<c r="{ref}"{self.after_reference(value, kind)}'
        if key not in self.memo:  # amounts, counts and dates repeat: each worked out once
            self.memo[key] = self.after_reference(value, kind)
        return f'<c r="{ref}"{self.memo[key]}'

    def text_cell(self, ref: str, value: str, kind: str) -> str:
        style = self.style_id(kind, self.body.wrapped(kind, value))
        text = self.body.clean_text(value)
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'

    def after_reference(self, value: object, kind: str) -> str:
        """A cell's XML after its reference, for anything but non-empty text."""
        style = self.style_id(kind, self.body.wrapped(kind, value))
        number = None if value is None or value == "" else _number(value, kind, self.epoch)
        if number is None:
            return f' s="{style}"/>'
        kind_code = "b" if isinstance(value, bool) else "n"
        return f' s="{style}" t="{kind_code}"><v>{number}</v></c>'

    def style_id(self, kind: str, wrap: bool) -> int:
        # What openpyxl's ``cell.style_id`` does: the style array's position among the
        # workbook's cell formats, added when first seen.
        key = (kind, wrap)
        if key not in self.style_ids:
            self.style_ids[key] = self.registry.add(copy(self.body.style_of(kind, wrap)))
        return self.style_ids[key]


def _written(cell: Cell, body_width: int) -> bool:
    """Whether openpyxl's ``cell``, in a body row, is written beside the body's cells: not when
    it is empty and plain (as openpyxl skips it); an error when it would overlap them."""
    if cell._value is None and not cell.has_style and cell._comment is None:
        return False
    if cell.column <= body_width:
        raise ValueError(f"{cell.coordinate} overlaps a table body written in its place")
    return True


def _number(value: object, kind: str, epoch: datetime) -> str | None:
    """A non-text value as the text of ``<v>``; None for a value that is not a number (NaN)."""
    if isinstance(value, Decimal):
        value = int(value) if kind in INTEGER_KINDS else float(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime | date | time):
        return safe_string(to_excel(value, epoch))
    if isinstance(value, int | float):
        return None if not math.isfinite(value) else safe_string(value)
    raise TypeError(f"a report cell cannot hold {type(value).__name__}: {value!r}")


def _escape(text: str) -> str:
    """Text as XML character data; a carriage return kept as one (a parser would drop it)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text
