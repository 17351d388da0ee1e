"""Stage 4, store: the SQLite file that holds every accepted ledger, version by version.

Each ledger sheet has a table whose columns come from the field registry, plus where each
row came from (file, sheet, Excel row). ``active_sheets`` says which file is in force for
each (month, ledger); older versions stay in the tables and in ``archive/`` as history.
A file is stored in one transaction: wholly or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import adbc_driver_manager as adbc
import adbc_driver_sqlite
import pandas as pd
import pyarrow as pa

from ledger_batch.fields import LEDGERS, MONTH_LEDGERS, Ledger, ledger_named
from ledger_batch.lock import os_user
from ledger_batch.normalise import LedgerFile, content_hashes

SCHEMA_VERSION = 1
SOURCE_COLUMNS = ("file_id", "period", "source_sheet", "source_row")


DERIVED_COLUMNS = {"submissions": ("content_hash",)}
"""Columns the store derives from the registry's fields: ``content_hash`` is a 64-bit digest
of the item's content as compared for duplicates (NFKC, no spaces), indexed on its own (the
person is compared on the few rows it finds). A digest rather than the text keeps that index
small: inserting a year's items into an index of long Chinese texts cost more than all the
other columns together."""


def _ledger_table_sql(ledger: Ledger) -> str:
    columns = ", ".join(
        [f"{name} TEXT" for name in ledger.field_names]
        + [f"{name} INTEGER" for name in DERIVED_COLUMNS.get(ledger.name, ())]
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {ledger.name} (file_id INTEGER NOT NULL REFERENCES files, "
        f"period TEXT NOT NULL, source_sheet TEXT NOT NULL, source_row INTEGER NOT NULL, "
        f"{columns});\n"
        f"CREATE INDEX IF NOT EXISTS {ledger.name}_by_file ON {ledger.name}(file_id);"
    )


ITEM_INDEXES = """
    CREATE INDEX IF NOT EXISTS submissions_by_item ON submissions(item_id);
    DROP INDEX IF EXISTS submissions_by_content;
    CREATE INDEX IF NOT EXISTS submissions_by_digest ON submissions(content_hash);
"""


OUTBOX_SCHEMA = """
    CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, period TEXT NOT NULL,
        report TEXT NOT NULL, lang TEXT NOT NULL, recipient_id TEXT NOT NULL,
        recipient_name TEXT NOT NULL, address TEXT NOT NULL, data_version TEXT NOT NULL,
        subject TEXT NOT NULL, eml_path TEXT NOT NULL, message_id TEXT NOT NULL,
        replaces TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT, last_reply TEXT, queued_at TEXT NOT NULL, sent_at TEXT,
        updated_at TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS outbox_by_recipient
        ON outbox(period, report, lang, recipient_id);
    CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox(state);
"""
"""The email outbox (see outbox.py): one row per queued message and its delivery state."""


SCHEMA = "\n".join(
    [
        """
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE IF NOT EXISTS files (
        file_id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, original_name TEXT NOT NULL,
        archived_as TEXT NOT NULL, kind TEXT NOT NULL, period TEXT NOT NULL,
        version INTEGER NOT NULL, ledgers TEXT NOT NULL, ingested_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS active_sheets (
        period TEXT NOT NULL, ledger TEXT NOT NULL, file_id INTEGER NOT NULL REFERENCES files,
        PRIMARY KEY (period, ledger));
    CREATE TABLE IF NOT EXISTS events (
        event_id INTEGER PRIMARY KEY, at TEXT NOT NULL, os_user TEXT NOT NULL,
        action TEXT NOT NULL, period TEXT, detail TEXT);
    CREATE TABLE IF NOT EXISTS closed_years (
        year INTEGER PRIMARY KEY, closed_at TEXT NOT NULL, os_user TEXT NOT NULL,
        reason TEXT NOT NULL);
    """,
        *(_ledger_table_sql(ledger) for ledger in LEDGERS),
        OUTBOX_SCHEMA,
    ]
)


@dataclass(frozen=True)
class Event:
    """One line of the audit trail: a close, a reopen or a month replaced."""

    at: str
    os_user: str
    action: str
    period: str
    """A month (``YYYY-MM``) or, for close and reopen, an assessment year (``YYYY``)."""
    detail: dict[str, object]


@dataclass(frozen=True)
class StoredFile:
    """A file's row in ``files``."""

    file_id: int
    sha256: str
    original_name: str
    archived_as: str
    kind: str
    period: str
    version: int
    ledgers: str
    ingested_at: str


def _sql_column(values: list[object], kind: str) -> list[object]:
    """A column as stored: dates as ISO text, Decimals as text, missing as NULL."""
    if kind == "date":  # a month has few distinct dates: each is spelled once
        spelled: dict[object, str] = {v: v.isoformat() for v in set(values) if isinstance(v, date)}
        return [spelled.get(v) for v in values]
    if kind == "number":
        return [str(v) if isinstance(v, Decimal) else None for v in values]
    return values  # text: normalise and validate leave only str or None


def _sql_values(ledger: Ledger, records: pd.DataFrame) -> dict[str, list[object]]:
    """A sheet's columns as its table keeps them: ``source_row``, every field, and the
    columns the store derives (``DERIVED_COLUMNS``)."""
    values: dict[str, list[object]] = {"source_row": records["source_row"].astype("int64").tolist()}
    for spec in ledger.fields:
        values[spec.name] = _sql_column(records[spec.name].tolist(), spec.kind)
    for name in DERIVED_COLUMNS.get(ledger.name, ()):
        values[name] = records[name].tolist()
    return values


def _filled_values(ledger: Ledger, records: pd.DataFrame) -> dict[str, list[object]]:
    """``_sql_values`` without the columns left empty all down the sheet (notes, an
    inspection not yet due): they are stored as NULL all the same, and Python's sqlite3
    binds a None about four times slower than a text."""
    values = _sql_values(ledger, records)
    return {name: column for name, column in values.items() if _has_value(column)}


STAGED_LEDGERS = ("submissions",)
"""Ledgers whose rows a reader process stages for the run (``stage_rows``): a month's items,
the one large sheet. Handing every value to SQLite one by one through Python's sqlite3 was
the largest part of the run's work; a reader does it beside reading, into a file of its own,
and the run copies the rows with one ``INSERT … SELECT``."""

STAGING_ERRORS = (OSError, sqlite3.Error, adbc.Error, pa.ArrowException)
"""What a failed ``stage_rows`` raises (a full disk, say): the run then stores the rows itself."""


def stage_rows(path: Path, ledger: Ledger, records: pd.DataFrame) -> None:
    """Write ``records`` as the store keeps them into a new SQLite file at ``path`` (table
    ``rows``), for ``Store.store_file`` to copy from. Scratch data: no journal, no sync.
    A column empty all down the sheet is left out: the run's copy stores it as NULL.

    The rows go in as one Arrow table through Arrow's ADBC SQLite driver, which binds them
    in C; Python's sqlite3 binds value by value, a Python call each (a month of the group's
    items: 71 → 38 ms, the Arrow table's making included). Integer columns as INTEGER, the
    rest as TEXT, as the store's tables keep them."""
    integers = {"source_row", *DERIVED_COLUMNS.get(ledger.name, ())}
    table = pa.table(
        {
            name: pa.array(column, type=pa.int64() if name in integers else pa.string())
            for name, column in _filled_values(ledger, records).items()
        }
    )
    with (
        adbc_driver_sqlite.connect(str(path)) as database,
        adbc.AdbcConnection(database) as connection,
        adbc.AdbcStatement(connection) as statement,
    ):
        for pragma in ("PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF"):
            statement.set_sql_query(pragma)
            statement.execute_update()
        statement.set_options(
            **{
                adbc.INGEST_OPTION_TARGET_TABLE: "rows",
                adbc.INGEST_OPTION_MODE: adbc.INGEST_OPTION_MODE_CREATE,
            }
        )
        statement.bind_stream(table.to_reader())
        statement.execute_update()


@dataclass(frozen=True)
class StagedSheet:
    """A sheet's rows staged by a reader (``stage_rows``) before validation filled anything
    in. ``as_read`` holds the columns validation may fill (validate.FILLED_BY_VALIDATION) as
    they were read: only the rows whose values validation changed are sent again."""

    path: Path
    ledger: str
    as_read: dict[str, list[object]]


def _has_value(values: list[object]) -> bool:
    """Whether any of ``values`` is not None: the first usually settles it; else ``count``,
    which meets None by identity, quickly, all down a column of Nones."""
    return bool(values) and (values[0] is not None or values.count(None) < len(values))


class Store:
    """The workspace's SQLite store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rosters: dict[str, pd.DataFrame] = {}
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.connection.execute("PRAGMA foreign_keys = ON")
        # A new store gets 16 KiB pages: a year's items go in a sixth faster than with the
        # default 4 KiB (fewer page splits). An existing store keeps the size it was made with.
        self.connection.execute("PRAGMA page_size = 16384")
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.executescript(SCHEMA)
        self._add_content_hashes()
        self.connection.executescript(ITEM_INDEXES)
        self.connection.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )

    def _add_content_hashes(self) -> None:
        """Stores made before ``content_hash`` existed get the column, filled in."""
        columns = {row[1] for row in self.connection.execute("PRAGMA table_info(submissions)")}
        if "content_hash" in columns:
            return
        with self.transaction() as db:
            db.execute("ALTER TABLE submissions ADD COLUMN content_hash INTEGER")
            rows = db.execute("SELECT rowid, content FROM submissions").fetchall()
            hashes = content_hashes([content for _, content in rows])
            db.executemany(
                "UPDATE submissions SET content_hash = ? WHERE rowid = ?",
                [(digest, rowid) for digest, (rowid, _) in zip(hashes, rows, strict=True)],
            )

    def close(self) -> None:
        """Close the connection (copying what the WAL holds into the store's file, so that
        ``ledger.db`` alone is a whole copy)."""
        self.connection.close()

    def checkpoint(self) -> None:
        """Copy what the WAL holds into the store's file now, as far as no reader prevents it
        (SQLite's passive checkpoint), leaving less for ``close``. One that fails (a full
        disk) loses nothing: the WAL keeps every change, and the next commit or the close
        copies it, or reports the disk, as before."""
        with suppress(sqlite3.Error):
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        try:
            self.connection.execute("COMMIT")
        except BaseException:  # a failed COMMIT (a full disk) can leave the transaction open
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
            raise

    # --- writing ---------------------------------------------------------------------------

    def next_version(self, period: str, kind: str) -> int:
        """The version number the next file for ``period`` gets."""
        row = self.connection.execute(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM files WHERE period = ? AND kind = ?",
            (period, kind),
        ).fetchone()
        return int(row[0])

    def find_active_duplicate(self, sha256: str, period: str) -> StoredFile | None:
        """The in-force file of ``period`` with exactly these bytes, if any."""
        row = self.connection.execute(
            "SELECT f.* FROM files f JOIN active_sheets a ON a.file_id = f.file_id "
            "WHERE f.sha256 = ? AND f.period = ? LIMIT 1",
            (sha256, period),
        ).fetchone()
        return StoredFile(*row) if row else None

    def store_file(
        self,
        ledger_file: LedgerFile,
        sha256: str,
        archived_as: str,
        version: int,
        staged: StagedSheet | None = None,
    ) -> int:
        """Insert a validated file and make it the one in force; returns its file_id.

        ``staged``: one of its sheets as a reader staged it, copied from there."""
        ledgers = self._replaced_ledgers(ledger_file)
        if "roster" in ledgers:
            self._rosters.clear()
        if staged is None:
            return self._store_file(ledger_file, ledgers, sha256, archived_as, version, None)
        self.connection.execute("ATTACH DATABASE ? AS staged", (str(staged.path),))
        try:
            file_id = self._store_file(ledger_file, ledgers, sha256, archived_as, version, staged)
        except BaseException:
            with suppress(sqlite3.Error):  # the error that stopped the store is the one to see
                self.connection.execute("DETACH DATABASE staged")
            raise
        self.connection.execute("DETACH DATABASE staged")
        return file_id

    def _store_file(
        self,
        ledger_file: LedgerFile,
        ledgers: list[str],
        sha256: str,
        archived_as: str,
        version: int,
        staged: StagedSheet | None,
    ) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO files (sha256, original_name, archived_as, kind, period, version, "
                "ledgers, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sha256,
                    ledger_file.file_name,
                    archived_as,
                    ledger_file.kind,
                    ledger_file.period,
                    version,
                    ",".join(ledgers),
                    datetime.now().isoformat(timespec="seconds"),
                ),
            )
            file_id = int(cursor.lastrowid or 0)
            for ledger_name, sheet in ledger_file.sheets.items():
                rows = (db, ledger_named(ledger_name), sheet.records, file_id, ledger_file.period)
                if staged is not None and staged.ledger == ledger_name:
                    self._copy_staged(*rows, sheet.sheet_name, staged)
                else:
                    self._insert_rows(*rows, sheet.sheet_name)
            db.executemany(
                "INSERT OR REPLACE INTO active_sheets (period, ledger, file_id) VALUES (?, ?, ?)",
                [(ledger_file.period, name, file_id) for name in ledgers],
            )
        return file_id

    @staticmethod
    def _replaced_ledgers(ledger_file: LedgerFile) -> list[str]:
        """A workbook replaces its whole month; a CSV (one sheet) replaces only that sheet."""
        if ledger_file.kind == "roster":
            return ["roster"]
        names = set(ledger_file.sheets)
        if "submissions" in names and ledger_file.file_format != "csv":
            names |= {ledger.name for ledger in MONTH_LEDGERS}
        return sorted(names)

    @staticmethod
    def _insert_rows(
        db: sqlite3.Connection,
        ledger: Ledger,
        records: pd.DataFrame,
        file_id: int,
        period: str,
        sheet_name: str,
    ) -> None:
        if records.empty:
            return
        count = len(records)
        sql = _filled_values(ledger, records)
        columns = [*SOURCE_COLUMNS[:3], *sql]
        constants = ([file_id] * count, [period] * count, [sheet_name] * count)
        db.executemany(
            f"INSERT INTO {ledger.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            zip(*constants, *sql.values(), strict=True),
        )

    @staticmethod
    def _copy_staged(
        db: sqlite3.Connection,
        ledger: Ledger,
        records: pd.DataFrame,
        file_id: int,
        period: str,
        sheet_name: str,
        staged: StagedSheet,
    ) -> None:
        """Copy the staged rows (attached as ``staged``), with what validation filled in."""
        (staged_count,) = db.execute("SELECT COUNT(*) FROM staged.rows").fetchone()
        if staged_count != len(records):
            raise RuntimeError(f"{staged.path}: {staged_count} rows staged, {len(records)} read")
        columns = ["source_row", *ledger.field_names, *DERIVED_COLUMNS.get(ledger.name, ())]
        staged_columns = {row[1] for row in db.execute("PRAGMA staged.table_info(rows)")}
        select = {name: f"r.{name}" if name in staged_columns else "NULL" for name in columns}
        source = "staged.rows r"
        filled = {
            name: _sql_column(records[name].tolist(), ledger.field(name).kind)
            for name in staged.as_read
        }
        changed = {
            position
            for name, as_read in staged.as_read.items()
            if as_read != filled[name]  # most columns come through unchanged: one C compare
            for position, (old, new) in enumerate(zip(as_read, filled[name], strict=True))
            if old != new
        }
        if changed:
            db.execute("DROP TABLE IF EXISTS temp.staged_fills")
            db.execute(
                "CREATE TEMP TABLE staged_fills "
                f"(source_row INTEGER PRIMARY KEY, {', '.join(filled)})"
            )
            source_rows = records["source_row"].astype("int64").tolist()
            db.executemany(
                f"INSERT INTO temp.staged_fills VALUES (?, {', '.join('?' * len(filled))})",
                [
                    (source_rows[position], *(values[position] for values in filled.values()))
                    for position in sorted(changed)
                ],
            )
            source += " LEFT JOIN temp.staged_fills f ON f.source_row = r.source_row"
            for name in filled:
                select[name] = (
                    f"CASE WHEN f.source_row IS NULL THEN {select[name]} ELSE f.{name} END"
                )
        db.execute(
            f"INSERT INTO {ledger.name} ({', '.join([*SOURCE_COLUMNS[:3], *columns])}) "
            f"SELECT ?, ?, ?, {', '.join(select.values())} FROM {source} ORDER BY r.rowid",
            (file_id, period, sheet_name),
        )

    def record_event(self, action: str, period: str | None, detail: dict[str, object]) -> None:
        """Append to the audit trail (time, OS user, action, detail)."""
        self.connection.execute(
            "INSERT INTO events (at, os_user, action, period, detail) VALUES (?, ?, ?, ?, ?)",
            (
                datetime.now().isoformat(timespec="seconds"),
                os_user(),
                action,
                period,
                json.dumps(detail, ensure_ascii=False, default=str),
            ),
        )

    # --- reading ---------------------------------------------------------------------------

    def active_file(self, period: str, ledger_name: str) -> StoredFile | None:
        """The file in force for ``(period, ledger)``."""
        row = self.connection.execute(
            "SELECT f.* FROM files f JOIN active_sheets a ON a.file_id = f.file_id "
            "WHERE a.period = ? AND a.ledger = ?",
            (period, ledger_name),
        ).fetchone()
        return StoredFile(*row) if row else None

    def months_in(self) -> dict[str, StoredFile]:
        """Months whose submissions are in force, with the file that brought them."""
        rows = self.connection.execute(
            "SELECT f.* FROM files f JOIN active_sheets a ON a.file_id = f.file_id "
            "WHERE a.ledger = 'submissions' ORDER BY a.period"
        ).fetchall()
        return {row[5]: StoredFile(*row) for row in rows}

    def load(self, ledger_name: str, periods: list[str] | None = None) -> pd.DataFrame:
        """In-force rows of a ledger (for ``periods``, or all), typed as the registry says."""
        ledger = ledger_named(ledger_name)
        sql = (
            f"SELECT t.* , f.original_name AS source_file FROM {ledger.name} t "
            "JOIN active_sheets a ON a.file_id = t.file_id AND a.ledger = ? "
            "AND a.period = t.period JOIN files f ON f.file_id = t.file_id"
        )
        params: list[object] = [ledger.name]
        if periods is not None:
            sql += f" WHERE t.period IN ({', '.join('?' * len(periods))})"
            params += periods
        return self._typed_rows(ledger, sql + " ORDER BY t.period, t.source_row", params)

    def load_file_rows(self, ledger_name: str, file_id: int) -> pd.DataFrame:
        """Rows a given file brought for a ledger (also for versions no longer in force)."""
        ledger = ledger_named(ledger_name)
        return self._typed_rows(ledger, f"SELECT * FROM {ledger.name} WHERE file_id = ?", [file_id])

    def _typed_rows(self, ledger: Ledger, sql: str, params: list[object]) -> pd.DataFrame:
        """The rows ``sql`` selects from a ledger's table, typed as the registry says."""
        cursor = self.connection.execute(sql, params)
        names = [column[0] for column in cursor.description]
        columns = list(zip(*cursor.fetchall(), strict=True)) or [() for _ in names]
        frame = pd.DataFrame(
            {
                name: pd.Series(_shared(values, name, ledger), dtype=object)
                for name, values in zip(names, columns, strict=True)
            }
        )
        return _typed_frame(frame, ledger)

    def roster_for(self, period: str) -> pd.DataFrame | None:
        """The roster in force in ``period`` (the newest one from its month on), or None."""
        row = self.connection.execute(
            "SELECT MAX(period) FROM active_sheets WHERE ledger = 'roster' AND period <= ?",
            (period,),
        ).fetchone()
        if row[0] is None:
            return None
        if row[0] not in self._rosters:  # every month of a drop asks for the same roster
            self._rosters[row[0]] = self.load("roster", [row[0]])
        return self._rosters[row[0]].copy()

    def items_by_id(self, item_ids: set[str], excluding_period: str) -> pd.DataFrame:
        """In-force items with these numbers, outside ``excluding_period``."""
        columns = ", ".join(f"t.{name}" for name in ITEM_COLUMNS)
        rows = self._named_items(columns, sorted(item_ids), excluding_period)
        frame = pd.DataFrame(rows, columns=ITEM_COLUMNS, dtype=object)
        frame["date"] = [date.fromisoformat(str(d)) if d else None for d in frame["date"]]
        return frame

    def item_months(self, item_ids: set[str], excluding_period: str) -> dict[str, str]:
        """In-force item numbers among ``item_ids`` outside ``excluding_period`` → their month."""
        rows = self._named_items(
            "t.item_id, t.period", list(item_ids), excluding_period, " ORDER BY t.period"
        )
        return {str(item_id): str(period) for item_id, period in rows}

    def _named_items(
        self, columns: str, item_ids: list[str], excluding_period: str, order: str = ""
    ) -> list[tuple[object, ...]]:
        """``columns`` (of ``t``) of the in-force items numbered ``item_ids`` (looked up in
        that order) outside ``excluding_period``."""
        sql = (
            f"SELECT {columns} FROM json_each(?) k CROSS JOIN submissions t "
            "ON t.item_id = k.value JOIN active_sheets a ON a.file_id = t.file_id "
            f"AND a.ledger = 'submissions' AND a.period = t.period WHERE t.period != ?{order}"
        )
        keys = json.dumps(item_ids, ensure_ascii=False)
        return self.connection.execute(sql, (keys, excluding_period)).fetchall()

    def item_ids_with_prefix(self, prefix: str, excluding_period: str) -> dict[str, str]:
        """In-force item numbers starting with ``prefix`` (e.g. ``202503-``) → their month."""
        rows = self.connection.execute(
            "SELECT t.item_id, t.period FROM submissions t JOIN active_sheets a "
            "ON a.file_id = t.file_id AND a.ledger = 'submissions' AND a.period = t.period "
            "WHERE t.item_id >= ? AND t.item_id < ? AND t.period != ?",
            (prefix, prefix + "\uffff", excluding_period),
        ).fetchall()
        return {str(item_id): str(period) for item_id, period in rows}

    def duplicate_items(
        self, hashes: set[int], excluding_period: str
    ) -> dict[tuple[str, int], str]:
        """(工号, content hash) → the number of an in-force item elsewhere with one of
        ``hashes`` as its content hash (the lowest number, where several share both)."""
        sql = (
            "SELECT t.employee_id, t.content_hash, MIN(t.item_id) FROM submissions t "
            "JOIN active_sheets a ON a.file_id = t.file_id AND a.ledger = 'submissions' "
            "AND a.period = t.period WHERE t.content_hash IN (SELECT value FROM json_each(?)) "
            "AND t.period != ? GROUP BY t.employee_id, t.content_hash"
        )
        digests = json.dumps(list(hashes))
        rows = self.connection.execute(sql, (digests, excluding_period)).fetchall()
        return {(str(e), int(k)): str(i) for e, k, i in rows}

    def events(self) -> list[Event]:
        """The audit trail, oldest first."""
        rows = self.connection.execute(
            "SELECT at, os_user, action, period, detail FROM events ORDER BY event_id"
        ).fetchall()
        return [
            Event(at, user, action, period or "", json.loads(detail or "{}"))
            for at, user, action, period, detail in rows
        ]

    # --- closing a year ----------------------------------------------------------------------

    def closed_year(self, year: int) -> tuple[str, str, str] | None:
        """``(closed_at, os_user, reason)`` when assessment year ``year`` is closed."""
        row = self.connection.execute(
            "SELECT closed_at, os_user, reason FROM closed_years WHERE year = ?", (year,)
        ).fetchone()
        return tuple(row) if row else None

    def close_year(self, year: int, reason: str) -> None:
        """Lock the year's months against changes, and record it."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO closed_years VALUES (?, ?, ?, ?)",
                (year, datetime.now().isoformat(timespec="seconds"), os_user(), reason),
            )
        self.record_event("close", str(year), {"reason": reason})

    def reopen_year(self, year: int, reason: str) -> None:
        """Let changes in again, and record who did it and why."""
        with self.transaction() as db:
            db.execute("DELETE FROM closed_years WHERE year = ?", (year,))
        self.record_event("reopen", str(year), {"reason": reason})


ITEM_COLUMNS = ["item_id", "period", "employee_id", "name", "date", "content", "truthful"]
"""What validation needs to know about an item named by a tracking row or a notice."""


@dataclass(frozen=True)
class StoredItems:
    """The items in force outside the month being validated (what validation asks about)."""

    store: Store
    excluding_period: str

    def by_id(self, item_ids: set[str]) -> pd.DataFrame:
        """Items with these numbers (``ITEM_COLUMNS``)."""
        return self.store.items_by_id(item_ids, self.excluding_period)

    def duplicates(self, hashes: set[int]) -> dict[tuple[str, int], str]:
        """(工号, content hash) → an item number with one of these content hashes."""
        return self.store.duplicate_items(hashes, self.excluding_period)

    def months_of(self, item_ids: set[str]) -> dict[str, str]:
        """Item numbers among these → their month (the latest, where several months have one)."""
        return self.store.item_months(item_ids, self.excluding_period)

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """Item numbers starting with ``prefix`` → their month."""
        return self.store.item_ids_with_prefix(prefix, self.excluding_period)


def _shared(values: tuple[object, ...], name: str, ledger: Ledger) -> list[object]:
    """A column's values with each repeated text held once: SQLite hands every cell over as
    a new string, and a year of units, names, choices and months would otherwise take most
    of the memory a report needs. Free text (content, feedback …) is left as it is."""
    if name in ledger.field_names and ledger.field(name).kind == "text":
        return list(values)
    once: dict[object, object] = {}
    return [once.setdefault(value, value) for value in values]


def _typed_frame(frame: pd.DataFrame, ledger: Ledger) -> pd.DataFrame:
    """Turn stored text (None for NULL) back into dates and Decimals."""
    for spec in ledger.fields:
        if spec.name not in frame or frame.empty:
            continue
        if spec.kind in ("date", "number"):  # each distinct value converted once, and shared
            parse = date.fromisoformat if spec.kind == "date" else Decimal
            texts = frame[spec.name].tolist()
            typed = {text: parse(text) for text in set(texts) if text}
            frame[spec.name] = pd.Series(
                [typed.get(text) if text else None for text in texts],
                index=frame.index,
                dtype=object,
            )
    if "source_row" in frame:
        frame["source_row"] = frame["source_row"].astype(int)
    return frame
