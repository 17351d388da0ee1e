"""The benchmark: ledger-batch against the bare parse of the same files, on a group-sized year.

Usage: python scripts/bench.py [--runs 3] [--quick] [--no-history] [--no-scaling]

Each measurement runs in a child process (so its peak RSS is its own) several times; the
table shows medians and the ratios the performance targets are about:
  ingest ÷ bare parse ≤ 2.0, openpyxl path ÷ ingest ≥ 10, payout with reports < 30 s and
  < 1 GB, payout over a 10-year store < 10 s, and cost growing linearly with size.
Data comes from scripts/bench_data.py (deterministic) and is cached under bench-data/.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data" / "2"
"""Cached data, by generator version (bumped whenever scripts/bench_data.py changes its files)."""
CLI = [sys.executable, "-m", "ledger_batch"]
BARE_PARSE = """
import sys, fastexcel
for path in sys.argv[1:]:
    reader = fastexcel.read_excel(path)
    for name in reader.sheet_names:
        reader.load_sheet(
            name, header_row=None, dtypes="string", skip_rows=0, eager=True
        ).to_pandas()
"""


@dataclass
class Measure:
    """Medians of one measurement."""

    name: str
    seconds: float
    peak_mb: float
    runs: tuple[float, ...] = ()
    """Each run's seconds, in the order run (interleaved measurements: round by round)."""


def run_child(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process; fails loudly on a non-zero exit."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        stderr = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(command[:6])} failed:\n{stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def dataset(name: str, years: list[int], items_per_month: int) -> list[Path]:
    """The files of a dataset, generated once."""
    folder = DATA / name
    if not folder.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "bench_data.py"),
                str(folder),
                "--items-per-month",
                str(items_per_month),
                "--years",
                *map(str, years),
            ],
            check=True,
        )
    return sorted(folder.glob("*.xlsx"))


def fresh_workspace(files: list[Path], parent: Path, workers: int = 0) -> Path:
    """A new workspace with ``files`` in its inbox and no settle wait; ``workers`` processes
    (0: the default, one per CPU core)."""
    workspace = Path(tempfile.mkdtemp(dir=parent))
    subprocess.run([*CLI, "-q", "init", str(workspace)], check=True, stdout=subprocess.DEVNULL)
    (workspace / "ledger-batch.toml").write_text(
        f"[limits]\nsettle_seconds = 0\nworkers = {workers}\n", encoding="utf-8"
    )
    for path in files:
        shutil.copy2(path, workspace / "inbox" / path.name)
    return workspace


@dataclass
class Plan:
    """One measurement: what to prepare before each run, and the command to time."""

    name: str
    setup: object
    command: object
    env: dict[str, str] | None = None

    def once(self) -> tuple[float, float]:
        prepared = self.setup() if callable(self.setup) else self.setup
        command = self.command(prepared) if callable(self.command) else self.command
        return run_child(command, self.env)

    def summary(self, samples: list[tuple[float, float]]) -> Measure:
        """The median time and the largest peak of its runs."""
        return Measure(
            self.name,
            statistics.median(seconds for seconds, _ in samples),
            max(peak for _, peak in samples),
            tuple(seconds for seconds, _ in samples),
        )


def measure(
    name: str, runs: int, setup: object, command: object, env: dict[str, str] | None = None
) -> Measure:
    """Median wall time and peak RSS of ``command(setup())`` over ``runs`` runs."""
    plan = Plan(name, setup, command, env)
    return plan.summary(interleaved(runs, [plan])[0])


def interleaved(runs: int, plans: list[Plan]) -> list[list[tuple[float, float]]]:
    """(seconds, peak MB) of each run of each plan, the plans run in turn, ``runs`` rounds.

    This machine's speed drifts by up to 15% over minutes; measurements whose ratio matters
    are interleaved so that a slow spell weighs on each of them alike, and every other round
    runs them in reverse order so that none is always first.
    """
    samples: list[list[tuple[float, float]]] = [[] for _ in plans]
    for round_number in range(runs):
        order = list(zip(plans, samples, strict=True))
        for plan, taken in order[::-1] if round_number % 2 else order:
            taken.append(plan.once())
    return samples


def ingest_measures(files: list[Path], runs: int, scratch: Path) -> list[Measure]:
    """Bare parse, our ingest, and our ingest on pandas' openpyxl engine.

    The bare parse, the ingests and the openpyxl path one file after another (the ratio the
    target is about) are interleaved run for run; the openpyxl path with reader processes
    (some 20 s) runs once, between the first and the second half of those rounds."""

    def new() -> Path:
        return fresh_workspace(files, scratch)

    def one_process() -> Path:
        return fresh_workspace(files, scratch, workers=1)

    def ingest(workspace: Path) -> list[str]:
        return [*CLI, "-q", "-w", str(workspace), "ingest"]

    openpyxl_env = {**os.environ, "LEDGER_BATCH_READER": "openpyxl"}
    paired = [
        Plan(
            "1 bare parse (fastexcel)", None, [sys.executable, "-c", BARE_PARSE, *map(str, files)]
        ),
        Plan("2 ingest", new, ingest),
        Plan("3 ingest on openpyxl, one file after another", one_process, ingest, openpyxl_env),
        Plan("  ingest, one file after another", one_process, ingest),
    ]
    side_by_side = Plan("3 ingest on openpyxl, files side by side", new, ingest, openpyxl_env)
    first = interleaved((runs + 1) // 2, paired)
    (once,) = interleaved(1, [side_by_side])
    second = interleaved(runs // 2, paired)
    bare, ours, usual, serial = (
        plan.summary(a + b) for plan, a, b in zip(paired, first, second, strict=True)
    )
    return [bare, ours, usual, side_by_side.summary(once), serial]


def payout_measures(
    files: list[Path], runs: int, scratch: Path, year: int, label: str
) -> list[Measure]:
    """payout (register, charts, sources …) and statements over an ingested store."""
    workspace = fresh_workspace(files, scratch)
    subprocess.run(
        [*CLI, "-q", "-w", str(workspace), "ingest"], check=True, stdout=subprocess.DEVNULL
    )
    base = [*CLI, "-q", "-w", str(workspace)]
    return [
        measure(f"4 payout {year} with reports{label}", runs, None, [*base, "payout", str(year)]),
        measure(
            f"4 statements {year} ({label.strip(' ,') or 'one per liaison'})",
            1,
            None,
            [*base, "statements", str(year)],
        ),
    ]


def round_by_round(numerator: Measure, denominator: Measure) -> str:
    """The spread of a ratio over the rounds of two interleaved measurements."""
    rounds = [top / bottom for top, bottom in zip(numerator.runs, denominator.runs, strict=True)]
    return f"; round by round {min(rounds):.2f}–{max(rounds):.2f}" if rounds else ""


def byte_compiled() -> None:
    """Compile ledger_batch's modules to bytecode, as installing it from a wheel does.

    Python reads a module's cached bytecode (``__pycache__``) when it is newer than the source
    and otherwise compiles the source at every start. pip byte-compiles a package it installs;
    an editable checkout is compiled on first import only where Python may write bytecode —
    not on machines that set PYTHONDONTWRITEBYTECODE, where every run of the tool would
    compile its 11,000 lines again (about a quarter of a second). The benchmark measures the
    tool as installed.
    """
    if not compileall.compile_dir(ROOT / "ledger_batch", quiet=1):
        raise SystemExit("ledger_batch does not compile")


def print_table(measures: list[Measure]) -> None:
    """The results, aligned, under the machine they were measured on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{platform.platform()}, {cores} cores, Python {platform.python_version()}")
    print(f"{'measurement':52} {'median s':>9} {'peak MB':>8}")
    for item in measures:
        print(f"{item.name:52} {item.seconds:9.2f} {item.peak_mb:8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a tenth of the group's size")
    parser.add_argument("--no-history", action="store_true", help="skip the 10-year store")
    parser.add_argument("--no-scaling", action="store_true", help="skip 1×/2×/4×/8×")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    items = 1_000 if args.quick else 10_000
    byte_compiled()
    scratch = Path(tempfile.mkdtemp(prefix="ledger-batch-bench-"))
    try:
        files = dataset(f"year-{items}", [2025], items)
        results = ingest_measures(files, args.runs, scratch)
        results += payout_measures(files, args.runs, scratch, 2025, "")
        if not args.no_history:
            history = dataset(f"history-{items}", list(range(2016, 2026)), items)
            results += payout_measures(history, args.runs, scratch, 2025, ", 10-year store")[:1]
        print_table(results)
        bare, ingest, usual, same_path = results[0], results[1], results[2], results[3]
        print(
            f"\ningest ÷ bare parse                  = {ingest.seconds / bare.seconds:5.2f}"
            f"  (target ≤ 2.0{round_by_round(ingest, bare)})"
        )
        print(
            f"openpyxl one by one ÷ ingest         = {usual.seconds / ingest.seconds:5.2f}"
            f"  (target ≥ 10{round_by_round(usual, ingest)})"
        )
        print(f"openpyxl side by side ÷ ingest       = {same_path.seconds / ingest.seconds:5.2f}")
        if not args.no_scaling:
            scaling(items, args.runs, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def scaling(items: int, runs: int, scratch: Path) -> None:
    """Ingest cost per item at 1×, 2×, 4× and 8× the items of a month."""
    print("\nscaling (ingest of one year)")
    first = None
    for factor in (1, 2, 4, 8):
        files = dataset(f"year-{items * factor}", [2025], items * factor)
        result = measure(
            f"ingest {factor}×",
            runs,
            lambda f=files: fresh_workspace(f, scratch),
            lambda w: [*CLI, "-q", "-w", str(w), "ingest"],
        )
        per_item = result.seconds / (items * factor * 12) * 1e6
        first = first or per_item
        print(
            f"  {factor}× {items * factor * 12:>9,} items  {result.seconds:7.2f} s  "
            f"{per_item:6.1f} µs/item  ×{per_item / first:4.2f} of 1×  {result.peak_mb:6.0f} MB"
        )


if __name__ == "__main__":
    main()
