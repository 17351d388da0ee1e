"""The command line: help everywhere, init, exit codes, and the installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ledger_batch.cli import cli
from ledger_batch.workspace import CONFIG_NAME, FOLDERS, STORE_NAME

REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = run(name, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output
    assert len(cli.commands[name].help or "") > 20


def test_python_dash_m_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ledger_batch", "--help"], capture_output=True, text=True, check=True
    )
    assert "ingest" in done.stdout


def test_the_command_ends_with_its_exit_status_and_its_whole_output(tmp_path: Path) -> None:
    """The real entry point ends the process quickly once done: the status, every line of
    output (into a pipe), and the store must all be there."""
    workspace = tmp_path / "联络员"
    command = [sys.executable, "-m", "ledger_batch", "-w", str(workspace)]
    subprocess.run([*command, "-q", "init", str(workspace)], check=True, capture_output=True)
    (workspace / "inbox" / "2025-03 经理联络员台账.xlsx").write_bytes(b"not a workbook at all")
    done = subprocess.run([*command, "ingest"], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # a file was quarantined
    assert "2025-03 经理联络员台账.xlsx" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    quarantined = [p.name for p in (workspace / "quarantine").iterdir() if p.suffix == ".xlsx"]
    assert len(quarantined) == 1 and quarantined[0].endswith("_2025-03 经理联络员台账.xlsx")
    history = subprocess.run([*command, "history", "2025"], capture_output=True, text=True)
    assert history.returncode == 0, history.stderr
    usage = subprocess.run([*command, "month", "March"], capture_output=True, text=True)
    assert usage.returncode == 2 and "YYYY-MM" in usage.stdout + usage.stderr


def test_init_creates_the_workspace_and_twice_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "联络员"
    assert run("init", str(target)).exit_code == 0
    for folder in FOLDERS:
        assert (target / folder).is_dir()
    config = (target / CONFIG_NAME).read_text(encoding="utf-8")
    assert "SPEC §2" in config
    assert (target / STORE_NAME).stat().st_size > 0
    (target / CONFIG_NAME).write_text(config + "\n# edited by the office\n", encoding="utf-8")
    before = {p: p.stat().st_mtime_ns for p in target.rglob("*")}
    result = run("-v", "init", str(target))
    assert result.exit_code == 0
    assert "+ " not in result.output
    assert "edited by the office" in (target / CONFIG_NAME).read_text(encoding="utf-8")
    assert {p: p.stat().st_mtime_ns for p in target.rglob("*")} == before


def test_commands_outside_a_workspace_say_how_to_make_one(tmp_path: Path) -> None:
    result = run("-w", str(tmp_path), "status")
    assert result.exit_code == 2
    assert "init" in result.output


def test_payout_refuses_missing_months_with_exit_3_naming_them(tmp_path: Path) -> None:
    from tests.ledgers import item, person, write_workbook

    run("init", str(tmp_path))
    (tmp_path / CONFIG_NAME).write_text("[limits]\nsettle_seconds = 0\n", encoding="utf-8")
    write_workbook(
        tmp_path / "inbox" / "2025 人员名册.xlsx", {"人员名册": [person("0001", "张伟", "综采队")]}
    )
    write_workbook(
        tmp_path / "inbox" / "2025-01.xlsx", {"信息报送": [item("2025-01-06", "张伟", "巷道积水")]}
    )
    assert run("-w", str(tmp_path), "ingest").exit_code == 0
    refused = run("-w", str(tmp_path), "payout", "2025")
    assert refused.exit_code == 3
    assert "2025-02" in refused.output and "2025-12" in refused.output
    allowed = run("-w", str(tmp_path), "--lang", "en", "payout", "2025", "--allow-missing-months")
    assert allowed.exit_code == 0
    assert "incomplete" in allowed.output and "2025-02" in allowed.output


def test_a_bad_period_is_a_clear_error(tmp_path: Path) -> None:
    run("init", str(tmp_path))
    result = run("-w", str(tmp_path), "month", "March")
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output


def test_the_built_wheel_ships_templates_and_samples_and_runs_demo(tmp_path: Path) -> None:
    """`pip install .` gives a working tool: build the wheel, install it alone, run demo."""
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheel_dir),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(wheel_dir.glob("ledger_batch-*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = (
        "import ledger_batch, ledger_batch.resources as r; print(ledger_batch.__file__); "
        "print(r.data_dir('templates')); print(r.data_dir('sample_ledgers'))"
    )
    where = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        text=True,
        capture_output=True,
        check=True,
    ).stdout.split()
    assert all(line.startswith(str(target)) for line in where)
    scratch = tmp_path / "scratch"  # the temporary folder of the run
    scratch.mkdir()
    demo = subprocess.run(
        [sys.executable, "-m", "ledger_batch", "demo", str(tmp_path / "demo")],
        env={**env, "TMPDIR": str(scratch)},
        cwd=tmp_path,
        text=True,
        capture_output=True,
    )
    assert demo.returncode == 0, demo.stderr
    assert (tmp_path / "demo" / STORE_NAME).exists()
    assert not list((tmp_path / "demo" / "quarantine").iterdir())
    assert not list(scratch.iterdir())  # every temporary file of the workbooks removed


def test_history_lists_every_kind_of_event_of_the_year_without_failing() -> None:
    from ledger_batch.render_text import history_text
    from ledger_batch.store import Event

    events = [
        Event("2026-01-05T09:00:00", "office", "close", "2025", {"reason": "年度兑现"}),
        Event("2026-01-06T10:00:00", "office", "email_resend", "2025-Q1", {"key": "k1"}),
        Event("2026-01-07T11:00:00", "office", "reopen", "2025", {"reason": "财务退回"}),
        Event(
            "2026-01-08T12:00:00",
            "office",
            "replace",
            "2025-03",
            {"file": "2025-03.xlsx", "version": 2, "replaced_version": 1, "reason": "更正"},
        ),
        Event("2026-02-01T08:00:00", "office", "close", "2026", {"reason": "下一年"}),
    ]
    text = history_text(events, 2025, 1, "zh")
    for expected in ("关闭年度", "重发邮件", "重新打开", "财务退回", "第1版→第2版（更正）"):
        assert expected in text
    assert "下一年" not in text
