"""Report contexts: what each report of SPEC §5 shows, as plain data for the renderers.

A ``Report`` is a title, its period and a list of ``Section``s; a section holds a table
(typed columns, rows, an optional totals row), charts and sentences. The workbook and the
HTML renderers lay out any report from this one description; Python builds the context,
templates present it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import pandas as pd

from ledger_batch.assess import MonthFigures, PayoutFigures, QuarterFigures
from ledger_batch.config import Settings, Tier
from ledger_batch.fields import CATEGORIES, STAGES
from ledger_batch.labels import VALUE_LABELS, format_cell, label, value_label, warning_text
from ledger_batch.messages import Lang
from ledger_batch.money import amount_in_capitals
from ledger_batch.score import reached_stages
from ledger_batch.store import Event

ColumnKind = Literal["text", "int", "score", "points", "money", "coef", "date", "pct"]
Tone = Literal["good", "fair", "warn", "bad", "neutral"]


@dataclass(frozen=True)
class Column:
    """A table column: canonical key, label in the report's language, and value kind."""

    key: str
    label: str
    kind: ColumnKind = "text"


@dataclass
class Table:
    """Rows of values in column order, and an optional totals row."""

    columns: list[Column]
    rows: list[list[object]]
    totals: list[object] | None = None


@dataclass(frozen=True)
class Bar:
    """One bar of a chart."""

    label: str
    value: float
    tone: Tone = "neutral"


@dataclass
class Chart:
    """A bar chart (native in workbooks, table cells in HTML) with optional threshold lines."""

    key: str
    title: str
    bars: list[Bar]
    value_label: str
    thresholds: list[tuple[float, str]] = field(default_factory=list)

    @property
    def max_value(self) -> float:
        """The largest bar or threshold (at least 1), the 100 % width of the HTML bars."""
        values = [b.value for b in self.bars] + [t[0] for t in self.thresholds]
        return max([1.0, *values])


@dataclass
class Section:
    """One part of a report: a sheet in the workbook, a block in the HTML."""

    key: str
    title: str
    table: Table | None = None
    charts: list[Chart] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    form: str | None = None
    """``payout_register`` for the printable payout form (layout from templates/)."""


@dataclass
class Report:
    """One report, ready to render."""

    kind: str
    lang: Lang
    company: str
    title: str
    period_label: str
    file_stem: str
    generated_at: str
    notices: list[str]
    sections: list[Section]
    recipient: str | None = None
    """For a personal statement, the liaison it belongs to (``工号 姓名``)."""


def _t(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M")


def table_from(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, ColumnKind]],
    lang: Lang,
    totals: dict[str, object] | None = None,
) -> Table:
    """A Table of the named frame columns, coded values spelled out."""
    cols = [Column(key, label(key, lang), kind) for key, kind in columns]
    keys = [key for key, _ in columns]
    labelled = [_spelled_out(frame[key].tolist(), lang) for key in keys]
    rows = [list(row) for row in zip(*labelled, strict=True)] if not frame.empty else []
    total_row = [totals.get(key) for key in keys] if totals is not None else None
    return Table(cols, rows, total_row)


def _spelled_out(values: list[object], lang: Lang) -> list[object]:
    """A column's values with coded ones spelled out; a column without any, as it is."""
    if not any(isinstance(value, str) and value in VALUE_LABELS for value in set(values)):
        return values
    return [value_label(value, lang) for value in values]


def tone_for(score: int, tiers: Sequence[Tier]) -> Tone:
    """Colour of a score's bar: its tier, from bad (zero tier) to good (top tier)."""
    for index, tier in enumerate(tiers):
        if (tier.min_score is None or score >= tier.min_score) and (
            tier.max_score is None or score <= tier.max_score
        ):
            tones: list[Tone] = ["bad", "warn", "fair", "good", "good"]
            return tones[min(index, len(tones) - 1)] if tier.coefficient else "bad"
    return "neutral"


def score_chart(scores: pd.DataFrame, column: str, settings: Settings, lang: Lang) -> Chart:
    """Final (or running) scores per liaison with the tier thresholds."""
    ordered = scores.sort_values(column, ascending=False)
    tiers = settings.rules.tiers
    bars = [
        Bar(f"{row.name}", float(getattr(row, column)), tone_for(int(getattr(row, column)), tiers))
        for row in ordered.itertuples()
    ]
    thresholds = [(float(t.min_score), f"{t.min_score}") for t in tiers if t.min_score is not None]
    return Chart(
        "scores",
        _t(lang, "得分与档次线", "Scores and tier thresholds"),
        bars,
        label("final_score", lang),
        thresholds,
    )


def tier_distribution_chart(scores: pd.DataFrame, settings: Settings, lang: Lang) -> Chart:
    """How many liaisons fall in each tier."""
    bars = []
    for tier in settings.rules.tiers:
        low = "" if tier.min_score is None else str(tier.min_score)
        high = "" if tier.max_score is None else str(tier.max_score)
        name = (
            f"{low}–{high}（{tier.coefficient}）"
            if lang == "zh"
            else f"{low}–{high} ({tier.coefficient})"
        )
        inside = scores["final_score"].map(
            lambda s, t=tier: (
                (t.min_score is None or s >= t.min_score)
                and (t.max_score is None or s <= t.max_score)
            )
        )
        bars.append(Bar(name, float(inside.sum()), "bad" if tier.coefficient == 0 else "good"))
    return Chart(
        "tiers", _t(lang, "各档人数", "Liaisons per tier"), bars, _t(lang, "人数", "Liaisons")
    )


def month_chart(items: pd.DataFrame, months: list[str], lang: Lang) -> Chart:
    """Items reported per month."""
    counts = items.groupby("period").size() if not items.empty else pd.Series(dtype=int)
    bars = [Bar(m, float(counts.get(m, 0))) for m in months]
    return Chart(
        "months", _t(lang, "各月报送条数", "Items per month"), bars, _t(lang, "条数", "Items")
    )


def category_chart(items: pd.DataFrame, lang: Lang) -> Chart:
    """Items per category, largest first, empty categories left out."""
    counts = items.groupby("category").size() if not items.empty else pd.Series(dtype=int)
    bars = sorted(
        (Bar(c, float(counts.get(c, 0))) for c in CATEGORIES if counts.get(c, 0)),
        key=lambda b: -b.value,
    )
    return Chart(
        "categories", _t(lang, "按类别条数", "Items per category"), bars, _t(lang, "条数", "Items")
    )


def funnel_chart(by_stage_reached: dict[str, int], lang: Lang) -> Chart:
    """The closed-loop funnel: items that reached each stage."""
    bars = [Bar(stage, float(by_stage_reached.get(stage, 0)), "fair") for stage in STAGES]
    return Chart(
        "funnel", _t(lang, "闭环漏斗", "Closed-loop funnel"), bars, _t(lang, "条数", "Items")
    )


def _entries_table(entries: pd.DataFrame, scores: pd.DataFrame, lang: Lang) -> Table:
    return _sources_table(_named_entries(entries, scores), lang)


def _named_entries(entries: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Score entries with each liaison's name and unit, in the order the reports list them."""
    named = entries.merge(scores[["employee_id", "name", "unit"]], on="employee_id", how="left")
    named = named.sort_values(["unit", "name", "period", "kind"], kind="stable")
    named["source_row"] = named["source_row"].map(lambda r: r or None)
    return named


def _sources_table(named: pd.DataFrame, lang: Lang) -> Table:
    """Where every point came from: the named entries, file, sheet and row."""
    return table_from(
        named,
        [
            ("unit", "text"),
            ("name", "text"),
            ("kind", "text"),
            ("points", "points"),
            ("period", "text"),
            ("source_file", "text"),
            ("source_sheet", "text"),
            ("source_row", "int"),
            ("detail", "text"),
        ],
        lang,
    )


def month_report(figures: MonthFigures, settings: Settings, lang: Lang) -> Report:
    """The monthly assessment (月考核)."""
    scores = figures.scores.sort_values(["unit", "name"])
    liaisons = table_from(
        scores,
        [
            ("unit", "text"),
            ("name", "text"),
            ("employee_id", "text"),
            ("items_month", "int"),
            ("items_count", "int"),
            ("base_score", "points"),
            ("deduction_points", "points"),
            ("adjustment_points", "points"),
            ("final_score", "score"),
            ("tier_coefficient", "coef"),
        ],
        lang,
    )
    missing = "、".join(figures.not_reported["name"]) or _t(lang, "无", "none")
    sections = [
        Section(
            "liaisons",
            _t(lang, "联络员考核", "Liaisons"),
            liaisons,
            [score_chart(scores, "final_score", settings, lang)],
            [_t(lang, f"本月尚未报送：{missing}", f"Not reported yet this month: {missing}")],
        ),
        Section(
            "sources",
            _t(lang, "扣分与加减分来源", "Deductions and their sources"),
            _entries_table(figures.entries, figures.scores, lang),
        ),
        Section(
            "items",
            _t(lang, "本月新增信息", "New items this month"),
            table_from(
                figures.new_items.rename(columns={"kind": "item_kind"}),
                [
                    ("item_id", "text"),
                    ("date", "date"),
                    ("name", "text"),
                    ("category", "text"),
                    ("item_kind", "text"),
                    ("content", "text"),
                    ("stage", "text"),
                ],
                lang,
            )
            if not figures.new_items.empty
            else None,
            [category_chart(figures.new_items, lang)],
        ),
        Section(
            "movements",
            _t(lang, "闭环跟踪", "Closed-loop movements"),
            table_from(
                figures.movements,
                [
                    ("item_id", "text"),
                    ("date", "date"),
                    ("stage", "text"),
                    ("inspection", "text"),
                    ("note", "text"),
                ],
                lang,
            ),
        ),
    ]
    return Report(
        "month",
        lang,
        settings.company,
        _t(lang, "经理联络员月考核", "Monthly assessment"),
        figures.period,
        f"{figures.period} " + _t(lang, "月考核", "monthly"),
        _now(),
        [],
        sections,
    )


def quarter_report(figures: QuarterFigures, settings: Settings, lang: Lang) -> Report:
    """The quarterly evaluation (季评价)."""
    liaisons = figures.liaisons.sort_values(["unit", "name"]).copy()
    liaisons["warnings"] = [warning_text(w, lang) for w in liaisons["warnings"]]
    period = f"{figures.year}-Q{figures.quarter}"
    warned = liaisons[liaisons["warnings"] != ""]
    sentences = [
        _t(
            lang,
            f"预警：{row.name}（{row.unit}）{row.warnings}",
            f"Warning: {row.name} ({row.unit}) {row.warnings}",
        )
        for row in warned.itertuples()
    ]
    sections = [
        Section(
            "liaisons",
            _t(lang, "联络员季度评价", "Liaisons this quarter"),
            table_from(
                liaisons,
                [
                    ("unit", "text"),
                    ("name", "text"),
                    ("quarter_items", "int"),
                    ("quarter_adopted", "int"),
                    ("present", "int"),
                    ("excused", "int"),
                    ("absent", "int"),
                    ("items_count", "int"),
                    ("final_score", "score"),
                    ("projected_score", "score"),
                    ("projected_coefficient", "coef"),
                    ("warnings", "text"),
                ],
                lang,
            ),
            [score_chart(liaisons, "projected_score", settings, lang)],
            sentences,
        ),
        Section(
            "units",
            _t(lang, "按单位", "By unit"),
            table_from(
                figures.units,
                [
                    ("unit", "text"),
                    ("liaisons", "int"),
                    ("quarter_items", "int"),
                    ("quarter_adopted", "int"),
                    ("absent", "int"),
                ],
                lang,
            ),
        ),
        Section(
            "loop",
            _t(lang, "闭环与分类", "Closed loop and categories"),
            None,
            [
                funnel_chart(figures.funnel, lang),
                category_chart(figures.items, lang),
                month_chart(figures.items, figures.months, lang),
            ],
        ),
    ]
    return Report(
        "quarter",
        lang,
        settings.company,
        _t(lang, "经理联络员季度评价", "Quarterly evaluation"),
        period,
        f"{period} " + _t(lang, "季评价", "quarterly"),
        _now(),
        [],
        sections,
    )


REGISTER_FIELDS = (
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
    "allowance_base",
    "allowance_amount",
    "amount_capitals",
    "signature",
    "remark",
)
"""Fields the payout register (津贴发放表) can show; templates/payout_register.toml picks them."""

FIELD_KINDS: dict[str, ColumnKind] = {
    "items_count": "int",
    "base_score": "points",
    "absence_points": "points",
    "missing_month_points": "points",
    "untrue_points": "points",
    "violation_points": "points",
    "adjustment_points": "points",
    "final_score": "score",
    "coefficient": "coef",
    "allowance_base": "money",
    "allowance_amount": "money",
}


def register_frame(figures: PayoutFigures, settings: Settings, lang: Lang) -> pd.DataFrame:
    """One row per liaison with every field the payout register may show."""
    scores = figures.result.scores.sort_values(["unit", "name"]).copy()
    scores["allowance_base"] = settings.rules.allowance_base
    scores["amount_capitals"] = scores["allowance_amount"].map(amount_in_capitals)
    scores["signature"] = ""
    scores["remark"] = [
        _t(lang, "解聘，取消津贴", "dismissed: no allowance") if dismissed else ""
        for dismissed in scores["dismissed"]
    ]
    return scores


def payout_report(
    figures: PayoutFigures, settings: Settings, lang: Lang, notices: list[str] | None = None
) -> Report:
    """The year-end payout (年兑现) with its printable register."""
    scores = register_frame(figures, settings, lang)
    total = figures.total_amount
    columns = [(name, FIELD_KINDS.get(name, "text")) for name in REGISTER_FIELDS]
    register = table_from(
        scores,
        columns,
        lang,
        totals={
            "unit": _t(lang, "合计", "Total"),
            "items_count": int(scores["items_count"].sum()),
            "allowance_amount": total,
            "amount_capitals": amount_in_capitals(total),
        },
    )
    all_notices = list(notices or [])
    if figures.missing_months:
        months = "、".join(figures.missing_months)
        all_notices.insert(
            0,
            _t(
                lang,
                f"注意：以下月份没有台账，本表不完整：{months}",
                f"Incomplete: no ledger for {months}",
            ),
        )
    loop = figures.loop
    sections = [
        Section(
            "register",
            _t(lang, "津贴发放表", "Allowance register"),
            register,
            form="payout_register",
        ),
        Section(
            "charts",
            _t(lang, "得分分布", "Scores"),
            None,
            [
                score_chart(scores, "final_score", settings, lang),
                tier_distribution_chart(scores, settings, lang),
                month_chart(figures.items, figures.months, lang),
                category_chart(figures.items, lang),
            ],
        ),
        Section(
            "sources",
            _t(lang, "扣分与加减分来源", "Deductions and their sources"),
            _entries_table(figures.result.entries, figures.result.scores, lang),
        ),
        Section(
            "penalties",
            _t(lang, "单位扣分", "Unit penalties"),
            table_from(
                figures.result.unit_penalties,
                [
                    ("unit", "text"),
                    ("period", "text"),
                    ("points", "points"),
                    ("name", "text"),
                    ("reason", "text"),
                    ("detail", "text"),
                ],
                lang,
            ),
        ),
        Section(
            "fines",
            _t(lang, "负责人罚款与解聘", "Fines and dismissals"),
            table_from(
                figures.result.fines,
                [
                    ("unit", "text"),
                    ("unit_head", "text"),
                    ("amount", "money"),
                    ("name", "text"),
                    ("period", "text"),
                ],
                lang,
            ),
        ),
        Section(
            "loop",
            _t(lang, "闭环统计", "Closed loop"),
            _loop_table(figures, lang),
            [funnel_chart(reached_stages(figures.items), lang)],
            [
                _t(
                    lang,
                    f"未闭环事项 {len(loop.open_items)} 条（截至 {figures.as_of}）",
                    f"{len(loop.open_items)} open items as of {figures.as_of}",
                )
            ],
        ),
        Section(
            "open_items",
            _t(lang, "未闭环事项", "Open items"),
            table_from(
                loop.open_items,
                [
                    ("item_id", "text"),
                    ("name", "text"),
                    ("unit", "text"),
                    ("date", "date"),
                    ("stage", "text"),
                    ("inspection", "text"),
                    ("age_days", "int"),
                    ("content", "text"),
                ],
                lang,
            ),
        ),
    ]
    return Report(
        "payout",
        lang,
        settings.company,
        _t(lang, "经理联络员津贴兑现", "Year-end allowance payout"),
        str(figures.year),
        f"{figures.year} " + _t(lang, "年兑现", "payout"),
        _now(),
        all_notices,
        sections,
    )


def _loop_table(figures: PayoutFigures, lang: Lang) -> Table:
    loop = figures.loop
    # Counts and rates in columns of their own: a count is an integer, a rate has one decimal.
    rows: list[list[object]] = [
        [_t(lang, "收集信息", "Collected"), loop.collected, None],
        [_t(lang, "其中问题", "Problems"), loop.problems, None],
        [_t(lang, "整改落实", "Rectified"), loop.rectified, None],
        [_t(lang, "督查验收", "Inspected"), loop.inspected, None],
        [_t(lang, "复查合格（合格率 %）", "Passed (pass rate %)"), loop.passed, loop.pass_rate],
        [
            _t(lang, "采纳（采纳率 %）", "Adopted (adoption rate %)"),
            loop.adopted,
            loop.adoption_rate,
        ],
    ]
    return Table(
        [
            Column("item", label("item", lang)),
            Column("count", label("count", lang), "int"),
            Column("rate", label("rate", lang), "pct"),
        ],
        rows,
    )


def statement_reports(figures: PayoutFigures, settings: Settings, lang: Lang) -> list[Report]:
    """One personal statement (个人考核通知单) per liaison: their own figures only."""
    scores = register_frame(figures, settings, lang)
    named = _named_entries(figures.result.entries, scores)  # once, not once per liaison
    entries_of = _split_by_person(named)
    items_of = _split_by_person(figures.items)
    reports = []
    for index in range(len(scores)):
        mine = scores.iloc[[index]]
        person = str(mine.iloc[0]["employee_id"])
        entries = entries_of.get(person, named.iloc[0:0])
        items = items_of.get(person, figures.items.iloc[0:0])
        reports.append(_statement(mine, entries, items, figures, settings, lang))
    return reports


def _split_by_person(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of each person (by 工号), split once."""
    if frame.empty:
        return {}
    return {str(key): group for key, group in frame.groupby("employee_id", sort=False)}


def _statement(
    mine: pd.DataFrame,
    entries: pd.DataFrame,  # the liaison's named entries (_named_entries)
    items: pd.DataFrame,
    figures: PayoutFigures,
    settings: Settings,
    lang: Lang,
) -> Report:
    person = f"{mine.iloc[0]['employee_id']} {mine.iloc[0]['name']}"
    summary_keys: list[tuple[str, ColumnKind]] = [
        ("items_count", "int"),
        ("base_score", "points"),
        ("absence_points", "points"),
        ("missing_month_points", "points"),
        ("untrue_points", "points"),
        ("violation_points", "points"),
        ("adjustment_points", "points"),
        ("final_score", "score"),
        ("coefficient", "coef"),
        ("allowance_amount", "money"),
        ("amount_capitals", "text"),
    ]
    first = mine.iloc[0]
    summary = Table(
        [Column("item", label("item", lang)), Column("value", label("value", lang))],
        [[label(key, lang), format_cell(first[key], kind)] for key, kind in summary_keys],
    )
    sources = _sources_table(entries, lang)
    own_items = table_from(
        items.rename(columns={"kind": "item_kind"}),
        [
            ("item_id", "text"),
            ("date", "date"),
            ("category", "text"),
            ("item_kind", "text"),
            ("content", "text"),
            ("adopted", "text"),
            ("stage", "text"),
        ],
        lang,
    )
    notices = (
        [_t(lang, "解聘：本年度津贴取消。", "Dismissed: no allowance this year.")]
        if first["dismissed"]
        else []
    )
    if figures.missing_months:
        notices.append(_t(lang, "本年度有月份缺台账，结果不完整。", "Some months have no ledger."))
    sections = [
        Section("summary", _t(lang, "考核结果", "Result"), summary),
        Section("sources", _t(lang, "扣分与加减分明细", "Deductions and adjustments"), sources),
        Section("items", _t(lang, "本人报送信息", "Your items"), own_items),
    ]
    return Report(
        "statement",
        lang,
        settings.company,
        _t(lang, "经理联络员个人考核通知单", "Personal assessment statement"),
        str(figures.year),
        f"{first['employee_id']} {first['name']}",
        _now(),
        notices,
        sections,
        recipient=person,
    )


def year_notices(
    events: list[Event], closed: tuple[str, str, str] | None, year: int, lang: Lang
) -> list[str]:
    """What the payout report must say about closing: reopened (when, who, why), closed."""
    notices = [
        _t(
            lang,
            f"本年度曾重新打开：{e.at}，{e.os_user}，原因：{e.detail.get('reason', '')}",
            f"This year was reopened on {e.at} by {e.os_user}: {e.detail.get('reason', '')}",
        )
        for e in events
        if e.action == "reopen" and e.period == str(year)
    ]
    if closed is not None:
        notices.append(
            _t(
                lang,
                f"本年度已关闭：{closed[0]}，{closed[1]}",
                f"This year is closed ({closed[0]}, {closed[1]})",
            )
        )
    return notices


def reminder_report(
    employee_id: str, name: str, unit: str, period: str, settings: Settings, lang: Lang
) -> Report:
    """The monthly reminder (报送提醒) to a liaison with no counted item in ``period`` yet:
    their own name and the rule, nobody else's figures."""
    points = format_cell(settings.rules.missing_month_points, "points")
    sentences = [
        _t(
            lang,
            f"{name}（{unit}）：{period} 的台账中还没有您计入考核的报送信息。",
            f"{name} ({unit}): the ledger of {period} holds no counted item from you yet.",
        ),
        _t(
            lang,
            f"按规定每名联络员每月至少报送一次信息；当月没有报送的，年度考核扣 {points} 分。",
            f"Every liaison reports at least once a month; a month without a report costs "
            f"{points} points in the year's assessment.",
        ),
        _t(
            lang,
            "请通过行政办公室或直接向经理报送；如已报送，请与办公室核对台账。",
            "Please report through the office or directly to the manager; if you have "
            "reported, please check the ledger with the office.",
        ),
    ]
    return Report(
        "reminder",
        lang,
        settings.company,
        _t(lang, "经理联络员信息报送提醒", "Reminder to report"),
        period,
        f"{period} " + _t(lang, "报送提醒", "reminder") + f" {employee_id}",
        _now(),
        [],
        [Section("reminder", _t(lang, "报送提醒", "Reminder"), sentences=sentences)],
        recipient=f"{employee_id} {name}",
    )
