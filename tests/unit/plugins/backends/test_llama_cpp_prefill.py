"""The llama.cpp backend evaluates a prompt in chunks so that a cancel is seen within one."""

from codequorum.plugins.backends.llama_kv import PREFILL_CHUNK, prefill
from codequorum.vocabulary.cancel import CancelToken


class FakeLlama:
    """Records evaluated chunks; `cancel_after` chunks in, it sets the token (as a deadline would)."""

    def __init__(self, cached: list[int], cancel: CancelToken | None = None, cancel_after: int = 0):
        self.n_tokens = len(cached)
        self.input_ids = list(cached)
        self.chunks: list[list[int]] = []
        self._cancel, self._cancel_after = cancel, cancel_after

    @property
    def _input_ids(self) -> list[int]:
        return self.input_ids[: self.n_tokens]

    def eval(self, tokens: list[int]) -> None:
        del self.input_ids[self.n_tokens:]  # llama.cpp drops the KV cache past n_tokens
        self.input_ids += tokens
        self.n_tokens += len(tokens)
        self.chunks.append(list(tokens))
        if self._cancel is not None and len(self.chunks) == self._cancel_after:
            self._cancel.cancel()


PROMPT = list(range(5 * PREFILL_CHUNK + 3))


def test_the_prompt_but_its_last_token_is_evaluated_in_chunks():
    llama = FakeLlama(cached=[])
    assert prefill(llama, PROMPT, CancelToken()) == 0
    assert [len(c) for c in llama.chunks] == [PREFILL_CHUNK] * 5 + [2]
    assert llama._input_ids == PROMPT[:-1]


def test_what_the_kv_cache_holds_is_not_evaluated_again():
    llama = FakeLlama(cached=PROMPT[:100] + [-1, -2])  # a previous prompt that went elsewhere
    assert prefill(llama, PROMPT, CancelToken()) == 100
    assert llama.chunks[0][0] == 100
    assert llama._input_ids == PROMPT[:-1]


def test_a_cancel_stops_the_prefill_at_the_next_chunk_and_keeps_what_was_done():
    cancel = CancelToken()
    llama = FakeLlama(cached=[], cancel=cancel, cancel_after=2)
    assert prefill(llama, PROMPT, cancel) is None
    assert len(llama.chunks) == 2
    assert llama._input_ids == PROMPT[: 2 * PREFILL_CHUNK]
