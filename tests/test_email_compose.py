"""Composing email (SPEC §5): the outbox of `month|quarter|payout|statements … --email`.

Real workspaces (the bundled sample year, or a small one built with tests/ledgers.py), the
real CLI, the real ``.eml`` files read back with Python's email parser as a mail client
would, the workbook attachments opened with openpyxl, and the real SQLite store.

Who gets what in the sample year's March (docs/decisions.md): the monthly assessment to the
manager and the office (2), a reminder to 何军, the only in-service liaison with no counted
March item (1); 2025-Q1 and the payout to the manager and the office (2 + 2); one personal
statement to each of the 18 liaisons on the year's rosters.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import tomllib
from contextlib import closing
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import openpyxl
import pytest
from click.testing import CliRunner, Result

from ledger_batch.addresses import address_problem, text_problem
from ledger_batch.cli import cli
from ledger_batch.config import SAMPLE_EMAIL, Settings, load_settings
from ledger_batch.errors import ConfigError
from ledger_batch.workspace import default_config_text
from tests.ledgers import item, person, write_workbook
from tests.mailserver import (
    SAMPLE_EMAIL_TOML,
    MailHandler,
    ingest_sample_year,
    server_settings,
    smtp_server,
    write_config,
)

SAMPLE_LIAISONS = {
    "0012031": "张伟",
    "0012047": "李强",
    "0012105": "王磊",
    "0012118": "刘洋",
    "0012203": "陈刚",
    "0012216": "杨帆",
    "0012288": "宋佳",
    "0012307": "赵建国",
    "0012311": "孙丽",
    "0012402": "吴海涛",
    "0012419": "郑芳",
    "0012506": "冯志刚",
    "0012513": "何军",
    "0012604": "许明",
    "0012617": "马超",
    "0012701": "黄丽华",
    "0012802": "林涛",
    "0012905": "高峰",
}


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-w", str(root), *args])


def outbox_rows(root: Path, where: str = "1") -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(root / "ledger.db")) as connection:
        return connection.execute(
            "SELECT key, report, recipient_id, address, state, replaces, subject, eml_path "
            f"FROM outbox WHERE {where} ORDER BY seq"
        ).fetchall()


def parsed(path: Path) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(path.read_bytes(), policy=policy.default))


def emls(root: Path) -> list[Path]:
    return sorted((root / "outbox").glob("*.eml"))


@pytest.fixture(scope="module")
def sample_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample year ingested once; tests work on copies."""
    return ingest_sample_year(tmp_path_factory.mktemp("sample") / "ws")


@pytest.fixture
def sample(sample_year: Path, tmp_path: Path) -> Path:
    """A copy of the sample-year workspace with the sample addresses configured."""
    root = Path(shutil.copytree(sample_year, tmp_path / "ws"))
    write_config(root, **SAMPLE_EMAIL_TOML)
    return root


# --- the outbox of the sample year ----------------------------------------------------------


def test_month_email_queues_the_summary_and_the_reminders(sample: Path) -> None:
    result = run(sample, "month", "2025-03", "--email")
    assert result.exit_code == 0, result.output
    rows = outbox_rows(sample)
    assert sorted((r[1], r[3]) for r in rows) == [
        ("month", "manager@example.cn"),
        ("month", "office@example.cn"),
        ("reminder", "hejun@example.cn"),
    ]
    assert {r[4] for r in rows} == {"pending"}
    assert [p.name for p in emls(sample)] == sorted(f"{r[0]}.eml" for r in rows)
    summary = parsed(sample / next(str(r[7]) for r in rows if r[3] == "manager@example.cn"))
    assert summary["Subject"] == "煤矿公司 经理联络员月考核 2025-03"
    assert summary["To"].addresses[0].display_name == "王经理"
    assert summary["From"].addresses[0].display_name == "行政办公室"
    assert summary.get_content_type() == "multipart/mixed"
    alternative = summary.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    text = summary.get_body(("plain",)).get_content()
    html = summary.get_body(("html",)).get_content()
    assert "本月尚未报送：何军" in text and "本月尚未报送：何军" in html
    assert "<script" not in html and 'style="' in html
    [attachment] = list(summary.iter_attachments())
    assert attachment.get_filename() == "2025-03 月考核.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert workbook.sheetnames
    reminder = parsed(sample / next(str(r[7]) for r in rows if r[1] == "reminder"))
    assert reminder["Subject"] == "煤矿公司 经理联络员信息报送提醒 2025-03（何军）"
    assert reminder.get_content_type() == "multipart/alternative"
    assert (
        "2025-03 的台账中还没有您计入考核的报送信息" in reminder.get_body(("plain",)).get_content()
    )


def test_messages_are_seven_bit_with_encoded_chinese_headers(sample: Path) -> None:
    assert run(sample, "month", "2025-03", "--email").exit_code == 0
    for path in emls(sample):
        raw = path.read_bytes()
        assert raw.isascii(), path.name
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
        headers = raw.split(b"\r\n\r\n", 1)[0]
        assert b"=?utf-8?" in headers  # the Chinese subject and names, RFC 2047-encoded
        assert b"Bcc" not in headers
        message = parsed(path)
        assert len(message.get_all("To")) == 1 and len(message["To"].addresses) == 1
        assert message["Message-ID"] == f"<{path.stem}@example.cn>"
        assert message["X-Ledger-Batch-Key"] == path.stem


def test_queuing_the_same_report_again_queues_nothing(sample: Path) -> None:
    assert run(sample, "month", "2025-03", "--email").exit_code == 0
    before = outbox_rows(sample)
    files = {p.name: p.read_bytes() for p in emls(sample)}
    again = run(sample, "month", "2025-03", "--email")
    assert again.exit_code == 0, again.output
    assert "新排队 0 封" in again.output and "未重复排队 3 封" in again.output
    assert outbox_rows(sample) == before
    assert {p.name: p.read_bytes() for p in emls(sample)} == files


def test_every_report_queues_and_the_demo_leaves_them_in_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    root = tmp_path / "demo"
    rows = outbox_rows(root)
    kinds = [r[1] for r in rows]
    assert kinds.count("month") == 2 and kinds.count("reminder") == 1
    assert kinds.count("quarter") == 2 and kinds.count("payout") == 2
    assert kinds.count("statement") == len(SAMPLE_LIAISONS)
    assert {r[4] for r in rows} == {"pending"}
    assert len(emls(root)) == len(rows) == 25
    assert "25 封邮件留在 outbox/" in result.output
    settings = load_settings(root / "ledger-batch.toml")
    assert settings.email == SAMPLE_EMAIL and not settings.email.smtp_host


# --- personal statements --------------------------------------------------------------------


def _all_text(message: EmailMessage) -> str:
    parts = [message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()]
    for attachment in message.iter_attachments():
        workbook = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                parts.append("\t".join("" if v is None else str(v) for v in row))
    return "\n".join(parts)


def test_a_personal_statement_holds_only_its_owners_figures(sample: Path) -> None:
    result = run(sample, "statements", "2025", "--email")
    assert result.exit_code == 0, result.output
    rows = outbox_rows(sample, "report = 'statement'")
    assert {r[2] for r in rows} == set(SAMPLE_LIAISONS)
    for key, _, employee_id, address, *_, eml in rows:
        message = parsed(sample / str(eml))
        name = SAMPLE_LIAISONS[str(employee_id)]
        assert message["To"].addresses[0].addr_spec == address
        assert message["To"].addresses[0].display_name == name
        assert message["Subject"] == f"煤矿公司 经理联络员个人考核通知单 2025（{name}）"
        content = _all_text(message)
        assert str(employee_id) in content and name in content
        others = [e for e in SAMPLE_LIAISONS if e != employee_id]
        assert not [e for e in others if e in content], key
        own_items = "".join(str(c) for c in content.split("\n") if "-0" in c)
        strangers = [
            SAMPLE_LIAISONS[e]
            for e in others
            if SAMPLE_LIAISONS[e] in content and SAMPLE_LIAISONS[e] not in own_items
        ]
        assert not strangers, (name, strangers)
        [attachment] = list(message.iter_attachments())
        assert attachment.get_filename() == f"{employee_id} {name}.xlsx"


def test_the_payout_amount_reaches_its_owner(sample: Path) -> None:
    assert run(sample, "statements", "2025", "--email").exit_code == 0
    [row] = outbox_rows(sample, "recipient_id = '0012105'")
    text = parsed(sample / str(row[7])).get_body(("plain",)).get_content()
    assert "王磊" in text and "900.00" in text and "玖佰元整" in text


# --- a small workspace: changes, corrections, missing and bad addresses --------------------


def _small(workspace_root: Path, roster: list[dict[str, object]], **email: object) -> None:
    write_config(workspace_root, **{**SAMPLE_EMAIL_TOML, **email})
    write_workbook(workspace_root / "inbox" / "2025 人员名册.xlsx", {"人员名册": roster})


def _january(root: Path, *items: dict[str, object]) -> None:
    write_workbook(root / "inbox" / "2025-01.xlsx", {"信息报送": list(items)})
    result = run(root, "ingest")
    assert result.exit_code == 0, result.output


def _roster(**changes: dict[str, object]) -> list[dict[str, object]]:
    people = [("007", "张三", "综采队"), ("0123", "李四", "综采队"), ("2001", "王芳", "机电队")]
    return [person(e, n, u, **changes.get(e, {})) for e, n, u in people]


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A workspace with three liaisons (007 张三, 0123 李四, 2001 王芳)."""
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0
    return tmp_path / "ws"


def test_a_liaison_without_an_address_is_listed_not_skipped_silently(small: Path) -> None:
    _small(small, _roster(**{"2001": {"邮箱": None}}))
    _january(small, item("2025-01-06", "张三", "巷道积水"))
    result = run(small, "month", "2025-01", "--email")
    assert result.exit_code == 0, result.output
    assert "王芳（2001）在人员名册中没有邮箱：报送提醒未排队" in result.output
    reminders = outbox_rows(small, "report = 'reminder'")
    assert [r[3] for r in reminders] == ["0123@example.cn"]
    statements = run(small, "statements", "2025", "--email", "--allow-missing-months")
    assert statements.exit_code == 0, statements.output
    assert "王芳（2001）在人员名册中没有邮箱：个人考核通知单未排队" in statements.output
    assert {r[2] for r in outbox_rows(small, "report = 'statement'")} == {"007", "0123"}


def test_a_changed_figure_withdraws_an_unsent_message_and_reminds_no_one_who_reported(
    small: Path,
) -> None:
    _small(small, _roster())
    _january(small, item("2025-01-06", "张三", "巷道积水"))
    assert run(small, "month", "2025-01", "--email").exit_code == 0
    first = {r[0]: r for r in outbox_rows(small)}
    assert sorted(r[3] for r in first.values() if r[1] == "reminder") == [
        "0123@example.cn",
        "2001@example.cn",
    ]
    _january(small, item("2025-01-06", "张三", "巷道积水"), item("2025-01-08", "李四", "食堂排队"))
    again = run(small, "month", "2025-01", "--email")
    assert again.exit_code == 0, again.output
    rows = {r[0]: r for r in outbox_rows(small)}
    withdrawn = {k for k, r in rows.items() if r[4] == "superseded"}
    # The two pending summaries (new figures) and 李四's reminder (he has reported now).
    assert {rows[k][1] for k in withdrawn} == {"month", "reminder"}
    assert {rows[k][3] for k in withdrawn if rows[k][1] == "reminder"} == {"0123@example.cn"}
    pending = [r for r in rows.values() if r[4] == "pending"]
    assert sorted((r[1], r[3]) for r in pending) == [
        ("month", "manager@example.cn"),
        ("month", "office@example.cn"),
        ("reminder", "2001@example.cn"),
    ]
    # Nothing sent yet, so nothing is labelled a correction.
    assert not [r for r in pending if r[5]]


def test_a_changed_figure_after_sending_queues_a_correction(small: Path) -> None:
    handler = MailHandler()
    _small(small, _roster())
    _january(small, item("2025-01-06", "张三", "巷道积水"))
    with smtp_server(handler) as port:
        write_config(small, **server_settings(port))
        assert run(small, "statements", "2025", "--email", "--allow-missing-months").exit_code == 0
        sent = run(small, "send")
        assert sent.exit_code == 0, sent.output
        _january(
            small, item("2025-01-06", "张三", "巷道积水"), item("2025-01-07", "张三", "风门损坏")
        )
        requeue = run(small, "statements", "2025", "--email", "--allow-missing-months")
        assert requeue.exit_code == 0, requeue.output
        assert "更正 1 封" in requeue.output
    [correction] = outbox_rows(small, "replaces IS NOT NULL")
    [original] = outbox_rows(small, f"key = '{correction[5]}'")
    assert correction[2] == original[2] == "007" and original[4] == "sent"
    message = parsed(small / str(correction[7]))
    assert str(message["Subject"]).startswith("【更正】")
    original_id = parsed(small / str(original[7]))["Message-ID"]
    assert message["References"] == original_id and message["Supersedes"] == original_id
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "更正：本邮件取代" in text.splitlines()[0] and "更正：本邮件取代" in html
    # 李四's and 王芳's figures did not change: nothing new for them.
    assert len(outbox_rows(small, "report = 'statement'")) == 4


def test_with_no_manager_or_office_address_the_summary_is_not_queued(small: Path) -> None:
    _small(small, _roster(), manager=[], office=[])
    _january(small, item("2025-01-06", "张三", "巷道积水"))
    result = run(small, "month", "2025-01", "--email")
    assert result.exit_code == 0, result.output
    assert "没有配置经理或办公室邮箱" in result.output
    assert {r[1] for r in outbox_rows(small)} == {"reminder"}


def test_english_messages(small: Path) -> None:
    _small(small, _roster())
    _january(small, item("2025-01-06", "张三", "巷道积水"))
    assert run(small, "--lang", "en", "month", "2025-01", "--email").exit_code == 0
    subjects = sorted(str(parsed(p)["Subject"]) for p in emls(small))
    assert "煤矿公司 Reminder to report 2025-01 (李四)" in subjects
    assert "煤矿公司 Monthly assessment 2025-01" in subjects


# --- refused before anything is queued ------------------------------------------------------


def _refused(result: Result, root: Path, *words: str) -> None:
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output
    assert outbox_rows(root) == [] and emls(root) == []


def test_an_invalid_roster_address_refuses_the_whole_run(small: Path) -> None:
    _small(small, _roster(**{"2001": {"邮箱": "wangfang@@example.cn"}}))
    _january(small, item("2025-01-06", "张三", "巷道积水"))
    result = run(small, "month", "2025-01", "--email")
    _refused(result, small, "王芳（2001）", "wangfang@@example.cn", "没有任何邮件排队")


def test_a_line_break_in_a_roster_address_is_refused(small: Path) -> None:
    _small(small, _roster(**{"2001": {"邮箱": "wf@example.cn\r\nBcc: spy@example.org"}}))
    _january(small, item("2025-01-06", "张三", "巷道积水"))
    result = run(small, "--lang", "en", "month", "2025-01", "--email")
    _refused(result, small, "王芳（2001）", "a line break", "nothing was queued")


def test_an_encoded_word_in_a_roster_name_is_refused(small: Path) -> None:
    name = "王芳=?utf-8?q?=0D=0ABcc:_spy@example.org?="
    _small(small, _roster(**{"2001": {"姓名": name}}))
    _january(small, item("2025-01-06", "张三", "巷道积水"))
    result = run(small, "month", "2025-01", "--email")
    _refused(result, small, "收件人姓名", name, "没有任何邮件排队")


def test_an_encoded_word_in_the_subject_is_refused(small: Path) -> None:
    _small(small, _roster())
    write_config(
        small,
        company="煤矿=?utf-8?q?=0D=0ABcc:_spy@example.org?=",
        **SAMPLE_EMAIL_TOML,
    )
    _january(small, item("2025-01-06", "张三", "巷道积水"))
    result = run(small, "month", "2025-01", "--email")
    _refused(result, small, "公司名称", "=?", "没有任何邮件排队")


def test_two_liaisons_sharing_an_address_are_refused(small: Path) -> None:
    _small(small, _roster(**{"0123": {"邮箱": "007@example.cn"}}))
    _january(small, item("2025-01-06", "王芳", "巷道积水"))
    result = run(small, "month", "2025-01", "--email")
    _refused(result, small, "007@example.cn", "一人看到另一人的数据")


def test_no_sender_address_means_nothing_queued(small: Path) -> None:
    write_workbook(small / "inbox" / "2025 人员名册.xlsx", {"人员名册": _roster()})
    write_config(small)
    _january(small, item("2025-01-06", "张三", "巷道积水"))
    result = run(small, "month", "2025-01", "--email")
    _refused(result, small, "sender_address")


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        (
            'manager = [{ name = "经理\\r\\nBcc: spy@example.org", address = "m@example.cn" }]',
            "email.manager.0.name",
        ),
        ('office = [{ name = "办公室", address = "not an address" }]', "email.office.0.address"),
        ('sender_name = "=?utf-8?b?5L2g?="', "email.sender_name"),
        ('sender_address = "office@example.cn\\nBcc: spy@example.org"', "email.sender_address"),
        ('security = "ssl"', "email.security"),
        ('password = "hunter2"', "email.password"),
    ],
)
def test_bad_email_settings_are_refused_by_key(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "ledger-batch.toml"
    path.write_text(f"[email]\n{toml}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert key in raised.value.text("zh") and key in raised.value.text("en")


def test_the_written_email_section_reads_back() -> None:
    for settings in (Settings(), Settings(email=SAMPLE_EMAIL)):
        text = default_config_text(settings)
        assert "[email]" in text and "password_env" in text
        assert Settings.model_validate(tomllib.loads(text, parse_float=Decimal)) == settings


@pytest.mark.parametrize(
    "address",
    ["office@example.cn", "li.si+ledger@mail.example.com", "0012031@example.cn", "a_b@x-y.cn"],
)
def test_plain_addresses_pass(address: str) -> None:
    assert address_problem(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "",
        "office",
        "office@",
        "@example.cn",
        "office@example",
        "of fice@example.cn",
        "office@@example.cn",
        "office@example.cn\r\nBcc: spy@example.org",
        "office@example.cn\nBcc: spy@example.org",
        '"spy@example.org"@example.cn',
        "=?utf-8?q?spy?=@example.cn",
        "王芳@example.cn",
        "office@例子.cn",
        "office@example.cn,spy@example.org",
        "<office@example.cn>",
        "x" * 65 + "@example.cn",
    ],
)
def test_addresses_that_are_not_plain_are_refused(address: str) -> None:
    assert address_problem(address) is not None


@pytest.mark.parametrize(
    "value", ["张三\r\nBcc: x@y.cn", "张三\n", "=?utf-8?q?x?=", "a\x00b", "a\u2028b", "a\x85b"]
)
def test_header_text_with_line_breaks_or_encoded_words_is_refused(value: str) -> None:
    assert text_problem(value) is not None
