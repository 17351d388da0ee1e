"""Labels of columns, coded values and report headings, in Chinese and English.

One table serves the terminal, the workbooks and the HTML reports.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from ledger_batch.messages import Lang

LABELS: dict[str, tuple[str, str]] = {
    "unit": ("单位", "Unit"),
    "name": ("姓名", "Name"),
    "employee_id": ("工号", "ID"),
    "items_month": ("本月条数", "Items (month)"),
    "items_count": ("条数B", "Items B"),
    "base_score": ("基本分", "Base"),
    "absence_points": ("缺会扣分", "Absence −"),
    "missing_month_points": ("未报扣分", "No-report −"),
    "untrue_points": ("不实扣分", "Untrue −"),
    "violation_points": ("违规扣分", "Violation −"),
    "adjustment_points": ("加减分", "Adjust ±"),
    "final_score": ("得分", "Score"),
    "coefficient": ("系数", "Coef."),
    "allowance_amount": ("金额", "Amount"),
    "dismissed": ("解聘", "Dismissed"),
    "quarter_items": ("本季条数", "Items (qtr)"),
    "quarter_adopted": ("采纳", "Adopted"),
    "present": ("出席", "Present"),
    "excused": ("请假", "Excused"),
    "absent": ("缺席", "Absent"),
    "projected_score": ("预计得分", "Projected"),
    "projected_coefficient": ("预计系数", "Proj. coef."),
    "warnings": ("预警", "Warnings"),
    "liaisons": ("人数", "Liaisons"),
    "tier_coefficient": ("档次系数", "Tier coef."),
    "points": ("分值", "Points"),
    "period": ("月份", "Month"),
    "reason": ("原因", "Reason"),
    "unit_head": ("负责人", "Head"),
    "amount": ("金额", "Amount"),
    "kind": ("项目", "Item"),
    "source": ("来源", "Source"),
    "detail": ("说明", "Detail"),
    "item_id": ("编号", "Item"),
    "stage": ("办理状态", "Stage"),
    "age_days": ("天数", "Age (days)"),
    "deduction_points": ("扣分合计", "Deductions"),
    "date": ("日期", "Date"),
    "count": ("条数", "Count"),
    "item_kind": ("信息类型", "Type"),
    "category": ("信息类别", "Category"),
    "content": ("信息内容", "Content"),
    "inspection": ("复查结果", "Inspection"),
    "adopted": ("是否采纳", "Adopted"),
    "note": ("说明", "Note"),
    "source_file": ("文件", "File"),
    "source_sheet": ("工作表", "Sheet"),
    "source_row": ("行", "Row"),
    "absences": ("缺会次数", "Absences"),
    "missing_months": ("未报月数", "Months not reported"),
    "untrue_count": ("不实条数", "Untrue"),
    "violations": ("违规次数", "Violations"),
    "months_served": ("在任月数", "Months served"),
    "allowance_base": ("津贴基数", "Base amount"),
    "amount_capitals": ("金额（大写）", "Amount in words"),
    "signature": ("签字", "Signature"),
    "remark": ("备注", "Remark"),
    "email": ("邮箱", "Email"),
    "value": ("数值", "Value"),
    "rate": ("比率 %", "Rate %"),
    "item": ("项目", "Item"),
}


VALUE_LABELS: dict[str, tuple[str, str]] = {
    "absence": ("无故缺会", "unexcused absence"),
    "missing_month": ("当月未报", "month not reported"),
    "untrue_item": ("信息不实", "untrue item"),
    "untrue_notice": ("不实通报", "false-information notice"),
    "violation": ("违规通报", "rule violation"),
    "adjustment": ("质量加减分", "quality adjustment"),
    "dismissal": ("解聘", "dismissal"),
    "below_pass": ("不足60分", "below 60"),
}


def label(key: str, lang: Lang) -> str:
    """The column label of ``key`` in ``lang``."""
    zh, en = LABELS.get(key, (key, key))
    return zh if lang == "zh" else en


def value_label(value: object, lang: Lang) -> object:
    """A coded value (``absence``, ``dismissal`` …) as words; anything else unchanged."""
    if isinstance(value, str) and value in VALUE_LABELS:
        return VALUE_LABELS[value][0 if lang == "zh" else 1]
    return value


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Characters that are not allowed in HTML text or in a workbook cell."""


INTEGER_KINDS = ("int", "score")
"""Column kinds whose numbers are whole: shown without decimals here, and written as integers
into workbooks (``render_xlsx.put`` and the streamed bodies of ``xlsx_rows``)."""


def format_cell(value: object, kind: str = "text") -> str:
    """How a value reads in a report: money with separators, scores as integers."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        number = Decimal(str(value))
        if kind == "money":
            return f"{number:,.2f}"
        if kind in INTEGER_KINDS:
            return str(int(number))
        if kind in ("coef", "pct"):
            return f"{number:.1f}"
        normal = number.normalize()
        return f"{normal:f}" if normal == normal.to_integral() else str(number)
    return _CONTROL_CHARACTERS.sub("\ufffd", str(value))


WARNINGS: dict[str, tuple[str, str]] = {
    "dismissed": ("已解聘", "dismissed"),
    "projected_below_pass": ("预计不足60分", "projected below 60"),
    "missing_months": ("{n}个月未报", "{n} month(s) not reported"),
    "untrue_count": ("{n}条不实", "{n} untrue"),
    "absences": ("缺席{n}次", "{n} absence(s)"),
}


def warning_text(warnings: list[tuple[str, int]], lang: Lang) -> str:
    """Early warnings of the quarterly evaluation as one line."""
    index = 0 if lang == "zh" else 1
    parts = [WARNINGS[code][index].format(n=count) for code, count in warnings]
    return ("；" if lang == "zh" else "; ").join(parts)
