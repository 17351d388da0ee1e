"""The Jinja environment: packaged ``templates/`` with a workspace's own folder in front.

Autoescape is on for every HTML-like template, including ``.html.j2`` names that
``select_autoescape()`` alone would miss.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from ledger_batch.labels import format_cell
from ledger_batch.resources import data_dir

_HTML_SUFFIXES = (".html", ".htm", ".xml", ".html.j2", ".htm.j2", ".xml.j2")


def _autoescape(template_name: str | None) -> bool:
    return bool(template_name) and str(template_name).endswith(_HTML_SUFFIXES)


def environment(workspace_templates: Path | None = None) -> Environment:
    """Templates from ``workspace_templates`` (when it exists) over the packaged defaults.

    One environment per folder is kept, so templates compile once per process (and are
    recompiled when their file changes).
    """
    folder = workspace_templates if workspace_templates and workspace_templates.is_dir() else None
    return _environment(None if folder is None else str(folder))


@lru_cache(maxsize=16)
def _environment(workspace_templates: str | None) -> Environment:
    loaders = [FileSystemLoader(str(data_dir("templates")))]
    if workspace_templates is not None:
        loaders.insert(0, FileSystemLoader(workspace_templates))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = format_cell
    return env
