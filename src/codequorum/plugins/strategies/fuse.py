"""`fuse`: LLM-Blender's rank-then-fuse (Jiang et al. 2023), with MoA's aggregate-and-synthesize
prompt (Wang et al. 2024) as the fuser.

Every member answers; the candidates are checked and ranked; the top `top_k` distinct ones go
to the aggregator (the strongest member that takes chat prompts, or `fuser`) with the request
and the instruction to combine their strengths and fix their errors. The fused answer is one
more candidate: checked like the others, it wins only if it ranks first among all of them.
Fusion is skipped when there is nothing to combine (fewer than `min_distinct` distinct
candidates, the best passing the checks), when the deadline is too near or when it would exceed the budget's `max_cost`; the
answer is then the best candidate so far.

Options: `samples` and `temperature` per member (as for best-of), `top_k` (default 3),
`min_distinct` (default 2; 1 fuses even a unanimous answer, as LLM-Blender does), `fuser`
(default the strongest chat member), `fuser_temperature` (default the engine's).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import model_validator

from codequorum.core.aggregate_prompts import aggregate_prompt
from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.core.toolkit import (
    EVERY_MEMBER_FAILED,
    ask_every_member,
    blocker,
    chat_member,
    distinct_top,
    outlook,
    own_seconds,
    passes,
)
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.result import Result


class FuseOptions(StrategyOptions):
    samples: int = 1  # per member
    temperature: float | None = None  # None: the engine's
    top_k: int = 3
    min_distinct: int = 2
    fuser: str | None = None  # None: the strongest member that takes chat prompts
    fuser_temperature: float | None = None

    @model_validator(mode="after")
    def _in_range(self) -> FuseOptions:
        if self.samples < 1 or self.top_k < 1:
            raise ValueError(f"needs samples >= 1 and top_k >= 1, not samples = {self.samples}, top_k = {self.top_k}")
        return self


class FuseStrategy:
    name: ClassVar[str] = "fuse"
    Options: ClassVar[type[FuseOptions]] = FuseOptions

    def __init__(self, options: FuseOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, FuseOptions, options)

    async def run(self, ctx: StrategyContext) -> Result:
        aggregator = chat_member(ctx, self.options.fuser)
        fuser = aggregator.name if aggregator else "none (no member takes chat prompts)"
        started = time.monotonic()
        candidates = await ask_every_member(ctx, self.options.samples, self.options.temperature, f"; fuser: {fuser}")
        if not candidates:
            return ctx.result([], EVERY_MEMBER_FAILED)
        ranked = ctx.rank(candidates)
        top = distinct_top(ranked, self.options.top_k)
        skip = self._why_not_fuse(ctx, aggregator, top, time.monotonic() - started)
        if skip:
            ctx.trace.note(f"not fusing: {skip}")
            return ctx.result(ranked, f"best candidate without fusion ({skip})")
        assert aggregator is not None  # _why_not_fuse says so otherwise
        origin = ", ".join(c.member for c in top)
        ctx.trace.note(f"fusing the top {len(top)} ({origin}) with {aggregator.name}")
        prompt = aggregate_prompt(ctx.request, [c.text for c in top])
        fused = [c for c in await ctx.sample_prompt(aggregator, prompt, temperature=self.options.fuser_temperature)
                 if c.text.strip()]
        if not fused:
            ctx.trace.note(f"the fuser {aggregator.name} gave no answer")
            return ctx.result(ranked, "fusion failed; best candidate so far")
        await ctx.check(fused)
        ranked = ctx.rank([*candidates, *fused])
        place = next(i for i, c in enumerate(ranked) if c.id == fused[0].id) + 1
        if place == 1:
            ctx.trace.note(f"fused answer ranked first of {len(ranked)}")
            return ctx.result(ranked, f"fused by {aggregator.name} from the top {len(top)}; ranked first")
        ctx.trace.note(f"fused answer ranked {place} of {len(ranked)}: kept {ranked[0].member}'s")
        return ctx.result(ranked, f"fused answer ranked {place}; best is {ranked[0].member}'s candidate")

    def _why_not_fuse(self, ctx: StrategyContext, aggregator: Member | None,
                      top: Sequence[Candidate], seconds: float) -> str | None:
        if aggregator is None:
            return "no member takes chat prompts"
        if not top:
            return "no candidate has text"
        if len(top) < self.options.min_distinct and passes(top[0]):
            return "the candidates agree and pass the checks, nothing to combine"
        # the fused answer is about as long as its inputs and takes about as long as the
        # aggregator's own proposal did (the proposal step's time when it had none)
        return blocker(ctx, outlook([aggregator], 1, top, own_seconds(ctx, aggregator, seconds)))

