"""The field registry: every ledger sheet and its canonical fields, defined once.

Header aliases, cell validation, the SQLite schema, the docs and blank ledger
templates all read these definitions (SPEC §3). Canonical names are English
snake_case; ``header_zh`` is what the office writes in the header row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

FieldKind = Literal["id", "name", "text", "date", "number", "choice"]

YES, NO = "是", "否"
YES_NO_SYNONYMS: Mapping[str, str] = {
    "是": YES,
    "y": YES,
    "yes": YES,
    "√": YES,
    "✓": YES,
    "✔": YES,
    "1": YES,
    "true": YES,
    "对": YES,
    "否": NO,
    "n": NO,
    "no": NO,
    "×": NO,
    "✗": NO,
    "✘": NO,
    "x": NO,
    "0": NO,
    "false": NO,
    "不": NO,
}

STAGES = ("反映问题", "调查核实", "整改落实", "督查验收")
"""The four closed-loop stages (闭环), in order (SPEC §1)."""

CATEGORIES = (
    "安全生产",
    "经营管理",
    "项目建设",
    "产品销售",
    "信访维稳",
    "班子建设",
    "人力资源",
    "职工队伍",
    "福利待遇",
    "后勤保障",
    "政务公开",
    "廉政建设",
    "矿区和谐稳定",
    "其他",
)
"""Information categories a liaison reports on (SPEC §1, duties)."""


@dataclass(frozen=True)
class Field:
    """One canonical column of a ledger sheet."""

    name: str
    header_zh: str
    kind: FieldKind
    description: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    synonyms: Mapping[str, str] = field(default_factory=dict)

    @property
    def header_keys(self) -> set[str]:
        """Simplified header spellings that map to this field."""
        spellings = (self.header_zh, self.name, *self.aliases)
        return {simplify_header(s) for s in spellings}

    def canonical_choice(self, value: str) -> str | None:
        """The canonical allowed value for ``value``, or None when not allowed."""
        if value in self.choices:
            return value
        return self.synonyms.get(value.lower())


@dataclass(frozen=True)
class Ledger:
    """One sheet kind of the monthly workbook (or the roster)."""

    name: str
    sheet_zh: str
    sheet_aliases: tuple[str, ...]
    description: str
    fields: tuple[Field, ...]
    has_person: bool = True

    @property
    def sheet_keys(self) -> set[str]:
        """Simplified sheet-name spellings that mean this ledger."""
        return {simplify_header(s) for s in (self.sheet_zh, self.name, *self.sheet_aliases)}

    def field(self, name: str) -> Field:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        """Canonical names of the fields, in sheet order."""
        return [f.name for f in self.fields]


_SPACES = re.compile(r"[\s\u3000\u00a0\u200b\u200c\u200d\u2060\ufeff_\-]+")


def simplify_header(text: str) -> str:
    """NFKC, lower case, no spaces of any kind, no ``_``/``-``: how headers are compared."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).lower()


def _person_fields() -> tuple[Field, ...]:
    return (
        Field("name", "姓名", "name", "The liaison's name as on the roster.", required=True),
        Field("employee_id", "工号", "id", "Employee number; identifies the person (recommended)."),
    )


_STAGE_SYNONYMS = {"反映": "反映问题", "核实": "调查核实", "整改": "整改落实", "验收": "督查验收"}
_INSPECTION_RESULTS = ("合格", "不合格")
_INSPECTION_SYNONYMS = {"通过": "合格", "不通过": "不合格"}

SUBMISSIONS = Ledger(
    "submissions",
    "信息报送",
    ("信息报送台账", "报送信息"),
    "One row per item a liaison reported this month.",
    (
        Field(
            "item_id",
            "编号",
            "id",
            "Item number; blank → assigned YYYYMM-NNN in row order.",
            aliases=("序号编号",),
        ),
        Field(
            "date",
            "报送日期",
            "date",
            "Date the item was reported.",
            required=True,
            aliases=("日期",),
        ),
        *_person_fields(),
        Field("unit", "单位", "text", "The liaison's unit.", aliases=("部门",)),
        Field(
            "category",
            "信息类别",
            "choice",
            "Duty area the item concerns.",
            required=True,
            aliases=("类别",),
            choices=CATEGORIES,
        ),
        Field(
            "kind",
            "信息类型",
            "choice",
            "问题 (problem), 建议 (suggestion) or 情况 (report).",
            required=True,
            aliases=("类型",),
            choices=("问题", "建议", "情况"),
        ),
        Field(
            "content", "信息内容", "text", "What was reported.", required=True, aliases=("内容",)
        ),
        Field(
            "channel",
            "报送方式",
            "choice",
            "Through the office or directly to the manager.",
            choices=("办公室", "直报经理"),
            synonyms={"直报": "直报经理", "经理": "直报经理"},
        ),
        Field(
            "truthful",
            "是否属实",
            "choice",
            "是/否/待核实; 否 = found untrue (−10, not counted). Blank = 待核实.",
            choices=(YES, NO, "待核实"),
            synonyms={**YES_NO_SYNONYMS, "待定": "待核实"},
        ),
        Field(
            "adopted",
            "是否采纳",
            "choice",
            "Adopted (采纳) by the manager. Blank = 否.",
            choices=(YES, NO),
            synonyms=YES_NO_SYNONYMS,
        ),
        Field(
            "stage",
            "办理状态",
            "choice",
            "Closed-loop stage; blank for a 问题 = 反映问题.",
            choices=STAGES,
            synonyms=_STAGE_SYNONYMS,
        ),
        Field(
            "inspection",
            "复查结果",
            "choice",
            "Inspection result at 督查验收.",
            choices=_INSPECTION_RESULTS,
            synonyms=_INSPECTION_SYNONYMS,
        ),
        Field(
            "feedback",
            "反馈情况",
            "choice",
            "Whether the outcome was fed back.",
            choices=("已反馈", "未反馈"),
            synonyms={"是": "已反馈", "否": "未反馈"},
        ),
        Field("notes", "备注", "text", "Free notes."),
    ),
)

TRACKING = Ledger(
    "tracking",
    "闭环跟踪",
    ("跟踪", "闭环"),
    "Later closed-loop updates to items reported in earlier months.",
    (
        Field("item_id", "编号", "id", "The item's number.", required=True),
        Field("date", "日期", "date", "Date of the update.", required=True),
        Field(
            "stage",
            "办理状态",
            "choice",
            "Stage reached.",
            required=True,
            choices=STAGES,
            synonyms=_STAGE_SYNONYMS,
        ),
        Field(
            "inspection",
            "复查结果",
            "choice",
            "Inspection result at 督查验收.",
            choices=_INSPECTION_RESULTS,
            synonyms=_INSPECTION_SYNONYMS,
        ),
        Field("note", "说明", "text", "What was done."),
    ),
    has_person=False,
)

ATTENDANCE = Ledger(
    "attendance",
    "会议考勤",
    ("考勤", "会议签到"),
    "One row per liaison per meeting; only 缺席 (unexcused) costs points.",
    (
        Field(
            "meeting_date",
            "会议日期",
            "date",
            "Date of the meeting.",
            required=True,
            aliases=("日期",),
        ),
        Field("meeting_name", "会议名称", "text", "Name of the meeting."),
        Field(
            "meeting_type",
            "会议类型",
            "choice",
            "季度例会, 临时会议 or 座谈会.",
            choices=("季度例会", "临时会议", "座谈会"),
            synonyms={"例会": "季度例会", "联络员会议": "季度例会", "临时": "临时会议"},
        ),
        *_person_fields(),
        Field(
            "presence",
            "出席情况",
            "choice",
            "出席, 请假 (excused) or 缺席 (unexcused).",
            required=True,
            choices=("出席", "请假", "缺席"),
            synonyms={
                "到": "出席",
                "√": "出席",
                "✓": "出席",
                "出勤": "出席",
                "假": "请假",
                "缺": "缺席",
                "×": "缺席",
                "✗": "缺席",
                "旷会": "缺席",
                "无故缺席": "缺席",
            },
        ),
    ),
)

VIOLATIONS = Ledger(
    "violations",
    "违规通报",
    ("通报",),
    "Notices: 违反规章 (−3) or 信息不实 (−10; not counted twice with an untrue item).",
    (
        Field("date", "日期", "date", "Date of the notice.", required=True),
        *_person_fields(),
        Field(
            "violation_type",
            "类型",
            "choice",
            "违反规章 or 信息不实.",
            required=True,
            choices=("违反规章", "信息不实"),
            synonyms={
                "违规": "违反规章",
                "违反规章制度": "违反规章",
                "不实": "信息不实",
                "弄虚作假": "信息不实",
                "信息不真实": "信息不实",
            },
        ),
        Field("reason", "事由", "text", "What happened.", required=True),
        Field("notice_no", "通报文号", "text", "Reference of the notice."),
        Field("item_id", "编号", "id", "The submitted item the notice concerns, if any."),
    ),
)

ADJUSTMENTS = Ledger(
    "adjustments",
    "质量加减分",
    ("加减分", "质量评分"),
    "Quality adjustments by the office: signed points with a reason.",
    (
        Field("date", "日期", "date", "Date of the adjustment.", required=True),
        *_person_fields(),
        Field(
            "points",
            "分值",
            "number",
            "Signed points; decimals allowed.",
            required=True,
            aliases=("加减分", "分数"),
        ),
        Field("reason", "理由", "text", "Why (required).", required=True, aliases=("事由",)),
    ),
)

ROSTER = Ledger(
    "roster",
    "人员名册",
    ("名册", "联络员名册", "花名册"),
    "The liaisons of the term; the newest roster wins from its month on.",
    (
        Field("employee_id", "工号", "id", "Employee number.", required=True),
        Field("name", "姓名", "name", "Name.", required=True),
        Field(
            "gender",
            "性别",
            "choice",
            "男 or 女.",
            choices=("男", "女"),
            synonyms={"m": "男", "f": "女", "male": "男", "female": "女"},
        ),
        Field("unit", "单位", "text", "Unit (综采队, 机关, …).", required=True),
        Field(
            "position",
            "岗位",
            "choice",
            "班组长 (team leader) or 职工 (worker).",
            choices=("班组长", "职工"),
            synonyms={"普通职工": "职工", "工人": "职工"},
        ),
        Field("email", "邮箱", "text", "Email address for the personal statement."),
        Field("appointed_on", "聘任日期", "date", "First day as a liaison.", required=True),
        Field("dismissed_on", "解聘日期", "date", "First day no longer a liaison."),
        Field(
            "dismissal_reason",
            "解聘原因",
            "text",
            "Why; a reason that is not an ordinary departure counts as 解聘 (SPEC §2).",
        ),
        Field("unit_head", "单位负责人", "text", "Head of the unit (fined on a dismissal)."),
    ),
    has_person=False,
)

LEDGERS: tuple[Ledger, ...] = (SUBMISSIONS, TRACKING, ATTENDANCE, VIOLATIONS, ADJUSTMENTS, ROSTER)
MONTH_LEDGERS: tuple[Ledger, ...] = LEDGERS[:5]


def ledger_for_sheet(sheet_name: str) -> Ledger | None:
    """The ledger a sheet (or CSV file-name) name refers to, or None."""
    key = simplify_header(sheet_name)
    for ledger in LEDGERS:
        if key in ledger.sheet_keys:
            return ledger
    for ledger in LEDGERS:
        if simplify_header(ledger.sheet_zh) in key:
            return ledger
    return None


def ledger_named(name: str) -> Ledger:
    """The ledger whose canonical name is ``name``."""
    for ledger in LEDGERS:
        if ledger.name == name:
            return ledger
    raise KeyError(name)


def fields_markdown() -> str:
    """The ledger format as a Markdown reference (docs/fields.md is generated from this)."""
    lines = [
        "# Ledger fields",
        "",
        "Generated from `ledger_batch/fields.py` by `make docs`; do not edit by hand.",
        "Headers are matched after NFKC, ignoring case, spaces of every kind, `_` and `-`;",
        "the canonical English name and the aliases are accepted as well as the Chinese header.",
    ]
    for ledger in LEDGERS:
        aliases = "、".join(ledger.sheet_aliases)
        lines += [
            "",
            f"## {ledger.sheet_zh} (`{ledger.name}`)",
            "",
            ledger.description,
            "",
            f"Sheet names also accepted: {aliases}.",
            "",
            "| header | field | type | required | allowed values | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for spec in ledger.fields:
            allowed = "、".join(spec.choices)
            if spec.synonyms:
                allowed += (
                    " (also "
                    + ", ".join(f"{k}→{v}" for k, v in sorted(spec.synonyms.items()) if k != v)
                    + ")"
                )
            header = spec.header_zh + "".join(f" / {a}" for a in spec.aliases)
            lines.append(
                f"| {header} | `{spec.name}` | {spec.kind} | "
                f"{'yes' if spec.required else ''} | {allowed} | {spec.description} |"
            )
    return "\n".join(lines) + "\n"
