"""`single`: one member answers (default: the strongest configured member).

Options: `member`, `samples` (default 1), `temperature`, `seed` (default 0: sample i is drawn
with seed `seed` + i, where the backend takes seeds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from codequorum.core.context import StrategyContext
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.vocabulary.result import Result


class SingleOptions(StrategyOptions):
    member: str | None = None  # None: the strongest member
    samples: int = Field(1, ge=1)
    temperature: float | None = None  # None: the engine's
    seed: int = 0


class SingleStrategy:
    name: ClassVar[str] = "single"
    Options: ClassVar[type[SingleOptions]] = SingleOptions

    def __init__(self, options: SingleOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, SingleOptions, options)

    async def run(self, ctx: StrategyContext) -> Result:
        options = self.options
        member = ctx.member(options.member) if options.member else ctx.members[0]
        ctx.trace.note(f"asking {member.name} for {options.samples} sample(s)")
        candidates = await ctx.sample(member, n=options.samples, temperature=options.temperature,
                                      seed=options.seed)
        if not candidates:
            return ctx.result([], f"{member.name} failed")
        await ctx.check(candidates)
        ranked = ctx.rank(candidates)
        return ctx.result(ranked, f"answered by {member.name}")
