"""A workspace: the folder the office works in, with its rules file and its store.

Layout: ``ledger-batch.toml`` (rules), ``inbox/`` (drop files here), ``archive/`` (every
accepted original), ``quarantine/`` (rejected files and their error reports),
``reports/``, ``outbox/`` and the SQLite store ``ledger.db``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ledger_batch.errors import WorkspaceError
from ledger_batch.lazy import lazy_module
from ledger_batch.periods import month_in_name

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ledger_batch import config, templating
    from ledger_batch import store as storage
    from ledger_batch.config import Settings
else:  # jinja2 loads only when the rules file is written; pandas (the store's) when a
    # command first opens the store, and the rules file's models (pydantic) when it is
    # first read, so that an ingest starts its early read without either
    config, templating = lazy_module("config"), lazy_module("templating")
    storage = lazy_module("store")


CONFIG_NAME = "ledger-batch.toml"
STORE_NAME = "ledger.db"
FOLDERS = ("inbox", "archive", "quarantine", "reports", "outbox")


@dataclass
class Workspace:
    """Paths and settings of one workspace."""

    root: Path

    @property
    def config_path(self) -> Path:
        """The rules file."""
        return self.root / CONFIG_NAME

    @property
    def store_path(self) -> Path:
        """The SQLite store."""
        return self.root / STORE_NAME

    @property
    def templates_dir(self) -> Path:
        """The workspace's own ``templates/`` (optional): its files win over the defaults."""
        return self.root / "templates"

    def folder(self, name: str) -> Path:
        """One of ``FOLDERS``."""
        return self.root / name

    @cached_property
    def settings(self) -> Settings:
        """The rules file over the defaults."""
        return config.load_settings(self.config_path)

    def read_rules(self) -> None:
        """Read the rules file now (ConfigError when it is wrong), before anything is done."""
        _ = self.settings

    def open_store(self) -> storage.Store:
        """A connection to the store."""
        return storage.Store(self.store_path)

    @contextmanager
    def store(self) -> Iterator[storage.Store]:
        """A connection to the store, closed afterwards."""
        store = self.open_store()
        try:
            yield store
        finally:
            store.close()

    @classmethod
    def create(cls, root: Path) -> tuple[Workspace, list[Path]]:
        """Create what is missing of a workspace; returns it and the paths it created."""
        root.mkdir(parents=True, exist_ok=True)
        workspace = cls(root.resolve())
        created: list[Path] = []
        for name in FOLDERS:
            folder = workspace.folder(name)
            if not folder.exists():
                folder.mkdir()
                created.append(folder)
        if not workspace.config_path.exists():
            workspace.config_path.write_text(default_config_text(), encoding="utf-8")
            created.append(workspace.config_path)
        if not workspace.store_path.exists():
            workspace.open_store().close()
            created.append(workspace.store_path)
        return workspace, created

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """An existing workspace, or WorkspaceError naming how to create it."""
        workspace = cls(root.resolve())
        if not workspace.store_path.exists() or not workspace.folder("inbox").is_dir():
            raise WorkspaceError("workspace_missing", path=str(root))
        return workspace


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, config.BaseModel):
        pairs = (f"{k} = {_toml_value(getattr(value, k))}" for k in type(value).model_fields)
        return "{ " + ", ".join(pairs) + " }"
    raise TypeError(value)


def _inline_items(model_class: type[BaseModel], values: BaseModel) -> list[dict[str, object]]:
    """Every field as ``key = value`` on one line (lists of tables written inline)."""
    return [
        {
            "key": key,
            "description": info.description or "",
            "value": _toml_value(getattr(values, key)),
        }
        for key, info in model_class.model_fields.items()
    ]


def _table_rows(models: tuple[BaseModel, ...]) -> list[list[tuple[str, str]]]:
    return [
        [
            (key, _toml_value(value))
            for key, value in model.model_dump().items()
            if value is not None
        ]
        for model in models
    ]


def _described_items(model_class: type[BaseModel], defaults: BaseModel) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    for key, info in model_class.model_fields.items():
        value = getattr(defaults, key)
        is_table = isinstance(value, tuple) and value and isinstance(value[0], config.BaseModel)
        items.append(
            {
                "key": key,
                "description": info.description or "",
                "is_table": is_table,
                "value": _table_rows(value) if is_table else _toml_value(value),
            }
        )
    return items


def default_config_text(settings: Settings | None = None) -> str:
    """The rules file ``init`` writes: every rule with its default and its SPEC citation.

    ``settings`` (default: the defaults) gives the values written, e.g. the demo's addresses.
    """
    settings = settings or config.Settings()
    company = config.Settings.model_fields["company"]
    return (
        templating.environment()
        .get_template("ledger-batch.toml.j2")
        .render(
            company={"description": company.description, "value": _toml_value(settings.company)},
            rules=_described_items(config.Rules, settings.rules),
            seats=_table_rows(settings.seats),
            limits=_described_items(config.Limits, settings.limits),
            email=_inline_items(config.EmailSettings, settings.email),
        )
    )


def scratch_prefix(root: Path) -> str:
    """The name, in the system's temporary folder, of a workspace's scratch folders (the
    readers' staged items, the early read's results), each followed by its run's process id
    so that a killed run's folders can be told from a running one's."""
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return f"ledger-batch-staged-{digest}-"


def earliest_order(path: Path) -> tuple[int, str, int, str]:
    """A lower bound of the file's ``pipeline._processing_order``, from its name alone.

    A month named in the file name is its period whatever the file holds, so the file comes
    no earlier than (that month, a roster, its own name): a term roster read first goes to the
    run as soon as it is read when its name sorts before the first month's files (``2025
    人员名册.xlsx`` before ``2025-01.xlsx``). A name without a month may still turn out to be a
    roster or a file without a period, so it bounds nothing.
    """
    month = month_in_name(path.name)
    return (0, month, 0, path.name) if month else (0, "", 0, "")


def ignore_reason(path: Path) -> str | None:
    """Why a file in the inbox is left alone: ``lock_file`` or ``system_file``; None to read it."""
    name = path.name
    if name.startswith(("~$", ".~lock.")):
        return "lock_file"
    if name.startswith("._") or name.lower() in {"thumbs.db", "desktop.ini", ".ds_store"}:
        return "system_file"
    return None


def inbox_files(workspace: Workspace) -> list[Path]:
    """Files waiting in the inbox (not folders, not hidden dotfiles other than lock files)."""
    inbox = workspace.folder("inbox")
    return sorted(p for p in inbox.iterdir() if p.is_file())
