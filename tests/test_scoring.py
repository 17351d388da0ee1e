"""Every scoring rule of SPEC §2, on the pure scoring functions, with hand-worked numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from ledger_batch.config import Rules
from ledger_batch.periods import year_months
from ledger_batch.score import YearInputs, score_year

YEAR = year_months(2025, 1)
SOURCE = {"source_file": "f.xlsx", "source_sheet": "s", "source_row": 2}


def liaison(
    employee_id: str,
    name: str,
    unit: str = "综采队",
    appointed: str = "2025-01-01",
    dismissed: str | None = None,
    reason: str | None = None,
) -> dict[str, object]:
    return {
        "employee_id": employee_id,
        "name": name,
        "unit": unit,
        "email": None,
        "gender": "男",
        "position": "职工",
        "appointed_on": date.fromisoformat(appointed),
        "dismissed_on": date.fromisoformat(dismissed) if dismissed else None,
        "dismissal_reason": reason,
        "unit_head": f"{unit}负责人",
    }


_item_numbers = iter(range(1, 1_000_000))


def items(
    employee_id: str, per_month: dict[str, int], truthful: str = "是"
) -> list[dict[str, object]]:
    rows = []
    for period, count in per_month.items():
        for _ in range(count):
            rows.append(
                {
                    "item_id": f"{period}-{next(_item_numbers):03d}",
                    "employee_id": employee_id,
                    "period": period,
                    "date": date.fromisoformat(f"{period}-10"),
                    "truthful": truthful,
                    "kind": "问题",
                    **SOURCE,
                }
            )
    return rows


def every_month(count: int, months: list[str] = YEAR) -> dict[str, int]:
    return dict.fromkeys(months, count)


def inputs(
    people: list[dict[str, object]],
    submissions: list[dict[str, object]] = (),
    attendance: list[dict[str, object]] = (),
    violations: list[dict[str, object]] = (),
    adjustments: list[dict[str, object]] = (),
    months_in: list[str] = YEAR,
    rosters: dict[str, list[dict[str, object]]] | None = None,
) -> YearInputs:
    roster_rows = rosters or dict.fromkeys(YEAR, people)
    return YearInputs(
        months=YEAR,
        months_in=months_in,
        rosters={m: pd.DataFrame(rows) for m, rows in roster_rows.items()},
        submissions=pd.DataFrame(
            list(submissions),
            columns=["item_id", "employee_id", "period", "date", "truthful", "kind", *SOURCE],
        ),
        attendance=pd.DataFrame(
            list(attendance),
            columns=["employee_id", "period", "meeting_date", "meeting_name", "presence", *SOURCE],
        ),
        violations=pd.DataFrame(
            list(violations),
            columns=["employee_id", "period", "violation_type", "item_id", "reason", *SOURCE],
        ),
        adjustments=pd.DataFrame(
            list(adjustments), columns=["employee_id", "period", "points", "reason", *SOURCE]
        ),
    )


def absence(employee_id: str, presence: str = "缺席", period: str = "2025-03") -> dict[str, object]:
    return {
        "employee_id": employee_id,
        "period": period,
        "meeting_date": date(2025, 3, 28),
        "meeting_name": "季度例会",
        "presence": presence,
        **SOURCE,
    }


def notice(employee_id: str, kind: str, item_id: str | None = None) -> dict[str, object]:
    return {
        "employee_id": employee_id,
        "period": "2025-05",
        "violation_type": kind,
        "item_id": item_id,
        "reason": "通报",
        **SOURCE,
    }


def adjustment(employee_id: str, points: str) -> dict[str, object]:
    return {
        "employee_id": employee_id,
        "period": "2025-06",
        "points": Decimal(points),
        "reason": "质量",
        **SOURCE,
    }


def row_of(data: YearInputs, rules: Rules | None = None) -> pd.Series:
    return score_year(data, rules or Rules()).scores.iloc[0]


A = liaison("001", "张伟")


def test_base_is_five_points_per_item() -> None:
    # 12 months × 1 item = 12 items → 12 × 5 = 60; no deductions.
    row = row_of(inputs([A], items("001", every_month(1))))
    assert (row.items_count, row.base_score, row.final_score) == (12, 60, 60)
    assert row.coefficient == Decimal("0.7") and row.allowance_amount == Decimal("700.00")


def test_base_is_capped_at_100_before_deductions() -> None:
    # 24 items → 120, capped to 100; then one unexcused absence −2 → 98 (not 118).
    row = row_of(inputs([A], items("001", every_month(2)), attendance=[absence("001")]))
    assert row.base_score == 100
    assert row.final_score == 98


def test_unexcused_absence_costs_two_excused_costs_nothing() -> None:
    # 20 items → 100; 缺席 twice → −4; 请假 once → 0: final 96.
    data = inputs(
        [A],
        items("001", {**every_month(2, YEAR[:8]), **every_month(1, YEAR[8:])}),
        attendance=[absence("001"), absence("001"), absence("001", "请假")],
    )
    row = row_of(data)
    assert row.absences == 2 and row.absence_points == 4 and row.final_score == 96


def test_month_without_report_costs_five() -> None:
    # Items in 10 of 12 months, 2 each → 20 items → 100; March and July empty → −10 → 90.
    months = {m: 2 for m in YEAR if m not in ("2025-03", "2025-07")}
    row = row_of(inputs([A], items("001", months)))
    assert row.missing_months == 2 and row.missing_month_points == 10 and row.final_score == 90


def test_missing_month_deduction_never_comes_from_a_month_without_ledger() -> None:
    # March has no ledger at all: no −5 for March although nobody reported in it.
    months = {m: 2 for m in YEAR if m != "2025-03"}
    data = inputs([A], items("001", months), months_in=[m for m in YEAR if m != "2025-03"])
    row = row_of(data)
    assert row.missing_months == 0 and row.final_score == 100


def test_untrue_item_costs_ten_and_does_not_count() -> None:
    # 18 true items (Jan–Sep, 2 each) → 90; one more untrue item in October → B stays 18,
    # −10 for it; Oct–Dec have no counted item → −15: 90 − 10 − 15 = 65.
    subs = items("001", every_month(2, YEAR[:9])) + items("001", {"2025-10": 1}, truthful="否")
    row = row_of(inputs([A], subs))
    assert row.items_count == 18 and row.untrue_count == 1 and row.final_score == 65


def test_month_with_only_untrue_items_counts_as_not_reported() -> None:
    # 11 months × 2 = 22 → 100; December's only item is untrue: −10 and −5 → 85.
    subs = items("001", every_month(2, YEAR[:11])) + items("001", {"2025-12": 1}, truthful="否")
    row = row_of(inputs([A], subs))
    assert row.missing_months == 1 and row.final_score == 85


def test_untrue_notice_naming_the_untrue_item_is_not_counted_twice() -> None:
    subs = items("001", every_month(2)) + items("001", {"2025-05": 1}, truthful="否")
    untrue_id = subs[-1]["item_id"]
    row = row_of(inputs([A], subs, violations=[notice("001", "信息不实", str(untrue_id))]))
    assert row.untrue_count == 1 and row.final_score == 90


def test_untrue_notice_naming_a_true_item_makes_it_untrue() -> None:
    # 21 items, one named by a 信息不实 notice → B = 20 → 100 − 10 = 90.
    subs = items("001", every_month(2, YEAR[:9])) + items("001", every_month(1, YEAR[9:]))
    row = row_of(inputs([A], subs, violations=[notice("001", "信息不实", str(subs[0]["item_id"]))]))
    assert row.items_count == 20 and row.final_score == 90


def test_untrue_notice_without_item_costs_ten_on_its_own() -> None:
    row = row_of(inputs([A], items("001", every_month(2)), violations=[notice("001", "信息不实")]))
    assert row.untrue_count == 1 and row.final_score == 90


def test_rule_violation_notice_costs_three() -> None:
    row = row_of(
        inputs(
            [A],
            items("001", every_month(2)),
            violations=[notice("001", "违反规章"), notice("001", "违反规章")],
        )
    )
    assert row.violations == 2 and row.violation_points == 6 and row.final_score == 94


@pytest.mark.parametrize(
    ("points", "final", "coefficient"),
    [
        ("-27.5", 73, "0.8"),
        ("-19.51", 80, "0.8"),
        ("-19.5", 81, "0.9"),
        ("-40.5", 60, "0.7"),
        ("-40.51", 59, "0"),
        ("-9.5", 91, "1.0"),
        ("-10.5", 90, "0.9"),
        ("-29.5", 71, "0.8"),
    ],
)
def test_adjustments_are_signed_decimals_and_the_total_rounds_half_up(
    points: str, final: int, coefficient: str
) -> None:
    # 24 items → 100; 100 − 27.5 = 72.5 → 73; 100 − 19.51 = 80.49 → 80; 100 − 19.5 = 80.5 → 81.
    row = row_of(inputs([A], items("001", every_month(2)), adjustments=[adjustment("001", points)]))
    assert row.final_score == final
    assert row.coefficient == Decimal(coefficient)
    assert row.allowance_amount == Decimal(coefficient) * 1000


def test_score_may_go_below_zero() -> None:
    # No item in 12 ingested months: −60; one absence −2 → −62, shown as it is.
    row = row_of(inputs([A], attendance=[absence("001")]))
    assert row.final_score == -62 and row.coefficient == 0


def test_below_sixty_flags_the_unit() -> None:
    result = score_year(inputs([A], items("001", every_month(1, YEAR[:6]))), Rules())
    # 6 items → 30; 6 empty months → −30: final 0.
    assert result.scores.iloc[0].final_score == 0
    penalty = result.unit_penalties.iloc[0]
    assert (penalty.unit, penalty.points, penalty.reason) == ("综采队", 1, "below_pass")
    assert result.fines.empty


def test_dismissal_cancels_the_allowance_and_penalises_unit_and_head() -> None:
    fired = liaison("002", "王强", unit="机电队", dismissed="2025-07-15", reason="敷衍塞责")
    data = inputs([fired], items("002", every_month(3, YEAR[:7])))
    result = score_year(data, Rules())
    row = result.scores.iloc[0]
    # 21 items → 100, served Jan–Jun month ends (July 31 is after 解聘日期): no deductions.
    assert row.final_score == 100 and row.dismissed and row.allowance_amount == 0
    assert row.months_served == 6
    penalty = result.unit_penalties.iloc[0]
    assert (penalty.unit, penalty.period, penalty.points) == ("机电队", "2025-07", 1)
    fine = result.fines.iloc[0]
    assert (fine.unit_head, fine.amount) == ("机电队负责人", 200)


def test_ordinary_departure_is_not_a_dismissal() -> None:
    moved = liaison("003", "赵敏", dismissed="2025-07-01", reason="工作调动")
    result = score_year(inputs([moved], items("003", every_month(4, YEAR[:6]))), Rules())
    row = result.scores.iloc[0]
    assert not row.dismissed and row.coefficient == Decimal("1.0")
    assert result.unit_penalties.empty and result.fines.empty


def test_partial_term_counts_only_months_in_service() -> None:
    # Appointed 2025-07-10: in service on the last day of July … December (6 months).
    # Items in Aug–Dec only (2 each = 10 → 50); July empty → −5: 45.
    late = liaison("004", "孙丽", appointed="2025-07-10")
    row = row_of(inputs([late], items("004", every_month(2, YEAR[7:]))))
    assert row.months_served == 6 and row.missing_months == 1 and row.final_score == 45


def test_pro_rating_is_off_by_default_and_scales_by_months_served() -> None:
    late = liaison("004", "孙丽", appointed="2025-07-10")
    data = inputs([late], items("004", every_month(4, YEAR[6:])))
    assert row_of(data).allowance_amount == Decimal("1000.00")
    prorated = row_of(data, Rules(prorate_allowance=True))
    assert prorated.allowance_amount == Decimal("500.00")  # 1000 × 1.0 × 6/12


def test_replacement_is_scored_from_the_roster_in_force_each_month() -> None:
    # 王强 is on the roster until June; from July a newer roster lists only 孙丽.
    old = liaison("002", "王强")
    new = liaison("005", "孙丽", appointed="2025-07-01")
    rosters = {m: [old] for m in YEAR[:6]} | {m: [new] for m in YEAR[6:]}
    subs = items("002", every_month(2, YEAR[:6])) + items("005", every_month(2, YEAR[6:]))
    scores = score_year(inputs([old], subs, rosters=rosters), Rules()).scores
    by_id = scores.set_index("employee_id")
    assert by_id.loc["002", "months_served"] == 6 and by_id.loc["002", "missing_months"] == 0
    assert by_id.loc["005", "months_served"] == 6 and by_id.loc["005", "final_score"] == 60


def test_rules_come_from_configuration() -> None:
    rules = Rules(points_per_item=Decimal(4), absence_points=Decimal(3), base_cap=Decimal(90))
    # 12 items × 4 = 48; one absence −3 → 45.
    row = row_of(inputs([A], items("001", every_month(1)), attendance=[absence("001")]), rules)
    assert row.base_score == 48 and row.final_score == 45


def test_every_deduction_keeps_its_source() -> None:
    result = score_year(
        inputs([A], items("001", every_month(2)), attendance=[absence("001")]), Rules()
    )
    entry = result.entries.iloc[0]
    assert (entry.kind, entry.source_file, entry.source_sheet, entry.source_row) == (
        "absence",
        "f.xlsx",
        "s",
        2,
    )
    assert entry.points == -2
