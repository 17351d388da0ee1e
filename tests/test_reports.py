"""The reports of SPEC §5 as real files: workbooks read back with openpyxl, HTML parsed and
rendered in headless Chromium, personal statements, workspace template overrides, English.

One workspace per module: a roster of four liaisons and twelve monthly workbooks (2025),
ingested and reported through the real CLI. Every expected figure is worked out by hand
below with the default rules of SPEC §2 and docs/decisions.md: base = min(5 × B, 100);
−2 per 缺席; −5 per assessable month without a counted item; −10 per untrue item and per
信息不实 notice without 编号; −3 per 违反规章; ± adjustments; half-up rounding; <60 → 0,
60–70 → 0.7, 71–80 → 0.8, 81–90 → 0.9, ≥91 → 1.0; amount = 1000 × coefficient.

The year, month by month (items are 情况 unless said otherwise; rows start at Excel row 3,
under a title row and the header row):

- 张三 (007, 综采队): 2 items every month → B 24. His January first item (row 3, so
  202501-001) is a 问题, adopted, tracked to 整改落实 in March and 督查验收 合格 in May. No
  deductions.
- 李四 (0123, 综采队): 2 items a month Jan–Jun, 1 a month Jul–Dec → B 18; his first item
  in February is a 问题 at 调查核实 (open); in May an extra item marked 是否属实=否 (row 3,
  untrue, −10, not counted); 缺席 at the Q1 meeting (March, row 4) −2; 请假 at Q2 (free);
  +2.5 quality adjustment in November.
- 王芳 (2001, 机电队): 1 item every month except August → B 11; her March item is adopted.
- 赵六 (3001, 机关): 1 item a month Jan–Apr and Jul–Dec, none in May, eight hostile 问题
  items in June (formula, @, +, control characters, a bare URL, script, img onerror,
  javascript:) → B 18; 缺席 at Q2 (June, row 6) −2; 信息不实 notice without 编号 in
  September −10; 违反规章 in October −3; −0.5 adjustment in October whose reason is a
  formula-looking text.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import openpyxl
import pytest
from click.testing import CliRunner, Result
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart
from openpyxl.worksheet.worksheet import Worksheet
from playwright.sync_api import Browser, sync_playwright

from ledger_batch.cli import cli
from ledger_batch.workspace import Workspace
from tests.ledgers import item, keep_formulas_as_text, person, write_workbook

YEAR = 2025
LIAISONS = {
    "007": ("张三", "综采队"),
    "0123": ("李四", "综采队"),
    "2001": ("王芳", "机电队"),
    "3001": ("赵六", "机关"),
}
HOSTILE = {
    "formula": '=HYPERLINK("http://x/?"&A1)',
    "at": "@SUM(1)",
    "plus": "+1+1",
    "control": "控制字符\x01测试\x1f结束",
    "url": "http://evil.example/",
    "script": "<script>alert(1)</script>",
    "img": "<img src=x onerror=alert(1)>",
    "javascript": "javascript:alert(1)",
}
ADJUSTMENT_REASON = '=HYPERLINK("http://x/","报送格式不规范")'
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHROMIUM = Path("/usr/bin/chromium")


# --- building the year ------------------------------------------------------------------


def _roster() -> list[dict[str, object]]:
    return [
        person("007", "张三", "综采队", 岗位="班组长"),
        person("0123", "李四", "综采队"),
        person("2001", "王芳", "机电队", 性别="女"),
        person("3001", "赵六", "机关"),
    ]


def _filler(month: int, employee_id: str, count: int) -> list[dict[str, object]]:
    name, unit = LIAISONS[employee_id]
    return [
        item(
            f"{YEAR}-{month:02d}-{5 + 3 * k:02d}",
            name,
            f"{name}{month}月第{k + 1}条：井下{unit}作业情况",
            工号=employee_id,
            单位=unit,
            信息类型="情况",
        )
        for k in range(count)
    ]


def _submissions(month: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    if month == 5:
        rows.append(
            item(
                "2025-05-02",
                "李四",
                "李四5月：传言工资下调（经查不实）",
                工号="0123",
                单位="综采队",
                信息类型="情况",
                是否属实="否",
            )
        )
    zhang = _filler(month, "007", 2)
    if month == 1:
        zhang[0].update(信息类型="问题", 是否采纳="是", 办理状态="反映问题")
    li = _filler(month, "0123", 2 if month <= 6 else 1)
    if month == 2:
        li[0].update(信息类型="问题", 办理状态="调查核实")
    wang = _filler(month, "2001", 0 if month == 8 else 1)
    if month == 3:
        wang[0].update(是否采纳="是")
    zhao = _filler(month, "3001", 0 if month in (5, 6) else 1)
    if month == 6:
        zhao = [
            item(
                "2025-06-10", "赵六", excel_escaped(text), 工号="3001", 单位="机关", 信息类型="问题"
            )
            for text in HOSTILE.values()
        ]
    return rows + zhang + li + wang + zhao


def _attendance(month: int) -> list[dict[str, object]]:
    if month % 3:
        return []
    marks = {"007": "出席", "0123": "出席", "2001": "出席", "3001": "出席"}
    if month == 3:
        marks["0123"] = "缺席"
    if month == 6:
        marks.update({"0123": "请假", "3001": "缺席"})
    return [
        {
            "会议日期": f"{YEAR}-{month:02d}-20",
            "会议名称": f"第{month // 3}季度联络员会议",
            "会议类型": "季度例会",
            "姓名": LIAISONS[employee_id][0],
            "工号": employee_id,
            "出席情况": mark,
        }
        for employee_id, mark in marks.items()
    ]


def _violations(month: int) -> list[dict[str, object]]:
    notices = {
        9: ("信息不实", "在班组散布不实消息", "通报〔2025〕9号"),
        10: ("违反规章", "未按规定佩戴安全帽", "通报〔2025〕10号"),
    }
    if month not in notices:
        return []
    kind, reason, number = notices[month]
    return [
        {
            "日期": f"{YEAR}-{month:02d}-15",
            "姓名": "赵六",
            "工号": "3001",
            "类型": kind,
            "事由": reason,
            "通报文号": number,
            "编号": None,
        }
    ]


def _adjustments(month: int) -> list[dict[str, object]]:
    rows = {
        10: ("赵六", "3001", "-0.5", ADJUSTMENT_REASON),
        11: ("李四", "0123", "2.5", "建议质量高，被采纳推广"),
    }
    if month not in rows:
        return []
    name, employee_id, points, reason = rows[month]
    return [
        {
            "日期": f"{YEAR}-{month:02d}-25",
            "姓名": name,
            "工号": employee_id,
            "分值": points,
            "理由": reason,
        }
    ]


def _tracking(month: int) -> list[dict[str, object]]:
    updates = {
        3: ("2025-03-18", "整改落实", None, "已安排整改"),
        5: ("2025-05-20", "督查验收", "合格", "复查合格"),
    }
    if month not in updates:
        return []
    day, stage, inspection, note = updates[month]
    return [
        {"编号": "202501-001", "日期": day, "办理状态": stage, "复查结果": inspection, "说明": note}
    ]


def _month_workbook(path: Path, month: int) -> None:
    sheets = {
        "信息报送": _submissions(month),
        "闭环跟踪": _tracking(month),
        "会议考勤": _attendance(month),
        "违规通报": _violations(month),
        "质量加减分": _adjustments(month),
    }
    write_workbook(path, {name: rows for name, rows in sheets.items() if rows})
    _keep_as_text(path)


def excel_escaped(text: str) -> str:
    """Control characters as Excel itself stores them in a cell (``_x0001_``)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"_x{ord(m.group()):04X}_", text)


def _keep_as_text(path: Path) -> None:
    """Cells typed as text in Excel ('=…), which openpyxl would otherwise store as formulas."""
    keep_formulas_as_text(path)


# --- the workspace and its reports ------------------------------------------------------


def run_cli(root: Path, *args: str) -> Result:
    """``ledger-batch -w ROOT ARGS…`` in-process; fails the test on a non-zero exit."""
    result = CliRunner().invoke(cli, ["-w", str(root), *args])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def new_workspace(root: Path) -> Workspace:
    """A workspace holding the roster and the twelve months of the module docstring."""
    workspace, _ = Workspace.create(root)
    workspace.config_path.write_text("[limits]\nsettle_seconds = 0\n", encoding="utf-8")
    inbox = workspace.folder("inbox")
    write_workbook(inbox / f"{YEAR} 人员名册.xlsx", {"人员名册": _roster()})
    for month in range(1, 13):
        _month_workbook(inbox / f"{YEAR}-{month:02d}.xlsx", month)
    result = run_cli(workspace.root, "ingest")
    assert result.output.count("✔") == 13, result.output
    return workspace


@dataclass
class Outputs:
    """The report files of one language: stems of month, quarter and payout (``.xlsx`` and
    ``.html`` beside each other) and the folder of personal statements."""

    month: Path
    quarter: Path
    payout: Path
    statements: Path

    def reports(self) -> dict[str, Path]:
        return {"month": self.month, "quarter": self.quarter, "payout": self.payout}

    def statement(self, employee_id: str) -> Path:
        return self.statements / f"{employee_id} {LIAISONS[employee_id][0]}"

    def workbooks(self) -> list[Path]:
        return [
            *(s.with_suffix(".xlsx") for s in self.reports().values()),
            *sorted(self.statements.glob("*.xlsx")),
        ]

    def pages(self) -> list[Path]:
        return [
            *(s.with_suffix(".html") for s in self.reports().values()),
            *sorted(self.statements.glob("*.html")),
        ]


def publish_all(root: Path, lang: str) -> Outputs:
    """Run month, quarter, payout and statements through the CLI in ``lang``."""
    for args in (
        ("month", "2025-06"),
        ("quarter", "2025-Q2"),
        ("payout", "2025"),
        ("statements", "2025"),
    ):
        run_cli(root, "--lang", lang, *args)
    folder = root / "reports" / str(YEAR)
    zh = lang == "zh"
    return Outputs(
        folder / ("2025-06 月考核" if zh else "2025-06 monthly"),
        folder / ("2025-Q2 季评价" if zh else "2025-Q2 quarterly"),
        folder / ("2025 年兑现" if zh else "2025 payout"),
        folder / ("个人考核通知单" if zh else "statements"),
    )


@pytest.fixture(scope="module")
def year_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_workspace(tmp_path_factory.mktemp("reports") / "ws").root


@pytest.fixture(scope="module")
def zh(year_root: Path) -> Outputs:
    return publish_all(year_root, "zh")


@pytest.fixture(scope="module")
def en(year_root: Path, zh: Outputs) -> Outputs:
    return publish_all(year_root, "en")


# --- reading workbooks and pages back ---------------------------------------------------

HEADER_ROW = 3
CJK = re.compile(r"[\u3400-\u9fff]")


def load(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path.with_suffix(".xlsx"))


def read_table(sheet: Worksheet) -> tuple[list[str], list[dict[str, Cell]]]:
    """The header (row 3) and the data rows under it, each as header → cell."""
    headers: list[str] = []
    for cell in sheet[HEADER_ROW]:
        if cell.value is None:
            break
        headers.append(str(cell.value))
    rows = []
    for number in range(HEADER_ROW + 1, sheet.max_row + 1):
        cells = [sheet.cell(number, column) for column in range(1, len(headers) + 1)]
        if all(cell.value is None for cell in cells):
            break
        rows.append(dict(zip(headers, cells, strict=True)))
    return headers, rows


def values(row: dict[str, Cell], *headers: str) -> tuple[object, ...]:
    return tuple(row[header].value for header in headers)


def all_cells(workbook: openpyxl.Workbook) -> Iterator[Cell]:
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            yield from (cell for cell in row if cell.value is not None)


def workbook_text(path: Path) -> str:
    return "\n".join(str(cell.value) for cell in all_cells(load(path)))


_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}


class Page(HTMLParser):
    """An HTML report read with the standard library: its elements, its text, and the data
    tables under each ``<h2>``."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []
        self.tables: dict[str, list[list[list[str]]]] = {}
        self.headings: list[str] = []
        self._stack: list[str] = []
        self._table: list[list[str]] | None = None
        self._in_cell = False
        self.feed(path.with_suffix(".html").read_text(encoding="utf-8"))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag in _VOID:
            return
        self._stack.append(tag)
        if tag == "h2":
            self.headings.append("")
        elif tag == "table" and "data" in (attributes.get("class") or "").split():
            self._table = []
            self.tables.setdefault(self.headings[-1], []).append(self._table)
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._table[-1].append("")
            self._in_cell = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or tag not in self._stack:
            return
        while self._stack.pop() != tag:
            pass
        if tag in ("td", "th"):
            self._in_cell = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self.texts.append((tuple(self._stack), data))
        if "h2" in self._stack:
            self.headings[-1] += data
        if self._in_cell and self._table is not None:
            self._table[-1][-1] += data

    @property
    def text(self) -> str:
        return "".join(text for _, text in self.texts)

    def text_in(self, *tags: str) -> list[str]:
        """Text of every element named in ``tags`` (h1, th …), one string per text node."""
        return [text.strip() for path, text in self.texts if set(path) & set(tags) and text.strip()]

    def table(self, heading: str) -> list[list[str]]:
        """The data table under the ``<h2>`` whose text is ``heading`` (cells stripped)."""
        return [[cell.strip() for cell in row] for row in self.tables[heading][0]]


# --- the payout register ----------------------------------------------------------------


class Registered(NamedTuple):
    """One register row as worked out by hand (deductions shown as positive points)."""

    unit: str
    name: str
    items_count: int
    base_score: float
    absence_points: float
    missing_month_points: float
    untrue_points: float
    violation_points: float
    adjustment_points: float
    final_score: int
    coefficient: float
    allowance_amount: float
    capitals: str


REGISTER = {
    # 赵六: B = 4 (Jan–Apr) + 8 (Jun) + 6 (Jul–Dec) = 18 → base 90; −2 缺席 (Q2), −5 May not
    #   reported, −10 信息不实 notice without 编号, −3 违反规章, −0.5 adjustment:
    #   90 − 20 − 0.5 = 69.5 → 70 (half up) → 0.7 → 700.00
    "3001": Registered("机关", "赵六", 18, 90, 2, 5, 10, 3, -0.5, 70, 0.7, 700, "柒佰元整"),
    # 王芳: B = 11 (no item in August) → 55; −5 August → 50 → tier 0 → 0.00
    "2001": Registered("机电队", "王芳", 11, 55, 0, 5, 0, 0, 0, 50, 0.0, 0, "零元整"),
    # 张三: B = 2 × 12 = 24 → min(120, 100) = 100; nothing else → 100 → 1.0 → 1000.00
    "007": Registered("综采队", "张三", 24, 100, 0, 0, 0, 0, 0, 100, 1.0, 1000, "壹仟元整"),
    # 李四: B = 2 × 6 + 1 × 6 = 18 (May's untrue item not counted) → 90; −2 缺席 (Q1),
    #   −10 untrue item, +2.5 adjustment: 90 − 12 + 2.5 = 80.5 → 81 (half up; banker's
    #   rounding would give 80 and tier 0.8) → 0.9 → 900.00
    "0123": Registered("综采队", "李四", 18, 90, 2, 0, 10, 0, 2.5, 81, 0.9, 900, "玖佰元整"),
}
# Totals: items 18 + 11 + 24 + 18 = 71; amount 700 + 0 + 1000 + 900 = 2600.00 → 贰仟陆佰元整
REGISTER_HEADERS = [
    "单位",
    "姓名",
    "工号",
    "报送条数",
    "基本得分",
    "缺会扣分",
    "未报扣分",
    "不实扣分",
    "违规扣分",
    "质量加减分",
    "最终得分",
    "系数",
    "津贴基数",
    "发放金额",
    "金额（大写）",
    "签字",
    "备注",
]
POINT_HEADERS = ["基本得分", "缺会扣分", "未报扣分", "不实扣分", "违规扣分", "质量加减分"]


def register_sheet(outputs: Outputs) -> Worksheet:
    return load(outputs.payout).worksheets[0]


def test_the_register_holds_the_figures_worked_out_by_hand(zh: Outputs) -> None:
    sheet = register_sheet(zh)
    assert sheet.title == "煤矿公司2025年度经理联络员津贴发放表"
    assert sheet["A1"].value == "煤矿公司2025年度经理联络员津贴发放表"
    headers, rows = read_table(sheet)
    assert headers == REGISTER_HEADERS
    *people, totals = rows
    assert {row["工号"].value: values(row, *headers[:2], *headers[3:15]) for row in people} == {
        employee_id: (
            e.unit,
            e.name,
            e.items_count,
            e.base_score,
            e.absence_points,
            e.missing_month_points,
            e.untrue_points,
            e.violation_points,
            e.adjustment_points,
            e.final_score,
            e.coefficient,
            1000,
            e.allowance_amount,
            e.capitals,
        )
        for employee_id, e in REGISTER.items()
    }
    # Sorted by unit, then name (code point order): 机关, 机电队, 综采队 (张三 before 李四).
    assert [row["工号"].value for row in people] == ["3001", "2001", "007", "0123"]
    assert values(totals, "单位", "报送条数", "发放金额", "金额（大写）") == (
        "合计",
        71,
        2600,
        "贰仟陆佰元整",
    )
    assert [row["签字"].value for row in people] == [None] * 4
    assert [row["备注"].value for row in people] == [None] * 4


def test_register_numbers_carry_their_formats(zh: Outputs) -> None:
    _, rows = read_table(register_sheet(zh))
    for row in rows:
        assert row["报送条数"].number_format == "0"
        assert row["发放金额"].number_format == "#,##0.00"
        assert row["发放金额"].data_type == "n"
    for row in rows[:-1]:
        assert row["最终得分"].number_format == "0"
        assert row["系数"].number_format == "0.0"
        assert row["津贴基数"].number_format == "#,##0.00"
        # Points may carry decimals (−0.5, 2.5); "0.##" would print 90 as "90." in Excel.
        assert {row[h].number_format for h in POINT_HEADERS} == {"General"}
        assert row["工号"].data_type == "s"  # 007 keeps its leading zeros
        assert row["金额（大写）"].data_type == "s"


def test_register_prints_on_one_a4_landscape_page_width(zh: Outputs) -> None:
    sheet = register_sheet(zh)
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert int(sheet.page_setup.fitToWidth) == 1
    assert int(sheet.page_setup.fitToHeight) == 0  # as many pages down as needed
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.print_title_rows == "$1:$3"  # title, unit line and header on every page
    assert sheet.print_options.gridLines is True
    footer = sheet.oddFooter.center.text
    assert "&P" in footer and "&N" in footer


def test_register_has_a_sign_off_block_under_the_totals(zh: Outputs) -> None:
    sheet = register_sheet(zh)
    totals_row = HEADER_ROW + len(REGISTER) + 1
    assert sheet.cell(totals_row, 1).value == "合计"
    below = {
        cell.value: cell
        for row in sheet.iter_rows(min_row=totals_row + 1)
        for cell in row
        if cell.value is not None
    }
    labels = [cell for text, cell in below.items() if text in ("制表：", "审核：", "批准：")]
    assert sorted(cell.value for cell in labels) == sorted(["制表：", "审核：", "批准："])
    assert len({cell.row for cell in labels}) == 1
    for cell in labels:
        assert "日期" in str(sheet.cell(cell.row + 1, cell.column).value)


def test_data_sheets_freeze_their_header_and_filter_their_rows(zh: Outputs) -> None:
    for stem in zh.workbooks():
        for sheet in load(stem).worksheets:
            headers, rows = read_table(sheet)
            if not headers or sheet["A3"].value is None:
                continue  # a chart-only sheet
            assert sheet.freeze_panes == "A4", (stem.name, sheet.title)
            if rows:
                assert sheet.auto_filter.ref, (stem.name, sheet.title)
                assert sheet.auto_filter.ref.startswith("A3:"), (stem.name, sheet.title)
    register = register_sheet(zh)
    # The filter covers the four liaisons, not the totals row under them.
    assert register.auto_filter.ref == "A3:Q7"


def test_charts_are_native_excel_charts(zh: Outputs) -> None:
    payout = load(zh.payout)
    charts = payout["得分分布"]._charts
    assert len(charts) == 4  # scores with tier lines, tiers, months, categories
    assert all(isinstance(chart, BarChart) for chart in charts)
    assert len(payout["闭环统计"]._charts) == 1  # funnel
    assert len(load(zh.month)["联络员考核"]._charts) == 1
    assert len(load(zh.quarter)["闭环与分类"]._charts) == 3


SOURCES = {
    # (姓名, 项目, 分值, 月份, 文件, 工作表, 行): a missing month has no row of its own.
    ("赵六", "当月未报", -5, "2025-05", "2025-05.xlsx", "信息报送", None),
    ("赵六", "无故缺会", -2, "2025-06", "2025-06.xlsx", "会议考勤", 6),
    ("赵六", "不实通报", -10, "2025-09", "2025-09.xlsx", "违规通报", 3),
    ("赵六", "违规通报", -3, "2025-10", "2025-10.xlsx", "违规通报", 3),
    ("赵六", "质量加减分", -0.5, "2025-10", "2025-10.xlsx", "质量加减分", 3),
    ("王芳", "当月未报", -5, "2025-08", "2025-08.xlsx", "信息报送", None),
    ("李四", "无故缺会", -2, "2025-03", "2025-03.xlsx", "会议考勤", 4),
    ("李四", "信息不实", -10, "2025-05", "2025-05.xlsx", "信息报送", 3),
    ("李四", "质量加减分", 2.5, "2025-11", "2025-11.xlsx", "质量加减分", 3),
}
SOURCE_HEADERS = ("姓名", "项目", "分值", "月份", "文件", "工作表", "行")


def test_a_sheet_traces_every_deduction_to_file_sheet_and_row(zh: Outputs) -> None:
    _, rows = read_table(load(zh.payout)["扣分与加减分来源"])
    assert {values(row, *SOURCE_HEADERS) for row in rows} == SOURCES
    assert len(rows) == len(SOURCES)
    # The sums agree with the register: 赵六 −20.5 (→ 90 − 20.5 = 69.5 → 70), 李四 −9.5.
    by_name: dict[object, float] = {}
    for row in rows:
        by_name[row["姓名"].value] = by_name.get(row["姓名"].value, 0) + row["分值"].value
    assert by_name == {"赵六": -20.5, "王芳": -5, "李四": -9.5}


def test_payout_unit_penalties_closed_loop_and_open_items(zh: Outputs) -> None:
    payout = load(zh.payout)
    _, penalties = read_table(payout["单位扣分"])
    # 王芳 50 < 60: her unit 机电队 loses 1 point in the year's last month.
    assert [values(r, "单位", "月份", "分值", "姓名", "原因") for r in penalties] == [
        ("机电队", "2025-12", 1, "王芳", "不足60分")
    ]
    assert read_table(payout["负责人罚款与解聘"])[1] == []
    _, loop = read_table(payout["闭环统计"])
    # Collected 24 + 19 (李四's untrue one too) + 11 + 18 = 72; problems: 张三's, 李四's and
    # 赵六's 8 = 10; rectified and inspected: 张三's (合格) = 1 → 100.0 %; adopted 2 → 2/72 =
    # 2.78 % → 2.8.
    assert [values(r, "项目", "条数", "比率 %") for r in loop] == [
        ("收集信息", 72, None),
        ("其中问题", 10, None),
        ("整改落实", 1, None),
        ("督查验收", 1, None),
        ("复查合格（合格率 %）", 1, 100),
        ("采纳（采纳率 %）", 2, 2.8),
    ]
    assert {r["条数"].number_format for r in loop} == {"0"}
    assert loop[-1]["比率 %"].number_format == "0.0"
    _, open_items = read_table(payout["未闭环事项"])
    # 李四's 202502-003 at 调查核实: 2025-02-05 → 2025-12-31 = 23 + 306 = 329 days;
    # 赵六's eight from 2025-06-10: 20 + 184 = 204 days.
    assert [values(r, "编号", "办理状态", "天数") for r in open_items] == [
        ("202502-003", "调查核实", 329),
        *((f"202506-{n:03d}", "反映问题", 204) for n in range(6, 14)),
    ]


# --- month and quarter ------------------------------------------------------------------


def test_month_report_shows_running_scores_and_new_items(zh: Outputs) -> None:
    month = load(zh.month)
    sheet = month["联络员考核"]
    assert sheet["A2"].value.startswith("本月尚未报送：无")
    _, rows = read_table(sheet)
    columns = ("本月条数", "条数B", "基本分", "扣分合计", "加减分", "得分", "档次系数")
    assert {row["工号"].value: values(row, *columns) for row in rows} == {
        # 赵六: 8 in June; B = 4 + 8 = 12 → 60; −5 May, −2 June 缺席 → 53 → 0
        "3001": (8, 12, 60, 7, 0, 53, 0),
        # 王芳: 6 → 30 (her empty month is August, not yet) → 0
        "2001": (1, 6, 30, 0, 0, 30, 0),
        # 张三: 12 → 60 → 0.7
        "007": (2, 12, 60, 0, 0, 60, 0.7),
        # 李四: 12 → 60; −10 untrue (May), −2 缺席 (March) → 48 → 0
        "0123": (2, 12, 60, 12, 0, 48, 0),
    }
    assert {row["得分"].number_format for row in rows} == {"0"}
    _, items = read_table(month["本月新增信息"])
    # June: 张三 2, 李四 2, 王芳 1, 赵六 8 → 202506-001 … 013 in row order.
    assert [row["编号"].value for row in items] == [f"202506-{n:03d}" for n in range(1, 14)]
    _, sources = read_table(month["扣分与加减分来源"])
    assert {values(r, *SOURCE_HEADERS) for r in sources} == {
        s for s in SOURCES if s[3] <= "2025-06"
    }


def test_quarter_report_projects_the_year_and_warns(zh: Outputs) -> None:
    quarter = load(zh.quarter)
    _, rows = read_table(quarter["联络员季度评价"])
    columns = ("本季条数", "采纳", "出席", "请假", "缺席", "条数B", "得分", "预计得分", "预计系数")
    # Projection: items so far × 12 ÷ 6 months assessed, × 5, capped at 100, then deductions
    # and adjustments so far.
    assert {row["姓名"].value: values(row, *columns) for row in rows} == {
        # 赵六: Q2 1 + 0 + 8 = 9; 12 × 2 = 24 → 100 − 7 = 93 → 1.0
        "赵六": (9, 0, 0, 0, 1, 12, 53, 93, 1.0),
        # 王芳: 6 × 2 = 12 → 60 → 0.7
        "王芳": (3, 0, 1, 0, 0, 6, 30, 60, 0.7),
        # 张三: 12 × 2 = 24 → 100 → 1.0
        "张三": (6, 0, 1, 0, 0, 12, 60, 100, 1.0),
        # 李四: Q2 2 + 2 + 2 (May's untrue one left out), 请假 at Q2; 100 − 12 = 88 → 0.9
        "李四": (6, 0, 0, 1, 0, 12, 48, 88, 0.9),
    }
    warnings = {row["姓名"].value: row["预警"].value for row in rows}
    assert warnings == {
        "赵六": "1个月未报；缺席1次",
        "王芳": None,
        "张三": None,
        "李四": "1条不实；缺席1次",
    }
    _, units = read_table(quarter["按单位"])
    assert {values(r, "单位", "人数", "本季条数", "缺席") for r in units} == {
        ("机关", 1, 9, 1),
        ("机电队", 1, 3, 0),
        ("综采队", 2, 12, 0),
    }


# --- hostile text -----------------------------------------------------------------------


def _shown(text: str) -> str:
    """What a hostile text may look like in a cell: control characters replaced."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", text)


def test_hostile_text_stays_plain_text_in_every_workbook(zh: Outputs, en: Outputs) -> None:
    workbooks = [*zh.workbooks(), *en.workbooks()]
    assert len(workbooks) == 2 * (3 + len(LIAISONS))
    for path in workbooks:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/"):
                    xml = archive.read(name).decode("utf-8")
                    assert not re.search(r"<f[ >]", xml), (path.name, name)  # formulas
                    assert "<hyperlinks" not in xml, (path.name, name)
                    assert "relationships/hyperlink" not in xml, (path.name, name)
        for cell in all_cells(load(path)):
            assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
            assert cell.hyperlink is None, (path.name, cell.coordinate)
            if isinstance(cell.value, str):
                assert cell.data_type == "s", (path.name, cell.coordinate)
                assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", cell.value)
    for outputs in (zh, en):
        for path in (outputs.month, outputs.payout, outputs.statement("3001")):
            cells = {cell.value: cell for cell in all_cells(load(path))}
            for text in HOSTILE.values():
                assert _shown(text) in cells, (path.name, text)
                assert cells[_shown(text)].data_type == "s"
        for path in (outputs.payout, outputs.statement("3001")):
            assert ADJUSTMENT_REASON in {cell.value for cell in all_cells(load(path))}


def test_html_reports_are_inert_and_self_contained(zh: Outputs, en: Outputs) -> None:
    pages = [*zh.pages(), *en.pages()]
    assert len(pages) == 2 * (3 + len(LIAISONS))
    for path in pages:
        page = Page(path)
        tags = [tag for tag, _ in page.elements]
        for banned in ("script", "style", "link", "img", "iframe", "object", "embed"):
            assert banned not in tags, (path.name, banned)
        for tag, attributes in page.elements:
            for name, value in attributes.items():
                assert not name.startswith("on"), (path.name, tag, name)
                target = (value or "").strip().lower()
                if name in ("href", "src", "action", "background"):
                    assert not target.startswith(("javascript:", "http:", "https:", "//")), (
                        path.name,
                        tag,
                        name,
                        value,
                    )
            assert "url(" not in (attributes.get("style") or ""), (path.name, tag)
        styled = [tag for tag, attributes in page.elements if attributes.get("style")]
        for tag in ("body", "h1", "h2", "th", "td"):
            if tag in tags:
                assert tags.count(tag) == styled.count(tag), (path.name, tag)
    for outputs in (zh, en):
        for path in (outputs.month, outputs.payout, outputs.statement("3001")):
            text = Page(path).text
            for hostile in (
                "<script>alert(1)</script>",
                "<img src=x onerror=alert(1)>",
                "javascript:alert(1)",
                "http://evil.example/",
                '=HYPERLINK("http://x/?"&A1)',
            ):
                assert hostile in text, (path.name, hostile)


def test_html_register_matches_the_workbook(zh: Outputs) -> None:
    page = Page(zh.payout)
    header, *rows = page.table("煤矿公司2025年度经理联络员津贴发放表")
    assert header == REGISTER_HEADERS
    *people, totals = rows
    shown = {row[2]: row for row in people}
    assert shown["0123"][3:15] == [
        "18",
        "90",
        "2",
        "0",
        "10",
        "0",
        "2.5",
        "81",
        "0.9",
        "1,000.00",
        "900.00",
        "玖佰元整",
    ]
    assert shown["3001"][9:15] == ["-0.5", "70", "0.7", "1,000.00", "700.00", "柒佰元整"]
    assert totals[0] == "合计" and totals[13:15] == ["2,600.00", "贰仟陆佰元整"]
    assert "制表：" in page.text and "审核：" in page.text and "批准：" in page.text
    assert page.table("闭环统计")[1:] == [
        ["收集信息", "72", ""],
        ["其中问题", "10", ""],
        ["整改落实", "1", ""],
        ["督查验收", "1", ""],
        ["复查合格（合格率 %）", "1", "100.0"],
        ["采纳（采纳率 %）", "2", "2.8"],
    ]


# --- in a real browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, once for the module. Required: CI installs it."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is required at {CHROMIUM} to render the HTML reports "
            "(apt-get install chromium fonts-noto-cjk); CI installs it.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield launched
        launched.close()


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("report", ["month", "quarter", "payout", "statement"])
def test_reports_render_without_sideways_scrolling(
    browser: Browser, zh: Outputs, report: str, width: int, tmp_path: Path
) -> None:
    stem = zh.statement("0123") if report == "statement" else zh.reports()[report]
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(stem.with_suffix(".html").as_uri(), wait_until="load")
        shot = tmp_path / f"{report}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
    finally:
        context.close()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 1000
    assert scroll_width <= inner_width, (report, width, scroll_width)
    assert all(url.startswith("file:") for url in requested), requested


# --- personal statements ----------------------------------------------------------------


def _mentions(text: str, employee_id: str) -> bool:
    return re.search(rf"(?<![\w-]){employee_id}(?![\w-])", text) is not None


def test_one_statement_per_liaison_with_only_their_own_figures(zh: Outputs) -> None:
    assert sorted(p.name for p in zh.statements.iterdir()) == sorted(
        f"{employee_id} {name}{suffix}"
        for employee_id, (name, _) in LIAISONS.items()
        for suffix in (".xlsx", ".html")
    )
    for employee_id, (name, _) in LIAISONS.items():
        stem = zh.statement(employee_id)
        for text in (workbook_text(stem), Page(stem).text):
            assert name in text and _mentions(text, employee_id), (stem.name, name)
            for other_id, (other, _) in LIAISONS.items():
                if other_id != employee_id:
                    assert other not in text, (stem.name, other)
                    assert not _mentions(text, other_id), (stem.name, other_id)


def test_statement_summary_figures(zh: Outputs) -> None:
    workbook = load(zh.statement("0123"))
    _, rows = read_table(workbook["考核结果"])
    assert {r["项目"].value: r["数值"].value for r in rows} == {
        "条数B": "18",
        "基本分": "90",
        "缺会扣分": "2",
        "未报扣分": "0",
        "不实扣分": "10",
        "违规扣分": "0",
        "加减分": "2.5",
        "得分": "81",
        "系数": "0.9",
        "金额": "900.00",
        "金额（大写）": "玖佰元整",
    }
    assert workbook["考核结果"]["A1"].value.endswith("0123 李四")
    _, sources = read_table(workbook["扣分与加减分明细"])
    assert {values(r, *SOURCE_HEADERS) for r in sources} == {s for s in SOURCES if s[0] == "李四"}
    _, items = read_table(workbook["本人报送信息"])
    assert len(items) == 19  # 18 counted and the untrue one
    # 张三 has no deductions at all: his statement still names him on every sheet.
    for sheet in load(zh.statement("007")).worksheets:
        assert sheet["A1"].value.endswith("007 张三"), sheet.title


# --- the workspace's own templates ------------------------------------------------------

PACKAGED_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
OVERRIDE_TITLE = "{{ year }}年度联络员津贴签领表（工作区版）"
BASE_MARKER = "工作区模板标记 WS-TEMPLATE-MARKER"


def _swapped_register_layout() -> str:
    """The packaged register layout with its title changed, 发放金额 renamed 实发金额, and
    the 工号 column moved to the front."""
    text = (PACKAGED_TEMPLATES / "payout_register.toml.j2").read_text(encoding="utf-8")
    old_title = 'title_zh = "{{ company }}{{ year }}年度经理联络员津贴发放表"'
    assert text.count(old_title) == 1 and text.count('label_zh = "发放金额"') == 1
    text = text.replace(old_title, f'title_zh = "{OVERRIDE_TITLE}"')
    text = text.replace('label_zh = "发放金额"', 'label_zh = "实发金额"')
    head, *blocks = text.split("[[columns]]\n")
    last, sign_off = blocks[-1].split("[sign_off]")
    blocks[-1] = last
    moved = next(block for block in blocks if 'field = "employee_id"' in block)
    blocks.remove(moved)
    blocks.insert(0, moved)
    return head + "".join(f"[[columns]]\n{block}" for block in blocks) + "[sign_off]" + sign_off


@pytest.fixture(scope="module")
def overridden(year_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    """A copy of the module's workspace with its own templates/, reported in Chinese."""
    root = tmp_path_factory.mktemp("override") / "ws"
    shutil.copytree(year_root, root, ignore=shutil.ignore_patterns("reports"))
    templates = root / "templates"
    templates.mkdir()
    (templates / "payout_register.toml.j2").write_text(_swapped_register_layout(), encoding="utf-8")
    base = (PACKAGED_TEMPLATES / "base.html.j2").read_text(encoding="utf-8")
    assert base.count('<div class="page">') == 1
    (templates / "base.html.j2").write_text(
        base.replace(
            '<div class="page">', f'<div class="page">\n<p class="marker">{BASE_MARKER}</p>'
        ),
        encoding="utf-8",
    )
    return publish_all(root, "zh")


def test_a_workspace_register_layout_changes_workbook_and_html(overridden: Outputs) -> None:
    title = "2025年度联络员津贴签领表（工作区版）"
    sheet = register_sheet(overridden)
    assert sheet["A1"].value == title
    headers, rows = read_table(sheet)
    expected = ["工号", *(h for h in REGISTER_HEADERS if h != "工号")]
    expected[expected.index("发放金额")] = "实发金额"
    assert headers == expected
    assert [row["工号"].value for row in rows[:-1]] == ["3001", "2001", "007", "0123"]
    assert [row["实发金额"].value for row in rows] == [700, 0, 1000, 900, 2600]
    assert "发放金额" not in workbook_text(overridden.payout)
    page = Page(overridden.payout)
    assert title in page.headings
    assert page.table(title)[0] == expected
    assert page.table(title)[1][0] == "3001"


def test_a_workspace_base_template_changes_every_page(overridden: Outputs, zh: Outputs) -> None:
    for path in overridden.pages():
        page = Page(path)
        assert BASE_MARKER in page.text, path.name
        assert not any(tag == "style" for tag, _ in page.elements)
    for path in zh.pages():
        assert BASE_MARKER not in Page(path).text


# --- English ----------------------------------------------------------------------------

COMPANY = "煤矿公司"


def test_english_workbooks_have_english_headings(en: Outputs) -> None:
    payout = load(en.payout)
    assert payout.sheetnames[1:] == [
        "Scores",
        "Deductions and their sources",
        "Unit penalties",
        "Fines and dismissals",
        "Closed loop",
        "Open items",
    ]
    register = payout.worksheets[0]
    assert register["A1"].value == f"{COMPANY} manager-liaison allowance register 2025"
    headers, rows = read_table(register)
    assert headers == [
        "Unit",
        "Name",
        "ID",
        "Items",
        "Base",
        "Absence −",
        "No report −",
        "Untrue −",
        "Violation −",
        "Quality ±",
        "Final score",
        "Coef.",
        "Base amount",
        "Amount",
        "Amount in words",
        "Signature",
        "Remark",
    ]
    assert values(rows[-1], "Unit", "Amount", "Amount in words") == ("Total", 2600, "贰仟陆佰元整")
    texts = {cell.value for cell in all_cells(payout)}
    assert {"Prepared by:", "Checked by:", "Approved by:"} <= texts
    for path in en.workbooks():
        for sheet in load(path).worksheets:
            # English punctuation in English titles and notes: "(2025)", not "（2025）".
            for top in (sheet["A1"].value, sheet["A2"].value):
                assert not re.search("[（）；：]", str(top or "")), (path.name, sheet.title, top)
    _, sources = read_table(payout["Deductions and their sources"])
    assert {r["Item"].value for r in sources} == {
        "month not reported",
        "unexcused absence",
        "false-information notice",
        "rule violation",
        "quality adjustment",
        "untrue item",
    }
    for path in en.workbooks():
        for sheet in load(path).worksheets:
            headers, _ = read_table(sheet)
            assert not any(CJK.search(h) for h in headers), (path.name, sheet.title, headers)
    month = load(en.month)
    assert month.sheetnames == [
        "Liaisons",
        "Deductions and their sources",
        "New items this month",
        "Closed-loop movements",
    ]
    quarter = load(en.quarter)
    _, liaisons = read_table(quarter["Liaisons this quarter"])
    assert {r["Name"].value: r["Warnings"].value for r in liaisons}["李四"] == (
        "1 untrue; 1 absence(s)"
    )


def test_english_pages_have_english_headings(en: Outputs) -> None:
    for path in en.pages():
        page = Page(path)
        assert ("html", {"lang": "en"}) in page.elements, path.name
        names = {name for name, _ in LIAISONS.values()}
        for heading in page.text_in("h1", "h2", "h3", "th"):
            stripped = heading.replace(COMPANY, "")
            assert not CJK.search(stripped), (path.name, heading)
        assert not names & set(page.text_in("h1", "h2", "h3", "th"))
    payout = Page(en.payout)
    assert payout.text_in("h1") == [f"{COMPANY} Year-end allowance payout"]
    assert f"{COMPANY} manager-liaison allowance register 2025" in payout.headings
    assert "Prepared by: ________ Checked by: ________ Approved by: ________" in payout.text
    statement = Page(en.statement("0123"))
    assert statement.text_in("h1") == [f"{COMPANY} Personal assessment statement"]
    assert statement.headings == ["Result", "Deductions and adjustments", "Your items"]


def test_cell_text_is_cut_at_excels_limit_counted_in_utf16_units() -> None:
    from ledger_batch.render_xlsx import EXCEL_TEXT_LIMIT, safe_text

    rare = "𠮷" * 20_000  # 40,000 UTF-16 units: over the limit although only 20,000 characters
    cut = safe_text(rare)
    assert len(cut.encode("utf-16-le")) <= 2 * EXCEL_TEXT_LIMIT
    assert cut == "𠮷" * (EXCEL_TEXT_LIMIT // 2)  # never half a character
    assert safe_text("a\x01b") == "a\ufffdb"
    assert safe_text("短文本") == "短文本"
