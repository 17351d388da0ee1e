"""Stage 7b, deliver: send the outbox's due messages over SMTP, one recipient each.

The server, port, login and sender come from ``[email]`` in ``ledger-batch.toml``; the
password only from the environment variable it names. TLS is STARTTLS with the
certificate verified (``ssl.create_default_context()``, plus an optional company CA) or
implicit TLS; a server that offers no STARTTLS when it is required gets nothing.

Each message is claimed (``sending``, committed) before its SMTP transaction starts. A 4xx
reply, a disconnect or a timeout before the message's content has gone retries it with a
capped, doubling backoff; a 5xx reply fails it with the server's words. A connection lost
after the content has gone, or a run that died mid-transaction, leaves it ``unknown``: the
server may have accepted it, so it is never sent again unless a person says so
(``send --resend KEY``). Only one ``send`` runs at a time per workspace.
"""

from __future__ import annotations

import base64
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from filelock import FileLock, Timeout

from ledger_batch.config import EmailSettings
from ledger_batch.errors import EmailError
from ledger_batch.messages import Lang
from ledger_batch.outbox import DUE_STATES, Outbox, OutboxMessage, State
from ledger_batch.render_text import table
from ledger_batch.store import Store
from ledger_batch.workspace import Workspace

SEND_LOCK_NAME = ".send.lock"
RESENDABLE = ("unknown", "failed")


class Deferred(Exception):
    """A temporary failure before the content went: try again later."""


class Refused(Exception):
    """The server refused the message (5xx): it will not take it."""


class Uncertain(Exception):
    """The connection broke after the content went: the server may have accepted it."""


@dataclass
class SendSummary:
    """What one ``send`` run did."""

    configured: bool = True
    sent: list[OutboxMessage] = field(default_factory=list)
    retried: int = 0
    """Temporary failures that were (or will be) tried again."""
    failed: list[tuple[OutboxMessage, str]] = field(default_factory=list)
    unknown: list[tuple[OutboxMessage, str]] = field(default_factory=list)
    recovered: list[OutboxMessage] = field(default_factory=list)
    """Messages an earlier run left in ``sending``: now ``unknown``."""
    left: list[OutboxMessage] = field(default_factory=list)
    """Messages still due when the run ended (not configured, or stopped)."""
    stopped: EmailError | None = None
    """Why the run stopped before the outbox was empty (server unreachable, TLS, login)."""
    unknown_in_outbox: int = 0
    """Messages in ``unknown`` after the run, from this run or earlier ones."""

    @property
    def needs_attention(self) -> bool:
        """Whether a person must look at something (failed, unknown, or left unsent)."""
        return bool(self.failed or self.unknown or self.recovered or self.stopped)


Progress = Callable[[OutboxMessage, str, str], None]
"""Called after each attempt with the message, its new state and the server's words."""


# --- the SMTP connection ------------------------------------------------------------------


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload: leading dots doubled, ending in CRLF . CRLF (RFC 5321 §4.5.2)."""
    body = re.sub(rb"(?m)^\.", b"..", data)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


class SmtpSession:
    """One connection at a time to the configured server, opened when first needed."""

    def __init__(self, email: EmailSettings, password: str | None, root: Path) -> None:
        self.email = email
        self.password = password
        self.root = root
        self.smtp: smtplib.SMTP | None = None
        self.content_sent = False

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.email.ca_file:
            path = self.root / self.email.ca_file
            try:
                context.load_verify_locations(cafile=str(path))
            except (OSError, ssl.SSLError) as exc:
                raise EmailError("smtp_ca_file", path=str(path), detail=str(exc)) from exc
        return context

    def _where(self) -> dict[str, object]:
        return {"host": self.email.smtp_host, "port": self.email.smtp_port}

    def open(self) -> None:
        """Connect, secure and log in; EmailError says what went wrong."""
        if self.smtp is not None:
            return
        email = self.email
        try:
            if email.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    email.smtp_host,
                    email.smtp_port,
                    timeout=email.timeout_seconds,
                    context=self._tls_context(),
                )
            else:
                smtp = smtplib.SMTP(email.smtp_host, email.smtp_port, timeout=email.timeout_seconds)
            self.smtp = smtp
            smtp.ehlo()
            if email.security == "starttls":
                self._starttls(smtp)
            if email.smtp_user:
                self._login(smtp)
        except ssl.SSLError as exc:
            self.close()
            raise EmailError("smtp_tls_failed", detail=str(exc), **self._where()) from exc
        except EmailError:
            self.close()
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise EmailError("smtp_unreachable", detail=str(exc), **self._where()) from exc

    def _starttls(self, smtp: smtplib.SMTP) -> None:
        if not smtp.has_extn("starttls"):
            raise EmailError("smtp_no_starttls", **self._where())
        try:
            smtp.starttls(context=self._tls_context())
        except smtplib.SMTPResponseException as refused:
            detail = _reply_text(refused.smtp_code, refused.smtp_error)
            raise EmailError("smtp_tls_failed", detail=detail, **self._where()) from refused
        smtp.ehlo()

    def _login(self, smtp: smtplib.SMTP) -> None:
        """Log in. smtplib encodes credentials as ASCII, so a password with other characters
        goes as AUTH PLAIN in UTF-8 (RFC 4616). The password is never part of an error."""
        password = self.password or ""
        try:
            if password.isascii():
                smtp.login(self.email.smtp_user, password)
            else:
                self._login_plain_utf8(smtp, password)
        except smtplib.SMTPAuthenticationError as refused:
            detail = _reply_text(refused.smtp_code, refused.smtp_error)
            raise self._login_failed(detail) from None
        except smtplib.SMTPNotSupportedError:
            raise self._login_failed("the server offers no login (AUTH)") from None

    def _login_plain_utf8(self, smtp: smtplib.SMTP, password: str) -> None:
        if "plain" not in smtp.esmtp_features.get("auth", "").lower().split():
            raise self._login_failed("the server offers no AUTH PLAIN for a non-ASCII password")
        credentials = f"\0{self.email.smtp_user}\0{password}".encode()
        code, reply = smtp.docmd("AUTH", "PLAIN " + base64.b64encode(credentials).decode())
        if code not in (235, 503):
            raise self._login_failed(_reply_text(code, reply))

    def _login_failed(self, detail: str) -> EmailError:
        return EmailError(
            "smtp_login_failed",
            user=self.email.smtp_user,
            detail=detail,
            variable=self.email.password_env,
        )

    def close(self) -> None:
        """Say QUIT when possible, and drop the connection."""
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def transmit(self, sender: str, recipient: str, data: bytes) -> str:
        """One SMTP transaction; the server's acceptance, or Deferred/Refused/Uncertain."""
        assert self.smtp is not None
        smtp = self.smtp
        self.content_sent = False
        try:
            self._expect(smtp.mail(sender), (250,))
            self._expect(smtp.rcpt(recipient), (250, 251))
            self._expect(smtp.docmd("DATA"), (354,))
            smtp.send(_dot_stuffed(data))
            self.content_sent = True
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.smtp = None
            smtp.close()
            text = str(exc) or type(exc).__name__
            if self.content_sent:
                raise Uncertain(f"connection lost after the message was sent: {text}") from exc
            raise Deferred(f"connection lost: {text}") from exc
        if code == 250:
            return _reply_text(code, reply)
        raise self._classify(code, reply)

    def _expect(self, answer: tuple[int, bytes], codes: tuple[int, ...]) -> None:
        code, reply = answer
        if code not in codes:
            self._reset(code)
            raise self._classify(code, reply)

    def _classify(self, code: int, reply: bytes) -> Exception:
        text = _reply_text(code, reply)
        return Deferred(text) if 400 <= code < 500 else Refused(text)

    def _reset(self, code: int) -> None:
        """Abandon the transaction (RSET) so the next one starts clean; 421 closes."""
        if code == 421:
            self.close()
            return
        try:
            if self.smtp is not None:
                self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.smtp = None


# --- one run ------------------------------------------------------------------------------


def _password(email: EmailSettings) -> str | None:
    if not email.smtp_user:
        return None
    if email.security == "none":
        raise EmailError("smtp_login_in_clear")
    password = os.environ.get(email.password_env)
    if not password:
        raise EmailError("smtp_password_missing", variable=email.password_env)
    return password


def _resendable(outbox: Outbox, keys: Iterable[str]) -> list[OutboxMessage]:
    """The named messages, each known and in a state a person may send again."""
    messages = []
    for key in keys:
        message = outbox.get(key)
        if message is None:
            raise EmailError("outbox_unknown_key", key=key)
        if message.state not in RESENDABLE:
            raise EmailError("outbox_not_resendable", key=key, state=message.state)
        messages.append(message)
    return messages


def resend(store: Store, keys: Iterable[str]) -> list[OutboxMessage]:
    """Make the named ``unknown`` or ``failed`` messages pending again (a person's call)."""
    outbox = Outbox(store)
    messages = _resendable(outbox, keys)
    for message in messages:
        outbox.requeue(message.key)
        store.record_event(
            "email_resend", message.period, {"key": message.key, "was": message.state}
        )
    return messages


class _Run:
    """The send loop: due messages in order, retries after their backoff, a rate limit."""

    def __init__(
        self,
        workspace: Workspace,
        outbox: Outbox,
        session: SmtpSession,
        summary: SendSummary,
        progress: Progress | None,
        sleep: Callable[[float], None],
    ) -> None:
        self.workspace = workspace
        self.email = workspace.settings.email
        self.outbox = outbox
        self.session = session
        self.summary = summary
        self.progress = progress
        self.sleep = sleep
        self.retry_at: dict[str, float] = {}
        self.last_start: float | None = None

    def due(self) -> list[OutboxMessage]:
        now = time.monotonic()
        return [
            m for m in self.outbox.in_states(*DUE_STATES) if self.retry_at.get(m.key, 0.0) <= now
        ]

    def run(self) -> None:
        while True:
            due = self.due()
            if not due:
                waiting = [self.retry_at[m.key] for m in self.outbox.in_states("retry")]
                if not waiting:
                    return
                self.sleep(max(0.0, min(waiting) - time.monotonic()))
                continue
            for message in due:
                self._pace()
                try:
                    self.session.open()
                except EmailError as error:
                    self.summary.stopped = error
                    return
                self.attempt(message)

    def _pace(self) -> None:
        if self.email.rate_per_minute and self.last_start is not None:
            wait = self.last_start + 60.0 / self.email.rate_per_minute - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        self.last_start = time.monotonic()

    def attempt(self, message: OutboxMessage) -> None:
        path = self.workspace.root / message.eml_path
        if not path.is_file():
            self._settle(message, "failed", f"the file {message.eml_path} is missing")
            return
        data = path.read_bytes()
        if not self.outbox.claim(message.key, message.attempts + 1):
            return
        try:
            reply = self.session.transmit(self.email.sender_address, message.address, data)
        except Deferred as deferred:
            self._deferred(message, str(deferred))
        except Refused as refused:
            self._settle(message, "failed", str(refused))
        except Uncertain as uncertain:
            self._settle(message, "unknown", str(uncertain))
        except BaseException:
            state: State = "unknown" if self.session.content_sent else "retry"
            self.outbox.settle(message.key, state, reply="the run was interrupted")
            raise
        else:
            self._settle(message, "sent", reply)

    def _deferred(self, message: OutboxMessage, reply: str) -> None:
        attempts = message.attempts + 1
        if attempts >= self.email.max_attempts:
            self._settle(message, "failed", f"gave up after {attempts} attempts: {reply}")
            return
        delay = min(
            self.email.retry_base_seconds * 2 ** (attempts - 1), self.email.retry_max_seconds
        )
        self.retry_at[message.key] = time.monotonic() + delay
        when = (datetime.now() + timedelta(seconds=delay)).isoformat(timespec="seconds")
        self.summary.retried += 1
        self._settle(message, "retry", reply, next_attempt_at=when)

    def _settle(
        self, message: OutboxMessage, state: State, reply: str, next_attempt_at: str | None = None
    ) -> None:
        self.outbox.settle(message.key, state, reply=reply, next_attempt_at=next_attempt_at)
        settled = self.outbox.get(message.key) or message
        if state == "sent":
            self.summary.sent.append(settled)
        elif state == "failed":
            self.summary.failed.append((settled, reply))
        elif state == "unknown":
            self.summary.unknown.append((settled, reply))
        if self.progress is not None:
            self.progress(settled, state, reply)


def send(
    workspace: Workspace,
    *,
    resend_keys: Iterable[str] = (),
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendSummary:
    """Deliver every due message; see the module docstring for the states."""
    email = workspace.settings.email
    lock = FileLock(str(workspace.folder("outbox") / SEND_LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout as busy:
        raise EmailError("send_running") from busy
    try:
        with workspace.store() as store:
            outbox = Outbox(store)
            summary = SendSummary(configured=bool(email.smtp_host))
            summary.recovered = outbox.mark_unknown_leftovers()
            resend(store, resend_keys)
            if summary.configured:
                session = SmtpSession(email, _password(email), workspace.root)
                try:
                    _Run(workspace, outbox, session, summary, progress, sleep).run()
                finally:
                    session.close()
            summary.left = outbox.in_states(*DUE_STATES)
            summary.unknown_in_outbox = len(outbox.in_states("unknown"))
            return summary
    finally:
        lock.release()


# --- what a person reads ------------------------------------------------------------------


def _t(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def preview(
    store: Store, resend_keys: Iterable[str] = ()
) -> tuple[list[OutboxMessage], list[OutboxMessage]]:
    """What a run would send (due, and the named resends), and what waits for a person
    (``unknown``, or ``sending`` left by a run that died); changes nothing."""
    outbox = Outbox(store)
    again = _resendable(outbox, resend_keys)
    waiting = [m for m in outbox.in_states("unknown", "sending") if m.key not in resend_keys]
    return outbox.in_states(*DUE_STATES) + again, waiting


def preview_text(
    due: list[OutboxMessage], waiting: list[OutboxMessage], email: EmailSettings, lang: Lang
) -> str:
    """``send --dry-run``: the messages that would go, to which server, and what would not."""
    server = f"{email.smtp_host}:{email.smtp_port} ({email.security})" if email.smtp_host else ""
    lines = [
        _t(
            lang,
            f"将发送 {len(due)} 封（仅列出，未发送）" + (f"，经 {server}" if server else ""),
            f"{len(due)} message(s) would be sent (dry run: nothing sent)"
            + (f" through {server}" if server else ""),
        )
    ]
    if not email.smtp_host:
        lines.append(
            _t(
                lang,
                "未配置 SMTP（[email] smtp_host 为空）：运行 send 时邮件留在 outbox/。",
                "No SMTP server is configured ([email] smtp_host is blank): send leaves them "
                "in outbox/.",
            )
        )
    if due:
        lines.append(messages_table(due, lang))
    if waiting:
        lines.append(
            _t(
                lang,
                "不会自动重发（结果不明，需人工确认后 --resend）：",
                "Not sent again on their own (outcome unknown; --resend once checked):",
            )
        )
        lines.append(messages_table(waiting, lang, reason=True))
    return "\n".join(lines)


def messages_table(messages: Iterable[OutboxMessage], lang: Lang, reason: bool = False) -> str:
    """Key, state, recipient and subject (and the server's last words) of messages."""
    headers = [_t(lang, "编号", "Key"), _t(lang, "状态", "State"), _t(lang, "收件人", "To")]
    headers.append(_t(lang, "主题", "Subject"))
    rows = [
        [m.key, m.state, f"{m.recipient_name} <{m.address}>", m.subject]
        + ([m.last_reply or ""] if reason else [])
        for m in messages
    ]
    if reason:
        headers.append(_t(lang, "服务器答复", "Server reply"))
    return table(headers, rows)


def summary_text(summary: SendSummary, lang: Lang) -> str:
    """The end-of-run summary: sent, retried, failed, unknown, and what to do next."""
    lines = [
        _t(
            lang,
            f"已发送 {len(summary.sent)}，重试 {summary.retried} 次，失败 {len(summary.failed)}，"
            f"结果不明 {len(summary.unknown) + len(summary.recovered)}，待发 {len(summary.left)}",
            f"sent {len(summary.sent)}, retried {summary.retried}, failed {len(summary.failed)}, "
            f"unknown {len(summary.unknown) + len(summary.recovered)}, "
            f"still queued {len(summary.left)}",
        )
    ]
    if not summary.configured:
        lines.append(
            _t(
                lang,
                f"未配置 SMTP（[email] smtp_host 为空）：{len(summary.left)} 封邮件留在 outbox/。",
                f"No SMTP server configured ([email] smtp_host is blank): "
                f"{len(summary.left)} message(s) stay in outbox/.",
            )
        )
    for message, reply in summary.failed:
        lines.append(_t(lang, "✘ 失败 ", "✘ failed ") + f"{message.key} {message.address}: {reply}")
    unknown = [m for m, _ in summary.unknown] + summary.recovered
    for message in unknown:
        lines.append(
            _t(lang, "? 结果不明 ", "? unknown ")
            + f"{message.key} {message.address}"
            + _t(
                lang,
                "（服务器可能已收到；确认未收到后用 send --resend 编号 重发）",
                " (the server may have it; if the recipient did not get it: send --resend KEY)",
            )
        )
    earlier = summary.unknown_in_outbox - len(unknown)
    if earlier > 0:
        lines.append(
            _t(
                lang,
                f"另有 {earlier} 封结果不明的邮件仍在等待处理（见 status）",
                f"{earlier} message(s) of unknown outcome still wait for a person (see status)",
            )
        )
    return "\n".join(lines)


def outbox_status_text(store: Store, lang: Lang) -> str:
    """The outbox part of ``status``: counts by state, and what waits for a person."""
    outbox = Outbox(store)
    counts = outbox.counts()
    if not counts:
        return ""
    parts = [
        _t(lang, "发件箱：", "Outbox: ") + ", ".join(f"{state} {n}" for state, n in counts.items())
    ]
    attention = outbox.in_states("unknown", "sending", "failed")
    if attention:
        parts.append(
            _t(
                lang,
                "需要处理（unknown：服务器可能已收到，确认后用 send --resend 编号 重发；"
                "failed：服务器拒收）：",
                "Needs a person (unknown: the server may have it, resend with send --resend "
                "KEY once checked; failed: the server refused it):",
            )
        )
        parts.append(messages_table(attention, lang, reason=True))
    return "\n".join(parts)
