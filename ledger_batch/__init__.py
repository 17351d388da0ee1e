"""ledger-batch: run a manager-liaison incentive scheme (经理联络员机制) from monthly Excel ledgers.

Pipeline stages, one module each: read → normalise → validate → store → score → render.
``pipeline`` chains them for dropped files; ``assess`` computes the reports' figures.
"""

import os

__version__ = "0.1.0"

# The settings models use no pydantic plugins; looking for them reads the metadata of every
# installed package when the first model is built (~50 ms of every start). A user's own
# PYDANTIC_DISABLE_PLUGINS is kept.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
