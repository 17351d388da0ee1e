"""The ``ledger-batch`` command line: parse options, call the core, print the result.

Exit codes: 0 success; 1 a file was quarantined; 2 a usage, configuration or data error;
3 a year-end run refused because months of the year have no ledger.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ledger_batch import early_read
from ledger_batch.atomic import write_atomically
from ledger_batch.errors import LedgerError, problem_count
from ledger_batch.lazy import lazy_module
from ledger_batch.lock import workspace_lock
from ledger_batch.messages import Lang
from ledger_batch.periods import month_in_name, parse_month, parse_quarter, parse_year
from ledger_batch.resources import data_dir
from ledger_batch.workspace import Workspace, default_config_text, earliest_order, inbox_files

if TYPE_CHECKING:
    from ledger_batch import assess, compose, config, deliver, pipeline, render_text, reports
    from ledger_batch import blank_ledger as blank_ledgers
    from ledger_batch import publish as publishing
    from ledger_batch import status as status_reports
    from ledger_batch import watch as watching
    from ledger_batch.outbox import OutboxMessage
    from ledger_batch.pipeline import FileOutcome
else:  # loaded on first use: ingest and check start without the report and mail libraries,
    # and read early before pandas and the rules file's models load (early_read.py)
    assess, compose, deliver, pipeline, render_text, reports = map(
        lazy_module, ("assess", "compose", "deliver", "pipeline", "render_text", "reports")
    )
    config = lazy_module("config")
    blank_ledgers, publishing = lazy_module("blank_ledger"), lazy_module("publish")
    status_reports, watching = lazy_module("status"), lazy_module("watch")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Context:
    """Global options."""

    workspace_dir: Path
    lang: Lang
    verbosity: int

    def workspace(self) -> Workspace:
        """The workspace, which must exist."""
        return Workspace.open(self.workspace_dir)

    def say(self, text: str, level: int = 0) -> None:
        """Print unless quieter than ``level``."""
        if self.verbosity >= level:
            click.echo(text)


def reports_errors(function: F) -> F:
    """Turn a LedgerError into its message (in the chosen language) and exit code."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except LedgerError as error:
            lang = click.get_current_context().find_object(Context)
            click.echo(error.text(lang.lang if lang else "zh"), err=True)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


def holds_workspace(activity: str, rules_first: bool = True) -> Callable[[F], F]:
    """Run the command holding the workspace lock (one run at a time; see lock.py).

    The rules file is read as soon as the workspace is held, so that a wrong one stops the
    command before it does anything; ``rules_first=False`` leaves that to the command
    (ingest reads it once its early read has started)."""

    def decorate(function: F) -> F:
        @wraps(function)
        def wrapper(obj: Context, *args: Any, **kwargs: Any) -> Any:
            workspace = obj.workspace()
            details = " ".join(str(v) for v in kwargs.values() if isinstance(v, str))
            with workspace_lock(
                workspace.root,
                f"{activity} {details}".strip(),
                lambda: workspace.settings.limits.lock_wait_seconds,
            ):
                if rules_first:
                    workspace.read_rules()
                return function(obj, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-w",
    "--workspace",
    "workspace_dir",
    type=click.Path(path_type=Path),
    envvar="LEDGER_BATCH_WORKSPACE",
    default=Path("."),
    show_default=True,
    help="Workspace folder (env LEDGER_BATCH_WORKSPACE).",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of messages and reports.",
)
@click.option("-v", "--verbose", count=True, help="Say more.")
@click.option("-q", "--quiet", count=True, help="Say less.")
@click.version_option(package_name="ledger-batch")
@click.pass_context
def cli(ctx: click.Context, workspace_dir: Path, lang: Lang, verbose: int, quiet: int) -> None:
    """ledger-batch: the manager-liaison scheme (经理联络员机制) from the office's ledgers.

    \b
    Example:
      ledger-batch init ./联络员
      ledger-batch -w ./联络员 ingest
      ledger-batch -w ./联络员 payout 2025
    """
    ctx.obj = Context(workspace_dir, lang, 1 + verbose - quiet)


@cli.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.pass_obj
@reports_errors
def init(obj: Context, directory: Path | None) -> None:
    """Create a workspace (rules file, folders, store). Running it twice changes nothing.

    \b
    Example:
      ledger-batch init ./联络员
    """
    workspace, created = Workspace.create(directory or obj.workspace_dir)
    for path in created:
        obj.say(f"+ {path}", 1)
    obj.say(("工作区已就绪：" if obj.lang == "zh" else "Workspace ready: ") + str(workspace.root))


def _print_outcome(
    obj: Context,
    outcome: FileOutcome,
    dry_run: bool = False,
    log: Callable[[str], None] | None = None,
) -> None:
    say = log or obj.say
    zh = obj.lang == "zh"
    name = outcome.path.name
    if outcome.status == "stored":
        if zh:
            what = f"{'可入库为' if dry_run else '已入库'} {outcome.period} 第{outcome.version}版"
        else:
            verb = "valid, would be stored as" if dry_run else "stored"
            what = f"{verb} {outcome.period} version {outcome.version}"
        if outcome.replaced_version:
            what += (
                f"（替换第{outcome.replaced_version}版）"
                if zh
                else f" (replaces version {outcome.replaced_version})"
            )
        if dry_run:
            what += "（仅检查，未入库）" if zh else " (check only: nothing stored)"
        say(f"✔ {name}: {what}")
        for change in outcome.changes:
            moves = ", ".join(f"{k} {a}→{b}" for k, (a, b) in change.moves.items())
            say(f"    {change.name}（{change.employee_id}）: {moves}")
    elif outcome.status == "quarantined":
        errors = [p for p in outcome.problems if p.severity == "error"]
        count = problem_count(outcome.problems)
        where = f" → {outcome.moved_to}" if outcome.moved_to else ""
        if dry_run:
            done = "不能入库（仅检查，未移动）" if zh else "not valid (check only: not moved)"
        else:
            done = "已隔离" if zh else "quarantined"
        say(
            f"✘ {name}: "
            + (f"{count} 处错误，{done}" if zh else f"{count} error(s), {done}")
            + where
        )
        for problem in errors[: 20 if obj.verbosity <= 1 else None]:
            say("    " + problem.one_line(obj.lang))
        if outcome.report_path:
            say(("    错误报告：" if zh else "    error report: ") + str(outcome.report_path))
        return
    else:
        say(f"· {name}: " + outcome.problems[0].what(obj.lang))
    for problem in outcome.problems:
        if problem.severity == "warning" or (problem.severity == "note" and obj.verbosity > 1):
            say("    ⚠ " + problem.one_line(obj.lang))


def _run_ingest(
    obj: Context, paths: tuple[Path, ...], dry_run: bool, reason: str | None = None
) -> None:
    workspace = obj.workspace()
    files = [p for p in paths] if paths else inbox_files(workspace)
    early = early_read.start(workspace, sorted(files, key=earliest_order)) if files else None
    try:
        workspace.read_rules()  # while the early read reads (early_read._guard_limits)
        if early and not early.guards_as(workspace.settings.limits):
            early.close()  # the rules file changed since the early read started
            early = None
        for path in files:
            if not path.exists():
                raise LedgerError("path_missing", path=str(path))
        if not files:
            obj.say("收件箱为空" if obj.lang == "zh" else "The inbox is empty")
            return
        show_bar = sys.stderr.isatty() and len(files) > 1
        with click.progressbar(
            length=2 * len(files), file=sys.stderr, label="ingest", hidden=not show_bar
        ) as bar:
            outcomes = pipeline.ingest(
                workspace,
                files,
                dry_run=dry_run,
                on_step=lambda: bar.update(1),
                reason=reason,
                early=early,
            )
    finally:
        if early:
            early.close()
    for outcome in outcomes:
        _print_outcome(obj, outcome, dry_run)
    if any(o.status == "quarantined" for o in outcomes):
        sys.exit(1)


@cli.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--reason", help="Why a month is dropped again (kept in the history).")
@click.pass_obj
@reports_errors
@holds_workspace("ingest", rules_first=False)
def ingest_command(obj: Context, paths: tuple[Path, ...], reason: str | None) -> None:
    """Validate and store ledger files (default: everything in inbox/).

    Each file is stored whole or quarantined whole. Exit 1 when any file was quarantined.

    \b
    Example:
      ledger-batch ingest                  # the whole inbox
      ledger-batch ingest 2025-03.xlsx     # one file
    """
    _run_ingest(obj, paths, dry_run=False, reason=reason)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
@reports_errors
def check(obj: Context, paths: tuple[Path, ...]) -> None:
    """Validate files exactly as ingest would; store nothing, move nothing.

    \b
    Example:
      ledger-batch check inbox/2025-03.xlsx
    """
    _run_ingest(obj, paths, dry_run=True)


@cli.command()
@click.argument("year", required=False)
@click.pass_obj
@reports_errors
def status(obj: Context, year: str | None) -> None:
    """Months stored, the roster now with its seat-rule warnings, open closed-loop items,
    and the outbox: messages by state, and those that wait for a person (unknown, failed).

    \b
    Example:
      ledger-batch status 2025
    """
    workspace = obj.workspace()
    with workspace.store() as store:
        obj.say(
            status_reports.status_report(
                store, workspace.settings, parse_year(year) if year else None, obj.lang
            )
        )
        outbox = deliver.outbox_status_text(store, obj.lang)
    if outbox:
        obj.say("\n" + outbox)


def _emit(
    obj: Context, as_json: bool, payload: Callable[[], object], text: Callable[[], str]
) -> None:
    if as_json:
        click.echo(json.dumps(payload(), ensure_ascii=False, indent=2, default=str))
    else:
        obj.say(text())


def _written(obj: Context, paths: list[Path], as_json: bool) -> None:
    """Name the report files written (on stderr when stdout carries JSON)."""
    heading = "报表已写入：" if obj.lang == "zh" else "Reports written:"
    lines = [heading, *(f"  {path}" for path in paths)]
    if as_json:
        click.echo("\n".join(lines), err=True)
    else:
        obj.say("\n" + "\n".join(lines))


email_option = click.option(
    "--email",
    "email",
    is_flag=True,
    help="Also queue its messages in outbox/ (recipients from [email] in ledger-batch.toml); "
    "`send` delivers them.",
)


def _queued(obj: Context, result: compose.QueueResult, as_json: bool) -> None:
    """Say what --email queued (on stderr when stdout carries JSON)."""
    text = compose.queue_text(result, obj.lang, verbose=obj.verbosity > 1)
    if as_json:
        click.echo(text, err=True)
    else:
        obj.say(text)


@cli.command()
@click.argument("period")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@email_option
@click.pass_obj
@reports_errors
@holds_workspace("month")
def month(obj: Context, period: str, as_json: bool, email: bool = False) -> None:
    """Monthly assessment (月考核) for YYYY-MM.

    With --email: the assessment to the manager and the office, and a reminder to each
    liaison with no counted item this month.

    \b
    Example:
      ledger-batch month 2025-03
      ledger-batch month 2025-03 --email
    """
    workspace = obj.workspace()
    with workspace.store() as store:
        figures = assess.month_figures(store, workspace.settings, parse_month(period))
    _emit(
        obj,
        as_json,
        lambda: assess.month_json(figures),
        lambda: render_text.month_text(figures, obj.lang),
    )
    report = reports.month_report(figures, workspace.settings, obj.lang)
    paths = publishing.publish(workspace, report, publishing.report_folder(workspace, figures.year))
    _written(obj, paths, as_json)
    if email:
        _queued(obj, compose.queue_month(workspace, figures, report, paths[0]), as_json)


@cli.command()
@click.argument("period")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@email_option
@click.pass_obj
@reports_errors
@holds_workspace("quarter")
def quarter(obj: Context, period: str, as_json: bool, email: bool = False) -> None:
    """Quarterly evaluation (季评价) for YYYY-Qn.

    With --email: the evaluation to the manager and the office.

    \b
    Example:
      ledger-batch quarter 2025-Q1
      ledger-batch quarter 2025-Q1 --email
    """
    workspace = obj.workspace()
    year, number = parse_quarter(period)
    with workspace.store() as store:
        figures = assess.quarter_figures(store, workspace.settings, year, number)
    _emit(
        obj,
        as_json,
        lambda: assess.quarter_json(figures),
        lambda: render_text.quarter_text(figures, obj.lang),
    )
    report = reports.quarter_report(figures, workspace.settings, obj.lang)
    paths = publishing.publish(workspace, report, publishing.report_folder(workspace, year))
    _written(obj, paths, as_json)
    if email:
        queued = compose.queue_summary(workspace, report, "quarter", f"{year}-Q{number}", paths[0])
        _queued(obj, queued, as_json)


@cli.command()
@click.argument("year")
@click.option(
    "--allow-missing-months",
    is_flag=True,
    help="Go on although months of the year have no ledger (the output says so).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.option(
    "--close", is_flag=True, help="Close the year after this final run (locks its months)."
)
@click.option("--reason", default="", help="Why the year is closed (kept in the history).")
@email_option
@click.pass_obj
@reports_errors
@holds_workspace("payout")
def payout(
    obj: Context,
    year: str,
    allow_missing_months: bool,
    as_json: bool,
    close: bool,
    reason: str,
    email: bool = False,
) -> None:
    """Year-end payout (年兑现) for an assessment year. Exit 3 when months are missing.

    With --close the year is locked afterwards: later files for its months are quarantined
    until `reopen`.

    \b
    Example:
      ledger-batch payout 2025
      ledger-batch payout 2025 --allow-missing-months --json
      ledger-batch payout 2025 --close
      ledger-batch payout 2025 --email     # the payout to the manager and the office
    """
    workspace = obj.workspace()
    number = parse_year(year)
    with workspace.store() as store:
        figures = assess.payout_figures(
            store, workspace.settings, number, allow_missing_months=allow_missing_months
        )
        if close:
            store.close_year(number, reason or ("年度兑现" if obj.lang == "zh" else "payout"))
        notices = reports.year_notices(store.events(), store.closed_year(number), number, obj.lang)
    _emit(
        obj,
        as_json,
        lambda: assess.payout_json(figures),
        lambda: render_text.payout_text(figures, obj.lang),
    )
    report = reports.payout_report(figures, workspace.settings, obj.lang, notices)
    paths = publishing.publish(workspace, report, publishing.report_folder(workspace, figures.year))
    _written(obj, paths, as_json)
    if email:
        queued = compose.queue_summary(workspace, report, "payout", str(figures.year), paths[0])
        _queued(obj, queued, as_json)
    if close:
        obj.say(
            f"{number} 年度已关闭；其月份的新文件将被隔离，除非 reopen。"
            if obj.lang == "zh"
            else f"Year {number} is closed; new files for its months are quarantined until reopen."
        )


@cli.command()
@click.argument("year")
@click.option("--reason", required=True, help="Why the closed year must change (required).")
@click.pass_obj
@reports_errors
@holds_workspace("reopen")
def reopen(obj: Context, year: str, reason: str) -> None:
    """Reopen a closed year so its months can change again; recorded with time, user, reason.

    \b
    Example:
      ledger-batch reopen 2025 --reason "财务退回：3月台账有误"
    """
    number = parse_year(year)
    if not reason.strip():
        raise LedgerError("reason_required")
    workspace = obj.workspace()
    with workspace.store() as store:
        if store.closed_year(number) is None:
            raise LedgerError("year_not_closed", year=number)
        store.reopen_year(number, reason.strip())
    obj.say(f"{number} 年度已重新打开" if obj.lang == "zh" else f"Year {number} reopened")


@cli.command()
@click.argument("year", required=False)
@click.pass_obj
@reports_errors
def history(obj: Context, year: str | None) -> None:
    """Every close, reopen and month replacement: when, by whom (OS user), why.

    \b
    Example:
      ledger-batch history 2025
    """
    workspace = obj.workspace()
    with workspace.store() as store:
        events = store.events()
    number = parse_year(year) if year else None
    obj.say(
        render_text.history_text(
            events, number, workspace.settings.rules.year_start_month, obj.lang
        )
    )


@cli.command()
@click.argument("year")
@click.option(
    "--allow-missing-months",
    is_flag=True,
    help="Go on although months of the year have no ledger (each statement says so).",
)
@email_option
@click.pass_obj
@reports_errors
@holds_workspace("statements")
def statements(obj: Context, year: str, allow_missing_months: bool, email: bool = False) -> None:
    """Personal statements (个人考核通知单): one workbook and one HTML per liaison.

    Each holds that person's own figures only. With --email each liaison's statement is
    queued to that liaison alone, at the 邮箱 in the roster.

    \b
    Example:
      ledger-batch statements 2025
      ledger-batch statements 2025 --email
    """
    workspace = obj.workspace()
    with workspace.store() as store:
        figures = assess.payout_figures(
            store, workspace.settings, parse_year(year), allow_missing_months=allow_missing_months
        )
    personal = reports.statement_reports(figures, workspace.settings, obj.lang)
    paths = publishing.publish_statements(workspace, personal, figures.year)
    for path in paths:
        obj.say(str(path), 2)
    folder = paths[0].parent if paths else publishing.report_folder(workspace, figures.year)
    obj.say(
        f"个人考核通知单 {len(personal)} 份（xlsx 与 html）：{folder}"
        if obj.lang == "zh"
        else f"{len(personal)} personal statements (xlsx and html): {folder}"
    )
    if email:
        queued = compose.queue_statements(workspace, figures, personal, paths[0::2])
        _queued(obj, queued, False)


@cli.command()
@click.argument("period")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Where to write it (default: <workspace>/<YYYY-MM> 经理联络员台账.xlsx).",
)
@click.pass_obj
@reports_errors
def template(obj: Context, period: str, output: Path | None) -> None:
    """Write a blank ledger workbook for a month: every sheet, drop-downs, the roster's names.

    \b
    Example:
      ledger-batch template 2025-04
    """
    workspace = obj.workspace()
    month_period = parse_month(period)
    with workspace.store() as store:
        roster = store.roster_for(month_period)
    target = output or workspace.root / f"{month_period} 经理联络员台账.xlsx"
    write_atomically(
        target,
        lambda path: blank_ledgers.write_blank_ledger(
            path,
            month_period,
            roster,
            workspace.settings.company,
            workspace.settings.rules.year_start_month,
        ),
    )
    obj.say(("空白台账：" if obj.lang == "zh" else "Blank ledger: ") + str(target))


@cli.command()
@click.option(
    "--poll",
    "poll_seconds",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds between looks at the inbox.",
)
@click.option(
    "--month-reports/--no-month-reports",
    default=True,
    show_default=True,
    help="Write the monthly assessment after each month is stored.",
)
@click.pass_obj
@reports_errors
def watch(obj: Context, poll_seconds: float, month_reports: bool) -> None:
    """Watch inbox/ and ingest each file once it has finished arriving; Ctrl-C stops.

    After a month is stored, its monthly assessment (月考核) is written under reports/.

    \b
    Example:
      ledger-batch -w D:/联络员 watch
    """
    workspace = obj.workspace()

    def log(text: str) -> None:
        click.echo(f"[{datetime.now().isoformat(sep=' ', timespec='seconds')}] {text}")

    def handle(outcome: FileOutcome) -> None:
        _print_outcome(obj, outcome, log=log)
        if month_reports and outcome.status == "stored" and outcome.kind == "month":
            _month_report_after_ingest(obj, workspace, outcome.period, log)

    log(("开始监视 " if obj.lang == "zh" else "Watching ") + str(workspace.folder("inbox")))
    watching.watch_inbox(
        workspace,
        handle,
        poll_seconds=poll_seconds,
        on_busy=lambda busy: log(busy.text(obj.lang).splitlines()[0]),
    )
    log("已停止监视" if obj.lang == "zh" else "Stopped watching")


def _month_report_after_ingest(
    obj: Context, workspace: Workspace, period: str, log: Callable[[str], None]
) -> None:
    """The month's assessment, written as `month` would (watch already holds the lock)."""
    try:
        with workspace.store() as store:
            figures = assess.month_figures(store, workspace.settings, period)
        report = reports.month_report(figures, workspace.settings, obj.lang)
        paths = publishing.publish(
            workspace, report, publishing.report_folder(workspace, figures.year)
        )
    except LedgerError as error:
        log(error.text(obj.lang).splitlines()[0])
        return
    log(("报表已写入：" if obj.lang == "zh" else "Reports written: ") + ", ".join(map(str, paths)))


@cli.command()
@click.option("--dry-run", is_flag=True, help="List what would be sent; send nothing.")
@click.option(
    "--resend",
    "resend_keys",
    multiple=True,
    metavar="KEY",
    help="Send again a message whose outcome is unknown, or that failed (repeatable).",
)
@click.pass_obj
@reports_errors
def send(obj: Context, dry_run: bool, resend_keys: tuple[str, ...]) -> None:
    """Deliver the messages queued in outbox/ over SMTP, one recipient each.

    Server, port, login and sender come from [email] in ledger-batch.toml; the password only
    from the environment variable it names (password_env). Without smtp_host the messages
    stay in outbox/. Exit 1 when a message failed, is unknown or is still queued.

    \b
    Example:
      ledger-batch send --dry-run
      ledger-batch send
      ledger-batch send --resend 2025-03-statement-1a2b3c4d5e
    """
    workspace = obj.workspace()
    with workspace.store() as store:
        due, waiting = deliver.preview(store, resend_keys)
    if dry_run:
        obj.say(deliver.preview_text(due, waiting, workspace.settings.email, obj.lang))
        return
    show_bar = sys.stderr.isatty() and len(due) > 1
    with click.progressbar(
        length=len(due), file=sys.stderr, label="send", hidden=not show_bar
    ) as bar:

        def progress(message: OutboxMessage, state: str, reply: str) -> None:
            if state != "retry":
                bar.update(1)
            obj.say(f"  {state:<7} {message.key} {message.address}: {reply}", 2)

        summary = deliver.send(workspace, resend_keys=resend_keys, progress=progress)
    obj.say(deliver.summary_text(summary, obj.lang))
    if summary.stopped is not None:
        raise summary.stopped
    if summary.needs_attention or (summary.configured and summary.left):
        sys.exit(1)


@cli.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.pass_context
@reports_errors
def demo(ctx: click.Context, directory: Path | None) -> None:
    """Run the whole job on the bundled sample year in a fresh workspace.

    Its messages are queued in outbox/ (to example addresses); no SMTP server is set, so
    nothing is sent.

    \b
    Example:
      ledger-batch demo ./ledger-batch-demo
    """
    obj: Context = ctx.obj
    target = directory or _fresh_dir(Path.cwd() / "ledger-batch-demo")
    workspace, created = Workspace.create(target)
    if workspace.config_path in created:
        demo_settings = config.Settings(email=config.SAMPLE_EMAIL)
        workspace.config_path.write_text(default_config_text(demo_settings), encoding="utf-8")
    samples = sorted(
        p
        for p in data_dir("sample_ledgers").iterdir()
        if p.is_file() and p.suffix.lower() in {".xlsx", ".xls", ".ods", ".csv"}
    )
    for sample in samples:
        shutil.copy2(sample, workspace.folder("inbox") / sample.name)
    obj.workspace_dir = workspace.root
    year = _sample_year(samples)
    try:
        ctx.invoke(ingest_command, paths=(), reason=None)
    except SystemExit as exit_:
        if exit_.code:
            raise
    ctx.invoke(month, period=f"{year}-03", as_json=False, email=True)
    ctx.invoke(quarter, period=f"{year}-Q1", as_json=False, email=True)
    ctx.invoke(payout, year=str(year), allow_missing_months=False, as_json=False, email=True)
    ctx.invoke(statements, year=str(year), allow_missing_months=False, email=True)
    ctx.invoke(send, dry_run=False, resend_keys=())
    obj.say(("\n演示工作区：" if obj.lang == "zh" else "\nDemo workspace: ") + str(workspace.root))


def _fresh_dir(base: Path) -> Path:
    candidate, counter = base, 1
    while candidate.exists():
        counter += 1
        candidate = base.with_name(f"{base.name}-{counter}")
    return candidate


def _sample_year(samples: list[Path]) -> int:
    periods = sorted(p for s in samples if (p := month_in_name(s.name)))
    return int(periods[0][:4]) if periods else 2025


def main() -> None:
    """Console entry point.

    Once the command is done — its files closed, its store closed, its reader processes
    joined, its output flushed and the exit handlers run — the process ends without tearing
    the interpreter down: freeing pandas, Arrow and every module object one by one takes
    0.3–0.4 s and changes nothing a user could see.
    """
    try:
        cli()
        status: object = 0
    except SystemExit as stop:
        status = stop.code
    if status is None:
        status = 0
    elif not isinstance(status, int):  # sys.exit("message"): printed, exit status 1
        click.echo(str(status), err=True)
        status = 1
    atexit._run_exitfuncs()  # what a normal exit runs (logging, temporary files, children)
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe (| head) takes nothing more
            stream.flush()
    os._exit(status)
