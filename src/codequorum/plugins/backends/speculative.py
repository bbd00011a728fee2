"""Speculative greedy decoding: a drafter guesses the next tokens, the model checks them all in
one batch and keeps those it would have chosen itself, then adds its own next token.

The answer is the model's own greedy answer (the same tokens, up to floating-point ties between
a batched and a one-token decode); what changes is the number of decode steps. Two drafters:
prompt lookup (code repeats its names and lines: guess what followed the last few tokens the
last time they appeared) and a smaller model with the same tokenizer (its own greedy guesses).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from codequorum.plugins.backends.llama_kv import last_logprobs, prefill
from codequorum.vocabulary.cancel import CancelToken

if TYPE_CHECKING:
    from llama_cpp import Llama

PROMPT_LOOKUP = "prompt-lookup"


class Decoder(Protocol):
    def decode(self, tokens: Sequence[int]) -> np.ndarray:
        """Log-probabilities of the next token after each of `tokens`, one row per token."""
        ...

    def rewind(self, count: int) -> None:
        """Forget the last `count` decoded tokens."""
        ...


class Drafter(Protocol):
    def propose(self, context: Sequence[int], count: int) -> list[int]:
        """Up to `count` guesses of the tokens that follow `context`."""
        ...


@dataclass
class DraftCounts:
    drafted: int = 0
    accepted: int = 0
    steps: int = 0  # batched decodes


@dataclass
class PromptLookup:
    """Guess that the last `longest` (down to `shortest`) tokens go on as they did the last time
    they appeared in the prompt or the answer so far (prompt-lookup decoding)."""

    longest: int = 3
    shortest: int = 2  # one token (a bracket, a name) is too common to say what comes next

    def propose(self, context: Sequence[int], count: int) -> list[int]:
        tokens = np.asarray(context, dtype=np.int64)
        for size in range(min(self.longest, len(tokens) - 1), self.shortest - 1, -1):
            earlier = sliding_window_view(tokens[:-1], size)  # every n-gram that has a follower
            starts = np.flatnonzero((earlier == tokens[-size:]).all(axis=1))
            if starts.size:
                follow = int(starts[-1]) + size
                return tokens[follow:follow + count].tolist()
        return []


DRAFT_MIN_PROBABILITY = 0.75  # a drafting model stops guessing below this (llama.cpp's p_min)


class ModelDraft:
    """A smaller model that shares the verifier's tokenizer guesses by its own greedy decoding,
    as long as it is sure of its guess; its KV cache keeps the shared prefix from one guess to
    the next."""

    def __init__(self, llama: Llama, cancel: CancelToken) -> None:
        self._llama = llama
        self._cancel = cancel

    def propose(self, context: Sequence[int], count: int) -> list[int]:
        llama = self._llama
        if prefill(llama, list(context), self._cancel) is None:
            return []
        llama.eval([context[-1]])
        guesses: list[int] = []
        while len(guesses) < count:
            logprobs = last_logprobs(llama)
            token = int(np.argmax(logprobs))
            if _is_end(llama, token) or logprobs[token] < np.log(DRAFT_MIN_PROBABILITY):
                break
            guesses.append(token)
            if len(guesses) < count:
                llama.eval([token])
        return guesses


def speculate(
    decoder: Decoder, drafter: Drafter, context: Sequence[int], limit: int, draft_tokens: int,
    cancel: CancelToken, counts: DraftCounts,
) -> Iterator[tuple[int, float]]:
    """The model's greedy tokens after `context` (whose last token is not decoded yet), each with
    its log-probability, at most `limit` of them; stops early when `cancel` is set.

    Each guess costs compute to check (on a CPU nearly as much as a decode step), so the number
    of guesses asked for adapts: it doubles after a step that kept them all and falls to one more
    than were kept after a miss. Stopping in the middle leaves the decoder consistent: what it
    holds is a real prefix of tokens, so the next request's prefill reuses it.
    """
    seen = list(context)
    pending, produced, window = seen[-1], 0, draft_tokens
    while produced < limit and not cancel.cancelled:
        room = min(window, limit - produced - 1)
        draft = drafter.propose(seen, room)[:room] if room > 0 else []
        rows = decoder.decode([pending, *draft])
        counts.steps += 1
        counts.drafted += len(draft)
        kept = 0
        for index, row in enumerate(rows):
            token = int(np.argmax(row))
            seen.append(token)
            produced += 1
            hit = index < len(draft) and draft[index] == token
            kept += hit
            counts.accepted += hit  # counted before the caller may stop at this token
            yield token, float(row[token])
            if not hit:
                break
        decoder.rewind(len(draft) - kept)
        pending = seen[-1]
        if draft:
            window = min(draft_tokens, 2 * window) if kept == len(draft) else kept + 1


def _is_end(llama: Llama, token: int) -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_vocab_is_eog(llama._model.vocab, token))  # noqa: SLF001
