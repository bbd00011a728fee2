"""`route`: a kNN router with a cost trade-off (RouterBench, Hu et al. 2024; kNN routers).

The request's text is embedded (the bundled MiniLM encoder) and its `k` nearest past requests
are looked up in the router's memory (`codequorum router build`: benchmark runs and editor
feedback). Each member's predicted quality P is the share of those neighbours it got right;
the member with the highest `willingness_to_pay` × P − normalised expected cost answers
(`routing/knn.py`). A member that fails hands over to the next best; one whose expected cost
would exceed the budget's `max_cost` is not chosen. An unseen region (fewer than `k`
neighbours, or none as similar as `min_similarity`), a missing memory or no prediction for any
member falls back to the `cascade` strategy.

Options: `k` (default 5), `willingness_to_pay` (default 1.0), `min_similarity` (default 0.5),
`memory` (a JSONL file, default `router-memory.jsonl` in the user data dir, or a store shared by
several servers: `sqlite:///PATH`, `postgresql://…`), `samples` (default 1),
`temperature`, `cascade` (options for the fallback cascade, default its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import model_validator

from codequorum.core.context import StrategyContext
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.core.toolkit import hand_over
from codequorum.routing.embed import Embedder, MiniLmEmbedder
from codequorum.routing.knn import Choice, expected_cost, nearest, predict, trade_off
from codequorum.routing.memory import default_memory_path, request_text
from codequorum.routing.memory_source import load_memory
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.result import Result


class RouteOptions(StrategyOptions):
    k: int = 5
    willingness_to_pay: float = 1.0
    min_similarity: float = 0.5
    memory: str | None = None  # a JSONL file or a store URL; None: router-memory.jsonl in the user data dir
    samples: int = 1
    temperature: float | None = None  # None: the engine's
    cascade: dict[str, Any] = {}  # the fallback's own options (checked as cascade's)

    @model_validator(mode="after")
    def _in_range(self) -> RouteOptions:
        if self.k < 1 or self.samples < 1 or self.willingness_to_pay < 0:
            raise ValueError("needs k >= 1, samples >= 1 and willingness_to_pay >= 0, "
                             f"not k = {self.k}, samples = {self.samples}, "
                             f"willingness_to_pay = {self.willingness_to_pay}")
        return self


class RouteStrategy:
    name: ClassVar[str] = "route"
    Options: ClassVar[type[RouteOptions]] = RouteOptions
    embedder_class: ClassVar[type[Embedder]] = MiniLmEmbedder

    def __init__(self, options: RouteOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, RouteOptions, options)
        self.memory = str(self.options.memory or default_memory_path())
        self.hands_over_to = {"cascade": self.options.cascade}  # built (and checked) by the engine

    async def run(self, ctx: StrategyContext) -> Result:
        try:
            memory = await asyncio.to_thread(load_memory, self.memory)  # a store may be remote
            [query] = await asyncio.to_thread(self.embedder_class().embed, [request_text(ctx.request)])
        except CodequorumError as error:
            return await self._fall_back(ctx, str(error))
        options = self.options
        neighbours = nearest(query, memory.matrix, memory.entries, options.k)
        closest = neighbours[0].similarity if neighbours else 0.0
        if len(neighbours) < options.k or closest < options.min_similarity:
            return await self._fall_back(ctx, f"unseen region: {len(neighbours)} neighbour(s) of k = {options.k}, "
                                              f"closest similarity {closest:.2f} (min_similarity "
                                              f"{options.min_similarity:g})")
        ctx.trace.note(f"{len(neighbours)} nearest of {len(memory)} past requests, similarity "
                       f"{neighbours[-1].similarity:.2f}..{closest:.2f}")
        predictions = predict(neighbours, [m.name for m in ctx.members])
        if not predictions:
            return await self._fall_back(ctx, "no member of this request was observed on the neighbours")
        costs = {name: expected_cost(ctx.member(name).config.price_per_1k_tokens,
                                     p.tokens if p.tokens is not None else ctx.member(name).max_tokens(ctx.request))
                 * options.samples for name, p in predictions.items()}
        choices = self._affordable(ctx, trade_off(predictions, costs, options.willingness_to_pay))
        ctx.trace.note(f"score = {options.willingness_to_pay:g} × P − cost / dearest: " + describe(choices))
        for choice in choices:
            member = ctx.member(choice.member)
            ctx.trace.note(f"routed to {member.name}")
            candidates = await ctx.sample(member, n=options.samples, temperature=options.temperature)
            if candidates:
                await ctx.check(candidates)
                return ctx.result(ctx.rank(candidates), f"routed to {member.name} (P = {choice.quality:.2f}, "
                                                        f"score {choice.score:.2f})")
            left = ctx.request.seconds_left()
            if left is not None and left <= 0:
                ctx.trace.note(f"{member.name} gave no answer and the deadline has passed")
                break
            ctx.trace.note(f"{member.name} gave no answer")
        if ctx.pool:
            return ctx.result(ctx.rank(ctx.pool), "routed members failed; best candidate so far")
        return ctx.result([], "no routed member answered" if choices else "no member fits the budget")

    def _affordable(self, ctx: StrategyContext, choices: list[Choice]) -> list[Choice]:
        """The choices whose expected cost stays within the budget's `max_cost`."""
        max_cost = ctx.request.budget.max_cost
        if max_cost is None:
            return choices
        kept = [c for c in choices if ctx.cost_so_far() + c.cost <= max_cost]
        dropped = [c.member for c in choices if c not in kept]
        if dropped:
            ctx.trace.note(f"over max_cost {max_cost:g}: {', '.join(dropped)}")
        return kept

    async def _fall_back(self, ctx: StrategyContext, why: str) -> Result:
        ctx.trace.note(f"{why}: falling back to cascade")
        return await hand_over(ctx, "cascade", self.options.cascade)


def describe(choices: list[Choice]) -> str:
    """E.g. "qwen-small P 0.80, cost 0.64 → 0.16, qwen-large P 0.80, cost 1.00 → -0.20"."""
    return ", ".join(f"{c.member} P {c.quality:.2f}, cost {c.normalised_cost:.2f} → {c.score:.2f}"
                     for c in choices) or "no member"
