"""The outbox: every queued message's record in the store, and its delivery state.

States: ``pending`` (queued) → ``sending`` (committed before the SMTP transaction starts)
→ ``sent`` | ``retry`` (a temporary failure; tried again) | ``failed`` (the server refused
it, or temporary failures ran out). A message found in ``sending`` by a later run was left
there by a run that died mid-transaction: it becomes ``unknown`` and waits for a person
(``send --resend KEY``). ``superseded`` is a message withdrawn before it went out, because
the figures changed or it is no longer due. The ``.eml`` file beside each record in
``outbox/`` holds the exact bytes that are sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Literal

from ledger_batch.store import Store

State = Literal["pending", "sending", "sent", "retry", "failed", "unknown", "superseded"]
STATES: tuple[State, ...] = (
    "pending",
    "sending",
    "sent",
    "retry",
    "failed",
    "unknown",
    "superseded",
)
DUE_STATES: tuple[State, ...] = ("pending", "retry")
"""States ``send`` delivers."""
LIVE_STATES: tuple[State, ...] = ("pending", "retry", "sending", "sent", "unknown")
"""States of a message the recipient has or may yet receive."""


@dataclass(frozen=True)
class OutboxMessage:
    """One row of the ``outbox`` table."""

    seq: int
    key: str
    period: str
    report: str
    lang: str
    recipient_id: str
    recipient_name: str
    address: str
    data_version: str
    subject: str
    eml_path: str
    """Relative to the workspace root."""
    message_id: str
    replaces: str | None
    state: State
    attempts: int
    next_attempt_at: str | None
    last_reply: str | None
    queued_at: str
    sent_at: str | None
    updated_at: str


_COLUMNS = [f.name for f in fields(OutboxMessage)]


def now_text() -> str:
    """The current local time as stored (seconds)."""
    return datetime.now().isoformat(timespec="seconds")


class Outbox:
    """The ``outbox`` table of a store. Every change commits at once (autocommit)."""

    def __init__(self, store: Store) -> None:
        self.connection = store.connection

    def _select(self, where: str, params: Iterable[object] = ()) -> list[OutboxMessage]:
        rows = self.connection.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM outbox WHERE {where} ORDER BY seq", tuple(params)
        ).fetchall()
        return [OutboxMessage(*row) for row in rows]

    def get(self, key: str) -> OutboxMessage | None:
        """The message with ``key``, if any."""
        found = self._select("key = ?", (key,))
        return found[0] if found else None

    def history(
        self, period: str, report: str, lang: str, recipient_id: str
    ) -> list[OutboxMessage]:
        """Every message queued for one recipient of one report, oldest first."""
        return self._select(
            "period = ? AND report = ? AND lang = ? AND recipient_id = ?",
            (period, report, lang, recipient_id),
        )

    def of_report(self, period: str, report: str, lang: str) -> list[OutboxMessage]:
        """Every message of one report (all recipients), oldest first."""
        return self._select("period = ? AND report = ? AND lang = ?", (period, report, lang))

    def in_states(self, *states: State) -> list[OutboxMessage]:
        """Messages in any of ``states``, oldest first."""
        marks = ", ".join("?" * len(states))
        return self._select(f"state IN ({marks})", states)

    def counts(self) -> dict[str, int]:
        """How many messages are in each state (states with none left out)."""
        rows = self.connection.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        found = dict(rows.fetchall())
        return {state: found[state] for state in STATES if state in found}

    def add(self, message: OutboxMessage) -> None:
        """Insert a newly queued message."""
        values = [getattr(message, name) for name in _COLUMNS[1:]]
        self.connection.execute(
            f"INSERT INTO outbox ({', '.join(_COLUMNS[1:])}) "
            f"VALUES ({', '.join('?' * len(values))})",
            values,
        )

    def claim(self, key: str, attempts: int) -> bool:
        """Mark a due message ``sending`` (committed); False when another run took it."""
        cursor = self.connection.execute(
            "UPDATE outbox SET state = 'sending', attempts = ?, updated_at = ? "
            "WHERE key = ? AND state IN ('pending', 'retry')",
            (attempts, now_text(), key),
        )
        return cursor.rowcount == 1

    def settle(
        self,
        key: str,
        state: State,
        *,
        reply: str | None = None,
        next_attempt_at: str | None = None,
    ) -> None:
        """Record where a message ended up: its state, the server's words, the next try."""
        stamp = now_text()
        self.connection.execute(
            "UPDATE outbox SET state = ?, last_reply = COALESCE(?, last_reply), "
            "next_attempt_at = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, "
            "updated_at = ? WHERE key = ?",
            (state, reply, next_attempt_at, state, stamp, stamp, key),
        )

    def mark_unknown_leftovers(self) -> list[OutboxMessage]:
        """Messages a dead run left in ``sending`` become ``unknown``; returns them."""
        left = self.in_states("sending")
        for message in left:
            self.settle(
                message.key,
                "unknown",
                reply="the run sending it stopped before its outcome was recorded",
            )
        return left

    def requeue(self, key: str) -> None:
        """Make an ``unknown`` or ``failed`` message pending again, attempts reset."""
        self.connection.execute(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = NULL, "
            "updated_at = ? WHERE key = ?",
            (now_text(), key),
        )
