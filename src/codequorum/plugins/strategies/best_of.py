"""`best-of`: ask every member, keep what parses, prefer what the others agree with."""

from __future__ import annotations

from typing import Any, ClassVar

from codequorum.core.context import StrategyContext
from codequorum.core.result import Result
from codequorum.ranking.evidence import score_by_evidence


class BestOfStrategy:
    name: ClassVar[str] = "best-of"

    def __init__(self, options: dict[str, Any]) -> None:
        self.samples = int(options.get("samples", 1))

    async def run(self, ctx: StrategyContext) -> Result:
        names = ", ".join(m.name for m in ctx.members)
        ctx.trace.note(f"asking every member ({names}) for {self.samples} sample(s)")
        candidates = await ctx.sample_all(ctx.members, n=self.samples)
        if not candidates:
            return ctx.result([], "every member failed")
        await ctx.check(candidates)
        priors = {m.name: m.config.quality for m in ctx.members}
        ranked = score_by_evidence(candidates, priors, ctx.request.language)
        failed = len(ctx.trace.errors)
        reason = f"ranked {len(candidates)} candidates from {len(ctx.members) - failed} member(s)"
        return ctx.result(ranked, reason)
