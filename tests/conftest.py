"""Shared fixtures: a real workspace under ``tmp_path``, the CLI, the real SQLite store,
a small standard roster, and LibreOffice for authoring files as an office machine would.

The standard roster (three liaisons, appointed 2025-01-01):

=====  ====  ======  ======  ====
工号   姓名  单位    岗位    性别
=====  ====  ======  ======  ====
007    张三  综采队  班组长  男
0123   李四  综采队  职工    男
2001   王芳  机电队  职工    女
=====  ====  ======  ======  ====

工号 007 and 0123 carry leading zeros on purpose: they must never become 7 or 123.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ledger_batch.cli import cli as ledger_batch_cli
from ledger_batch.workspace import Workspace
from tests.ledgers import person, write_workbook

STANDARD_ROSTER = (
    ("007", "张三", "综采队", {"岗位": "班组长"}),
    ("0123", "李四", "综采队", {}),
    ("2001", "王芳", "机电队", {"性别": "女"}),
)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh workspace whose files count as settled at once (``settle_seconds = 0``)."""
    created, _ = Workspace.create(tmp_path / "ws")
    created.config_path.write_text("[limits]\nsettle_seconds = 0\n", encoding="utf-8")
    return created


CliRun = Callable[..., Result]


@pytest.fixture
def cli(workspace: Workspace) -> CliRun:
    """Run ``ledger-batch -w <workspace> ARGS…`` in-process; returns click's Result."""

    def run(*args: object) -> Result:
        return CliRunner().invoke(
            ledger_batch_cli, ["-w", str(workspace.root), *(str(a) for a in args)]
        )

    return run


def roster_rows(**changes: dict[str, object]) -> list[dict[str, object]]:
    """The standard roster's rows; ``changes`` maps a 工号 to cells to override."""
    return [
        person(employee_id, name, unit, **{**extra, **changes.get(employee_id, {})})
        for employee_id, name, unit, extra in STANDARD_ROSTER
    ]


@pytest.fixture(scope="session")
def standard_roster() -> Callable[..., list[dict[str, object]]]:
    """Builder of the standard roster's rows (see the module docstring)."""
    return roster_rows


@pytest.fixture
def rostered(workspace: Workspace, cli: CliRun) -> Workspace:
    """The workspace with the standard roster stored as the 2025 term roster."""
    write_workbook(workspace.folder("inbox") / "2025 人员名册.xlsx", {"人员名册": roster_rows()})
    result = cli("ingest")
    assert result.exit_code == 0, result.output
    return workspace


@pytest.fixture
def stored(workspace: Workspace) -> Callable[..., list[tuple[object, ...]]]:
    """Query the workspace's real ``ledger.db`` with sqlite3."""

    def query(sql: str, *params: object) -> list[tuple[object, ...]]:
        with closing(sqlite3.connect(workspace.store_path)) as connection:
            return connection.execute(sql, params).fetchall()

    return query


# --- LibreOffice -----------------------------------------------------------------------

_FILTERS = {"xlsx": "Calc MS Excel 2007 XML", "ods": "calc8", "xls": "MS Excel 97"}

_UNO_SAVE_WITH_PASSWORD = r'''
"""Open SOURCE in LibreOffice and save it with a password, as a clerk would in Calc."""
import os, signal, subprocess, sys, tempfile, time, uuid
import uno
from com.sun.star.beans import NamedValue, PropertyValue

def prop(name, value):
    p = PropertyValue(); p.Name = name; p.Value = value; return p

def named(name, value):
    n = NamedValue(); n.Name = name; n.Value = value; return n

soffice, source, password, pairs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
pipe = "ledgerbatch" + uuid.uuid4().hex
profile = tempfile.mkdtemp()
office = subprocess.Popen(
    [soffice, "-env:UserInstallation=file://" + profile, "--headless", "--invisible",
     "--norestore", "--accept=pipe,name=%s;urp;" % pipe],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(300):
        try:
            context = resolver.resolve(
                "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            time.sleep(0.1)
    else:
        sys.exit("LibreOffice did not start")
    desktop = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.frame.Desktop", context)
    document = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(os.path.abspath(source)), "_blank", 0,
        (prop("Hidden", True), prop("ReadOnly", True)))
    for target, filter_name in zip(pairs[::2], pairs[1::2]):
        if filter_name == "Calc MS Excel 2007 XML":
            # What Calc's "Save with password" puts in the media descriptor for OOXML.
            data = uno.Any("[]com.sun.star.beans.NamedValue",
                           (named("OOXPassword", password), named("CryptoType", "Standard")))
            arguments = (prop("FilterName", filter_name), prop("EncryptionData", data))
        else:
            arguments = (prop("FilterName", filter_name), prop("Password", password))
        uno.invoke(document, "storeToURL", (
            uno.systemPathToFileUrl(os.path.abspath(target)),
            uno.Any("[]com.sun.star.beans.PropertyValue", arguments)))
    document.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass
finally:
    try:
        office.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(office.pid, signal.SIGKILL)
'''


def _python_with_uno() -> str | None:
    """A Python interpreter that can import LibreOffice's ``uno`` bridge, if any."""
    candidates = [
        shutil.which("python3"),
        "/usr/bin/python3",
        "/usr/lib/libreoffice/program/python",
    ]
    for candidate in dict.fromkeys(c for c in candidates if c and os.path.exists(c)):
        probe = subprocess.run(
            [candidate, "-c", "import uno"], capture_output=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return candidate
    return None


@dataclass
class LibreOffice:
    """LibreOffice (headless) with one user profile for the whole test session."""

    soffice: str
    profile: Path

    def convert(self, sources: Iterable[Path], suffix: str, outdir: Path) -> list[Path]:
        """Re-save every source as ``suffix`` (xlsx, ods, xls) in one soffice call."""
        sources = list(sources)
        outdir.mkdir(parents=True, exist_ok=True)
        self._run(
            "--convert-to",
            f"{suffix}:{_FILTERS[suffix]}",
            "--outdir",
            str(outdir),
            *(str(s) for s in sources),
        )
        converted = [outdir / f"{source.stem}.{suffix}" for source in sources]
        missing = [p.name for p in converted if not p.is_file()]
        assert not missing, f"LibreOffice did not write {missing}"
        return converted

    def save_with_password(self, source: Path, targets: Sequence[Path], password: str) -> None:
        """Open ``source`` in LibreOffice and save it as each target with a password."""
        python = _python_with_uno()
        if python is None:
            pytest.skip("needs LibreOffice's Python bridge (python3-uno) to set a password")
        script = self.profile.parent / "save_with_password.py"
        script.write_text(_UNO_SAVE_WITH_PASSWORD, encoding="utf-8")
        pairs = [part for t in targets for part in (str(t), _FILTERS[t.suffix.lstrip(".")])]
        done = subprocess.run(
            [python, str(script), self.soffice, str(source), password, *pairs],
            check=False,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr

    def _run(self, *args: str) -> None:
        process = subprocess.Popen(
            [
                self.soffice,
                f"-env:UserInstallation={self.profile.as_uri()}",
                "--headless",
                "--norestore",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _, stderr = process.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        assert process.returncode == 0, stderr.decode(errors="replace")


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory: pytest.TempPathFactory) -> LibreOffice:
    """LibreOffice for authoring files; the tests need it (CI installs it)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.fail("LibreOffice (soffice) is required: apt-get install libreoffice-calc-nogui")
    return LibreOffice(soffice, tmp_path_factory.mktemp("libreoffice") / "profile")
