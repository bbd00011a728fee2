"""Scoring given snippets after a prompt: one prompt pass, each snippet decoded in batches."""

import numpy as np
import pytest

from codequorum.core.protocols import Scorer
from codequorum.plugins.backends.fused import FusedBackend
from codequorum.plugins.backends.llama_cpp import LlamaCppBackend
from codequorum.plugins.backends.llama_kv import SCORE_CHUNK, log_softmax, score_continuations, snippet_score
from codequorum.plugins.backends.openai_compat import OpenAICompatBackend
from codequorum.plugins.backends.transformers import TransformersBackend
from codequorum.plugins.backends.vllm import VllmBackend
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import SnippetScore
from tests.unit.plugins.backends.test_llama_cpp_prefill import FakeLlama

VOCAB = 7
END = [6]
TABLE = log_softmax(np.random.default_rng(3).normal(size=(VOCAB, VOCAB)) * 2)  # row: the token just fed


class FakeDecoder:
    """A bigram "model" on the fake KV cache: the distribution after a token depends on it alone."""

    def __init__(self, llama: FakeLlama) -> None:
        self.llama = llama
        self.batches: list[int] = []

    def decode(self, tokens):
        llama = self.llama
        del llama.input_ids[llama.n_tokens:]
        llama.input_ids += list(tokens)
        llama.n_tokens += len(tokens)
        self.batches.append(len(tokens))
        return TABLE[list(tokens)]

    def rewind(self, count: int) -> None:
        self.llama.n_tokens -= count


def expected(prompt, tail):
    fed = [prompt[-1], *tail]
    return sum(TABLE[a, b] for a, b in zip(fed, tail)), TABLE[fed[-1], END[0]]


PROMPT = [1, 2, 3, 4, 5]


def test_each_token_is_scored_by_the_distribution_before_it_and_the_end_after_the_last():
    llama = FakeLlama(cached=[])
    [score] = score_continuations(llama, FakeDecoder(llama), PROMPT, [[2, 0, 4]], END, CancelToken())
    total, end = expected(PROMPT, [2, 0, 4])
    assert score.tokens == 3
    assert score.logprob_sum == pytest.approx(total)
    assert score.end_logprob == pytest.approx(end)
    assert score.mean_logprob == pytest.approx(total / 3)
    assert score.mean_logprob_with_end == pytest.approx((total + end) / 4)


def test_the_prompt_is_evaluated_once_and_the_cache_ends_holding_it():
    llama = FakeLlama(cached=[])
    decoder = FakeDecoder(llama)
    first, second = score_continuations(llama, decoder, PROMPT, [[0, 1], [5]], END, CancelToken())
    assert llama.chunks == [PROMPT[:-1]]  # one prompt pass for both snippets
    assert decoder.batches == [3, 2]  # each snippet after the prompt's last token
    assert llama._input_ids == PROMPT[:-1]
    assert second.logprob_sum == pytest.approx(expected(PROMPT, [5])[0])
    assert first.logprob_sum == pytest.approx(expected(PROMPT, [0, 1])[0])


def test_a_snippet_longer_than_a_batch_is_decoded_in_batches_with_the_same_score():
    tail = [(i * 5) % VOCAB for i in range(2 * SCORE_CHUNK + 9)]
    llama = FakeLlama(cached=[])
    decoder = FakeDecoder(llama)
    [score] = score_continuations(llama, decoder, PROMPT, [tail], END, CancelToken())
    assert decoder.batches == [SCORE_CHUNK, SCORE_CHUNK, 10]
    assert score.logprob_sum == pytest.approx(expected(PROMPT, tail)[0])
    assert score.end_logprob == pytest.approx(expected(PROMPT, tail)[1])


def test_a_cached_prompt_is_not_evaluated_again():
    llama = FakeLlama(cached=PROMPT[:-1] + [0, 0])
    score_continuations(llama, FakeDecoder(llama), PROMPT, [[1]], END, CancelToken())
    assert llama.chunks == []


def test_a_cancel_gives_no_scores():
    cancel = CancelToken()
    cancel.cancel()
    llama = FakeLlama(cached=[])
    assert score_continuations(llama, FakeDecoder(llama), PROMPT, [[1]], END, cancel) is None


def test_the_end_counts_every_end_of_generation_token():
    rows = np.log(np.array([[0.5, 0.2, 0.2, 0.1]]))
    assert snippet_score(rows, [], [2, 3]).end_logprob == pytest.approx(np.log(0.3))
    assert snippet_score(rows, [], []).end_logprob is None


def test_an_empty_snippet_has_no_mean():
    score = SnippetScore(logprob_sum=0.0, tokens=0, end_logprob=-0.1)
    assert score.mean_logprob is None and score.mean_logprob_with_end is None
    assert SnippetScore(-1.0, 2).mean_logprob_with_end == -0.5  # no end measured: the plain mean


def test_only_the_local_llama_cpp_backend_scores():
    assert issubclass(LlamaCppBackend, Scorer)
    for backend in (OpenAICompatBackend, VllmBackend, TransformersBackend, FusedBackend):
        assert not issubclass(backend, Scorer)


class FakeVocabLlama:
    """Tokenises each special-looking stop to one token and any other text to one per byte."""

    SPECIAL = {b"<|endoftext|>": 90, b"<|fim_pad|>": 91, b"<|im_end|>": 92}
    _model = type("Model", (), {"vocab": None})()

    def n_vocab(self) -> int:
        return 100

    def token_eos(self) -> int:
        return 90

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        return [self.SPECIAL[text]] if special and text in self.SPECIAL else list(text)


def test_an_answer_ends_at_the_end_of_text_and_at_each_stop_that_is_one_token(monkeypatch):
    monkeypatch.setattr("llama_cpp.llama_vocab_eot", lambda vocab: -1)  # no end-of-turn token
    backend = LlamaCppBackend.__new__(LlamaCppBackend)
    backend._end_tokens = {}
    ends = backend._ends(FakeVocabLlama(), ("<|fim_pad|>", "<|im_end|>", "\n\ndef "))
    assert ends == [90, 91, 92]  # a multi-token stop string is no end token
