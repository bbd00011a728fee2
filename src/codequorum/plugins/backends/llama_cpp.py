"""llama.cpp in process (llama-cpp-python): the embedded default backend.

Each model is loaded lazily and once. Generation runs token by token in a worker thread so
it can stop between tokens when cancelled; llama.cpp reuses the KV cache for the longest
common prompt prefix, so prompts keep their stable part first.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from codequorum.config import MemberConfig
from codequorum.plugins.backends._threads import queue_priority, run_local
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import MemberError
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt

if TYPE_CHECKING:
    from llama_cpp import Llama

    from codequorum.core.runtime import Runtime

log = logging.getLogger(__name__)

INSTALL_HINT = "install the local extra: pip install 'codequorum[local]'"


class LlamaCppBackend:
    def __init__(self, member: MemberConfig, runtime: Runtime) -> None:
        self.member = member
        self.runtime = runtime
        self._llama: Llama | None = None
        self._chat_formatter: Any = None
        self._lock = threading.Lock()  # one generation per model at a time
        self.load_seconds: float | None = None

    @property
    def supports_fim(self) -> bool:
        return self.member.fim is not None

    def model_path(self) -> Path:
        if self.member.path is not None:
            if not self.member.path.is_file():
                raise MemberError(f"member {self.member.name}: model file {self.member.path} does not exist")
            return self.member.path
        assert self.member.model is not None  # guaranteed by MemberConfig validation
        return self.runtime.models.verified_path(self.member.model)

    async def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: CancelToken
    ) -> list[Generation]:
        return await run_local(self.runtime.scheduler, queue_priority(params, self.member),
                               lambda: self._generate(prompt, params, cancel), cancel)

    @contextmanager
    def stepper(self) -> Iterator[TokenStepper]:
        """Token-level access to this model, for strategies that mix members' next-token
        distributions (`logit-fusion`). It holds the model while open: enter it in a worker
        thread, inside a scheduler slot, as `generate` does."""
        with self._lock:
            yield TokenStepper(self, self.load())

    async def aclose(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

    def load(self) -> Llama:
        """The loaded model (loading it on first use)."""
        if self._llama is None:
            self._llama = self._load()
        return self._llama

    def _load(self) -> Llama:
        try:
            from llama_cpp import Llama
        except ImportError as error:
            raise MemberError(f"member {self.member.name} needs llama-cpp-python: {INSTALL_HINT}") from error
        path = self.model_path()
        started = time.monotonic()
        try:
            llama = Llama(
                model_path=str(path),
                n_ctx=self.member.n_ctx,
                n_threads=self.member.n_threads or os.cpu_count() or 1,
                n_batch=512,
                verbose=False,
                **self.member.options,
            )
        except (ValueError, RuntimeError) as error:
            raise MemberError(f"member {self.member.name}: llama.cpp could not load {path}: {error}") from error
        self.load_seconds = time.monotonic() - started
        log.info("loaded %s in %.1fs", path.name, self.load_seconds)
        return llama

    def _generate(self, prompt: Prompt, params: GenerationParams, cancel: CancelToken) -> list[Generation]:
        with self._lock:
            llama = self.load()
            tokens = self._tokenize(llama, prompt)
            room = self.member.n_ctx - len(tokens)
            if room < 8:
                raise MemberError(
                    f"member {self.member.name}: prompt of {len(tokens)} tokens does not fit "
                    f"its context of {self.member.n_ctx} tokens"
                )
            max_tokens = min(params.max_tokens, room)
            if not _prefill(llama, tokens, cancel):
                return []
            samples = []
            for index in range(params.n):
                if cancel.cancelled:
                    break
                llama.set_seed(params.seed + index)
                samples.append(_sample(llama, tokens, params, max_tokens, cancel))
            return samples

    def _tokenize(self, llama: Llama, prompt: Prompt) -> list[int]:
        if prompt.kind == "fim":
            return llama.tokenize(prompt.text.encode("utf-8"), add_bos=False, special=True)
        text = self._render_chat(llama, prompt)
        return llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def _render_chat(self, llama: Llama, prompt: Prompt) -> str:
        if self._chat_formatter is None:
            self._chat_formatter = _chat_formatter(llama, self.member.name)
        messages = [{"role": m.role, "content": m.content} for m in prompt.messages]
        return str(self._chat_formatter(messages=messages).prompt)


class TokenStepper:
    """One model, one token at a time: evaluate a prompt (reusing the KV cache), read the
    next token's log-probabilities, feed the chosen token, and so on."""

    def __init__(self, backend: LlamaCppBackend, llama: Llama) -> None:
        self.name = backend.member.name
        self._backend = backend
        self._llama = llama

    @property
    def n_vocab(self) -> int:
        return int(self._llama.n_vocab())

    @property
    def n_ctx(self) -> int:
        return int(self._llama.n_ctx())

    def token_text(self, token: int) -> str:
        return str(self._llama._model.token_get_text(token))  # noqa: SLF001 - token texts are only exposed here

    def is_end(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._llama._model.vocab, token))  # noqa: SLF001

    def tokenize(self, prompt: Prompt) -> list[int]:
        return self._backend._tokenize(self._llama, prompt)  # noqa: SLF001 - same backend

    def detokenize(self, tokens: list[int]) -> str:
        return self._llama.detokenize(tokens, special=True).decode("utf-8", errors="ignore")

    def start(self, tokens: list[int], cancel: CancelToken, scored: int = 0) -> list[float] | None:
        """Evaluate the prompt; the log-probabilities of its last `scored` tokens, each given the
        text before it (for perplexity), or None when cancelled. Then `logprobs()` is the
        distribution of the first token after the prompt."""
        scored = max(0, min(scored, len(tokens) - 1))
        head, tail = tokens[: len(tokens) - scored], tokens[len(tokens) - scored:]
        if not _prefill(self._llama, head, cancel):
            return None
        self._llama.eval(head[-1:])
        scores = []
        for token in tail:
            if cancel.cancelled:
                return None
            scores.append(float(self.logprobs()[token]))
            self._llama.eval([token])
        return scores

    def logprobs(self) -> np.ndarray:
        """Log-probabilities of the next token (the raw distribution, no sampling filters)."""
        pointer = self._llama._ctx.get_logits_ith(-1)  # noqa: SLF001 - logits of the last decode
        logits = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)).astype(np.float64)
        peak = logits.max()
        return logits - (peak + np.log(np.exp(logits - peak).sum()))

    def push(self, token: int) -> None:
        """Feed the chosen token, so that `logprobs()` gives the one after it."""
        self._llama.eval([token])


def _chat_formatter(llama: Llama, member_name: str) -> Any:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise MemberError(f"member {member_name}: the model file has no chat template; set `fim`")
    model = llama._model  # noqa: SLF001 - token texts are only exposed here
    eos = llama.token_eos()
    bos = llama.token_bos()
    return Jinja2ChatFormatter(
        template=template,
        eos_token=model.token_get_text(eos) if eos != -1 else "",
        bos_token=model.token_get_text(bos) if bos != -1 else "",
    )


PREFILL_CHUNK = 32  # prompt tokens evaluated between two looks at the CancelToken


def _prefill(llama: Llama, tokens: list[int], cancel: CancelToken) -> bool:
    """Evaluate the prompt but its last token (which `generate` evaluates to sample) in chunks.

    One long prompt evaluation cannot be interrupted, so a cancel or a deadline would wait
    for all of it (seconds on a small CPU); between chunks the token is looked at. The part
    the KV cache already holds is kept, and a stopped prefill leaves what it evaluated there
    for the next request. False when cancelled.
    """
    cached = _common_prefix(llama._input_ids, tokens[:-1])  # noqa: SLF001 - the KV cache's tokens
    llama.n_tokens = cached
    pending = tokens[cached:-1]
    for start in range(0, len(pending), PREFILL_CHUNK):
        if cancel.cancelled:
            return False
        llama.eval(pending[start:start + PREFILL_CHUNK])
    return True


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return length


def _sample(
    llama: Llama, prompt_tokens: list[int], params: GenerationParams, max_tokens: int,
    cancel: CancelToken,
) -> Generation:
    import llama_cpp

    started = time.monotonic()
    completion: list[int] = []
    logprobs: list[float] = []
    text, finish = "", "length"
    vocab = llama._model.vocab  # noqa: SLF001 - end-of-generation test needs the vocab
    for token in llama.generate(
        prompt_tokens, temp=params.temperature, top_p=params.top_p, top_k=40, min_p=0.05,
        repeat_penalty=1.0,
    ):
        if cancel.cancelled:
            finish = "cancelled"
            break
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            finish = "stop"
            break
        logprobs.append(_token_logprob(llama, token))
        completion.append(token)
        text = llama.detokenize(completion, special=True).decode("utf-8", errors="ignore")
        cut = _find_stop(text, params.stop)
        if cut is None and params.stop_at is not None:
            cut = params.stop_at(text)
        if cut is not None:
            text, finish = text[:cut], "stop"
            break
        if len(completion) >= max_tokens:
            break
    return Generation(
        text=text,
        tokens=len(completion),
        prompt_tokens=len(prompt_tokens),
        seconds=time.monotonic() - started,
        mean_logprob=float(np.mean(logprobs)) if logprobs else None,
        finish_reason=finish,
    )


def _token_logprob(llama: Llama, token: int) -> float:
    """Log-probability of `token` under the model's raw next-token distribution."""
    pointer = llama._ctx.get_logits_ith(-1)  # noqa: SLF001 - logits of the last decode
    logits = np.ctypeslib.as_array(pointer, shape=(llama.n_vocab(),))
    peak = float(logits.max())
    log_norm = peak + float(np.log(np.exp(logits - peak).sum()))
    return float(logits[token]) - log_norm


def _find_stop(text: str, stops: tuple[str, ...]) -> int | None:
    positions = [text.find(stop) for stop in stops if stop and stop in text]
    return min(positions) if positions else None
