"""Stage 7a, compose: who gets which message, built as MIME into ``outbox/`` with a record.

Summaries (month, quarter, payout) go to the manager and office addresses of
``ledger-batch.toml``; each liaison's personal statement, and the monthly reminder, go to
that liaison alone at the roster's 邮箱. Every message is multipart/alternative (plain
text and the report's inlined HTML), with the workbook attached where the config says.

Everything is checked before anything is queued: addresses, display names and subjects
(no line breaks, control characters or ``=?``: CVE-2024-6923), and that no two liaisons
share an address. Each message has a stable key from (period, report, language,
recipient, data version): queuing the same figures again queues nothing; changed figures
withdraw a message not yet sent, or queue a correction that says it replaces one that was.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import pandas as pd

from ledger_batch.addresses import PROBLEMS, address_problem, text_problem
from ledger_batch.assess import MonthFigures, PayoutFigures
from ledger_batch.atomic import write_atomically
from ledger_batch.config import Recipient, Settings
from ledger_batch.errors import EmailError
from ledger_batch.labels import format_cell
from ledger_batch.messages import Lang
from ledger_batch.outbox import LIVE_STATES, Outbox, OutboxMessage, now_text
from ledger_batch.publish import report_html
from ledger_batch.render_html import render_html
from ledger_batch.render_text import table as text_table
from ledger_batch.reports import Report, Table, reminder_report
from ledger_batch.store import Store
from ledger_batch.templating import environment
from ledger_batch.workspace import Workspace

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
ROSTER = ("人员名册的邮箱列", "the roster's 邮箱 column")
CONFIG = ("ledger-batch.toml 的 [email]", "the [email] section of ledger-batch.toml")


@dataclass(frozen=True)
class Draft:
    """One message to queue, before it is checked and built."""

    kind: str
    """``month``, ``quarter``, ``payout``, ``statement`` or ``reminder``."""
    period: str
    recipient_id: str
    """The 工号 of a liaison; the address itself for the manager and the office."""
    recipient: Recipient
    report: Report
    personal: bool
    where: tuple[str, str]
    """Where the recipient's address comes from (zh, en), for error messages."""
    attachment: Path | None = None

    @property
    def who(self) -> str:
        """The recipient as an error message names them."""
        return f"{self.recipient.name}（{self.recipient_id}）" if self.personal else self.who_addr

    @property
    def who_addr(self) -> str:
        """A summary recipient: name and address."""
        return f"{self.recipient.name} <{self.recipient.address}>"


@dataclass
class QueueResult:
    """What one ``--email`` run did to the outbox."""

    queued: list[OutboxMessage] = field(default_factory=list)
    already: list[OutboxMessage] = field(default_factory=list)
    """Same figures already queued or sent to the same address: not queued again."""
    withdrawn: list[OutboxMessage] = field(default_factory=list)
    """Not yet sent, and replaced by newer figures or no longer due: ``superseded``."""
    unaddressed: list[tuple[str, str, str]] = field(default_factory=list)
    """``(工号, 姓名, kind)`` of liaisons with no 邮箱 in the roster: nothing queued for them."""
    no_audience: list[str] = field(default_factory=list)
    """Summary kinds with no manager or office address configured."""

    @property
    def corrections(self) -> list[OutboxMessage]:
        """Queued messages that replace one already sent."""
        return [m for m in self.queued if m.replaces]

    def extend(self, other: QueueResult) -> None:
        """Add another run's outcome to this one."""
        for name in ("queued", "already", "withdrawn", "unaddressed", "no_audience"):
            getattr(self, name).extend(getattr(other, name))


# --- who gets what ----------------------------------------------------------------------


def _address(value: object) -> str:
    """A roster 邮箱 cell as text; blank (None, NaN, spaces) is ''."""
    return "" if value is None or pd.isna(value) else str(value).strip()


def summary_drafts(
    settings: Settings, report: Report, kind: str, period: str, workbook: Path | None
) -> list[Draft]:
    """The report to each manager and office address its ``<kind>_to`` setting names."""
    email = settings.email
    audience = {"month": email.month_to, "quarter": email.quarter_to, "payout": email.payout_to}
    recipients = [r for group in audience[kind] for r in getattr(email, group)]
    unique = {r.address.lower(): r for r in reversed(recipients)}
    attachment = workbook if kind in email.attach_workbook else None
    return [
        Draft(kind, period, address, recipient, report, False, CONFIG, attachment)
        for address, recipient in sorted(unique.items())
    ]


def statement_drafts(
    settings: Settings,
    figures: PayoutFigures,
    statements: Sequence[Report],
    workbooks: Sequence[Path],
) -> tuple[list[Draft], list[tuple[str, str, str]]]:
    """Each liaison's own statement to their roster address; those without one, listed."""
    people = figures.result.scores.set_index("employee_id")
    attach = "statement" in settings.email.attach_workbook
    drafts, unaddressed = [], []
    for report, workbook in zip(statements, workbooks, strict=True):
        employee_id = (report.recipient or "").split(" ", 1)[0]
        name, address = people.loc[employee_id, "name"], _address(people.loc[employee_id, "email"])
        if not address:
            unaddressed.append((employee_id, name, "statement"))
            continue
        recipient = Recipient.model_construct(name=name, address=address)
        drafts.append(
            Draft(
                "statement",
                str(figures.year),
                employee_id,
                recipient,
                report,
                True,
                ROSTER,
                workbook if attach else None,
            )
        )
    return drafts, unaddressed


def reminder_drafts(
    settings: Settings, figures: MonthFigures, lang: Lang
) -> tuple[list[Draft], list[tuple[str, str, str]]]:
    """A reminder to each in-service liaison with no counted item in the month."""
    drafts, unaddressed = [], []
    for person in figures.not_reported.itertuples():
        address = _address(person.email)
        if not address:
            unaddressed.append((person.employee_id, person.name, "reminder"))
            continue
        report = reminder_report(
            person.employee_id, person.name, person.unit, figures.period, settings, lang
        )
        recipient = Recipient.model_construct(name=person.name, address=address)
        drafts.append(
            Draft("reminder", figures.period, person.employee_id, recipient, report, True, ROSTER)
        )
    return drafts, unaddressed


# --- checking -----------------------------------------------------------------------------


def _refuse_text(value: str, what: tuple[str, str], where: tuple[str, str]) -> None:
    if text_problem(value):
        raise EmailError(
            "email_unsafe_header",
            what=what[0],
            what_en=what[1],
            value=value,
            where=where[0],
            where_en=where[1],
        )


def _refuse_address(address: str, who: str, where: tuple[str, str]) -> None:
    problem = address_problem(address)
    if problem:
        raise EmailError(
            "email_bad_address",
            who=who,
            address=address,
            detail=PROBLEMS[problem][0],
            detail_en=PROBLEMS[problem][1],
            where=where[0],
            where_en=where[1],
        )


def check_drafts(settings: Settings, drafts: Sequence[Draft]) -> None:
    """Refuse (EmailError) the first thing that cannot safely go into a message."""
    email = settings.email
    if not email.sender_address:
        raise EmailError("email_sender_missing")
    _refuse_address(email.sender_address, email.sender_name, CONFIG)
    _refuse_text(email.sender_name, ("发件人名称", "the sender's name"), CONFIG)
    _refuse_text(
        settings.company,
        ("公司名称", "the company name"),
        ("ledger-batch.toml", "ledger-batch.toml"),
    )
    owners: dict[str, Draft] = {}
    for draft in drafts:
        _refuse_address(draft.recipient.address, draft.who, draft.where)
        _refuse_text(draft.recipient.name, ("收件人姓名", "the recipient's name"), draft.where)
        if not draft.personal:
            continue
        other = owners.setdefault(draft.recipient.address.lower(), draft)
        if other.recipient_id != draft.recipient_id:
            raise EmailError(
                "email_shared_address",
                first=other.who,
                second=draft.who,
                address=draft.recipient.address,
            )


# --- versions and keys ------------------------------------------------------------------


def data_version(report: Report) -> str:
    """A hash of what the recipient is shown: the figures, not the time written, the
    notices about closing, nor the file/sheet/row the points came from."""
    sections = []
    for section in asdict(report)["sections"]:
        table = section.get("table")
        if table:
            keep = [i for i, c in enumerate(table["columns"]) if not c["key"].startswith("source_")]
            table["columns"] = [table["columns"][i] for i in keep]
            table["rows"] = [[row[i] for i in keep] for row in table["rows"]]
        sections.append(section)
    content = [report.kind, report.lang, report.company, report.title, report.period_label]
    text = json.dumps([content, report.recipient, sections], default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def message_key(draft: Draft, version: str, outbox: Outbox) -> str:
    """``<period>-<report>-<hash>``, the hash over (language, recipient, address, version);
    a suffix ``.2``, ``.3`` … when the same figures come back after different ones."""
    parts = [draft.report.lang, draft.recipient_id, draft.recipient.address.lower(), version]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:10]
    base = key = f"{draft.period}-{draft.kind}-{digest}"
    counter = 1
    while outbox.get(key) is not None:
        counter += 1
        key = f"{base}.{counter}"
    return key


# --- building -----------------------------------------------------------------------------


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _text_table(table: Table, empty_label: str) -> str:
    if not table.rows:
        return empty_label
    rows = [
        [format_cell(v, c.kind) for v, c in zip(row, table.columns, strict=True)]
        for row in table.rows
    ]
    if table.totals:
        rows.append(
            [format_cell(v, c.kind) for v, c in zip(table.totals, table.columns, strict=True)]
        )
    return text_table([c.label for c in table.columns], rows)


@dataclass(frozen=True)
class Parts:
    """A message's subject and its two bodies."""

    subject: str
    text: str
    html: str


def _context(draft: Draft, correction: str) -> dict[str, object]:
    lang = draft.report.lang
    return {
        "report": draft.report,
        "zh": lang == "zh",
        "name": draft.recipient.name,
        "personal": draft.personal,
        "correction": correction,
        "empty_label": _t(lang, "（无）", "(none)"),
        "attached": draft.attachment.name if draft.attachment else "",
    }


def checked_subject(workspace: Workspace, draft: Draft, correction: str = "") -> str:
    """The subject from ``templates/email_subject.txt.j2``, refused when it is not safe."""
    template = environment(workspace.templates_dir).get_template("email_subject.txt.j2")
    subject = template.render(_context(draft, correction)).strip()
    _refuse_text(
        subject,
        ("邮件主题", "the subject"),
        ("templates/email_subject.txt.j2", "the subject template"),
    )
    return subject


def render_parts(workspace: Workspace, draft: Draft, replaced: OutboxMessage | None) -> Parts:
    """Subject, plain text and inlined HTML of a draft (with a correction notice)."""
    lang = draft.report.lang
    correction = ""
    report = draft.report
    if replaced is not None:
        when = replaced.sent_at or replaced.queued_at
        correction = _t(
            lang,
            f"更正：本邮件取代 {when} 发出的同名邮件（台账更新后数据有变化），请以本邮件为准。",
            f"Correction: this message replaces the one sent on {when} (the ledgers were "
            "updated and the figures changed); please rely on this one.",
        )
        report = replace(report, notices=[correction, *report.notices])
    env = environment(workspace.templates_dir)
    env.filters["text_table"] = _text_table
    context = _context(draft, correction)
    subject = checked_subject(workspace, draft, correction)
    text = env.get_template("email_body.txt.j2").render(context)
    html = (
        render_html(report, workspace.templates_dir)
        if draft.kind == "reminder"
        else report_html(workspace, report)
    )
    return Parts(subject, text, html)


def build_message(
    settings: Settings,
    draft: Draft,
    parts: Parts,
    key: str,
    replaced: OutboxMessage | None,
) -> EmailMessage:
    """The MIME message: multipart/alternative (text, HTML), the workbook attached."""
    email = settings.email
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(email.sender_name, addr_spec=email.sender_address)
    message["To"] = Address(draft.recipient.name, addr_spec=draft.recipient.address)
    message["Subject"] = parts.subject
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = message_id(key, email.sender_address)
    if replaced is not None:
        message["References"] = replaced.message_id
        message["Supersedes"] = replaced.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Ledger-Batch-Key"] = key
    message.set_content(parts.text, subtype="plain", charset="utf-8", cte="base64")
    message.add_alternative(parts.html, subtype="html", charset="utf-8", cte="base64")
    if draft.attachment is not None:
        maintype, subtype = XLSX_TYPE
        guessed = mimetypes.guess_type(draft.attachment.name)[0]
        if guessed and "/" in guessed:
            maintype, subtype = guessed.split("/", 1)
        message.add_attachment(
            draft.attachment.read_bytes(),
            maintype=maintype,
            subtype=subtype,
            filename=draft.attachment.name,
        )
    return message


def message_id(key: str, sender_address: str) -> str:
    """A Message-ID made from the key: the same message keeps it when sent again."""
    return f"<{key}@{sender_address.rsplit('@', 1)[1]}>"


# --- queuing ------------------------------------------------------------------------------


def _plan(
    outbox: Outbox, draft: Draft, version: str
) -> tuple[OutboxMessage | None, list[OutboxMessage], OutboxMessage | None]:
    """``(already, to_withdraw, replaced)`` for a draft from its recipient's history."""
    history = outbox.history(draft.period, draft.kind, draft.report.lang, draft.recipient_id)
    live = [m for m in history if m.state in LIVE_STATES]
    address = draft.recipient.address.lower()
    if live and live[-1].data_version == version and live[-1].address.lower() == address:
        return live[-1], [], None
    withdraw = [m for m in history if m.state in ("pending", "retry")]
    delivered = [m for m in live if m.state not in ("pending", "retry")]
    replaced = delivered[-1] if delivered and delivered[-1].data_version != version else None
    return None, withdraw, replaced


def queue(
    workspace: Workspace, store: Store, groups: Iterable[tuple[str, str, str, list[Draft]]]
) -> QueueResult:
    """Queue every group ``(period, kind, lang, drafts)`` after checking all of them."""
    groups = list(groups)
    every = [d for *_, drafts in groups for d in drafts]
    check_drafts(workspace.settings, every)
    for draft in every:
        checked_subject(workspace, draft)
        checked_subject(workspace, draft, correction="x")
    outbox = Outbox(store)
    result = QueueResult()
    for period, kind, lang, drafts in groups:
        result.extend(_queue_group(workspace, store, outbox, (period, kind, lang), drafts))
    return result


def _queue_group(
    workspace: Workspace,
    store: Store,
    outbox: Outbox,
    report_id: tuple[str, str, str],
    drafts: list[Draft],
) -> QueueResult:
    result = QueueResult()
    wanted = {d.recipient_id for d in drafts}
    withdraw = {
        m.key: m
        for m in outbox.of_report(*report_id)
        if m.state in ("pending", "retry") and m.recipient_id not in wanted
    }
    new: list[OutboxMessage] = []
    for draft in drafts:
        version = data_version(draft.report)
        already, old, replaced = _plan(outbox, draft, version)
        if already is not None:
            result.already.append(already)
            continue
        withdraw.update((m.key, m) for m in old)
        new.append(_write(workspace, outbox, draft, version, replaced))
    with store.transaction():
        for message in withdraw.values():
            outbox.settle(
                message.key,
                "superseded",
                reply="withdrawn before sending: newer figures or no longer due",
            )
        for message in new:
            outbox.add(message)
    result.withdrawn = list(withdraw.values())
    result.queued = new
    if new or withdraw:
        store.record_event(
            "email_queued",
            report_id[0],
            {
                "report": report_id[1],
                "queued": [m.key for m in new],
                "corrections": [m.key for m in new if m.replaces],
                "withdrawn": list(withdraw),
            },
        )
    return result


def _write(
    workspace: Workspace,
    outbox: Outbox,
    draft: Draft,
    version: str,
    replaced: OutboxMessage | None,
) -> OutboxMessage:
    """Build the message, write ``outbox/<key>.eml`` whole, and return its record."""
    key = message_key(draft, version, outbox)
    parts = render_parts(workspace, draft, replaced)
    message = build_message(workspace.settings, draft, parts, key, replaced)
    data = message.as_bytes(policy=SMTP)
    if not data.isascii():
        raise ValueError(f"message {key} is not 7-bit clean")
    target = workspace.folder("outbox") / f"{key}.eml"
    write_atomically(target, lambda path: path.write_bytes(data))
    stamp = now_text()
    return OutboxMessage(
        seq=0,
        key=key,
        period=draft.period,
        report=draft.kind,
        lang=draft.report.lang,
        recipient_id=draft.recipient_id,
        recipient_name=draft.recipient.name,
        address=draft.recipient.address,
        data_version=version,
        subject=parts.subject,
        eml_path=target.relative_to(workspace.root).as_posix(),
        message_id=str(message["Message-ID"]),
        replaces=replaced.key if replaced else None,
        state="pending",
        attempts=0,
        next_attempt_at=None,
        last_reply=None,
        queued_at=stamp,
        sent_at=None,
        updated_at=stamp,
    )


# --- what the commands call ---------------------------------------------------------------


def queue_month(
    workspace: Workspace, figures: MonthFigures, report: Report, workbook: Path
) -> QueueResult:
    """``month --email``: the assessment to the manager and office, reminders to liaisons
    with no counted item in the month."""
    settings = workspace.settings
    summary = summary_drafts(settings, report, "month", figures.period, workbook)
    reminders, unaddressed = (
        reminder_drafts(settings, figures, report.lang) if settings.email.reminders else ([], [])
    )
    groups = [(figures.period, "month", report.lang, summary)]
    if settings.email.reminders:
        groups.append((figures.period, "reminder", report.lang, reminders))
    with workspace.store() as store:
        result = queue(workspace, store, groups)
    result.unaddressed += unaddressed
    if not summary:
        result.no_audience.append("month")
    return result


def queue_summary(
    workspace: Workspace, report: Report, kind: str, period: str, workbook: Path
) -> QueueResult:
    """``quarter --email`` and ``payout --email``: the report to the manager and office."""
    drafts = summary_drafts(workspace.settings, report, kind, period, workbook)
    with workspace.store() as store:
        result = queue(workspace, store, [(period, kind, report.lang, drafts)])
    if not drafts:
        result.no_audience.append(kind)
    return result


def queue_statements(
    workspace: Workspace,
    figures: PayoutFigures,
    statements: Sequence[Report],
    workbooks: Sequence[Path],
) -> QueueResult:
    """``statements --email``: each liaison's own statement, to that liaison only."""
    if not workspace.settings.email.statements or not statements:
        return QueueResult()
    drafts, unaddressed = statement_drafts(workspace.settings, figures, statements, workbooks)
    lang = statements[0].lang
    with workspace.store() as store:
        result = queue(workspace, store, [(str(figures.year), "statement", lang, drafts)])
    result.unaddressed += unaddressed
    return result


# --- what a person reads ------------------------------------------------------------------

KIND_LABELS = {
    "month": ("月考核", "monthly assessment"),
    "quarter": ("季评价", "quarterly evaluation"),
    "payout": ("年兑现", "payout"),
    "statement": ("个人考核通知单", "personal statement"),
    "reminder": ("报送提醒", "reminder"),
}


def queue_text(result: QueueResult, lang: Lang, verbose: bool = False) -> str:
    """What ``--email`` did: queued, already queued, corrections, withdrawn, and who has no
    address (each queued message too when ``verbose``)."""
    index = 0 if lang == "zh" else 1
    lines = [
        _t(
            lang,
            f"邮件：新排队 {len(result.queued)} 封（其中更正 {len(result.corrections)} 封），"
            f"内容未变、未重复排队 {len(result.already)} 封，撤回 {len(result.withdrawn)} 封"
            "；用 send 发送",
            f"Email: {len(result.queued)} queued ({len(result.corrections)} correction(s)), "
            f"{len(result.already)} unchanged and not queued again, "
            f"{len(result.withdrawn)} withdrawn; deliver them with send",
        )
    ]
    if verbose:
        lines += [f"  + {m.key}  {m.recipient_name} <{m.address}>" for m in result.queued]
    for employee_id, name, kind in result.unaddressed:
        what = KIND_LABELS[kind][index]
        lines.append(
            _t(
                lang,
                f"  ⚠ {name}（{employee_id}）在人员名册中没有邮箱：{what}未排队",
                f"  ⚠ {name} ({employee_id}) has no 邮箱 in the roster: no {what} queued",
            )
        )
    for kind in result.no_audience:
        what = KIND_LABELS[kind][index]
        lines.append(
            _t(
                lang,
                f"  ⚠ 没有配置经理或办公室邮箱（[email] manager/office）：{what}未排队",
                f"  ⚠ no manager or office address is configured ([email] manager/office): "
                f"the {what} was not queued",
            )
        )
    return "\n".join(lines)
