"""The limits a file is guarded with before a spreadsheet reader sees it (SPEC §4).

Their defaults live here, apart from the rules file's models (config.py, built on pydantic),
so that an ingest can start its early read before those load (early_read.py): when the
workspace's rules file sets none of these limits, the early read guards with the defaults,
which are the rules file's own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol


class GuardLimits(Protocol):
    """What the guard checks a file against: the rules file's ``limits`` or the defaults."""

    @property
    def max_file_bytes(self) -> int: ...

    @property
    def max_unpacked_bytes(self) -> int: ...

    @property
    def max_compression_ratio(self) -> int: ...

    @property
    def max_rows_per_sheet(self) -> int: ...

    @property
    def max_columns_per_sheet(self) -> int: ...

    @property
    def max_cells_per_sheet(self) -> int: ...


@dataclass(frozen=True)
class DefaultGuardLimits:
    """The defaults of ``GuardLimits`` (config.Limits takes its defaults from here)."""

    max_file_bytes: int = 200_000_000
    max_unpacked_bytes: int = 1_000_000_000
    max_compression_ratio: int = 200
    max_rows_per_sheet: int = 1_100_000
    max_columns_per_sheet: int = 200
    max_cells_per_sheet: int = 5_000_000


DEFAULT_GUARD_LIMITS = DefaultGuardLimits()

GUARD_LIMIT_NAMES = frozenset(f.name for f in fields(DefaultGuardLimits))
"""The ``[limits]`` keys the guard reads: a rules file setting any of them is loaded before
the early read starts."""
