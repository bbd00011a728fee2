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

import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from typing import Any, ClassVar, Protocol

import numpy as np
from pydantic import model_validator

from codequorum.config import MemberConfig
from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.plugins.backends._threads import run_local
from codequorum.plugins.backends.llama_cpp import LlamaCppBackend
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import ConfigError, MemberError
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt
from codequorum.vocabulary.result import Result

VOCAB_SAMPLE = 64  # token ids compared, spread over the vocabulary, besides its size


class Stepper(Protocol):
    """What the mixing needs of one model (`plugins/backends/llama_cpp.py: TokenStepper`)."""

    name: str

    @property
    def n_vocab(self) -> int: ...

    @property
    def n_ctx(self) -> int: ...

    def token_text(self, token: int) -> str: ...

    def is_end(self, token: int) -> bool: ...

    def tokenize(self, prompt: Prompt) -> list[int]: ...

    def detokenize(self, tokens: list[int]) -> str: ...

    def start(self, tokens: list[int], cancel: CancelToken, scored: int = 0) -> list[float] | None: ...

    def logprobs(self) -> np.ndarray: ...

    def push(self, token: int) -> None: ...


# ---- the maths ---------------------------------------------------------------------------


def perplexity(token_logprobs: Sequence[float]) -> float:
    """exp(−mean log p) of the scored prompt tokens (1.0 when none were scored)."""
    return math.exp(-sum(token_logprobs) / len(token_logprobs)) if token_logprobs else 1.0


def perplexity_weights(perplexities: Sequence[float], temperature: float = 1.0) -> np.ndarray:
    """softmax(−log PPL / temperature): lower perplexity, higher weight; they sum to 1."""
    scores = -np.log(np.asarray(perplexities, dtype=np.float64)) / temperature
    scores -= scores.max()
    weights = np.exp(scores)
    return weights / weights.sum()


def mix(logprobs: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """log Σ_m w_m p_m: the log of the weighted mixture of the members' distributions."""
    stacked = np.stack([np.asarray(lp, dtype=np.float64) for lp in logprobs])
    with np.errstate(divide="ignore"):
        shifted = stacked + np.log(weights)[:, None]
    peak = shifted.max(axis=0)
    peak = np.where(np.isfinite(peak), peak, 0.0)  # a token no member can produce stays at −inf
    with np.errstate(divide="ignore"):
        return peak + np.log(np.exp(shifted - peak).sum(axis=0))


def choose(mixture: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """The mixture's most likely token (temperature 0), or one sampled from p^(1/T)."""
    if temperature <= 0:
        return int(np.argmax(mixture))
    scaled = mixture / temperature
    probabilities = np.exp(scaled - scaled.max())
    return int(rng.choice(len(probabilities), p=probabilities / probabilities.sum()))


def vocabulary_mismatch(steppers: Sequence[Stepper]) -> str | None:
    """Why these models cannot be mixed token by token (None when their vocabularies match)."""
    first = steppers[0]
    sample = sorted({round(i * (first.n_vocab - 1) / (VOCAB_SAMPLE - 1)) for i in range(VOCAB_SAMPLE)})
    for other in steppers[1:]:
        if other.n_vocab != first.n_vocab:
            return (f"{first.name} has {first.n_vocab} tokens and {other.name} {other.n_vocab}: "
                    "their vocabularies differ")
        different = [t for t in sample if first.token_text(t) != other.token_text(t)]
        if different:
            return (f"{first.name} and {other.name} have different token texts (e.g. token {different[0]}: "
                    f"{first.token_text(different[0])!r} vs {other.token_text(different[0])!r})")
    return None


def fused_generation(steppers: Sequence[Stepper], prompt: Prompt, params: GenerationParams,
                     cancel: CancelToken, weight_temperature: float, scored: int,
                     note: Callable[[str], None]) -> Generation:
    """Weights from each member's perplexity on the prompt, then one mixed token at a time."""
    mismatch = vocabulary_mismatch(steppers)
    if mismatch:
        raise MemberError(f"logit-fusion cannot mix {', '.join(s.name for s in steppers)}: {mismatch}")
    started = time.monotonic()
    prompts = [stepper.tokenize(prompt) for stepper in steppers]
    room = min(stepper.n_ctx - len(tokens) for stepper, tokens in zip(steppers, prompts, strict=True))
    if room < 8:
        raise MemberError(f"the prompt does not fit the context of {', '.join(s.name for s in steppers)}")
    scores = []
    for stepper, tokens in zip(steppers, prompts, strict=True):
        scored_logprobs = stepper.start(tokens, cancel, scored)
        if scored_logprobs is None:
            return Generation("", 0, len(prompts[0]), time.monotonic() - started, finish_reason="cancelled")
        scores.append(scored_logprobs)
    perplexities = [perplexity(s) for s in scores]
    weights = perplexity_weights(perplexities, weight_temperature)
    note("weights from prompt perplexity: " + ", ".join(
        f"{s.name} PPL {p:.2f} → {w:.2f}" for s, p, w in zip(steppers, perplexities, weights, strict=True)))
    rng = np.random.default_rng(params.seed)
    completion: list[int] = []
    chosen: list[float] = []
    text, finish = "", "length"
    while len(completion) < min(params.max_tokens, room):
        if cancel.cancelled:
            finish = "cancelled"
            break
        mixture = mix([stepper.logprobs() for stepper in steppers], weights)
        token = choose(mixture, params.temperature, rng)
        if steppers[0].is_end(token):
            finish = "stop"
            break
        completion.append(token)
        chosen.append(float(mixture[token]))
        text = steppers[0].detokenize(completion)
        cut = _stop_in(text, params)
        if cut is not None:
            text, finish = text[:cut], "stop"
            break
        for stepper in steppers:
            stepper.push(token)
    return Generation(text=text, tokens=len(completion), prompt_tokens=len(prompts[0]),
                      seconds=time.monotonic() - started,
                      mean_logprob=float(np.mean(chosen)) if chosen else None, finish_reason=finish)


def _stop_in(text: str, params: GenerationParams) -> int | None:
    positions = [text.find(stop) for stop in params.stop if stop and stop in text]
    if positions:
        return min(positions)
    return params.stop_at(text) if params.stop_at is not None else None


# ---- the fused members as one backend ------------------------------------------------------


class FusedBackend:
    """The mixed members behind the Backend protocol, so the context samples them like any
    member (deadline, trace, cancellation, clean-up): one scheduler slot for the whole answer,
    the work in a worker thread that holds every member's model."""

    def __init__(self, backends: Sequence[LlamaCppBackend], weight_temperature: float, scored: int,
                 note: Callable[[str], None]) -> None:
        self.backends = list(backends)
        self.options.weight_temperature = weight_temperature
        self.scored = scored
        self.note = note

    @property
    def supports_fim(self) -> bool:
        return all(b.supports_fim for b in self.backends)

    async def generate(self, prompt: Prompt, params: GenerationParams, cancel: CancelToken) -> list[Generation]:
        runtime = self.backends[0].runtime
        priority = sum(b.member.price_per_1k_tokens for b in self.backends)
        return await run_local(runtime.scheduler, priority, lambda: self._generate(prompt, params, cancel), cancel)

    def _generate(self, prompt: Prompt, params: GenerationParams, cancel: CancelToken) -> list[Generation]:
        with ExitStack() as stack:
            # models are taken in one global order (by name), so two mixtures never deadlock
            opened = {b.member.name: stack.enter_context(b.stepper())
                      for b in sorted(self.backends, key=lambda b: b.member.name)}
            steppers = [opened[b.member.name] for b in self.backends]
            return [fused_generation(steppers, prompt, params, cancel, self.options.weight_temperature,
                                     self.scored, self.note)]

    async def aclose(self) -> None:
        return None  # the members' own backends own the models


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
            foreign = [m.name for m in members if not isinstance(m.backend, LlamaCppBackend)]
            if foreign:
                raise ConfigError(f"logit-fusion mixes local llama.cpp members only; not: {', '.join(foreign)}")
            if len(members) < 2:
                raise ConfigError("logit-fusion needs at least two members to mix")
            return members
        local = [m for m in ctx.members if isinstance(m.backend, LlamaCppBackend)]
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


def fused_member(members: Sequence[Member], backend: FusedBackend) -> Member:
    """One member standing for the mixed ones: each token costs all of them."""
    config = MemberConfig.model_validate({
        "name": "+".join(m.name for m in members),
        "backend": "logit-fusion",
        "fim": members[0].config.fim,
        "chat": all(m.config.chat for m in members),
        "max_tokens": min((m.config.max_tokens for m in members if m.config.max_tokens), default=None),
        "price_per_1k_tokens": sum(m.config.price_per_1k_tokens for m in members),
        "quality": max(m.config.quality for m in members),
        "retries": 0,
        "circuit_failures": 0,
    })
    config.bind_fim_template(members[0].config.fim_template)  # a [fim_templates.NAME] of the settings too
    return Member(config=config, backend=backend)
