"""Hostile and broken files (issue 6, file level): each is refused whole with a report that
names the file, the part or sheet and the fix, before any reader can be hurt by it; the other
files of the same drop are stored as usual.

Bombs and giant ranges run ``ledger-batch ingest`` in a child process: its exit status must be
1 (a file quarantined, not a signal: the reader neither aborted nor was killed) and its peak
memory under ``PEAK_MB_BOUND`` (see tests/hostile.py for why 500 MB). Cases proven elsewhere:
text renamed .xlsx, an HTML table saved as .xls, a zero-byte file (test_ingest:
test_a_file_that_is_not_a_spreadsheet_…), an xlsx renamed .xls (test_ingest:
test_an_xlsx_renamed_to_xls_is_still_read), a password-protected xlsx/xls (test_ingest:
test_a_password_protected_workbook_…), XFD1048576 in xlsx and ods (test_ingest:
test_a_sheet_reaching_xfd1048576_…, test_an_ods_reaching_xfd1048576_…).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlwt
from hypothesis import example, given
from hypothesis import strategies as st

from ledger_batch.fields import SUBMISSIONS
from ledger_batch.sheet_layout import (
    _RARE,
    _ROW_WITHOUT_NUMBER,
    _UNUSUAL_CELL,
    SheetLayout,
    _beyond,
    _found,
    _XlsxSheetScan,
)
from ledger_batch.workspace import Workspace
from tests.hostile import (
    PEAK_MB_BOUND,
    Child,
    RawMember,
    deflate,
    error_reports,
    members_of,
    names_in,
    ods_cell,
    ods_row,
    raw_member,
    rewrite_zip,
    run_child,
    write_ods,
    write_raw_zip,
    xlsxwriter_ledger,
)
from tests.ledgers import item, write_workbook

HEADERS = [f.header_zh for f in SUBMISSIONS.fields]
"""The 15 submission headers: a sheet written with them reaches column O."""


def good_month(workspace: Workspace, period: str = "2025-12") -> Path:
    """A valid month dropped beside the hostile files: it must be stored all the same."""
    return write_workbook(
        workspace.folder("inbox") / f"{period}.xlsx",
        {"信息报送": [item(f"{period}-05", "张三", "井下通风良好")]},
    )


def shared_strings_ledger(folder: Path) -> Path:
    """A one-item March ledger written by xlsxwriter (with xl/sharedStrings.xml)."""
    return xlsxwriter_ledger(
        folder / "shared.xlsx",
        {"信息报送": [item("2025-03-05", "张三", "井下通风")]},
        {"信息报送": HEADERS},
    )


def assert_refused_safely(child: Child) -> None:
    """Quarantined (exit 1), not aborted or killed, and within the memory bound."""
    assert not child.killed_by_signal, child.stderr
    assert child.returncode == 1, child.stdout + child.stderr
    assert "Traceback" not in child.stderr, child.stderr
    assert child.peak_mb < PEAK_MB_BOUND, f"peak {child.peak_mb:.0f} MB"


def assert_only_the_good_month_stored(stored) -> None:
    assert stored("SELECT period FROM files WHERE kind = 'month'") == [("2025-12",)]
    assert stored("SELECT period, content FROM submissions") == [("2025-12", "井下通风良好")]


# --- incomplete files ---------------------------------------------------------------------


def test_a_truncated_workbook_is_quarantined_and_the_rest_of_the_drop_is_stored(
    rostered, cli, stored, tmp_path
):
    inbox = rostered.folder("inbox")
    whole = write_workbook(tmp_path / "whole.xlsx", {"信息报送": [item("2025-03-05", "张三", "a")]})
    data = whole.read_bytes()
    (inbox / "2025-03.xlsx").write_bytes(data[: len(data) // 2])  # copy cut off half-way
    (inbox / "2025-04.xlsx").write_bytes(data[:-200])  # only the zip's directory missing
    wb = xlwt.Workbook()
    wb.add_sheet("信息报送").write(0, 0, "报送日期")
    wb.save(str(tmp_path / "whole.xls"))
    (inbox / "2025-05.xls").write_bytes((tmp_path / "whole.xls").read_bytes()[:1500])
    good_month(rostered)

    result = cli("ingest")

    assert result.exit_code == 1
    reports = error_reports(rostered)
    assert set(reports) == {"2025-03.xlsx", "2025-04.xlsx", "2025-05.xls"}
    for report in reports.values():
        assert "问题：文件已损坏或不完整" in report
        assert "Fix: open it in Excel or WPS and save again, or copy the original again" in report
    assert names_in(inbox) == []
    assert_only_the_good_month_stored(stored)


# --- zip bombs ------------------------------------------------------------------------------

GIGABYTE = 1 << 30


@pytest.fixture(scope="module")
def bomb_parts(tmp_path_factory) -> tuple[dict[str, bytes], bytes, bytes, bytes]:
    """A ledger's members, and its sharedStrings.xml with 1 GiB of spaces inside one string:
    (other members, deflated bomb (≈1 MB), the first bytes of the inflated part, its tail)."""
    members = members_of(shared_strings_ledger(tmp_path_factory.mktemp("bomb")))
    head, marker, tail = members.pop("xl/sharedStrings.xml").partition("井下通风".encode())
    spaces = b" " * (1 << 20)
    deflated = deflate([head + marker, *[spaces] * (GIGABYTE >> 20), tail])
    return members, deflated, head + marker, tail


@pytest.mark.parametrize("header", ["honest", "disguised"])
def test_a_zip_bomb_is_refused_before_anything_inflates_it(rostered, stored, bomb_parts, header):
    members, deflated, start, tail = bomb_parts
    real_size = len(start) + GIGABYTE + len(tail)
    if header == "honest":  # the headers say 1 GiB
        crc = zlib.crc32(tail, zlib.crc32(b" " * GIGABYTE, zlib.crc32(start)))
        bomb = RawMember("xl/sharedStrings.xml", deflated, real_size, crc)
    else:  # the headers claim 1,000 bytes (with their CRC); the stream inflates to 1 GiB
        claimed = start + b" " * (1000 - len(start))
        bomb = RawMember("xl/sharedStrings.xml", deflated, len(claimed), zlib.crc32(claimed))
    path = write_raw_zip(
        rostered.folder("inbox") / "2025-03.xlsx",
        [*(raw_member(name, data) for name, data in members.items()), bomb],
    )
    assert path.stat().st_size < 1_200_000
    good_month(rostered)

    child = run_child(rostered, "ingest")

    assert_refused_safely(child)
    report = error_reports(rostered)["2025-03.xlsx"]
    if header == "honest":
        unpacked = real_size + sum(len(data) for data in members.values())
        assert f"问题：文件解压后过大（{unpacked:,} > 1,000,000,000 bytes）" in report
        assert "Problem: the file is too large when unpacked" in report
    else:
        assert "问题：文件已损坏或不完整：xl/sharedStrings.xml: > 1,000 bytes declared" in report
    assert_only_the_good_month_stored(stored)


# --- XML entities ---------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<!DOCTYPE x [<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    + "]>",
    "&l9;",
)
QUADRATIC_BLOWUP = (f'<!DOCTYPE x [<!ENTITY a "{"a" * 50_000}">]>', "&a;" * 5_000)
EXTERNAL_ENTITY = ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;")
DECLARED_ONLY = ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "")


def _with_doctype(data: bytes, doctype: str) -> bytes:
    declaration, _, rest = data.partition(b"?>")
    return declaration + b"?>" + doctype.encode() + rest


def _with_reference(part: str, data: bytes, reference: str) -> bytes:
    """The part with ``reference`` used where a reader must expand it."""
    if not reference:
        return data
    if part == "xl/sharedStrings.xml":
        return data.replace("井下通风".encode(), reference.encode())
    if part == "xl/workbook.xml":
        return data.replace('name="信息报送"'.encode(), f'name="信息报送{reference}"'.encode())
    cell = f'<c r="P2" t="inlineStr"><is><t>{reference}</t></is></c>'.encode()
    return re.sub(rb'(<row r="2"[^>]*>.*?)</row>', rb"\1" + cell + rb"</row>", data, count=1)


ENTITY_CASES = {
    "2025-01": ("billion laughs", "xl/worksheets/sheet1.xml", BILLION_LAUGHS),
    "2025-02": ("billion laughs", "xl/sharedStrings.xml", BILLION_LAUGHS),
    "2025-03": ("billion laughs", "xl/workbook.xml", BILLION_LAUGHS),
    "2025-04": ("quadratic blowup", "xl/worksheets/sheet1.xml", QUADRATIC_BLOWUP),
    "2025-05": ("quadratic blowup", "xl/sharedStrings.xml", QUADRATIC_BLOWUP),
    "2025-06": ("quadratic blowup", "xl/workbook.xml", QUADRATIC_BLOWUP),
    "2025-07": ("XXE", "xl/worksheets/sheet1.xml", EXTERNAL_ENTITY),
    "2025-08": ("XXE", "xl/sharedStrings.xml", EXTERNAL_ENTITY),
    "2025-09": ("XXE", "xl/workbook.xml", EXTERNAL_ENTITY),
    "2025-10": ("XXE declared, never used", "xl/worksheets/sheet1.xml", DECLARED_ONLY),
    "2024-12": ("XXE in a part encoded in UTF-16", "xl/sharedStrings.xml", EXTERNAL_ENTITY),
}


def _entity_workbook(
    source: Path, target: Path, part: str, attack: tuple[str, str], utf16: bool = False
) -> Path:
    doctype, reference = attack

    def change(data: bytes) -> bytes:
        data = _with_doctype(_with_reference(part, data, reference), doctype)
        if not utf16:
            return data
        return data.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")

    return rewrite_zip(source, target, {part: change})


def test_xml_entity_declarations_are_refused_in_every_part(rostered, stored, tmp_path):
    source = shared_strings_ledger(tmp_path)
    inbox = rostered.folder("inbox")
    for period, (case, part, attack) in ENTITY_CASES.items():
        _entity_workbook(source, inbox / f"{period}.xlsx", part, attack, "UTF-16" in case)
    laughs, reference = BILLION_LAUGHS
    rows = ods_row(ods_cell(h) for h in ("报送日期", "姓名", "信息类别", "信息类型", "信息内容"))
    rows += ods_row(ods_cell(v) for v in ("2025-11-05", "张三", "其他", "情况", reference))
    write_ods(inbox / "2025-11.ods", {"信息报送": rows}, doctype=laughs)
    good_month(rostered)

    child = run_child(rostered, "ingest")

    assert_refused_safely(child)
    reports = error_reports(rostered)
    assert set(reports) == {f"{period}.xlsx" for period in ENTITY_CASES} | {"2025-11.ods"}
    for period, (case, part, _) in [*ENTITY_CASES.items(), ("2025-11", ("", "content.xml", ""))]:
        name = f"{period}.{'ods' if part == 'content.xml' else 'xlsx'}"
        assert f"问题：文件内含 XML 实体声明（{part}）" in reports[name], case
        assert "Fix: do not use this file; ask the sender for the original ledger" in reports[name]
    assert "root:" not in child.stdout + "".join(reports.values())  # /etc/passwd never read
    assert_only_the_good_month_stored(stored)


# --- giant ranges ---------------------------------------------------------------------------


def _far_cell_xlsx(path: Path, cell: str) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "信息报送"
    sheet.append(["报送日期", "姓名", "信息类别", "信息类型", "信息内容"])
    sheet.append(["2025-03-05", "张三", "其他", "情况", "正常"])
    sheet[cell] = "x"
    workbook.save(path)
    return path


def _xlsx_sheet_changed(source: Path, target: Path, change) -> Path:
    return rewrite_zip(source, target, {"xl/worksheets/sheet1.xml": change})


def _without_refs(data: bytes) -> bytes:
    """The sheet with every ``r="…"`` removed: rows and cells placed by position only."""
    return re.sub(rb' r="[A-Z]*\d+"', b"", re.sub(rb"<dimension[^>]*/>", b"", data))


GIANT_RANGES = {
    "2025-01.xlsx": "信息报送!GR1048576",  # one cell inside the 200-column limit
    "2025-02.xlsx": "信息报送!O1048576",  # a cell whose reference lies about its row
    "2025-03.xlsx": "信息报送!O800003",  # 800,000 empty rows without numbers
    "2025-04.xlsx": "信息报送!WQR2",  # 16,000 more cells without references in row 2
    "2025-05.xls": "信息报送!IV65536",  # the last cell of an Excel 97 sheet
    "2025-06.ods": "信息报送!E1000002",  # one row repeated a million times
    "2025-07.ods": "信息报送!XFD3",  # one cell repeated across 16,384 columns
    "2025-08 信息报送.csv": "2025-08 信息报送",  # a line of six million commas
    "2025-09 信息报送.csv": "2025-09 信息报送!EU40001",  # one wide line, 40,000 short ones
    "2025-10.xlsx": "信息报送!GR1048576",  # the reference after another attribute
    "2025-11.xlsx": "信息报送!GR1048576",  # the reference in lower case
}


def _giant_ranges(inbox: Path, tmp_path: Path) -> None:
    _far_cell_xlsx(inbox / "2025-01.xlsx", "GR1048576")
    source = shared_strings_ledger(tmp_path)
    for name, cell in (
        ("2025-02.xlsx", b'<c r="O1048576" t="inlineStr"><is><t>x</t></is></c><c r="A3"/>'),
        ("2025-10.xlsx", b'<c t="inlineStr" r="GR1048576"><is><t>x</t></is></c>'),
        ("2025-11.xlsx", b'<c r="gr1048576" t="inlineStr"><is><t>x</t></is></c>'),
    ):
        row = b'<row r="3">' + cell + b"</row></sheetData>"
        _xlsx_sheet_changed(
            source, inbox / name, lambda d, row=row: d.replace(b"</sheetData>", row)
        )
    rows = b"<row></row>" * 800_000 + b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    _xlsx_sheet_changed(
        source,
        inbox / "2025-03.xlsx",
        lambda d: _without_refs(d).replace(b"</sheetData>", rows + b"</sheetData>"),
    )
    _xlsx_sheet_changed(
        source,
        inbox / "2025-04.xlsx",
        lambda d: _without_refs(d).replace(
            b"</row></sheetData>", b"<c/>" * 16_000 + b"</row></sheetData>"
        ),
    )
    xls = xlwt.Workbook()
    sheet = xls.add_sheet("信息报送")
    for column, text in enumerate(("报送日期", "姓名", "信息类别", "信息类型", "信息内容")):
        sheet.write(0, column, text)
    sheet.write(65535, 255, "x")
    xls.save(str(inbox / "2025-05.xls"))
    header = ods_row(ods_cell(h) for h in ("报送日期", "姓名", "信息类别", "信息类型", "信息内容"))
    first = ods_row(ods_cell(v) for v in ("2025-06-05", "张三", "其他", "情况", "正常"))
    write_ods(
        inbox / "2025-06.ods", {"信息报送": header + first + ods_row([ods_cell("x")], 1_000_000)}
    )
    write_ods(
        inbox / "2025-07.ods", {"信息报送": header + first + ods_row([ods_cell("x", 16_384)])}
    )
    (inbox / "2025-08 信息报送.csv").write_text(
        "报送日期,姓名\n" + "," * 6_000_000, encoding="utf-8"
    )
    (inbox / "2025-09 信息报送.csv").write_text(
        "报送日期" + "," * 150 + "\n" + "x\n" * 40_000, encoding="utf-8"
    )


def test_a_far_away_cell_or_repeated_range_is_refused_before_reading(rostered, stored, tmp_path):
    inbox = rostered.folder("inbox")
    _giant_ranges(inbox, tmp_path)
    for path in inbox.iterdir():
        assert path.stat().st_size < (7_000_000 if path.suffix == ".csv" else 30_000), path.name
    good_month(rostered)

    child = run_child(rostered, "ingest")

    assert_refused_safely(child)
    reports = error_reports(rostered)
    assert set(reports) == set(GIANT_RANGES)
    for name, where in GIANT_RANGES.items():
        assert f"问题：工作表范围过大（{where}" in reports[name], (name, reports[name])
        assert "split the file" in reports[name]
    assert "单元格 cell: 信息报送!GR1048576" in reports["2025-01.xlsx"]
    assert_only_the_good_month_stored(stored)


@pytest.mark.parametrize(
    ("limits", "rows", "expected"),
    [
        ("max_rows_per_sheet = 50", 60, "问题：数据行数 60 超过上限 50"),
        ("max_rows_per_sheet = 50", 1_100, "问题：工作表范围过大（信息报送!O1102）"),
        ("max_cells_per_sheet = 1000", 80, "问题：工作表范围过大（信息报送!O82）"),
    ],
    ids=["more-rows-than-allowed", "far-beyond-the-row-limit", "more-cells-than-allowed"],
)
def test_a_legitimate_file_larger_than_the_configured_limits_is_refused_saying_how_to_fix(
    rostered, cli, stored, limits, rows, expected
):
    rostered.config_path.write_text(f"[limits]\nsettle_seconds = 0\n{limits}\n", encoding="utf-8")
    write_workbook(
        rostered.folder("inbox") / "2025-03.xlsx",
        {"信息报送": [item(f"2025-03-{1 + n % 28:02d}", "张三", f"第{n}条") for n in range(rows)]},
    )

    result = cli("ingest")

    assert result.exit_code == 1
    (report,) = error_reports(rostered).values()
    assert expected in report
    assert "ledger-batch.toml" in report or "split the file" in report
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]


# --- encryption, macros, Strict Open XML ----------------------------------------------------


def test_a_workbook_with_an_encrypted_zip_member_is_refused_as_password_protected(
    rostered, cli, stored, tmp_path
):
    members = members_of(shared_strings_ledger(tmp_path))
    parts = [raw_member(name, data) for name, data in members.items()]
    for part in parts:
        if part.name == "xl/sharedStrings.xml":
            part.flags |= 0x1  # "encrypted" (traditional PKWARE)
    write_raw_zip(rostered.folder("inbox") / "2025-03.xlsx", parts)

    result = cli("ingest")

    assert result.exit_code == 1
    report = error_reports(rostered)["2025-03.xlsx"]
    assert "问题：文件设有密码保护，无法读取" in report
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]


def _macro_enabled(source: Path, target: Path) -> Path:
    content_types = {
        "[Content_Types].xml": lambda d: d.replace(
            b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml"
        ).replace(
            b"</Types>",
            b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
            b"</Types>",
        ),
        "xl/_rels/workbook.xml.rels": lambda d: d.replace(
            b"</Relationships>",
            b'<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/2006/'
            b'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
        ),
    }
    rewrite_zip(source, target, content_types)
    with zipfile.ZipFile(target, "a") as archive:
        # An OLE container, as Excel stores VBA (a macro that would run Shell on open).
        archive.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Shell" * 200)
    return target


def test_an_xlsm_with_macros_is_read_as_data_and_its_macros_are_never_run(
    rostered, cli, stored, tmp_path
):
    path = _macro_enabled(
        shared_strings_ledger(tmp_path), rostered.folder("inbox") / "2025-03.xlsm"
    )
    assert "xl/vbaProject.bin" in members_of(path)

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored("SELECT period, name, content FROM submissions") == [
        ("2025-03", "张三", "井下通风")
    ]
    (archived,) = (rostered.folder("archive") / "2025-03").iterdir()
    assert archived.suffix == ".xlsm"
    assert "xl/vbaProject.bin" in members_of(archived)  # the office's file, kept as it came
    assert not list(rostered.root.rglob("vbaProject.bin"))  # never unpacked anywhere


_STRICT = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": (
        b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    ),
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships"
    ),
}


def _strict(data: bytes) -> bytes:
    for transitional, strict in _STRICT.items():
        data = data.replace(transitional, strict)
    return data.replace(b"<workbook ", b'<workbook conformance="strict" ')


def test_a_strict_open_xml_workbook_reads_like_a_transitional_one(rostered, cli, stored, tmp_path):
    source = shared_strings_ledger(tmp_path)
    changes = {name: _strict for name in members_of(source)}
    # Strict stores dates as ISO 8601 text cells (t="d"), not serial numbers.
    changes["xl/worksheets/sheet1.xml"] = lambda d: re.sub(
        rb'<c r="B2" t="s"><v>\d+</v></c>',
        b'<c r="B2" t="d"><v>2025-03-05T00:00:00</v></c>',
        _strict(d),
    )
    strict = rewrite_zip(source, rostered.folder("inbox") / "2025-03.xlsx", changes)
    assert b"purl.oclc.org" in members_of(strict)["xl/workbook.xml"]

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert stored("SELECT date, name, employee_id, category, content FROM submissions") == [
        ("2025-03-05", "张三", "007", "安全生产", "井下通风")
    ]


# --- empty and header-only ------------------------------------------------------------------


def test_an_empty_workbook_is_quarantined_saying_what_is_missing(rostered, cli, stored):
    inbox = rostered.folder("inbox")
    openpyxl.Workbook().save(inbox / "2025-03.xlsx")  # one blank sheet called "Sheet"
    blank = openpyxl.Workbook()
    blank.active.title = "信息报送"
    blank.save(inbox / "2025-04.xlsx")

    result = cli("ingest")

    assert result.exit_code == 1
    reports = error_reports(rostered)
    assert "问题：月度台账缺少“信息报送”表" in reports["2025-03.xlsx"]
    assert "工作表“Sheet”不是台账表，已忽略" in reports["2025-03.xlsx"]
    assert (
        "问题：找不到表头行（缺少列：报送日期、姓名、信息类别、信息类型、信息内容）"
        in reports["2025-04.xlsx"]
    )
    assert "工作表 sheet: 信息报送" in reports["2025-04.xlsx"]
    assert stored("SELECT COUNT(*) FROM files WHERE kind = 'month'") == [(0,)]


def test_header_only_sheets_store_the_month_and_warn_that_nobody_reported(rostered, cli, stored):
    write_workbook(
        rostered.folder("inbox") / "2025-03.xlsx",
        {name: [] for name in ("信息报送", "闭环跟踪", "会议考勤", "违规通报", "质量加减分")},
    )

    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert "✔ 2025-03.xlsx: 已入库 2025-03 第1版" in result.output
    assert "⚠ 2025-03.xlsx · 信息报送: “信息报送”表只有表头，没有任何信息" in result.output
    assert stored("SELECT period, ledgers FROM files WHERE kind = 'month'") == [
        ("2025-03", "adjustments,attendance,submissions,tracking,violations")
    ]
    assert stored("SELECT COUNT(*) FROM submissions") == [(0,)]
    month = cli("month", "2025-03")
    assert month.exit_code == 0, month.output
    for name in ("张三", "李四", "王芳"):
        assert name in month.output


# --- the guard's scans in RE2 agree with Python's patterns ----------------------------------

LOOK_AROUND_UNUSUAL_CELL = re.compile(rb'<c(?=[\s/>])(?! r="[A-Z]+\d+")')
"""The unusual-cell pattern as Python writes it, with look-arounds (RE2 has none)."""

XML_BITS = st.lists(
    st.sampled_from(
        [b"<c", b"<c ", b" ", b"r", b"=", b'"', b"'", b" r=", b'<c r="', b"A", b"Q", b"Z",
         b"AB", b"XFD", b"a", b"0", b"1", b"9", b"10", b"1048576", b">", b"/>", b"</c>",
         b"\t", b"\n", b"\r", b"\x0b", b"\xff", b"\xc3\xa9", b"\x00", b"<row", b"<col"]
    ),
    max_size=40,
).map(b"".join)  # fmt: skip


@given(XML_BITS)
def test_the_unusual_cell_scan_matches_what_the_look_around_pattern_matches(piece: bytes) -> None:
    assert _found(_UNUSUAL_CELL, piece) == bool(LOOK_AROUND_UNUSUAL_CELL.search(piece))


@given(st.integers(1, 16_384), st.integers(1, 1_048_576), XML_BITS)
def test_the_beyond_scan_matches_what_python_matches(column: int, row: int, piece: bytes) -> None:
    pattern = _beyond(column, row)
    assert _found(pattern, piece) == bool(re.compile(pattern.encode()).search(piece))


def test_the_beyond_scan_finds_a_cell_right_of_or_below_the_extent() -> None:
    extent = _beyond(15, 10_001)  # O10001: 15 columns, 10,001 rows
    assert not _found(extent, b'<row r="7"><c r="A7"/><c r="O10001" t="s"><v>1</v></c>')
    assert _found(extent, b'<c r="P7">')  # column 16
    assert _found(extent, b'<c r="AA1">')
    assert _found(extent, b'<c r="A10002">')
    assert _found(extent, b'<c r="B0099999">')  # leading zeros do not hide a row
    assert not _found(extent, b'<c r="B09999">')


@given(XML_BITS)
def test_every_row_tag_without_its_number_sends_the_piece_for_a_closer_look(piece: bytes) -> None:
    if _ROW_WITHOUT_NUMBER.search(piece):
        assert _found(_RARE, piece)


SHEET_ROWS = st.lists(
    st.sampled_from(
        [b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="O1" t="s"><v>1</v></c></row>',
         b'<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="1"><v>45717</v></c></row>',
         b'<row r="9" spans="1:15"><c r="C9" t="s"><v>3</v></c></row>',
         b'<row r="12"><c r="O12"><v>4</v></c></row>',
         b'<row r="30" hidden="1"><c r="A30" t="s"><v>5</v></c></row>',
         b'<row r="31"><c r="P31" t="s"><v>6</v></c></row>',
         b'<row r="40"><c r="D40"><f>1/0</f><v>#DIV/0!</v></c></row>',
         b'<row r="41"><c r="E41" t="e"><v>#N/A</v></c></row>',
         b'<row r="42"><c r="F42"><f>SUM(A1:A2)</f></c></row>',
         b'<row r="8000"><c r="B8000" t="s"><v>7</v></c></row>',
         b'<row><c t="s"><v>8</v></c></row>',
         b'<row r="50"><c t="s"><v>9</v></c><c r="b50"/></row>',
         b'<row customHeight="1" r="51"><c r="A51"/></row>',
         b'<mergeCells count="1"><mergeCell ref="C3:C5"/></mergeCells>']
    ),
    max_size=6,
).map(b"".join)  # fmt: skip


class _OneByOne(_XlsxSheetScan):
    """The scan with every check run on its own, as before the one-scan path."""

    def _plain(self, piece: bytes) -> bool:
        return False


@given(st.lists(SHEET_ROWS, min_size=1, max_size=4))
@example([b'<row r="1"><c r="Z1 "/></row><row r="2"><c r="A2"/></row>'])  # the reader: A1
def test_the_one_scan_path_finds_what_the_checks_one_by_one_find(pieces: list[bytes]) -> None:
    quick, careful = _XlsxSheetScan(SheetLayout("s")), _OneByOne(SheetLayout("s"))
    for piece in pieces:
        quick.feed(piece)
        careful.feed(piece)
    assert quick.layout == careful.layout
    assert quick.row == careful.row


def test_the_one_scan_path_settles_a_plain_piece_and_refers_anything_else() -> None:
    scan = _XlsxSheetScan(SheetLayout("s"))
    header = b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="O1" t="s"><v>1</v></c></row>'
    assert scan._plain(header + b'<row r="2"><c r="B2"><v>1</v></c></row>')
    assert (scan.layout.last_row, scan.layout.last_column, scan.row) == (2, 15, 2)
    for unusual in (
        b'<row r="3" hidden="1"><c r="A3"/></row>',
        b'<row r="3"><c r="A3"><f>1+1</f><v>2</v></c></row>',
        b'<row r="3"><c r="A3" t="e"><v>#N/A</v></c></row>',
        b'<row r="3"><c r="P3"/></row>',
        b'<row r="3"><c r="A3"/><c r="B1048576"/></row><row r="4"><c r="A4"/></row>',
        b'<row r="3"><c t="s"><v>1</v></c></row>',
        b'<row><c r="A3"/></row>',
        b'<mergeCells count="1"><mergeCell ref="A3:B3"/></mergeCells>',
    ):
        assert not scan._plain(b'<row r="3"><c r="A3"/></row>' + unusual), unusual
