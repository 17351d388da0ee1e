"""Stage 6c, publish: write rendered reports under ``reports/<year>/`` in the workspace.

Every file appears whole or not at all: it is written to a temporary name in the same
folder and renamed into place, so a killed run leaves the previous report readable.
"""

from __future__ import annotations

import re
from pathlib import Path

from ledger_batch.atomic import write_atomically
from ledger_batch.render_html import render_html
from ledger_batch.render_xlsx import (
    RegisterLayout,
    apply_register_layout,
    load_register_layout,
    write_workbook,
)
from ledger_batch.reports import Report
from ledger_batch.workspace import Workspace

STATEMENTS_FOLDER = {"zh": "个人考核通知单", "en": "statements"}
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]')
MAX_NAME_BYTES = 180
"""A file name's bytes (UTF-8) before its suffix: file systems allow 255 with the suffix."""


def safe_file_stem(stem: str) -> str:
    """A file name made from ledger data (工号 and 姓名) that stays inside its folder on Linux
    and Windows: no path separators, characters Windows refuses or control characters, no
    leading or trailing dots and spaces, and not too long."""
    cleaned = _UNSAFE_IN_NAME.sub("_", stem).strip(" .")
    while len(cleaned.encode()) > MAX_NAME_BYTES:
        cleaned = cleaned[:-1]
    return cleaned.rstrip(" .") or "_"


def _layout_for(workspace: Workspace, report: Report) -> RegisterLayout | None:
    if report.kind != "payout":
        return None
    layout = load_register_layout(workspace.templates_dir, report.company, report.period_label)
    apply_register_layout(report, layout)
    return layout


def report_html(workspace: Workspace, report: Report) -> str:
    """The report's inlined HTML exactly as ``publish`` writes it (layout and sign-off)."""
    layout = _layout_for(workspace, report)
    sign_off = None
    if layout is not None:
        sign_off = layout.sign_off.labels_zh if report.lang == "zh" else layout.sign_off.labels_en
    return render_html(report, workspace.templates_dir, sign_off)


def publish(
    workspace: Workspace, report: Report, folder: Path, stem: str | None = None
) -> list[Path]:
    """Write ``report`` as xlsx and HTML into ``folder``; returns the two paths."""
    layout = _layout_for(workspace, report)
    html = report_html(workspace, report)
    stem = stem or safe_file_stem(report.file_stem)
    xlsx_path = write_atomically(
        folder / f"{stem}.xlsx", lambda p: write_workbook(report, p, layout)
    )
    html_path = write_atomically(
        folder / f"{stem}.html", lambda p: p.write_text(html, encoding="utf-8")
    )
    return [xlsx_path, html_path]


def report_folder(workspace: Workspace, year: int) -> Path:
    """``reports/<year>/``."""
    return workspace.folder("reports") / str(year)


def publish_statements(workspace: Workspace, reports: list[Report], year: int) -> list[Path]:
    """Write one statement per liaison into ``reports/<year>/个人考核通知单/``."""
    if not reports:
        return []
    folder = report_folder(workspace, year) / STATEMENTS_FOLDER[reports[0].lang]
    paths: list[Path] = []
    taken: set[str] = set()
    for report in reports:
        stem = safe_file_stem(report.file_stem)
        while stem.casefold() in taken:  # never one liaison's file written over another's
            stem += "_"
        taken.add(stem.casefold())
        paths += publish(workspace, report, folder, stem)
    return paths
