"""Stage 6b, render HTML: a Report as an email-safe page (inline CSS, no scripts).

Templates in ``templates/`` (a workspace's own copies win) lay the report out; bars are
table cells so charts survive mail clients. CSS is inlined at render time.
"""

from __future__ import annotations

from pathlib import Path

import css_inline

from ledger_batch.labels import format_cell
from ledger_batch.reports import Report
from ledger_batch.templating import environment

_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def render_html(
    report: Report, templates_dir: Path | None = None, sign_off: list[str] | None = None
) -> str:
    """The report as one self-contained, inlined HTML document."""
    env = environment(templates_dir)
    env.filters["cell"] = format_cell
    zh = report.lang == "zh"
    html = env.get_template("report.html.j2").render(
        report=report,
        sign_off=sign_off or [],
        empty_label="（无）" if zh else "(none)",
        threshold_label="档次线" if zh else "Tier thresholds",
    )
    return _INLINER.inline(html)
