"""One llama.cpp model's KV cache, as the backend and its speculative decoding use it.

llama-cpp-python keeps the tokens its KV cache holds in `input_ids[:n_tokens]`, and its next
`eval` drops whatever the cache holds past `n_tokens`: setting `n_tokens` back is how a prefix is
kept and the rest forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import SnippetScore

if TYPE_CHECKING:
    from llama_cpp import Llama

PREFILL_CHUNK = 32  # prompt tokens evaluated between two looks at the CancelToken
SCORE_CHUNK = 64  # continuation tokens decoded per batch when scoring (64 rows of a Qwen's vocabulary: 78 MB)


def prefill(llama: Llama, tokens: list[int], cancel: CancelToken) -> int | None:
    """Evaluate the prompt but its last token (which decoding evaluates first) in chunks; the
    number of prompt tokens the KV cache already held, or None when cancelled.

    One long prompt evaluation cannot be interrupted, so a cancel or a deadline would wait
    for all of it (seconds on a small CPU); between chunks the token is looked at. The part
    the KV cache already holds is kept, and a stopped prefill leaves what it evaluated there
    for the next request.
    """
    cached = common_prefix(llama._input_ids, tokens[:-1])  # noqa: SLF001 - the KV cache's tokens
    llama.n_tokens = cached
    pending = tokens[cached:-1]
    for start in range(0, len(pending), PREFILL_CHUNK):
        if cancel.cancelled:
            return None
        llama.eval(pending[start:start + PREFILL_CHUNK])
    return cached


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return length


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities from raw logits, along the last axis."""
    logits = logits.astype(np.float64)
    peak = logits.max(axis=-1, keepdims=True)
    return logits - (peak + np.log(np.exp(logits - peak).sum(axis=-1, keepdims=True)))


def last_logprobs(llama: Llama) -> np.ndarray:
    """Log-probabilities of the token after the last one decoded (no sampling filters)."""
    pointer = llama._ctx.get_logits_ith(-1)  # noqa: SLF001 - logits of the last decode
    return log_softmax(np.ctypeslib.as_array(pointer, shape=(llama.n_vocab(),)))


class KvDecoder:
    """Decode several tokens in one batch and read the next-token distribution after each of
    them (what `Llama.eval` keeps only for the last one unless the whole context keeps all its
    logits, `logits_all`: 4096 x 151936 floats for a Qwen, 2.4 GB)."""

    def __init__(self, llama: Llama) -> None:
        self._llama = llama

    def decode(self, tokens: Sequence[int]) -> np.ndarray:
        llama = self._llama
        if len(tokens) > llama.n_batch:
            raise ValueError(f"{len(tokens)} tokens do not fit one batch of {llama.n_batch}")
        past = llama.n_tokens
        llama._ctx.kv_cache_seq_rm(-1, past, -1)  # noqa: SLF001 - forget what follows n_tokens
        llama._batch.set_batch(batch=list(tokens), n_past=past, logits_all=True)  # noqa: SLF001
        llama._ctx.decode(llama._batch)  # noqa: SLF001
        llama.input_ids[past:past + len(tokens)] = tokens
        llama.n_tokens = past + len(tokens)
        rows = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(len(tokens), llama.n_vocab()))  # noqa: SLF001
        return log_softmax(rows)

    def rewind(self, count: int) -> None:
        """Forget the last `count` decoded tokens (the next decode drops them from the cache)."""
        self._llama.n_tokens -= count


def score_continuations(llama: Llama, decoder: KvDecoder, prompt: list[int], continuations: list[list[int]],
                        end_tokens: Sequence[int], cancel: CancelToken) -> list[SnippetScore] | None:
    """Each continuation's log-probability given the prompt, or None when cancelled.

    The prompt is evaluated once (reusing what the KV cache holds); each continuation is then
    decoded in batches after it, the distribution after every token read, and forgotten again,
    so the next one follows the same prompt and the cache ends holding the prompt's tokens but
    its last (what `prefill` leaves).
    """
    if prefill(llama, prompt, cancel) is None:
        return None
    scores = []
    for tail in continuations:
        if cancel.cancelled:
            return None
        fed = [prompt[-1], *tail]  # the distribution after the prompt's last token predicts tail[0]
        rows = [decoder.decode(fed[start:start + SCORE_CHUNK]) for start in range(0, len(fed), SCORE_CHUNK)]
        decoder.rewind(len(fed))
        scores.append(snippet_score(np.concatenate(rows), tail, end_tokens))
    return scores


def snippet_score(rows: np.ndarray, tail: Sequence[int], end_tokens: Sequence[int]) -> SnippetScore:
    """The score of `tail` from the log-probability rows read after the prompt's last token
    and after each of its tokens (len(tail) + 1 rows); the last row says how likely the model
    ends there (any of `end_tokens`)."""
    picked = rows[np.arange(len(tail)), list(tail)] if len(tail) else np.zeros(0)
    end = None
    if len(end_tokens):
        ending = rows[len(tail), list(end_tokens)]
        peak = float(ending.max())
        end = peak + float(np.log(np.exp(ending - peak).sum()))
    return SnippetScore(logprob_sum=float(picked.sum()), tokens=len(tail), end_logprob=end)
