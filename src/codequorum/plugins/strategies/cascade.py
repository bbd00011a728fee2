"""`cascade`: cheapest member first, escalate only when its samples disagree.

FrugalGPT (Chen et al. 2023) asks models in order of cost and stops at the first answer it
trusts; Yue et al. 2023 trust an answer when the cheap model's samples agree. Each member in
turn gives `samples` answers, accepted when the share in the largest cluster reaches
`threshold` and its representative passes the checks (a lone answer only when tests ran). The
last member's answer is taken unless it fails: then it draws `resample` more (AlphaCode:
sample, filter, cluster), `resample_batch` at a time until the lead is settled
(Adaptive-Consistency), and `repair` shows the strongest member what failed (`core/repair.py`).
With `probes`, untested answers cluster by the values they return (`testing/probes.py`).
Escalation stops before the deadline or the budget's `max_cost`. Options: docs/strategies.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import model_validator

from codequorum.core import toolkit
from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.core.repair import RepairOptions, needs_repair, repairer_from
from codequorum.core.strategy_options import parse_options
from codequorum.core.toolkit import Turn, answer_with, blocker, turn_outlook
from codequorum.core.writers import Prober
from codequorum.ranking.clusters import cluster_basis
from codequorum.vocabulary.result import Result


class CascadeOptions(RepairOptions):
    samples: int = 3
    temperature: float | None = None  # None: 0.6 when samples > 1, else the engine's
    threshold: float = 0.6
    resample: int = 0
    resample_temperature: float = 0.6
    resample_batch: int = 0  # 0: all `resample` samples at once
    settle_confidence: float = 0.95
    probes: int = 0
    probe_timeout_s: float = 5.0  # per candidate

    @model_validator(mode="after")
    def _in_range(self) -> CascadeOptions:
        if self.samples < 1 or self.resample < 0 or self.probes < 0 or not 0.0 <= self.threshold <= 1.0:
            raise ValueError("needs samples >= 1, resample >= 0, probes >= 0 and 0 <= threshold <= 1, not "
                             f"samples = {self.samples}, resample = {self.resample}, probes = {self.probes}, "
                             f"threshold = {self.threshold}")
        if self.resample_batch < 0 or not 0.5 < self.settle_confidence <= 1.0:
            raise ValueError("needs resample_batch >= 0 and 0.5 < settle_confidence <= 1, not resample_batch = "
                             f"{self.resample_batch}, settle_confidence = {self.settle_confidence}")
        if self.resample and self.resample_temperature <= 0:
            raise ValueError("resample_temperature must be above 0, or the resamples would all be the same "
                             f"answer, not {self.resample_temperature}")
        return self


class CascadeStrategy:
    name: ClassVar[str] = "cascade"
    Options: ClassVar[type[CascadeOptions]] = CascadeOptions

    def __init__(self, options: CascadeOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, CascadeOptions, options)
        self.samples, self.threshold = self.options.samples, self.options.threshold
        self.temperature = self.options.temperature
        if self.temperature is None and self.samples > 1:
            self.temperature = 0.6
        self.resample = self.options.resample
        self.resample_batch = self.options.resample_batch or self.resample
        self.repairer = repairer_from(self.options, self.name)

    async def run(self, ctx: StrategyContext) -> Result:
        ladder = toolkit.by_price(ctx.members)
        order = ", ".join(f"{m.name} ({m.config.price_per_1k_tokens:g}/1k tokens)" for m in ladder)
        ctx.trace.note(f"cascade, cheapest first: {order}; accept at agreement >= {self.threshold:g}")
        prober = toolkit.prober(ctx, ladder[0], self.options.probes, self.options.probe_timeout_s)
        return await self._repaired(ctx, await self._climb(ctx, ladder, prober), prober)

    async def _climb(self, ctx: StrategyContext, ladder: list[Member], prober: Prober | None) -> Result:
        previous: Turn | None = None
        for member in ladder:
            stop = blocker(ctx, turn_outlook(ctx, member, previous, self.samples)) if previous else None
            if stop:
                ctx.trace.note(f"not escalating to {member.name}: {stop}")
                return answer_with(ctx, [], f"stopped escalating ({stop}); best so far")
            turn = await toolkit.take_turn(ctx, member, self.samples, self.temperature, prober)
            if turn.accepted(self.threshold):
                ctx.trace.note(f"{turn.verdict()}: accepted")
                return answer_with(ctx, turn.majority, f"accepted {member.name} at agreement {turn.agreement:.2f}")
            if member is ladder[-1]:
                return await self._last(ctx, turn, prober)
            ctx.trace.note(f"{turn.verdict()}: escalated")
            previous = turn
        return answer_with(ctx, [], "no member to ask")

    async def _repaired(self, ctx: StrategyContext, result: Result, prober: Prober | None) -> Result:
        """The repair rung when the answer fails; then the strongest cluster of the candidates
        that pass the checks leads, repairs included."""
        repairs = await self.repairer.repair(ctx, result.best, prober.asserts if prober else ()) \
            if result.best else []
        if not repairs:
            return result
        if all(needs_repair(c) for c in repairs):
            return answer_with(ctx, [result.candidates[0]], f"{result.trace.stop_reason}; no repair passes")
        passing = sum(map(toolkit.passes, ctx.pool))
        return answer_with(ctx, toolkit.strongest_passing(ctx), f"{result.trace.stop_reason}; repaired, "
                                                                f"{passing} candidates pass the checks")

    async def _last(self, ctx: StrategyContext, turn: Turn, prober: Prober | None) -> Result:
        """The last member's majority leads whatever its agreement, unless it fails the checks
        or, judged by probes only, nothing else behaves like it: then it resamples, if asked
        to, and everything is ranked."""
        reason = f"last member {turn.member.name}, agreement {turn.agreement:.2f}"
        if turn.representative_passes and not turn.probed_alone(ctx):
            probed = cluster_basis(turn.majority[0]) == "probes"
            confirmed = ", another candidate returns the same values on the probes" if probed else ""
            ctx.trace.note(f"{turn.verdict()}: last member, taken as it is{confirmed}")
            return answer_with(ctx, turn.majority, reason)
        if turn.representative_passes:
            ctx.trace.note(f"{turn.verdict()}: no other candidate returns the same values on the probes")
        if self.resample:
            return await self._resample(ctx, turn, prober)
        ctx.trace.note(f"{turn.verdict()}: last member, everything ranked")
        return answer_with(ctx, [], reason)

    async def _resample(self, ctx: StrategyContext, turn: Turn, prober: Prober | None) -> Result:
        """More samples of the last member; the strongest cluster of all passing candidates leads."""
        stop = blocker(ctx, turn_outlook(ctx, turn.member, turn, min(self.resample_batch, self.resample)))
        if stop:
            ctx.trace.note(f"{turn.verdict()}: not resampling ({stop}), everything ranked")
            return answer_with(ctx, [], f"stopped before resampling ({stop}); best so far")
        how_many = (f"{self.resample} times" if self.resample_batch >= self.resample else
                    f"up to {self.resample} times, {self.resample_batch} at a time until the lead is settled,")
        ctx.trace.note(f"{turn.verdict()}: resampling {turn.member.name} {how_many} "
                       f"at temperature {self.options.resample_temperature:g}")
        resampled = await toolkit.resample(ctx, turn, self.resample, self.resample_batch,
                                   self.options.resample_temperature, prober, self.options.settle_confidence)
        passing = sum(map(toolkit.passes, ctx.pool))
        lead = toolkit.strongest_passing(ctx)
        ctx.trace.note(f"{turn.member.name} resampled: {sum(map(toolkit.passes, resampled))}/{len(resampled)} "
                       f"pass the checks; of the {passing} candidates that pass, the strongest cluster "
                       f"({len(lead)}{toolkit.asserts_note(lead)}) leads")
        return answer_with(ctx, lead, f"resampled {turn.member.name}, {passing} candidates pass the checks")
