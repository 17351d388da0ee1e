"""A real SMTP server for the email tests: aiosmtpd on 127.0.0.1, a free port, and a
self-signed certificate (SAN IP:127.0.0.1) made by the test with ``cryptography``.

``MailHandler`` records every message it accepts and can be told to misbehave as real
servers do: refuse a recipient (5xx), defer one once (4xx), stall, drop the connection
before or after the message's content, or hold a message without answering.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER = "office"
PASSWORD = "s3cret-不要写进文件"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for IP 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ledger-batch test SMTP")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    over_tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        """The message parsed as a mail client would."""
        return cast(EmailMessage, message_from_bytes(self.content, policy=policy.default))

    @property
    def key(self) -> str:
        """ledger-batch's key of the message."""
        return str(self.message["X-Ledger-Batch-Key"])


@dataclass
class MailHandler:
    """aiosmtpd handler: records what arrives, misbehaves on request."""

    refuse: dict[str, str] = field(default_factory=dict)
    """Address → a 5xx reply to its RCPT."""
    defer_once: dict[str, str] = field(default_factory=dict)
    """Address → a 4xx reply to its first RCPT; accepted afterwards."""
    stall_once: dict[str, float] = field(default_factory=dict)
    """Address → seconds to wait before answering its first RCPT."""
    drop_at_mail: set[int] = field(default_factory=set)
    """Drop the connection at these MAIL commands (1-based) and stay down until revived."""
    drop_after_content: set[str] = field(default_factory=set)
    """Addresses whose message is accepted but whose connection drops before the reply."""
    hold: set[str] = field(default_factory=set)
    """Addresses whose message is accepted and then never answered (until stopped)."""
    received: list[Received] = field(default_factory=list)
    mail_commands: int = 0
    logins: list[str] = field(default_factory=list)
    down: bool = False
    held: threading.Event = field(default_factory=threading.Event)

    def revive(self) -> None:
        """Answer connections again after a drop."""
        self.down = False

    def keys(self) -> list[str]:
        """The ledger-batch keys of every accepted message, in arrival order."""
        return [r.key for r in self.received]

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.down:
            server.transport.close()
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.mail_commands += 1
        if self.mail_commands in self.drop_at_mail:
            self.down = True
            server.transport.close()
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.stall_once:
            await asyncio.sleep(self.stall_once.pop(address))
        if address in self.refuse:
            return self.refuse[address]
        if address in self.defer_once:
            return self.defer_once.pop(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if session.authenticated else None
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
                session.ssl is not None or bool(server.transport.get_extra_info("ssl_object")),
                login,
            )
        )
        recipient = envelope.rcpt_tos[0]
        if recipient in self.drop_after_content:
            self.drop_after_content.discard(recipient)
            server.transport.close()
        if recipient in self.hold:
            self.held.set()
            await asyncio.sleep(120)
        return "250 2.0.0 Message accepted for delivery"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    handler = server.event_handler
    if isinstance(auth_data, LoginPassword):
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if (login, password) == (USER, PASSWORD):
            handler.logins.append(login)
            return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(success=False, handled=False)


@contextmanager
def smtp_server(
    handler: MailHandler,
    *,
    certificate: tuple[Path, Path] | None = None,
    implicit_tls: bool = False,
    auth: bool = False,
    port: int | None = None,
) -> Iterator[int]:
    """Run ``handler`` on 127.0.0.1 (STARTTLS offered and required when a certificate is
    given; implicit TLS on request; AUTH after TLS when ``auth``); yields the port."""
    context = None
    if certificate is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, certificate))
    options: dict[str, Any] = {"server_hostname": "mail.test", "ready_timeout": 10}
    if implicit_tls:
        options["ssl_context"] = context
    elif context is not None:
        options.update(tls_context=context, require_starttls=True)
    if auth:
        options.update(authenticator=_authenticate, auth_required=True)
    chosen = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=chosen, **options)
    controller.start()
    try:
        yield chosen
    finally:
        controller.stop()


# --- workspaces for the email tests -------------------------------------------------------

SAMPLES = Path(__file__).resolve().parent.parent / "sample_ledgers"
SAMPLE_EMAIL_TOML: dict[str, object] = {
    "sender_name": "行政办公室",
    "sender_address": "office@example.cn",
    "manager": [{"name": "王经理", "address": "manager@example.cn"}],
    "office": [{"name": "行政办公室", "address": "office@example.cn"}],
}


def toml_value(value: object) -> str:
    """A value as TOML (strings, numbers, booleans, lists, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return (
            '"'
            + value.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\r", "\\r")
            .replace("\n", "\\n")
            + '"'
        )
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


def write_config(root: Path, company: str | None = None, **email: object) -> None:
    """The workspace's rules file: files settle at once, and this ``[email]`` section."""
    lines = [f"company = {toml_value(company)}"] if company is not None else []
    lines += ["[limits]", "settle_seconds = 0", "", "[email]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in email.items()]
    (root / "ledger-batch.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def server_settings(port: int, cert: Path | None = None, **extra: object) -> dict[str, object]:
    """``[email]`` settings for a test server on 127.0.0.1 (fast retries)."""
    settings: dict[str, object] = {
        **SAMPLE_EMAIL_TOML,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "security": "starttls" if cert else "none",
        "timeout_seconds": 5.0,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.2,
    }
    if cert is not None:
        settings.update(ca_file=str(cert), smtp_user=USER)
    settings.update(extra)
    return settings


def ingest_sample_year(root: Path) -> Path:
    """A workspace at ``root`` holding the whole bundled sample year; returns ``root``."""
    from click.testing import CliRunner

    from ledger_batch.cli import cli
    from ledger_batch.workspace import Workspace

    Workspace.create(root)
    write_config(root)
    for sample in SAMPLES.iterdir():
        if sample.suffix.lower() in {".xlsx", ".xls", ".ods", ".csv"}:
            (root / "inbox" / sample.name).write_bytes(sample.read_bytes())
    result = CliRunner().invoke(cli, ["-w", str(root), "ingest"])
    assert result.exit_code == 0, result.output
    return root
