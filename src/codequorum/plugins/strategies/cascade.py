"""`cascade`: cheapest member first, escalate only when its samples disagree.

FrugalGPT (Chen et al. 2023) asks models in order of cost and stops at the first answer it
trusts; Yue et al. 2023 ("Large Language Model Cascades with Mixture of Thoughts
Representations") trust an answer when the cheap model's samples agree with each other.
Here each member in turn gives `samples` answers; the agreement score is the share of them in
the largest cluster (same behaviour on the tests, else same normalised code). The member's
answer is accepted when the score reaches `threshold` and the cluster's representative passes
the checks; otherwise the next, more expensive member is asked. A lone answer (`samples` = 1,
or the only one that came back) agrees with itself whatever it is worth: it is accepted only
when tests ran and it passed them. The last member's answer is taken whatever its agreement,
unless it fails the checks and `resample` asks for more: then the last member draws `resample`
samples (Li et al. 2022, AlphaCode: sample, then filter on the visible tests and cluster), and
the largest cluster of the candidates that pass the checks leads. With `resample_batch`, the
samples come that many at a time and stop once the leading cluster is settled
(Adaptive-Consistency, Aggarwal et al. 2023: `ranking/settled.py`).

A Python generation without tests can still be judged by what its answers do: with `probes`,
the cheapest member writes that many calls of the task's functions (`testing/probes.py`) and
candidates are clustered by the values they return, so samples agree when they behave alike.
The last member's untested answer is then taken only when some other candidate behaves the
same; an answer nothing agrees with is resampled like one that fails its tests, and the
writer's asserts weigh the clusters (CodeT's dual agreement). Escalation
also stops when the next step would miss the deadline or exceed the budget's `max_cost`.

Options: `samples` (default 3), `temperature` (default 0.6 when samples > 1), `threshold`
(default 0.6), `resample` (default 0: none), `resample_temperature` (default 0.6), `probes`
(default 0: none), `probe_timeout_s` (default 5, per candidate), `resample_batch` (default 0:
all `resample` samples at once), `settle_confidence` (default 0.95), `repair` (default 0: rounds
of the repair rung, `core/repair.py`, when the answer still fails), `repair_timeout_s` (default 5).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import model_validator

from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.ranking.clusters import (
    agreement_score,
    cluster_basis,
    cluster_key,
    clusters,
    lead_with,
)
from codequorum.ranking.dual_agreement import strongest_cluster
from codequorum.ranking.settled import settled
from codequorum.sandbox import SandboxLimits
from codequorum.testing.probes import Prober, probes_apply
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Request
from codequorum.vocabulary.result import Result


@dataclass
class Step:
    """One member's turn: its samples, their largest cluster and the agreement score."""

    member: Member
    asked: int  # samples asked for; those that failed count against the agreement
    candidates: list[Candidate]
    majority: list[Candidate]
    agreement: float
    seconds: float
    next_seed: int  # where this member's next samples start, so they are new samples

    @property
    def representative_passes(self) -> bool:
        return bool(self.majority) and passes_checks(self.majority[0])

    @property
    def vouched_for(self) -> bool:
        """Evidence beyond one answer's word: other samples to agree with, or tests that ran."""
        return len(self.candidates) > 1 or (bool(self.majority) and self.majority[0].tests is not None)

    def accepted(self, threshold: float) -> bool:
        return self.agreement >= threshold and self.representative_passes and self.vouched_for


@dataclass(frozen=True)
class Outlook:
    """What the next step is expected to take: seconds and cost (in the members' price unit)."""

    seconds: float
    cost: float


class CascadeOptions(StrategyOptions):
    samples: int = 3
    temperature: float | None = None  # None: 0.6 when samples > 1, else the engine's
    threshold: float = 0.6
    resample: int = 0
    resample_temperature: float = 0.6
    resample_batch: int = 0  # 0: all `resample` samples at once
    settle_confidence: float = 0.95
    probes: int = 0
    probe_timeout_s: float = 5.0

    @model_validator(mode="after")
    def _in_range(self) -> CascadeOptions:
        if self.samples < 1 or self.resample < 0 or self.probes < 0 or not 0.0 <= self.threshold <= 1.0:
            raise ValueError("needs samples >= 1, resample >= 0, probes >= 0 and 0 <= threshold <= 1, "
                             f"not samples = {self.samples}, resample = {self.resample}, "
                             f"probes = {self.probes}, threshold = {self.threshold}")
        if self.resample_batch < 0 or not 0.5 < self.settle_confidence <= 1.0:
            raise ValueError("needs resample_batch >= 0 and 0.5 < settle_confidence <= 1, "
                             f"not resample_batch = {self.resample_batch}, "
                             f"settle_confidence = {self.settle_confidence}")
        if self.resample and self.resample_temperature <= 0:
            raise ValueError("resample_temperature must be above 0, or the resamples would "
                             f"all be the same answer, not {self.resample_temperature}")
        return self


class CascadeStrategy:
    name: ClassVar[str] = "cascade"
    Options: ClassVar[type[CascadeOptions]] = CascadeOptions

    def __init__(self, options: CascadeOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, CascadeOptions, options)
        self.samples = self.options.samples
        self.temperature = self.options.temperature
        if self.temperature is None and self.samples > 1:
            self.temperature = 0.6
        self.threshold = self.options.threshold
        self.resample = self.options.resample
        self.resample_temperature = self.options.resample_temperature
        self.resample_batch = self.options.resample_batch or self.resample
        self.settle_confidence = self.options.settle_confidence
        self.probes = self.options.probes
        self.probe_limits = SandboxLimits(timeout_s=self.options.probe_timeout_s)

    async def run(self, ctx: StrategyContext) -> Result:
        ladder = by_price(ctx.members)
        order = ", ".join(f"{m.name} ({m.config.price_per_1k_tokens:g}/1k tokens)" for m in ladder)
        ctx.trace.note(f"cascade, cheapest first: {order}; accept at agreement >= {self.threshold:g}")
        prober = self._prober(ctx, ladder[0])
        result = await self._climb(ctx, ladder, prober)
        return await self._repaired(ctx, result, prober)

    async def _climb(self, ctx: StrategyContext, ladder: list[Member], prober: Prober | None) -> Result:
        previous: Step | None = None
        for member in ladder:
            if previous is not None:
                blocker = escalation_blocker(self._outlook(ctx, member, previous),
                                             ctx.request.seconds_left(), ctx.cost_so_far(),
                                             ctx.request.budget.max_cost)
                if blocker:
                    ctx.trace.note(f"not escalating to {member.name}: {blocker}")
                    return self._answer(ctx, [], f"stopped escalating ({blocker}); best so far")
            step = await self._step(ctx, member, self.samples, self.temperature, prober, seed=0)
            if step.accepted(self.threshold):
                ctx.trace.note(f"{self._verdict(step)}: accepted")
                return self._answer(ctx, step.majority, f"accepted {member.name} at agreement {step.agreement:.2f}")
            if member is ladder[-1]:
                return await self._last(ctx, step, prober)
            ctx.trace.note(f"{self._verdict(step)}: escalated")
            previous = step
        return self._answer(ctx, [], "no member to ask")

    async def _repaired(self, ctx: StrategyContext, result: Result, prober: Prober | None) -> Result:
        """The repair rung (`core/repair.py`) when the answer fails; then the strongest cluster of
        the candidates that pass the checks leads, repairs included."""
        written = prober.written.asserts if prober is not None and prober.written else ()
        repairs = await self.repairer.repair(ctx, result.best, written) if result.best else []
        if not repairs:
            return result
        if all(needs_repair(c) for c in repairs):
            return self._answer(ctx, [result.candidates[0]], f"{result.trace.stop_reason}; no repair passes")
        passing = [c for c in ctx.rank(ctx.pool) if passes_checks(c)]
        lead = strongest_cluster(clusters(passing, ctx.request))
        return self._answer(ctx, lead, f"{result.trace.stop_reason}; repaired, "
                                       f"{len(passing)} candidates pass the checks")

    def _prober(self, ctx: StrategyContext, writer: Member) -> Prober | None:
        if not self.probes or not probes_apply(ctx.request):
            return None
        return Prober(writer, self.probes, self.probe_limits)

    async def _step(self, ctx: StrategyContext, member: Member, samples: int,
                    temperature: float | None, prober: Prober | None, seed: int) -> Step:
        started = time.monotonic()
        candidates = await ctx.sample(member, n=samples, temperature=temperature, seed=seed)
        if candidates:
            await ctx.check(candidates)
            if prober is not None:
                await prober.probe(ctx)
        sampled = (ctx.temperature if temperature is None else temperature) > 0
        return Step(member, samples, candidates, majority_cluster(candidates, ctx.request),
                    agreement_score(candidates, ctx.request, samples),
                    seconds=time.monotonic() - started, next_seed=seed + samples if sampled else seed)

    def _outlook(self, ctx: StrategyContext, member: Member, previous: Step, samples: int | None = None) -> Outlook:
        """Seconds scale with price (compute-seconds for local members) and with the number of
        samples; tokens as seen so far."""
        samples = samples or self.samples
        produced = [c.tokens for c in ctx.pool]
        per_sample = sum(produced) / len(produced) if produced else member.max_tokens(ctx.request)
        before = previous.member.config.price_per_1k_tokens
        ratio = member.config.price_per_1k_tokens / before if before > 0 else 1.0
        more = samples / previous.asked
        return Outlook(seconds=previous.seconds * max(ratio, 1.0) * max(more, 1.0),
                       cost=member.cost_of(round(per_sample * samples)))

    def _verdict(self, step: Step) -> str:
        basis = cluster_basis(step.majority[0]) if step.majority else "code"
        checks = "passes checks" if step.representative_passes else "fails checks"
        alone = "" if step.vouched_for else ", a lone answer with no tests to vouch for it"
        return (f"{step.member.name}: {len(step.majority)}/{step.asked} samples agree "
                f"by {basis}, s = {step.agreement:.2f}, representative {checks}{alone}")

    async def _last(self, ctx: StrategyContext, step: Step, prober: Prober | None) -> Result:
        """The last member's majority leads whatever its agreement, unless it fails the checks
        or, judged by probes only, nothing else behaves like it: then it resamples, if asked
        to, and everything is ranked."""
        if step.representative_passes:
            if not _probed_alone(step, ctx):
                probed = cluster_basis(step.majority[0]) == "probes"
                confirmed = ", another candidate returns the same values on the probes" if probed else ""
                ctx.trace.note(f"{self._verdict(step)}: last member, taken as it is{confirmed}")
                return self._answer(ctx, step.majority, f"last member {step.member.name}, agreement {step.agreement:.2f}")
            ctx.trace.note(f"{self._verdict(step)}: no other candidate returns the same values on the probes")
        if self.resample:
            return await self._resample(ctx, step, prober)
        ctx.trace.note(f"{self._verdict(step)}: last member, everything ranked")
        return self._answer(ctx, [], f"last member {step.member.name}, agreement {step.agreement:.2f}")

    async def _resample(self, ctx: StrategyContext, step: Step, prober: Prober | None) -> Result:
        """More samples of the last member; the largest cluster of all passing candidates leads,
        weighed by the probe writer's asserts where they ran (of equally strong ones, the one
        with the best-ranked candidate)."""
        blocker = self._resample_blocker(ctx, step, min(self.resample_batch, self.resample))
        if blocker:
            ctx.trace.note(f"{self._verdict(step)}: not resampling ({blocker}), everything ranked")
            return self._answer(ctx, [], f"stopped before resampling ({blocker}); best so far")
        how_many = (f"{self.resample} times" if self.resample_batch >= self.resample else
                    f"up to {self.resample} times, {self.resample_batch} at a time until the lead is settled,")
        ctx.trace.note(f"{self._verdict(step)}: resampling {step.member.name} {how_many} "
                       f"at temperature {self.resample_temperature:g}")
        resampled = await self._draw_resamples(ctx, step, prober)
        passing = [c for c in ctx.rank(ctx.pool) if passes_checks(c)]
        lead = strongest_cluster(clusters(passing, ctx.request))
        ctx.trace.note(f"{step.member.name} resampled: {sum(map(passes_checks, resampled))}/{len(resampled)} pass "
                       f"the checks; of the {len(passing)} candidates that pass, the strongest cluster "
                       f"({len(lead)}{_asserts_note(lead)}) leads")
        return self._answer(ctx, lead, f"resampled {step.member.name}, {len(passing)} candidates pass the checks")

    async def _draw_resamples(self, ctx: StrategyContext, step: Step, prober: Prober | None) -> list[Candidate]:
        """`resample_batch` samples at a time, seeds following the step's, until `resample` were
        drawn, the lead is settled, a call fails, or the deadline or budget would be passed."""
        resampled: list[Candidate] = []
        while (drawn := len(resampled)) < self.resample:
            size = min(self.resample_batch, self.resample - drawn)
            blocker = self._resample_blocker(ctx, step, size) if drawn else None
            if blocker:
                ctx.trace.note(f"resampling stopped after {drawn} samples: {blocker}")
                break
            batch = await self._step(ctx, step.member, size, self.resample_temperature, prober,
                                     seed=step.next_seed + drawn)
            resampled += batch.candidates
            if len(batch.candidates) < size:  # the call failed: the next one most likely would too
                break
            if len(resampled) < self.resample and self._settled(ctx):
                ctx.trace.note(f"resampling settled after {len(resampled)} samples")
                break
        return resampled

    def _resample_blocker(self, ctx: StrategyContext, step: Step, samples: int) -> str | None:
        return escalation_blocker(self._outlook(ctx, step.member, step, samples), ctx.request.seconds_left(),
                                  ctx.cost_so_far(), ctx.request.budget.max_cost)

    def _settled(self, ctx: StrategyContext) -> bool:
        """Whether the strongest cluster of passing candidates leads the largest other one with
        `settle_confidence`, counting each candidate as one vote."""
        groups = clusters([c for c in ctx.pool if passes_checks(c)], ctx.request)
        lead = strongest_cluster(groups)
        if not lead:
            return False
        runner_up = max((len(group) for group in groups if group[0] is not lead[0]), default=0)
        return settled(len(lead), runner_up, self.settle_confidence)

    def _answer(self, ctx: StrategyContext, preferred: list[Candidate], reason: str) -> Result:
        """Ranked over every candidate produced so far, the preferred cluster first."""
        if not ctx.pool:
            return ctx.result([], "every member asked failed")
        return ctx.result(lead_with(preferred, ctx.rank(ctx.pool)), reason)


def _asserts_note(group: Sequence[Candidate]) -> str:
    generated = group[0].checks.get("generated_tests") if group else None
    return f", passing {generated['passed']} of the writer's asserts" if generated else ""


def _probed_alone(step: Step, ctx: StrategyContext) -> bool:
    """Whether the step's answer was judged by probes alone and no other candidate in the pool
    returns the same values."""
    answer = step.majority[0]
    if cluster_basis(answer) != "probes":
        return False
    key = cluster_key(answer, ctx.request)
    return not any(c is not answer and cluster_key(c, ctx.request) == key for c in ctx.pool)


def by_price(members: Sequence[Member]) -> list[Member]:
    """Cheapest first; equal prices keep the given order (strongest first)."""
    return sorted(members, key=lambda m: m.config.price_per_1k_tokens)


def majority_cluster(candidates: Sequence[Candidate], request: Request) -> list[Candidate]:
    """The largest cluster; of equally large ones, the first whose representative passes."""
    groups = clusters(candidates, request)
    if not groups:
        return []
    largest = [group for group in groups if len(group) == len(groups[0])]
    return next((group for group in largest if passes_checks(group[0])), largest[0])


def passes_checks(candidate: Candidate) -> bool:
    """Syntax not broken, and the tests, where they ran, all pass."""
    tests = candidate.tests
    return candidate.syntax_ok is not False and (tests is None or tests.all_passed)


def escalation_blocker(
    outlook: Outlook, seconds_left: float | None, spent: float, max_cost: float | None
) -> str | None:
    """Why the next step must not be taken (deadline near or passed, cost ceiling), or None."""
    if seconds_left is not None and seconds_left <= outlook.seconds:
        return (f"{max(seconds_left, 0.0):.2f}s left before the deadline, "
                f"the next step takes ~{outlook.seconds:.2f}s")
    if max_cost is not None and spent + outlook.cost > max_cost:
        return f"cost spent {spent:.3g} + expected {outlook.cost:.3g} would exceed max_cost {max_cost:.3g}"
    return None
