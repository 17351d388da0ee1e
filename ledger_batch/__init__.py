"""ledger-batch: run a manager-liaison incentive scheme (经理联络员机制) from monthly Excel ledgers.

Pipeline stages, one module each: read → normalise → validate → store → score → render.
``pipeline`` chains them for dropped files; ``assess`` computes the reports' figures.
"""

__version__ = "0.1.0"
