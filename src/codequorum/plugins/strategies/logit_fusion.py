"""`logit-fusion`: a token-level ensemble (Pack of LLMs, Mavromatis et al. 2024, "Pack of LLMs:
Model Fusion at Test-Time via Perplexity Optimization").

Members that share a vocabulary (the two Qwen2.5-Coder models) generate one answer together:
at every step each member's next-token distribution is computed and the distributions are
mixed, p = Σ w_m p_m; the next token is the mixture's most likely one (or sampled from it at
`temperature`) and is fed to every member. The weights come from each member's perplexity on
the prompt: w = softmax(−log PPL_m / `weight_temperature`), so the member that finds the
prompt least surprising counts most. Generation stops at an end-of-generation token, a stop
string, the request's early-stop rule or the token cap, and looks at the CancelToken between
tokens. The fused answer is checked and ranked like any candidate.

Only local llama.cpp members with the same vocabulary (size and token texts) can be fused; the
strategy refuses others by name. The mixing runs holding one scheduler slot, the members' models
held for the whole answer.

Options: `members` (default the strongest local member and every local member sharing its
vocabulary), `weight_temperature` (default 1.0), `perplexity_tokens` (prompt tokens scored for
the perplexity, default 32, the ones just before the answer), `temperature` (0 = greedy,
default the engine's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import model_validator

from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.plugins.backends.fused import FusedBackend, fused_member, mixable
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.result import Result


class LogitFusionOptions(StrategyOptions):
    members: list[str] | None = None  # None: the strongest local member and those sharing its vocabulary
    weight_temperature: float = 1.0
    perplexity_tokens: int = 32
    temperature: float | None = None  # None: the engine's

    @model_validator(mode="after")
    def _in_range(self) -> LogitFusionOptions:
        if self.weight_temperature <= 0 or self.perplexity_tokens < 0:
            raise ValueError("needs weight_temperature > 0 and perplexity_tokens >= 0, "
                             f"not {self.weight_temperature} and {self.perplexity_tokens}")
        return self


class LogitFusionStrategy:
    name: ClassVar[str] = "logit-fusion"
    Options: ClassVar[type[LogitFusionOptions]] = LogitFusionOptions
    replayable: ClassVar[bool] = False  # it steps the models token by token: no collection holds that

    def __init__(self, options: LogitFusionOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, LogitFusionOptions, options)

    async def run(self, ctx: StrategyContext) -> Result:
        members = self._members(ctx)
        fused = fused_member(members, FusedBackend([m.backend for m in members],  # type: ignore[misc]
                                                   self.options.weight_temperature, self.options.perplexity_tokens,
                                                   ctx.trace.note))
        ctx.trace.note(f"mixing {', '.join(m.name for m in members)} token by token "
                       f"(weight temperature {self.options.weight_temperature:g})")
        prompt = members[0].prompt_for(ctx.request)
        worst = fused.cost_of(fused.max_tokens(ctx.request))
        max_cost = ctx.request.budget.max_cost
        if max_cost is not None and ctx.cost_so_far() + worst > max_cost:
            ctx.trace.note(f"not mixing: up to {worst:.3g} for {fused.max_tokens(ctx.request)} tokens "
                           f"would exceed max_cost {max_cost:.3g}")
            return ctx.result([], "over budget")
        candidates = await ctx.sample_prompt(fused, prompt, temperature=self.options.temperature)
        if not candidates:
            call = ctx.trace.calls[-1] if ctx.trace.calls else None
            why = f": {call.error}" if call is not None and call.error else ""
            return ctx.result([], f"the fused members ({fused.name}) gave no answer{why}")
        await ctx.check(candidates)
        return ctx.result(ctx.rank(candidates), f"fused token by token: {fused.name}")

    def _members(self, ctx: StrategyContext) -> list[Member]:
        if self.options.members:
            members = [ctx.member(name) for name in self.options.members]
            foreign = [m.name for m in members if not mixable(m)]
            if foreign:
                raise ConfigError(f"logit-fusion mixes local llama.cpp members only; not: {', '.join(foreign)}")
            if len(members) < 2:
                raise ConfigError("logit-fusion needs at least two members to mix")
            return members
        local = [m for m in ctx.members if mixable(m)]
        if len(local) < 2:
            raise ConfigError("logit-fusion needs two local llama.cpp members that share a vocabulary; "
                              f"this request has {', '.join(m.name for m in local) or 'none'}")
        return same_vocabulary(ctx, local)


def same_vocabulary(ctx: StrategyContext, local: list[Member]) -> list[Member]:
    """The strongest local member and those that share its vocabulary (others left out, traced).
    The vocabulary is known from the model's configuration: same FIM template, same model family."""
    lead = local[0]
    kept = [m for m in local if m.config.fim == lead.config.fim and m.config.fim is not None] or [lead]
    left = [m.name for m in local if m not in kept]
    if left:
        ctx.trace.note(f"left out {', '.join(left)}: not the same model family as {lead.name} "
                       f"(FIM template {lead.config.fim})")
    if len(kept) < 2:
        raise ConfigError(f"logit-fusion found no member sharing {lead.name}'s vocabulary: "
                          "name two with `members`")
    return kept
