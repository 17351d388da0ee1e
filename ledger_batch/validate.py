"""Stage 3, validate: the checks that need more than one cell — dates inside the file's
month, people resolved against the roster, item numbers unique and known, seat rules.

Validation fills in what the rules define (a person's 工号 from an unambiguous name, item
numbers ``YYYYMM-NNN`` for blank 编号, defaults for blank choices) and reports the rest.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache, partial
from typing import Any, NamedTuple, Protocol

import numpy as np
import pandas as pd

from ledger_batch.config import Rules, Seat
from ledger_batch.errors import Problem
from ledger_batch.fields import NO, STAGES
from ledger_batch.normalise import LedgerFile, SheetRecords
from ledger_batch.periods import month_end, month_start, split_period

DATE_FIELD = {
    "submissions": "date",
    "attendance": "meeting_date",
    "violations": "date",
    "adjustments": "date",
}
"""The date that places a row in its month, per ledger."""

FILLED_BY_VALIDATION = {
    "submissions": ("employee_id", "name", "item_id", "truthful", "adopted", "stage")
}
"""The columns validation fills in or corrects, per staged ledger (store.STAGED_LEDGERS): a
工号 or name from the roster, an item number, 是否属实/是否采纳/办理状态 left blank. Nothing
else in those sheets changes between reading and storing."""


class _Item(NamedTuple):
    """An item a tracking row or a notice names, as the tracking and notice checks index it."""

    item_id: str
    period: str
    employee_id: str | None
    name: str | None
    date: date | None
    content: str | None
    truthful: str | None


ITEM_INDEX_COLUMNS = list(_Item._fields)
"""What those checks need to know of an item (store.ITEM_COLUMNS, the same, is what the store
returns)."""


class KnownItems(Protocol):
    """The items already in force in other months (store.StoredItems)."""

    def by_id(self, item_ids: set[str]) -> pd.DataFrame:
        """Items with these numbers: item_id, period, employee_id, name, date, content, truthful."""
        ...

    def months_of(self, item_ids: set[str]) -> dict[str, str]:
        """Item numbers among these → their month."""
        ...

    def duplicates(self, hashes: set[int]) -> dict[tuple[str, int], str]:
        """(工号, content hash) → the number of an item with one of these content hashes."""
        ...

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """Item numbers starting with ``prefix`` → their month."""
        ...


@dataclass
class StoreContext:
    """What validation needs from the store: the roster in force and the known items."""

    roster: pd.DataFrame | None
    items: KnownItems


def name_key(name: str) -> str:
    """How names are compared (as written, but NFKC so full-width forms match)."""
    return unicodedata.normalize("NFKC", name)


def in_service(roster: pd.DataFrame, on: date) -> pd.Series:
    """Rows of ``roster`` serving on day ``on`` (appointed on or before, not yet dismissed)."""
    appointed = roster["appointed_on"].map(lambda d: d is not None and d <= on)
    dismissed = roster["dismissed_on"].map(lambda d: d is not None and d <= on)
    return appointed & ~dismissed


def is_dismissal(reason: object, rules: Rules) -> bool:
    """Whether a 解聘原因 is a dismissal with penalties rather than an ordinary departure."""
    if not isinstance(reason, str) or not reason.strip():
        return False
    return not any(word in reason for word in rules.ordinary_departure_reasons)


def validate_file(
    ledger_file: LedgerFile, context: StoreContext, rules: Rules, seats: tuple[Seat, ...]
) -> list[Problem]:
    """Every cross-cell problem of ``ledger_file``; fills resolved values into its frames."""
    problems: list[Problem] = []
    roster_sheet = ledger_file.sheets.get("roster")
    roster = context.roster
    if roster_sheet is not None:
        problems += validate_roster(roster_sheet, ledger_file.period, rules, seats)
        roster = roster_sheet.records
    if ledger_file.kind == "roster":
        return problems
    if roster is None or roster.empty:
        return [*problems, Problem("no_roster", params={"period": ledger_file.period})]
    problems += _check_months(ledger_file)
    people = _RosterIndex.of(roster)
    for ledger_name in ("submissions", "attendance", "violations", "adjustments"):
        sheet = ledger_file.sheets.get(ledger_name)
        if sheet is not None and not sheet.records.empty:
            problems += _resolve_people(sheet, people)
    submissions = ledger_file.sheets.get("submissions")
    if submissions is not None:
        problems += _check_submissions(submissions, ledger_file.period, context.items, people)
    problems += _check_item_references(ledger_file, context.items)
    return problems


def _check_months(ledger_file: LedgerFile) -> list[Problem]:
    period = ledger_file.period
    first, last = month_start(period), month_end(period)
    problems: list[Problem] = []
    dated_total = 0
    for ledger_name, date_field in DATE_FIELD.items():
        sheet = ledger_file.sheets.get(ledger_name)
        if sheet is None or sheet.records.empty:
            continue
        dated_total += int(sheet.records[date_field].notna().sum())
        problems += _dates_where(
            sheet, date_field, lambda day: not first <= day <= last, "date_outside_month", period
        )
    outside_total = len(problems)
    tracking = ledger_file.sheets.get("tracking")
    if tracking is not None and not tracking.records.empty:
        problems += _dates_where(
            tracking, "date", lambda day: day > last, "date_after_month", period
        )
    if dated_total and outside_total * 2 > dated_total:
        problems.insert(
            0,
            Problem(
                "period_mismatch",
                params={"name_period": period, "data_period": _commonest_month(ledger_file)},
            ),
        )
    return problems


def _dates_where(
    sheet: SheetRecords,
    date_field: str,
    wanted: Callable[[date], bool],
    code: str,
    period: str,
) -> list[Problem]:
    """A ``code`` problem for each row whose date is ``wanted``, in row order. A month's rows
    share a few dozen dates, so each distinct date is tested once."""
    records = sheet.records
    codes, distinct = pd.factorize(records[date_field].to_numpy(object))
    hit = np.array([*(wanted(day) for day in distinct), False], dtype=bool)  # last: no date
    source_rows = records["source_row"].to_numpy()
    return [
        Problem(
            code,
            sheet=sheet.sheet_name,
            row=int(source_rows[position]),
            column=sheet.columns[date_field],
            value=distinct[codes[position]].isoformat(),
            params={"period": period},
        )
        for position in np.flatnonzero(hit[codes]).tolist()
    ]


def _commonest_month(ledger_file: LedgerFile) -> str:
    months: list[str] = []
    for ledger_name, date_field in DATE_FIELD.items():
        frame = ledger_file.frame(ledger_name)
        if frame is not None and not frame.empty:
            months += [d.strftime("%Y-%m") for d in frame[date_field] if d is not None]
    return pd.Series(months).mode().iloc[0] if months else "?"


_Resolution = tuple[str | None, str | None, tuple[str, dict[str, object]] | None]
"""A written (name, 工号): the 工号 found, the name as the roster spells it, and the problem."""


@dataclass(frozen=True)
class _RosterIndex:
    """The roster's names by 工号, its 工号 by name (as names are compared), and each
    person's term (their last row): what every ledger row is checked against."""

    by_id: dict[str, str]
    by_name: dict[str, list[str | None]]
    terms: list[tuple[date | None, date | None]]
    """Each person's (appointed, dismissed), from their last roster row."""
    term_of: pd.Index
    """工号 → position in ``terms``."""
    appointed: np.ndarray
    dismissed: np.ndarray
    """Days of appointment and dismissal by position in ``terms``, and one more position
    (NaT, never in service) for a 工号 the roster does not know."""
    resolved: dict[tuple[str | None, str | None], _Resolution] = field(default_factory=dict)
    """(name, 工号) as written → what it resolves to: filled in as the months of a drop name
    people (a cache on a cached index: the same for every month with this roster)."""

    @classmethod
    def of(cls, roster: pd.DataFrame) -> _RosterIndex:
        """The index of ``roster``; the months of a drop share a roster, and its index."""
        return _roster_index(
            tuple(roster["employee_id"]),
            tuple(roster["name"]),
            tuple(roster["appointed_on"]),
            tuple(roster["dismissed_on"]),
        )


@lru_cache(maxsize=4)
def _roster_index(
    ids: tuple[str | None, ...],
    names: tuple[str | None, ...],
    appointed_on: tuple[date | None, ...],
    dismissed_on: tuple[date | None, ...],
) -> _RosterIndex:
    by_id = {i: n for i, n in zip(ids, names, strict=True) if i is not None and n is not None}
    by_name: dict[str, list[str | None]] = {}
    for employee_id, name in zip(ids, names, strict=True):
        if isinstance(name, str):  # a blank roster name is an error of its own
            by_name.setdefault(name_key(name), []).append(employee_id)
    # a person's term is their last roster row
    last_rows = sorted({employee_id: row for row, employee_id in enumerate(ids)}.values())
    terms = [(appointed_on[row], dismissed_on[row]) for row in last_rows]
    return _RosterIndex(
        by_id,
        by_name,
        terms,
        pd.Index([ids[row] for row in last_rows], dtype=object),
        np.append(_days([appointed for appointed, _ in terms]), np.datetime64("NaT")),
        np.append(_days([dismissed for _, dismissed in terms]), np.datetime64("NaT")),
    )


def _resolve_people(sheet: SheetRecords, people: _RosterIndex) -> list[Problem]:
    """Fill ``employee_id`` (and the roster's spelling of the name) for every row."""
    by_id, by_name = people.by_id, people.by_name
    records = sheet.records
    names = records["name"].to_numpy(dtype=object)
    ids = records["employee_id"].to_numpy(dtype=object)
    # People repeat down a sheet: resolve each distinct (name, 工号) pair once.
    name_codes = pd.factorize(names, use_na_sentinel=False)[0]
    id_codes = pd.factorize(ids, use_na_sentinel=False)[0]
    pair_codes, pair_count = _pair_codes(name_codes, id_codes)
    first_rows = np.zeros(pair_count, dtype=np.int64)
    first_rows[pair_codes[::-1]] = np.arange(len(pair_codes))[::-1]
    # …and each month of a drop names the same people: resolved once per roster.
    resolved = people.resolved
    resolutions = []
    for row in first_rows.tolist():
        pair = (names[row], ids[row])
        if (resolution := resolved.get(pair)) is None:
            found, problem = _resolve_one(*pair, by_id, by_name)
            resolution = resolved[pair] = (
                found,
                by_id.get(found, pair[0]) if found else pair[0],
                problem,
            )
        resolutions.append(resolution)
    found_ids = np.array([found for found, _, _ in resolutions], dtype=object)
    found_names = np.array([name for _, name, _ in resolutions], dtype=object)
    problems: list[Problem] = []
    has_problem = np.array([problem is not None for _, _, problem in resolutions], dtype=bool)
    source_rows = records["source_row"].to_numpy()
    for position in np.flatnonzero(has_problem[pair_codes]).tolist():
        code, params = resolutions[pair_codes[position]][2] or ("", {})
        employee_id, name = ids[position], names[position]
        problems.append(
            Problem(
                code,
                sheet=sheet.sheet_name,
                row=int(source_rows[position]),
                column=sheet.columns.get("employee_id" if employee_id else "name", ""),
                value=employee_id or name or "",
                params=params,
            )
        )
    records["employee_id"] = pd.Series(found_ids[pair_codes], index=records.index, dtype=object)
    records["name"] = pd.Series(found_names[pair_codes], index=records.index, dtype=object)
    return problems


def _pair_codes(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, int]:
    """One code per distinct (first, second) pair of two code arrays, and how many there are."""
    combined = first.astype(np.int64) * (int(second.max(initial=0)) + 1) + second
    codes, uniques = pd.factorize(combined)
    return codes, len(uniques)


def _resolve_one(
    name: str | None,
    employee_id: str | None,
    by_id: dict[str, str],
    by_name: dict[str, list[str | None]],
) -> tuple[str | None, tuple[str, dict[str, object]] | None]:
    if employee_id:
        roster_name = by_id.get(employee_id)
        if roster_name is None:
            return None, ("unknown_person", {"who": f"工号 {employee_id}"})
        if name and name_key(name) != name_key(roster_name):
            return None, (
                "name_id_mismatch",
                {"employee_id": employee_id, "roster_name": roster_name, "name": name},
            )
        return employee_id, None
    if not name:
        return None, None  # already reported as a blank required cell
    matches = by_name.get(name_key(name), [])
    if len(matches) == 1:
        return matches[0], None
    if not matches:
        return None, ("unknown_person", {"who": name})
    return None, ("ambiguous_name", {"name": name, "count": len(matches)})


def _check_submissions(
    sheet: SheetRecords, period: str, known_items: KnownItems, people: _RosterIndex
) -> list[Problem]:
    records = sheet.records
    if records.empty:
        return []
    records["truthful"] = records["truthful"].fillna("待核实")
    records["adopted"] = records["adopted"].fillna(NO)
    is_problem = records["kind"] == "问题"
    records.loc[is_problem & records["stage"].isna(), "stage"] = STAGES[0]
    problems = _assign_item_ids(sheet, period, known_items)
    problems += _check_service(sheet, people)
    problems += _inspection_problems(sheet)
    problems += _duplicate_item_warnings(sheet, known_items)
    return problems


def _assign_item_ids(sheet: SheetRecords, period: str, known: KnownItems) -> list[Problem]:
    records = sheet.records
    year, month = split_period(period)
    given = set(records["item_id"].tolist()) - {None}
    prefix, beyond = f"{year:04d}{month:02d}-", f"{year:04d}{month:02d}-\uffff"
    other_months = known.with_prefix(prefix)
    # The month's own numbers (nearly all) are in the prefix's range, found in one scan of
    # the index; only the rest are looked up one by one.
    outside = {item_id for item_id in given if not prefix <= item_id < beyond}
    other_months = (known.months_of(outside) if outside else {}) | other_months
    problems: list[Problem] = []
    ids = records["item_id"]
    numbered = ids.notna()
    repeated = numbered & ids.duplicated(keep="first")
    unique = numbered & ~repeated
    first_row = (  # needed only to name a repeat's first row, or to number blank ones
        dict(zip(ids[unique], records["source_row"][unique], strict=True))
        if repeated.any() or not numbered.all()
        else {}
    )
    elsewhere = unique & ids.isin(list(other_months))
    column = sheet.columns.get("item_id", "")
    flagged = repeated | elsewhere
    for row, item_id, twice in zip(
        records["source_row"][flagged], ids[flagged], repeated[flagged], strict=True
    ):
        code, params = (
            ("duplicate_item_id", {"item_id": item_id, "other_row": int(first_row[item_id])})
            if twice
            else (
                "item_id_in_other_month",
                {"item_id": item_id, "other_period": other_months[item_id]},
            )
        )
        problems.append(
            Problem(
                code,
                sheet=sheet.sheet_name,
                row=int(row),
                column=column,
                value=item_id,
                params=params,
            )
        )
    taken = set(first_row) | set(other_months)
    if numbered.all():
        return problems
    counter = 0
    assigned = []
    for item_id in records["item_id"]:
        if item_id is None:
            counter += 1
            while (candidate := f"{year:04d}{month:02d}-{counter:03d}") in taken:
                counter += 1
            item_id = candidate
            taken.add(item_id)
        assigned.append(item_id)
    records["item_id"] = pd.Series(assigned, index=records.index, dtype=object)
    return problems


def _check_service(sheet: SheetRecords, people: _RosterIndex) -> list[Problem]:
    """Items dated before the author's appointment or on/after their dismissal."""
    records = sheet.records
    person = people.term_of.get_indexer(records["employee_id"].to_numpy(object))
    days = _days(records["date"].tolist())
    outside = (days < people.appointed[person]) | (days >= people.dismissed[person])
    problems = []
    for position in np.flatnonzero(outside).tolist():
        appointed, dismissed = people.terms[person[position]]
        day = records["date"].iat[position]
        term = f"{appointed or ''} – {dismissed or ''}"
        problems.append(
            Problem(
                "not_in_service",
                sheet=sheet.sheet_name,
                row=int(records["source_row"].iat[position]),
                column=sheet.columns["date"],
                value=day.isoformat(),
                params={
                    "name": records["name"].iat[position],
                    "date": day.isoformat(),
                    "term": term,
                },
            )
        )
    return problems


def _days(dates: list[date | None]) -> np.ndarray:
    """Dates as numpy days; a missing date is NaT, which compares false with everything.
    Each distinct date is converted once (a month's rows share a few dozen dates)."""
    codes, distinct = pd.factorize(np.array(dates, dtype=object), use_na_sentinel=True)
    days = np.array([*distinct, None], dtype="datetime64[D]")
    return days[codes]


def _inspection_problems(sheet: SheetRecords) -> list[Problem]:
    records = sheet.records
    bad = records["inspection"].notna() & (records["stage"] != STAGES[-1])
    return [
        Problem(
            "inspection_without_stage",
            sheet=sheet.sheet_name,
            row=int(row),
            column=sheet.columns.get("inspection", "复查结果"),
            value=str(value),
        )
        for row, value in zip(
            records.loc[bad, "source_row"], records.loc[bad, "inspection"], strict=True
        )
    ]


def _duplicate_item_warnings(sheet: SheetRecords, known: KnownItems) -> list[Problem]:
    """A warning for each item whose content its author already reported (here or before).

    An item matches one in force in another month, else the first of its kind in this sheet.
    """
    records = sheet.records
    hashes = records["content_hash"]
    compared = np.flatnonzero(hashes.notna().to_numpy())
    if not len(compared):
        return []
    people = records["employee_id"].to_numpy(object)[compared]
    keys = hashes.to_numpy(object)[compared]
    item_ids = records["item_id"].to_numpy(object)[compared]
    elsewhere = known.duplicates(set(keys.tolist()))
    pair_codes, pair_count = _pair_codes(
        pd.factorize(people, use_na_sentinel=False)[0], pd.factorize(keys)[0]
    )
    first = np.full(pair_count, -1, dtype=np.int64)
    first[pair_codes[::-1]] = np.arange(len(pair_codes))[::-1]
    repeated = first[pair_codes] != np.arange(len(pair_codes))
    found: dict[int, str] = {}
    if elsewhere:  # rare: compare the few rows sharing a digest with an item elsewhere
        digests = {key for _, key in elsewhere}
        for position in np.flatnonzero([key in digests for key in keys]).tolist():
            other = elsewhere.get((people[position], keys[position]))
            if other is not None and people[position]:
                found[position] = other
    for position in np.flatnonzero(repeated).tolist():
        found.setdefault(position, str(item_ids[first[pair_codes[position]]]))
    column = sheet.columns["content"]
    return [
        Problem(
            "possible_duplicate_item",
            "warning",
            sheet=sheet.sheet_name,
            row=int(records["source_row"].iat[compared[position]]),
            column=column,
            value=str(records["content"].iat[compared[position]])[:40],
            params={"other": other},
        )
        for position, other in sorted(found.items())
    ]


def _check_item_references(ledger_file: LedgerFile, known: KnownItems) -> list[Problem]:
    """Tracking updates and 信息不实 notices must name a known item (of that person)."""
    tracking = ledger_file.sheets.get("tracking")
    violations = ledger_file.sheets.get("violations")
    named = {
        item_id
        for sheet in (tracking, violations)
        if sheet is not None and not sheet.records.empty
        for item_id in sheet.records["item_id"]
        if item_id is not None
    }
    if not named:
        return []
    index = _item_index(known.by_id(named), ledger_file, named)
    problems: list[Problem] = []
    if tracking is not None and not tracking.records.empty:
        problems += _tracking_problems(tracking, index)
    if violations is not None and not violations.records.empty:
        problems += _notice_problems(violations, index)
    return problems


def _item_index(stored: pd.DataFrame, ledger_file: LedgerFile, named: set[str]) -> dict:
    """Item number → the item it names: the month's own items over those of other months, and
    a number given twice, its last row. Only the named rows of the month's items are read."""
    rows: list[tuple] = []
    if not stored.empty:
        rows += zip(*(stored[name].tolist() for name in ITEM_INDEX_COLUMNS), strict=True)
    submissions = ledger_file.frame("submissions")
    if submissions is not None and not submissions.empty:
        ids = submissions["item_id"].tolist()
        wanted = [position for position, item_id in enumerate(ids) if item_id in named]
        columns = {
            name: submissions[name].to_numpy(object)[wanted].tolist()
            for name in ITEM_INDEX_COLUMNS
            if name != "period"
        }
        columns["period"] = [ledger_file.period] * len(wanted)
        rows += zip(*(columns[name] for name in ITEM_INDEX_COLUMNS), strict=True)
    return {row[0]: _Item(*row) for row in rows}


def _tracking_problems(sheet: SheetRecords, index: dict) -> list[Problem]:
    problems = []
    records = sheet.records
    columns = ("item_id", "source_row", "date", "stage", "inspection")
    for item_id, source_row, day, stage, inspection in zip(
        *(records[column].tolist() for column in columns), strict=True
    ):
        if item_id is None:
            continue
        item = index.get(item_id)
        if item is None:
            problems.append(
                Problem(
                    "unknown_item_id",
                    sheet=sheet.sheet_name,
                    row=int(source_row),
                    column=sheet.columns["item_id"],
                    value=item_id,
                    params={"item_id": item_id},
                )
            )
        elif day is not None and item.date is not None and day < item.date:
            problems.append(
                Problem(
                    "tracking_before_item",
                    sheet=sheet.sheet_name,
                    row=int(source_row),
                    column=sheet.columns["date"],
                    value=day.isoformat(),
                    params={"reported": item.date.isoformat()},
                )
            )
        if inspection is not None and stage != STAGES[-1]:
            problems.append(
                Problem(
                    "inspection_without_stage",
                    sheet=sheet.sheet_name,
                    row=int(source_row),
                    column=sheet.columns.get("inspection", "复查结果"),
                    value=inspection,
                )
            )
    return problems


def _notice_problems(sheet: SheetRecords, index: dict) -> list[Problem]:
    problems: list[Problem] = []
    records = sheet.records
    columns = ("item_id", "source_row", "employee_id", "name", "violation_type")
    for item_id, source_row, employee_id, name, violation_type in zip(
        *(records[column].tolist() for column in columns), strict=True
    ):
        if item_id is None:
            continue
        item = index.get(item_id)
        at = partial(
            Problem,
            sheet=sheet.sheet_name,
            row=int(source_row),
            column=sheet.columns["item_id"],
            value=item_id,
        )
        if item is None:
            problems.append(at("unknown_item_id", params={"item_id": item_id}))
        elif employee_id is not None and item.employee_id != employee_id:
            problems.append(
                at(
                    "item_of_other_person",
                    params={"item_id": item_id, "owner": item.name, "name": name},
                )
            )
        elif violation_type == "信息不实" and item.truthful != NO:
            problems.append(
                at(
                    "untrue_notice_on_true_item",
                    "warning",
                    params={"item_id": item_id, "truthful": item.truthful},
                )
            )
    return problems


def validate_roster(
    sheet: SheetRecords, period: str, rules: Rules, seats: tuple[Seat, ...]
) -> list[Problem]:
    """Duplicate 工号 and bad terms are errors; seat rules and dismissals are warnings."""
    records = sheet.records
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    for row in records.itertuples():
        if row.employee_id in first_row:
            problems.append(
                Problem(
                    "duplicate_employee_id",
                    sheet=sheet.sheet_name,
                    row=int(row.source_row),
                    column=sheet.columns["employee_id"],
                    value=row.employee_id,
                    params={
                        "employee_id": row.employee_id,
                        "other_row": first_row[row.employee_id],
                    },
                )
            )
        elif row.employee_id is not None:
            first_row[row.employee_id] = int(row.source_row)
        problems += _term_problems(sheet, row, rules)
    errors = [p for p in [*sheet.problems, *problems] if p.severity == "error"]
    if not errors and not records.empty:  # seat rules only on a roster read without errors
        problems += [
            replace(p, sheet=sheet.sheet_name)
            for p in seat_problems(records, month_end(period), seats)
        ]
    return problems


def _term_problems(sheet: SheetRecords, row: Any, rules: Rules) -> list[Problem]:
    appointed = row.appointed_on
    dismissed = row.dismissed_on
    reason = row.dismissal_reason
    at = partial(Problem, sheet=sheet.sheet_name, row=int(row.source_row))
    if dismissed is None:
        return []
    if appointed is not None and dismissed <= appointed:
        return [
            at(
                "dismissal_before_appointment",
                column=sheet.columns["dismissed_on"],
                value=dismissed.isoformat(),
            )
        ]
    if not isinstance(reason, str) or not reason.strip():
        return [
            at(
                "departure_without_reason",
                "warning",
                column=sheet.columns.get("dismissal_reason", "解聘原因"),
                params={"name": row.name},
            )
        ]
    if is_dismissal(reason, rules):
        return [
            at(
                "dismissed_departure",
                "warning",
                value=reason,
                params={"name": row.name, "date": dismissed.isoformat(), "reason": reason},
            )
        ]
    return []


def seat_problems(roster: pd.DataFrame, on: date, seats: tuple[Seat, ...]) -> list[Problem]:
    """Seat-rule findings (SPEC §1) for the liaisons serving on day ``on``."""
    serving = roster[in_service(roster, on)]
    problems: list[Problem] = []
    configured = {seat.unit: seat for seat in seats}
    for unit in sorted(set(serving["unit"]) - set(configured)):
        problems.append(Problem("unknown_unit", "warning", params={"unit": unit}))
    for seat in seats:
        members = serving[serving["unit"] == seat.unit]
        if len(members) != seat.seats:
            problems.append(
                Problem(
                    "seat_count",
                    "warning",
                    params={"unit": seat.unit, "expected": seat.seats, "actual": len(members)},
                )
            )
            continue
        positions = sorted(p for p in members["position"] if isinstance(p, str))
        if seat.leader_and_worker and positions != ["班组长", "职工"]:
            problems.append(Problem("seat_pair", "warning", params={"unit": seat.unit}))
        if seat.female_required and "女" not in set(members["gender"]):
            problems.append(Problem("seat_female", "warning", params={"unit": seat.unit}))
    expected = sum(seat.seats for seat in seats)
    problems.append(
        Problem("seat_total", "note", params={"actual": len(serving), "expected": expected})
    )
    return problems
