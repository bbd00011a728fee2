"""`codequorum connect`'s relay with its two ends in memory: Content-Length framing on the
editor's side turned into one WebSocket message per LSP message and back, the token added to
`initialize` only, the limits, and how the end of the conversation is told."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK
from websockets.frames import Close

from codequorum.cli.connect import _token
from codequorum.server.bridge import (
    TOKEN_REFUSED,
    BridgeError,
    StreamPeer,
    WebSocketPeer,
    _EditorGone,
    _ServerGone,
    closed_by_server,
    frame,
    relay,
)
from codequorum.server.bridge_handshake import UNAUTHORIZED, Handshake, with_token

TOKEN = "t-0123456789abcdef"


def body(message: dict[str, Any]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **message}, ensure_ascii=False).encode()


INITIALIZE = body({"id": 1, "method": "initialize", "params": {
    "processId": None, "capabilities": {}, "initializationOptions": {"server": {"alternatives": 2}}}})
DID_OPEN = body({"method": "textDocument/didOpen", "params": {"textDocument": {
    "uri": "file:///a.py", "languageId": "python", "version": 1, "text": "s = 'héllo ✓'\n"}}})
EXIT = body({"method": "exit"})


class FakeWebSocket:
    """The server's end: answers `replies` once it has been sent `after` messages, then closes
    with `close` (a ConnectionClosed, as the websockets library raises it)."""

    def __init__(self, replies: list[bytes], after: int, close: Exception | None = None) -> None:
        self.sent: list[Any] = []
        self._replies, self._after = list(replies), after
        self._close = close or ConnectionClosedOK(Close(1000, ""), Close(1000, ""), True)
        self._changed = asyncio.Event()

    async def recv(self, decode: bool | None = None) -> bytes:
        assert decode is False
        while len(self.sent) < self._after:
            self._changed.clear()
            await self._changed.wait()
        if self._replies:
            return self._replies.pop(0)
        raise self._close

    async def send(self, message: Any) -> None:
        self.sent.append(message)
        self._changed.set()

    async def close(self) -> None:
        return None


class MemoryWriter:
    """A StreamWriter's interface, keeping what is written."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        return None

    async def wait_closed(self) -> None:
        return None


def stream(data: bytes, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=4096)
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


def editor(data: bytes, eof: bool = True, limit: int = 1 << 20) -> tuple[StreamPeer, MemoryWriter]:
    writer = MemoryWriter()
    return StreamPeer(stream(data, eof), writer, limit, "the editor", _EditorGone), writer  # type: ignore[arg-type]


def server(data: bytes, name: str = "the server") -> StreamPeer:
    """The server's end of a tcp:// or tls:// connection that has sent `data`, and no more yet."""
    return StreamPeer(stream(data, eof=False), MemoryWriter(), 1 << 20, name, _ServerGone)  # type: ignore[arg-type]


def messages(framed: bytes) -> list[dict[str, Any]]:
    """The messages in a Content-Length framed byte stream (each frame checked)."""
    found = []
    while framed:
        header, separator, rest = framed.partition(b"\r\n\r\n")
        assert separator and header.startswith(b"Content-Length: "), framed[:80]
        length = int(header.split(b": ")[1])
        found.append(json.loads(rest[:length]))
        framed = rest[length:]
    return found


def test_editor_messages_become_one_websocket_text_message_each_with_the_token_in_initialize():
    async def scenario() -> list[Any]:
        peer, _ = editor(frame(INITIALIZE) + frame(DID_OPEN))
        websocket = FakeWebSocket([], after=99)
        await relay(peer, WebSocketPeer(websocket, 1 << 20, "the server"), Handshake(TOKEN), "wss://h/")
        return websocket.sent

    first, second = asyncio.run(scenario())
    assert isinstance(first, str) and not first.startswith("Content-Length")
    assert json.loads(first)["params"]["initializationOptions"] == {"server": {"alternatives": 2}, "token": TOKEN}
    assert second == DID_OPEN.decode()  # after initialize, the bytes as they came


def test_server_messages_are_framed_for_the_editor_and_its_close_after_exit_is_the_end():
    answer = body({"id": 1, "result": {"serverInfo": {"name": "codequorum"}}})
    status = body({"method": "codequorum/status", "params": {"state": "ready", "text": "✓"}})

    async def scenario() -> bytes:
        peer, writer = editor(frame(INITIALIZE) + frame(EXIT), eof=False)
        websocket = FakeWebSocket([answer, status], after=2)
        await relay(peer, WebSocketPeer(websocket, 1 << 20, "the server"), Handshake(None), "ws://h/")
        return bytes(writer.data)

    out = asyncio.run(scenario())
    assert out == frame(answer) + frame(status)
    assert [m.get("id", m.get("method")) for m in messages(out)] == [1, "codequorum/status"]


def test_without_a_token_the_editor_s_initialize_passes_unchanged():
    handshake = Handshake(None)
    assert handshake.from_editor(INITIALIZE) is INITIALIZE
    assert handshake.initialize_id == 1


@pytest.mark.parametrize(("options", "expected"), [
    (None, {"token": TOKEN}),
    ({"token": "the editor's", "a": 1}, {"token": TOKEN, "a": 1}),
])
def test_the_token_is_set_in_initialization_options(options, expected):
    message = {"id": 1, "method": "initialize", "params": {"initializationOptions": options}}
    assert with_token(message, TOKEN)["params"]["initializationOptions"] == expected


def test_options_that_are_not_an_object_are_left_for_the_server_to_refuse():
    message = {"id": 1, "method": "initialize", "params": {"initializationOptions": [1]}}
    assert with_token(message, TOKEN) == message


def test_only_initialize_gets_the_token():
    handshake = Handshake(TOKEN)
    later = body({"id": 2, "method": "workspace/executeCommand", "params": {"initializationOptions": {}}})
    handshake.from_editor(INITIALIZE)
    assert handshake.from_editor(later) is later


def test_a_refused_token_is_noted_from_the_answer_to_initialize_only():
    handshake = Handshake(TOKEN)
    handshake.from_editor(INITIALIZE)
    handshake.from_server(body({"method": "window/logMessage", "params": {"type": 3, "message": "hi"}}))
    handshake.from_server(body({"id": 7, "error": {"code": UNAUTHORIZED, "message": "not this one"}}))
    assert handshake.refusal is None
    handshake.from_server(body({"id": 1, "error": {"code": UNAUTHORIZED, "message": "wrong token"}}))
    assert handshake.refusal == "wrong token"
    with pytest.raises(BridgeError, match="refused the token") as raised:
        closed_by_server(handshake, "tls://h:1")
    assert raised.value.exit_code == TOKEN_REFUSED and TOKEN not in str(raised.value)


def test_other_errors_to_initialize_are_not_a_refused_token():
    handshake = Handshake(TOKEN)
    handshake.from_editor(INITIALIZE)
    handshake.from_server(body({"id": 1, "error": {"code": -32602, "message": "bad params"}}))
    assert handshake.refusal is None and handshake.initialize_answered


def test_the_server_closing_is_told_by_what_came_before():
    silent = Handshake(None)
    with pytest.raises(BridgeError, match="before answering"):
        closed_by_server(silent, "tcp://h:1")
    talked = Handshake(None)
    talked.from_server(body({"method": "window/logMessage", "params": {}}))
    with pytest.raises(BridgeError, match="closed the connection$"):
        closed_by_server(talked, "tcp://h:1")
    done = Handshake(None)
    done.from_editor(INITIALIZE)
    done.from_editor(EXIT)
    assert done.exit_sent
    closed_by_server(done, "tcp://h:1")  # the normal end: no error


def test_a_server_closing_in_the_middle_is_an_error_for_the_editor_to_see():
    async def scenario() -> None:
        peer, _ = editor(frame(INITIALIZE), eof=False)
        websocket = FakeWebSocket([body({"id": 1, "result": {}})], after=1)
        await relay(peer, WebSocketPeer(websocket, 1 << 20, "the server"), Handshake(None), "ws://h/")

    with pytest.raises(BridgeError, match="the server at ws://h/ closed the connection"):
        asyncio.run(scenario())


def test_a_websocket_message_over_the_limit_closes_with_a_message():
    too_big = ConnectionClosedError(None, Close(1009, "over max_size"))

    async def scenario() -> None:
        peer, writer = editor(frame(INITIALIZE), eof=False)
        websocket = FakeWebSocket([], after=1, close=too_big)
        await relay(peer, WebSocketPeer(websocket, 1024, "the server at wss://h/"), Handshake(None), "wss://h/")

    with pytest.raises(BridgeError, match="over the limit of 1024 bytes"):
        asyncio.run(scenario())


def test_a_content_length_over_the_limit_is_refused_before_its_body_is_read():
    async def scenario() -> None:
        await server(b"Content-Length: 1000000000000\r\n\r\n", "the server at tls://h:1").receive()

    with pytest.raises(BridgeError, match=r"at tls://h:1 sent a message of 1000000000000 bytes, over the limit"):
        asyncio.run(scenario())


@pytest.mark.parametrize(("data", "says"), [
    (b"X" * 5000, "a header line longer than"),
    (b"Content-Type: x\r\n\r\n{}", "without a Content-Length"),
])
def test_broken_framing_from_the_server_is_refused(data, says):
    async def scenario() -> None:
        await server(data).receive()

    with pytest.raises(BridgeError, match=says):
        asyncio.run(scenario())


def test_a_websocket_message_that_is_not_utf8_is_refused():
    async def scenario() -> None:
        await WebSocketPeer(FakeWebSocket([], after=0), 1024, "the server").send(b"\xff\xfe")

    with pytest.raises(BridgeError, match="not UTF-8"):
        asyncio.run(scenario())


def test_the_token_comes_from_the_variable_first_then_the_file(tmp_path: Path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text(f"  {TOKEN}-file \n")
    token_file.chmod(0o600)
    monkeypatch.setenv("CQ_TEST_TOKEN", f"{TOKEN}-env")
    assert _token("CQ_TEST_TOKEN", token_file) == f"{TOKEN}-env"
    monkeypatch.setenv("CQ_TEST_TOKEN", "  ")
    assert _token("CQ_TEST_TOKEN", token_file) == f"{TOKEN}-file"
    monkeypatch.delenv("CQ_TEST_TOKEN")
    assert _token("CQ_TEST_TOKEN", None) is None
