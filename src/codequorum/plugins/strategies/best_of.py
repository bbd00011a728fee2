"""`best-of`: ask every member, keep what parses, prefer what the others agree with."""

from __future__ import annotations

from typing import Any, ClassVar

from codequorum.core.context import StrategyContext
from codequorum.core.result import Result


class BestOfStrategy:
    name: ClassVar[str] = "best-of"

    def __init__(self, options: dict[str, Any]) -> None:
        self.samples = int(options.get("samples", 1))
        self.temperature: float | None = options.get("temperature")

    async def run(self, ctx: StrategyContext) -> Result:
        names = ", ".join(m.name for m in ctx.members)
        ctx.trace.note(f"asking every member ({names}) for {self.samples} sample(s)")
        candidates = await ctx.sample_all(ctx.members, n=self.samples, temperature=self.temperature)
        if not candidates:
            return ctx.result([], "every member failed")
        await ctx.check(candidates)
        ranked = ctx.rank(candidates)
        failed = len(ctx.trace.errors)
        reason = f"ranked {len(candidates)} candidates from {len(ctx.members) - failed} member(s)"
        return ctx.result(ranked, reason)
