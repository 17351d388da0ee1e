"""What a workbook's bytes say that the reader does not: each sheet's real extent, its hidden
rows, merged cells, formulas without a calculated value and cells showing an Excel error.

The Rust reader (fastexcel/calamine) allocates the whole rectangle up to the last used cell
(READERS.md trap 8), reads a formula without a cached value and every merged cell but the
first as empty (traps 4 and 5), and does not report hidden rows. The scanners here stream the
raw XML (xlsx, ods) or BIFF records (xls) with bounded memory before the reader sees the
file. Zip members are inflated here from their raw bytes, so a member whose header
understates its size (a zip bomb in disguise) or that declares XML entities is caught
before any parser sees it.
"""

from __future__ import annotations

import functools
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as SafeTree
import olefile
import pyarrow as pa
import pyarrow.compute as pc

CHUNK_BYTES = 4 << 20
MAX_ROW_BYTES = 64 << 20
"""A single row (or unterminated tag run) longer than this is not a ledger."""


class UnsafeWorkbook(Exception):
    """A workbook that must not reach a reader: ``code`` names the message, ``detail`` where."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class CellRange:
    """A rectangle of cells, 1-based and inclusive."""

    first_row: int
    first_column: int
    last_row: int
    last_column: int


@dataclass
class SheetLayout:
    """One sheet as its bytes describe it (rows and columns 1-based, as Excel numbers them)."""

    name: str
    last_row: int = 0
    last_column: int = 0
    hidden_rows: list[tuple[int, int]] = field(default_factory=list)
    """Ranges of hidden rows (first, last): hidden by hand, by a filter or a collapsed outline."""
    merged: list[CellRange] = field(default_factory=list)
    uncalculated: set[tuple[int, int]] = field(default_factory=set)
    """(row, column) of formula cells whose value the file does not hold."""
    formulas: set[tuple[int, int]] = field(default_factory=set)
    error_values: dict[tuple[int, int], str] = field(default_factory=dict)
    """(row, column) → an Excel error a cell shows (#NAME?, #DIV/0!, #N/A…): reads as blank."""

    @property
    def cells(self) -> int:
        """Cells in the rectangle a reader allocates: A1 to the last used row and column."""
        return self.last_row * self.last_column


def _extend(layout: SheetLayout, row: int, column: int) -> None:
    layout.last_row = max(layout.last_row, row)
    layout.last_column = max(layout.last_column, column)


def column_number(letters: str) -> int:
    """1-based column number of Excel letters: A → 1, AB → 28."""
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


# --- zip members, inflated from their raw bytes ---------------------------------------------

_XML_MEMBER = (".xml", ".rels", ".vml")
_ELEMENT_START = re.compile(rb"<\x00?[A-Za-z_]")  # the root element, in UTF-8 or UTF-16
_DECLARATIONS = tuple(
    word.encode(encoding)
    for word in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


def member_chunks(path: Path, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes as they really inflate, whatever its header says.

    Python's zipfile stops at the declared size; other readers inflate the whole stream, so
    a member that inflates past its declared size is refused rather than trusted.
    """
    if member.flag_bits & 0x1:
        raise UnsafeWorkbook("encrypted", member.filename)
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnsafeWorkbook("corrupt", f"{member.filename}: compression {member.compress_type}")
    produced = 0
    inflate = zlib.decompressobj(-15) if member.compress_type == zipfile.ZIP_DEFLATED else None
    for raw in _raw_member(path, member):
        pending = raw
        while pending:
            if inflate is None:
                data, pending = pending, b""
            else:
                data = inflate.decompress(pending, CHUNK_BYTES)
                pending = inflate.unconsumed_tail
            produced += len(data)
            if produced > member.file_size:
                declared = f"{member.file_size:,}"
                raise UnsafeWorkbook("corrupt", f"{member.filename}: > {declared} bytes declared")
            if data:
                yield data
    if inflate is not None and not inflate.eof:
        raise UnsafeWorkbook("corrupt", f"{member.filename}: truncated")


def _raw_member(path: Path, member: zipfile.ZipInfo) -> Iterator[bytes]:
    with path.open("rb") as stream:
        stream.seek(member.header_offset)
        header = stream.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise UnsafeWorkbook("corrupt", f"{member.filename}: no local header")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        stream.seek(member.header_offset + 30 + name_length + extra_length)
        left = member.compress_size
        while left > 0:
            raw = stream.read(min(left, CHUNK_BYTES))
            if not raw:
                raise UnsafeWorkbook("corrupt", f"{member.filename}: truncated")
            left -= len(raw)
            yield raw


def _refuse_entity_declarations(name: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass ``chunks`` on; UnsafeWorkbook when the prolog declares a DTD or entities.

    No office program writes a DOCTYPE into a workbook part; one is how entity bombs
    (billion laughs, quadratic blow-up) and external entities (XXE) are smuggled in.
    """
    prolog = name.lower().endswith(_XML_MEMBER)
    tail = b""
    for chunk in chunks:
        if prolog:
            window = tail + chunk
            start = _ELEMENT_START.search(window)
            head = window if start is None else window[: start.start()]
            if any(declaration in head for declaration in _DECLARATIONS):
                raise UnsafeWorkbook("xml_entities", name)
            prolog = start is None
            tail = window[-32:]
        yield chunk


def _pieces(chunks: Iterator[bytes], boundary: bytes) -> Iterator[bytes]:
    """Re-cut ``chunks`` so that each piece ends just after ``boundary`` (or a tag's ``>``)."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        cut = data.rfind(boundary)
        cut = cut + len(boundary) if cut >= 0 else data.rfind(b">") + 1
        if cut <= 0:
            carry = data
            if len(carry) > MAX_ROW_BYTES:
                raise UnsafeWorkbook("sheet_too_large", "a single row over 64 MB")
            continue
        carry = data[cut:]
        yield data[:cut]
    if carry:
        yield carry


# --- xlsx ---------------------------------------------------------------------------------

_CELL_REF = re.compile(rb'<c r="([A-Z]+)(\d+)"')
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]+)')
_CELL_ROW = re.compile(rb'<c r="[A-Z]+(\d+)')
_UNUSUAL_CELL = (
    r'<c(?:[\t\n\r\f\v/>]| (?:\z|[^r]|r(?:\z|[^=]|=(?:\z|[^"]|"(?:\z|[^A-Z]|'
    r'[A-Z]+(?:\z|[^A-Z0-9]|[0-9]+(?:\z|[^0-9"])))))))'
)
r"""A cell tag not in the form every office program writes (``<c r="B7"``): its position
must be worked out the way the reader does, attribute by attribute. In RE2 syntax (see
``_found``): what ``<c(?=[\s/>])(?! r="[A-Z]+\d+")`` says with look-arounds, spelled out."""
_ROW_WITHOUT_NUMBER = re.compile(rb"<row(?=[\s/>])(?![^>]*\sr\s*=)")
_RARE = "|".join(
    [
        _UNUSUAL_CELL,
        r'<row(?:\z|[^ ]| (?:\z|[^r]|r(?:\z|[^=]|=(?:\z|[^"]))))',  # not ``<row r="``
        r"<f[ >/]",
        r'hidden="',
        r't="e"',
        r"<mergeCell ",
    ]
)
"""What ``_plain`` looks for besides a cell beyond the extent (RE2 syntax, for ``_found``):
an unusual cell tag, a row tag not opening with its number (a superset of
``_ROW_WITHOUT_NUMBER``), a formula, a hidden row, an error cell, a merge."""
_ROW_NUMBER = re.compile(rb'<row [^>]*?\br="(\d+)"')
_ANY_ROW_OR_CELL = re.compile(rb"<(row|c)(?=[\s/>])([^>]*)>")
_REF_ATTRIBUTE = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]*)(\d*)["']""")
_HIDDEN_ROW = re.compile(rb'<row [^>]*\bhidden="(?:1|true)"[^>]*>')
_FORMULA = re.compile(rb"<f[ >/]")
_VALUE = re.compile(rb"<v(?:\s[^>]*)?>([^<]*)</v>")
_ERROR_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?\bt="e"[^>]*>(.*?)</c>', re.S)
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_FULL_CALC_ON_LOAD = re.compile(rb'<(?:\w+:)?calcPr\b[^>]*\bfullCalcOnLoad="(?:1|true)"')


class _XlsxSheetScan:
    """Feeds on one worksheet's XML, piece by piece (each piece ends at a ``</row>``)."""

    def __init__(self, layout: SheetLayout) -> None:
        self.layout = layout
        self.row = 0  # the last row started, as the reader numbers rows

    def feed(self, piece: bytes) -> None:
        if self._plain(piece):
            return
        if _found(_UNUSUAL_CELL, piece) or _ROW_WITHOUT_NUMBER.search(piece):
            self._every_cell(piece)
        else:
            self._usual_cells(piece)
        self._row_facts(piece)

    def _plain(self, piece: bytes) -> bool:
        """Settle the usual piece with one scan: True when every cell and row is numbered the
        usual way, none lies below its last cell or right of the widest column so far, and
        no row is hidden, no cell holds a formula or an error, no cells are merged.

        Each of those checks alone is a pass over the piece (most pieces are megabytes);
        RE2 runs them all as one. When the scan finds anything, ``feed`` looks closer.
        """
        layout = self.layout
        last_cell = _CELL_REF.match(piece, max(piece.rfind(b'<c r="'), 0))
        if last_cell is None:
            return False
        width = layout.last_column or _header_width(piece)
        last_row = max(layout.last_row, int(last_cell[2]))
        if not width or _found(_RARE + "|" + _beyond(width, last_row), piece):
            return False  # nothing recorded: the checks one by one start from the same layout
        layout.last_column, layout.last_row = width, last_row
        self._last_row_tag(piece)
        return True

    def _last_row_tag(self, piece: bytes) -> None:
        last_tag = _ROW_NUMBER.match(piece, max(piece.rfind(b"<row "), 0))
        if last_tag:
            self.row = int(last_tag[1])

    def _usual_cells(self, piece: bytes) -> None:
        """Every cell reads ``<c r="B7"``: the extent is the largest column and row named.

        Cells come row by row, so the last one in the piece is the furthest down. One search
        for a cell beyond that row or the widest column so far is much cheaper than reading
        every reference; only when it finds one are they all read.
        """
        layout = self.layout
        last_cell = _CELL_REF.match(piece, max(piece.rfind(b'<c r="'), 0))
        if last_cell is None:
            return
        if not layout.last_column:  # the first row (a header, usually the widest) sets it
            layout.last_column = _header_width(piece)
        last_row = max(layout.last_row, int(last_cell[2]))
        if layout.last_column and not _found(_beyond(layout.last_column, last_row), piece):
            layout.last_row = last_row
        else:
            columns = set(_CELL_COLUMN.findall(piece))
            widest = max(column_number(letters.decode()) for letters in columns)
            _extend(layout, max(map(int, set(_CELL_ROW.findall(piece)))), widest)
        self._last_row_tag(piece)

    def _every_cell(self, piece: bytes) -> None:
        """Place each cell as the reader does: by its ``r`` in any case, attribute order or
        quoting, else one column right of the last cell (rows likewise)."""
        column = 0
        for tag, attributes in (m.groups() for m in _ANY_ROW_OR_CELL.finditer(piece)):
            ref = _REF_ATTRIBUTE.search(attributes)
            letters, digits = (ref[1], ref[2]) if ref else (b"", b"")
            if tag == b"row":
                self.row = int(digits) if digits else self.row + 1
                column = 0
                continue
            column = column_number(letters.upper().decode()) if letters else column + 1
            _extend(self.layout, int(digits) if digits else self.row, column)

    def _row_facts(self, piece: bytes) -> None:
        layout = self.layout
        if b'hidden="' in piece:
            for match in _HIDDEN_ROW.finditer(piece):
                number = _ROW_NUMBER.match(match[0])
                if number:
                    layout.hidden_rows.append((int(number[1]), int(number[1])))
        if _FORMULA.search(piece):
            self._formulas(piece)
        if b't="e"' in piece:
            for letters, row, inner in _ERROR_CELL.findall(piece):
                value = _VALUE.search(inner)
                text = value[1].decode("utf-8", "replace") if value else "#ERROR"
                layout.error_values[(int(row), column_number(letters.decode()))] = text
        for first, top, last, bottom in _MERGE.findall(piece) if b"<mergeCell " in piece else []:
            layout.merged.append(
                CellRange(
                    int(top),
                    column_number(first.decode()),
                    int(bottom or top),
                    column_number((last or first).decode()),
                )
            )

    def _formulas(self, piece: bytes) -> None:
        for match in _FORMULA.finditer(piece):
            start = piece.rfind(b"<c ", 0, match.start())
            end = piece.find(b"</c>", match.end())
            cell = piece[start:end] if start >= 0 and end >= 0 else b""
            ref = _CELL_REF.match(cell)
            if ref is None:
                continue
            position = (int(ref[2]), column_number(ref[1].decode()))
            self.layout.formulas.add(position)
            if not _has_cached_value(cell):
                self.layout.uncalculated.add(position)


def _header_width(piece: bytes) -> int:
    """The widest column named in the piece's first row."""
    end = piece.find(b"</row>")
    first_row = piece if end < 0 else piece[:end]
    return max((column_number(c.decode()) for c in _CELL_COLUMN.findall(first_row)), default=0)


@functools.lru_cache(maxsize=64)
def _beyond(column: int, row: int) -> str:
    """Matches a ``<c r="…"`` naming a column right of ``column`` or a row below ``row``
    (RE2 syntax, for ``_found``)."""
    letters = column_letter(column)
    wider = [f"[A-Z]{{{len(letters) + 1},}}"] + [
        f"{letters[:i]}[{chr(ord(c) + 1)}-Z][A-Z]{{{len(letters) - i - 1}}}"
        for i, c in enumerate(letters)
        if c != "Z"
    ]
    digits = str(row)
    lower = [f"[1-9][0-9]{{{len(digits)},}}"] + [
        f"{digits[:i]}[{int(d) + 1}-9][0-9]{{{len(digits) - i - 1}}}"
        for i, d in enumerate(digits)
        if d != "9"
    ]
    pattern = f'<c r="(?:(?:{"|".join(wider)})[0-9]|[A-Z]+0*(?:{"|".join(lower)})")'
    return pattern


def _found(pattern: str, piece: bytes) -> bool:
    """Whether ``pattern`` matches anywhere in ``piece``.

    The month sheets of a group are tens of megabytes of XML, and these scans run over all of
    it before a reader is trusted with a file; RE2 (in Arrow's compute kernels, a dependency
    already) does them 3–5 times faster than ``re``. Binary data is matched as Latin-1, byte
    by byte, as ``re`` matches bytes; RE2 has no look-arounds, so patterns spell them out.
    """
    offsets = pa.py_buffer(struct.pack("<2q", 0, len(piece)))
    array = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(piece)])
    return bool(pc.match_substring_regex(array, pattern)[0].as_py())


def column_letter(number: int) -> str:
    """Excel's letters for a 1-based column number: 1 → A, 28 → AB."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _has_cached_value(cell: bytes) -> bool:
    """Whether a formula cell holds the value it last calculated (``<v>``; empty for text)."""
    value = _VALUE.search(cell)
    if value is None:
        return False
    return bool(value[1].strip()) or b't="str"' in cell[: cell.find(b">") + 1]


def xlsx_layouts(path: Path, archive: zipfile.ZipFile) -> list[SheetLayout]:
    """Every worksheet's layout, named as the workbook names it; checks every member."""
    scans: dict[str, _XlsxSheetScan] = {}
    small_parts: dict[str, bytes] = {}
    for member in archive.infolist():
        chunks = _refuse_entity_declarations(member.filename, member_chunks(path, member))
        if _is_worksheet(member.filename):
            scan = scans[member.filename] = _XlsxSheetScan(SheetLayout(member.filename))
            for piece in _pieces(chunks, b"</row>"):
                scan.feed(piece)
        elif member.filename in _NAMING_PARTS and member.file_size <= MAX_ROW_BYTES:
            small_parts[member.filename] = b"".join(chunks)
        else:
            for _ in chunks:
                pass
    names = _sheet_names(small_parts)
    recalculate = bool(_FULL_CALC_ON_LOAD.search(small_parts.get("xl/workbook.xml", b"")))
    layouts = []
    for member_name, scan in scans.items():
        layout = scan.layout
        layout.name = names.get(member_name, member_name)
        if recalculate:  # written by a program that did not calculate (openpyxl, xlsxwriter)
            layout.uncalculated |= layout.formulas
        layouts.append(layout)
    return layouts


_NAMING_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
"""The parts that name the sheets (read whole, so only when of a sane size)."""


def _is_worksheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml") and name.count("/") == 2


def _sheet_names(parts: dict[str, bytes]) -> dict[str, str]:
    """Worksheet part → the sheet's name, from workbook.xml and its relationships."""
    try:
        workbook = SafeTree.fromstring(parts["xl/workbook.xml"])
        relationships = SafeTree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    except Exception:  # a workbook the reader will refuse itself; names are only for messages
        return {}
    targets = {
        element.get("Id"): element.get("Target", "")
        for element in relationships.iter()
        if element.tag.rsplit("}", 1)[-1] == "Relationship"
    }
    names = {}
    for element in workbook.iter():
        if element.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        relation = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
        target = targets.get(relation, "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        names[posixpath.normpath(part)] = element.get("name", part)
    return names


# --- ods ----------------------------------------------------------------------------------

_ODS_TAG = re.compile(
    rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*?)(/?)>"
)
_ODS_NAME = re.compile(rb'table:name="([^"]*)"')
_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="(\d+)"')
_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="(\d+)"')
_ROWS_SPANNED = re.compile(rb'table:number-rows-spanned="(\d+)"')
_COLUMNS_SPANNED = re.compile(rb'table:number-columns-spanned="(\d+)"')
_ODS_ERROR = re.compile(rb'value-type="error"[^>]*>\s*<text:p>([^<]*)</text:p>')
_ODS_HIDDEN = re.compile(rb'table:visibility="(?:collapse|filter)"')


def _attribute(pattern: re.Pattern[bytes], attributes: bytes, default: int = 1) -> int:
    match = pattern.search(attributes)
    return int(match[1]) if match else default


class _OdsScan:
    """Expands ``number-rows-repeated``/``number-columns-repeated`` as a reader would."""

    def __init__(self) -> None:
        self.layouts: list[SheetLayout] = []
        self.row = 0  # rows before the current one
        self.repeat = 1
        self.column = 0
        self.row_end = 0  # 1-based last used column of the current row
        self.row_hidden = False
        self.error_texts: list[str] = []

    def feed(self, piece: bytes) -> None:
        self.error_texts = (
            [t.decode("utf-8", "replace") for t in _ODS_ERROR.findall(piece)]
            if b'value-type="error"' in piece
            else []
        )
        for closing, tag, attributes, empty in _ODS_TAG.findall(piece):
            if tag == b"table":
                if not closing:
                    name = _ODS_NAME.search(attributes)
                    title = name[1].decode("utf-8", "replace") if name else "?"
                    self.layouts.append(SheetLayout(title))
                    self.row = 0
            elif not self.layouts:
                continue
            elif tag == b"table-row":
                self._row(closing, attributes, empty)
            elif not closing:
                self._cell(attributes, empty)

    def _row(self, closing: bytes, attributes: bytes, empty: bytes) -> None:
        if not closing:
            self.repeat = _attribute(_ROWS_REPEATED, attributes)
            self.column, self.row_end = 0, 0
            self.row_hidden = bool(_ODS_HIDDEN.search(attributes))
            if not empty:
                return
        layout = self.layouts[-1]
        first, last = self.row + 1, self.row + self.repeat
        if self.row_end:
            layout.last_row = last
            layout.last_column = max(layout.last_column, self.row_end)
            if self.row_hidden:
                layout.hidden_rows.append((first, last))
        self.row = last

    def _cell(self, attributes: bytes, empty: bytes) -> None:
        repeat = _attribute(_COLUMNS_REPEATED, attributes)
        if not empty or b"office:value-type" in attributes:
            self.row_end = self.column + repeat
        if b'value-type="error"' in attributes:  # LibreOffice: calcext:value-type="error"
            text = self.error_texts.pop(0) if self.error_texts else "#ERROR"
            for column in range(self.column + 1, self.column + min(repeat, 1000) + 1):
                self.layouts[-1].error_values[(self.row + 1, column)] = text
        rows, columns = (
            _attribute(_ROWS_SPANNED, attributes),
            _attribute(_COLUMNS_SPANNED, attributes),
        )
        if rows > 1 or columns > 1:
            top, left = self.row + 1, self.column + 1
            self.layouts[-1].merged.append(CellRange(top, left, top + rows - 1, left + columns - 1))
        self.column += repeat


def ods_layouts(path: Path, archive: zipfile.ZipFile) -> list[SheetLayout]:
    """Every table's layout from ``content.xml``; checks every member."""
    scan = _OdsScan()
    for member in archive.infolist():
        chunks = _refuse_entity_declarations(member.filename, member_chunks(path, member))
        if member.filename == "content.xml":
            for piece in _pieces(chunks, b"</table:table-row>"):
                scan.feed(piece)
        else:
            for _ in chunks:
                pass
    return scan.layouts


# --- xls (BIFF8) -------------------------------------------------------------------------

_BOF, _EOF, _FILEPASS, _BOUNDSHEET = 0x0809, 0x000A, 0x002F, 0x0085
_ROW, _MERGEDCELLS, _MULRK = 0x0208, 0x00E5, 0x00BD
_VALUE_RECORDS = {0x00FD, 0x0203, 0x027E, 0x0205, 0x0006, 0x0204, 0x00D6}
"""LABELSST, NUMBER, RK, BOOLERR, FORMULA, LABEL, RSTRING: the cells a reader keeps (it
skips BLANK/MULBLANK, which only carry formatting)."""


def xls_layouts(path: Path) -> list[SheetLayout]:
    """Every sheet's layout from the BIFF records of the ``Workbook`` stream."""
    with olefile.OleFileIO(str(path)) as ole:
        stream_name = "Workbook" if ole.exists("Workbook") else "Book"
        data = ole.openstream(stream_name).read()
    names: dict[int, str] = {}
    layouts: list[SheetLayout] = []
    current: SheetLayout | None = None
    for offset, record, body in _biff_records(data):
        if record == _FILEPASS:  # the records that follow are encrypted
            raise UnsafeWorkbook("encrypted", stream_name)
        if record == _BOUNDSHEET and len(body) >= 8:
            names[struct.unpack_from("<I", body)[0]] = _sheet_name(body)
        elif record == _BOF:
            current = SheetLayout(names[offset]) if offset in names else None
            if current is not None:
                layouts.append(current)
        elif record == _EOF:
            current = None
        elif current is not None:
            _xls_record(current, record, body)
    return layouts


def _biff_records(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    position = 0
    while position + 4 <= len(data):
        record, length = struct.unpack_from("<HH", data, position)
        yield position, record, data[position + 4 : position + 4 + length]
        position += 4 + length


def _sheet_name(body: bytes) -> str:
    length, high_byte = body[6], body[7] & 0x1
    raw = body[8 : 8 + length * (2 if high_byte else 1)]
    return raw.decode("utf-16-le" if high_byte else "latin-1", "replace")


def _xls_record(layout: SheetLayout, record: int, body: bytes) -> None:
    handlers: dict[int, Callable[[SheetLayout, bytes], None]] = {
        _MULRK: _xls_mulrk,
        _ROW: _xls_row,
        _MERGEDCELLS: _xls_merged,
    }
    if record in _VALUE_RECORDS and len(body) >= 4:
        row, column = struct.unpack_from("<HH", body)
        _extend(layout, row + 1, column + 1)
        if _xls_error(record, body):
            code = body[6] if record == 0x0205 else body[8]  # BOOLERR, FORMULA
            layout.error_values[(row + 1, column + 1)] = _XLS_ERRORS.get(code, "#ERROR")
    elif record in handlers:
        handlers[record](layout, body)


_XLS_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?"}
_XLS_ERRORS |= {0x24: "#NUM!", 0x2A: "#N/A"}


def _xls_error(record: int, body: bytes) -> bool:
    """A BOOLERR holding an error, or a FORMULA whose cached result is an error."""
    if record == 0x0205:
        return len(body) >= 8 and body[7] == 1
    return record == 0x0006 and len(body) >= 14 and body[6] == 2 and body[12:14] == b"\xff\xff"


def _xls_mulrk(layout: SheetLayout, body: bytes) -> None:
    if len(body) >= 6:
        row = struct.unpack_from("<H", body)[0]
        last_column = struct.unpack_from("<H", body, len(body) - 2)[0]
        _extend(layout, row + 1, last_column + 1)


def _xls_row(layout: SheetLayout, body: bytes) -> None:
    if len(body) >= 14 and struct.unpack_from("<H", body, 12)[0] & 0x20:  # fDyZero: hidden
        row = struct.unpack_from("<H", body)[0] + 1
        layout.hidden_rows.append((row, row))


def _xls_merged(layout: SheetLayout, body: bytes) -> None:
    count = struct.unpack_from("<H", body)[0] if len(body) >= 2 else 0
    for index in range(min(count, (len(body) - 2) // 8)):
        top, bottom, left, right = struct.unpack_from("<HHHH", body, 2 + 8 * index)
        layout.merged.append(CellRange(top + 1, left + 1, bottom + 1, right + 1))
