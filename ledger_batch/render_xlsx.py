"""Stage 6a, render workbooks: a Report as an xlsx an office can print, sign and file.

Every section becomes a sheet with a title, a frozen header, an autofilter, widths that fit
Chinese text, number formats by column kind, totals, and native bar charts. The payout
register follows ``templates/payout_register.toml.j2`` (column order, labels, header
style, sign-off block) and prints on A4 landscape. Text from ledgers is always written as
text: never a formula or a link.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from copy import copy
from decimal import Decimal
from functools import partial
from pathlib import Path

from openpyxl import LXML, Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ConfigDict

from ledger_batch.labels import INTEGER_KINDS
from ledger_batch.reports import REGISTER_FIELDS, Chart, Column, Report, Section, Table
from ledger_batch.templating import environment
from ledger_batch.xlsx_rows import StreamedBodies, TableBody, save_workbook

NUMBER_FORMATS = {
    "int": "0",
    "score": "0",
    "points": "General",  # 2.5 and 90 as written; "0.##" prints "90." in Excel
    "money": "#,##0.00",
    "coef": "0.0",
    "date": "yyyy-mm-dd",
    "pct": "0.0",
    "text": "@",
}
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
EXCEL_TEXT_LIMIT = 32_767
HEADER_ROW = 3


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HeaderStyle(_Strict):
    """Header row style of the payout register."""

    fill: str = "DDEBF7"
    font_color: str = "000000"
    bold: bool = True
    font_size: float = 10
    row_height: float = 32


class BodyStyle(_Strict):
    """Data rows of the payout register."""

    font_size: float = 10
    row_height: float = 22


class RegisterColumn(_Strict):
    """One printed column."""

    field: str
    label_zh: str
    label_en: str
    width: float = 8


class SignOff(_Strict):
    """The block under the register where people sign."""

    labels_zh: list[str]
    labels_en: list[str]
    date_label_zh: str = "日期"
    date_label_en: str = "Date"


class RegisterLayout(_Strict):
    """``templates/payout_register.toml.j2``, validated."""

    title_zh: str
    title_en: str
    unit_line_zh: str = ""
    unit_line_en: str = ""
    header_style: HeaderStyle = HeaderStyle()
    body_style: BodyStyle = BodyStyle()
    columns: list[RegisterColumn]
    sign_off: SignOff


def load_register_layout(templates_dir: Path | None, company: str, year: str) -> RegisterLayout:
    """The register layout (a workspace's own copy wins), with unknown fields refused."""
    text = (
        environment(templates_dir)
        .get_template("payout_register.toml.j2")
        .render(company=company, year=year)
    )
    layout = RegisterLayout.model_validate(tomllib.loads(text))
    unknown = [c.field for c in layout.columns if c.field not in REGISTER_FIELDS]
    if unknown:
        raise ValueError(f"payout_register.toml.j2: unknown field(s) {unknown}")
    return layout


def apply_register_layout(report: Report, layout: RegisterLayout) -> None:
    """Reorder and relabel the register's columns as the layout says (for every renderer)."""
    for section in report.sections:
        if section.form != "payout_register" or section.table is None:
            continue
        table = section.table
        position = {column.key: index for index, column in enumerate(table.columns)}
        picks = [position[c.field] for c in layout.columns]
        labels = [c.label_zh if report.lang == "zh" else c.label_en for c in layout.columns]
        section.table = Table(
            [
                Column(table.columns[i].key, text, table.columns[i].kind)
                for i, text in zip(picks, labels, strict=True)
            ],
            [[row[i] for i in picks] for row in table.rows],
            [table.totals[i] for i in picks] if table.totals else None,
        )
        section.title = layout.title_zh if report.lang == "zh" else layout.title_en


def safe_text(value: str) -> str:
    """Text as it may be stored in a cell: no control characters, within Excel's limit.

    Excel counts the limit in UTF-16 units, so a character outside the BMP (𠮷) counts twice.
    """
    cleaned = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if len(cleaned) <= EXCEL_TEXT_LIMIT // 2:  # within the limit even if every one counts twice
        return cleaned
    units = cleaned.encode("utf-16-le")
    if len(units) <= 2 * EXCEL_TEXT_LIMIT:
        return cleaned
    return units[: 2 * EXCEL_TEXT_LIMIT].decode("utf-16-le", errors="ignore")


def put(cell: Cell, value: object, kind: str = "text", style: StyleArray | None = None) -> None:
    """Write a value; strings always as plain text (never a formula or hyperlink).

    With ``style`` (from ``CellStyles``) the cell takes that named style, which carries the
    number format; without, the number format of ``kind`` is set on the cell itself.
    """
    if style is not None:
        # What ``cell.style = name`` stores, without openpyxl searching every named style
        # by name for each cell (a fifth of a group payout's time).
        cell._style = copy(style)
    if value is None or value == "":
        cell.value = None
        return
    if isinstance(value, Decimal):
        cell.value = int(value) if kind in INTEGER_KINDS else float(value)
    elif isinstance(value, str):
        # Stored as openpyxl's value setter stores text once it has checked it; safe_text has
        # already removed what that check refuses and cut the text to Excel's limit.
        cell._value = safe_text(value)
        cell.data_type = "s"
        return
    else:
        cell.value = value
    if style is None:
        cell.number_format = NUMBER_FORMATS.get(kind, "General")


class CellStyles:
    """Named cell styles of one workbook, registered once and shared by every cell.

    Giving each cell its own Font/Border/Alignment objects costs openpyxl a hash of every
    object per cell; a named style is registered once, and each cell takes its style array.
    """

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self.arrays: dict[str, StyleArray] = {}
        self.bodies = StreamedBodies()
        """Table bodies in these styles, written into their sheets when the workbook is saved."""

    def header(
        self, fill: str = "DDEBF7", size: float = 11, bold: bool = True, color: str = "000000"
    ) -> StyleArray:
        """The header row's style."""
        name = f"lb-header-{fill}-{size}-{bold}-{color}"
        if name not in self.arrays:
            self._add(
                NamedStyle(
                    name=name,
                    font=Font(bold=bold, size=size, color=color),
                    fill=PatternFill("solid", fgColor=fill),
                    border=_BORDER,
                    alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
                )
            )
        return self.arrays[name]

    def body(
        self, kind: str, total: bool = False, wrap: bool = False, size: float = 11
    ) -> StyleArray:
        """A data cell's style by column kind (number format), totals in bold."""
        name = f"lb-{kind}-{total}-{wrap}-{size}"
        if name not in self.arrays:
            self._add(
                NamedStyle(
                    name=name,
                    font=Font(bold=total, size=size),
                    border=_BORDER,
                    number_format=NUMBER_FORMATS.get(kind, "General")
                    if kind != "text"
                    else "General",
                    alignment=Alignment(vertical="center", wrap_text=wrap),
                )
            )
        return self.arrays[name]

    def _add(self, style: NamedStyle) -> None:
        self.workbook.add_named_style(style)
        self.arrays[style.name] = style.as_tuple()


def display_width(value: object) -> int:
    """How many character widths a value takes (CJK counts double)."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wider_than(value: object, width: int) -> bool:
    """Whether ``value`` takes more than ``width`` character widths; short text (at most two
    widths a character) is answered without measuring each character."""
    text = "" if value is None else str(value)
    return len(text) * 2 > width and display_width(text) > width


def sheet_title(text: str, taken: set[str]) -> str:
    """A legal, unique sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = _SHEET_NAME_BAD.sub(" ", text)[:31] or "Sheet"
    name, counter = base, 2
    while name in taken:
        name = f"{base[:28]}-{counter}"
        counter += 1
    taken.add(name)
    return name


def write_workbook(report: Report, path: Path, layout: RegisterLayout | None = None) -> None:
    """Write ``report`` as an xlsx at ``path``."""
    workbook, bodies = build_workbook(report, layout)
    if LXML:
        save_workbook(workbook, path, bodies)
    else:
        write_cells(workbook, bodies)
        workbook.save(path)


def build_workbook(
    report: Report, layout: RegisterLayout | None = None
) -> tuple[Workbook, StreamedBodies]:
    """The workbook of ``report``, with its table bodies apart, to be written as it is saved."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    styles = CellStyles(workbook)
    for section in report.sections:
        sheet = workbook.create_sheet(sheet_title(section.title, taken))
        if section.form == "payout_register" and layout is not None:
            _write_register(sheet, report, section, layout, styles)
        else:
            _write_section(sheet, report, section, styles)
    return workbook, styles.bodies


def write_cells(workbook: Workbook, bodies: StreamedBodies) -> None:
    """Table bodies as openpyxl cells, with the styles they take when streamed.

    How a report is saved when openpyxl writes without lxml (``OPENPYXL_LXML=False``), since
    streaming puts rows into lxml's output; and what the streamed rows are tested against.
    """
    for title, sheet_bodies in bodies.by_sheet.items():
        sheet = workbook[title]
        for body in sheet_bodies:
            for row_number, values in enumerate(body.rows, start=body.first_row):
                for column, (kind, value) in enumerate(zip(body.kinds, values, strict=True), 1):
                    style = body.style_of(kind, body.wrapped(kind, value))
                    put(sheet.cell(row_number, column), value, kind, style)


def _heading(sheet: Worksheet, report: Report, section: Section, width: int) -> None:
    zh = report.lang == "zh"
    period = f"（{report.period_label}）" if zh else f" ({report.period_label})"
    title = f"{report.company} {report.title} · {section.title}{period}"
    if report.recipient:
        title += f" · {report.recipient}"
    put(sheet.cell(1, 1), title)
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(width, 1))
    note = ("；" if zh else "; ").join([*report.notices, *section.sentences, report.generated_at])
    put(sheet.cell(2, 1), note)
    sheet.cell(2, 1).alignment = Alignment(wrap_text=False)
    if report.notices:
        sheet.cell(2, 1).font = Font(bold=True, color="C00000")


def _write_section(sheet: Worksheet, report: Report, section: Section, styles: CellStyles) -> None:
    table = section.table
    width = len(table.columns) if table else 2
    _heading(sheet, report, section, width)
    if table is not None:
        _write_table(sheet, table, HEADER_ROW, styles)
        sheet.freeze_panes = f"A{HEADER_ROW + 1}"
        if table.rows:
            end = get_column_letter(len(table.columns))
            sheet.auto_filter.ref = f"A{HEADER_ROW}:{end}{HEADER_ROW + len(table.rows)}"
        _fit_widths(sheet, table)
    _write_charts(sheet, section.charts, first_column=width + 2, top_row=HEADER_ROW)
    _print_setup(sheet, HEADER_ROW, landscape=width > 6)


def _write_table(
    sheet: Worksheet,
    table: Table,
    header_row: int,
    styles: CellStyles,
    header_style: StyleArray | None = None,
    size: float = 11,
) -> int:
    """The header row, then the rows and totals as bodies streamed when the workbook is saved;
    the number of the table's last row."""
    header = header_style if header_style is not None else styles.header()
    for index, column in enumerate(table.columns, start=1):
        put(sheet.cell(header_row, index), column.label, style=header)
    kinds = [column.kind for column in table.columns]
    for first_row, rows, total in (
        (header_row + 1, table.rows, False),
        (
            header_row + 1 + len(table.rows),
            [table.totals] if table.totals is not None else [],
            True,
        ),
    ):
        styles.bodies.add(
            sheet,
            TableBody(
                first_row,
                rows,
                kinds,
                style_of=partial(_body_style, styles, total=total, size=size),
                wraps=_wraps,
                clean_text=safe_text,
            ),
        )
    return header_row + len(table.rows) + (table.totals is not None)


def _body_style(styles: CellStyles, kind: str, wrap: bool, total: bool, size: float) -> StyleArray:
    return styles.body(kind, total=total, wrap=wrap, size=size)


def _wraps(value: object) -> bool:
    """Whether a text cell wraps: text wider than 40 character widths."""
    return wider_than(value, 40)


def _fit_widths(sheet: Worksheet, table: Table) -> None:
    for index, column in enumerate(table.columns, start=1):
        values = [row[index - 1] for row in table.rows[:500]]
        widest = max([display_width(column.label), *(display_width(v) for v in values)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 6), 50)


def _print_setup(sheet: Worksheet, header_row: int, landscape: bool = True) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.print_options.gridLines = True
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


def _write_charts(sheet: Worksheet, charts: list[Chart], first_column: int, top_row: int) -> None:
    row = top_row
    for chart in charts:
        if not chart.bars:
            continue
        row = _write_chart(sheet, chart, first_column, row) + 2


def _write_chart(sheet: Worksheet, chart: Chart, column: int, top: int) -> int:
    put(sheet.cell(top, column), chart.title)
    put(sheet.cell(top, column + 1), chart.value_label)
    for offset, (_value, name) in enumerate(chart.thresholds, start=2):
        put(sheet.cell(top, column + offset), name)
    for index, bar in enumerate(chart.bars, start=1):
        put(sheet.cell(top + index, column), bar.label)
        sheet.cell(top + index, column + 1).value = bar.value
        for offset, (threshold, _name) in enumerate(chart.thresholds, start=2):
            sheet.cell(top + index, column + offset).value = threshold
    last = top + len(chart.bars)
    bars = BarChart()
    bars.type = "col"
    bars.title = chart.title
    bars.y_axis.title = chart.value_label
    bars.add_data(
        Reference(sheet, min_col=column + 1, min_row=top, max_row=last), titles_from_data=True
    )
    bars.set_categories(Reference(sheet, min_col=column, min_row=top + 1, max_row=last))
    if chart.thresholds:
        lines = LineChart()
        lines.add_data(
            Reference(
                sheet,
                min_col=column + 2,
                max_col=column + 1 + len(chart.thresholds),
                min_row=top,
                max_row=last,
            ),
            titles_from_data=True,
        )
        bars += lines
    bars.width, bars.height = max(12, len(chart.bars) * 0.9), 8
    sheet.add_chart(bars, f"{get_column_letter(column + 2 + len(chart.thresholds))}{top}")
    return max(last, top + 16)


def _write_register(
    sheet: Worksheet,
    report: Report,
    section: Section,
    layout: RegisterLayout,
    styles: CellStyles,
) -> None:
    table = section.table
    assert table is not None
    zh = report.lang == "zh"
    width = len(table.columns)
    put(sheet.cell(1, 1), section.title)
    sheet.cell(1, 1).font = Font(bold=True, size=16)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    put(
        sheet.cell(2, 1),
        ("；" if zh else "; ").join(
            [*report.notices, layout.unit_line_zh if zh else layout.unit_line_en]
        ),
    )
    style = layout.header_style
    header = styles.header(style.fill, style.font_size, style.bold, style.font_color)
    last = _write_table(sheet, table, HEADER_ROW, styles, header, layout.body_style.font_size)
    for index in range(1, width + 1):
        sheet.column_dimensions[get_column_letter(index)].width = layout.columns[index - 1].width
    sheet.row_dimensions[HEADER_ROW].height = style.row_height
    for row in range(HEADER_ROW + 1, last + 1):
        sheet.row_dimensions[row].height = layout.body_style.row_height
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(width)}{last - 1}"
    _sign_off(sheet, layout, last + 2, width, zh)
    _print_setup(sheet, HEADER_ROW, landscape=True)
    sheet.print_title_rows = f"1:{HEADER_ROW}"


def _sign_off(sheet: Worksheet, layout: RegisterLayout, row: int, width: int, zh: bool) -> None:
    labels = layout.sign_off.labels_zh if zh else layout.sign_off.labels_en
    date_label = layout.sign_off.date_label_zh if zh else layout.sign_off.date_label_en
    span = max(width // max(len(labels), 1), 2)
    for index, text in enumerate(labels):
        column = 1 + index * span
        put(sheet.cell(row, column), f"{text}：" if zh else f"{text}:")
        put(
            sheet.cell(row + 1, column),
            f"{date_label}：     年    月    日" if zh else f"{date_label}: ____-__-__",
        )
        sheet.cell(row, column).font = Font(bold=True)
