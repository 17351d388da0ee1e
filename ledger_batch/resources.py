"""Where the packaged ``templates/`` and ``sample_ledgers/`` folders are.

In a wheel they live inside the package (``ledger_batch/_data``); in a source checkout
they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The packaged folder ``name`` (``templates`` or ``sample_ledgers``)."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ledger-batch is installed without its {name}/ folder")
