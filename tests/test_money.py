"""Half-up rounding, allowance tiers and amounts in capitals (SPEC §2)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_batch.config import Rules
from ledger_batch.money import allowance_amount, amount_in_capitals, round_half_up, tier_for

TIERS = Rules().tiers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("72.5", 73),
        ("80.49", 80),
        ("80.5", 81),
        ("0.5", 1),
        ("1.5", 2),
        ("2.5", 3),
        ("-2.5", -3),
        ("59.5", 60),
        ("90.49", 90),
        ("-0.4", 0),
    ],
)
def test_scores_round_half_up_not_to_even(raw: str, expected: int) -> None:
    assert round_half_up(Decimal(raw)) == expected


@pytest.mark.parametrize(
    ("score", "coefficient"),
    [
        (-5, "0"),
        (0, "0"),
        (59, "0"),
        (60, "0.7"),
        (70, "0.7"),
        (71, "0.8"),
        (80, "0.8"),
        (81, "0.9"),
        (90, "0.9"),
        (91, "1.0"),
        (100, "1.0"),
        (130, "1.0"),
    ],
)
def test_tier_boundaries(score: int, coefficient: str) -> None:
    assert tier_for(score, TIERS).coefficient == Decimal(coefficient)


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("900.00", "玖佰元整"),
        ("700", "柒佰元整"),
        ("1000", "壹仟元整"),
        ("0", "零元整"),
        ("1050.50", "壹仟零伍拾元伍角整"),
        ("1005.05", "壹仟零伍元零伍分"),
        ("17400", "壹万柒仟肆佰元整"),
        ("100005", "壹拾万零伍元整"),
        ("0.35", "叁角伍分"),
        ("10", "壹拾元整"),
        ("200000", "贰拾万元整"),
        ("525.00", "伍佰贰拾伍元整"),
    ],
)
def test_amount_in_chinese_capitals(amount: str, capitals: str) -> None:
    assert amount_in_capitals(Decimal(amount)) == capitals


@given(st.decimals(min_value=-1000, max_value=1000, places=2))
def test_rounding_is_half_up(value: Decimal) -> None:
    result = round_half_up(value)
    assert abs(value - result) <= Decimal("0.5")
    if abs(value - result) == Decimal("0.5"):
        assert abs(result) > abs(value)


@given(st.integers(min_value=-500, max_value=500))
def test_every_integer_score_has_exactly_one_tier(score: int) -> None:
    matching = [
        t
        for t in TIERS
        if (t.min_score is None or score >= t.min_score)
        and (t.max_score is None or score <= t.max_score)
    ]
    assert len(matching) == 1


@given(st.integers(min_value=-500, max_value=500), st.integers(min_value=-500, max_value=500))
def test_coefficient_never_falls_as_the_score_rises(low: int, high: int) -> None:
    low, high = sorted((low, high))
    assert tier_for(low, TIERS).coefficient <= tier_for(high, TIERS).coefficient


@given(st.sampled_from(["0", "0.7", "0.8", "0.9", "1.0"]), st.integers(min_value=1, max_value=12))
def test_allowance_is_money_with_two_places(coefficient: str, months: int) -> None:
    amount = allowance_amount(Decimal(1000), Decimal(coefficient), Decimal(months) / 12)
    assert amount == amount.quantize(Decimal("0.01"))
    assert Decimal(0) <= amount <= Decimal(1000)
