"""Helpers for the protection tests (``test_hostile_*.py``, ``test_faults.py``,
``test_load.py``): hostile files built byte by byte, ledger-batch run in a child process with
its exit status and peak memory, and where each dropped file ended up.
"""

from __future__ import annotations

import os
import re
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from ledger_batch.workspace import Workspace
from tests.ledgers import Row

PEAK_MB_BOUND = 500
"""Peak memory allowed to a child run that meets a bomb or a giant range.

The child imports pandas, pyarrow and fastexcel (about 130 MB) and reads the guarded parts
in 4 MB chunks, so a refusal costs well under 250 MB. What the guards prevent is far above
the bound: a zip bomb inflates 1 GB (2.2 GB peak when it reached the reader), one cell at
GR1048576 makes the reader allocate 210 million cells (7.5 GB, then MemoryError), and a
row repeated a million times in a 1 KB ods took 5.5 GB.
"""


@dataclass
class Child:
    """A finished ``ledger-batch`` child process."""

    returncode: int
    peak_mb: float
    stdout: str
    stderr: str

    @property
    def killed_by_signal(self) -> bool:
        """Aborted (SIGABRT), killed by the kernel's OOM killer (SIGKILL), crashed (SIGSEGV)."""
        return self.returncode < 0


def child_env(**extra: str) -> dict[str, str]:
    """The environment for child runs: unbuffered UTF-8 output."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8", **extra}


_MEASURED_CHILD = """
import atexit, runpy, sys

def record_peak(path=sys.argv[1]):
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(path, "w") as out:
        out.write(peak)

atexit.register(record_peak)
sys.argv = ["ledger-batch", *sys.argv[2:]]
runpy.run_module("ledger_batch", run_name="__main__")
"""
"""Runs ledger-batch and, at exit, records the process's own peak resident memory (VmHWM, in
kB). ``ru_maxrss`` would not do: Linux carries the parent's (pytest's) peak over the fork and
exec into the child's figure."""


def run_child(
    workspace: Workspace,
    *args: object,
    timeout: float = 300,
    preexec: Callable[[], None] | None = None,
) -> Child:
    """Run ``ledger-batch -w <workspace> ARGS…`` to the end in a child process.

    Its output goes to files (no pipe can fill up); ``Child`` has its exit status (negative
    when a signal ended it) and its own peak resident memory.
    """
    logs = workspace.root.parent / "child-logs"
    logs.mkdir(exist_ok=True)
    out_path, err_path, peak_path = (logs / n for n in ("stdout.txt", "stderr.txt", "peak.txt"))
    peak_path.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-c",
        _MEASURED_CHILD,
        str(peak_path),
        "-w",
        str(workspace.root),
        *map(str, args),
    ]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            command, stdout=out, stderr=err, env=child_env(), preexec_fn=preexec
        )
    try:
        _, status = _wait(process.pid, timeout)
    except TimeoutError:
        os.kill(process.pid, signal.SIGKILL)
        os.waitpid(process.pid, 0)
        raise
    return Child(
        os.waitstatus_to_exitcode(status),
        int(peak_path.read_text()) / 1024 if peak_path.exists() else float("nan"),
        out_path.read_text(encoding="utf-8", errors="replace"),
        err_path.read_text(encoding="utf-8", errors="replace"),
    )


def _wait(pid: int, timeout: float) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    while True:
        waited, status = os.waitpid(pid, os.WNOHANG)
        if waited:
            return waited, status
        if time.monotonic() > deadline:
            raise TimeoutError(f"ledger-batch still running after {timeout:.0f} s")
        time.sleep(0.02)


# --- where files are -------------------------------------------------------------------------


def unstamped(name: str) -> str:
    """A file name without the time stamp quarantine/ and duplicates/ put in front."""
    return re.sub(r"^\d{8}-\d{6}_", "", name)


def names_in(folder: Path) -> list[str]:
    """Names of the files in ``folder``, time stamps removed, sorted."""
    if not folder.is_dir():
        return []
    return sorted(unstamped(p.name) for p in folder.iterdir() if p.is_file())


def error_reports(workspace: Workspace) -> dict[str, str]:
    """Quarantined file's name → the text of the error report beside it."""
    reports = workspace.folder("quarantine").glob("*.错误报告.txt")
    return {
        unstamped(p.name.removesuffix(".错误报告.txt")): p.read_text(encoding="utf-8-sig")
        for p in reports
    }


# --- workbooks as bytes ----------------------------------------------------------------------


def xlsxwriter_ledger(
    path: Path, sheets: Mapping[str, Sequence[Row]], headers: Mapping[str, Sequence[str]]
) -> Path:
    """An xlsx written by xlsxwriter: shared strings (``xl/sharedStrings.xml``), no title row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    for sheet_name, rows in sheets.items():
        sheet = workbook.add_worksheet(sheet_name)
        sheet.write_row(0, 0, headers[sheet_name])
        for number, row in enumerate(rows, start=1):
            for column, header in enumerate(headers[sheet_name]):
                value = row.get(header)
                if value is not None:
                    sheet.write_string(number, column, str(value))
    workbook.close()
    return path


Change = Callable[[bytes], bytes]


def rewrite_zip(source: Path, target: Path, changes: Mapping[str, Change]) -> Path:
    """Copy the zip ``source`` to ``target`` with the named members changed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for member in old.infolist():
            data = old.read(member)
            new.writestr(member.filename, changes.get(member.filename, lambda d: d)(data))
    return target


def deflate(chunks: Iterable[bytes]) -> bytes:
    """Raw deflate (as zip stores it) of the concatenated ``chunks``."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return b"".join(compressor.compress(chunk) for chunk in chunks) + compressor.flush()


@dataclass
class RawMember:
    """A zip member as stored: its deflated bytes and what its headers declare."""

    name: str
    deflated: bytes
    declared_size: int
    crc: int
    flags: int = 0x800  # names in UTF-8


def raw_member(name: str, data: bytes) -> RawMember:
    """An honest member holding ``data``."""
    return RawMember(name, deflate([data]), len(data), zlib.crc32(data))


def write_raw_zip(path: Path, members: Sequence[RawMember]) -> Path:
    """A zip written byte by byte, so that headers can say what a library would not."""
    body, directory = bytearray(), bytearray()
    for member in members:
        name = member.name.encode()
        sizes = (member.crc, len(member.deflated), member.declared_size, len(name))
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, member.flags, 8, 0, 0x21, *sizes, 0)
        body += name + member.deflated
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            member.flags,
            8,
            0,
            0x21,
            *sizes,
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        directory += name
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(body + directory + end))
    return path


def members_of(path: Path) -> dict[str, bytes]:
    """Every member of a zip by name."""
    with zipfile.ZipFile(path) as archive:
        return {member.filename: archive.read(member) for member in archive.infolist()}


_ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>{doctype}'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
    "</office:document-content>"
)


def ods_cell(text: str, repeated: int = 1) -> str:
    """One text cell of an ods table, repeated across ``repeated`` columns."""
    repeat = f' table:number-columns-repeated="{repeated}"' if repeated > 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{repeat}>'
        f"<text:p>{text}</text:p></table:table-cell>"
    )


def ods_row(cells: Iterable[str], repeated: int = 1) -> str:
    """One ods row, repeated ``repeated`` times."""
    repeat = f' table:number-rows-repeated="{repeated}"' if repeated > 1 else ""
    return f"<table:table-row{repeat}>{''.join(cells)}</table:table-row>"


def write_ods(path: Path, tables: Mapping[str, str], doctype: str = "") -> Path:
    """A minimal ods written by hand: ``tables`` maps a table's name to its rows' XML."""
    content = _ODS_CONTENT.format(
        doctype=doctype,
        tables="".join(
            f'<table:table table:name="{name}">{rows}</table:table>'
            for name, rows in tables.items()
        ),
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path
