"""What is in the store: months (version, source file, when), the roster in force with its
seat-rule findings, and the open closed-loop items."""

from __future__ import annotations

from datetime import date

from ledger_batch.config import Settings
from ledger_batch.messages import Lang
from ledger_batch.periods import assessment_year_of, month_end, year_months
from ledger_batch.render_text import frame_table, table
from ledger_batch.score import closed_loop, item_states
from ledger_batch.store import Store
from ledger_batch.validate import seat_problems


def status_report(store: Store, settings: Settings, year: int | None, lang: Lang) -> str:
    """The ``status`` text."""
    zh = lang == "zh"
    months_in = store.months_in()
    start = settings.rules.year_start_month
    if year is None and months_in:
        year = assessment_year_of(max(months_in), start)
    parts: list[str] = []
    if year is None:
        return "还没有入库的台账" if zh else "Nothing stored yet"
    months = year_months(year, start)
    rows = [
        (m, f.version, f.original_name, f.ingested_at)
        if (f := months_in.get(m))
        else (m, "", "—", "")
        for m in months
    ]
    parts.append(f"{year} 年度台账" if zh else f"Ledgers of assessment year {year}")
    parts.append(
        table(
            ["月份", "版本", "文件", "入库时间"]
            if zh
            else ["Month", "Version", "File", "Stored at"],
            rows,
        )
    )
    latest = max((m for m in months if m in months_in), default=months[0])
    roster = store.roster_for(latest)
    if roster is None:
        parts.append("尚无人员名册" if zh else "No roster yet")
    else:
        parts.append(("人员名册（" if zh else "Roster (") + latest + ("）" if zh else ")"))
        parts.append(
            frame_table(roster.sort_values(["unit", "name"]), ["unit", "name", "employee_id"], lang)
        )
        findings = seat_problems(
            roster,
            date.today() if latest >= date.today().strftime("%Y-%m") else month_end(latest),
            settings.seats,
        )
        parts.append(
            "\n".join(("⚠ " if p.severity == "warning" else "· ") + p.what(lang) for p in findings)
        )
    subs = store.load("submissions", [m for m in months if m in months_in])
    if not subs.empty:
        loop = closed_loop(item_states(subs, store.load("tracking")), date.today())
        stages = ", ".join(f"{k} {v}" for k, v in loop.open_by_stage.items())
        parts.append(("未闭环事项：" if zh else "Open closed-loop items: ") + stages)
        parts.append(frame_table(loop.open_items, ["item_id", "name", "stage", "age_days"], lang))
    return "\n\n".join(parts)
