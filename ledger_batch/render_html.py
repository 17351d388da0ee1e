"""Stage 6b, render HTML: a Report as an email-safe page (inline CSS, no scripts).

Templates in ``templates/`` (a workspace's own copies win) lay the report out; bars are
table cells so charts survive mail clients. CSS is inlined at render time.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import css_inline

from ledger_batch.reports import Report
from ledger_batch.templating import environment

_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)
PAGE_ROWS = 500
"""Most rows of one table on a page or in an email body; the workbook holds them all
(inlined HTML is 3–4 times the size of the raw table, READERS.md)."""
CHART_BARS = 60
"""Most bars of one chart on a page (a group's 1,900 liaisons would be a wall of bars)."""


def for_page(report: Report) -> Report:
    """The report with long tables and charts cut to what a page or an email should carry."""
    zh = report.lang == "zh"
    sections = []
    for section in report.sections:
        sentences = list(section.sentences)
        table = section.table
        if table is not None and len(table.rows) > PAGE_ROWS:
            sentences.append(
                f"此处仅列出前 {PAGE_ROWS} 行（共 {len(table.rows)} 行），全部见同名工作簿。"
                if zh
                else f"The first {PAGE_ROWS} of {len(table.rows)} rows; all are in the workbook."
            )
            table = replace(table, rows=table.rows[:PAGE_ROWS])
        if any(len(chart.bars) > CHART_BARS for chart in section.charts):
            sentences.append(
                f"图表仅显示前 {CHART_BARS} 项，全部见同名工作簿。"
                if zh
                else f"Charts show the first {CHART_BARS} bars; all are in the workbook."
            )
        charts = [replace(chart, bars=chart.bars[:CHART_BARS]) for chart in section.charts]
        sections.append(replace(section, table=table, charts=charts, sentences=sentences))
    return replace(report, sections=sections)


def render_html(
    report: Report, templates_dir: Path | None = None, sign_off: list[str] | None = None
) -> str:
    """The report as one self-contained, inlined HTML document."""
    env = environment(templates_dir)
    zh = report.lang == "zh"
    html = env.get_template("report.html.j2").render(
        report=for_page(report),
        sign_off=sign_off or [],
        empty_label="（无）" if zh else "(none)",
        threshold_label="档次线" if zh else "Tier thresholds",
    )
    return _INLINER.inline(html)
