"""Hostile content (issue 6): text from the ledgers reaches workbooks, web pages, mail headers
and file names only as inert text.

Proven elsewhere: formula (=, @, +), =HYPERLINK and control characters in items and reasons
stay plain text in every workbook (test_reports:
test_hostile_text_stays_plain_text_in_every_workbook); <script>, <img onerror> and
javascript: stay text in pages with no script, style or external resource (test_reports:
test_html_reports_are_inert_and_self_contained); a line break or an encoded word in a roster
address, a roster name, the company name or a configured address refuses the run before
anything is queued (test_email_compose: test_a_line_break_in_a_roster_address_is_refused,
test_an_encoded_word_in_a_roster_name_is_refused, test_an_encoded_word_in_the_subject_is_refused,
test_bad_email_settings_are_refused_by_key,
test_header_text_with_line_breaks_or_encoded_words_is_refused).
"""

from __future__ import annotations

import re
import zipfile
from email import message_from_bytes, policy
from pathlib import Path

import openpyxl

from ledger_batch.publish import MAX_NAME_BYTES
from tests.ledgers import item, keep_formulas_as_text, person, write_workbook
from tests.mailserver import SAMPLE_EMAIL_TOML, write_config

HOSTILE_ROSTER = {
    "../../../evil": "张三",  # a 工号 that climbs out of the reports folder
    "9/1": "赵六",  # becomes 9_1 in a file name…
    "9_1": "赵六",  # …like this one: the two must not overwrite each other
    "2001": '=HYPERLINK("http://evil.example/","点我")',
    "2002": "<script>alert(1)</script>",
    "2003": 'a:b*c?d"e<f>g|h\\i',  # every character Windows refuses in a file name
    "2004": "长" * 100,  # 300 bytes in UTF-8: longer than a file name may be
}


def all_files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def test_statement_file_names_made_from_roster_data_stay_inside_their_folder(
    workspace, cli, stored
):
    inbox = workspace.folder("inbox")
    roster = [person(i, n, "机关", 邮箱=None) for i, n in HOSTILE_ROSTER.items()]
    items = [item("2025-01-05", n, f"{i} 的信息", 工号=i) for i, n in HOSTILE_ROSTER.items()]
    keep_formulas_as_text(write_workbook(inbox / "2025 人员名册.xlsx", {"人员名册": roster}))
    keep_formulas_as_text(write_workbook(inbox / "2025-01.xlsx", {"信息报送": items}))
    assert cli("ingest").exit_code == 0
    before = all_files(workspace.root)

    result = cli("statements", "2025", "--allow-missing-months")

    assert result.exit_code == 0, result.output
    folder = workspace.folder("reports") / "2025" / "个人考核通知单"
    written = all_files(workspace.root) - before
    assert {path.parent for path in written} == {folder}  # nothing anywhere else
    assert len(written) == 2 * len(HOSTILE_ROSTER)  # one xlsx and one html each, none lost
    for path in written:
        assert len(path.stem.encode()) <= MAX_NAME_BYTES
        assert not re.search(r'[\\/:*?"<>|\x00-\x1f]', path.name), path.name
        assert not path.name.startswith(".")
    owners = {}
    for path in sorted(p for p in written if p.suffix == ".xlsx"):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/"):
                    xml = archive.read(name).decode()
                    assert not re.search(r"<f[ >]", xml) and "<hyperlinks" not in xml, path.name
        cells = {
            str(cell.value)
            for sheet in openpyxl.load_workbook(path)
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None
        }
        owners[path.name] = [i for i in HOSTILE_ROSTER if f"{i} 的信息" in cells]
    assert sorted(i for ids in owners.values() for i in ids) == sorted(HOSTILE_ROSTER)
    assert all(len(ids) == 1 for ids in owners.values()), owners  # each file, one person
    page = next(p for p in written if p.suffix == ".html" and p.name.startswith("2002"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.read_text(encoding="utf-8")


def test_a_line_break_in_a_roster_name_never_reaches_a_mail_header(workspace, cli, stored):
    inbox = workspace.folder("inbox")
    write_workbook(
        inbox / "2025 人员名册.xlsx",
        {"人员名册": [person("2001", "王芳\r\nBcc: spy@example.org", "机电队", 性别="女")]},
    )
    name = "王芳\r\nBcc: spy@example.org"
    write_workbook(
        inbox / "2025-01.xlsx", {"信息报送": [item("2025-01-05", name, "x", 工号="2001")]}
    )
    assert cli("ingest").exit_code == 0
    write_config(workspace.root, **SAMPLE_EMAIL_TOML)

    result = cli("statements", "2025", "--allow-missing-months", "--email")

    assert result.exit_code == 0, result.output
    # Spaces of every kind (line breaks too) are not part of a name: it is stored without them.
    assert stored("SELECT name FROM roster") == [("王芳Bcc:spy@example.org",)]
    (eml,) = (workspace.root / "outbox").glob("*.eml")
    raw = eml.read_bytes()
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Bcc"] is None and message["Cc"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["2001@example.cn"]
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc" not in headers and b"spy@example.org" not in headers.replace(b"\r\n ", b"")
