"""`codequorum fix`: repair the code that a failing test command points at."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from codequorum.cli.errors import user_errors
from codequorum.cli.preflight import check_request_choice
from codequorum.cli.progress import working
from codequorum.config import load_settings
from codequorum.core.engine import Engine
from codequorum.core.registry import Registry
from codequorum.core.repair import MAX_ROUNDS
from codequorum.fix.report import FixOutcome, FixReport
from codequorum.fix.service import FixJob, run_fix
from codequorum.fix.work_area import removed_on_termination
from codequorum.stores.verified import keep_verified
from codequorum.vocabulary.errors import CodequorumError

console = Console()
stderr = Console(stderr=True)
OUTPUT_LINES = 40  # of the command's output shown when it cannot run


def fix(
    path: Path = typer.Argument(..., help="The file to fix, or the project directory (the file is "
                                          "then found from the failure)."),
    test: str = typer.Option(..., "--test", "-t", help="Test command, run in the sandbox from the "
                                                       "project root, e.g. 'python -m pytest -q'."),
    apply: bool = typer.Option(False, "--apply", help="Write the best fix if the tests pass with it "
                                                      "(the original goes to .codequorum/backup/)."),
    project: Path | None = typer.Option(None, "--project", help="Project root (default: the nearest "
                                        "folder above the file with pyproject.toml, setup.py, .git…; "
                                        "without one, the working directory if it holds the file)."),
    strategy: str | None = typer.Option(None, "--strategy", "-s", help="Strategy as NAME or "
                                        "NAME:key=value:... (default: [engine] strategy)."),
    member: list[str] = typer.Option([], "--member", "-m", help="Ask only this member (repeatable)."),
    repair: int | None = typer.Option(
        None, "--repair", help="Repair rounds when no candidate passes: the strongest member sees "
        "what the tests printed with the best attempt (default: the strategy's `repair` option, "
        "2 with the default strategy; 0 = off)."),
    max_tokens: int = typer.Option(384, "--max-tokens", help="Cap on generated tokens per candidate."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds each test run may take."),
    python: Path | None = typer.Option(None, "--python", help="Interpreter or venv for the tests "
                                       "(default: the project's .venv, else the active venv)."),
    config: Path | None = typer.Option(None, "--config", help="Configuration file (TOML)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Run the tests, ask the members to fix the failing function, keep the fix that passes.

    Exit codes: 0 fixed (or the tests already pass), 1 no candidate fixes them, 2 usage error,
    3 the test command cannot run, 4 the failure names no function to fix, 5 a fix passes but
    --apply could not write it.
    """
    with user_errors():
        if timeout <= 0 or max_tokens < 1 or (repair is not None and not 0 <= repair <= MAX_ROUNDS):
            raise CodequorumError(f"--timeout must be positive, --max-tokens at least 1 and --repair "
                                  f"between 0 and {MAX_ROUNDS}")
        if not test.strip():
            raise CodequorumError("--test is empty: give the command that runs the tests, "
                                  "e.g. --test 'python -m pytest -q'")
        settings = load_settings(config)
        registry = Registry(disabled=frozenset(settings.plugins.disabled))
        single = len(member) == 1 and strategy in (None, "single")
        check_request_choice(settings, registry, "single" if single else strategy,
                             {"member": member[0]} if single else {}, member)
        job = FixJob(target=path, command=test, apply=apply, project=project, strategy=strategy,
                     members=tuple(member), max_tokens=max_tokens, timeout_s=timeout, python=python,
                     repair=repair, cwd=Path.cwd())

        async def go() -> FixReport:
            engine = Engine(settings, registry)
            try:
                return await run_fix(job, engine)
            finally:
                await engine.aclose()

        with removed_on_termination(), \
                working(f"fix ({test})", list(member) or settings.generation_members(), settings, stderr):
            report = asyncio.run(go())
    if report.verified is not None:  # it passed the test command in the sandbox: keep it for distill
        note = keep_verified(settings.distill, report.verified)
        if note:
            report.notes.append(note)
    if as_json:
        typer.echo(json.dumps(report.to_json_dict(), indent=2))
    else:
        print_report(report)
    raise typer.Exit(report.exit_code)


def print_report(report: FixReport) -> None:
    best = report.best
    for note in report.notes:
        stderr.print(f"note: {note}", highlight=False, markup=False)
    if report.outcome is FixOutcome.CANNOT_RUN and report.baseline is not None:
        tail = "\n".join(report.baseline.output.rstrip().splitlines()[-OUTPUT_LINES:])
        stderr.print(tail, highlight=False, markup=False)
    if best is not None and best.diff:
        title = "best fix" if best.passed else "best attempt (the tests still fail)"
        console.print(f"[bold]{title}[/] ({best.member}):", highlight=False)
        if console.is_terminal:
            console.print(Syntax(best.diff, "diff", line_numbers=False))
        else:  # piped: the diff exactly, usable by `git apply`
            typer.echo(best.diff, nl=False)
    if report.attempts:
        console.print(_attempts_table(report))
    for call in report.trace.errors if report.trace else []:
        console.print(f"  · member {call.member} failed: {call.error}", highlight=False, markup=False)
    style = "green" if report.exit_code == 0 else "red"
    console.print(f"[bold {style}]{report.outcome.value}:[/] {report.message} "
                  f"({report.seconds:.1f}s)", highlight=False)


def _attempts_table(report: FixReport) -> Table:
    table = Table("#", "member", "tests", "lines changed", "score", "note", title="candidates")
    for rank, attempt in enumerate(report.attempts, start=1):
        tests = "[green]pass[/]" if attempt.passed else "[red]fail[/]" if attempt.tried else "-"
        table.add_row(str(rank), attempt.member, tests, str(attempt.lines_changed),
                      f"{attempt.score:.2f}", attempt.problem or "")
    return table
