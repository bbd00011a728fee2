"""`single`: one member answers (default: the strongest configured member).

Options: `member`, `samples` (default 1), `temperature`, `seed` (default 0: sample i is drawn
with seed `seed` + i, where the backend takes seeds).
"""

from __future__ import annotations

from typing import Any, ClassVar

from codequorum.core.context import StrategyContext
from codequorum.vocabulary.result import Result


class SingleStrategy:
    name: ClassVar[str] = "single"

    def __init__(self, options: dict[str, Any]) -> None:
        self.member_name: str | None = options.get("member")
        self.samples = int(options.get("samples", 1))
        self.temperature: float | None = options.get("temperature")
        self.seed = int(options.get("seed", 0))

    async def run(self, ctx: StrategyContext) -> Result:
        member = ctx.member(self.member_name) if self.member_name else ctx.members[0]
        ctx.trace.note(f"asking {member.name} for {self.samples} sample(s)")
        candidates = await ctx.sample(member, n=self.samples, temperature=self.temperature, seed=self.seed)
        if not candidates:
            return ctx.result([], f"{member.name} failed")
        await ctx.check(candidates)
        ranked = ctx.rank(candidates)
        return ctx.result(ranked, f"answered by {member.name}")
