"""The exceptions ledger-batch raises, and the cell-level problems it reports.

Every message a clerk may see says what is wrong and how to fix it, in Chinese and
English. The CLI maps each exception class to an exit code (see ``EXIT_CODES``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ledger_batch.messages import Lang, message_text

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth noting) in an input file, pinned to its cell."""

    code: str
    severity: Severity = "error"
    file: str = ""
    sheet: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""
    params: dict[str, object] = field(default_factory=dict)

    @property
    def cell(self) -> str:
        """The cell as Excel names it, e.g. ``信息报送!C7`` (or just the sheet)."""
        letter = self.column.split(" ", 1)[0] if self.column else ""
        if self.sheet and letter and self.row:
            return f"{self.sheet}!{letter}{self.row}"
        if self.sheet and self.row:
            return f"{self.sheet}!{self.row}"
        return self.sheet

    def what(self, lang: Lang) -> str:
        """What is wrong, in ``lang``."""
        return message_text(self.code, "what", lang, self.params)

    def fix(self, lang: Lang) -> str:
        """How to fix it, in ``lang``."""
        return message_text(self.code, "fix", lang, self.params)

    def one_line(self, lang: Lang) -> str:
        """File · sheet · row · column (cell) · value: what — fix, on one line."""
        row = (f"行 {self.row}" if lang == "zh" else f"row {self.row}") if self.row else ""
        column = f"{self.column} ({self.cell})" if self.column and self.row else self.column
        value = repr(self.value) if self.value else ""
        where = " · ".join(p for p in (self.file, self.sheet, row, column, value) if p)
        fix = self.fix(lang)
        return f"{where}: {self.what(lang)}" + (f" — {fix}" if fix else "")


MOST_OF_A_KIND = 200
"""An error report lists at most this many problems of one kind in one column; the rest are
counted in one line (a sheet of 300,000 broken rows would otherwise make a report of
hundreds of megabytes that nobody reads, and exhaust memory building it)."""


def capped(problems: list[Problem], most: int = MOST_OF_A_KIND) -> list[Problem]:
    """``problems`` with each (severity, sheet, column, code) group cut to ``most``, followed
    by one ``more_problems`` line saying how many more and in which rows."""
    groups: dict[tuple[str, str, str, str], list[Problem]] = {}
    for problem in problems:
        key = (problem.severity, problem.sheet, problem.column, problem.code)
        groups.setdefault(key, []).append(problem)
    if all(len(group) <= most for group in groups.values()):
        return problems
    kept: list[Problem] = []
    for group in groups.values():
        kept += group[:most]
        rest = group[most:]
        if rest:
            rows = [p.row for p in rest if p.row]
            first = rest[0]
            kept.append(
                Problem(
                    "more_problems",
                    first.severity,
                    file=first.file,
                    sheet=first.sheet,
                    row=min(rows) if rows else None,
                    column=first.column,
                    params={
                        "count": len(rest),
                        "rows": f"{min(rows)}–{max(rows)}" if rows else "",
                        "what_zh": first.what("zh"),
                        "what_en": first.what("en"),
                    },
                )
            )
    return kept


def problem_count(problems: list[Problem], severity: Severity = "error") -> int:
    """How many problems of ``severity``, counting those a ``more_problems`` line stands for."""
    return sum(
        int(str(p.params["count"])) if p.code == "more_problems" else 1
        for p in problems
        if p.severity == severity
    )


class LedgerError(Exception):
    """Base class of every error ledger-batch reports to a person."""

    exit_code = 2

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(message_text(code, "what", "en", params))

    def text(self, lang: Lang) -> str:
        """The message and its fix in ``lang``."""
        what = message_text(self.code, "what", lang, self.params)
        fix = message_text(self.code, "fix", lang, self.params)
        return f"{what}\n{fix}" if fix else what


class ConfigError(LedgerError):
    """The workspace's rules file is invalid; the message names the key."""


class WorkspaceError(LedgerError):
    """The workspace is missing or not initialised."""


class FileRejected(LedgerError):
    """A ledger file has errors and was not stored."""

    exit_code = 1

    def __init__(self, path_name: str, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("file_rejected", file=path_name, count=len(problems))


class IncompleteYear(LedgerError):
    """A year-end run was asked for while months of the year have no ledger."""

    exit_code = 3


class WorkspaceBusy(LedgerError):
    """Another ledger-batch run holds the workspace."""

    exit_code = 4


class YearClosed(LedgerError):
    """The assessment year has been paid out and closed."""


class OutputError(LedgerError):
    """A report or message could not be written (disk full, file held open); nothing changed."""


class NoData(LedgerError):
    """A report was asked for a period with nothing stored."""


class EmailError(LedgerError):
    """A message cannot be queued or sent as configured; nothing was queued or sent."""
