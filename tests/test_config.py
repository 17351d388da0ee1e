"""The rules file: defaults from SPEC §2, overrides from the workspace, clear errors by key."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from ledger_batch.config import Settings, load_settings
from ledger_batch.errors import ConfigError
from ledger_batch.workspace import default_config_text


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ledger-batch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_written_defaults_read_back_as_the_defaults() -> None:
    text = default_config_text()
    assert Settings.model_validate(tomllib.loads(text, parse_float=Decimal)) == Settings()
    for citation in (
        "SPEC §2: 5 per item",
        "SPEC §2: −2",
        "SPEC §2: −5",
        "SPEC §2: −10",
        "SPEC §2: −3",
        "SPEC §2: 1000",
        "SPEC §2: 200",
    ):
        assert citation in text


def test_a_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.toml") == Settings()


def test_overrides_apply_and_decimals_stay_exact(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, "[rules]\npoints_per_item = 4.5\nyear_start_month = 4\n")
    )
    assert settings.rules.points_per_item == Decimal("4.5")
    assert settings.rules.year_start_month == 4
    assert settings.rules.absence_points == Decimal(2)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[rules]\npoints_per_itme = 4\n", "rules.points_per_itme"),
        ("[rules]\nabsence_points = -2\n", "rules.absence_points"),
        ("[rules]\nyear_start_month = 13\n", "rules.year_start_month"),
        ("colour = 'red'\n", "colour"),
    ],
)
def test_bad_keys_are_named(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, text))
    assert key in raised.value.text("en")
    assert key in raised.value.text("zh")


def _tiers(*rows: str) -> str:
    return "[rules]\n" + "".join(f"[[rules.tiers]]\n{row}\n" for row in rows)


@pytest.mark.parametrize(
    "text",
    [
        _tiers("max_score = 59\ncoefficient = 0", "min_score = 61\ncoefficient = 1"),  # gap at 60
        _tiers("max_score = 60\ncoefficient = 0", "min_score = 60\ncoefficient = 1"),  # overlap
        _tiers("min_score = 0\nmax_score = 59\ncoefficient = 0", "min_score = 60\ncoefficient = 1"),
        _tiers("max_score = 59\ncoefficient = -1", "min_score = 60\ncoefficient = 1"),
    ],
)
def test_tiers_with_gaps_overlaps_or_negative_coefficients_are_refused(
    tmp_path: Path, text: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, text))
    assert "rules.tiers" in raised.value.text("en")


def test_invalid_toml_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, "[rules\n"))
    assert "TOML" in raised.value.text("en")


def test_the_field_reference_in_docs_is_generated_from_the_registry() -> None:
    from ledger_batch.fields import fields_markdown

    docs = Path(__file__).resolve().parents[1] / "docs" / "fields.md"
    assert docs.read_text(encoding="utf-8") == fields_markdown(), "run `make docs`"
