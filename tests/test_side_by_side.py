"""Files dropped together are read side by side in worker processes (``limits.workers``) and
stored one after another in processing order. What the clerk gets must not depend on that:
the same store, the same messages, a month's roster before its ledgers, and an older store's
duplicate check still working after the store learned content digests.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger_batch.cli import cli as ledger_batch_cli
from ledger_batch.config import Settings
from ledger_batch.normalise import LedgerFile
from ledger_batch.pipeline import _in_order, _parse, _Parsed
from ledger_batch.resources import data_dir
from ledger_batch.workspace import Workspace, scratch_prefix
from tests.conftest import roster_rows
from tests.ledgers import item, person, write_workbook

LEDGER_TABLES = ("submissions", "attendance", "violations", "adjustments", "roster")


def with_workers(root: Path, workers: int) -> Workspace:
    """A new workspace at ``root`` reading with ``workers`` processes."""
    workspace, _ = Workspace.create(root)
    workspace.config_path.write_text(
        f"[limits]\nsettle_seconds = 0\nworkers = {workers}\n", encoding="utf-8"
    )
    return workspace


def run(workspace: Workspace, *args: str):
    return CliRunner().invoke(ledger_batch_cli, ["-w", str(workspace.root), *args])


def two_rosters(workspace: Workspace) -> Path:
    """The workspace's inbox with the term roster and a March roster that adds 赵六 (3001,
    综采队, appointed 2025-03-01)."""
    inbox = workspace.folder("inbox")
    write_workbook(inbox / "2025 人员名册.xlsx", {"人员名册": roster_rows()})
    newcomer = person("3001", "赵六", "综采队", 聘任日期="2025-03-01")
    write_workbook(inbox / "2025年3月 人员名册.xlsx", {"人员名册": [*roster_rows(), newcomer]})
    return inbox


def table_rows(workspace: Workspace) -> dict[str, list[tuple]]:
    """Every ledger row in force and every file record, without times and archive names."""
    with closing(sqlite3.connect(workspace.store_path)) as db:
        tables = {
            name: sorted(
                db.execute(
                    f"SELECT t.* FROM {name} t JOIN files f ON f.file_id = t.file_id "
                    "ORDER BY f.original_name, t.source_row"
                ).fetchall(),
                key=repr,
            )
            for name in LEDGER_TABLES
        }
        tables["files"] = db.execute(
            "SELECT file_id, sha256, original_name, kind, period, version, ledgers FROM files "
            "ORDER BY file_id"
        ).fetchall()
        tables["active_sheets"] = sorted(db.execute("SELECT * FROM active_sheets"))
    return tables


def test_a_year_read_side_by_side_is_stored_exactly_as_one_file_after_another(tmp_path):
    samples = [
        p
        for p in data_dir("sample_ledgers").iterdir()
        if p.suffix in (".xlsx", ".xls", ".ods", ".csv")
    ]
    results = {}
    for workers in (1, 3):
        workspace = with_workers(tmp_path / f"workers-{workers}", workers)
        for path in samples:
            shutil.copy2(path, workspace.folder("inbox") / path.name)
        ingested = run(workspace, "ingest")
        assert ingested.exit_code == 0, ingested.output
        payout = run(workspace, "payout", "2025", "--json")
        assert payout.exit_code == 0, payout.output
        here = str(workspace.root)
        results[workers] = (
            ingested.output.replace(here, "WS"),
            table_rows(workspace),
            payout.output.replace(here, "WS"),
        )
    one_by_one, side_by_side = results[1], results[3]
    assert side_by_side[0] == one_by_one[0]  # the same lines, in the same order
    assert side_by_side[1] == one_by_one[1]  # the same rows, the same file ids
    assert side_by_side[2] == one_by_one[2]
    assert len(side_by_side[1]["files"]) == len(samples) == 15


@pytest.mark.parametrize("workers", [1, 2])
def test_a_roster_named_for_a_month_is_stored_before_that_months_ledgers(tmp_path, workers):
    workspace = with_workers(tmp_path / "ws", workers)
    inbox = two_rosters(workspace)
    # 赵六 joins in March: the March ledger names him, the March roster brings him. By name
    # the ledger comes first ("2025-03.xlsx" sorts before "2025年3月…").
    write_workbook(
        inbox / "2025-03.xlsx",
        {"信息报送": [item("2025-03-10", "赵六", "主井绞车房照明不足")]},
    )
    write_workbook(
        inbox / "2025-02.xlsx", {"信息报送": [item("2025-02-11", "张三", "副井罐笼信号")]}
    )

    result = run(workspace, "ingest")

    assert result.exit_code == 0, result.output
    order = [
        line.split(":")[0].lstrip("✔ ")
        for line in result.output.splitlines()
        if line.startswith("✔")
    ]
    assert order == [
        "2025 人员名册.xlsx",
        "2025-02.xlsx",
        "2025年3月 人员名册.xlsx",
        "2025-03.xlsx",
    ]
    with closing(sqlite3.connect(workspace.store_path)) as db:
        march = db.execute("SELECT employee_id FROM submissions WHERE period = '2025-03'")
        assert march.fetchall() == [("3001",)]


def test_a_store_from_before_content_digests_still_finds_a_repeated_item(rostered, cli, stored):
    inbox = rostered.folder("inbox")
    write_workbook(
        inbox / "2025-03.xlsx", {"信息报送": [item("2025-03-05", "张三", "井下通风不良")]}
    )
    assert cli("ingest").exit_code == 0
    # The store as earlier versions left it: the content itself, indexed with the person.
    with closing(sqlite3.connect(rostered.store_path)) as db:
        db.executescript(
            """
            DROP INDEX submissions_by_digest;
            ALTER TABLE submissions DROP COLUMN content_hash;
            ALTER TABLE submissions ADD COLUMN content_key TEXT;
            UPDATE submissions SET content_key = content;
            CREATE INDEX submissions_by_content ON submissions(employee_id, content_key);
            """
        )
    march_item = stored("SELECT item_id FROM submissions WHERE period = '2025-03'")[0][0]

    # The same report in April, typed with a full-width space: the same content.
    write_workbook(
        inbox / "2025-04.xlsx", {"信息报送": [item("2025-04-02", "张三", "井下\u3000通风不良")]}
    )
    result = cli("ingest")

    assert result.exit_code == 0, result.output
    assert f"可能是重复信息（与 {march_item} 内容相同）" in result.output
    assert stored("SELECT COUNT(*) FROM submissions WHERE content_hash IS NULL") == [(0,)]
    indexes = {name for (name,) in stored("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "submissions_by_content" not in indexes


def test_stored_content_digests_stay_what_earlier_versions_stored(rostered, cli, stored):
    # Possible duplicates are found by the digest each item was stored with, in months and
    # years stored by earlier versions: the digest must never change. By the rule (NFKC, no
    # spaces of any kind, BLAKE2b of 8 bytes as a signed big-endian integer), worked out with
    # hashlib alone: "井下通风不良" -> -2618159666323205372, "A区3号皮带" -> -5258015317836412064.
    write_workbook(
        rostered.folder("inbox") / "2025-03.xlsx",
        {
            "信息报送": [
                item("2025-03-05", "张三", " 井下\u3000通风不良"),
                item("2025-03-06", "张三", "Ａ区３号 皮带"),
            ]
        },
    )
    assert cli("ingest").exit_code == 0
    assert stored("SELECT content_hash FROM submissions ORDER BY source_row") == [
        (-2618159666323205372,),
        (-5258015317836412064,),
    ]


def test_a_roster_read_first_is_handed_over_before_the_next_month_is_read():
    # The run validates and stores while the readers read on: the term roster, read first,
    # goes to the run at once. A month named in a file name is its period, and a roster of
    # that month would sort by its own name, so nothing read later can come before it.
    def parsed(name: str, kind: str, period: str) -> _Parsed:
        return _Parsed(Path(name), "", LedgerFile(name, period, kind, {}, []), [])

    files = [
        parsed("2025 人员名册.xlsx", "roster", "2025-01"),
        parsed("2025-01.xlsx", "month", "2025-01"),
        parsed("2025-02.xlsx", "month", "2025-02"),
    ]
    read: list[str] = []

    def reader():
        for each in files:
            read.append(each.path.name)
            yield each

    handed = _in_order([item.path for item in files], reader(), lambda: None)

    assert next(handed).path.name == "2025 人员名册.xlsx"
    assert read == ["2025 人员名册.xlsx"]
    assert [each.path.name for each in handed] == ["2025-01.xlsx", "2025-02.xlsx"]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_person_unknown_to_one_months_roster_is_known_to_the_next_ones(tmp_path, workers):
    # One drop, two rosters: 赵六 is not on the term roster, so February naming him is
    # quarantined; March brings a roster with him, and March naming him is stored. What one
    # month's roster says about a name must not carry over to a month with another roster.
    workspace = with_workers(tmp_path / "ws", workers)
    inbox = two_rosters(workspace)
    write_workbook(
        inbox / "2025-02.xlsx",
        {"信息报送": [item("2025-02-11", "赵六", "副井罐笼信号"), item("2025-02-12", "张三", "a")]},
    )
    write_workbook(
        inbox / "2025-03.xlsx",
        {
            "信息报送": [
                item("2025-03-10", "赵六", "主井绞车房照明不足"),
                item("2025-03-11", "张三", "b"),
            ]
        },
    )
    write_workbook(inbox / "2025-04.xlsx", {"信息报送": [item("2025-04-02", "赵六", "水泵房积水")]})

    result = run(workspace, "ingest")

    assert result.exit_code == 1, result.output
    assert "✘ 2025-02.xlsx" in result.output
    assert "2025-02.xlsx · 信息报送 · 行 3" in result.output and "赵六" in result.output
    assert "✔ 2025-03.xlsx" in result.output and "✔ 2025-04.xlsx" in result.output
    with closing(sqlite3.connect(workspace.store_path)) as db:
        stored = db.execute(
            "SELECT period, employee_id, name FROM submissions ORDER BY period, source_row"
        ).fetchall()
    assert stored == [
        ("2025-03", "3001", "赵六"),
        ("2025-03", "007", "张三"),
        ("2025-04", "3001", "赵六"),
    ]


def test_the_items_readers_stage_for_the_run_leave_nothing_behind(tmp_path, monkeypatch):
    # Readers stage each month's items in the system's temporary folder for the run to copy
    # into the store; the run removes them, stored or quarantined. What a killed run left
    # there goes at the workspace's next run; the folder of a run still going (a check beside
    # an ingest) stays.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # the system's, for this test
    workspace = with_workers(tmp_path / "ws", 2)
    inbox = workspace.folder("inbox")
    write_workbook(inbox / "2025 人员名册.xlsx", {"人员名册": roster_rows()})
    write_workbook(
        inbox / "2025-02.xlsx", {"信息报送": [item("2025-02-11", "赵六", "副井罐笼信号")]}
    )
    write_workbook(
        inbox / "2025-03.xlsx",
        {"信息报送": [item("2025-03-11", "张三", "主井信号", 是否属实=None, 是否采纳=None)]},
    )
    with subprocess.Popen(["true"]) as ended:  # a process id no longer in use, once it ends
        ended.wait()
    killed = scratch / f"{scratch_prefix(workspace.root)}{ended.pid}-a1b2"
    killed.mkdir()
    (killed / "tmpa1b2c3.db").write_bytes(b"a half-written staging file")
    with subprocess.Popen(["sleep", "60"]) as other:
        going = scratch / f"{scratch_prefix(workspace.root)}{other.pid}-c3d4"
        going.mkdir()

        result = run(workspace, "ingest")

        other.kill()
    assert result.exit_code == 1, result.output  # 赵六 is not on the roster: February waits
    assert "✘ 2025-02.xlsx" in result.output and "✔ 2025-03.xlsx" in result.output
    assert list(scratch.iterdir()) == [going]
    with closing(sqlite3.connect(workspace.store_path)) as db:
        stored = db.execute(
            "SELECT period, item_id, employee_id, name, truthful, adopted, stage FROM submissions"
        ).fetchall()
    # 工号 from the roster, a number, 待核实 / 否 / 反映问题 for what the clerk left blank
    assert stored == [("2025-03", "202503-001", "007", "张三", "待核实", "否", "反映问题")]


def test_a_killed_runs_staging_goes_at_the_next_run_even_of_a_single_file(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # the system's, for this test
    workspace = with_workers(tmp_path / "ws", 2)
    inbox = workspace.folder("inbox")
    write_workbook(inbox / "2025 人员名册.xlsx", {"人员名册": roster_rows()})
    with subprocess.Popen(["true"]) as ended:  # a process id no longer in use, once it ends
        ended.wait()
    killed = scratch / f"{scratch_prefix(workspace.root)}{ended.pid}-e5f6"
    killed.mkdir()

    result = run(workspace, "ingest")  # one file: read by the run itself, nothing staged

    assert result.exit_code == 0, result.output
    assert list(scratch.iterdir()) == []


def test_a_reader_that_cannot_stage_the_items_leaves_them_to_the_run(tmp_path):
    month = write_workbook(
        tmp_path / "2025-03.xlsx",
        {"信息报送": [item("2025-03-05", "张三", "皮带跑偏"), item("2025-03-06", "李四", "水仓")]},
    )
    staging = tmp_path / "staging"
    staging.mkdir()

    staged = _parse(month, Settings(), staging)
    cannot = _parse(month, Settings(), month)  # not a folder: no file can be made in it

    assert staged.staged is not None and staged.staged.parent == staging
    with closing(sqlite3.connect(staged.staged)) as db:
        rows = db.execute("SELECT source_row, name, content FROM rows").fetchall()
    assert rows == [(3, "张三", "皮带跑偏"), (4, "李四", "水仓")]
    assert cannot.staged is None
    assert cannot.ledger_file is not None and cannot.problems == staged.problems
    assert cannot.ledger_file.sheets["submissions"].records.equals(
        staged.ledger_file.sheets["submissions"].records
    )
