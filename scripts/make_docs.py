"""Write docs/fields.md from the field registry (the one definition of the ledger format)."""

import sys
from pathlib import Path

from ledger_batch.fields import fields_markdown

target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/fields.md")
target.write_text(fields_markdown(), encoding="utf-8")
print(f"wrote {target}")
