"""The Jinja environment: packaged ``templates/`` with a workspace's own folder in front.

Autoescape is on for every HTML-like template, including ``.html.j2`` names that
``select_autoescape()`` alone would miss.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from ledger_batch.resources import data_dir

_HTML_SUFFIXES = (".html", ".htm", ".xml", ".html.j2", ".htm.j2", ".xml.j2")


def _autoescape(template_name: str | None) -> bool:
    return bool(template_name) and str(template_name).endswith(_HTML_SUFFIXES)


def environment(workspace_templates: Path | None = None) -> Environment:
    """Templates from ``workspace_templates`` (when it exists) over the packaged defaults."""
    loaders = [FileSystemLoader(str(data_dir("templates")))]
    if workspace_templates is not None and workspace_templates.is_dir():
        loaders.insert(0, FileSystemLoader(str(workspace_templates)))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
