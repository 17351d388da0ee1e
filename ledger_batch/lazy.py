"""Modules loaded on first use (importlib's LazyLoader): a command starts with the libraries
it needs, so ``ingest`` does not wait for the report and mail libraries to load."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """``ledger_batch.<name>``, executed when one of its attributes is first used."""
    qualified = f"ledger_batch.{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.find_spec(qualified)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(qualified)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    loader.exec_module(module)
    return module
