"""The strategy toolkit: the steps several strategies take the same way, so that a strategy
file reads as its recipe and no strategy imports another.

- `passes`: a candidate's checks hold (syntax not broken, its tests, where they ran, pass);
- `ask_every_member`: the prologue of best-of, vote, fuse and rank (say who is asked, sample
  them all at once, check what came back);
- the budget outlook (`outlook`) and `blocker`: whether the next step (a dearer member, a
  resample, a fusion, a layer) still fits the deadline and the budget's `max_cost`;
- clusters as strategies weigh them (`majority_cluster`, `strongest_passing`, `settled_lead`)
  and `answer_with`: every candidate so far ranked, a preferred cluster first;
- members for a role (`by_price`, `chat_member`) and `distinct_top`;
- escalation: one member's `Turn` on a ladder (`take_turn`, `turn_outlook`, `resample` until
  the lead is settled), and `hand_over` to another strategy.

The members that write tests and probe calls for the others are `core/writers.py`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.core.writers import Prober
from codequorum.ranking.clusters import agreement_score, cluster_basis, cluster_key, clusters, lead_with
from codequorum.ranking.dual_agreement import strongest_cluster
from codequorum.ranking.settled import settled
from codequorum.sandbox import SandboxLimits
from codequorum.testing.probes import probes_apply
from codequorum.testing.programs import visible_suite
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.request import Request
from codequorum.vocabulary.result import Result

EVERY_MEMBER_FAILED = "every member failed"


def passes(candidate: Candidate) -> bool:
    """Syntax not broken, and the tests, where they ran, all pass."""
    tests = candidate.tests
    return candidate.syntax_ok is not False and (tests is None or tests.all_passed)


def verified(candidate: Candidate) -> bool:
    """Syntax not broken, and tests (or the function's examples) ran and all passed."""
    tests = candidate.tests
    return candidate.syntax_ok is not False and tests is not None and tests.all_passed


def verifiable(request: Request) -> bool:
    """The request shows tests or examples that a candidate can be run against (for a
    completion: the docstring examples of the function around the cursor)."""
    return visible_suite(request) is not None


async def ask_every_member(ctx: StrategyContext, samples: int, temperature: float | None,
                           also: str = "") -> list[Candidate]:
    """Every member of the request for `samples` answers at once, checked; the trace says who
    was asked (`also` adds to that line). Empty when every member failed."""
    names = ", ".join(m.name for m in ctx.members)
    ctx.trace.note(f"asking every member ({names}) for {samples} sample(s){also}")
    candidates = await ctx.sample_all(ctx.members, n=samples, temperature=temperature)
    if candidates:
        await ctx.check(candidates)
    return candidates


def ranked_from(candidates: Sequence[Candidate]) -> str:
    """E.g. "ranked 6 candidates from 2 member(s)"."""
    return f"ranked {len(candidates)} candidates from {len({c.member for c in candidates})} member(s)"


# ---- the budget outlook ------------------------------------------------------------------


@dataclass(frozen=True)
class Outlook:
    """What the next step is expected to take: seconds and cost (in the members' price unit)."""

    seconds: float
    cost: float


def outlook(members: Sequence[Member], answers: int, seen: Sequence[Candidate], seconds: float,
            unseen_tokens: int = 0) -> Outlook:
    """The next step: `answers` answers from each of `members`, each as long as the answers
    `seen` so far on average (`unseen_tokens` when none), taking `seconds`."""
    produced = [c.tokens for c in seen]
    per_answer = sum(produced) / len(produced) if produced else unseen_tokens
    return Outlook(seconds=seconds, cost=sum(m.cost_of(round(per_answer * answers)) for m in members))


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


def blocker(ctx: StrategyContext, next_step: Outlook) -> str | None:
    """Why this request must not take the next step now, or None."""
    return escalation_blocker(next_step, ctx.request.seconds_left(), ctx.cost_so_far(),
                              ctx.request.budget.max_cost)


def own_seconds(ctx: StrategyContext, member: Member, fallback: float) -> float:
    """How long the member's last answered call of this request took (`fallback` without one)."""
    calls = [c for c in ctx.trace.calls if c.member == member.name and not c.error and c.tokens]
    return calls[-1].seconds if calls else fallback


# ---- clusters, as strategies weigh them ---------------------------------------------------


def majority_cluster(candidates: Sequence[Candidate], request: Request) -> list[Candidate]:
    """The largest cluster; of equally large ones, the first whose representative passes."""
    groups = clusters(candidates, request)
    if not groups:
        return []
    largest = [group for group in groups if len(group) == len(groups[0])]
    return next((group for group in largest if passes(group[0])), largest[0])


def strongest_passing(ctx: StrategyContext) -> list[Candidate]:
    """Of the pool's candidates that pass the checks, best-ranked first, the strongest cluster
    (`ranking/dual_agreement.py`: size, weighed by the generated asserts it passes)."""
    return strongest_cluster(clusters([c for c in ctx.rank(ctx.pool) if passes(c)], ctx.request))


def settled_lead(ctx: StrategyContext, confidence: float) -> bool:
    """Whether the strongest cluster of passing candidates leads the largest other one with
    `confidence`, counting each candidate as one vote (`ranking/settled.py`)."""
    groups = clusters([c for c in ctx.pool if passes(c)], ctx.request)
    lead = strongest_cluster(groups)
    if not lead:
        return False
    runner_up = max((len(group) for group in groups if group[0] is not lead[0]), default=0)
    return settled(len(lead), runner_up, confidence)


def answer_with(ctx: StrategyContext, preferred: Sequence[Candidate], reason: str) -> Result:
    """Every candidate produced so far, ranked, the preferred ones first."""
    if not ctx.pool:
        return ctx.result([], "every member asked failed")
    return ctx.result(lead_with(preferred, ctx.rank(ctx.pool)), reason)


def asserts_note(group: Sequence[Candidate]) -> str:
    """E.g. ", passing 3 of the writer's asserts" (empty when no generated assert ran)."""
    generated = group[0].evidence.generated_tests if group else None
    return f", passing {generated.passed} of the writer's asserts" if generated else ""


def prober(ctx: StrategyContext, writer: Member, probes: int, timeout_s: float) -> Prober | None:
    """`probes` probe calls written by `writer`, for a Python generation without tests (None
    when they are off or do not apply: `testing/probes.py`)."""
    if probes < 1 or not probes_apply(ctx.request):
        return None
    return Prober(writer, probes, SandboxLimits(timeout_s=timeout_s))


# ---- members for a role ------------------------------------------------------------------


def by_price(members: Sequence[Member]) -> list[Member]:
    """Cheapest first; equal prices keep the given order (strongest first)."""
    return sorted(members, key=lambda m: m.config.price_per_1k_tokens)


def chat_member(ctx: StrategyContext, name: str | None) -> Member | None:
    """The named member, else the strongest one that takes chat prompts (None when none)."""
    if name:
        member = ctx.member(name)
        if not member.config.chat:
            raise ConfigError(f"member {name} does not take chat prompts (chat = false): "
                              "it cannot aggregate other answers")
        return member
    return next((m for m in ctx.members if m.config.chat), None)


def distinct_top(ranked: Sequence[Candidate], k: int) -> list[Candidate]:
    """The best k candidates with different, non-empty texts, best first."""
    seen: set[str] = set()
    top: list[Candidate] = []
    for candidate in ranked:
        text = candidate.text.strip()
        if text and text not in seen:
            seen.add(text)
            top.append(candidate)
        if len(top) == k:
            break
    return top


async def hand_over(ctx: StrategyContext, strategy: str, options: Mapping[str, Any]) -> Result:
    """Let another strategy answer this request (built by the engine, as for any request)."""
    if ctx.build_strategy is None:
        raise ConfigError(f"this request cannot hand over to {strategy}: its context builds no strategies")
    return await ctx.build_strategy(strategy, options).run(ctx)


# ---- escalation: one member's turn on a ladder -------------------------------------------


@dataclass
class Turn:
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
        return bool(self.majority) and passes(self.majority[0])

    @property
    def vouched_for(self) -> bool:
        """Evidence beyond one answer's word: other samples to agree with, or tests that ran."""
        return len(self.candidates) > 1 or (bool(self.majority) and self.majority[0].tests is not None)

    def accepted(self, threshold: float) -> bool:
        return self.agreement >= threshold and self.representative_passes and self.vouched_for

    def verdict(self) -> str:
        """E.g. "cheap: 3/3 samples agree by code, s = 1.00, representative passes checks"."""
        basis = cluster_basis(self.majority[0]) if self.majority else "code"
        checks = "passes checks" if self.representative_passes else "fails checks"
        alone = "" if self.vouched_for else ", a lone answer with no tests to vouch for it"
        return (f"{self.member.name}: {len(self.majority)}/{self.asked} samples agree "
                f"by {basis}, s = {self.agreement:.2f}, representative {checks}{alone}")

    def probed_alone(self, ctx: StrategyContext) -> bool:
        """Whether the answer was judged by probes alone and no other candidate in the pool
        returns the same values."""
        answer = self.majority[0]
        if cluster_basis(answer) != "probes":
            return False
        key = cluster_key(answer, ctx.request)
        return not any(c is not answer and cluster_key(c, ctx.request) == key for c in ctx.pool)


async def take_turn(ctx: StrategyContext, member: Member, samples: int, temperature: float | None,
                    prober: Prober | None = None, seed: int = 0) -> Turn:
    """`samples` answers of one member, checked (and probed), clustered and scored."""
    started = time.monotonic()
    candidates = await ctx.sample(member, n=samples, temperature=temperature, seed=seed)
    if candidates:
        await ctx.check(candidates)
        if prober is not None:
            await prober.probe(ctx)
    sampled = (ctx.temperature if temperature is None else temperature) > 0
    return Turn(member, samples, candidates, majority_cluster(candidates, ctx.request),
                agreement_score(candidates, ctx.request, samples),
                seconds=time.monotonic() - started, next_seed=seed + samples if sampled else seed)


def turn_outlook(ctx: StrategyContext, member: Member, previous: Turn, samples: int) -> Outlook:
    """The next turn: seconds scale with price (compute-seconds for local members) and with the
    number of samples; tokens as seen so far."""
    before = previous.member.config.price_per_1k_tokens
    ratio = member.config.price_per_1k_tokens / before if before > 0 else 1.0
    seconds = previous.seconds * max(ratio, 1.0) * max(samples / previous.asked, 1.0)
    return outlook([member], samples, ctx.pool, seconds, unseen_tokens=member.max_tokens(ctx.request))


async def resample(ctx: StrategyContext, turn: Turn, total: int, batch: int, temperature: float,
                   prober: Prober | None, confidence: float) -> list[Candidate]:
    """Up to `total` more samples of the turn's member, `batch` at a time, seeds following the
    turn's, until the lead is settled with `confidence` (`settled_lead`), a call fails, or the
    deadline or budget would be passed."""
    resampled: list[Candidate] = []
    while (drawn := len(resampled)) < total:
        size = min(batch, total - drawn)
        stop = blocker(ctx, turn_outlook(ctx, turn.member, turn, size)) if drawn else None
        if stop:
            ctx.trace.note(f"resampling stopped after {drawn} samples: {stop}")
            break
        more = await take_turn(ctx, turn.member, size, temperature, prober, seed=turn.next_seed + drawn)
        resampled += more.candidates
        if len(more.candidates) < size:  # the call failed: the next one most likely would too
            break
        if len(resampled) < total and settled_lead(ctx, confidence):
            ctx.trace.note(f"resampling settled after {len(resampled)} samples")
            break
    return resampled
