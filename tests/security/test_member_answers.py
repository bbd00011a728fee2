"""A member that never stops, or answers far more than asked, costs no more than an honest one.

Fake OpenAI-compatible servers on 127.0.0.1 (no model) that ignore `max_tokens`: a token for
ever, one 10 MB chunk, keep-alive comments for ever. The real backend cuts each at
`max_tokens` or its byte budget, keeps what arrived as the answer, and hangs up (the server
sees the connection close); then a real `codequorum serve` whose only member streams for ever
answers a completion with the partial answer within the inline deadline, and another client
is served meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from codequorum.config import settings_from_dict
from codequorum.plugins.backends.openai_compat import OpenAICompatBackend
from codequorum.plugins.backends.openai_wire import answer_byte_limit, answer_text_limit
from codequorum.plugins.protocols import (
    CancelToken,
    ChatMessage,
    GenerationParams,
    Prompt,
)
from tests.security.conftest import start_server
from tests.security.fake_members import (
    FakeMember,
    endless,
    endless_pings,
    one_huge_chunk,
)
from tests.security.lsp_client import WireClient

pytestmark = pytest.mark.e2e

CHAT = Prompt(kind="chat", messages=(ChatMessage("user", "hello"),))


@pytest.fixture
def fake() -> Iterator[FakeMember]:
    member = FakeMember()
    yield member
    member.stop()


def backend(fake: FakeMember) -> OpenAICompatBackend:
    settings = settings_from_dict({"include_default_members": False, "members": {"m": {
        "backend": "openai", "base_url": fake.base_url, "model": "x", "read_timeout_s": 30}}}, "test")
    return OpenAICompatBackend(settings.members["m"], runtime=None)


async def sample(fake: FakeMember, max_tokens: int):
    started = time.monotonic()
    b = backend(fake)
    try:
        [generation] = await b.generate(CHAT, GenerationParams(max_tokens=max_tokens), CancelToken())
    finally:
        await b.aclose()
    return generation, time.monotonic() - started


def test_an_endless_stream_is_cut_at_max_tokens_and_kept(fake):
    fake.answer = endless
    fake.start()
    generation, seconds = asyncio.run(sample(fake, max_tokens=16))
    assert generation.text == "spam " * 16 and generation.finish_reason == "length"
    assert seconds < 5
    sent = fake.sent_bytes
    time.sleep(0.5)
    assert fake.sent_bytes - sent < 256 * 1024, "the connection was not closed: the server kept streaming"


def test_one_huge_chunk_is_cut_at_the_text_budget(fake):
    fake.answer = one_huge_chunk(10 * 1024 * 1024)
    fake.start()
    generation, seconds = asyncio.run(sample(fake, max_tokens=48))
    assert generation.finish_reason == "length" and seconds < 5
    assert len(generation.text) <= max(answer_text_limit(48), answer_byte_limit(48))
    assert set(generation.text) <= {"y"}


def test_endless_keep_alives_are_cut_at_the_byte_budget(fake):
    fake.answer = endless_pings
    fake.start()
    generation, seconds = asyncio.run(sample(fake, max_tokens=16))
    assert generation.text == "" and generation.finish_reason == "length" and seconds < 10


def test_the_server_answers_with_the_partial_answer_and_keeps_serving(tmp_path, fake):
    fake.answer = endless
    fake.start()
    config = tmp_path / "codequorum.toml"
    config.write_text(f"""
include_default_members = false
[members.m]
backend = "openai"
base_url = "{fake.base_url}"
model = "x"
[server]
warm_up = false
feedback = false
debounce_ms = 0
inline_deadline_s = 20
inline_max_tokens = 8
line_max_tokens = 8
""")
    server = start_server(config)
    first, second = WireClient.connect(server.port), WireClient.connect(server.port)
    try:
        assert "result" in first.initialize(None) and "result" in second.initialize(None)
        uri = (tmp_path / "m.py").as_uri()
        first.open(uri, "def main():\n    ")
        started = time.monotonic()
        answer = first.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": {"line": 1, "character": 4},
            "context": {"triggerKind": 1}})
        seconds = time.monotonic() - started
        stats_started = time.monotonic()
        assert "requests" in second.command("codequorum.stats")["result"]
        assert time.monotonic() - stats_started < 2
    finally:
        first.close()
        second.close()
        server.stop()
    items = answer["result"]["items"]
    assert items and items[0]["insertText"].startswith("spam"), answer
    assert seconds < 10, f"the completion took {seconds:.1f}s: held to the deadline"
