"""Fault injection with real processes: a remote member fails, the in-process one answers.

Each request goes through `Engine.run` (best-of) with two members: `remote` (the openai
backend, pointed at a faulty real server) and `smollm2` (llama.cpp in process, the real
SmolLM2 file). The answer must still arrive, and the trace must say what happened.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from codequorum.config import settings_from_dict
from codequorum.core.engine import Engine
from codequorum.core.registry import Registry
from codequorum.plugins.backends.openai_compat import OpenAICompatBackend
from codequorum.vocabulary.request import Budget, Request, TaskKind
from codequorum.vocabulary.result import MemberCall, Result
from tests.e2e.servers import closed_port, fault_server, llama_server

pytestmark = pytest.mark.e2e


def engine(base_url: str, registry: Registry | None = None, **remote: Any) -> Engine:
    settings = settings_from_dict({
        "include_default_members": False,
        "members": {
            "remote": {"backend": "openai", "base_url": base_url, "model": "smollm2", "quality": 0.9,
                       "retry_backoff_s": 0.05} | remote,
            "smollm2": {"model": "smollm2-135m", "n_ctx": 2048, "quality": 0.1, "max_tokens": 12},
        },
        "plugins": {"disabled": ["checks.tests"]},
        "ranking": {"listwise": False},
    }, source="test")
    return Engine(settings, registry)


def request(deadline_s: float = 60.0, max_tokens: int = 12) -> Request:
    return Request(TaskKind.GENERATE, language="python", instruction="Write add(a, b) in Python.",
                   max_tokens=max_tokens, budget=Budget(deadline_s=deadline_s))


def call(result: Result, member: str) -> MemberCall:
    return next(c for c in result.trace.calls if c.member == member)


def retries_noted(result: Result) -> list[str]:
    return [event for event in result.trace.events if event.startswith("member remote: attempt")]


def answered_by_smollm2(result: Result) -> bool:
    return bool(result.text.strip()) and [c.member for c in result.candidates] == ["smollm2"]


async def run(eng: Engine, req: Request) -> Result:
    try:
        return await eng.run(req, strategy="best-of")
    finally:
        await eng.aclose()


class FirstBytes(httpx.AsyncBaseTransport):
    """A real HTTP transport that signals when the first bytes of an answer arrive."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.streaming = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        return httpx.Response(response.status_code, headers=response.headers,
                              stream=_Signalling(response.stream, self.streaming),
                              extensions=response.extensions)


class _Signalling(httpx.AsyncByteStream):
    def __init__(self, inner: Any, event: asyncio.Event) -> None:
        self.inner, self.event = inner, event

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            if b"data:" in chunk:
                self.event.set()
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_server_killed_mid_stream(installed_models):
    spy = FirstBytes()
    registry = Registry(disabled=frozenset({"checks.tests"}))
    registry.register("backends", "openai", lambda m, rt: OpenAICompatBackend(m, rt, transport=spy))
    with llama_server(installed_models.verified_path("smollm2-135m")) as server:
        eng = engine(server.base_url, registry, retries=1)
        running = asyncio.create_task(run(eng, request(max_tokens=400)))
        await asyncio.wait_for(spy.streaming.wait(), timeout=120)
        os.kill(server.process.pid, signal.SIGKILL)
        result = await running
    assert answered_by_smollm2(result)
    [note] = retries_noted(result)
    assert "lost mid-answer" in note
    assert "Connection refused" in call(result, "remote").error  # the retry found it dead


async def test_server_slower_than_the_deadline_is_cut_and_its_connection_closed(installed_models):
    with fault_server("slow", sleep_s=600) as server:
        eng = engine(server.base_url)
        # Same prompt first, smollm2 alone: its KV cache then holds the prompt, so on a busy
        # CPU it still answers well inside the deadline that cuts the remote member.
        await eng.run(request(), strategy="best-of", members=["smollm2"])
        started = time.monotonic()
        result = await run(eng, request(deadline_s=20))
        took = time.monotonic() - started
        await asyncio.sleep(0.3)  # the server notices the hang-up within 50 ms
        stats = server.stats()
    assert answered_by_smollm2(result)
    assert "deadline of 20" in call(result, "remote").error and took < 23
    assert stats == {"requests": 1, "disconnects": 1}


async def test_read_timeout_before_the_deadline_is_retried(installed_models):
    with fault_server("slow", sleep_s=120) as server:
        result = await run(engine(server.base_url, read_timeout_s=1.0, retries=1), request())
        requests = server.stats()["requests"]
    assert answered_by_smollm2(result)
    assert len(retries_noted(result)) == 1 and requests == 2
    assert "no data from" in call(result, "remote").error and "for 1.0s" in call(result, "remote").error


async def test_garbage_json_is_a_recorded_error_and_not_retried(installed_models):
    with fault_server("garbage") as server:
        result = await run(engine(server.base_url), request())
        requests = server.stats()["requests"]
    assert answered_by_smollm2(result)
    assert "malformed response: not JSON" in call(result, "remote").error
    assert retries_noted(result) == [] and requests == 1


async def test_refused_connections_are_retried_with_backoff_then_recorded(installed_models):
    result = await run(engine(f"http://127.0.0.1:{closed_port()}/v1", retries=2), request())
    assert answered_by_smollm2(result)
    assert len(retries_noted(result)) == 2
    assert "cannot connect" in call(result, "remote").error
    assert "Connection refused" in call(result, "remote").error


async def test_circuit_opens_skips_fast_and_probes_again_after_the_cooldown(installed_models):
    port, cooldown_s = closed_port(), 10.0
    eng = engine(f"http://127.0.0.1:{port}/v1", retries=1, circuit_failures=2,
                 circuit_cooldown_s=cooldown_s)
    try:
        await eng.run(request(), strategy="best-of", members=["smollm2"])  # warm: see above
        first = await eng.run(request(), strategy="best-of")
        opened_by = time.monotonic()
        assert "Connection refused" in call(first, "remote").error and answered_by_smollm2(first)

        second = await eng.run(request(), strategy="best-of")
        assert "circuit open after 2 consecutive failures" in call(second, "remote").error
        assert call(second, "remote").seconds < 0.05 and answered_by_smollm2(second)

        with fault_server("ok", port=port):
            await asyncio.sleep(max(0.0, opened_by + cooldown_s - time.monotonic()))
            third = await eng.run(request(), strategy="best-of")
        assert call(third, "remote").error is None
        assert "remote" in {c.member for c in third.candidates}
    finally:
        await eng.aclose()
