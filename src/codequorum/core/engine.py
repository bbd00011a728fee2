"""Runs one request through a strategy and always returns a Result."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from codequorum.config import MemberConfig, Settings
from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.core.protocols import Check
from codequorum.core.registry import Registry
from codequorum.core.runtime import Runtime
from codequorum.core.strategy_options import options_key, strategy_options
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import CodequorumError, ConfigError
from codequorum.vocabulary.request import Request
from codequorum.vocabulary.result import MemberCall, Result, Trace

log = logging.getLogger(__name__)

STRATEGIES_KEPT = 64  # strategies built per engine (name + options); the oldest goes first


class Engine:
    """Owns the members (loaded lazily, once) and the checks; runs strategies over them."""

    def __init__(self, settings: Settings, registry: Registry | None = None) -> None:
        self.runtime = Runtime.create(settings, registry)
        self.settings = settings
        self._members: dict[str, Member] = {}
        self._checks: list[Check] | None = None
        self._strategies: dict[tuple[str, str], Any] = {}
        self._check_strategy_tables()

    def member(self, name: str) -> Member:
        if name not in self._members:
            self._members[name] = self._build_member(name)
        return self._members[name]

    def members(self, names: Sequence[str] | None = None) -> list[Member]:
        """Members by name (or every enabled one), strongest first."""
        return [self.member(config.name) for config in self._configs(names)]

    def _configs(self, names: Sequence[str] | None) -> list[MemberConfig]:
        if names:
            self._require_known(names)
            configs = [self.settings.members[name] for name in names]
        else:
            configs = self.settings.enabled_members()
        return sorted(configs, key=lambda m: m.quality, reverse=True)

    def _usable_members(self, names: Sequence[str] | None, trace: Trace) -> list[Member]:
        """Members for one request; one whose backend cannot be built is traced and skipped."""
        usable = []
        for config in self._configs(names):
            try:
                usable.append(self.member(config.name))
            except Exception as error:  # a broken backend plugin must not stop the others
                trace.calls.append(MemberCall(config.name, "-", 0, error=f"{type(error).__name__}: {error}"))
        if not usable:
            raise CodequorumError("no member could be started: " + "; ".join(c.error or "" for c in trace.calls))
        return usable

    def checks(self) -> list[Check]:
        if self._checks is None:
            plugins = self.runtime.registry.load_all("checks")
            self._checks = [cls(self.runtime) for cls in plugins.values()]
        return self._checks

    async def run(
        self,
        request: Request,
        strategy: str | None = None,
        members: Sequence[str] | None = None,
        options: dict[str, Any] | None = None,
        cancel: CancelToken | None = None,
    ) -> Result:
        started = time.monotonic()
        trace = Trace(strategy=strategy or self.settings.engine.strategy)
        try:
            name, chosen = self.settings.resolve_strategy(strategy)  # a spec: NAME:key=value...
            trace.strategy = name
            ctx = self._context(request, members, chosen | (options or {}), trace, cancel)
            plugin = self.strategy(name, ctx.options)
        except CodequorumError as error:
            trace.note(str(error))
            result = _empty(trace.strategy, trace, "error")
        else:
            result = await _run_guarded(plugin, ctx)
        result.trace.seconds = time.monotonic() - started
        return result

    def strategy(self, name: str, options: Mapping[str, Any] | None = None) -> Any:
        """The strategy built with these options (checked against its options model), built
        once per engine and reused by every request that asks for the same."""
        key = (name, options_key(options or {}))
        built = self._strategies.pop(key, None)
        if built is None:
            plugin = self.runtime.registry.load("strategies", name)
            built = plugin(strategy_options(name, plugin, options or {}))
            for other, its_options in getattr(built, "hands_over_to", {}).items():
                self.strategy(other, its_options)  # checked now, not at the first hand-over
        self._strategies[key] = built  # most recently used last
        while len(self._strategies) > STRATEGIES_KEPT:
            del self._strategies[next(iter(self._strategies))]
        return built

    def _check_strategy_tables(self) -> None:
        """Every [strategies.NAME] table, and the strategy specs of [engine] and [server] with
        their options, checked when the settings load, not on first use."""
        available = self.runtime.registry.names("strategies")
        for name in self.settings.strategies:
            if name not in available and self.runtime.registry.enabled("strategies", name):
                raise ConfigError(f"{self.settings.source}: [strategies.{name}]: no strategy plugin named "
                                  f"{name!r} (available: {', '.join(available) or 'none'})")
        server = self.settings.server
        specs = [None, *(spec for spec in (server.inline_strategy, server.generate_strategy) if spec)]
        to_check = [(name, self.settings.strategy_options(name)) for name in self.settings.strategies]
        to_check += [self.settings.resolve_strategy(spec) for spec in specs]  # with their spec's options
        for name, options in to_check:
            if name in available:
                self._check_strategy(name, options)

    def _check_strategy(self, name: str, options: Mapping[str, Any]) -> None:
        try:
            self.strategy(name, options)
        except ConfigError as error:
            raise ConfigError(f"{self.settings.source}: {error}") from None
        except Exception as error:  # a broken plugin: said when a request asks for it
            log.warning("strategy %s could not be built to check its options: %s", name, error)

    async def aclose(self) -> None:
        for member in self._members.values():
            try:
                await member.backend.aclose()
            except Exception:  # closing must never mask the real outcome
                log.exception("closing member %s failed", member.name)

    def _context(
        self,
        request: Request,
        members: Sequence[str] | None,
        merged: dict[str, Any],
        trace: Trace,
        cancel: CancelToken | None,
    ) -> StrategyContext:
        return StrategyContext(
            request=_with_hard_cap(request, self.settings.engine.hard_cap_s),
            members=self._usable_members(members, trace),
            checks=self.checks(),
            trace=trace,
            options=merged,
            cancel=cancel or CancelToken(),
            temperature=self.settings.engine.temperature,
            ranking=self.settings.ranking,
            build_strategy=self.strategy,
        )

    def _build_member(self, name: str) -> Member:
        self._require_known([name])
        config = self.settings.members[name]
        backend_cls = self.runtime.registry.load("backends", config.backend)
        return Member(config=config, backend=backend_cls(config, self.runtime))

    def _require_known(self, names: Sequence[str]) -> None:
        unknown = [n for n in names if n not in self.settings.members]
        if unknown:
            known = ", ".join(self.settings.members) or "none"
            raise CodequorumError(
                f"unknown member(s) {', '.join(unknown)} (configured in {self.settings.source}: {known})"
            )


async def _run_guarded(plugin: Any, ctx: StrategyContext) -> Result:
    """Run a strategy; if it raises, answer with the best candidate it had produced."""
    try:
        return await plugin.run(ctx)
    except asyncio.CancelledError:
        raise
    except CodequorumError as error:  # a user error (a bad option): said once, no traceback
        log.info("strategy %s: %s", ctx.trace.strategy, error)
        ctx.trace.note(f"strategy failed: {error}")
        ranked = sorted(ctx.pool, key=lambda c: c.score, reverse=True)
        return ctx.result(ranked, "error")
    except Exception as error:  # a broken strategy must still answer
        log.exception("strategy %s failed", ctx.trace.strategy)
        ctx.trace.note(f"strategy failed: {type(error).__name__}: {error}")
        ranked = sorted(ctx.pool, key=lambda c: c.score, reverse=True)
        return ctx.result(ranked, "strategy error: best candidate so far")


def _with_hard_cap(request: Request, hard_cap_s: float | None) -> Request:
    """A request with a deadline but no cap of its own gets the configured one."""
    budget = request.budget
    if budget.deadline_s is None or budget.hard_cap_s is not None or hard_cap_s is None:
        return request
    return dataclasses.replace(request, budget=dataclasses.replace(budget, hard_cap_s=hard_cap_s))


def _empty(name: str, trace: Trace, reason: str) -> Result:
    trace.stop_reason = reason
    return Result(text="", strategy=name, candidates=[], trace=trace)
