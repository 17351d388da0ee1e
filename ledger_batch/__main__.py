"""``python -m ledger_batch``."""

from ledger_batch.cli import main

main()
