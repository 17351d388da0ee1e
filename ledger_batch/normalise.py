"""Stage 2, normalise: find each sheet's header row, map headers to canonical fields, and
turn every cell into its typed value (text, date, Decimal, canonical choice).

A cell that cannot be read becomes a Problem naming its cell — never NaN, never a guess.
Conversions run once per distinct value (ledgers repeat names, dates and choices a lot).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from hashlib import blake2b

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ledger_batch.errors import Problem, capped
from ledger_batch.fields import Field, Ledger, ledger_for_sheet, simplify_header
from ledger_batch.periods import month_in_name, period_of, year_in_name
from ledger_batch.read import RawSheet, RawWorkbook, arrow_text
from ledger_batch.sheet_layout import column_letter
from ledger_batch.structure import sheet_structure

HEADER_SCAN_ROWS = 30
EXCEL_TEXT_LIMIT = 32_767
_EDGE_SPACE = "\t\n\r\x0b\x0c \u3000\u00a0\u200b\u200c\u200d\u2060\ufeff"
_SPACE_CHARACTERS = "".join(
    [*(chr(c) for c in range(0x3001) if chr(c).isspace()), "\u200b\u200c\u200d\u2060\ufeff"]
)
"""Every kind of space: Unicode's (Python's ``\\s``) and the zero-width ones."""
_CONTROL_CHARACTERS = "".join(
    chr(c)
    for first, last in ((0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F))
    for c in range(first, last + 1)
)
"""C0 and C1 control characters, less tab and line breaks (which are spaces)."""
_ALL_SPACE = re.compile("[" + re.escape(_SPACE_CHARACTERS) + "]+")
_TEXT_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,7}(?:\.\d+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
_INVALID = object()
_CONTROL = re.compile("[" + re.escape(_CONTROL_CHARACTERS) + "]")


@dataclass
class SheetRecords:
    """A sheet's rows as canonical typed columns plus ``source_row`` (Excel's row number)."""

    ledger: Ledger
    sheet_name: str
    records: pd.DataFrame
    columns: dict[str, str]
    """Canonical field → the sheet's column label, e.g. ``'date' → 'B 报送日期'``."""
    problems: list[Problem] = field(default_factory=list)


def structured_text(value: str) -> str:
    """NFKC with every kind of space removed: how IDs, choices and numbers are read."""
    return _ALL_SPACE.sub("", unicodedata.normalize("NFKC", value))


def _arrow_class(characters: str) -> str:
    """A character class of ``characters`` for Arrow's regular expressions (RE2), whose
    ``\\s`` is ASCII only: every code point spelled out."""
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in characters) + "]"


_ARROW_SPACES = _arrow_class(_SPACE_CHARACTERS) + "+"
_ARROW_CONTROL = _arrow_class(_CONTROL_CHARACTERS)


def content_hashes(contents: Iterable[object]) -> list[int | None]:
    """Each item's content as compared for possible duplicates (NFKC, no spaces of any kind),
    as a signed 64-bit digest the store indexes; None where there is no text."""
    texts = pa.array([c if isinstance(c, str) else None for c in contents], type=pa.string())
    keys = pc.replace_substring_regex(pc.utf8_normalize(texts, "NFKC"), _ARROW_SPACES, "")
    as_int = int.from_bytes
    return [  # UTF-8 straight from Arrow: no str made and encoded again per item
        None if key is None else as_int(blake2b(key, digest_size=8).digest(), "big", signed=True)
        for key in keys.cast(pa.binary()).to_pylist()
    ]


def parse_date_text(text: str) -> date | None:
    """A date from the forms real ledgers use, or None. Excel serials count from 1899-12-30."""
    value = structured_text(text)
    match = _TEXT_DATE.match(value) or _COMPACT_DATE.match(value)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    if _SERIAL.match(value):
        serial = int(Decimal(value))
        if serial == 60 or not 1 <= serial <= 2_958_465:
            return None  # 60 is Excel's phantom 1900-02-29
        return _EXCEL_EPOCH + timedelta(days=serial + (1 if serial < 60 else 0))
    return None


def parse_decimal_text(text: str) -> Decimal | None:
    """A signed decimal from text such as ``+1.5``, ``－２``, ``0.5``; None otherwise."""
    value = structured_text(text).replace("−", "-")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _converter(spec: Field) -> Callable[[str], object]:
    """How one distinct text of a date, number or choice column becomes its value."""
    if spec.kind == "date":
        return lambda text: parse_date_text(text) or _INVALID
    if spec.kind == "number":
        return lambda text: _INVALID if (d := parse_decimal_text(text)) is None else d
    return lambda text: spec.canonical_choice(structured_text(text)) or _INVALID


def excel_length(text: str) -> int:
    """Length as Excel counts it (UTF-16 units: 𠮷 and other astral characters count 2)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def find_header(sheet: RawSheet, ledger: Ledger) -> tuple[int, dict[str, int], list[Problem]]:
    """Header row index and field → column index; problems when required columns are missing."""
    best: tuple[int, dict[str, int], list[Problem]] | None = None
    for row_index in range(min(HEADER_SCAN_ROWS, len(sheet.cells))):
        mapping, duplicates = _match_header_row(sheet, ledger, row_index)
        if len(mapping) < 2:
            continue
        missing = [f for f in ledger.fields if f.required and f.name not in mapping]
        if not missing:
            return row_index, mapping, duplicates
        if best is None or len(mapping) > len(best[1]):
            problems = [
                Problem(
                    "missing_column",
                    sheet=sheet.name,
                    row=row_index + 1,
                    params={"header": f.header_zh},
                )
                for f in missing
            ]
            best = (row_index, mapping, duplicates + problems)
    if best is not None:
        return best
    expected = "、".join(f.header_zh for f in ledger.fields)
    missing_names = "、".join(f.header_zh for f in ledger.fields if f.required)
    return (
        -1,
        {},
        [
            Problem(
                "header_not_found",
                sheet=sheet.name,
                params={"missing": missing_names, "expected": expected},
            )
        ],
    )


def _match_header_row(
    sheet: RawSheet, ledger: Ledger, row_index: int
) -> tuple[dict[str, int], list[Problem]]:
    mapping: dict[str, int] = {}
    problems: list[Problem] = []
    for position, raw in enumerate(sheet.cells.iloc[row_index]):
        if not isinstance(raw, str):
            continue
        key = simplify_header(raw)
        spec = next((f for f in ledger.fields if key in f.header_keys), None)
        if spec is None:
            continue
        if spec.name in mapping:
            first = column_letter(sheet.column_numbers[mapping[spec.name]])
            this = column_letter(sheet.column_numbers[position])
            problems.append(
                Problem(
                    "duplicate_column",
                    sheet=sheet.name,
                    row=row_index + 1,
                    column=this,
                    value=raw,
                    params={"header": spec.header_zh, "columns": f"{first}, {this}"},
                )
            )
            continue
        mapping[spec.name] = position
    return mapping, problems


def normalise_sheet(sheet: RawSheet, ledger: Ledger, max_rows: int) -> SheetRecords:
    """Typed records of one sheet, with a Problem for every unreadable or missing cell."""
    header_row, mapping, problems = find_header(sheet, ledger)
    columns = {
        name: f"{column_letter(sheet.column_numbers[pos])} {ledger.field(name).header_zh}"
        for name, pos in mapping.items()
    }
    if header_row < 0 or any(p.severity == "error" for p in problems):
        return SheetRecords(ledger, sheet.name, pd.DataFrame(), columns, problems)
    problems += _ignored_columns(sheet, header_row, mapping)
    body = sheet.cells.iloc[header_row + 1 :, sorted(mapping.values())]
    structure = sheet_structure(
        sheet, ledger, header_row, mapping, columns, body[_has_content(body)], parse_date_text
    )
    body = structure.body
    problems += structure.problems
    if len(body) > max_rows:
        problems.append(
            Problem(
                "too_many_rows", sheet=sheet.name, params={"rows": len(body), "limit": max_rows}
            )
        )
        return SheetRecords(ledger, sheet.name, pd.DataFrame(), columns, problems)
    typed: dict[str, np.ndarray] = {"source_row": body.index.to_numpy() + 1}
    for name, position in mapping.items():
        typed[name], cell_problems = _convert_column(
            body[position], ledger.field(name), sheet.name, columns[name]
        )
        problems += capped(cell_problems)
    for spec in ledger.fields:
        if spec.name not in typed:
            typed[spec.name] = np.full(len(body), None, dtype=object)
    if ledger.name == "submissions":
        typed["content_hash"] = np.array(content_hashes(typed["content"]), dtype=object)
    source_row = typed.pop("source_row")
    records = pd.DataFrame(typed, dtype=object, copy=False)  # no Series made per column
    records.insert(0, "source_row", source_row)
    return SheetRecords(ledger, sheet.name, records, columns, structure.without_explained(problems))


def _has_content(body: pd.DataFrame) -> pd.Series:
    """Rows with at least one cell that is not blank or spaces. Column by column, until
    every row has one (usually after the first: a date or a name in every row)."""
    filled = np.zeros(len(body), dtype=bool)
    for position in body.columns:
        trimmed = pc.utf8_trim(arrow_text(body[position]), _EDGE_SPACE)
        filled |= pc.fill_null(pc.not_equal(trimmed, ""), False).to_numpy(zero_copy_only=False)
        if filled.all():
            break
    return pd.Series(filled, index=body.index)


def _ignored_columns(sheet: RawSheet, header_row: int, mapping: dict[str, int]) -> list[Problem]:
    used = set(mapping.values())
    notes = []
    for position, raw in enumerate(sheet.cells.iloc[header_row]):
        if position not in used and isinstance(raw, str) and raw.strip():
            notes.append(
                Problem(
                    "column_ignored",
                    "note",
                    sheet=sheet.name,
                    row=header_row + 1,
                    column=column_letter(sheet.column_numbers[position]),
                    value=raw,
                    params={"header": raw.strip()},
                )
            )
    return notes


def _convert_column(
    column: pd.Series, spec: Field, sheet_name: str, label: str
) -> tuple[np.ndarray, list[Problem]]:
    """Typed values (None for blank or unreadable) and a Problem per unreadable/missing cell.

    The column is dictionary-encoded and each distinct text converted once (ledgers repeat
    names, 工号, units, dates and choices a lot), so repeated values are also one object each;
    a column of mostly distinct texts (item numbers, content) is converted whole, in Arrow.
    """
    texts = arrow_text(column)
    encoded = pc.dictionary_encode(texts)
    distinct = encoded.dictionary
    if spec.kind in ("text", "id", "name") and len(distinct) * 2 > len(texts):
        values, unreadable, blank = _converted(texts, spec)
    else:
        values, unreadable, blank = _converted(distinct, spec)
        empty = len(distinct)  # the code of an empty cell: one more entry at the end
        codes = encoded.indices.fill_null(empty).to_numpy(zero_copy_only=False)
        values = np.append(values, np.array([None], dtype=object))[codes]
        unreadable = np.append(unreadable, False)[codes]
        blank = np.append(blank, True)[codes]
    unreadable &= ~blank
    values[blank | unreadable] = None
    values[values == ""] = None
    index = column.index.to_numpy()
    problems = [
        _cell_problem(spec, sheet_name, int(index[position]) + 1, label, texts[position].as_py())
        for position in np.flatnonzero(unreadable).tolist()
    ]
    if spec.required:
        problems += [
            Problem(
                "required_blank",
                sheet=sheet_name,
                row=int(row) + 1,
                column=label,
                params={"header": spec.header_zh},
            )
            for row in index[blank]
        ]
    return values, problems


def _converted(texts: pa.Array, spec: Field) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each text's typed value, whether it is unreadable, and whether it is blank."""
    trimmed = pc.utf8_trim(texts, _EDGE_SPACE)
    blank = pc.fill_null(pc.equal(trimmed, ""), True).to_numpy(zero_copy_only=False)
    if spec.kind == "text":
        values = trimmed.to_numpy(zero_copy_only=False).astype(object)
        long = pc.fill_null(pc.greater(pc.utf8_length(texts), EXCEL_TEXT_LIMIT // 2), False)
        unreadable = long.to_numpy(zero_copy_only=False).copy()
        for position in np.flatnonzero(unreadable):
            unreadable[position] = excel_length(texts[int(position)].as_py()) > EXCEL_TEXT_LIMIT
    elif spec.kind in ("id", "name"):
        # An ID or name with an invisible control character matches nobody: unreadable.
        squeezed = pc.utf8_normalize(texts, "NFKC") if spec.kind == "id" else texts
        squeezed = pc.replace_substring_regex(squeezed, _ARROW_SPACES, "")
        values = squeezed.to_numpy(zero_copy_only=False).astype(object)
        control = pc.match_substring_regex(squeezed, _ARROW_CONTROL)
        unreadable = pc.fill_null(control, False).to_numpy(zero_copy_only=False).copy()
    else:  # dates, numbers, choices
        convert = _converter(spec)
        converted = [convert(text) for text in texts.to_pylist()]
        unreadable = np.array([value is _INVALID for value in converted], dtype=bool)
        values = np.array(converted, dtype=object)
    return values, unreadable, blank


def _cell_problem(spec: Field, sheet_name: str, row: int, label: str, text: str) -> Problem:
    shown = text if len(text) <= 60 else text[:57] + "…"
    if spec.kind != "text" and _CONTROL.search(text):
        codes = sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(text)})
        return Problem(
            "control_character",
            sheet=sheet_name,
            row=row,
            column=label,
            value=_CONTROL.sub("\ufffd", shown),
            params={"codes": " ".join(codes)},
        )
    if spec.kind == "date":
        return Problem("bad_date", sheet=sheet_name, row=row, column=label, value=shown)
    if spec.kind == "number":
        return Problem("bad_number", sheet=sheet_name, row=row, column=label, value=shown)
    if spec.kind == "choice":
        return Problem(
            "bad_choice",
            sheet=sheet_name,
            row=row,
            column=label,
            value=shown,
            params={"header": spec.header_zh, "allowed": "、".join(spec.choices)},
        )
    return Problem(
        "text_too_long",
        sheet=sheet_name,
        row=row,
        column=label,
        value=shown,
        params={"limit": EXCEL_TEXT_LIMIT},
    )


@dataclass
class LedgerFile:
    """One dropped file after normalising: its period, kind and ledger sheets."""

    file_name: str
    period: str
    kind: str
    """``month`` (a monthly workbook or CSV) or ``roster`` (a roster on its own)."""
    sheets: dict[str, SheetRecords]
    problems: list[Problem]
    file_format: str = ""
    """``xlsx``, ``xls``, ``ods`` or ``csv``: a CSV replaces only its own sheet of the month."""

    def frame(self, ledger_name: str) -> pd.DataFrame | None:
        """The records of a ledger, or None when the file has no such sheet."""
        sheet = self.sheets.get(ledger_name)
        return None if sheet is None else sheet.records


def normalise_workbook(raw: RawWorkbook, start_month: int, max_rows: int) -> LedgerFile:
    """Classify the sheets of ``raw``, read each ledger sheet, and work out the file's period."""
    name = raw.path.name
    problems: list[Problem] = []
    classified = _classify_sheets(raw, problems)
    sheets = {
        ledger.name: normalise_sheet(sheet, ledger, max_rows)
        for ledger, sheet in classified.values()
    }
    for records in sheets.values():
        problems += records.problems
    kind = "roster" if set(sheets) == {"roster"} else "month"
    period = month_in_name(name)
    if period is None and kind == "roster" and (year := year_in_name(name)) is not None:
        period = period_of(year, start_month)
    if period is None:
        problems.insert(0, Problem("no_period_in_name"))
    if not sheets and not problems:
        problems.append(Problem("no_ledger_sheet"))
    elif kind == "month" and raw.file_format != "csv" and "submissions" not in sheets:
        problems.append(Problem("missing_submissions_sheet"))
    problems = [replace(p, file=name) for p in problems]
    return LedgerFile(name, period or "", kind, sheets, problems, raw.file_format)


def _classify_sheets(
    raw: RawWorkbook, problems: list[Problem]
) -> dict[str, tuple[Ledger, RawSheet]]:
    classified: dict[str, tuple[Ledger, RawSheet]] = {}
    for sheet in raw.sheets:
        ledger = ledger_for_sheet(sheet.name)
        if raw.file_format == "csv" and ledger is None:
            problems.append(Problem("csv_sheet_unknown"))
        elif ledger is None:
            problems.append(
                Problem("sheet_ignored", "note", sheet=sheet.name, params={"sheet": sheet.name})
            )
        elif ledger.name in classified:
            first = classified[ledger.name][1].name
            problems.append(
                Problem(
                    "duplicate_sheet",
                    sheet=sheet.name,
                    params={"ledger": ledger.sheet_zh, "sheets": f"{first}, {sheet.name}"},
                )
            )
        else:
            if raw.file_format == "csv":
                sheet.name = ledger.sheet_zh
            classified[ledger.name] = (ledger, sheet)
    return classified
