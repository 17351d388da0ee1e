"""Write the bundled sample year: assessment year 2025 of the article's 17 liaison seats.

Usage: ``python scripts/make_samples.py OUTDIR`` (``make samples`` writes ``sample_ledgers/``).

The year is driven by the tables at the top of this file — who serves, how many items each
liaison reports each month, meetings and who missed them, notices and quality adjustments — so
a reader can work out every payout by hand (``tests/test_sample_year.py`` does, person by
person). Everything below the tables only lays the plan out as the office would: a term roster,
twelve monthly ledgers in the formats offices send (xlsx, an old .xls, a LibreOffice .ods and,
for August, two CSV files), a title row above every header, real and text dates, √/×/Y/N for
是/否, 编号 sometimes filled and sometimes left blank.

The output is deterministic: no randomness, and fixed workbook properties and zip timestamps,
so running the script twice gives the same bytes. It needs openpyxl, xlwt and odfpy (the dev
extras), not LibreOffice.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import xlwt
from odf.meta import InitialCreator
from odf.number import DateStyle, Day, Month, Text, Year
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style
from odf.table import CoveredTableCell, Table, TableCell, TableRow
from odf.text import P
from openpyxl.styles import Alignment, Font

# =============================================================================================
# The plan
# =============================================================================================

YEAR = 2025
TERM_START = date(2025, 1, 1)


@dataclass(frozen=True)
class Liaison:
    """One seat holder as the roster lists them."""

    name: str
    employee_id: str
    unit: str
    position: str
    gender: str
    email_name: str
    unit_head: str
    appointed_on: date = TERM_START
    dismissed_on: date | None = None
    dismissal_reason: str | None = None


# 开拓队's worker 杨帆 is dismissed on 2025-07-10 for 敷衍塞责 (first day out of service; his last
# assessable month is June) and 宋佳 is appointed the same day: the newer roster
# "2025-07 人员名册.xlsx" lists both.
DISMISSAL_DAY = date(2025, 7, 10)
PEOPLE: tuple[Liaison, ...] = (
    Liaison("张伟", "0012031", "综采队", "班组长", "男", "zhangwei", "刘建军"),
    Liaison("李强", "0012047", "综采队", "职工", "男", "liqiang", "刘建军"),
    Liaison("王磊", "0012105", "综掘队", "班组长", "男", "wanglei", "陈志明"),
    Liaison("刘洋", "0012118", "综掘队", "职工", "男", "liuyang", "陈志明"),
    Liaison("陈刚", "0012203", "开拓队", "班组长", "男", "chengang", "赵永胜"),
    Liaison(
        "杨帆",
        "0012216",
        "开拓队",
        "职工",
        "男",
        "yangfan",
        "赵永胜",
        dismissed_on=DISMISSAL_DAY,
        dismissal_reason="工作敷衍塞责，散布不实信息，多次无故缺席联络员会议",
    ),
    Liaison(
        "宋佳", "0012288", "开拓队", "职工", "女", "songjia", "赵永胜", appointed_on=DISMISSAL_DAY
    ),
    Liaison("赵建国", "0012307", "机电队", "班组长", "男", "zhaojianguo", "孙德明"),
    Liaison("孙丽", "0012311", "机电队", "职工", "女", "sunli", "孙德明"),
    Liaison("吴海涛", "0012402", "选运队", "班组长", "男", "wuhaitao", "郭文斌"),
    Liaison("郑芳", "0012419", "选运队", "职工", "女", "zhengfang", "郭文斌"),
    Liaison("冯志刚", "0012506", "运输队", "班组长", "男", "fengzhigang", "韩立新"),
    Liaison("何军", "0012513", "运输队", "职工", "男", "hejun", "韩立新"),
    Liaison("许明", "0012604", "通灭队", "班组长", "男", "xuming", "曹振华"),
    Liaison("马超", "0012617", "通灭队", "职工", "男", "machao", "曹振华"),
    Liaison("黄丽华", "0012701", "服务队", "职工", "女", "huanglihua", "邓秀英"),
    Liaison("林涛", "0012802", "产品管理科", "职工", "男", "lintao", "彭建设"),
    Liaison("高峰", "0012905", "机关", "职工", "男", "gaofeng", "罗文"),
)

# Counted items (true or not yet verified) per month, January … December. A 0 in a month the
# person serves is a month without a report (−5). 宋佳 serves from 2025-07-10, 杨帆 until
# 2025-07-09: their zeros outside those dates are not assessable. The comment after each row
# sums the plan up — B, then what the tables below add — and the tier it lands in.
#                      Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec
ITEMS: dict[str, tuple[int, ...]] = {
    "张伟": (3, 2, 2, 2, 2, 3, 2, 2, 2, 2, 2, 2),  # 26 (>20, cap 100); 缺席 Q2; 违规 Sep → 1.0
    "李强": (2, 2, 2, 2, 1, 2, 1, 2, 1, 1, 2, 1),  # 19; 缺席 Q3; 违规 Apr; +0.5 → 90.5 → 1.0
    "王磊": (1, 2, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1),  # 18; −2.5 → 87.5 → 0.9
    "刘洋": (2, 2, 1, 2, 0, 2, 2, 1, 2, 1, 1, 1),  # 17; no May; +0.99 −0.5 → 80.49 → 0.8
    "陈刚": (1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 2, 1),  # 15; +2 → 0.8
    "杨帆": (3, 3, 3, 2, 2, 2, 1, 0, 0, 0, 0, 0),  # 16; 缺席 Q1 Q2; 不实 notice → dismissed
    "宋佳": (0, 0, 0, 0, 0, 0, 1, 2, 2, 2, 3, 2),  # 12; appointed 07-10 → 60 → 0.7
    "赵建国": (2, 1, 2, 2, 1, 2, 2, 1, 2, 1, 2, 1),  # 19; 缺席 Nov; 违规 Oct → 90 → 0.9
    "孙丽": (1, 2, 2, 1, 2, 1, 1, 2, 1, 2, 1, 1),  # 17 + 1 untrue (Mar); 请假 Q1 → 0.8
    "吴海涛": (2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2),  # 22; no Feb; 缺席 Q1 Aug → 91 → 1.0
    "郑芳": (1, 1, 1, 1, 1, 2, 1, 1, 1, 2, 1, 1),  # 14; 请假 Q2 Q3 → 70 → 0.7
    "冯志刚": (1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 2, 1),  # 16; +1 → 81 → 0.9
    "何军": (2, 1, 0, 2, 1, 0, 2, 0, 1, 1, 1, 1),  # 12; no Mar Jun Aug; 缺席 Q4 → 0
    "许明": (2, 2, 2, 2, 1, 2, 2, 1, 2, 2, 2, 1),  # 21; 缺席 May → 1.0
    "马超": (1, 1, 1, 1, 1, 1, 0, 2, 1, 2, 1, 1),  # 13; no Jul; −1 → 59 → 0
    "黄丽华": (1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2, 1),  # 15; 缺席 Q3 → 0.8
    "林涛": (1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1),  # 14; 请假 Q4; +0.5 → 70.5 → 0.8
    "高峰": (2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2),  # 24 → 100 → 1.0
}

# Items found untrue (是否属实 = 否): not counted in B, −10 each, once per item. 孙丽's March item
# is also named by a 信息不实 notice in April (NOTICES below): the same event, still −10 once.
UNTRUE_ITEMS: dict[tuple[str, int], tuple[str, str, str]] = {
    ("孙丽", 3): ("廉政建设", "问题", "反映机电队配件库有人私自倒卖废旧材料"),
}


@dataclass(frozen=True)
class Meeting:
    """A liaison meeting. Quarterly meetings list everyone serving that day."""

    day: date
    name: str
    kind: str
    marks: dict[str, str]
    """Non-default 出席情况 by name (as written: 缺席/缺/× unexcused, 请假/假 excused)."""
    attendees: tuple[str, ...] = ()
    """For ad-hoc meetings: who was invited (everyone serving when empty)."""


MEETINGS: tuple[Meeting, ...] = (
    Meeting(
        date(2025, 2, 20),
        "节后复工复产座谈会",
        "座谈会",
        {},
        ("李强", "王磊", "陈刚", "杨帆", "冯志刚"),
    ),
    Meeting(
        date(2025, 3, 28),
        "2025年第一季度经理联络员例会",
        "季度例会",
        {"杨帆": "缺席", "吴海涛": "缺", "孙丽": "请假"},
    ),
    Meeting(
        date(2025, 5, 20),
        "汛期安全生产专题临时会议",
        "临时会议",
        {"许明": "缺席"},
        ("张伟", "王磊", "冯志刚", "许明", "马超", "高峰"),
    ),
    Meeting(
        date(2025, 6, 27),
        "2025年第二季度经理联络员例会",
        "季度例会",
        {"张伟": "缺", "杨帆": "×", "郑芳": "假"},
    ),
    Meeting(
        date(2025, 8, 15),
        "职工福利待遇座谈会",
        "座谈会",
        {"吴海涛": "缺"},
        ("孙丽", "郑芳", "吴海涛", "黄丽华", "宋佳", "林涛"),
    ),
    Meeting(
        date(2025, 9, 26),
        "2025年第三季度经理联络员例会",
        "季度例会",
        {"李强": "×", "黄丽华": "缺席", "郑芳": "请假"},
    ),
    Meeting(
        date(2025, 11, 12),
        "冬季“三防”工作临时会议",
        "临时会议",
        {"赵建国": "缺席"},
        ("张伟", "刘洋", "陈刚", "赵建国", "何军"),
    ),
    Meeting(
        date(2025, 12, 26),
        "2025年第四季度经理联络员例会",
        "季度例会",
        {"何军": "缺席", "林涛": "假"},
    ),
)


@dataclass(frozen=True)
class Notice:
    """A 违规通报 row: 违反规章 (−3) or 信息不实 (−10 unless it names an untrue item)."""

    day: date
    name: str
    kind: str
    reason: str
    notice_no: str
    names_untrue_item_of: int | None = None
    """Month of the person's untrue item this notice names by 编号 (None: no 编号)."""


NOTICES: tuple[Notice, ...] = (
    Notice(
        date(2025, 4, 9),
        "孙丽",
        "信息不实",
        "反映配件库倒卖废旧材料一事经纪检部门核实不属实",
        "行办通〔2025〕3号",
        names_untrue_item_of=3,
    ),
    Notice(
        date(2025, 4, 18),
        "李强",
        "违反规章",
        "未按规定参加班前安全确认，被安监部门通报",
        "安监通〔2025〕8号",
    ),
    Notice(
        date(2025, 6, 20),
        "杨帆",
        "信息不实",
        "在班组微信群散布“本月工资停发”的不实消息",
        "行办通〔2025〕6号",
    ),
    Notice(
        date(2025, 9, 12),
        "张伟",
        "违反规章",
        "井下违章指挥，被安监部门通报批评",
        "安监通〔2025〕21号",
    ),
    Notice(
        date(2025, 10, 16),
        "赵建国",
        "违反规章",
        "检修作业未严格执行停送电制度",
        "机动通〔2025〕11号",
    ),
)


@dataclass(frozen=True)
class Adjustment:
    """A 质量加减分 row; ``written`` is the cell as the office typed it (text or a number)."""

    day: date
    name: str
    points: Decimal
    reason: str
    written: str | None = None


ADJUSTMENTS: tuple[Adjustment, ...] = (
    Adjustment(date(2025, 3, 28), "刘洋", Decimal("0.99"), "反映问题具体并附现场照片，酌情加分"),
    Adjustment(date(2025, 6, 26), "陈刚", Decimal("2"), "提出的掘进工作面通风优化建议被采纳"),
    Adjustment(date(2025, 7, 25), "王磊", Decimal("-2.5"), "多条信息报送不及时、内容笼统"),
    Adjustment(date(2025, 9, 22), "冯志刚", Decimal("1"), "及时反映运输线路隐患", "＋１"),
    Adjustment(date(2025, 10, 24), "刘洋", Decimal("-0.5"), "一条信息表述不清，多次补充核实"),
    Adjustment(date(2025, 11, 20), "李强", Decimal("0.5"), "反映的积水问题整改及时", "+0.5"),
    Adjustment(date(2025, 12, 19), "马超", Decimal("-1"), "同一问题重复报送"),
    Adjustment(date(2025, 12, 22), "林涛", Decimal("0.5"), "提出的分级装车建议被采纳"),
)

# Closed loop (闭环跟踪): the first LOOP_ITEMS_PER_MONTH truthful 问题 items (in ledger row order)
# of each month move one stage per later monthly workbook (August has no workbook, only CSVs):
# 调查核实 → 整改落实 → 督查验收 with 复查结果 合格. Items of Jan–Sep are inspected by December
# (18), those of October reach 整改落实, those of November 调查核实. Two exceptions:
LOOP_ITEMS_PER_MONTH = 2
REINSPECTED = (4, 0)
"""April's first loop item fails inspection in July (不合格), is rectified again in September
and passes in October."""
FAILED_AT_YEAR_END = (9, 0)
"""September's first loop item fails its inspection in December and is still open at year end."""

# How each month is delivered.
FORMATS: dict[int, str] = {4: "xls", 6: "ods", 8: "csv"}
"""Months not listed are .xlsx."""
FILE_NAMES: dict[int, str] = {10: "2025年10月联络员台账"}
"""Months not listed are named ``2025-MM 经理联络员台账``."""
ITEM_IDS_FILLED: dict[int, str] = {1: "all", 2: "none", 4: "all", 6: "none", 10: "all"}
"""Whether the office filled 编号: all, none, or (months not listed) every third row."""
HEADER_SPELLINGS: dict[int, dict[str, str]] = {4: {"姓名": "姓　名", "工号": "工　号"}}
"""Headers written differently in a month (a full-width space, as Chinese forms align them)."""

# =============================================================================================
# Content: what liaisons report (信息类别, 信息类型, 信息内容)
# =============================================================================================

SENTENCES: tuple[tuple[str, str, str], ...] = (
    ("安全生产", "问题", "3号联络巷局部锚杆松动，存在片帮隐患，需尽快补打锚杆"),
    ("经营管理", "建议", "建议对回收复用的旧托辊建立台账，节约材料成本"),
    ("后勤保障", "问题", "职工澡堂热水供应不稳定，夜班升井后经常没有热水"),
    ("安全生产", "情况", "本队本月开展顶板事故应急演练一次，职工参与积极"),
    ("安全生产", "建议", "建议在采掘工作面增设语音提示装置，提醒人员远离危险区域"),
    ("福利待遇", "问题", "一线职工反映高温补贴发放标准不清楚，希望公开发放依据"),
    ("职工队伍", "建议", "建议开展师带徒技能比武，提高青年职工操作水平"),
    ("安全生产", "问题", "主运输皮带机尾清扫器损坏，撒煤严重，影响文明生产"),
    ("职工队伍", "情况", "班组职工对新修订的安全操作规程学习情况良好"),
    ("产品销售", "建议", "建议根据用户煤质需求分级装车，提高块煤售价"),
    ("后勤保障", "问题", "井口候车室座椅损坏较多，冬季取暖效果差"),
    ("福利待遇", "建议", "建议为井下一线职工增配防寒劳保用品"),
    ("信访维稳", "情况", "个别职工对工伤认定进度有疑虑，已做好解释疏导"),
    ("经营管理", "问题", "急用配件领用审批时间过长，影响设备检修进度"),
    ("政务公开", "建议", "建议在矿务公开栏每月公开绩效工资分配结果"),
    ("职工队伍", "问题", "新入职职工岗前培训时间偏短，实操环节安排不足"),
    ("产品销售", "情况", "近期用户反映洗混煤发热量稳定，回款情况较好"),
    ("矿区和谐稳定", "建议", "建议组织职工家属开放日，增进家属对安全工作的理解"),
    ("项目建设", "问题", "新建排矸场道路施工扬尘大，周边职工宿舍意见较多"),
    ("项目建设", "情况", "井下供电系统改造工程按计划推进，未影响正常生产"),
    ("后勤保障", "建议", "建议在单身公寓增设洗衣房和晾衣区"),
    ("人力资源", "问题", "辅助岗位人员调整未及时公示，职工有疑问"),
    ("班子建设", "建议", "建议矿领导下井带班时多到班组了解职工诉求"),
    ("人力资源", "情况", "本单位轮休已按新办法执行，职工总体满意"),
    ("后勤保障", "问题", "职工食堂夜班饭菜品种少，价格偏高"),
    ("廉政建设", "建议", "建议物资采购比价结果在公司内网公示"),
    ("矿区和谐稳定", "情况", "矿区周边村民对运煤车辆限速措施反映良好"),
    ("安全生产", "问题", "副井井口防冻设施漏风，冬季有结冰隐患"),
    ("其他", "情况", "职工对联络员信息反馈及时性评价较好"),
    ("经营管理", "问题", "部分设备备件库存积压，占用资金较多"),
)
"""30 sentences; person p's k-th item of the year uses sentence (7k + 3p) mod 30, so no one
reports the same thing twice (7 and 30 are coprime)."""

TEXT_DATE_FORMATS: tuple[Callable[[date], str], ...] = (
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: d.strftime("%Y%m%d"),
    lambda d: d.isoformat(),
)
YES_WRITTEN = ("是", "是", "√", "是", "Y", "是", "是")
NO_WRITTEN = ("否", "否", "×", "否", "N", "否")
PRESENT_WRITTEN = ("出席", "出席", "√", "出席", "到")
FIXED_TIME = datetime(2025, 12, 31, 17, 30, 0)
"""Workbook properties and zip timestamps of every file written."""

# =============================================================================================
# Laying the plan out as ledger rows
# =============================================================================================

Cell = str | date | Decimal | int | None


@dataclass
class Sheet:
    """One ledger sheet: a title row, a header row and data rows."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: list[list[Cell]]


@dataclass
class Item:
    """One submitted item, before it is written."""

    person: Liaison
    day: date
    category: str
    kind: str
    content: str
    truthful: bool
    item_id: str = ""


HEADERS = {
    "信息报送": (
        "编号", "报送日期", "姓名", "工号", "单位", "信息类别", "信息类型", "信息内容",
        "报送方式", "是否属实", "是否采纳", "办理状态", "复查结果", "反馈情况", "备注",
    ),
    "闭环跟踪": ("编号", "日期", "办理状态", "复查结果", "说明"),
    "会议考勤": ("会议日期", "会议名称", "会议类型", "姓名", "工号", "出席情况"),
    "违规通报": ("日期", "姓名", "工号", "类型", "事由", "通报文号", "编号"),
    "质量加减分": ("日期", "姓名", "工号", "分值", "理由"),
    "人员名册": (
        "工号", "姓名", "性别", "单位", "岗位", "邮箱", "聘任日期", "解聘日期", "解聘原因",
        "单位负责人",
    ),
}  # fmt: skip

BY_NAME = {p.name: p for p in PEOPLE}


def serves_on(person: Liaison, day: date) -> bool:
    """In service from 聘任日期 (inclusive) until 解聘日期 (exclusive)."""
    return person.appointed_on <= day and (person.dismissed_on is None or day < person.dismissed_on)


def month_last_day(month: int) -> int:
    """Days in ``month`` of YEAR."""
    following = date(YEAR + month // 12, month % 12 + 1, 1)
    return (following - date(YEAR, month, 1)).days


def date_cell(day: date, row_number: int, text_only: bool = False) -> Cell:
    """Mostly a real date cell; every third row a date typed as text, in rotating forms."""
    if text_only or row_number % 3 == 0:
        return TEXT_DATE_FORMATS[(row_number // 3) % len(TEXT_DATE_FORMATS)](day)
    return day


def spaced_name(name: str) -> str:
    """Two-character names padded with a full-width space, as aligned sign-in sheets write them."""
    return f"{name[0]}\u3000{name[1]}" if len(name) == 2 else name


def written_id(employee_id: str, row_number: int) -> str | None:
    """工号 as typed: blank every fifth row (the name identifies the person), now and then in
    full-width digits or with a trailing space; always text, so leading zeros stay."""
    if row_number % 5 == 0:
        return None
    if row_number % 7 == 0:
        return employee_id.translate(FULL_WIDTH_DIGITS)
    if row_number % 11 == 0:
        return employee_id + " "
    return employee_id


FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def month_items(month: int) -> list[Item]:
    """Every item of ``month`` in ledger row order (by date), with its 编号."""
    items: list[Item] = []
    for index, person in enumerate(PEOPLE):
        count = ITEMS[person.name][month - 1]
        earlier = sum(ITEMS[person.name][: month - 1])
        days = item_days(person, index, month, count)
        for j, day in enumerate(days):
            category, kind, content = SENTENCES[(7 * (earlier + j) + 3 * index) % len(SENTENCES)]
            items.append(Item(person, day, category, kind, content, truthful=True))
        if (person.name, month) in UNTRUE_ITEMS:
            category, kind, content = UNTRUE_ITEMS[(person.name, month)]
            day = date(YEAR, month, 14)
            items.append(Item(person, day, category, kind, content, truthful=False))
    order = {p.name: i for i, p in enumerate(PEOPLE)}
    items.sort(key=lambda it: (it.day, order[it.person.name]))
    for position, item in enumerate(items, start=1):
        item.item_id = f"{YEAR}{month:02d}-{position:03d}"
    return items


def item_days(person: Liaison, index: int, month: int, count: int) -> list[date]:
    """``count`` report dates inside the month and inside the person's term."""
    first, last = date(YEAR, month, 1), date(YEAR, month, month_last_day(month))
    if person.appointed_on > first:
        first = person.appointed_on
    if person.dismissed_on is not None and person.dismissed_on <= last:
        last = date.fromordinal(person.dismissed_on.toordinal() - 1)
    span = (last - first).days + 1
    days = sorted(
        date.fromordinal(first.toordinal() + (index * 5 + j * 11 + month) % span)
        for j in range(count)
    )
    if count and not (serves_on(person, days[0]) and serves_on(person, days[-1])):
        raise ValueError(f"{person.name} {month}: a report outside the term")
    return days


def submissions_sheet(month: int, items: list[Item]) -> Sheet:
    """信息报送 of ``month``."""
    filled = ITEM_IDS_FILLED.get(month, "some")
    rows: list[list[Cell]] = []
    for number, item in enumerate(items, start=1):
        show_id = filled == "all" or (filled == "some" and number % 3 == 0)
        tracked = item.kind == "问题"
        adopted = item.kind == "建议" and number % 2 == 0
        rows.append(
            [
                item.item_id if show_id else None,
                date_cell(item.day, number, text_only=FORMATS.get(month) == "csv"),
                item.person.name,
                written_id(item.person.employee_id, number),
                item.person.unit,
                item.category,
                item.kind,
                item.content,
                "直报经理" if number % 4 == 0 else "办公室",
                truthful_cell(item, month, number),
                adopted_cell(adopted, number),
                "反映问题" if tracked and number % 2 else None,
                None,
                "已反馈" if number % 3 else "未反馈",
                "经纪检部门核实不属实" if not item.truthful else None,
            ]
        )
    return Sheet("信息报送", f"{YEAR}年{month}月经理联络员信息报送台账", HEADERS["信息报送"], rows)


def adopted_cell(adopted: bool, number: int) -> str | None:
    """是否采纳 as written: 是/√/Y when adopted; 否/×/N or blank (read as 否) when not."""
    if adopted:
        return YES_WRITTEN[number % len(YES_WRITTEN)]
    return NO_WRITTEN[number % len(NO_WRITTEN)] if number % 2 else None


def truthful_cell(item: Item, month: int, number: int) -> str | None:
    """是否属实 as written: 否 for an untrue item, blank (待核实) for late-December items."""
    if not item.truthful:
        return "否"
    if month == 12 and item.day.day >= 20:
        return None
    return YES_WRITTEN[number % len(YES_WRITTEN)]


def loop_updates(all_items: dict[int, list[Item]]) -> dict[int, list[list[Cell]]]:
    """闭环跟踪 rows by the month whose workbook carries them."""
    workbook_months = [m for m in range(1, 13) if FORMATS.get(m) != "csv"]
    rows: dict[int, list[list[Cell]]] = {m: [] for m in workbook_months}
    for source, items in all_items.items():
        loop_items = [it for it in items if it.kind == "问题" and it.truthful]
        later = [m for m in workbook_months if m > source]
        for which, item in enumerate(loop_items[:LOOP_ITEMS_PER_MONTH]):
            for step, month, result in loop_steps((source, which), later):
                day = date(YEAR, month, 6 + 4 * which + (3 if step == "整改落实" else 0))
                rows[month].append([item.item_id, day, step, result, loop_note(step, result)])
    for month_rows in rows.values():
        month_rows.sort(key=lambda r: (str(r[1]), str(r[0])))
    return rows


def loop_steps(which: tuple[int, int], later: list[int]) -> list[tuple[str, int, str | None]]:
    """(stage, month, 复查结果) of one loop item's updates."""
    steps: list[tuple[str, str | None]] = [
        ("调查核实", None),
        ("整改落实", None),
        ("督查验收", "不合格" if which == FAILED_AT_YEAR_END else "合格"),
    ]
    if which == REINSPECTED:
        steps[2] = ("督查验收", "不合格")
        steps += [("整改落实", None), ("督查验收", "合格")]
    return [(stage, month, result) for (stage, result), month in zip(steps, later, strict=False)]


def loop_note(stage: str, result: str | None) -> str:
    """说明 of a tracking row."""
    if result == "不合格":
        return "复查发现整改不到位，责令重新整改"
    return {
        "调查核实": "行政办公室会同责任部门现场核实，情况属实",
        "整改落实": "责任单位已制定措施并落实整改",
        "督查验收": "督查组现场验收，整改到位",
    }[stage]


def tracking_sheet(month: int, rows: list[list[Cell]]) -> Sheet:
    """闭环跟踪 of ``month``; dates as cells, every third as text."""
    laid = [[r[0], date_cell(r[1], n), *r[2:]] for n, r in enumerate(rows, start=1)]
    return Sheet("闭环跟踪", f"{YEAR}年{month}月问题闭环跟踪台账", HEADERS["闭环跟踪"], laid)


def attendance_sheet(month: int) -> Sheet:
    """会议考勤 of ``month``: one row per invited liaison per meeting."""
    rows: list[list[Cell]] = []
    csv_month = FORMATS.get(month) == "csv"
    for meeting in (m for m in MEETINGS if m.day.month == month):
        invited = [BY_NAME[n] for n in meeting.attendees] if meeting.attendees else list(PEOPLE)
        for person in (p for p in invited if serves_on(p, meeting.day)):
            number = len(rows) + 1
            mark = meeting.marks.get(person.name, PRESENT_WRITTEN[number % len(PRESENT_WRITTEN)])
            rows.append(
                [
                    date_cell(meeting.day, number, text_only=csv_month),
                    meeting.name,
                    meeting.kind,
                    spaced_name(person.name),
                    written_id(person.employee_id, number + 1),
                    mark,
                ]
            )
    return Sheet("会议考勤", f"{YEAR}年{month}月联络员会议考勤表", HEADERS["会议考勤"], rows)


def violations_sheet(month: int, all_items: dict[int, list[Item]]) -> Sheet:
    """违规通报 of ``month``."""
    rows: list[list[Cell]] = []
    for notice in (n for n in NOTICES if n.day.month == month):
        person = BY_NAME[notice.name]
        item_id = None
        if notice.names_untrue_item_of is not None:
            item_id = next(
                it.item_id
                for it in all_items[notice.names_untrue_item_of]
                if it.person == person and not it.truthful
            )
        rows.append(
            [
                notice.day,
                person.name,
                person.employee_id,
                notice.kind,
                notice.reason,
                notice.notice_no,
                item_id,
            ]
        )
    return Sheet("违规通报", f"{YEAR}年{month}月联络员违规通报登记表", HEADERS["违规通报"], rows)


def adjustments_sheet(month: int) -> Sheet:
    """质量加减分 of ``month``."""
    rows: list[list[Cell]] = [
        [a.day, a.name, BY_NAME[a.name].employee_id, a.written or a.points, a.reason]
        for a in ADJUSTMENTS
        if a.day.month == month
    ]
    return Sheet(
        "质量加减分", f"{YEAR}年{month}月信息质量加减分登记表", HEADERS["质量加减分"], rows
    )


def roster_sheet(title: str, people: Sequence[Liaison]) -> Sheet:
    """人员名册 listing ``people`` with their terms."""
    rows: list[list[Cell]] = [
        [
            p.employee_id,
            p.name,
            p.gender,
            p.unit,
            p.position,
            f"{p.email_name}@example.cn",
            p.appointed_on,
            p.dismissed_on,
            p.dismissal_reason,
            p.unit_head,
        ]
        for p in people
    ]
    return Sheet("人员名册", title, HEADERS["人员名册"], rows)


def instructions_sheet() -> Sheet:
    """A notes sheet the office keeps in January's workbook (not a ledger: ignored)."""
    lines: list[list[Cell]] = [
        ["1. 每名联络员每月至少报送信息一条，紧急情况随时报送。"],
        ["2. 编号可不填，系统按“年月-序号”自动编号。"],
        ["3. 出席情况填写：出席、请假、缺席。"],
    ]
    return Sheet("填表说明", "经理联络员台账填表说明", ("说明",), lines)


# =============================================================================================
# Writers: xlsx (openpyxl), xls (xlwt), ods (odfpy), csv
# =============================================================================================


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> None:
    """An xlsx with a merged, bold title row above each header row."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.name)
        ws.append([sheet.title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(sheet.headers))
        ws.cell(1, 1).font = Font(bold=True, size=14)
        ws.cell(1, 1).alignment = Alignment(horizontal="center")
        ws.append(list(sheet.headers))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append([float(v) if isinstance(v, Decimal) else v for v in row])
        for row in ws.iter_rows(min_row=3):
            for cell in row:
                if isinstance(cell.value, datetime | date):
                    cell.number_format = "yyyy-mm-dd"
        for letter, width in zip("ABCDEFGHIJKLMNO", _widths(sheet), strict=False):
            ws.column_dimensions[letter].width = width
        ws.freeze_panes = "A3"
    workbook.properties.creator = "行政办公室"
    workbook.properties.lastModifiedBy = "行政办公室"
    workbook.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(reproducible_zip(buffer.getvalue()))


def _widths(sheet: Sheet) -> list[float]:
    widths = []
    for column, header in enumerate(sheet.headers):
        longest = max([len(header), *(len(str(r[column] or "")) for r in sheet.rows)])
        widths.append(min(4 + 1.8 * longest, 60))
    return widths


def reproducible_zip(data: bytes) -> bytes:
    """The same zip with fixed timestamps and a fixed dcterms:modified (byte-for-byte stable)."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    content,
                )
            fixed = zipfile.ZipInfo(info.filename, FIXED_TIME.timetuple()[:6])
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            target.writestr(fixed, content)
    return out.getvalue()


def write_xls(path: Path, sheets: Sequence[Sheet]) -> None:
    """An Excel 97-2003 workbook, as older office machines still save."""
    workbook = xlwt.Workbook(encoding="utf-8")
    title_style = xlwt.easyxf("font: bold on, height 280; align: horiz center")
    header_style = xlwt.easyxf("font: bold on")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for sheet in sheets:
        ws = workbook.add_sheet(sheet.name)
        ws.write_merge(0, 0, 0, len(sheet.headers) - 1, sheet.title, title_style)
        for column, header in enumerate(sheet.headers):
            ws.write(1, column, header, header_style)
        for r, row in enumerate(sheet.rows, start=2):
            for column, value in enumerate(row):
                if isinstance(value, date):
                    ws.write(r, column, value, date_style)
                elif isinstance(value, Decimal):
                    ws.write(r, column, float(value))
                elif value is not None:
                    ws.write(r, column, value)
    workbook.save(str(path))


def write_ods(path: Path, sheets: Sequence[Sheet]) -> None:
    """An OpenDocument spreadsheet, as LibreOffice saves by default."""
    document = OpenDocumentSpreadsheet()
    document.meta.addElement(InitialCreator(text="行政办公室"))
    date_format = DateStyle(name="N1")
    for part in (Year(style="long"), Text(text="-"), Month(style="long"), Text(text="-")):
        date_format.addElement(part)
    date_format.addElement(Day(style="long"))
    document.automaticstyles.addElement(date_format)
    date_style = Style(name="ce1", family="table-cell", datastylename="N1")
    document.automaticstyles.addElement(date_style)
    for sheet in sheets:
        table = Table(name=sheet.name)
        title = TableRow()
        title.addElement(_ods_cell(sheet.title, spanned=len(sheet.headers)))
        for _ in range(len(sheet.headers) - 1):
            title.addElement(CoveredTableCell())
        table.addElement(title)
        for row in [list(sheet.headers), *sheet.rows]:
            table_row = TableRow()
            for value in row:
                table_row.addElement(_ods_cell(value, date_style=date_style))
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    path.write_bytes(reproducible_zip(buffer.getvalue()))


def _ods_cell(value: Cell, spanned: int = 1, date_style: Style | None = None) -> TableCell:
    extra = {"numbercolumnsspanned": spanned} if spanned > 1 else {}
    if value is None:
        return TableCell()
    if isinstance(value, date):
        cell = TableCell(
            valuetype="date", datevalue=value.isoformat(), stylename=date_style, **extra
        )
    elif isinstance(value, Decimal | int):
        cell = TableCell(valuetype="float", value=str(value), **extra)
    else:
        cell = TableCell(valuetype="string", **extra)
    cell.addElement(P(text=value.isoformat() if isinstance(value, date) else str(value)))
    return cell


def write_csv(path: Path, sheet: Sheet, encoding: str) -> None:
    """One sheet as CSV (title row, header, rows); GBK as Chinese Excel writes, or UTF-8-BOM."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([sheet.title])
    writer.writerow(sheet.headers)
    for row in sheet.rows:
        writer.writerow(["" if v is None else str(v) for v in row])
    path.write_bytes(buffer.getvalue().encode(encoding))


# =============================================================================================
# The files
# =============================================================================================


def monthly_sheets(
    month: int, all_items: dict[int, list[Item]], tracking: dict[int, list[list[Cell]]]
) -> list[Sheet]:
    """The sheets of ``month``'s workbook."""
    sheets = [
        submissions_sheet(month, all_items[month]),
        attendance_sheet(month),
        violations_sheet(month, all_items),
        adjustments_sheet(month),
    ]
    if month > 1:
        sheets.append(tracking_sheet(month, tracking[month]))
    if month == 1:
        sheets.append(instructions_sheet())
    return sheets


def month_file_stem(month: int) -> str:
    """The file name (without suffix) the office gives ``month``'s workbook."""
    return FILE_NAMES.get(month, f"{YEAR}-{month:02d} 经理联络员台账")


def write_samples(outdir: Path) -> list[Path]:
    """Write the whole sample year into ``outdir``; returns the files written."""
    outdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    term = [  # as written in January: no one dismissed yet
        replace(p, dismissed_on=None, dismissal_reason=None)
        for p in PEOPLE
        if p.appointed_on == TERM_START
    ]
    roster = outdir / f"{YEAR} 人员名册.xlsx"
    write_xlsx(roster, [roster_sheet(f"{YEAR}年度经理联络员名册", term)])
    written.append(roster)
    july_roster = outdir / f"{YEAR}-07 人员名册.xlsx"
    write_xlsx(july_roster, [roster_sheet(f"{YEAR}年经理联络员名册（7月调整）", PEOPLE)])
    written.append(july_roster)
    all_items = {month: month_items(month) for month in range(1, 13)}
    tracking = loop_updates(all_items)
    for month in range(1, 13):
        written += write_month(outdir, month, all_items, tracking)
    readme = outdir / "README.md"
    readme.write_text(readme_text(written), encoding="utf-8")
    return [*written, readme]


def readme_text(files: Sequence[Path]) -> str:
    """``README.md`` of the sample folder: what each file is and the per-person plan."""
    months = "".join(f" {m}月 |" for m in range(1, 13))
    lines = [
        f"# 样例台账：{YEAR} 年度经理联络员考核（sample ledgers, assessment year {YEAR}）",
        "",
        "Written by `scripts/make_samples.py` (`make samples`); edit the plan there, not these",
        "files. `ledger-batch demo` ingests them into a fresh workspace. The expected payout of",
        "every liaison is worked out by hand in `tests/test_sample_year.py`.",
        "",
        "## Files",
        "",
        *(f"- `{f.name}`" for f in files),
        "",
        "## Items per month (counted items; 0 in a month served = no report, −5)",
        "",
        "杨帆 is dismissed on 2025-07-10 and 宋佳 appointed the same day",
        "(`2025-07 人员名册.xlsx`): the zeros outside their terms are not assessable.",
        "Meetings, notices, adjustments and the closed-loop schedule are the tables at the",
        "top of the script.",
        "",
        f"| 姓名 | 工号 | 单位 | 岗位 |{months} B |",
        "|---|---|---|---|" + "---:|" * 13,
    ]
    for person in PEOPLE:
        counts = ITEMS[person.name]
        cells = "".join(f" {c} |" for c in counts)
        lines.append(
            f"| {person.name} | {person.employee_id} | {person.unit} | {person.position} |"
            f"{cells} {sum(counts)} |"
        )
    return "\n".join(lines) + "\n"


def write_month(
    outdir: Path,
    month: int,
    all_items: dict[int, list[Item]],
    tracking: dict[int, list[list[Cell]]],
) -> list[Path]:
    """Write ``month`` in its format; returns the files written."""
    file_format = FORMATS.get(month, "xlsx")
    if file_format == "csv":
        stem = f"{YEAR}-{month:02d}"
        submissions = outdir / f"{stem} 信息报送.csv"
        attendance = outdir / f"{stem} 会议考勤.csv"
        write_csv(submissions, submissions_sheet(month, all_items[month]), "gbk")
        write_csv(attendance, attendance_sheet(month), "utf-8-sig")
        return [submissions, attendance]
    path = outdir / f"{month_file_stem(month)}.{file_format}"
    writer = {"xlsx": write_xlsx, "xls": write_xls, "ods": write_ods}[file_format]
    spellings = HEADER_SPELLINGS.get(month, {})
    sheets = [
        replace(sheet, headers=tuple(spellings.get(h, h) for h in sheet.headers))
        for sheet in monthly_sheets(month, all_items, tracking)
    ]
    writer(path, sheets)
    return [path]


def main(argv: list[str]) -> int:
    """Command-line entry: ``make_samples.py OUTDIR``."""
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    for path in write_samples(Path(argv[1])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
