"""What an OpenAI-compatible server sends back, validated at the edge.

One shape covers `/v1/completions` and `/v1/chat/completions`, streamed chunks and whole
answers (vLLM, llama.cpp's server, TGI, Ollama and OpenAI all use it). Anything else is a
`MalformedResponse` that says what was wrong, never a KeyError deep in the backend.

A server is read within a byte budget (`answer_byte_limit`): an endless or huge answer stops
at the budget instead of filling memory and holding the request to its deadline.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, ValidationError

from codequorum.vocabulary.errors import MemberError


class MalformedResponse(MemberError):
    """The server answered, but not with what the protocol promises."""


class _TokenLogprob(BaseModel):
    logprob: float


class _Logprobs(BaseModel):
    token_logprobs: list[float | None] | None = None  # /v1/completions
    content: list[_TokenLogprob] | None = None  # /v1/chat/completions

    def values(self) -> tuple[float, ...]:
        if self.content is not None:
            return tuple(token.logprob for token in self.content)
        return tuple(value for value in self.token_logprobs or () if value is not None)


class _Message(BaseModel):
    content: str | None = None


class _Choice(BaseModel):
    text: str | None = None  # /v1/completions
    delta: _Message | None = None  # /v1/chat/completions, streamed
    message: _Message | None = None  # /v1/chat/completions, whole
    logprobs: _Logprobs | None = None
    finish_reason: str | None = None

    def content(self) -> str | None:
        for message in (self.delta, self.message):
            if message is not None and message.content is not None:
                return message.content
        return self.text


class _Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _Body(BaseModel):
    choices: list[_Choice]
    usage: _Usage | None = None


@dataclass(frozen=True)
class Piece:
    """One streamed chunk (or a whole answer) of a single-choice request."""

    text: str
    logprobs: tuple[float, ...] = ()
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def parse_chunk(data: str | bytes, source: str) -> Piece:
    """A streamed chunk."""
    return _piece(_validate(data, source))


def parse_answer(data: str | bytes, source: str) -> Piece:
    """A whole (not streamed) answer: it must hold the generated text."""
    body = _validate(data, source)
    if not body.choices or body.choices[0].content() is None:
        raise MalformedResponse(
            f"{source}: malformed response: no choices[0].text or choices[0].message.content"
        )
    return _piece(body)


def _piece(body: _Body) -> Piece:
    choice = body.choices[0] if body.choices else _Choice()  # a usage-only chunk has none
    usage = body.usage
    return Piece(
        text=choice.content() or "",
        logprobs=choice.logprobs.values() if choice.logprobs else (),
        finish_reason=choice.finish_reason,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
    )


def _validate(data: str | bytes, source: str) -> _Body:
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        excerpt = data[:80] if isinstance(data, str) else data[:80].decode("utf-8", "replace")
        raise MalformedResponse(f"{source}: malformed response: not JSON: {excerpt!r}") from None
    if isinstance(raw, dict) and "error" in raw:
        raise MemberError(f"{source}: the server reported an error: {_error_message(raw['error'])}")
    try:
        return _Body.model_validate(raw)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        raise MalformedResponse(f"{source}: malformed response: {where}: {problem['msg']}") from None


def _error_message(error: object) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


# Generated text allowed per requested token, and raw bytes per token on the wire (JSON
# framing and logprobs included). Real tokens are a few characters; these only stop abuse.
TEXT_CHARS_PER_TOKEN = 64
WIRE_BYTES_PER_TOKEN = 4096
MIN_WIRE_BYTES = 1024 * 1024
ERROR_BODY_BYTES = 4096


class AnswerTooLong(Exception):
    """The server sent more bytes than the answer's budget."""


def answer_text_limit(max_tokens: int) -> int:
    return max_tokens * TEXT_CHARS_PER_TOKEN


def answer_byte_limit(max_tokens: int) -> int:
    return max(MIN_WIRE_BYTES, max_tokens * WIRE_BYTES_PER_TOKEN)


async def bounded_lines(response: httpx.Response, limit: int) -> AsyncIterator[str]:
    """The response's lines (`\n` or `\r\n`); AnswerTooLong once more than `limit` bytes came."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    received, partial = 0, ""
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > limit:
            raise AnswerTooLong(f"more than {limit} bytes")
        text = partial + decoder.decode(chunk)
        *lines, partial = text.split("\n")
        for line in lines:
            yield line.removesuffix("\r")
    partial += decoder.decode(b"", final=True)
    if partial:
        yield partial.removesuffix("\r")


async def bounded_body(response: httpx.Response, limit: int) -> bytes:
    """The whole body; AnswerTooLong when it is larger than `limit`."""
    parts, received = [], 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > limit:
            raise AnswerTooLong(f"more than {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
