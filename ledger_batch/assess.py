"""The figures of SPEC §5 for a month, a quarter and a year, computed from the store.

Monthly assessment (月考核), quarterly evaluation (季评价) and the year-end payout (年兑现)
each become one dataclass; the CLI prints them and later renderers lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

import pandas as pd

from ledger_batch.config import Rules, Settings
from ledger_batch.errors import IncompleteYear, NoData
from ledger_batch.fields import CATEGORIES
from ledger_batch.money import round_half_up, tier_for
from ledger_batch.periods import (
    assessment_year_of,
    month_end,
    quarter_months,
    year_months,
)
from ledger_batch.score import (
    LoopStats,
    YearInputs,
    YearScores,
    closed_loop,
    item_states,
    people_of,
    reached_stages,
    score_year,
    serving_by_month,
    untrue_items,
)
from ledger_batch.store import Store


def load_inputs(store: Store, months: list[str]) -> YearInputs:
    """Read the ledgers of ``months`` from the store."""
    stored = store.months_in()
    months_in = [m for m in months if m in stored]
    rosters = {m: r for m in months if (r := store.roster_for(m)) is not None}
    return YearInputs(
        months=months,
        months_in=months_in,
        rosters=rosters,
        submissions=store.load("submissions", months_in),
        attendance=store.load("attendance", months_in),
        violations=store.load("violations", months_in),
        adjustments=store.load("adjustments", months_in),
    )


@dataclass
class MonthFigures:
    """Monthly assessment: per liaison this month and so far this year."""

    period: str
    year: int
    scores: pd.DataFrame
    entries: pd.DataFrame
    not_reported: pd.DataFrame
    by_category: dict[str, int]
    new_items: pd.DataFrame
    movements: pd.DataFrame


@dataclass
class QuarterFigures:
    """Quarterly evaluation: the quarter per liaison and per unit, and a projection."""

    year: int
    quarter: int
    months: list[str]
    liaisons: pd.DataFrame
    units: pd.DataFrame
    funnel: dict[str, int]
    months_in: list[str]
    items: pd.DataFrame
    """The quarter's items with their current closed-loop state."""


@dataclass
class PayoutFigures:
    """Year-end payout: the register, unit penalties, fines and closed-loop statistics."""

    year: int
    months: list[str]
    missing_months: list[str]
    result: YearScores
    loop: LoopStats
    total_amount: Decimal
    as_of: date
    items: pd.DataFrame
    """Every item of the year with its current closed-loop state."""
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every month of the year had a ledger."""
        return not self.missing_months


def month_figures(store: Store, settings: Settings, period: str) -> MonthFigures:
    """SPEC §5 monthly assessment for ``period``."""
    start = settings.rules.year_start_month
    year = assessment_year_of(period, start)
    months = year_months(year, start)
    through = months[: months.index(period) + 1]
    if period not in store.months_in():
        raise NoData("no_months", period=period)
    inputs = load_inputs(store, through)
    result = score_year(inputs, settings.rules)
    subs = inputs.submissions
    counted = subs[~untrue_items(subs, inputs.violations)]
    this_month = counted[counted["period"] == period].groupby("employee_id").size()
    scores = result.scores.copy()
    scores["items_month"] = [int(this_month.get(e, 0)) for e in scores["employee_id"]]
    serving_now = _serving_at(inputs, period)
    not_reported = scores[scores["employee_id"].isin(serving_now) & (scores["items_month"] == 0)]
    new_items = subs[subs["period"] == period]
    by_category = {c: int((new_items["category"] == c).sum()) for c in CATEGORIES}
    tracking = store.load("tracking", [period])
    return MonthFigures(
        period,
        year,
        scores,
        result.entries,
        not_reported[["employee_id", "name", "unit", "email"]],
        by_category,
        new_items,
        tracking,
    )


def _serving_at(inputs: YearInputs, period: str) -> set[str]:
    return serving_by_month(inputs).get(period, set())


def quarter_figures(store: Store, settings: Settings, year: int, quarter: int) -> QuarterFigures:
    """SPEC §5 quarterly evaluation with a projected year-end score and early warnings."""
    rules = settings.rules
    months = quarter_months(year, quarter, rules.year_start_month)
    all_months = year_months(year, rules.year_start_month)
    through = all_months[: all_months.index(months[-1]) + 1]
    inputs = load_inputs(store, through)
    quarter_in = [m for m in months if m in inputs.months_in]
    if not quarter_in:
        raise NoData("no_months", period=f"{year}-Q{quarter}")
    result = score_year(inputs, rules)
    quarter_subs = inputs.submissions[inputs.submissions["period"].isin(months)]
    counted = quarter_subs[~untrue_items(quarter_subs, inputs.violations)]
    quarter_att = inputs.attendance[inputs.attendance["period"].isin(months)]
    liaisons = result.scores[
        [
            "employee_id",
            "name",
            "unit",
            "items_count",
            "deduction_points",
            "adjustment_points",
            "final_score",
            "dismissed",
        ]
    ].copy()
    liaisons["quarter_items"] = _count_by(counted, liaisons)
    liaisons["quarter_adopted"] = _count_by(quarter_subs[quarter_subs["adopted"] == "是"], liaisons)
    for mark, column in (("出席", "present"), ("请假", "excused"), ("缺席", "absent")):
        liaisons[column] = _count_by(quarter_att[quarter_att["presence"] == mark], liaisons)
    liaisons["projected_score"] = projected_scores(result.scores, inputs, rules)
    liaisons["projected_coefficient"] = [
        Decimal(0) if dismissed else tier_for(s, rules.tiers).coefficient
        for s, dismissed in zip(liaisons["projected_score"], liaisons["dismissed"], strict=True)
    ]
    liaisons["warnings"] = [
        _warnings(row, result.scores.iloc[i]) for i, row in enumerate(liaisons.itertuples())
    ]
    units = (
        liaisons.groupby("unit")
        .agg(
            liaisons=("employee_id", "count"),
            quarter_items=("quarter_items", "sum"),
            quarter_adopted=("quarter_adopted", "sum"),
            absent=("absent", "sum"),
        )
        .reset_index()
    )
    states = item_states(quarter_subs, store.load("tracking", through))
    funnel = reached_stages(states)
    return QuarterFigures(year, quarter, months, liaisons, units, funnel, quarter_in, states)


def projected_scores(scores: pd.DataFrame, inputs: YearInputs, rules: Rules) -> list[int]:
    """Year-end score if each liaison keeps their pace: items so far scaled from the months
    assessed so far to the months they are expected to serve, deductions so far kept."""
    serving = serving_by_month(inputs)
    year = year_months(
        assessment_year_of(inputs.months[0], rules.year_start_month), rules.year_start_month
    )
    people = people_of(inputs).set_index("employee_id")
    projected = []
    for row in scores.itertuples():
        assessed = sum(row.employee_id in serving[m] for m in inputs.months_in)
        person = people.loc[row.employee_id]
        expected = sum(
            (person.appointed_on is None or person.appointed_on <= month_end(m))
            and (person.dismissed_on is None or month_end(m) < person.dismissed_on)
            for m in year
        )
        items = (
            Decimal(row.items_count) * expected / assessed if assessed else Decimal(row.items_count)
        )
        base = min(rules.points_per_item * items, rules.base_cap)
        projected.append(round_half_up(base - row.deduction_points + row.adjustment_points))
    return projected


def _count_by(frame: pd.DataFrame, liaisons: pd.DataFrame) -> list[int]:
    counts = frame.groupby("employee_id").size() if not frame.empty else pd.Series(dtype=int)
    return [int(counts.get(e, 0)) for e in liaisons["employee_id"]]


def _warnings(row: Any, score: pd.Series) -> list[tuple[str, int]]:
    """Early warnings as (code, count); labels.warning_text spells them out."""
    warnings: list[tuple[str, int]] = []
    if row.dismissed:
        warnings.append(("dismissed", 1))
    elif row.projected_coefficient == 0:
        warnings.append(("projected_below_pass", 1))
    for code in ("missing_months", "untrue_count", "absences"):
        if score[code]:
            warnings.append((code, int(score[code])))
    return warnings


def payout_figures(
    store: Store, settings: Settings, year: int, *, allow_missing_months: bool = False
) -> PayoutFigures:
    """SPEC §5 year-end payout; refuses a year with missing months unless allowed."""
    rules = settings.rules
    months = year_months(year, rules.year_start_month)
    inputs = load_inputs(store, months)
    missing = [m for m in months if m not in inputs.months_in]
    if not inputs.months_in:
        raise NoData("no_months", period=str(year))
    if missing and not allow_missing_months:
        raise IncompleteYear("missing_months", year=year, months=", ".join(missing))
    result = score_year(inputs, rules)
    as_of = month_end(months[-1])
    states = item_states(inputs.submissions, store.load("tracking", inputs.months_in))
    loop = closed_loop(states, as_of)
    total = sum(result.scores["allowance_amount"], Decimal("0.00"))
    return PayoutFigures(year, months, missing, result, loop, total, as_of, states)


def payout_json(figures: PayoutFigures) -> dict[str, object]:
    """The public JSON shape of ``payout --json``."""
    scores = figures.result.scores
    rows = [
        {
            "employee_id": r.employee_id,
            "name": r.name,
            "unit": r.unit,
            "items_count": int(r.items_count),
            "base_score": _number(r.base_score),
            "deduction_points": _number(r.deduction_points),
            "adjustment_points": _number(r.adjustment_points),
            "final_score": int(r.final_score),
            "coefficient": str(r.coefficient),
            "allowance_amount": str(r.allowance_amount),
            "dismissed": bool(r.dismissed),
            "absences": int(r.absences),
            "missing_months": int(r.missing_months),
            "untrue_count": int(r.untrue_count),
            "violations": int(r.violations),
            "months_served": int(r.months_served),
        }
        for r in scores.itertuples()
    ]
    loop = figures.loop
    loop_json = {
        "collected": loop.collected,
        "problems": loop.problems,
        "rectified": loop.rectified,
        "inspected": loop.inspected,
        "passed": loop.passed,
        "pass_rate": None if loop.pass_rate is None else str(loop.pass_rate),
        "adopted": loop.adopted,
        "adoption_rate": None if loop.adoption_rate is None else str(loop.adoption_rate),
        "by_stage": loop.by_stage,
        "open_by_stage": loop.open_by_stage,
        "open_items": [
            {
                "item_id": o.item_id,
                "name": o.name,
                "stage": o.stage,
                "age_days": o.age_days,
                "date": o.date.isoformat() if o.date else None,
            }
            for o in loop.open_items.itertuples()
        ],
    }
    return {
        "year": figures.year,
        "complete": figures.complete,
        "missing_months": figures.missing_months,
        "rows": rows,
        "unit_penalties": _records(figures.result.unit_penalties),
        "fines": _records(figures.result.fines),
        "closed_loop": loop_json,
        "total_amount": str(figures.total_amount),
    }


def _number(value: Decimal | int) -> int | float:
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    out = []
    for record in frame.to_dict("records"):
        out.append({k: (str(v) if isinstance(v, Decimal) else v) for k, v in record.items()})
    return out


def _frame_records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, object]]:
    return (
        [
            {
                k: (_number(v) if isinstance(v, Decimal) else v)
                for k, v in zip(columns, row, strict=True)
            }
            for row in frame[columns].itertuples(index=False)
        ]
        if not frame.empty
        else []
    )


def month_json(figures: MonthFigures) -> dict[str, object]:
    """JSON of the monthly assessment."""
    columns = [
        "employee_id",
        "name",
        "unit",
        "items_month",
        "items_count",
        "base_score",
        "deduction_points",
        "adjustment_points",
        "final_score",
    ]
    rows = _frame_records(figures.scores, columns)
    for row, coefficient in zip(rows, figures.scores["tier_coefficient"], strict=True):
        row["tier_coefficient"] = str(coefficient)
    return {
        "period": figures.period,
        "year": figures.year,
        "rows": rows,
        "entries": _frame_records(figures.entries, list(figures.entries.columns)),
        "not_reported": _frame_records(figures.not_reported, ["employee_id", "name", "unit"]),
        "by_category": figures.by_category,
        "new_items": _frame_records(figures.new_items, ["item_id", "name", "category", "kind"]),
        "movements": _frame_records(figures.movements, ["item_id", "date", "stage", "inspection"]),
    }


def quarter_json(figures: QuarterFigures) -> dict[str, object]:
    """JSON of the quarterly evaluation."""
    columns = [
        "employee_id",
        "name",
        "unit",
        "quarter_items",
        "quarter_adopted",
        "present",
        "excused",
        "absent",
        "items_count",
        "final_score",
        "projected_score",
        "warnings",
    ]
    rows = _frame_records(figures.liaisons, columns)
    for row, coefficient in zip(rows, figures.liaisons["projected_coefficient"], strict=True):
        row["projected_coefficient"] = str(coefficient)
        warnings = cast(list[tuple[str, int]], row["warnings"])
        row["warnings"] = [{"code": code, "count": count} for code, count in warnings]
    return {
        "year": figures.year,
        "quarter": figures.quarter,
        "months": figures.months,
        "months_in": figures.months_in,
        "liaisons": rows,
        "units": _frame_records(figures.units, list(figures.units.columns)),
        "funnel": figures.funnel,
    }
