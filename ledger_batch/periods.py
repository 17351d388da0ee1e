"""Months, quarters and assessment years, and the month a file's name carries.

A period is a ``YYYY-MM`` string. The assessment year may start in any month
(``rules.year_start_month``); assessment year 2025 starting in April runs 2025-04 … 2026-03.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date

from ledger_batch.errors import LedgerError

_MONTH_IN_NAME = re.compile(r"(?<!\d)(20\d{2}|19\d{2})\s*(?:[-_./年\s]\s*)?(\d{1,2})(?!\d)\s*月?")
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d{2}|19\d{2})(?!\d)")
_QUARTER = re.compile(r"^(\d{4})\s*-?\s*[Qq]([1-4])$")


def period_of(year: int, month: int) -> str:
    """``YYYY-MM``."""
    return f"{year:04d}-{month:02d}"


def split_period(period: str) -> tuple[int, int]:
    """``(year, month)`` of a ``YYYY-MM`` period."""
    year, month = period.split("-")
    return int(year), int(month)


def parse_month(text: str) -> str:
    """A ``YYYY-MM`` period from user input such as ``2025-03`` or ``2025年3月``."""
    found = month_in_name(text)
    if found is None:
        raise LedgerError("bad_period", value=text, expected="YYYY-MM")
    return found


def month_in_name(file_name: str) -> str | None:
    """The month a file name carries (``2025-03.xlsx``, ``2025年3月台账.xlsx``), or None."""
    text = unicodedata.normalize("NFKC", file_name)
    for match in _MONTH_IN_NAME.finditer(text):
        month = int(match[2])
        if 1 <= month <= 12:
            return period_of(int(match[1]), month)
    return None


def year_in_name(file_name: str) -> int | None:
    """The year a file name carries, when it names no month (a term roster), or None."""
    match = _YEAR_IN_NAME.search(unicodedata.normalize("NFKC", file_name))
    return int(match[1]) if match else None


def month_end(period: str) -> date:
    """Last day of the month."""
    year, month = split_period(period)
    return date(year, month, calendar.monthrange(year, month)[1])


def month_start(period: str) -> date:
    """First day of the month."""
    year, month = split_period(period)
    return date(year, month, 1)


def shift_month(period: str, months: int) -> str:
    """The period ``months`` after (or before) ``period``."""
    year, month = split_period(period)
    index = year * 12 + month - 1 + months
    return period_of(index // 12, index % 12 + 1)


def assessment_year_of(period: str, start_month: int) -> int:
    """The assessment year a month belongs to."""
    year, month = split_period(period)
    return year if month >= start_month else year - 1


def year_months(year: int, start_month: int) -> list[str]:
    """The twelve months of assessment year ``year``, in order."""
    first = period_of(year, start_month)
    return [shift_month(first, offset) for offset in range(12)]


def parse_quarter(text: str) -> tuple[int, int]:
    """``(year, quarter)`` from ``2025-Q1``; quarters count from the assessment year's start."""
    match = _QUARTER.match(text.strip())
    if not match:
        raise LedgerError("bad_period", value=text, expected="YYYY-Qn (2025-Q1)")
    return int(match[1]), int(match[2])


def quarter_months(year: int, quarter: int, start_month: int) -> list[str]:
    """The three months of a quarter of the assessment year."""
    return year_months(year, start_month)[(quarter - 1) * 3 : quarter * 3]


def parse_year(text: str) -> int:
    """An assessment year from user input."""
    cleaned = unicodedata.normalize("NFKC", text).strip().rstrip("年")
    if not re.fullmatch(r"\d{4}", cleaned):
        raise LedgerError("bad_period", value=text, expected="YYYY")
    return int(cleaned)
