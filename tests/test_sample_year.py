"""The bundled sample year (sample_ledgers/) end to end through the real CLI.

Every expected figure below is worked out by hand from the plan at the top of
scripts/make_samples.py with the rules of SPEC §2 and docs/decisions.md — not copied from
the program's output. Defaults: base = min(5 × B, 100); −2 per 缺席; −5 per assessable month
without a counted item; −10 per untrue item (once) and per 信息不实 notice without 编号; −3 per
违反规章; ± adjustments; half-up rounding; <60 → 0, 60–70 → 0.7, 71–80 → 0.8, 81–90 → 0.9,
≥91 → 1.0; amount = 1000 × coefficient.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner

from ledger_batch.cli import cli
from ledger_batch.workspace import Workspace

SAMPLES = Path(__file__).resolve().parent.parent / "sample_ledgers"
SAMPLE_SUFFIXES = {".xlsx", ".xls", ".ods", ".csv"}


class Expected(NamedTuple):
    """One payout row as worked out by hand."""

    items_count: int
    base_score: str
    deduction_points: str
    adjustment_points: str
    final_score: int
    coefficient: str
    allowance_amount: str
    dismissed: bool = False


EXPECTED: dict[str, Expected] = {
    # 张伟: B=3+2+2+2+2+3+2+2+2+2+2+2=26 → base min(130,100)=100 (cap before deductions);
    #   缺席 Q2 −2; 违反规章 Sep −3 → ded 5; raw 95 → 95 → 1.0 → 1000.00
    "0012031": Expected(26, "100", "5", "0", 95, "1.0", "1000.00"),
    # 李强: B=2+2+2+2+1+2+1+2+1+1+2+1=19 → 95; 缺席 Q3 (×) −2; 违反规章 Apr −3 → ded 5;
    #   adj +0.5; raw 90.5 → 91 (half up) → 1.0 → 1000.00
    "0012047": Expected(19, "95", "5", "0.5", 91, "1.0", "1000.00"),
    # 王磊: B=1+2+2+1+2+1+2+1+2+1+2+1=18 → 90; adj −2.5; raw 87.5 → 88 → 0.9 → 900.00
    "0012105": Expected(18, "90", "0", "-2.5", 88, "0.9", "900.00"),
    # 刘洋: B=2+2+1+2+0+2+2+1+2+1+1+1=17 → 85; May without report −5; adj +0.99 −0.5 = +0.49;
    #   raw 80.49 → 80 → 0.8 → 800.00
    "0012118": Expected(17, "85", "5", "0.49", 80, "0.8", "800.00"),
    # 陈刚: B=1+1+2+1+1+1+2+1+1+1+2+1=15 → 75; adj +2; raw 77 → 0.8 → 800.00
    "0012203": Expected(15, "75", "0", "2", 77, "0.8", "800.00"),
    # 杨帆: B=3+3+3+2+2+2+1 (Jul item dated before 07-10) = 16 → 80; 缺席 Q1 Q2 −4;
    #   信息不实 notice without 编号 −10 → ded 14; raw 66 → tier 0.7, but dismissed on
    #   2025-07-10 (敷衍塞责) → coefficient 0 → 0.00. Assessable Jan–Jun, all reported.
    "0012216": Expected(16, "80", "14", "0", 66, "0", "0.00", dismissed=True),
    # 宋佳: appointed 2025-07-10; B=1+2+2+2+3+2=12 → 60; Jan–Jun not assessable;
    #   raw 60 → 0.7 → 700.00
    "0012288": Expected(12, "60", "0", "0", 60, "0.7", "700.00"),
    # 赵建国: B=2+1+2+2+1+2+2+1+2+1+2+1=19 → 95; 缺席 Nov −2; 违反规章 Oct −3 → ded 5;
    #   raw 90 → 0.9 → 900.00
    "0012307": Expected(19, "95", "5", "0", 90, "0.9", "900.00"),
    # 孙丽: 18 submitted, March's one 是否属实=否 and named by April's 信息不实 notice: one event;
    #   B=1+2+2+1+2+1+1+2+1+2+1+1=17 → 85; −10 once; 请假 Q1 free; raw 75 → 0.8 → 800.00
    "0012311": Expected(17, "85", "10", "0", 75, "0.8", "800.00"),
    # 吴海涛: B=2+0+2×10=22 → min(110,100)=100; Feb without report −5; 缺席 Q1 (缺) and
    #   Aug 座谈会 (缺, in the August CSV) −4 → ded 9; raw 91 → 1.0 → 1000.00
    "0012402": Expected(22, "100", "9", "0", 91, "1.0", "1000.00"),
    # 郑芳: B=1+1+1+1+1+2+1+1+1+2+1+1=14 → 70; 假 Q2, 请假 Q3 free; raw 70 → 0.7 → 700.00
    "0012419": Expected(14, "70", "0", "0", 70, "0.7", "700.00"),
    # 冯志刚: B=1+2+1+1+2+1+1+2+1+1+2+1=16 → 80; adj ＋１; raw 81 → 0.9 → 900.00
    "0012506": Expected(16, "80", "0", "1", 81, "0.9", "900.00"),
    # 何军: B=2+1+0+2+1+0+2+0+1+1+1+1=12 → 60; Mar, Jun, Aug without report −15;
    #   缺席 Q4 −2 → ded 17; raw 43 → 0 → 0.00 (运输队 −1 in 2025-12)
    "0012513": Expected(12, "60", "17", "0", 43, "0", "0.00"),
    # 许明: B=2+2+2+2+1+2+2+1+2+2+2+1=21 → min(105,100)=100; 缺席 May −2; raw 98 → 1.0
    "0012604": Expected(21, "100", "2", "0", 98, "1.0", "1000.00"),
    # 马超: B=1+1+1+1+1+1+0+2+1+2+1+1=13 → 65; Jul without report −5; adj −1; raw 59 → 0
    #   → 0.00 (通灭队 −1 in 2025-12)
    "0012617": Expected(13, "65", "5", "-1", 59, "0", "0.00"),
    # 黄丽华: B=1+1+1+2+1+1+1+2+1+1+2+1=15 → 75; 缺席 Q3 −2; raw 73 → 0.8 → 800.00
    "0012701": Expected(15, "75", "2", "0", 73, "0.8", "800.00"),
    # 林涛: B=1+1+1+1+2+1+1+1+1+2+1+1=14 → 70; 假 Q4 free; adj +0.5; raw 70.5 → 71 → 0.8
    "0012802": Expected(14, "70", "0", "0.5", 71, "0.8", "800.00"),
    # 高峰: B=2×12=24 → min(120,100)=100; raw 100 → 1.0 → 1000.00
    "0012905": Expected(24, "100", "0", "0", 100, "1.0", "1000.00"),
}
# 1000 × 5 (张伟 李强 吴海涛 许明 高峰) + 900 × 3 (王磊 赵建国 冯志刚)
# + 800 × 5 (刘洋 陈刚 孙丽 黄丽华 林涛) + 700 × 2 (宋佳 郑芳) = 13100.00
EXPECTED_TOTAL = "13100.00"

# (unit, period, points, employee_id, reason): the dismissal in its month; the zero-tier
# liaisons who were not dismissed in the year's last month (杨帆 gets only the dismissal's).
EXPECTED_PENALTIES = {
    ("开拓队", "2025-07", "1", "0012216", "dismissal"),
    ("运输队", "2025-12", "1", "0012513", "below_pass"),
    ("通灭队", "2025-12", "1", "0012617", "below_pass"),
}
EXPECTED_FINES = {("开拓队", "赵永胜", "200", "0012216", "2025-07")}


def sample_files() -> list[Path]:
    """The sample ledgers as the demo picks them."""
    return sorted(p for p in SAMPLES.iterdir() if p.suffix.lower() in SAMPLE_SUFFIXES)


def run(workspace: Path, *args: str) -> str:
    """Run the CLI on ``workspace``; its stdout, after checking it exited 0."""
    result = CliRunner().invoke(cli, ["-w", str(workspace), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module", params=["shuffled", "reversed"])
def workspace(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh workspace with the whole sample year ingested in one run, in a given order."""
    root = tmp_path_factory.mktemp(request.param)
    created, _ = Workspace.create(root / "ws")
    created.config_path.write_text("[limits]\nsettle_seconds = 0\n", encoding="utf-8")
    drop = root / "drop"
    drop.mkdir()
    paths = [Path(shutil.copy2(p, drop / p.name)) for p in sample_files()]
    if request.param == "shuffled":
        random.Random(2025).shuffle(paths)
    else:
        paths.reverse()
    output = run(created.root, "ingest", *map(str, paths))
    assert output.count("✔") == len(paths) == 15, output
    return created.root


def make_samples(outdir: Path) -> list[Path]:
    """Run scripts/make_samples.py as ``make samples`` does; the files it wrote."""
    script = SAMPLES.parent / "scripts" / "make_samples.py"
    done = subprocess.run(
        [sys.executable, str(script), str(outdir)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return [Path(line) for line in done.stdout.splitlines()]


def test_samples_are_reproducible_and_up_to_date(tmp_path: Path) -> None:
    first = make_samples(tmp_path / "first")
    second = make_samples(tmp_path / "second")
    assert [p.name for p in first] == [p.name for p in second]
    for one, other in zip(first, second, strict=True):
        assert one.read_bytes() == other.read_bytes(), one.name
    committed = {p.name for p in SAMPLES.iterdir() if p.is_file()}
    assert {p.name for p in second} == committed
    stale = [p.name for p in second if p.read_bytes() != (SAMPLES / p.name).read_bytes()]
    assert not stale, f"sample_ledgers/ is out of date, run `make samples`: {stale}"


def test_samples_are_the_full_year() -> None:
    names = {p.name for p in sample_files()}
    assert {"2025 人员名册.xlsx", "2025-07 人员名册.xlsx"} <= names
    assert {"2025-08 信息报送.csv", "2025-08 会议考勤.csv"} <= names
    assert {p.suffix for p in sample_files()} == SAMPLE_SUFFIXES
    assert not any(n.startswith("2025-08") and not n.endswith(".csv") for n in names)


def test_payout_matches_the_hand_computation(workspace: Path) -> None:
    payout = json.loads(run(workspace, "payout", "2025", "--json"))
    assert payout["complete"] is True
    rows = {row["employee_id"]: row for row in payout["rows"]}
    assert set(rows) == set(EXPECTED)
    for employee_id, expected in EXPECTED.items():
        row = rows[employee_id]
        got = Expected(
            row["items_count"],
            row["base_score"],
            row["deduction_points"],
            row["adjustment_points"],
            row["final_score"],
            row["coefficient"],
            row["allowance_amount"],
            row["dismissed"],
        )
        assert _decimals(got) == _decimals(expected), (row["name"], got)
        assert row["allowance_amount"] == expected.allowance_amount, row["name"]
    assert payout["total_amount"] == EXPECTED_TOTAL


def _decimals(row: Expected) -> tuple[object, ...]:
    numeric = ("base_score", "deduction_points", "adjustment_points", "coefficient")
    return tuple(
        Decimal(str(value)) if name in numeric else value
        for name, value in zip(Expected._fields, row, strict=True)
    )


def test_payout_details_follow_the_plan(workspace: Path) -> None:
    payout = json.loads(run(workspace, "payout", "2025", "--json"))
    rows = {row["employee_id"]: row for row in payout["rows"]}
    # 杨帆 serves on the last day of Jan–Jun, 宋佳 of Jul–Dec; everyone else all year.
    assert rows["0012216"]["months_served"] == 6
    assert rows["0012288"]["months_served"] == 6
    assert {r["months_served"] for e, r in rows.items() if e not in ("0012216", "0012288")} == {12}
    missing = {e: r["missing_months"] for e, r in rows.items() if r["missing_months"]}
    assert missing == {"0012118": 1, "0012402": 1, "0012513": 3, "0012617": 1}
    absences = {e: r["absences"] for e, r in rows.items() if r["absences"]}
    assert absences == {
        "0012031": 1,
        "0012047": 1,
        "0012216": 2,
        "0012307": 1,
        "0012402": 2,
        "0012513": 1,
        "0012604": 1,
        "0012701": 1,
    }
    assert {e: r["untrue_count"] for e, r in rows.items() if r["untrue_count"]} == {
        "0012216": 1,
        "0012311": 1,
    }
    assert {e for e, r in rows.items() if r["violations"]} == {"0012031", "0012047", "0012307"}


def test_unit_penalties_and_fines(workspace: Path) -> None:
    payout = json.loads(run(workspace, "payout", "2025", "--json"))
    penalties = {
        (p["unit"], p["period"], str(p["points"]), p["employee_id"], p["reason"])
        for p in payout["unit_penalties"]
    }
    assert penalties == EXPECTED_PENALTIES
    assert len(payout["unit_penalties"]) == len(EXPECTED_PENALTIES)
    fines = {
        (f["unit"], f["unit_head"], str(f["amount"]), f["employee_id"], f["period"])
        for f in payout["fines"]
    }
    assert fines == EXPECTED_FINES
    assert len(payout["fines"]) == 1


def test_closed_loop_statistics(workspace: Path) -> None:
    loop = json.loads(run(workspace, "payout", "2025", "--json"))["closed_loop"]
    # Collected: the sum of the plan's items (310 counted + 孙丽's untrue one).
    assert loop["collected"] == 311
    # Two loop items per month: Jan–Sep inspected (18), Oct's reach 整改落实 (+2 rectified);
    # September's first fails in December, April's first failed in July and passed in October.
    assert loop["rectified"] == 20
    assert loop["inspected"] == 18
    assert loop["passed"] == 17
    assert loop["pass_rate"] == "94.4"
    assert loop["open_by_stage"]["督查验收"] == 1
    assert loop["open_by_stage"]["整改落实"] == 2
    assert loop["open_by_stage"]["调查核实"] == 2


def test_month_2025_03(workspace: Path) -> None:
    month = json.loads(run(workspace, "month", "2025-03", "--json"))
    # 何军 has no March item; 宋佳 is not appointed yet; 孙丽 has two true items besides the
    # untrue one.
    assert [r["name"] for r in month["not_reported"]] == ["何军"]
    rows = {row["name"]: row for row in month["rows"]}
    assert "宋佳" not in rows
    # 张伟: 2 items in March, 3+2+2 = 7 so far → 35, nothing deducted yet.
    assert (rows["张伟"]["items_month"], rows["张伟"]["items_count"]) == (2, 7)
    assert rows["张伟"]["final_score"] == 35
    # 吴海涛: 2+0+2 = 4 → 20; February without report −5, 缺 at the Q1 meeting −2 → 13.
    assert rows["吴海涛"]["items_count"] == 4
    assert rows["吴海涛"]["deduction_points"] == 7
    assert rows["吴海涛"]["final_score"] == 13
    # 孙丽: 1+2+2 = 5 counted → 25, the untrue March item −10 → 15.
    assert (rows["孙丽"]["items_month"], rows["孙丽"]["items_count"]) == (2, 5)
    assert rows["孙丽"]["final_score"] == 15
    # 刘洋: 2+2+1 = 5 → 25, +0.99 on 03-28 → 25.99 → 26.
    assert rows["刘洋"]["final_score"] == 26
    # March items: the plan's March column (27) plus 孙丽's untrue one.
    assert len(month["new_items"]) == 28


def test_quarter_2025_q1(workspace: Path) -> None:
    quarter = json.loads(run(workspace, "quarter", "2025-Q1", "--json"))
    assert quarter["months_in"] == ["2025-01", "2025-02", "2025-03"]
    rows = {row["name"]: row for row in quarter["liaisons"]}
    # 吴海涛: 4 items in Q1; projected min(5 × 4 × 12 ÷ 3, 100) = 80 − 7 = 73 → 0.8.
    assert rows["吴海涛"]["quarter_items"] == 4
    assert rows["吴海涛"]["absent"] == 1
    assert rows["吴海涛"]["projected_score"] == 73
    assert rows["吴海涛"]["projected_coefficient"] == "0.8"
    # 何军: 3 items → 5 × 3 × 4 = 60, March without report −5 → 55 → 0, with a warning.
    assert rows["何军"]["projected_score"] == 55
    assert rows["何军"]["projected_coefficient"] == "0"
    assert {"code": "projected_below_pass", "count": 1} in rows["何军"]["warnings"]
    # 杨帆: present at February's 座谈会, 缺席 at the Q1 meeting.
    assert (rows["杨帆"]["present"], rows["杨帆"]["absent"]) == (1, 1)
    # 孙丽: 请假 at the Q1 meeting; 5 counted → 100 − 10 = 90 → 0.9.
    assert (rows["孙丽"]["excused"], rows["孙丽"]["absent"]) == (1, 0)
    assert rows["孙丽"]["projected_score"] == 90


def test_demo_runs_on_the_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "壹万叁仟壹佰元整" in result.output
    assert not any((tmp_path / "demo" / "quarantine").iterdir())
