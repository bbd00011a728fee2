"""`vote`: self-consistency (Wang et al. 2022) over the whole ensemble.

Every member gives `samples` answers; answers that behave the same on the tests (or, without
test outcomes, return the same values on probe calls, or have the same normalised code) form a
cluster, and the largest cluster wins. Clusters whose answers pass the checks come first
(AlphaCode's filter, then cluster): a larger cluster that fails the visible tests is a
consensus on a wrong answer.

Options: `samples` per member (default 3), `temperature` (default 0.6 when samples > 1, so the
samples can differ; else the engine's temperature), `probes` (default 0: none; on a Python
generation without tests, the cheapest member writes that many calls of the task's functions
and untested answers are clustered by the values they return, `testing/probes.py`),
`probe_timeout_s` (default 5, per candidate), `repair` (default 0: rounds of the repair rung,
`core/repair.py`, when the winning answer fails its checks; each repair then votes too),
`repair_timeout_s` (default 5).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field

from codequorum.core import toolkit
from codequorum.core.context import StrategyContext
from codequorum.core.repair import RepairOptions, repairer_from
from codequorum.core.strategy_options import parse_options
from codequorum.core.toolkit import EVERY_MEMBER_FAILED, ask_every_member, passes
from codequorum.ranking.clusters import cluster_basis, clusters, lead_with
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.result import Result

_BASIS = {"behaviour": "behaviour on tests", "probes": "values on probe calls", "code": "normalised code"}


class VoteOptions(RepairOptions):
    samples: int = Field(3, ge=1)  # per member
    temperature: float | None = None  # None: 0.6 when samples > 1, else the engine's
    probes: int = Field(0, ge=0)
    probe_timeout_s: float = Field(5.0, gt=0)


class VoteStrategy:
    name: ClassVar[str] = "vote"
    Options: ClassVar[type[VoteOptions]] = VoteOptions

    def __init__(self, options: VoteOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, VoteOptions, options)
        self.samples = self.options.samples
        self.temperature = self.options.temperature
        if self.temperature is None and self.samples > 1:
            self.temperature = 0.6
        self.repairer = repairer_from(self.options, self.name)

    async def run(self, ctx: StrategyContext) -> Result:
        temperature = self.temperature if self.temperature is not None else ctx.temperature
        candidates = await ask_every_member(ctx, self.samples, self.temperature, f", temperature {temperature}")
        if not candidates:
            return ctx.result([], EVERY_MEMBER_FAILED)
        cheapest = toolkit.by_price(ctx.members)[0]
        prober = toolkit.prober(ctx, cheapest, self.options.probes, self.options.probe_timeout_s)
        if prober is not None:
            await prober.probe(ctx)
        result = self._vote(ctx, candidates)
        repairs = await self.repairer.repair(ctx, result.best, prober.asserts if prober else ()) \
            if result.best else []
        if not repairs:
            return result
        revoted = self._vote(ctx, candidates + repairs)  # each repair is one more voter
        revoted.trace.stop_reason += f"; with {len(repairs)} repair(s)"
        return revoted

    def _vote(self, ctx: StrategyContext, candidates: list[Candidate]) -> Result:
        ranked = ctx.rank(candidates)
        groups = clusters(candidates, ctx.request)
        if not groups:
            return ctx.result(ranked, f"no answer to vote on: all {len(candidates)} candidates are empty")
        ctx.trace.note(describe_clusters(groups))
        winner = leading_cluster(groups, ranked)
        voters = ", ".join(sorted({c.member for c in winner}))
        passing = " passing the checks" if len(winner) < max(len(g) for g in groups) else ""
        reason = f"largest cluster{passing}: {len(winner)} of {len(candidates)} candidates ({voters})"
        return ctx.result(lead_with(winner, ranked), reason)


def leading_cluster(groups: Sequence[list[Candidate]], ranked: Sequence[Candidate]) -> list[Candidate]:
    """The largest group of those that pass the checks (of all, when none does); ties go to
    more distinct members, then to the ranker's best."""
    position = {c.id: index for index, c in enumerate(ranked)}

    def strength(group: list[Candidate]) -> tuple[bool, int, int, int]:
        best_position = min(position.get(c.id, len(ranked)) for c in group)
        passing = all(passes(c) for c in group)
        return passing, len(group), len({c.member for c in group}), -best_position

    return max(groups, key=strength)


def describe_clusters(groups: Sequence[list[Candidate]]) -> str:
    """E.g. "clusters by behaviour on tests: 3 (qwen-small×2, qwen-large), 1 (qwen-large)"."""
    kinds = {cluster_basis(c) for group in groups for c in group}
    basis = " and ".join(sorted(_BASIS[kind] for kind in kinds))
    sizes = ", ".join(f"{len(group)} ({_members(group)})" for group in groups)
    return f"clusters by {basis}: {sizes}"


def _members(group: list[Candidate]) -> str:
    counts = Counter(c.member for c in group)
    return ", ".join(name if n == 1 else f"{name}×{n}" for name, n in counts.items())
