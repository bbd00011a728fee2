"""`confidence`: cheapest member first; escalate only when it is unsure of its own snippet.

A FrugalGPT-style cascade (Chen et al. 2023) for requests that have no tests to vouch for an
answer, an inline completion above all: the cheap member's snippet is taken when the checks
accept it (syntax in context) and the member was confident of it, its mean token
log-probability at least `min_logprob`; otherwise the next, stronger member is asked, and the
strongest member's snippet that passes the checks leads the ranking of everything produced
(it is what the cheap one was unsure of). Escalation stops, keeping the best so far, when
the deadline has passed.

Options: `min_logprob` (default -0.25, chosen on one half of the FIM benchmark: docs/results.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import model_validator

from codequorum.core.context import StrategyContext
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.core.toolkit import EVERY_MEMBER_FAILED, by_price
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.result import Result

DEFAULT_MIN_LOGPROB = -0.25


class ConfidenceOptions(StrategyOptions):
    min_logprob: float = DEFAULT_MIN_LOGPROB

    @model_validator(mode="after")
    def _in_range(self) -> ConfidenceOptions:
        if self.min_logprob > 0:
            raise ValueError(f"min_logprob is a log-probability (<= 0), not {self.min_logprob}")
        return self


class ConfidenceStrategy:
    name: ClassVar[str] = "confidence"
    Options: ClassVar[type[ConfidenceOptions]] = ConfidenceOptions

    def __init__(self, options: ConfidenceOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, ConfidenceOptions, options)
        self.min_logprob = self.options.min_logprob

    async def run(self, ctx: StrategyContext) -> Result:
        ladder = by_price(ctx.members)
        ctx.trace.note(f"cheapest first: {', '.join(m.name for m in ladder)}; accept at mean "
                       f"log-probability >= {self.min_logprob:g}")
        produced: list[Candidate] = []
        for member in ladder:
            if produced and _overdue(ctx):
                ctx.trace.note(f"not escalating to {member.name}: the deadline has passed")
                break
            candidates = await ctx.sample(member)
            if not candidates:
                continue
            await ctx.check(candidates)
            produced += candidates
            confident = [c for c in candidates if self._confident(c)]
            if member is not ladder[-1] and confident:
                best = max(confident, key=lambda c: c.mean_logprob or 0.0)
                ctx.trace.note(f"{member.name}: confident ({best.mean_logprob:.3f}), accepted")
                return ctx.result([best, *ctx.rank([c for c in produced if c is not best])],
                                  f"accepted {member.name}: confident and passes the checks")
            if member is not ladder[-1]:
                ctx.trace.note(f"{member.name}: {self._doubt(candidates)}, escalated")
        if not produced:
            return ctx.result([], EVERY_MEMBER_FAILED)
        strongest = max((c for c in produced), key=lambda c: ladder.index(ctx.member(c.member))).member
        fit = [c for c in produced if c.syntax_ok is not False and c.text.strip()]
        lead = [c for c in fit if c.member == strongest]
        rest = [c for c in produced if c not in lead]
        return ctx.result([*ctx.rank(lead), *ctx.rank(rest)], f"{strongest}, the strongest member that answered, leads")

    def _confident(self, candidate: Candidate) -> bool:
        return (bool(candidate.text.strip()) and candidate.syntax_ok is not False
                and candidate.mean_logprob is not None and candidate.mean_logprob >= self.min_logprob)

    def _doubt(self, candidates: list[Candidate]) -> str:
        best = max(candidates, key=lambda c: c.mean_logprob if c.mean_logprob is not None else -99.0)
        if best.syntax_ok is False:
            return "its snippet breaks the syntax"
        if best.mean_logprob is None:
            return "no log-probabilities to judge by"
        return f"unsure (mean log-probability {best.mean_logprob:.3f})"


def _overdue(ctx: StrategyContext) -> bool:
    left = ctx.request.seconds_left()
    return left is not None and left <= 0
