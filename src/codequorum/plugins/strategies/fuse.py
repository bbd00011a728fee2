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
from codequorum.plugins.strategies.cascade import Outlook, escalation_blocker, passes_checks
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.errors import ConfigError
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
        self.samples = self.options.samples
        self.temperature = self.options.temperature
        self.top_k = self.options.top_k
        self.min_distinct = self.options.min_distinct
        self.fuser = self.options.fuser
        self.fuser_temperature = self.options.fuser_temperature

    async def run(self, ctx: StrategyContext) -> Result:
        aggregator = chat_member(ctx, self.fuser)
        names = ", ".join(m.name for m in ctx.members)
        ctx.trace.note(f"asking every member ({names}) for {self.samples} sample(s); "
                       f"fuser: {aggregator.name if aggregator else 'none (no member takes chat prompts)'}")
        started = time.monotonic()
        candidates = await ctx.sample_all(ctx.members, n=self.samples, temperature=self.temperature)
        if not candidates:
            return ctx.result([], "every member failed")
        await ctx.check(candidates)
        ranked = ctx.rank(candidates)
        top = distinct_top(ranked, self.top_k)
        skip = self._why_not_fuse(ctx, aggregator, top, time.monotonic() - started)
        if skip:
            ctx.trace.note(f"not fusing: {skip}")
            return ctx.result(ranked, f"best candidate without fusion ({skip})")
        assert aggregator is not None  # _why_not_fuse says so otherwise
        origin = ", ".join(c.member for c in top)
        ctx.trace.note(f"fusing the top {len(top)} ({origin}) with {aggregator.name}")
        prompt = aggregate_prompt(ctx.request, [c.text for c in top])
        fused = [c for c in await ctx.sample_prompt(aggregator, prompt, temperature=self.fuser_temperature)
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
        if len(top) < self.min_distinct and passes_checks(top[0]):
            return "the candidates agree and pass the checks, nothing to combine"
        outlook = fusion_outlook(aggregator, top, own_seconds(ctx, aggregator, seconds))
        return escalation_blocker(outlook, ctx.request.seconds_left(),
                                  ctx.cost_so_far(), ctx.request.budget.max_cost)


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


def fusion_outlook(aggregator: Member, inputs: Sequence[Candidate], seconds: float) -> Outlook:
    """The fused answer is about as long as its inputs (mean tokens) and takes about as long
    as the aggregator's own proposal did (`seconds`: the proposal step's time when it had none)."""
    tokens = sum(c.tokens for c in inputs) / len(inputs) if inputs else 0
    return Outlook(seconds=seconds, cost=aggregator.cost_of(round(tokens)))


def own_seconds(ctx: StrategyContext, member: Member, fallback: float) -> float:
    """How long the member's last answered call of this request took (`fallback` without one)."""
    calls = [c for c in ctx.trace.calls if c.member == member.name and not c.error and c.tokens]
    return calls[-1].seconds if calls else fallback
