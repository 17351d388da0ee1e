"""The scheme's rules as typed, frozen data, read from the workspace's ``ledger-batch.toml``.

Every number of SPEC §2 is a default here, with a description saying where it comes
from. The workspace file overrides any of them; unknown keys, tiers with gaps or
overlaps and negative amounts are refused with the key named.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    field_validator,
)

from ledger_batch.addresses import PROBLEMS, address_problem, text_problem
from ledger_batch.errors import ConfigError
from ledger_batch.limits import DEFAULT_GUARD_LIMITS

NonNegativeDecimal = Annotated[Decimal, Field(ge=0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Tier(_Frozen):
    """One allowance tier: integer final scores from ``min_score`` to ``max_score``."""

    min_score: int | None = Field(None, description="Lowest final score (blank: no lower bound).")
    max_score: int | None = Field(None, description="Highest final score (blank: no upper bound).")
    coefficient: NonNegativeDecimal = Field(description="Allowance coefficient for this tier.")


DEFAULT_TIERS = (
    Tier(min_score=None, max_score=59, coefficient=Decimal("0")),
    Tier(min_score=60, max_score=70, coefficient=Decimal("0.7")),
    Tier(min_score=71, max_score=80, coefficient=Decimal("0.8")),
    Tier(min_score=81, max_score=90, coefficient=Decimal("0.9")),
    Tier(min_score=91, max_score=None, coefficient=Decimal("1.0")),
)
"""SPEC §2 allowance table: <60 → 0, 60–70 → 0.7, 71–80 → 0.8, 81–90 → 0.9, >90 → 1.0."""


class Rules(_Frozen):
    """The scoring and payout rules of SPEC §2."""

    year_start_month: int = Field(
        1,
        ge=1,
        le=12,
        description="First month of the assessment year (SPEC §1: the scheme started in April; "
        "default January).",
    )
    points_per_item: NonNegativeDecimal = Field(
        Decimal(5), description="Base score per counted item (SPEC §2: 5 per item)."
    )
    base_cap: NonNegativeDecimal = Field(
        Decimal(100),
        description="Cap on the base score, applied before deductions "
        "(SPEC §2: 20 items is the standard, capped at 100).",
    )
    absence_points: NonNegativeDecimal = Field(
        Decimal(2), description="Deduction per unexcused meeting absence, 缺席 (SPEC §2: −2)."
    )
    missing_month_points: NonNegativeDecimal = Field(
        Decimal(5), description="Deduction per assessable month with no counted item (SPEC §2: −5)."
    )
    untrue_item_points: NonNegativeDecimal = Field(
        Decimal(10),
        description="Deduction per item found untrue, or per 信息不实 notice "
        "without an item number (SPEC §2: −10).",
    )
    violation_points: NonNegativeDecimal = Field(
        Decimal(3), description="Deduction per 违反规章 notice (SPEC §2: −3)."
    )
    allowance_base: NonNegativeDecimal = Field(
        Decimal(1000),
        description="Allowance base in yuan, multiplied by the tier coefficient (SPEC §2: 1000).",
    )
    tiers: tuple[Tier, ...] = Field(
        DEFAULT_TIERS, description="Allowance tiers by rounded final score (SPEC §2)."
    )
    below_pass_unit_points: NonNegativeDecimal = Field(
        Decimal(1),
        description="Points deducted from the unit's assessment when its liaison "
        "scores in the zero tier (SPEC §2: amount not given; default 1).",
    )
    dismissal_unit_points: NonNegativeDecimal = Field(
        Decimal(1),
        description="Points deducted from the unit's assessment in the month of a "
        "dismissal (SPEC §2: −1).",
    )
    dismissal_head_fine: NonNegativeDecimal = Field(
        Decimal(200), description="Fine in yuan for the unit head on a dismissal (SPEC §2: 200)."
    )
    prorate_allowance: bool = Field(
        False, description="Pro-rate the allowance by months in service (SPEC §2: off by default)."
    )
    ordinary_departure_reasons: tuple[str, ...] = Field(
        ("工作调动", "调离", "退休", "辞职", "离职", "病休", "换届", "岗位变动"),
        description="A 解聘原因 containing one of these is an ordinary departure, not a "
        "dismissal (解聘) with penalties (SPEC §2).",
    )

    @field_validator("tiers")
    @classmethod
    def _tiers_cover_all_scores(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        if not tiers or tiers[0].min_score is not None or tiers[-1].max_score is not None:
            raise ValueError("tiers: the first tier needs no min_score and the last no max_score")
        for lower, upper in pairwise(tiers):
            if lower.max_score is None or upper.min_score != lower.max_score + 1:
                raise ValueError(
                    f"tiers: gap or overlap between {lower.max_score} and {upper.min_score}"
                )
            if upper.max_score is not None and upper.max_score < upper.min_score:
                raise ValueError(
                    f"tiers: max_score {upper.max_score} < min_score {upper.min_score}"
                )
        return tiers


class Seat(_Frozen):
    """A unit's liaison seats (SPEC §1)."""

    unit: str
    seats: NonNegativeInt
    leader_and_worker: bool = Field(False, description="The pair is one 班组长 and one 职工.")
    female_required: bool = Field(False, description="One of the unit's liaisons is a woman.")


def _seat(unit: str, seats: int, female: bool = False) -> Seat:
    return Seat(unit=unit, seats=seats, leader_and_worker=seats == 2, female_required=female)


DEFAULT_SEATS = (
    _seat("综采队", 2),
    _seat("综掘队", 2),
    _seat("开拓队", 2),
    _seat("机电队", 2, female=True),
    _seat("选运队", 2, female=True),
    _seat("运输队", 2),
    _seat("通灭队", 2),
    _seat("服务队", 1),
    _seat("产品管理科", 1),
    _seat("机关", 1),
)
"""SPEC §1 seat rules: 7 two-seat units, 3 one-seat units (17 in all)."""


class Limits(_Frozen):
    """Guards applied before a file is handed to a spreadsheet reader (SPEC §4)."""

    max_file_bytes: NonNegativeInt = Field(
        DEFAULT_GUARD_LIMITS.max_file_bytes, description="Largest file accepted."
    )
    max_unpacked_bytes: NonNegativeInt = Field(
        DEFAULT_GUARD_LIMITS.max_unpacked_bytes,
        description="Largest total unpacked size of an xlsx/ods.",
    )
    max_compression_ratio: NonNegativeInt = Field(
        DEFAULT_GUARD_LIMITS.max_compression_ratio,
        description="Largest unpacked ÷ packed ratio of one zip member.",
    )
    max_rows_per_sheet: NonNegativeInt = Field(
        DEFAULT_GUARD_LIMITS.max_rows_per_sheet, description="Most data rows per sheet."
    )
    max_columns_per_sheet: NonNegativeInt = Field(
        DEFAULT_GUARD_LIMITS.max_columns_per_sheet, description="Widest sheet accepted."
    )
    max_cells_per_sheet: NonNegativeInt = Field(
        DEFAULT_GUARD_LIMITS.max_cells_per_sheet,
        description="Most cells from A1 to a sheet's last used cell (a reader allocates them all).",
    )
    lock_wait_seconds: Annotated[float, Field(ge=0)] = Field(
        60.0,
        description="How long a run waits for another run to finish with the workspace "
        "before it gives up.",
    )
    workers: NonNegativeInt = Field(
        0,
        description="Processes reading the files of a drop while the run validates and "
        "stores them one at a time (0: one per CPU core, at most 4; 1: the run reads every "
        "file itself, one after another).",
    )
    read_early: bool = Field(
        True,
        description="Read the first workbooks of a drop while ingest is still starting "
        "(where the system can fork and has more than one core).",
    )
    settle_seconds: Annotated[float, Field(ge=0)] = Field(
        2.0,
        description="A file changed less than this many seconds ago is checked for "
        "still being copied.",
    )


def _checked_address(address: str) -> str:
    problem = address_problem(address)
    if address and problem:
        raise ValueError(f"{address!r}: {PROBLEMS[problem][1]}")
    return address


def _checked_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(f"{value!r}: {PROBLEMS[problem][1]}")
    return value


SafeAddress = Annotated[str, AfterValidator(_checked_address)]
SafeText = Annotated[str, AfterValidator(_checked_text)]
Audience = Literal["manager", "office"]
Attachable = Literal["month", "quarter", "payout", "statement"]


class Recipient(_Frozen):
    """A person or mailbox: a display name (may be Chinese) and a plain address."""

    name: SafeText = Field("", description="Display name, e.g. 王经理.")
    address: SafeAddress = Field(min_length=1, description="Address, e.g. manager@example.com.")


class EmailSettings(_Frozen):
    """Who gets which message, and the SMTP server that delivers them (SPEC §5 Email).

    The SMTP password is never part of the configuration: it is read from the environment
    variable named by ``password_env`` when ``send`` runs.
    """

    sender_name: SafeText = Field(
        "行政办公室", description="Display name on the From line (SPEC §1: the office)."
    )
    sender_address: SafeAddress = Field(
        "",
        description="From address, e.g. office@example.com; required before messages can be "
        "queued (blank: none set yet).",
    )
    manager: tuple[Recipient, ...] = Field(
        (),
        description='The manager\'s addresses, e.g. [{ name = "王经理", address = '
        '"manager@example.com" }] (SPEC §5: summaries to the manager).',
    )
    office: tuple[Recipient, ...] = Field(
        (),
        description='The office\'s addresses, e.g. [{ name = "行政办公室", address = '
        '"office@example.com" }] (SPEC §5: summaries to the office).',
    )
    month_to: tuple[Audience, ...] = Field(
        ("manager", "office"),
        description='Who gets the monthly assessment (月考核): "manager", "office" or both.',
    )
    quarter_to: tuple[Audience, ...] = Field(
        ("manager", "office"), description="Who gets the quarterly evaluation (季评价)."
    )
    payout_to: tuple[Audience, ...] = Field(
        ("manager", "office"), description="Who gets the year-end payout (年兑现)."
    )
    statements: bool = Field(
        True,
        description="statements --email sends each liaison their own statement at the "
        "roster's 邮箱 (SPEC §5).",
    )
    reminders: bool = Field(
        True,
        description="month --email reminds in-service liaisons with no counted item that "
        "month (SPEC §1: at least one report a month).",
    )
    attach_workbook: tuple[Attachable, ...] = Field(
        ("month", "quarter", "payout", "statement"),
        description="Reports whose messages carry the xlsx workbook as an attachment.",
    )
    smtp_host: str = Field(
        "", description="SMTP server (blank: messages stay in outbox/ and nothing is sent)."
    )
    smtp_port: int = Field(
        587, ge=1, le=65535, description="SMTP port: 587 for STARTTLS, 465 for implicit TLS."
    )
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls",
        description='"starttls" (required, certificate verified), "tls" (implicit TLS) or '
        '"none" (an internal relay without login; nothing is ever sent in clear otherwise).',
    )
    ca_file: str = Field(
        "",
        description="A CA certificate file (PEM) to trust besides the system's, for a company "
        "CA (blank: the system's only).",
    )
    smtp_user: str = Field("", description="Login name (blank: no login).")
    password_env: str = Field(
        "LEDGER_BATCH_SMTP_PASSWORD",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding the SMTP password (never written in a file).",
    )
    timeout_seconds: Annotated[float, Field(gt=0)] = Field(
        30.0, description="How long to wait for the server at each step."
    )
    rate_per_minute: NonNegativeInt = Field(
        0, description="At most this many messages a minute (0: no limit)."
    )
    max_attempts: Annotated[int, Field(ge=1)] = Field(
        5,
        description="Attempts per message for temporary failures (4xx, disconnects, timeouts) "
        "before it is marked failed.",
    )
    retry_base_seconds: Annotated[float, Field(ge=0)] = Field(
        5.0, description="Wait before the first retry; doubled for each further one."
    )
    retry_max_seconds: Annotated[float, Field(ge=0)] = Field(
        60.0, description="Longest wait between two attempts (the backoff's cap)."
    )


SAMPLE_EMAIL = EmailSettings(
    sender_address="office@example.cn",
    manager=(Recipient(name="经理", address="manager@example.cn"),),
    office=(Recipient(name="行政办公室", address="office@example.cn"),),
)
"""The demo workspace's addresses (``ledger-batch demo``), in the sample roster's domain.
No SMTP server is set there, so its messages stay in outbox/."""


class Settings(_Frozen):
    """Everything a workspace's ``ledger-batch.toml`` can set."""

    company: str = Field("煤矿公司", description="Company name shown on reports.")
    rules: Rules = Rules()
    seats: tuple[Seat, ...] = DEFAULT_SEATS
    limits: Limits = Limits()
    email: EmailSettings = EmailSettings()


def load_settings(path: Path) -> Settings:
    """Read ``path`` over the defaults; a missing file means all defaults."""
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("config_unreadable", path=str(path), detail=str(exc)) from exc
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError("config_invalid", path=str(path), key=key, detail=first["msg"]) from exc
