"""Terminal rendering: the figures as aligned tables (CJK characters count double width)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd

from ledger_batch.assess import MonthFigures, PayoutFigures, QuarterFigures
from ledger_batch.labels import VALUE_LABELS, label, warning_text
from ledger_batch.messages import Lang
from ledger_batch.money import amount_in_capitals
from ledger_batch.periods import assessment_year_of
from ledger_batch.store import Event

TERMINAL_ROWS = 20
"""Longest list printed on the terminal; the reports hold everything."""


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if exponent == -2:
            return f"{value:,.2f}"  # money, and points given to the hundredth
        return str(value) if isinstance(exponent, int) and exponent < 0 else f"{value:f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An aligned text table."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def frame_table(frame: pd.DataFrame, columns: list[str], lang: Lang) -> str:
    """A table of ``columns`` of ``frame`` with translated headers and coded values."""
    index = 0 if lang == "zh" else 1
    rows = [
        [VALUE_LABELS[v][index] if isinstance(v, str) and v in VALUE_LABELS else v for v in row]
        for row in (frame[columns].itertuples(index=False) if not frame.empty else [])
    ]
    return table([label(c, lang) for c in columns], rows)


def month_text(figures: MonthFigures, lang: Lang) -> str:
    """The monthly assessment for the terminal."""
    zh = lang == "zh"
    scores = figures.scores.sort_values(["unit", "name"])
    columns = [
        "unit",
        "name",
        "employee_id",
        "items_month",
        "items_count",
        "base_score",
        "deduction_points",
        "adjustment_points",
        "final_score",
        "tier_coefficient",
    ]
    head = (
        f"{figures.period} 月考核（{figures.year} 年度累计）"
        if zh
        else f"Monthly assessment {figures.period} (year {figures.year} to date)"
    )
    parts = [head, frame_table(scores, columns, lang)]
    names = "、".join(figures.not_reported["name"]) or ("无" if zh else "none")
    parts.append(("本月尚未报送：" if zh else "Not reported yet this month: ") + names)
    categories = [(c, n) for c, n in figures.by_category.items() if n]
    parts.append("本月新增信息（按类别）" if zh else "New items by category")
    parts.append(table([label("kind", lang), label("count", lang)], categories))
    if not figures.entries.empty:
        entries = figures.entries.assign(
            source=figures.entries["source_file"].astype(str)
            + " · "
            + figures.entries["source_sheet"].astype(str)
            + " · "
            + figures.entries["source_row"].map(lambda r: f"行{r}" if r else "")
        )
        entries = entries.merge(figures.scores[["employee_id", "name"]], on="employee_id")
        parts.append(
            "扣分与加减分明细（含来源）" if zh else "Deductions and adjustments (with source)"
        )
        parts.append(
            frame_table(entries, ["name", "kind", "points", "period", "source", "detail"], lang)
        )
    if not figures.movements.empty:
        parts.append("本月闭环跟踪" if zh else "Closed-loop movements this month")
        parts.append(frame_table(figures.movements, ["item_id", "date", "stage"], lang))
    return "\n\n".join(parts)


def quarter_text(figures: QuarterFigures, lang: Lang) -> str:
    """The quarterly evaluation for the terminal."""
    zh = lang == "zh"
    head = (
        f"{figures.year} 年第 {figures.quarter} 季度评价（{'、'.join(figures.months_in)}）"
        if zh
        else f"Quarterly evaluation {figures.year}-Q{figures.quarter}"
    )
    columns = [
        "unit",
        "name",
        "quarter_items",
        "quarter_adopted",
        "present",
        "excused",
        "absent",
        "items_count",
        "final_score",
        "projected_score",
        "projected_coefficient",
        "warnings",
    ]
    liaisons = figures.liaisons.sort_values(["unit", "name"]).copy()
    liaisons["warnings"] = [warning_text(w, lang) for w in liaisons["warnings"]]
    units = frame_table(
        figures.units, ["unit", "liaisons", "quarter_items", "quarter_adopted", "absent"], lang
    )
    funnel = table([label("stage", lang), label("count", lang)], list(figures.funnel.items()))
    return "\n\n".join(
        [
            head,
            frame_table(liaisons, columns, lang),
            "按单位" if zh else "By unit",
            units,
            "闭环漏斗" if zh else "Closed-loop funnel",
            funnel,
        ]
    )


def payout_text(figures: PayoutFigures, lang: Lang) -> str:
    """The year-end payout register for the terminal."""
    zh = lang == "zh"
    parts = [f"{figures.year} 年度津贴兑现" if zh else f"Year-end payout {figures.year}"]
    if figures.missing_months:
        months = ", ".join(figures.missing_months)
        parts.append(
            (
                "注意：以下月份没有台账，结果不完整："
                if zh
                else "WARNING: no ledger for these months; figures are incomplete: "
            )
            + months
        )
    scores = figures.result.scores.sort_values(["unit", "name"])
    columns = [
        "unit",
        "name",
        "employee_id",
        "items_count",
        "base_score",
        "absence_points",
        "missing_month_points",
        "untrue_points",
        "violation_points",
        "adjustment_points",
        "final_score",
        "coefficient",
        "allowance_amount",
        "dismissed",
    ]
    parts.append(frame_table(scores, columns, lang))
    total = figures.total_amount
    parts.append(
        ("合计金额：" if zh else "Total: ") + f"{total:,.2f}（{amount_in_capitals(total)}）"
    )
    if not figures.result.unit_penalties.empty:
        parts.append("单位扣分" if zh else "Unit penalties")
        parts.append(
            frame_table(
                figures.result.unit_penalties, ["unit", "period", "points", "name", "reason"], lang
            )
        )
    if not figures.result.fines.empty:
        parts.append("负责人罚款" if zh else "Fines")
        parts.append(
            frame_table(figures.result.fines, ["unit", "unit_head", "amount", "name"], lang)
        )
    loop = figures.loop
    if zh:
        summary = (
            f"闭环统计：收集 {loop.collected} 条，问题 {loop.problems} 条，"
            f"整改 {loop.rectified} 条，验收 {loop.inspected} 条，"
            f"合格率 {_rate(loop.pass_rate)}，采纳 {loop.adopted} 条"
            f"（{_rate(loop.adoption_rate)}）"
        )
    else:
        summary = (
            f"Closed loop: collected {loop.collected}, problems {loop.problems}, "
            f"rectified {loop.rectified}, inspected {loop.inspected}, pass rate "
            f"{_rate(loop.pass_rate)}, adopted {loop.adopted} ({_rate(loop.adoption_rate)})"
        )
    parts.append(summary)
    if not loop.open_items.empty:
        by_stage = "，".join(f"{stage} {count}" for stage, count in loop.open_by_stage.items())
        oldest = loop.open_items.sort_values("age_days", ascending=False).head(TERMINAL_ROWS)
        parts.append(
            f"未闭环事项 {len(loop.open_items)} 条（{by_stage}），最久的 {len(oldest)} 条如下，"
            "全部见报表"
            if zh
            else f"{len(loop.open_items)} open items ({by_stage}); the {len(oldest)} oldest "
            "below, all in the report"
        )
        columns = ["item_id", "name", "stage", "date", "age_days"]
        parts.append(frame_table(oldest, columns, lang))
    return "\n\n".join(parts)


def _rate(value: object) -> str:
    return "—" if value is None else f"{value}%"


def history_text(events: list[Event], year: int | None, start_month: int, lang: Lang) -> str:
    """The audit trail: closes, reopens and month replacements, oldest first."""
    zh = lang == "zh"
    names = {
        "close": ("关闭年度", "year closed"),
        "reopen": ("重新打开", "year reopened"),
        "replace": ("替换月份", "month replaced"),
        "email_resend": ("重发邮件", "email resent"),
    }
    rows = []
    for event in events:
        if year is not None and _event_year(event.period, start_month) != year:
            continue
        detail = event.detail
        what = str(detail.get("reason") or "")
        if event.action == "replace":
            what = (
                f"{detail.get('file')} 第{detail.get('replaced_version')}版→第"
                f"{detail.get('version')}版"
                if zh
                else f"{detail.get('file')} v{detail.get('replaced_version')}→v"
                f"{detail.get('version')}"
            ) + (f"（{what}）" if what else "")
        action = names.get(event.action, (event.action, event.action))[0 if zh else 1]
        rows.append((event.at, event.os_user, action, event.period, what))
    if not rows:
        return "没有记录" if zh else "Nothing recorded"
    headers = (
        ["时间", "用户", "操作", "期间", "说明"]
        if zh
        else ["When", "User", "Action", "Period", "Detail"]
    )
    return table(headers, rows)


def _event_year(period: str, start_month: int) -> int | None:
    """The assessment year of an event's period (``YYYY``, ``YYYY-MM`` or ``YYYY-Qn``)."""
    if re.fullmatch(r"\d{4}-\d{2}", period):
        return assessment_year_of(period, start_month)
    return int(period[:4]) if period[:4].isdigit() else None
