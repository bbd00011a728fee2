"""A bench run from end to end: collect what the strategies will ask for, fold the suite so
that each problem is ranked out of fold, replay the strategies, write the report; and the
cascade's calibration over a collection. The CLI (`cli/bench.py`) parses the arguments and
prints; this module does the work and tells its progress to a `Listener`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from codequorum.bench.collect import collect
from codequorum.bench.live_cache import LiveCache
from codequorum.bench.on_demand import OnDemand
from codequorum.bench.out_of_fold import Fold, out_of_fold, trainable
from codequorum.bench.problems import Problem, humaneval
from codequorum.bench.recheck import recheck
from codequorum.bench.replay import GREEDY, Outcome, ReplayPool, StrategyRun, replay
from codequorum.bench.report import member_figures, oracle
from codequorum.bench.results import Report, StrategyFigures, strategy_figures, write_report
from codequorum.config import Settings
from codequorum.core.engine import Engine
from codequorum.sandbox import SandboxLimits
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.records import CandidateStore, Record, Setting

LIVE_CACHE = "live.jsonl"  # answers to prompts the collection did not hold (fuse, moa)


class Listener(Protocol):
    """Hears what a bench run is doing: a line for the log, and a task's progress."""

    def note(self, line: str) -> None: ...

    def task(self, description: str, total: int) -> AbstractContextManager[Callable[[str], None]]:
        """A task of `total` steps; the callable advances it by one, with a new description."""
        ...


class Quiet:
    """A listener that hears nothing (a script, a test)."""

    def note(self, line: str) -> None:
        return None

    @contextmanager
    def task(self, description: str, total: int) -> Iterator[Callable[[str], None]]:
        yield lambda _description: None


@dataclass(frozen=True)
class BenchPlan:
    """What one `codequorum bench humaneval|file` command asks for."""

    problems: list[Problem]
    members: list[str]
    setting: Setting
    out: Path
    strategies: list[StrategyRun] = field(default_factory=list)  # none: collect and report only
    lazy_samples: bool = False
    trained_on_suite: bool = False  # the shipped ranker saw this suite: rank out of fold

    @property
    def store(self) -> CandidateStore:
        return CandidateStore(self.out / "candidates.jsonl")

    @property
    def lazy(self) -> bool:
        return self.lazy_samples and bool(self.strategies) and self.setting.key != GREEDY

    @property
    def settings_to_collect(self) -> list[Setting]:
        """The setting asked for, after the greedy one the strategies also ask for (single,
        best-of and rank)."""
        if self.strategies and self.setting.key != GREEDY:
            return [Setting(), self.setting]
        return [self.setting]


@dataclass(frozen=True)
class Collected:
    records: list[Record]  # what this command asked for: the plan's problems and settings
    everything: list[Record]  # the plan's members' records, any problem and setting


def member_names(settings: Settings, members: str | None) -> list[str]:
    """The comma-separated members, or every enabled one."""
    return members.split(",") if members else [m.name for m in settings.enabled_members()]


def sandbox_limits(settings: Settings) -> SandboxLimits:
    return SandboxLimits(timeout_s=settings.sandbox.timeout_s, memory_mb=settings.sandbox.memory_mb)


def collect_plan(settings: Settings, plan: BenchPlan, listener: Listener) -> Collected:
    """Every cell the plan needs generated (resumably: what the store holds is skipped); with
    lazy samples, only the greedy answers now, the sampled ones when a strategy asks."""
    store = plan.store
    wanted = plan.settings_to_collect
    for setting in wanted[:1] if plan.lazy else wanted:
        asyncio.run(_collect(settings, plan.problems, plan.members, setting, store, listener))
    ids = {p.id for p in plan.problems}
    everything = [r for r in store.records() if r.member in plan.members]
    keys = {setting.key for setting in wanted}  # other settings in the store may cover other problems
    return Collected([r for r in everything if r.problem in ids and r.setting in keys], everything)


async def _collect(settings: Settings, problems: list[Problem], names: list[str], setting: Setting,
                   store: CandidateStore, listener: Listener) -> None:
    engine = Engine(settings)
    ids = {p.id for p in problems}
    done = [c for c in store.done_cells() if c[1] in names and c[2] == setting.key and c[0] in ids]
    try:
        with listener.task("collecting", len(problems) * len(names) - len(done)) as advance:
            await collect(engine, problems, names, setting, store, sandbox_limits(settings), progress=advance)
    finally:
        await engine.aclose()


@dataclass(frozen=True)
class Replayed:
    figures: list[StrategyFigures]
    written: list[Path]  # results.json, results.md, frontier.png


def replay_plan(settings: Settings, plan: BenchPlan, collected: Collected, command: str, machine: str,
                listener: Listener) -> Replayed:
    """The plan's strategies over what was collected (and, lazily, what they ask for), reported."""
    limits = sandbox_limits(settings)
    folds = folds_for(settings, plan.problems, collected.everything, plan.out, plan.strategies,
                      plan.trained_on_suite, listener)
    on_demand = OnDemand(settings, plan.problems, plan.setting, plan.store, limits,
                         progress=listener.note) if plan.lazy else None
    records = collected.records
    pool = ReplayPool.of(records, sampled=None if plan.setting.key == GREEDY else plan.setting)
    outcomes = replay_folds(folds, pool, plan.members, plan.strategies, limits, plan.out, listener, on_demand)
    if on_demand is not None:
        records = records + on_demand.collected
        cells = len({r.cell for r in on_demand.collected})
        listener.note(f"collected on demand: {cells} cells, {len(on_demand.collected)} sampled answers")
    figures = strategy_figures(outcomes)
    report = Report(command, machine, member_figures(records), figures, oracle(records), outcomes)
    return Replayed(figures, list(write_report(report, plan.out)))


def folds_for(settings: Settings, problems: list[Problem], collected: list[Record], out: Path,
              runs: Sequence[StrategyRun], trained_on_suite: bool, listener: Listener) -> list[Fold]:
    """The problems and the settings that rank them. Ranking HumanEval with the shipped weights,
    trained on HumanEval candidates, would flatter it: there each problem is ranked by a ranker
    trained out of fold on the collection (or, without torch, by no ranker)."""
    if not trained_on_suite or not settings.ranking.listwise:
        return [Fold(settings, problems)]
    if not trainable():
        listener.note("the shipped listwise ranker was trained on HumanEval candidates and torch "
                      "(the ranker extra) is missing to train one out of fold: ranking without it")
        ranking = settings.ranking.model_copy(update={"listwise": False})
        return [Fold(settings.model_copy(update={"ranking": ranking}), problems)]
    routed = any(run.name == "route" for run in runs)  # its memories cost an embedding pass
    started = time.monotonic()
    greedy = asyncio.run(recheck(settings, [r for r in collected if r.setting == GREEDY], humaneval()))
    listener.note(f"the visible checks re-ran on the {len(greedy)} greedy candidates the rankers learn "
                  f"from, as they check now ({time.monotonic() - started:.0f} s)")
    folds = out_of_fold(settings, greedy, problems, out / "rankers", suite=humaneval() if routed else ())
    listener.note(f"the shipped listwise ranker was trained on HumanEval candidates: each problem "
                  f"is ranked by one of {len(folds)} rankers trained on the other folds' greedy "
                  f"candidates ({out / 'rankers'})" + (", and routed with a memory built the same way"
                                                       if routed else ""))
    return folds


def replay_folds(folds: list[Fold], pool: ReplayPool, names: list[str], strategies: Sequence[StrategyRun],
                 limits: SandboxLimits, out: Path, listener: Listener,
                 on_demand: OnDemand | None = None) -> list[Outcome]:
    """Every strategy on every fold's problems, with that fold's settings."""
    live_cache = LiveCache.open(out / LIVE_CACHE)
    outcomes: list[Outcome] = []
    total = sum(len(fold.problems) for fold in folds) * len(strategies)
    with listener.task("replaying", total) as advance:
        for fold in folds:
            outcomes += asyncio.run(replay(
                fold.settings, pool, fold.problems, names, strategies, limits, live_cache=live_cache,
                on_demand=on_demand, progress=lambda outcome: advance(f"{outcome.strategy} {outcome.problem}")))
    return outcomes


# ---- the cascade's threshold, calibrated on a collection ----------------------------------


@dataclass(frozen=True)
class Calibration:
    figures: list[StrategyFigures]  # the references first, then one per threshold
    references: int
    goal: float  # the pass@1 to reach
    threshold: str | None  # the cheapest threshold that reaches it; None when none does

    @property
    def chosen(self) -> StrategyFigures | None:
        return next((f for f in self.figures[self.references:]
                     if f.strategy == f"cascade threshold={self.threshold}"), None)


def calibrate(settings: Settings, problems: list[Problem], names: list[str], out: Path, setting: Setting,
              thresholds: Sequence[str], references: Sequence[StrategyRun], share: float,
              trained_on_suite: bool, listener: Listener) -> Calibration:
    """The cheapest cascade threshold whose pass@1 reaches `share` of the best reference's,
    replayed over the collection in `out` (nothing is generated)."""
    ids = {p.id for p in problems}
    collected = [r for r in CandidateStore(out / "candidates.jsonl").records() if r.member in names]
    records = [r for r in collected if r.problem in ids]
    _require_samples(records, setting, out, names)
    runs = list(references) + [
        StrategyRun(f"cascade threshold={t}", "cascade",
                    {"threshold": float(t), "samples": setting.samples, "temperature": setting.temperature})
        for t in thresholds]
    folds = folds_for(settings, problems, collected, out, runs, trained_on_suite, listener)
    pool = ReplayPool.of(records, sampled=setting)
    figures = strategy_figures(replay_folds(folds, pool, names, runs, sandbox_limits(settings), out, listener))
    goal = share * max(f.pass_at_1 for f in figures[:len(references)])
    reaching = [f for f in figures[len(references):] if f.pass_at_1 >= goal and not f.misses]
    best = min(reaching, key=lambda f: f.compute_seconds_per_problem) if reaching else None
    threshold = best.strategy.split("threshold=")[1] if best else None
    return Calibration(figures, len(references), goal, threshold)


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
