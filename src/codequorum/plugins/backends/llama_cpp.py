"""llama.cpp in process (llama-cpp-python): the embedded default backend.

Each model is loaded lazily and once. Generation runs token by token in a worker thread so
it can stop between tokens when cancelled; llama.cpp reuses the KV cache for the longest
common prompt prefix, so prompts keep their stable part first. A member with `draft` set decodes
greedy calls speculatively (`speculative.py`).
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
from codequorum.plugins.backends.llama_kv import KvDecoder, last_logprobs, prefill, score_continuations
from codequorum.plugins.backends.speculative import (
    PROMPT_LOOKUP,
    DraftCounts,
    Drafter,
    ModelDraft,
    PromptLookup,
    speculate,
)
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import MemberError
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt, SnippetScore

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
        self._drafter_llama: Llama | None = None  # the `draft` member's model, when it drafts
        self._end_tokens: dict[tuple[str, ...], list[int]] = {}  # per prompt stops: where an answer ends
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

    async def score(self, prompt: Prompt, continuations: Sequence[str],
                    cancel: CancelToken) -> list[SnippetScore] | None:
        """How likely this model finds each continuation right after the prompt (`Scorer`):
        one pass over the prompt (the KV cache's common prefix reused), then one batched decode
        of each continuation's tokens. None when cancelled."""
        return await run_local(self.runtime.scheduler, self.member.price_per_1k_tokens,
                               lambda: self._score(prompt, list(continuations), cancel), cancel)

    def _score(self, prompt: Prompt, continuations: list[str], cancel: CancelToken) -> list[SnippetScore] | None:
        with self._lock:
            llama = self.load()
            head = self._tokenize(llama, prompt)
            # tokenised apart and joined: a FIM prompt ends in a special token, so no token of
            # the text would have merged across the boundary
            tails = [llama.tokenize(text.encode("utf-8"), add_bos=False, special=False) for text in continuations]
            longest = max(map(len, tails), default=0)
            if len(head) + longest + 1 > self.member.n_ctx:
                raise MemberError(
                    f"member {self.member.name}: a prompt of {len(head)} tokens and a snippet of {longest} "
                    f"do not fit its context of {self.member.n_ctx} tokens"
                )
            return score_continuations(llama, KvDecoder(llama), head, tails, self._ends(llama, prompt.stop), cancel)

    def _ends(self, llama: Llama, stops: tuple[str, ...]) -> list[int]:
        """The tokens after which an answer to a prompt with these stops ends: the model's end
        of text and end of turn, and each stop string that is one token (a FIM format's special
        tokens). Not a scan of the vocabulary: 150 000 calls into llama.cpp take seconds."""
        if stops not in self._end_tokens:
            import llama_cpp

            vocab = llama._model.vocab  # noqa: SLF001 - the vocabulary is only exposed here
            ends = {llama.token_eos(), llama_cpp.llama_vocab_eot(vocab)}
            for stop in stops:
                tokens = llama.tokenize(stop.encode("utf-8"), add_bos=False, special=True)
                if len(tokens) == 1:
                    ends.add(tokens[0])
            self._end_tokens[stops] = sorted(t for t in ends if 0 <= t < llama.n_vocab())
        return self._end_tokens[stops]

    @contextmanager
    def stepper(self) -> Iterator[TokenStepper]:
        """Token-level access to this model, for strategies that mix members' next-token
        distributions (`logit-fusion`). It holds the model while open: enter it in a worker
        thread, inside a scheduler slot, as `generate` does."""
        with self._lock:
            yield TokenStepper(self, self.load())

    async def aclose(self) -> None:
        with self._lock:
            for llama in (self._llama, self._drafter_llama):
                if llama is not None:
                    llama.close()
            self._llama = self._drafter_llama = None

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
            started = time.monotonic()
            llama = self.load()
            tokens = self._tokenize(llama, prompt)
            room = self.member.n_ctx - len(tokens)
            if room < 8:
                raise MemberError(
                    f"member {self.member.name}: prompt of {len(tokens)} tokens does not fit "
                    f"its context of {self.member.n_ctx} tokens"
                )
            max_tokens = min(params.max_tokens, room)
            cached = prefill(llama, tokens, cancel)
            if cached is None:
                return []
            samples = []
            for index in range(params.n):
                if cancel.cancelled:
                    break
                answer = _Answer(llama, tokens, params, max_tokens, started, cached)
                if params.temperature == 0 and self.member.draft is not None:
                    self._speculate(llama, answer, cancel)
                else:
                    llama.set_seed(params.seed + index)
                    _sample(llama, answer, params, cancel)
                samples.append(answer.generation())
                started, cached = time.monotonic(), len(tokens) - 1  # the next sample's prompt is cached
            return samples

    def _speculate(self, llama: Llama, answer: _Answer, cancel: CancelToken) -> None:
        """Greedy decoding with a drafter (`draft` in the member's settings): the same answer in
        fewer decode steps when the guesses are right."""
        drafter: Drafter = (PromptLookup() if self.member.draft == PROMPT_LOOKUP
                            else ModelDraft(self._draft_model(llama), cancel))
        steps = speculate(KvDecoder(llama), drafter, answer.prompt_tokens, answer.max_tokens,
                          self.member.draft_tokens, cancel, answer.draft)
        for token, logprob in steps:
            if answer.add(token, logprob):
                break
        else:
            answer.finish = "cancelled" if cancel.cancelled else answer.finish

    def _draft_model(self, verifier: Llama) -> Llama:
        """The drafting member's model, loaded once for this backend, with its own KV cache."""
        if self._drafter_llama is None:
            name = str(self.member.draft)
            config = self.runtime.settings.members.get(name)
            if config is None or config.backend != "llama-cpp":
                raise MemberError(f"member {self.member.name}: draft = {name!r} is not a llama-cpp member")
            drafting = LlamaCppBackend(config.model_copy(update={"n_ctx": self.member.n_ctx}), self.runtime)
            llama = drafting.load()
            if llama.n_vocab() != verifier.n_vocab():
                raise MemberError(f"member {self.member.name}: draft member {name} has another tokenizer "
                                  f"({llama.n_vocab()} tokens, not {verifier.n_vocab()}); it cannot draft")
            self._drafter_llama = llama
        return self._drafter_llama

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
        if prefill(self._llama, head, cancel) is None:
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
        return last_logprobs(self._llama)

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


class _Answer:
    """The tokens of one answer as they come: its text, where it must stop, and how it went."""

    def __init__(self, llama: Llama, prompt_tokens: list[int], params: GenerationParams,
                 max_tokens: int, started: float, cached: int) -> None:
        self._llama = llama
        self._params = params
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens
        self.started = started  # the call's start: the time to first token counts from here
        self.decoding_since = time.monotonic()  # `seconds` counts decoding only, as it always has
        self.cached = cached
        self.tokens: list[int] = []
        self.logprobs: list[float] = []
        self.text = ""
        self.finish = "length"
        self.first_token_seconds: float | None = None
        self.draft = DraftCounts()

    def add(self, token: int, logprob: float) -> bool:
        """Take the next token; True when the answer is complete."""
        import llama_cpp

        if self.first_token_seconds is None:
            self.first_token_seconds = time.monotonic() - self.started
        if llama_cpp.llama_vocab_is_eog(self._llama._model.vocab, token):  # noqa: SLF001
            self.finish = "stop"
            return True
        self.logprobs.append(logprob)
        self.tokens.append(token)
        self.text = self._llama.detokenize(self.tokens, special=True).decode("utf-8", errors="ignore")
        cut = _find_stop(self.text, self._params.stop)
        if cut is None and self._params.stop_at is not None:
            cut = self._params.stop_at(self.text)
        if cut is not None:
            self.text, self.finish = self.text[:cut], "stop"
            return True
        return len(self.tokens) >= self.max_tokens

    def generation(self) -> Generation:
        return Generation(
            text=self.text,
            tokens=len(self.tokens),
            prompt_tokens=len(self.prompt_tokens),
            seconds=time.monotonic() - self.decoding_since,
            mean_logprob=float(np.mean(self.logprobs)) if self.logprobs else None,
            finish_reason=self.finish,
            first_token_seconds=self.first_token_seconds,
            cached_prompt_tokens=self.cached,
            drafted_tokens=self.draft.drafted,
            accepted_draft_tokens=self.draft.accepted,
        )


def _sample(llama: Llama, answer: _Answer, params: GenerationParams, cancel: CancelToken) -> None:
    for token in llama.generate(
        answer.prompt_tokens, temp=params.temperature, top_p=params.top_p, top_k=40, min_p=0.05,
        repeat_penalty=1.0,
    ):
        if cancel.cancelled:
            answer.finish = "cancelled"
            return
        if answer.add(token, float(last_logprobs(llama)[token])):
            return


def _find_stop(text: str, stops: tuple[str, ...]) -> int | None:
    positions = [text.find(stop) for stop in stops if stop and stop in text]
    return min(positions) if positions else None
