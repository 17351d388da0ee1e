"""Deterministic ledgers for a mining group: 100 mines × 19 liaisons, ~10,000 items a month.

Usage: python scripts/bench_data.py OUTDIR [--mines 100] [--items-per-month 10000]
                                          [--years 2025 ...]

Writes one term roster per year (``YYYY 人员名册.xlsx``) and twelve monthly workbooks per year
(``YYYY-MM.xlsx``) with 信息报送, 会议考勤 (quarter-end months), 违规通报, 质量加减分 and
闭环跟踪 sheets, as a group office would collect them. Same arguments, same files. Text goes
into the shared-strings table, as Excel, WPS and LibreOffice write it.
"""

from __future__ import annotations

import argparse
import random
from datetime import date
from pathlib import Path

import xlsxwriter

from ledger_batch.fields import ADJUSTMENTS, ATTENDANCE, CATEGORIES, ROSTER, SUBMISSIONS, TRACKING
from ledger_batch.fields import VIOLATIONS as NOTICES

UNITS = (
    "综采队",
    "综掘队",
    "开拓队",
    "机电队",
    "选运队",
    "运输队",
    "通灭队",
    "服务队",
    "产品管理科",
    "机关",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志海波宁红玲斌鹏飞"
CONTENTS = (
    "巷道{n}处积水，建议增设排水泵",
    "{n}号皮带机托辊异响，需检修",
    "食堂{n}号窗口排队时间长",
    "井口{n}号更衣柜损坏",
    "建议优化{n}班次交接流程",
    "宿舍{n}楼热水供应不足",
)


def people(mines: int, per_mine: int = 19) -> list[dict[str, object]]:
    """The group's liaisons: 工号 MMMNNNN, a unit per mine, one female worker per few."""
    rng = random.Random(7)
    rows = []
    for mine in range(1, mines + 1):
        for index in range(per_mine):
            unit = UNITS[index % len(UNITS)]
            rows.append(
                {
                    "工号": f"{mine:03d}{index:04d}",
                    "姓名": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                    "性别": "女" if index % 5 == 3 else "男",
                    "单位": f"{mine:03d}矿{unit}",
                    "岗位": "班组长" if index % 2 == 0 else "职工",
                    "邮箱": f"l{mine:03d}{index:04d}@group.example.cn",
                    "聘任日期": date(2000, 1, 1),
                    "解聘日期": None,
                    "解聘原因": None,
                    "单位负责人": f"{mine:03d}矿{unit}负责人",
                }
            )
    return rows


def _sheet(
    book: xlsxwriter.Workbook,
    name: str,
    headers: list[str],
    rows: list[list[object]],
    date_format: object,
) -> None:
    sheet = book.add_worksheet(name)
    sheet.write_row(0, 0, headers)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(number, column, value, date_format)
            elif value is not None:
                sheet.write_string(number, column, str(value))


def _book(path: Path, sheets: dict[str, tuple[list[str], list[list[object]]]]) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, (headers, rows) in sheets.items():
        _sheet(book, name, headers, rows, date_format)
    book.close()


def write_roster(folder: Path, year: int, roster: list[dict[str, object]]) -> None:
    headers = [f.header_zh for f in ROSTER.fields]
    _book(
        folder / f"{year} 人员名册.xlsx",
        {"人员名册": (headers, [[p[h] for h in headers] for p in roster])},
    )


def write_month(
    folder: Path,
    year: int,
    month: int,
    roster: list[dict[str, object]],
    items_per_month: int,
    earlier_items: list[str],
) -> list[str]:
    """One monthly workbook; returns the item numbers it created."""
    rng = random.Random(year * 100 + month)
    days = 28
    submissions, numbers = [], []
    for index in range(items_per_month):
        person = roster[index % len(roster)] if index < len(roster) else rng.choice(roster)
        number = f"{year}{month:02d}-{index + 1:05d}"
        numbers.append(number)
        submissions.append(
            [
                number,
                date(year, month, 1 + index % days),
                person["姓名"],
                person["工号"],
                person["单位"],
                CATEGORIES[index % len(CATEGORIES)],
                ("问题", "建议", "情况")[index % 3],
                rng.choice(CONTENTS).format(n=f"{month}-{index}"),
                ("办公室", "直报经理")[index % 2],
                "否" if index % 997 == 5 else "是",
                "是" if index % 4 == 0 else "否",
                "反映问题" if index % 3 == 0 else None,
                None,
                "已反馈",
                None,
            ]
        )
    sheets: dict[str, tuple[list[str], list[list[object]]]] = {
        "信息报送": ([f.header_zh for f in SUBMISSIONS.fields], submissions)
    }
    if month % 3 == 0:
        marks = ("出席", "出席", "出席", "出席", "请假", "缺席")
        sheets["会议考勤"] = (
            [f.header_zh for f in ATTENDANCE.fields],
            [
                [
                    date(year, month, 25),
                    f"{month}月季度例会",
                    "季度例会",
                    p["姓名"],
                    p["工号"],
                    marks[i % len(marks)],
                ]
                for i, p in enumerate(roster)
            ],
        )
    sheets["违规通报"] = (
        [f.header_zh for f in NOTICES.fields],
        [
            [
                date(year, month, 10),
                p["姓名"],
                p["工号"],
                "违反规章",
                "未按规定佩戴自救器",
                f"通报〔{year}〕{month}-{i}",
                None,
            ]
            for i, p in enumerate(rng.sample(roster, min(40, len(roster))))
        ],
    )
    sheets["质量加减分"] = (
        [f.header_zh for f in ADJUSTMENTS.fields],
        [
            [
                date(year, month, 20),
                p["姓名"],
                p["工号"],
                ("0.5", "1", "-0.5", "2")[i % 4],
                "信息质量",
            ]
            for i, p in enumerate(rng.sample(roster, min(200, len(roster))))
        ],
    )
    tracked = rng.sample(earlier_items, min(500, len(earlier_items)))
    sheets["闭环跟踪"] = (
        [f.header_zh for f in TRACKING.fields],
        [[number, date(year, month, 15), "调查核实", None, "已核实"] for number in tracked],
    )
    _book(folder / f"{year}-{month:02d}.xlsx", sheets)
    return [n for n, row in zip(numbers, submissions, strict=True) if row[6] == "问题"]


def write_years(folder: Path, years: list[int], mines: int, items_per_month: int) -> list[Path]:
    """Rosters and monthly workbooks for ``years``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    roster = people(mines)
    earlier: list[str] = []
    for year in years:
        write_roster(folder, year, roster)
        for month in range(1, 13):
            earlier = write_month(folder, year, month, roster, items_per_month, earlier)[-2000:]
    return sorted(folder.glob("*.xlsx"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--mines", type=int, default=100)
    parser.add_argument("--items-per-month", type=int, default=10_000)
    parser.add_argument("--years", type=int, nargs="+", default=[2025])
    args = parser.parse_args()
    files = write_years(args.outdir, args.years, args.mines, args.items_per_month)
    print(f"{len(files)} files in {args.outdir}")


if __name__ == "__main__":
    main()
