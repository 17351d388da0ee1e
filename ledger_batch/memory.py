"""How the process's C allocator treats memory an ingest frees (glibc's ``mallopt``).

The files of a drop are alike, and each one's memory is freed before the next is read. By
default glibc maps every large block on its own and unmaps it when freed, and hands the top of
its heap back to the system, so every file faults the same pages in again. While an ingest
runs, blocks come from the heap and freed memory stays there for the next file; at the end the
free memory is handed back (``malloc_trim``), so that ``watch`` does not hold on to it between
drops. Reader processes are forked with these settings. See docs/decisions.md for the figures.

Python's own cycle collector leaves what exists before a fork out of its collections
(``start_up_frozen``).
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
"""``mallopt`` parameters (glibc's malloc.h)."""

MMAP_THRESHOLD_BYTES = 32 << 20
"""glibc's largest mapping threshold on 64-bit systems: below it, blocks come from the heap."""
TRIM_THRESHOLD_BYTES = 256 << 20
"""Free memory at the top of the heap kept for the next file rather than handed back."""
TOP_PAD_BYTES = 16 << 20
"""Extra heap asked for at a time, so that a growing run asks the system less often."""

USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
"""Environment variables by which a user tunes glibc's malloc themselves (as does
``GLIBC_TUNABLES`` with ``glibc.malloc``): then their settings stand."""


@contextmanager
def reusing_freed_memory() -> Iterator[None]:
    """Keep freed memory for reuse while the block runs; hand it back at the end.

    glibc cannot go back to its dynamic mapping threshold once one is set, so the settings
    stay for the rest of the process; what they keep is handed back at the end of each
    block. Nothing changes where malloc is not glibc's, or where the user tuned it.
    """
    libc = _glibc()
    if libc is not None:
        for parameter, value in (
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
            (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
            (M_TOP_PAD, TOP_PAD_BYTES),
        ):
            libc.mallopt(parameter, value)  # refused (0) on 32-bit systems: nothing changes
    try:
        yield
    finally:
        if libc is not None:
            libc.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc and the user has not tuned its malloc, else None."""
    tuned = any(name in os.environ for name in USER_SETTINGS)
    if sys.platform != "linux" or tuned or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):  # musl and others: no mallopt or malloc_trim
        return None
    return libc


@contextmanager
def start_up_frozen() -> Iterator[None]:
    """Leave the objects that exist now (the modules loaded, mostly) out of cycle collection
    while the block runs, and take them back in at its end.

    What the gc documentation advises before a fork: a forked process's collector then never
    walks the objects it shares with its parent, and so neither spends the time nor copies
    their pages, and nor does the parent's. The young generations are collected first, so
    that no fresh garbage is frozen with them: ``watch`` ingests again and again, and a cycle
    left by one drop must not outlive the next. At the end everything frozen is taken back
    in, the early read's freeze of the start-up included (``early_read.start``).
    """
    freeze_live_objects()
    try:
        yield
    finally:
        gc.unfreeze()


def freeze_live_objects() -> None:
    """``gc.freeze()``, after collecting the young generations: what is frozen is never
    collected until ``gc.unfreeze()``, so fresh garbage (a cycle just dropped) must not be
    frozen with the live objects."""
    gc.collect(1)
    gc.freeze()
