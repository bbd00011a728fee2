"""Replay strategies over a collected pool: the members answer from the store, not the models.

RouterBench's "collect once, replay many": every strategy runs unchanged through the real
engine (its checks, ranking and decisions), but each member call is served from the
collection: greedy calls (temperature 0) get the member's greedy answer, sampled calls take
the next unused samples of the sampled setting. Each candidate's hidden-test outcome was
stored at collection; a text the pool has not seen (a strategy that writes new code) is run
against the hidden tests in the sandbox. The compute-seconds and tokens of a call are those
measured when the samples were collected, so cost figures stay real.

With an OnDemand collector, a sampled call on a problem whose samples were never collected
collects them there and then (`bench/on_demand.py`), so strategies that sample rarely need no
full sampled collection.

A prompt the collection cannot answer (a fusion or Mixture-of-Agents aggregation prompt) goes
to the member's real backend, live: those strategies are measured with real generations, which
a LiveCache keeps so that a second replay asks no model again. A strategy that is not
`replayable` at all (`logit-fusion` steps the models token by token) runs on the real members
from the start, scored the same way.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from codequorum.bench.collect import request_for
from codequorum.bench.execute import hidden_results
from codequorum.bench.live_cache import LiveCache, outcome_key
from codequorum.bench.on_demand import OnDemand
from codequorum.bench.problems import Problem
from codequorum.config import Settings
from codequorum.core.engine import Engine
from codequorum.core.prompts import FimTemplate, build_prompt
from codequorum.core.registry import Registry
from codequorum.core.runtime import Runtime
from codequorum.sandbox import SandboxLimits
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt
from codequorum.vocabulary.records import Record, Setting, add_to_cells
from codequorum.vocabulary.request import Request
from codequorum.vocabulary.result import Result

GREEDY = "k1-t0"


class ReplayMiss(CodequorumError):
    """The pool lacks what a strategy asked for."""


@dataclass
class ReplayPool:
    """Collected records by (problem, member, setting), served in sampling order per problem."""

    sampled: Setting | None  # the setting that answers sampled calls, e.g. 3 samples at 0.6
    cells: dict[tuple[str, str, str], list[Record]] = field(default_factory=dict)
    problem: str = ""
    _next: dict[str, int] = field(default_factory=dict)  # next unused sample per member
    _collected_prompts: frozenset[Prompt] = frozenset()  # what the collection answered

    @classmethod
    def of(cls, records: Iterable[Record], sampled: Setting | None) -> ReplayPool:
        pool = cls(sampled)
        pool.add(records)
        return pool

    def add(self, records: Iterable[Record]) -> None:
        add_to_cells(self.cells, records)

    def lacks_samples(self, member: str, temperature: float) -> bool:
        """Whether a call sampling `member` at `temperature` on the current problem finds no
        cell, one that collecting the sampled setting would fill (same temperature)."""
        return (self.sampled is not None and self._at_sampled(temperature)
                and not self.cells.get((self.problem, member, self.sampled.key)))

    def _at_sampled(self, temperature: float) -> bool:
        return self.sampled is not None and abs(temperature - self.sampled.temperature) < 1e-9

    def start(self, problem: str, request: Request | None = None,
              fims: Iterable[str | FimTemplate | None] = ()) -> None:
        """Serve `problem` next; `request` and the members' FIM templates tell the prompts the
        collection answered from those it did not (None: every prompt is a collected one)."""
        self.problem, self._next = problem, {}
        self._collected_prompts = frozenset(
            build_prompt(request, fim, use_fim) for fim in fims for use_fim in (None, True, False)
        ) if request is not None else frozenset()

    def collected(self, prompt: Prompt) -> bool:
        return not self._collected_prompts or prompt in self._collected_prompts

    def take(self, member: str, n: int, temperature: float) -> list[Record]:
        if temperature <= 0:
            return self._cell(member, GREEDY)[:1] * n
        if self.sampled is None:
            raise ReplayMiss(f"a strategy sampled {member} at temperature {temperature:g}, but the "
                             "replay has no sampled setting (collect with --samples K --temperature T)")
        if not self._at_sampled(temperature):
            raise ReplayMiss(f"{self.problem}: a strategy sampled {member} at temperature "
                             f"{temperature:g}; the collection's samples are at {self.sampled.temperature:g}")
        cell = self._cell(member, self.sampled.key)
        start = self._next.get(member, 0)
        if start + n > len(cell):
            raise ReplayMiss(f"{self.problem}: {member} has {len(cell)} samples at {self.sampled.key}; "
                             f"a strategy asked for {start + n}")
        self._next[member] = start + n
        return cell[start:start + n]

    def passed(self, problem: str, text: str) -> bool | None:
        """The stored hidden-test outcome of this exact text, if the pool has it."""
        for records in self.cells.values():
            for record in records:
                if record.problem == problem and record.text == text and record.passed is not None:
                    return record.passed
        return None

    def _cell(self, member: str, setting: str) -> list[Record]:
        cell = self.cells.get((self.problem, member, setting))
        if not cell:
            raise ReplayMiss(f"{self.problem}: nothing collected for {member} at {setting}")
        return cell


def replay_backend(pool: ReplayPool, live: Settings | None = None,
                   live_cache: LiveCache | None = None, on_demand: OnDemand | None = None) -> type:
    """A backend class, bound to `pool`, that the engine builds like any other; prompts the
    pool did not collect go to the member's real backend as configured in `live`, and their
    answers to `live_cache`; samples the pool lacks are collected by `on_demand`, if given."""
    runtime = Runtime.create(live) if live is not None else None
    cache = live_cache if live_cache is not None else LiveCache(None)

    class ReplayBackend:
        def __init__(self, member: Any, _runtime: Any) -> None:
            self.name = member.options.get("replays", member.name)
            self.fim = member.fim
            self._live: Any = None

        @property
        def supports_fim(self) -> bool:
            return self.fim is not None

        async def generate(self, prompt: Prompt, params: GenerationParams,
                           cancel: CancelToken) -> list[Generation]:
            if not pool.collected(prompt):
                return await self._generate_live(prompt, params, cancel)
            if on_demand is not None and pool.lacks_samples(self.name, params.temperature):
                pool.add(await on_demand.collect(pool.problem, self.name))
            records = pool.take(self.name, params.n, params.temperature)
            if any(r.error for r in records):
                raise RuntimeError(records[0].error)
            return [_generation(r) for r in records]

        async def _generate_live(self, prompt: Prompt, params: GenerationParams,
                                 cancel: CancelToken) -> list[Generation]:
            cached = cache.get(self.name, prompt, params)
            if cached is not None:
                return cached
            generations: list[Generation] = await self._live_backend().generate(prompt, params, cancel)
            cache.put(self.name, prompt, params, generations)
            return generations

        def _live_backend(self) -> Any:
            if self._live is None:
                if runtime is None:
                    raise ReplayMiss(f"{pool.problem}: a prompt for {self.name} that the collection "
                                     "does not hold, and no live backend to ask")
                config = runtime.settings.members[self.name]
                self._live = runtime.registry.load("backends", config.backend)(config, runtime)
            return self._live

        async def aclose(self) -> None:
            if self._live is not None:
                await self._live.aclose()

    return ReplayBackend


def _generation(record: Record) -> Generation:
    # The stored text is already clean code; fenced, it comes out of the engine's clean-up as is.
    return Generation(f"```python\n{record.text}```", record.tokens, 0, record.compute_seconds,
                      record.mean_logprob)


def replay_settings(settings: Settings, members: Sequence[str]) -> Settings:
    """The members as configured (quality, price, prompt formats), answering from the pool."""
    replayed = {}
    for name in members:
        config = settings.members[name]
        options = {**config.options, "replays": name}
        replayed[name] = config.model_copy(update={"backend": "replay", "options": options,
                                                   "retries": 0, "circuit_failures": 0,
                                                   "enabled": True})
    return settings.model_copy(update={"members": replayed})


@dataclass(frozen=True)
class StrategyRun:
    """A strategy with options, e.g. from the spec "cascade:threshold=0.5:samples=3"."""

    label: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str) -> StrategyRun:
        name, *pairs = spec.strip().split(":")
        options = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise CodequorumError(f"strategy spec {spec!r}: expected NAME[:key=value...], got {pair!r}")
            options[key] = _option_value(value)
        return cls(spec.strip(), name, options)


def _option_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class Outcome:
    """One strategy on one problem."""

    problem: str
    strategy: str
    passed: bool
    member_calls: int
    tokens: int
    cost: float
    compute_seconds: float
    seconds: float  # wall time of the replay itself (checks, ranking), not of generation
    error: str | None = None


async def replay(
    settings: Settings,
    pool: ReplayPool,
    problems: Sequence[Problem],
    members: Sequence[str],
    strategies: Sequence[StrategyRun | str],
    limits: SandboxLimits,
    max_tokens: int = 384,
    live_cache: LiveCache | None = None,
    on_demand: OnDemand | None = None,
    progress: Callable[[Outcome], None] = lambda _outcome: None,
) -> list[Outcome]:
    """Each strategy on each problem, in that order; `progress` hears of every outcome."""
    try:
        return await _replay_each(settings, pool, problems, members, strategies, limits, max_tokens,
                                  live_cache, on_demand, progress)
    finally:
        if on_demand is not None:
            await on_demand.aclose()


async def _replay_each(settings: Settings, pool: ReplayPool, problems: Sequence[Problem],
                       members: Sequence[str], strategies: Sequence[StrategyRun | str],
                       limits: SandboxLimits, max_tokens: int, live_cache: LiveCache | None,
                       on_demand: OnDemand | None, progress: Callable[[Outcome], None]) -> list[Outcome]:
    outcomes = []
    for run in strategies:
        strategy = run if isinstance(run, StrategyRun) else StrategyRun.parse(run)
        # An engine per strategy: its members' memo of greedy answers must not make a later
        # strategy's calls look free.
        registry = Registry(disabled=frozenset(settings.plugins.disabled))
        live = not _replayable(registry, strategy.name)
        engine = _engine_for(live, registry, settings, pool, members, live_cache, on_demand)
        kept = live_cache if live else None  # a strategy run live as a whole: outcomes per problem
        try:
            _check_options(engine, strategy)
            fims = [m.fim_template for m in engine.members(members)]
            for problem in problems:
                key = outcome_key(strategy.name, strategy.options, list(members), problem.prompt, max_tokens)
                outcome = _stored(kept, key, strategy.label)
                if outcome is None:
                    outcome, answered = await _play(engine, strategy, problem, members, pool, fims,
                                                    limits, max_tokens)
                    if kept is not None and answered and outcome.error is None:
                        kept.put_outcome(key, dataclasses.asdict(outcome))
                outcomes.append(outcome)
                progress(outcome)
        finally:
            await engine.aclose()
    return outcomes


def _stored(kept: LiveCache | None, key: str, label: str) -> Outcome | None:
    entry = kept.outcome(key) if kept is not None else None
    try:
        return Outcome(**{**entry, "strategy": label}) if entry is not None else None
    except TypeError:  # written by another version: run it again
        return None


async def _play(engine: Engine, strategy: StrategyRun, problem: Problem, members: Sequence[str],
                pool: ReplayPool, fims: list[FimTemplate | None], limits: SandboxLimits,
                max_tokens: int) -> tuple[Outcome, bool]:
    """One strategy on one problem, scored; and whether it produced any candidate."""
    request = request_for(problem, max_tokens, None)
    pool.start(problem.id, request, fims)
    started = time.monotonic()
    result = await engine.run(request, strategy.name, members, strategy.options)
    outcome = await _outcome(problem, strategy.label, result, pool, limits, time.monotonic() - started)
    return outcome, bool(result.candidates)


def _engine_for(live: bool, registry: Registry, settings: Settings, pool: ReplayPool,
                members: Sequence[str], live_cache: LiveCache | None,
                on_demand: OnDemand | None) -> Engine:
    if live:
        return Engine(settings, registry)
    registry.register("backends", "replay", replay_backend(pool, settings, live_cache, on_demand))
    return Engine(replay_settings(settings, members), registry)


def _check_options(engine: Engine, strategy: StrategyRun) -> None:
    """A spec's options checked once, before any problem (a typo is a ConfigError, not one
    error outcome per problem); an unknown strategy is reported by the engine on every problem."""
    if strategy.name in engine.runtime.registry.names("strategies"):
        engine.strategy(strategy.name, engine.settings.strategy_options(strategy.name) | strategy.options)


def _replayable(registry: Registry, strategy: str) -> bool:
    try:
        return bool(getattr(registry.load("strategies", strategy), "replayable", True))
    except CodequorumError:
        return True  # an unknown strategy: the engine reports it on every problem


async def _outcome(problem: Problem, strategy: str, result: Result, pool: ReplayPool,
                   limits: SandboxLimits, seconds: float) -> Outcome:
    calls = [c for c in result.trace.calls if c.prompt_kind != "-"]
    misses = [c.error for c in calls if c.error and "ReplayMiss" in c.error]
    passed = await _passed(problem, result.text, pool, limits) if result.text.strip() else False
    return Outcome(problem.id, strategy, passed, len(calls), sum(c.tokens for c in calls),
                   sum(c.cost for c in calls), sum(c.compute_seconds for c in calls), seconds,
                   misses[0] if misses else None)


async def _passed(problem: Problem, text: str, pool: ReplayPool, limits: SandboxLimits) -> bool:
    known = pool.passed(problem.id, text)
    if known is not None:
        return known
    [passed] = await hidden_results(problem, [text], limits)
    return passed
