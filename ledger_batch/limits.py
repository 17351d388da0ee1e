"""The limits a file is guarded with before a spreadsheet reader sees it (SPEC §4).

Their defaults live here, apart from the rules file's models (config.py, built on pydantic),
so that an ingest can start its early read before those load (early_read.py): when the
workspace's rules file sets none of these limits to other than its default, the early read
guards with the defaults, which are then the rules file's own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from ledger_batch.config import Limits


@dataclass(frozen=True)
class DefaultGuardLimits:
    """The guard's limits at their defaults (config.Limits takes its defaults from here)."""

    max_file_bytes: int = 200_000_000
    max_unpacked_bytes: int = 1_000_000_000
    max_compression_ratio: int = 200
    max_rows_per_sheet: int = 1_100_000
    max_columns_per_sheet: int = 200
    max_cells_per_sheet: int = 5_000_000


DEFAULT_GUARD_LIMITS = DefaultGuardLimits()

GuardLimits: TypeAlias = "DefaultGuardLimits | Limits"
"""What the guard checks a file against: the rules file's ``limits`` or the defaults."""

GUARD_LIMIT_NAMES = frozenset(f.name for f in fields(DefaultGuardLimits))
"""The ``[limits]`` keys the guard reads: a rules file setting any of them to other than its
default is loaded before the early read starts."""
