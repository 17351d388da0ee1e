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

# numpy's OpenBLAS starts a thread per core when numpy loads and keeps it busy-waiting for
# work for about 0.1 s (measured with perf: 1.2% of an ingest's CPU samples), on the core the
# early read starts on; nothing here multiplies matrices. A user's own setting is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
