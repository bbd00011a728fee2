"""Readable rich output: the snippet, then who proposed what and why it won."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.result import Result

console = Console()


def print_result(result: Result) -> None:
    best = result.best
    language = "python"
    title = f"best: {best.member}" if best else "no candidate"
    console.print(Panel(Syntax(result.text or "", language, line_numbers=False), title=title))
    console.print(_candidates_table(result.candidates))
    print_calls(result)


def print_calls(result: Result) -> None:
    """The member calls (when there were any), the trace's events and the stop reason."""
    if result.trace.calls:
        console.print(_calls_table(result))
    for event in result.trace.events:
        console.print(f"  · {event}", highlight=False, markup=False)
    console.print(
        f"[bold]{result.strategy}[/]: {escape(result.trace.stop_reason)} ({result.trace.seconds:.1f}s)",
        highlight=False,
    )


def _candidates_table(candidates: list[Candidate]) -> Table:
    table = Table("#", "member", "score", "syntax", "tests", "tokens", "first line", title="candidates")
    for rank, candidate in enumerate(candidates, start=1):
        tests = candidate.tests
        table.add_row(
            str(rank),
            candidate.member,
            f"{candidate.score:.2f}",
            _mark(candidate.syntax_ok),
            f"{tests.passed}/{tests.passed + tests.failed}" if tests else "-",
            str(candidate.tokens),
            _first_line(candidate.text),
        )
    return table


def _calls_table(result: Result) -> Table:
    table = Table("member", "prompt", "tokens", "seconds", "cost", "error", title="member calls")
    for call in result.trace.calls:
        table.add_row(call.member, call.prompt_kind, str(call.tokens), f"{call.seconds:.2f}",
                      f"{call.cost:.2f}", f"[red]{call.error}[/]" if call.error else "")
    return table


def _mark(value: bool | None) -> str:
    return {True: "[green]ok[/]", False: "[red]broken[/]", None: "-"}[value]


def _first_line(text: str) -> str:
    line = next((row for row in text.splitlines() if row.strip()), "")
    return line.strip()[:60]
