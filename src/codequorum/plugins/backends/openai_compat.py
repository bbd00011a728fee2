"""Any OpenAI-compatible server: `vllm serve`, llama.cpp's server, TGI, Ollama, OpenAI.

FIM prompts go to `/v1/completions` as raw text: the FIM template's special tokens are
in the text, and vLLM and llama.cpp's server parse them as special tokens there. (The
`suffix` field is not used: vLLM refuses it and llama-cpp-python builds a wrong prompt.)
Chat prompts go to `/v1/chat/completions`. Answers are streamed, so stop strings and the
request's `stop_at` rule end a sample as soon as they match, and cancelling (the token, or
the awaiting task) closes the connection at once, even while the server is still silent,
which makes the server abort the generation.

Each of the n samples is its own request with seed `seed + i`, one after the other:
llama-cpp-python's server ignores `n` and, by default, interrupts a running answer when
another request arrives. Failures are raised as the resilience layer's kinds (transient,
rejected, other); retries happen there, not here.

An answer is capped here as well as by the server: it ends (kept, finish reason "length") at
`max_tokens` pieces, at 64 characters of text per requested token, or after a byte budget of
the stream (`openai_wire.answer_byte_limit`); a server that ignores `max_tokens` or streams
for ever costs no more than an honest one.

Member options: `extra_body` (a table merged into every request, e.g. `{top_k = 20}`),
`logprobs = false` for servers that refuse logprobs, `merge_system = true` for models whose
chat template refuses a system message (Mixtral).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from codequorum.config import MemberConfig
from codequorum.core.resilience import RejectedRequest, TransientError
from codequorum.plugins.backends._cancel import stop_on_token
from codequorum.plugins.backends._chat import chat_messages
from codequorum.plugins.backends._sse import sse_events
from codequorum.plugins.backends._stopping import stop_offset
from codequorum.plugins.backends.openai_wire import (
    ERROR_BODY_BYTES,
    AnswerTooLong,
    MalformedResponse,
    Piece,
    answer_byte_limit,
    answer_text_limit,
    bounded_body,
    bounded_lines,
    parse_answer,
    parse_chunk,
)
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import MemberError
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt

if TYPE_CHECKING:
    from codequorum.core.runtime import Runtime

# OpenAI and TGI refuse more stop strings than this; the rest are enforced here.
MAX_SERVER_STOPS = 4
TRANSIENT_STATUS = frozenset({408, 429})


class OpenAICompatBackend:
    def __init__(
        self, member: MemberConfig, runtime: Runtime,
        transport: httpx.AsyncBaseTransport | None = None,  # tests: an in-memory server
    ) -> None:
        self.member = member
        self.source = f"member {member.name} ({member.base_url})"
        self._headers = _auth_headers(member)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @property
    def supports_fim(self) -> bool:
        return self.member.fim is not None

    async def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: CancelToken
    ) -> list[Generation]:
        client = self._client_for_this_loop()
        samples = []
        for index in range(params.n):
            if cancel.cancelled:
                break
            samples.append(await self._sample(client, prompt, params, params.seed + index, cancel))
        return samples

    async def aclose(self) -> None:
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None

    def _client_for_this_loop(self) -> httpx.AsyncClient:
        """One pooled client per event loop: connections cannot move between loops."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            timeout = httpx.Timeout(
                connect=self.member.connect_timeout_s,
                read=self.member.read_timeout_s,
                write=self.member.read_timeout_s,
                pool=self.member.connect_timeout_s,
            )
            base_url = (self.member.base_url or "").rstrip("/")
            self._client = httpx.AsyncClient(
                base_url=base_url, headers=self._headers, timeout=timeout, transport=self._transport
            )
            self._client_loop = loop
        return self._client

    async def _sample(
        self, client: httpx.AsyncClient, prompt: Prompt, params: GenerationParams, seed: int,
        cancel: CancelToken,
    ) -> Generation:
        sample = _Sample(params)
        started = time.monotonic()
        if not await stop_on_token(self._stream(client, prompt, seed, sample, cancel), cancel):
            sample.finish = "cancelled"
        return sample.generation(time.monotonic() - started)

    async def _stream(
        self, client: httpx.AsyncClient, prompt: Prompt, seed: int, sample: _Sample, cancel: CancelToken
    ) -> None:
        path, body = self._request(prompt, sample.params, seed)
        try:
            async with client.stream("POST", path, json=body) as response:
                await self._check_status(response)
                await self._read(response, sample, cancel)
        except httpx.TransportError as error:
            raise self._transport_error(error) from error

    def _request(self, prompt: Prompt, params: GenerationParams, seed: int) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.member.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.stop:
            body["stop"] = list(params.stop[:MAX_SERVER_STOPS])
        logprobs = bool(self.member.options.get("logprobs", True))
        body |= dict(self.member.options.get("extra_body", {}))
        if prompt.kind == "fim":
            return "/completions", body | {"prompt": prompt.text} | ({"logprobs": 1} if logprobs else {})
        messages = chat_messages(prompt, bool(self.member.options.get("merge_system", False)))
        return "/chat/completions", body | {"messages": messages, "logprobs": logprobs}

    async def _check_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            body = await bounded_body(response, ERROR_BODY_BYTES)
        except AnswerTooLong:
            body = b"(an error body too long to read)"
        raise status_error(self.source, response.status_code, body.decode("utf-8", "replace")[:300])

    async def _read(self, response: httpx.Response, sample: _Sample, cancel: CancelToken) -> None:
        limit = answer_byte_limit(sample.params.max_tokens)
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            try:  # the server ignored `stream`
                sample.add(parse_answer(await bounded_body(response, limit), self.source))
            except AnswerTooLong as error:
                raise MalformedResponse(f"{self.source}: an answer of {error} for "
                                        f"max_tokens = {sample.params.max_tokens}") from None
            return
        try:
            async for data in sse_events(bounded_lines(response, limit)):
                if cancel.cancelled:
                    sample.finish = "cancelled"
                    return  # leaving the `stream` block closes the connection: the server stops
                if sample.add(parse_chunk(data, self.source)):
                    return
        except AnswerTooLong:
            sample.finish = "length"  # what came within the budget is the answer
            return
        if sample.finish is None:
            raise TransientError(f"{self.source}: the stream ended before the answer was complete")

    def _transport_error(self, error: httpx.TransportError) -> TransientError:
        base = self.member.base_url
        if isinstance(error, httpx.ConnectTimeout):
            reason = f"could not connect to {base} within {self.member.connect_timeout_s}s"
        elif isinstance(error, httpx.ConnectError):
            reason = f"cannot connect to {base}: {_os_reason(error)}"
        elif isinstance(error, httpx.ReadTimeout):
            reason = f"no data from {base} for {self.member.read_timeout_s}s (read_timeout_s)"
        elif isinstance(error, httpx.RemoteProtocolError | httpx.ReadError):
            reason = f"connection to {base} lost mid-answer: {str(error) or type(error).__name__}"
        else:
            reason = f"{type(error).__name__} talking to {base}: {error}"
        return TransientError(f"member {self.member.name}: {reason}")


@dataclass
class _Sample:
    """One sample being streamed in: text so far, token logprobs, why it ended."""

    params: GenerationParams
    text: str = ""
    logprobs: list[float] = field(default_factory=list)
    pieces: int = 0
    prompt_tokens: int = 0
    completion_tokens: int | None = None
    finish: str | None = None

    def add(self, piece: Piece) -> bool:
        """Take one piece; True once a stop string or `stop_at` has ended the sample."""
        if piece.completion_tokens is not None:
            self.prompt_tokens = piece.prompt_tokens or 0
            self.completion_tokens = piece.completion_tokens
        if piece.finish_reason:
            self.finish = "length" if piece.finish_reason == "length" else "stop"
        if not piece.text:
            return False
        self.pieces += 1
        self.text += piece.text
        self.logprobs.extend(piece.logprobs)
        cut = stop_offset(self.text, self.params)
        if cut is not None:
            self.text, self.finish = self.text[:cut], "stop"
            return True
        return self._over_budget()

    def _over_budget(self) -> bool:
        """At `max_tokens` (a piece is at least one token) or the text budget, the answer
        ends here, whatever the server does next."""
        limit = answer_text_limit(self.params.max_tokens)
        if len(self.text) > limit:
            self.text, self.finish = self.text[:limit], "length"
            return True
        if max(self.pieces, len(self.logprobs)) < self.params.max_tokens:
            return False
        self.finish = self.finish or "length"
        return True

    def generation(self, seconds: float) -> Generation:
        tokens = self.completion_tokens
        if tokens is None:  # no usage report: each piece or logprob is one token
            tokens = max(self.pieces, len(self.logprobs))
        return Generation(
            text=self.text,
            tokens=tokens,
            prompt_tokens=self.prompt_tokens,
            seconds=seconds,
            mean_logprob=sum(self.logprobs) / len(self.logprobs) if self.logprobs else None,
            finish_reason=self.finish or "stop",
        )


def status_error(source: str, status: int, detail: str) -> MemberError:
    """The error kind for an HTTP error status, with what to do about it."""
    message = f"{source}: HTTP {status}: {detail.strip() or '(no body)'}"
    if status >= 500 or status in TRANSIENT_STATUS:
        return TransientError(message)
    if status in (401, 403):
        return MemberError(f"{message} (the server refused the API key: check api_key_env)")
    if status == 404:
        return MemberError(f"{message} (check base_url, usually ending in /v1, and model)")
    return RejectedRequest(message)


def _os_reason(error: BaseException) -> str:
    """The operating system's reason ("Connection refused") buried under httpx's wrappers."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno)
        cause = cause.__cause__ or cause.__context__
    return str(error) or type(error).__name__


def _auth_headers(member: MemberConfig) -> dict[str, str]:
    if member.api_key_env is None:
        return {}
    key = os.environ.get(member.api_key_env, "")
    if not key:
        raise MemberError(
            f"member {member.name}: the environment variable {member.api_key_env} (api_key_env) "
            "is not set: export it with the server's API key, or remove api_key_env"
        )
    return {"Authorization": f"Bearer {key}"}
