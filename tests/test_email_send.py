"""Delivering the outbox (`send`) to a real SMTP server on 127.0.0.1 (aiosmtpd), not a mock.

The server gets a self-signed certificate made here (SAN IP:127.0.0.1); the workspace trusts
it through ``ca_file``, as an office trusts its company CA. The password travels only in the
environment variable the config names. Servers misbehave as real ones do: refusing (550),
deferring (451), stalling past the timeout, dropping the connection before or after a
message's content, holding a message while the sending process is killed, or offering no
STARTTLS. After each, every message is accounted for: delivered exactly once, reported
failed with the server's words, or left ``unknown`` for a person to decide.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ledger_batch.cli import cli
from tests.mailserver import (
    PASSWORD,
    USER,
    MailHandler,
    ingest_sample_year,
    make_certificate,
    server_settings,
    smtp_server,
    write_config,
)

ENV = {"LEDGER_BATCH_SMTP_PASSWORD": PASSWORD}


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["-w", str(root), *args], env=ENV if env is None else env)


def states(root: Path) -> dict[str, tuple[str, str, str | None, int]]:
    """key → (state, address, last reply, attempts)."""
    with closing(sqlite3.connect(root / "ledger.db")) as connection:
        rows = connection.execute("SELECT key, state, address, last_reply, attempts FROM outbox")
        return {
            key: (state, address, reply, attempts) for key, state, address, reply, attempts in rows
        }


def key_of(root: Path, address: str) -> str:
    [key] = [k for k, (_, a, _, _) in states(root).items() if a == address]
    return key


@pytest.fixture(scope="module")
def sample_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_sample_year(tmp_path_factory.mktemp("sample") / "ws")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def queued(sample_year: Path, tmp_path: Path) -> Path:
    """A copy of the sample year with March's and the statements' 21 messages queued."""
    root = Path(shutil.copytree(sample_year, tmp_path / "ws"))
    write_config(root, **server_settings(1))
    for args in (("month", "2025-03"), ("statements", "2025")):
        result = run(root, *args, "--email")
        assert result.exit_code == 0, result.output
    assert len(states(root)) == 21
    return root


def configure(root: Path, port: int, cert: Path | None, **extra: object) -> None:
    write_config(root, **server_settings(port, cert, **extra))


def assert_each_arrived_once(handler: MailHandler, root: Path) -> None:
    counts = Counter(handler.keys())
    assert set(counts) == set(states(root)), set(states(root)) - set(counts)
    assert set(counts.values()) == {1}, [k for k, n in counts.items() if n > 1]


# --- the normal case ------------------------------------------------------------------------


def test_starttls_with_login_delivers_every_message_once(
    queued: Path, certificate: tuple[Path, Path]
) -> None:
    handler = MailHandler()
    with smtp_server(handler, certificate=certificate, auth=True) as port:
        configure(queued, port, certificate[0])
        result = run(queued, "send")
        again = run(queued, "send")
    assert result.exit_code == 0, result.output
    assert "已发送 21，重试 0 次，失败 0，结果不明 0，待发 0" in result.output
    assert again.exit_code == 0 and "已发送 0" in again.output
    assert_each_arrived_once(handler, queued)
    assert {s for s, *_ in states(queued).values()} == {"sent"}
    assert handler.logins == [USER]
    for received in handler.received:
        assert received.over_tls and received.login == USER
        assert received.mail_from == "office@example.cn"
        message = received.message
        assert received.rcpt_tos == [message["To"].addresses[0].addr_spec]
        plain = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert plain is not None and html is not None
        assert plain.get_content().strip() and "<html" in html.get_content()
        assert message["From"].addresses[0].display_name == "行政办公室"
    subjects = {str(r.message["Subject"]) for r in handler.received}
    assert "煤矿公司 经理联络员月考核 2025-03" in subjects
    assert "煤矿公司 经理联络员信息报送提醒 2025-03（何军）" in subjects
    assert "煤矿公司 经理联络员个人考核通知单 2025（张伟）" in subjects
    names = {r.message["To"].addresses[0].display_name for r in handler.received}
    assert {"王经理", "何军", "张伟", "宋佳"} <= names
    # The password is never written down: not in the output, the store, the files.
    assert PASSWORD not in result.output
    for path in queued.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_implicit_tls(queued: Path, certificate: tuple[Path, Path]) -> None:
    handler = MailHandler()
    # aiosmtpd offers AUTH only after STARTTLS, so this server takes mail without a login.
    with smtp_server(handler, certificate=certificate, implicit_tls=True) as port:
        configure(queued, port, certificate[0], security="tls", smtp_user="")
        result = run(queued, "send")
    assert result.exit_code == 0, result.output
    assert_each_arrived_once(handler, queued)
    assert all(r.over_tls for r in handler.received)


def test_dry_run_lists_what_would_go_and_sends_nothing(
    queued: Path, certificate: tuple[Path, Path]
) -> None:
    handler = MailHandler()
    with smtp_server(handler, certificate=certificate, auth=True) as port:
        configure(queued, port, certificate[0])
        result = run(queued, "send", "--dry-run", env={})
    assert result.exit_code == 0, result.output
    assert "将发送 21 封（仅列出，未发送）" in result.output
    assert "hejun@example.cn" in result.output and "manager@example.cn" in result.output
    assert handler.mail_commands == 0 and not handler.received
    assert {s for s, *_ in states(queued).values()} == {"pending"}


def test_without_smtp_settings_messages_stay_in_the_outbox(queued: Path) -> None:
    write_config(queued, **{**server_settings(1), "smtp_host": ""})
    result = run(queued, "send")
    assert result.exit_code == 0, result.output
    assert "未配置 SMTP" in result.output and "21 封邮件留在 outbox/" in result.output
    assert {s for s, *_ in states(queued).values()} == {"pending"}
    assert len(list((queued / "outbox").glob("*.eml"))) == 21


def test_the_password_comes_only_from_the_environment(
    queued: Path, certificate: tuple[Path, Path]
) -> None:
    handler = MailHandler()
    with smtp_server(handler, certificate=certificate, auth=True) as port:
        configure(queued, port, certificate[0], password_env="OFFICE_SMTP_PASSWORD")
        missing = run(queued, "send", env={"OFFICE_SMTP_PASSWORD": ""})
        wrong = run(queued, "send", env={"OFFICE_SMTP_PASSWORD": "wrong"})
        right = run(queued, "send", env={"OFFICE_SMTP_PASSWORD": PASSWORD})
    assert missing.exit_code == 2 and "OFFICE_SMTP_PASSWORD" in missing.output
    assert wrong.exit_code == 2 and "服务器拒绝登录 office" in wrong.output
    assert "wrong" not in wrong.output.replace("拒绝", "")
    assert right.exit_code == 0, right.output
    assert_each_arrived_once(handler, queued)
    assert "--password" not in run(queued, "send", "--help").output


def test_the_rate_limit_spaces_messages(queued: Path) -> None:
    handler = MailHandler()
    with smtp_server(handler) as port:
        configure(queued, port, None, rate_per_minute=600)
        started = time.monotonic()
        result = run(queued, "send")
        elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert_each_arrived_once(handler, queued)
    assert elapsed >= 20 * 0.1 * 0.95


# --- refusals, deferrals, timeouts ---------------------------------------------------------


def test_a_refused_recipient_fails_and_a_deferred_one_is_retried(
    queued: Path, certificate: tuple[Path, Path]
) -> None:
    handler = MailHandler(
        refuse={"hejun@example.cn": "550 5.1.1 <hejun@example.cn>: mailbox unavailable"},
        defer_once={"sunli@example.cn": "451 4.3.2 Please try again later"},
    )
    with smtp_server(handler, certificate=certificate, auth=True) as port:
        configure(queued, port, certificate[0])
        result = run(queued, "send")
        status = run(queued, "status")
    assert result.exit_code == 1, result.output
    assert "已发送 19，重试 1 次，失败 2" in result.output
    assert "550 5.1.1 <hejun@example.cn>: mailbox unavailable" in result.output
    final = states(queued)
    refused = [v for v in final.values() if v[1] == "hejun@example.cn"]
    # 何军 gets two messages (March's reminder and his statement): both refused, once each.
    assert [v[0] for v in refused] == ["failed", "failed"]
    assert all(v[2] == "550 5.1.1 <hejun@example.cn>: mailbox unavailable" for v in refused)
    assert all(v[3] == 1 for v in refused)
    deferred = final[key_of(queued, "sunli@example.cn")]
    assert deferred[0] == "sent" and deferred[3] == 2
    counts = Counter(handler.keys())
    assert counts[key_of(queued, "sunli@example.cn")] == 1
    assert sum(counts.values()) == 19 and set(counts.values()) == {1}
    assert "failed" in status.output and "mailbox unavailable" in status.output


def test_a_deferral_that_never_clears_fails_after_the_last_attempt(queued: Path) -> None:
    handler = MailHandler(defer_once={"sunli@example.cn": "452 4.2.2 Mailbox full"})
    with smtp_server(handler) as port:
        configure(queued, port, None, max_attempts=1)
        result = run(queued, "send")
    assert result.exit_code == 1
    state, _, reply, attempts = states(queued)[key_of(queued, "sunli@example.cn")]
    assert (state, attempts) == ("failed", 1)
    assert reply == "gave up after 1 attempts: 452 4.2.2 Mailbox full"


def test_a_timeout_is_retried(queued: Path) -> None:
    handler = MailHandler(stall_once={"zhangwei@example.cn": 2.0})
    with smtp_server(handler) as port:
        configure(queued, port, None, timeout_seconds=0.5)
        result = run(queued, "send")
    assert result.exit_code == 0, result.output
    assert "重试 1 次" in result.output
    assert_each_arrived_once(handler, queued)
    assert states(queued)[key_of(queued, "zhangwei@example.cn")][3] == 2


# --- lost connections and dead runs ---------------------------------------------------------


def test_a_connection_dropped_mid_batch_then_a_rerun_loses_nothing_and_sends_nothing_twice(
    queued: Path, certificate: tuple[Path, Path]
) -> None:
    handler = MailHandler(drop_at_mail={6})
    with smtp_server(handler, certificate=certificate, auth=True) as port:
        configure(queued, port, certificate[0])
        first = run(queued, "send")
        assert first.exit_code == 2, first.output
        assert "无法连接邮件服务器" in first.output
        assert "已发送 5，重试 1 次" in first.output and "待发 16" in first.output
        assert len(handler.received) == 5
        handler.revive()
        second = run(queued, "send")
    assert second.exit_code == 0, second.output
    assert "已发送 16" in second.output
    assert_each_arrived_once(handler, queued)
    assert {s for s, *_ in states(queued).values()} == {"sent"}


def test_a_connection_lost_after_the_content_leaves_the_message_unknown(
    queued: Path, certificate: tuple[Path, Path]
) -> None:
    handler = MailHandler(drop_after_content={"zhangwei@example.cn"})
    with smtp_server(handler, certificate=certificate, auth=True) as port:
        configure(queued, port, certificate[0])
        first = run(queued, "send")
        rerun = run(queued, "send")
        key = key_of(queued, "zhangwei@example.cn")
        arrived = Counter(handler.keys())
        state_before = states(queued)[key][0]
        status = run(queued, "status")
        refused = run(queued, "send", "--resend", key_of(queued, "lintao@example.cn"))
        resent = run(queued, "send", "--resend", key)
    assert first.exit_code == 1, first.output
    assert "已发送 20" in first.output and "结果不明 1" in first.output
    assert f"? 结果不明 {key}" in first.output
    # The server has it once; the re-run leaves it alone.
    assert rerun.exit_code == 0 and "已发送 0" in rerun.output
    assert arrived[key] == 1 and set(arrived.values()) == {1} and len(arrived) == 21
    assert state_before == "unknown"
    assert "另有 1 封结果不明的邮件仍在等待处理" in rerun.output
    assert key in status.output and "unknown" in status.output
    # A person decides: --resend is for unknown and failed messages only.
    assert refused.exit_code == 2 and "sent" in refused.output
    assert resent.exit_code == 0, resent.output
    assert Counter(handler.keys())[key] == 2
    assert states(queued)[key][0] == "sent"
    with closing(sqlite3.connect(queued / "ledger.db")) as connection:
        actions = [row[0] for row in connection.execute("SELECT action FROM events")]
    assert "email_resend" in actions


def test_a_run_killed_mid_transaction_leaves_the_message_unknown(
    queued: Path, certificate: tuple[Path, Path]
) -> None:
    held = "manager@example.cn"
    handler = MailHandler(hold={held})
    with smtp_server(handler, certificate=certificate, auth=True) as port:
        configure(queued, port, certificate[0])
        process = subprocess.Popen(
            [sys.executable, "-m", "ledger_batch", "-w", str(queued), "send"],
            env={**os.environ, **ENV},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert handler.held.wait(60), "the held message never arrived"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        key = key_of(queued, held)
        assert states(queued)[key][0] == "sending"
        handler.hold.clear()
        rerun = run(queued, "send")
        dry = run(queued, "send", "--dry-run")
    assert rerun.exit_code == 1, rerun.output
    assert f"? 结果不明 {key}" in rerun.output
    assert states(queued)[key][0] == "unknown"
    assert_each_arrived_once(handler, queued)
    assert "不会自动重发" in dry.output and key in dry.output


# --- TLS is not optional --------------------------------------------------------------------


def test_a_server_without_starttls_gets_nothing_in_clear(
    queued: Path, certificate: tuple[Path, Path]
) -> None:
    handler = MailHandler()
    with smtp_server(handler) as port:  # no certificate: no STARTTLS offered
        configure(queued, port, certificate[0])
        result = run(queued, "send")
    assert result.exit_code == 2, result.output
    assert "不提供 STARTTLS" in result.output and "未以明文发送任何内容" in result.output
    assert handler.mail_commands == 0 and not handler.received and not handler.logins
    assert {s for s, *_ in states(queued).values()} == {"pending"}


def test_an_untrusted_certificate_gets_nothing(
    queued: Path, certificate: tuple[Path, Path]
) -> None:
    handler = MailHandler()
    with smtp_server(handler, certificate=certificate, auth=True) as port:
        configure(queued, port, None, security="starttls", smtp_user=USER)
        result = run(queued, "send")
    assert result.exit_code == 2, result.output
    assert "建立加密连接失败" in result.output and "CERTIFICATE_VERIFY_FAILED" in result.output
    assert handler.mail_commands == 0 and not handler.logins
    assert {s for s, *_ in states(queued).values()} == {"pending"}


def test_a_login_without_tls_is_refused_before_connecting(queued: Path) -> None:
    handler = MailHandler()
    with smtp_server(handler) as port:
        configure(queued, port, None, smtp_user=USER)
        result = run(queued, "send")
    assert result.exit_code == 2 and "明文传输" in result.output
    assert handler.mail_commands == 0


def test_resend_needs_a_known_key(queued: Path) -> None:
    result = run(queued, "send", "--resend", "2025-03-month-nonexistent", "--dry-run")
    assert result.exit_code == 2 and "发件箱中没有 2025-03-month-nonexistent" in result.output
