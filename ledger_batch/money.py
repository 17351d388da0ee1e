"""Score rounding, allowance tiers, money, and amounts in Chinese capital numerals.

Scores round half up (得分遇小数点后位数四舍五入); Python's ``round()`` rounds halves
to even and is never used. Money is ``Decimal`` with two places.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from ledger_batch.config import Tier

CENT = Decimal("0.01")
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def round_half_up(value: Decimal | int | str) -> int:
    """Round to an integer, halves away from zero: 72.5 → 73, 80.49 → 80, −2.5 → −3."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_money(value: Decimal | int | str) -> Decimal:
    """``value`` as yuan with two decimal places, rounded half up."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def tier_for(final_score: int, tiers: Iterable[Tier]) -> Tier:
    """The tier whose integer range holds ``final_score``."""
    for tier in tiers:
        above_min = tier.min_score is None or final_score >= tier.min_score
        below_max = tier.max_score is None or final_score <= tier.max_score
        if above_min and below_max:
            return tier
    raise ValueError(f"no tier covers {final_score}")


def allowance_amount(base: Decimal, coefficient: Decimal, share: Decimal = Decimal(1)) -> Decimal:
    """Base × coefficient × share (the pro-rating share, 1 when not pro-rated), in yuan."""
    return to_money(base * coefficient * share)


def _four_digits(group: int) -> str:
    text, zero_pending = "", False
    for position in (3, 2, 1, 0):
        digit = group // 10**position % 10
        if digit == 0:
            zero_pending = bool(text)
            continue
        if zero_pending:
            text += "零"
            zero_pending = False
        text += _DIGITS[digit] + _SMALL_UNITS[position]
    return text


def _integer_capitals(number: int) -> str:
    if number == 0:
        return "零"
    groups = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    text, zero_pending = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_pending = bool(text)
            continue
        if text and (group < 1000 or zero_pending):
            text += "零"
        text += _four_digits(group) + _GROUP_UNITS[index]
        zero_pending = False
    return text


def amount_in_capitals(amount: Decimal) -> str:
    """Yuan in Chinese capital numerals as finance offices write them: 900.00 → 玖佰元整."""
    cents = int(to_money(amount) * 100)
    sign = "负" if cents < 0 else ""
    cents = abs(cents)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    head = "" if yuan == 0 and (jiao or fen) else _integer_capitals(yuan) + "元"
    if not jiao and not fen:
        return f"{sign}{head}整"
    if not fen:
        return f"{sign}{head}{_DIGITS[jiao]}角整"
    middle = f"{_DIGITS[jiao]}角" if jiao else ("零" if yuan else "")
    return f"{sign}{head}{middle}{_DIGITS[fen]}分"
