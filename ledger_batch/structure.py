"""Part of stage 2, normalise: what a sheet's grid of text alone does not show.

A reader hands over text; the sheet's layout (``RawSheet.layout``, measured from the file's
bytes) and the shape of the rows say more: a formula the file holds no value for, a cell
showing an Excel error, a merged cell whose rows read as blank, rows hidden in Excel that
still count, a totals row, and a second table pasted under the data. Each is reported
where it is, never guessed silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ledger_batch.errors import Problem
from ledger_batch.fields import Ledger
from ledger_batch.read import RawSheet, arrow_text
from ledger_batch.sheet_layout import CellRange, SheetLayout, column_letter

_TOTAL_LABELS = ("合计", "合 计", "合\u3000计", "总计", "小计", "共计", "总数", "Total", "TOTAL")
TOTAL_WORDS = frozenset(
    word + suffix for word in (*_TOTAL_LABELS, "total", "Sum", "SUM") for suffix in ("", ":", "：")
)
"""How a totals row is labelled (exactly, in any one cell of the row)."""


@dataclass
class Structure:
    """The data rows to read, the problems found, and the blank cells those explain."""

    body: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    explained: set[tuple[int, str]] = field(default_factory=set)
    """(row, column label) of cells that read as blank because of a reported problem."""

    def without_explained(self, problems: list[Problem]) -> list[Problem]:
        """``problems`` less the blank-cell errors these problems already explain."""
        return [
            p
            for p in problems
            if p.code != "required_blank" or (p.row or 0, p.column) not in self.explained
        ]


def sheet_structure(
    sheet: RawSheet,
    ledger: Ledger,
    header_row: int,
    mapping: dict[str, int],
    columns: dict[str, str],
    body: pd.DataFrame,
    parse_date: Callable[[str], object],
) -> Structure:
    """Cut ``body`` (rows with content under the header) to the data rows, reporting why."""
    structure = Structure(body)
    second_table = _cut_second_table(structure, sheet, ledger, header_row, mapping)
    skipped = _skip_totals_rows(structure, sheet, ledger, mapping, parse_date)
    labels = {sheet.column_numbers[position]: columns[name] for name, position in mapping.items()}
    if sheet.layout is not None:
        last_row = sheet.layout.last_row if second_table is None else second_table
        rows = range(header_row + 2, last_row + 1)
        _cells_without_values(structure, sheet, sheet.layout, rows, skipped, labels)
        _merged_cells(structure, sheet, sheet.layout.merged, labels)
        _hidden_rows(structure, sheet, sheet.layout)
    if structure.body.empty and ledger.name == "submissions":
        structure.problems.append(Problem("no_items", "warning", sheet=sheet.name))
    return structure


def _cut_second_table(
    structure: Structure, sheet: RawSheet, ledger: Ledger, header_row: int, mapping: dict
) -> int | None:
    """Stop at a row that repeats the header (a second table); the last Excel row read."""
    body = structure.body

    def spellings(name: str) -> set[object]:
        spec = ledger.field(name)
        written = sheet.cells.iat[header_row, mapping[name]]
        return {written, spec.header_zh, spec.name, *spec.aliases}

    # A repeated header repeats every required column's header: look where the first does.
    first_required = next(f.name for f in ledger.fields if f.required and f.name in mapping)
    candidates = body.index[body[mapping[first_required]].isin(spellings(first_required))]
    repeated = [
        index
        for index in candidates
        if sum(body.at[index, position] in spellings(name) for name, position in mapping.items())
        >= 2
    ]
    if not repeated:
        return None
    first = int(repeated[0])
    structure.problems.append(
        Problem(
            "second_table",
            sheet=sheet.name,
            row=first + 1,
            params={"row": first + 1, "header_row": header_row + 1},
        )
    )
    structure.body = body[body.index < first]
    return first


def _skip_totals_rows(
    structure: Structure,
    sheet: RawSheet,
    ledger: Ledger,
    mapping: dict,
    parse_date: Callable[[str], object],
) -> set[int]:
    """Drop rows labelled 合计/总计/Total… whose date is not a date: not items, not guessed."""
    body = structure.body
    if body.empty:
        return set()
    words = pa.array(sorted(TOTAL_WORDS))
    in_rows = np.zeros(len(sheet.cells), dtype=bool)
    for position in sheet.cells.columns:
        found = pc.is_in(arrow_text(sheet.cells[position]), value_set=words)
        in_rows |= pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    if not in_rows.any():
        return set()
    rows = sheet.cells.loc[body.index]
    labelled = pd.Series(in_rows, index=sheet.cells.index).loc[body.index]
    dated = next(mapping.get(f.name) for f in ledger.fields if f.kind == "date" and f.required)
    skipped = set()
    for index in labelled.index[labelled]:
        text = body.at[index, dated] if dated is not None else None
        if isinstance(text, str) and parse_date(text) is not None:
            continue  # a dated row is an item, whatever else it says
        label = next(v for v in rows.loc[index] if v in TOTAL_WORDS)
        structure.problems.append(
            Problem(
                "totals_row",
                "note",
                sheet=sheet.name,
                row=int(index) + 1,
                value=label,
                params={"label": label},
            )
        )
        skipped.add(int(index) + 1)
    structure.body = body[~(body.index + 1).isin(skipped)]
    return skipped


def _cells_without_values(
    structure: Structure,
    sheet: RawSheet,
    layout: SheetLayout,
    rows: range,
    skipped: set[int],
    labels: dict[int, str],
) -> None:
    """Formulas the file holds no value for, and cells showing an Excel error (#NAME?…):
    a reader gives both as blank, which would silently drop or misread the cell."""
    found = {cell: ("formula_without_value", "") for cell in layout.uncalculated}
    found |= {cell: ("excel_error", text) for cell, text in layout.error_values.items()}
    for (row, column), (code, text) in sorted(found.items()):
        if column in labels and row in rows and row not in skipped:
            structure.problems.append(
                Problem(
                    code,
                    sheet=sheet.name,
                    row=row,
                    column=labels[column],
                    value=text,
                    params={"value": text},
                )
            )
            structure.explained.add((row, labels[column]))


def _merged_cells(
    structure: Structure, sheet: RawSheet, merged: list[CellRange], labels: dict[int, str]
) -> None:
    """A merged range reaching into the data: every cell but its first reads as blank."""
    data_rows = np.asarray(structure.body.index, dtype=np.int64) + 1
    for cells in merged:
        start, stop = np.searchsorted(data_rows, [cells.first_row, cells.last_row + 1])
        rows = data_rows[start:stop]
        hit = [c for c in labels if cells.first_column <= c <= cells.last_column]
        covered = {
            (int(row), column)
            for row in rows
            for column in hit
            if (row, column) != (cells.first_row, cells.first_column)
        }
        if not covered:
            continue
        ref = (
            f"{column_letter(cells.first_column)}{cells.first_row}:"
            f"{column_letter(cells.last_column)}{cells.last_row}"
        )
        top = labels.get(cells.first_column, column_letter(cells.first_column))
        structure.problems.append(
            Problem(
                "merged_cells",
                sheet=sheet.name,
                row=cells.first_row,
                column=top,
                params={"range": ref},
            )
        )
        structure.explained |= {(row, labels[column]) for row, column in covered}


def _hidden_rows(structure: Structure, sheet: RawSheet, layout: SheetLayout) -> None:
    """Rows hidden in Excel still count; say which, so nobody thinks hiding deleted them."""
    if not layout.hidden_rows:
        return
    ranges = sorted(layout.hidden_rows)
    starts = np.array([first for first, _ in ranges])
    ends = np.array([last for _, last in ranges])
    data_rows = np.asarray(structure.body.index, dtype=np.int64) + 1
    slot = np.searchsorted(starts, data_rows, side="right") - 1
    hidden = data_rows[(slot >= 0) & (data_rows <= ends[np.maximum(slot, 0)])]
    if len(hidden):
        structure.problems.append(
            Problem(
                "hidden_rows",
                "warning",
                sheet=sheet.name,
                row=int(hidden[0]),
                params={"rows": _row_list(hidden.tolist()), "count": len(hidden)},
            )
        )


def _row_list(rows: list[int], most: int = 20) -> str:
    """``3, 5–9, 12`` for rows 3, 5, 6, 7, 8, 9, 12 (at most ``most`` runs, then …)."""
    runs: list[list[int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    shown = [f"{a}" if a == b else f"{a}–{b}" for a, b in runs[:most]]
    return ", ".join(shown) + (" …" if len(runs) > most else "")
