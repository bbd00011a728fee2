"""`moa`: Mixture-of-Agents (Wang et al. 2024, "Mixture-of-Agents Enhances Large Language Model
Capabilities").

`layers` layers of proposers: the first answers the request as it is; every later one gets
the request plus the previous layer's answers in an aggregate-and-synthesize prompt. A final
aggregator (the strongest member that takes chat prompts, or `aggregator`) synthesises the
last layer's answers. Every answer of every layer is a candidate: all are checked and ranked
together, so a good first-layer answer is never lost to a worse synthesis. A layer is not
started when the previous one left nothing to synthesise (fewer than `min_distinct` distinct
answers, the best passing the checks, as `fuse` decides), when the deadline is too near or
when the budget's `max_cost` would be exceeded; the answer is then ranked over what the
finished layers produced.

Options: `layers` (default 2), `proposers` (member names, default all), `aggregator` (default
the strongest chat member), `temperature` (default the engine's), `min_distinct` (default 2;
1 synthesises even a unanimous layer, as the paper does).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import model_validator

from codequorum.core.aggregate_prompts import aggregate_prompt
from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.core.toolkit import EVERY_MEMBER_FAILED, blocker, chat_member, distinct_top, outlook, passes
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.result import Result


@dataclass
class Layer:
    """What one layer produced, and how long it took."""

    label: str  # "layer 1", "layer 2", …, "aggregator"
    candidates: list[Candidate]
    seconds: float


class MoaOptions(StrategyOptions):
    layers: int = 2
    proposers: list[str] | None = None  # None: every member
    aggregator: str | None = None  # None: the strongest member that takes chat prompts
    temperature: float | None = None  # None: the engine's
    min_distinct: int = 2

    @model_validator(mode="after")
    def _in_range(self) -> MoaOptions:
        if self.layers < 1 or self.min_distinct < 1:
            raise ValueError("needs layers >= 1 and min_distinct >= 1, "
                             f"not layers = {self.layers}, min_distinct = {self.min_distinct}")
        return self


class MoaStrategy:
    name: ClassVar[str] = "moa"
    Options: ClassVar[type[MoaOptions]] = MoaOptions

    def __init__(self, options: MoaOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, MoaOptions, options)

    async def run(self, ctx: StrategyContext) -> Result:
        options = self.options
        proposers = [ctx.member(n) for n in options.proposers] if options.proposers else list(ctx.members)
        aggregator = chat_member(ctx, options.aggregator)
        ctx.trace.note(f"mixture of agents: {options.layers} layer(s) of {', '.join(m.name for m in proposers)}; "
                       f"aggregator: {aggregator.name if aggregator else 'none (no member takes chat prompts)'}")
        origin: dict[int, str] = {}
        done: list[Layer] = []
        stopped = ""
        for number in range(1, options.layers + 2):
            final = number == options.layers + 1
            label = "aggregator" if final else f"layer {number}"
            members = ([aggregator] if aggregator else []) if final else self._layer_members(ctx, proposers, number)
            stopped = self._why_not_start(ctx, label, members, done)
            if stopped:
                break
            previous = distinct_answers(done[-1].candidates) if done else []
            layer = await self._layer(ctx, label, members, previous)
            origin.update({c.id: f"{label} ({c.member})" for c in layer.candidates})
            answered = sorted({c.member for c in layer.candidates})
            ctx.trace.note(f"{label}: asked {', '.join(m.name for m in members)}; "
                           f"{len(layer.candidates)} answer(s) from {', '.join(answered) or 'nobody'}")
            done.append(layer)
        if stopped:
            ctx.trace.note(f"stopped: {stopped}")
        if not ctx.pool:
            return ctx.result([], EVERY_MEMBER_FAILED)
        ranked = ctx.rank(ctx.pool)
        ctx.trace.note("ranked: " + ", ".join(origin.get(c.id, c.member) for c in ranked[:5]))
        reason = f"best: {origin.get(ranked[0].id, ranked[0].member)} of {len(ranked)} candidates"
        return ctx.result(ranked, f"{reason}; {stopped}" if stopped else reason)

    def _why_not_start(self, ctx: StrategyContext, label: str, members: list[Member],
                       done: list[Layer]) -> str:
        """Why the next layer must not run ("" when it may)."""
        if not done:
            return "" if members else f"no member for the {label} takes chat prompts"
        previous = done[-1]
        if not distinct_answers(previous.candidates):
            return f"{previous.label} gave no answer to build on"
        if not members:
            return f"no member for the {label} takes chat prompts"
        if self._nothing_to_synthesise(ctx, previous):
            return f"{previous.label}'s answers agree and pass the checks, nothing to synthesise"
        # as long as the previous layer, as many tokens per member as it wrote on average
        stop = blocker(ctx, outlook(members, 1, previous.candidates, previous.seconds))
        return f"{label} not started: {stop}" if stop else ""

    def _nothing_to_synthesise(self, ctx: StrategyContext, layer: Layer) -> bool:
        if len(distinct_top(layer.candidates, self.options.min_distinct)) >= self.options.min_distinct:
            return False
        return passes(distinct_top(ctx.rank(layer.candidates), 1)[0])

    def _layer_members(self, ctx: StrategyContext, proposers: list[Member], number: int) -> list[Member]:
        if number == 1:
            return proposers
        unable = [m.name for m in proposers if not m.config.chat]
        if unable:
            ctx.trace.note(f"layer {number} leaves out {', '.join(unable)}: no chat prompts")
        return [m for m in proposers if m.config.chat]

    async def _layer(self, ctx: StrategyContext, label: str, members: Sequence[Member],
                     previous: list[str]) -> Layer:
        started = time.monotonic()
        if not previous:
            candidates = await ctx.sample_all(members, temperature=self.options.temperature)
        else:
            prompt = aggregate_prompt(ctx.request, previous)
            answers = await asyncio.gather(
                *(ctx.sample_prompt(m, prompt, temperature=self.options.temperature) for m in members))
            candidates = [c for group in answers for c in group]
        await ctx.check(candidates)  # before the next layer, which may not be needed
        return Layer(label, candidates, time.monotonic() - started)


def distinct_answers(candidates: Sequence[Candidate]) -> list[str]:
    """The texts a layer produced, each once, empty ones left out, in the members' order."""
    return [c.text for c in distinct_top(candidates, len(candidates))]

