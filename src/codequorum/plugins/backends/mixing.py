"""Token-level mixing of models that share a vocabulary (Pack of LLMs, Mavromatis et al. 2024):
weights from each model's perplexity on the prompt, w = softmax(−log PPL / T), then one token
at a time from the mixture p = Σ w_m p_m. The `logit-fusion` strategy uses it through
`fused.py`'s backend."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import MemberError
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt

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
