"""Stage 5, score: SPEC §2 as pure functions — frames and rules in, frames out.

``score_year`` scores every liaison of an assessment year (or of the part of it up to a
month, for the running monthly score). Each deduction and adjustment keeps its source
(file, sheet, row) in ``YearScores.entries`` so reports can show where every point came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from ledger_batch.config import Rules
from ledger_batch.fields import NO, STAGES
from ledger_batch.money import allowance_amount, round_half_up, tier_for
from ledger_batch.periods import month_end
from ledger_batch.validate import in_service, is_dismissal

ENTRY_COLUMNS = [
    "employee_id",
    "kind",
    "points",
    "period",
    "source_file",
    "source_sheet",
    "source_row",
    "detail",
]
"""One row per scored event: kind is absence, missing_month, untrue_item, untrue_notice,
violation or adjustment; points are signed (deductions negative)."""


@dataclass
class YearInputs:
    """Everything scoring needs, already read from the store."""

    months: list[str]
    """The months being scored (the assessment year, or its first part)."""
    months_in: list[str]
    """Those of ``months`` whose ledger has been ingested."""
    rosters: dict[str, pd.DataFrame]
    """The roster in force in each of ``months`` (missing when none)."""
    submissions: pd.DataFrame
    attendance: pd.DataFrame
    violations: pd.DataFrame
    adjustments: pd.DataFrame


@dataclass
class YearScores:
    """Per-liaison scores, the scored events behind them, and unit consequences."""

    scores: pd.DataFrame
    entries: pd.DataFrame
    unit_penalties: pd.DataFrame
    fines: pd.DataFrame
    missing_months: list[str] = field(default_factory=list)


def serving_by_month(inputs: YearInputs) -> dict[str, set[str]]:
    """工号 of the liaisons in service on the last day of each month (SPEC §2)."""
    serving: dict[str, set[str]] = {}
    for period in inputs.months:
        roster = inputs.rosters.get(period)
        if roster is None or roster.empty:
            serving[period] = set()
            continue
        serving[period] = set(roster.loc[in_service(roster, month_end(period)), "employee_id"])
    return serving


def people_of(inputs: YearInputs) -> pd.DataFrame:
    """Each liaison of the period with the attributes of the newest roster listing them."""
    frames = [
        inputs.rosters[p].assign(_order=i)
        for i, p in enumerate(inputs.months)
        if p in inputs.rosters
    ]
    if not frames:
        return pd.DataFrame(
            columns=[
                "employee_id",
                "name",
                "unit",
                "email",
                "appointed_on",
                "dismissed_on",
                "dismissal_reason",
                "unit_head",
            ]
        )
    everyone = pd.concat(frames, ignore_index=True).sort_values("_order", kind="stable")
    people = everyone.drop_duplicates("employee_id", keep="last").drop(columns="_order")
    first, last = month_end(inputs.months[0]).replace(day=1), month_end(inputs.months[-1])
    overlaps = [
        (a is None or a <= last) and (d is None or d > first)
        for a, d in zip(people["appointed_on"], people["dismissed_on"], strict=True)
    ]
    return people[overlaps].reset_index(drop=True)


def _entries(
    frame: pd.DataFrame, kind: str, points: Decimal | pd.Series, detail: pd.Series | str
) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=ENTRY_COLUMNS)
    out = pd.DataFrame(
        {
            "employee_id": frame["employee_id"].to_numpy(),
            "kind": kind,
            "points": points if isinstance(points, pd.Series) else [points] * len(frame),
            "period": frame["period"].to_numpy(),
            "source_file": frame["source_file"].to_numpy(),
            "source_sheet": frame["source_sheet"].to_numpy(),
            "source_row": frame["source_row"].to_numpy(),
            "detail": detail if isinstance(detail, str) else detail.to_numpy(),
        }
    )
    if isinstance(points, pd.Series):
        out["points"] = points.to_numpy()
    return out


def untrue_items(submissions: pd.DataFrame, violations: pd.DataFrame) -> pd.Series:
    """Mask of submissions found untrue: marked 否, or named by a 信息不实 notice."""
    named = violations.loc[violations["violation_type"] == "信息不实", "item_id"].dropna()
    return (submissions["truthful"] == NO) | submissions["item_id"].isin(set(named))


def scored_entries(
    inputs: YearInputs, rules: Rules, serving: dict[str, set[str]]
) -> tuple[pd.DataFrame, pd.Series]:
    """Every scored event of the period, and the counted-items mask of the submissions."""
    subs, notices = inputs.submissions, inputs.violations
    untrue = untrue_items(subs, notices) if not subs.empty else pd.Series(dtype=bool)
    absences = inputs.attendance[inputs.attendance["presence"] == "缺席"]
    notice_untrue = notices["violation_type"] == "信息不实"
    loose_untrue = notices[notice_untrue & notices["item_id"].isna()]
    rule_breaks = notices[~notice_untrue]
    adjustments = inputs.adjustments
    parts = [
        _entries(
            absences,
            "absence",
            -rules.absence_points,
            absences["meeting_date"].astype(str) + " " + absences["meeting_name"].fillna(""),
        ),
        _entries(
            subs[untrue],
            "untrue_item",
            -rules.untrue_item_points,
            subs.loc[untrue, "item_id"].astype(str) if not subs.empty else "",
        ),
        _entries(
            loose_untrue,
            "untrue_notice",
            -rules.untrue_item_points,
            loose_untrue["reason"].fillna(""),
        ),
        _entries(
            rule_breaks, "violation", -rules.violation_points, rule_breaks["reason"].fillna("")
        ),
        _entries(adjustments, "adjustment", adjustments["points"], adjustments["reason"]),
        _missing_month_entries(inputs, rules, serving, subs[~untrue] if not subs.empty else subs),
    ]
    entries = (
        pd.concat([p for p in parts if not p.empty], ignore_index=True)
        if any(not p.empty for p in parts)
        else pd.DataFrame(columns=ENTRY_COLUMNS)
    )
    return entries, ~untrue


def _missing_month_entries(
    inputs: YearInputs, rules: Rules, serving: dict[str, set[str]], counted: pd.DataFrame
) -> pd.DataFrame:
    reported = set(zip(counted["employee_id"], counted["period"], strict=True))
    sources = _month_sources(inputs.submissions)
    rows = [
        {
            "employee_id": employee_id,
            "kind": "missing_month",
            "points": -rules.missing_month_points,
            "period": period,
            "source_file": sources.get(period, ""),
            "source_sheet": "信息报送",
            "source_row": 0,
            "detail": period,
        }
        for period in inputs.months_in
        for employee_id in sorted(serving.get(period, set()))
        if (employee_id, period) not in reported
    ]
    return pd.DataFrame(rows, columns=ENTRY_COLUMNS)


def _month_sources(submissions: pd.DataFrame) -> dict[str, str]:
    if submissions.empty:
        return {}
    return dict(zip(submissions["period"], submissions["source_file"], strict=False))


def score_year(inputs: YearInputs, rules: Rules) -> YearScores:
    """Score every liaison serving in ``inputs.months`` (SPEC §2)."""
    serving = serving_by_month(inputs)
    people = people_of(inputs)
    entries, counted_mask = scored_entries(inputs, rules, serving)
    subs = inputs.submissions
    counted = subs[counted_mask] if not subs.empty else subs
    items = counted.groupby("employee_id").size() if not counted.empty else pd.Series(dtype=int)
    points, counts = _totals_by_person(entries)
    rows = [
        _score_row(
            person,
            int(items.get(person.employee_id, 0)),
            points.get(person.employee_id, {}),
            counts.get(person.employee_id, {}),
            sum(person.employee_id in s for s in serving.values()),
            inputs,
            rules,
        )
        for person in people.itertuples()
    ]
    scores = pd.DataFrame(rows)
    penalties, fines = unit_consequences(scores, people, inputs, rules)
    missing = [m for m in inputs.months if m not in inputs.months_in]
    return YearScores(scores, entries, penalties, fines, missing)


def _totals_by_person(
    entries: pd.DataFrame,
) -> tuple[dict[str, dict[str, Decimal]], dict[str, dict[str, int]]]:
    """Per person and kind of entry: the points (exact Decimals) and how many entries."""
    points: dict[str, dict[str, Decimal]] = {}
    counts: dict[str, dict[str, int]] = {}
    for employee_id, kind, value in zip(
        entries["employee_id"], entries["kind"], entries["points"], strict=True
    ):
        by_kind = points.setdefault(employee_id, {})
        by_kind[kind] = by_kind.get(kind, Decimal(0)) + Decimal(value)
        counted = counts.setdefault(employee_id, {})
        counted[kind] = counted.get(kind, 0) + 1
    return points, counts


def _score_row(
    person: Any,
    items_count: int,
    person_points: dict[str, Decimal],
    counts: dict[str, int],
    months_served: int,
    inputs: YearInputs,
    rules: Rules,
) -> dict[str, object]:
    points_by_kind = dict(person_points)
    base = min(rules.points_per_item * items_count, rules.base_cap)
    adjustment = points_by_kind.pop("adjustment", Decimal(0))
    deduction = -sum(points_by_kind.values(), Decimal(0))
    raw = base - deduction + adjustment
    final = round_half_up(raw)
    tier = tier_for(final, rules.tiers)
    dismissed = _dismissed_in(person, inputs, rules)
    share = Decimal(months_served) / 12 if rules.prorate_allowance else Decimal(1)
    coefficient = Decimal(0) if dismissed else tier.coefficient
    return {
        "employee_id": person.employee_id,
        "name": person.name,
        "unit": person.unit,
        "email": person.email,
        "items_count": items_count,
        "base_score": base,
        "absences": int(counts.get("absence", 0)),
        "absence_points": -points_by_kind.get("absence", Decimal(0)),
        "missing_months": int(counts.get("missing_month", 0)),
        "missing_month_points": -points_by_kind.get("missing_month", Decimal(0)),
        "untrue_count": int(counts.get("untrue_item", 0) + counts.get("untrue_notice", 0)),
        "untrue_points": -(
            points_by_kind.get("untrue_item", Decimal(0))
            + points_by_kind.get("untrue_notice", Decimal(0))
        ),
        "violations": int(counts.get("violation", 0)),
        "violation_points": -points_by_kind.get("violation", Decimal(0)),
        "deduction_points": deduction,
        "adjustment_points": adjustment,
        "raw_score": raw,
        "final_score": final,
        "tier_coefficient": tier.coefficient,
        "coefficient": coefficient,
        "months_served": months_served,
        "allowance_amount": allowance_amount(rules.allowance_base, coefficient, share),
        "dismissed": dismissed,
        "dismissed_on": person.dismissed_on if dismissed else None,
        "below_pass": tier.coefficient == 0,
    }


def _dismissed_in(person: Any, inputs: YearInputs, rules: Rules) -> bool:
    dismissed_on = person.dismissed_on
    if dismissed_on is None:
        return False
    first = month_end(inputs.months[0]).replace(day=1)
    last = month_end(inputs.months[-1])
    return first <= dismissed_on <= last and is_dismissal(person.dismissal_reason, rules)


def unit_consequences(
    scores: pd.DataFrame, people: pd.DataFrame, inputs: YearInputs, rules: Rules
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Unit penalties (dismissal month; zero-tier year end) and unit-head fines (SPEC §2)."""
    penalty_rows, fine_rows = [], []
    heads = dict(zip(people["employee_id"], people["unit_head"], strict=True))
    reasons = dict(zip(people["employee_id"], people["dismissal_reason"], strict=True))
    for row in scores.itertuples() if not scores.empty else []:
        if row.dismissed:
            month = row.dismissed_on.strftime("%Y-%m")
            penalty_rows.append(
                {
                    "unit": row.unit,
                    "period": month,
                    "points": rules.dismissal_unit_points,
                    "employee_id": row.employee_id,
                    "name": row.name,
                    "reason": "dismissal",
                    "detail": reasons[row.employee_id],
                }
            )
            fine_rows.append(
                {
                    "unit": row.unit,
                    "unit_head": heads.get(row.employee_id) or "",
                    "amount": rules.dismissal_head_fine,
                    "employee_id": row.employee_id,
                    "name": row.name,
                    "period": month,
                }
            )
        elif row.below_pass:
            penalty_rows.append(
                {
                    "unit": row.unit,
                    "period": inputs.months[-1],
                    "points": rules.below_pass_unit_points,
                    "employee_id": row.employee_id,
                    "name": row.name,
                    "reason": "below_pass",
                    "detail": str(row.final_score),
                }
            )
    penalty_columns = ["unit", "period", "points", "employee_id", "name", "reason", "detail"]
    fine_columns = ["unit", "unit_head", "amount", "employee_id", "name", "period"]
    return (
        pd.DataFrame(penalty_rows, columns=penalty_columns),
        pd.DataFrame(fine_rows, columns=fine_columns),
    )


def item_states(submissions: pd.DataFrame, tracking: pd.DataFrame) -> pd.DataFrame:
    """Each item's current closed-loop stage and inspection result, after tracking updates."""
    items = submissions[
        [
            "item_id",
            "employee_id",
            "name",
            "unit",
            "date",
            "period",
            "kind",
            "category",
            "content",
            "adopted",
            "stage",
            "inspection",
        ]
    ].copy()
    if tracking.empty:
        return items
    updates = tracking.sort_values(["date", "period", "source_row"], kind="stable")
    latest = updates.drop_duplicates("item_id", keep="last").set_index("item_id")
    has_update = items["item_id"].isin(latest.index)
    ids = items.loc[has_update, "item_id"]
    items.loc[has_update, "stage"] = latest.loc[ids, "stage"].to_numpy()
    items.loc[has_update, "inspection"] = latest.loc[ids, "inspection"].to_numpy()
    return items


def reached_stages(items: pd.DataFrame) -> dict[str, int]:
    """How many items reached each stage or a later one."""
    ranks = items["stage"].map(lambda s: STAGES.index(s) if s in STAGES else -1)
    return {stage: int((ranks >= i).sum()) for i, stage in enumerate(STAGES)}


@dataclass
class LoopStats:
    """SPEC §5 closed-loop statistics, and the open items by stage with their age in days."""

    collected: int
    problems: int
    rectified: int
    inspected: int
    passed: int
    pass_rate: Decimal | None
    adopted: int
    adoption_rate: Decimal | None
    by_stage: dict[str, int]
    open_by_stage: dict[str, int]
    open_items: pd.DataFrame


def closed_loop(states: pd.DataFrame, as_of: date) -> LoopStats:
    """Closed-loop statistics of the items in ``states`` as of day ``as_of``."""
    stage_rank = {stage: rank for rank, stage in enumerate(STAGES)}
    ranks = states["stage"].map(lambda s: stage_rank.get(s, -1))
    inspected = (states["stage"] == STAGES[3]) & states["inspection"].notna()
    passed = inspected & (states["inspection"] == "合格")
    adopted = int((states["adopted"] == "是").sum())
    open_items = states[states["stage"].notna() & ~passed].copy()
    open_items["age_days"] = [(as_of - d).days if d else None for d in open_items["date"]]
    return LoopStats(
        collected=len(states),
        problems=int((states["kind"] == "问题").sum()),
        rectified=int((ranks >= stage_rank[STAGES[2]]).sum()),
        inspected=int(inspected.sum()),
        passed=int(passed.sum()),
        pass_rate=_rate(int(passed.sum()), int(inspected.sum())),
        adopted=adopted,
        adoption_rate=_rate(adopted, len(states)),
        by_stage={stage: int((states["stage"] == stage).sum()) for stage in STAGES},
        open_by_stage={stage: int((open_items["stage"] == stage).sum()) for stage in STAGES},
        open_items=open_items[
            ["item_id", "name", "unit", "date", "stage", "inspection", "age_days", "content"]
        ],
    )


def _rate(part: int, whole: int) -> Decimal | None:
    """A percentage with one decimal, half up; None when there is nothing to divide by."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
