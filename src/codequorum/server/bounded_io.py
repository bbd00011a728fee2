"""Reading and writing LSP messages on a network connection, within `TransportLimits`.

pygls' own loops trust the peer: `run_async` reads whatever `Content-Length` announces, and
its writers queue every message for a client that never reads. Here the header is read first
and a message larger than the limit of the moment (small before `initialize` succeeds) closes
the connection without its body being read; what waits to be sent to a client is bounded, and
a client over the bound is disconnected (its queued data dropped).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from pygls.exceptions import JsonRpcException
from pygls.protocol import JsonRPCProtocol

log = logging.getLogger(__name__)

HEADER_LINE_BYTES = 4096  # the StreamReader's limit: a longer header line is a violation
MAX_HEADER_LINES = 8
_CONTENT_LENGTH = re.compile(rb"content-length\s*:\s*(\d{1,20})\s*", re.IGNORECASE)

ErrorHandler = Callable[[Exception, type[JsonRpcException]], Any]


class ProtocolViolation(Exception):
    """The peer sent something that is not an LSP message within the limits: close."""


async def read_stream(reader: asyncio.StreamReader, protocol: JsonRPCProtocol,
                      stop: threading.Event, limit: Callable[[], int],
                      error_handler: ErrorHandler) -> None:
    """Handle messages until the end of the stream or `stop`; ProtocolViolation when the peer
    breaks the framing or announces a message larger than `limit()` (its body is not read)."""
    while not stop.is_set():
        body = await read_message(reader, limit())
        if body is None:
            return
        dispatch(protocol, body, error_handler)


async def read_message(reader: asyncio.StreamReader, limit: int) -> bytes | None:
    """The body of the next Content-Length framed message; None at a clean end of stream.
    ProtocolViolation when the framing is broken or the message is over `limit` bytes (then its
    body is not read)."""
    length = await _content_length(reader)
    if length is None:
        return None
    if length > limit:
        raise ProtocolViolation(f"a message of {length} bytes, over the limit of {limit}")
    return await reader.readexactly(length)


async def read_websocket(websocket: Any, protocol: JsonRPCProtocol, stop: threading.Event,
                         limit: Callable[[], int], error_handler: ErrorHandler) -> None:
    """Handle WebSocket messages until the connection closes or `stop`; the library refuses a
    message over its maximum size, which follows `limit()` (raised once the client has initialized)."""
    from websockets.exceptions import ConnectionClosed

    while not stop.is_set():
        websocket.protocol.max_message_size = limit()  # read when the next frame starts
        try:
            data = await websocket.recv(decode=False)
        except ConnectionClosed as closed:
            log.info("WebSocket client gone: %s", closed)
            return
        dispatch(protocol, data, error_handler)


def dispatch(protocol: JsonRPCProtocol, body: bytes, error_handler: ErrorHandler) -> None:
    """One message to the protocol, as pygls' loops do; a bad one is reported, not fatal."""
    try:
        protocol.handle_message(json.loads(body, object_hook=protocol.structure_message))
    except Exception as error:  # noqa: BLE001 - the client's message, not our state, was bad
        log.warning("could not handle a message: %s: %s", type(error).__name__, error)
        error_handler(error, JsonRpcException)


async def _content_length(reader: asyncio.StreamReader) -> int | None:
    """The Content-Length of the next message's headers; None at a clean end of stream."""
    length: int | None = None
    for index in range(MAX_HEADER_LINES + 1):
        try:
            line = await reader.readline()
        except ValueError as error:  # asyncio: a line longer than the reader's limit
            raise ProtocolViolation(f"a header line longer than {HEADER_LINE_BYTES} bytes") from error
        if not line:
            if index == 0:
                return None
            raise asyncio.IncompleteReadError(b"", None)
        if line in (b"\r\n", b"\n"):
            if length is None:
                raise ProtocolViolation("a message without a Content-Length header")
            return length
        if index == MAX_HEADER_LINES:
            break
        match = _CONTENT_LENGTH.fullmatch(line.rstrip(b"\r\n"))
        if match:
            length = int(match.group(1))
    raise ProtocolViolation(f"more than {MAX_HEADER_LINES} header lines")


class BoundedStreamWriter:
    """A StreamWriter that disconnects a client with more than `limit` bytes waiting."""

    def __init__(self, writer: asyncio.StreamWriter, limit: int,
                 on_overflow: Callable[[], None]) -> None:
        self._writer = writer
        self.limit = limit
        self._on_overflow = on_overflow
        self.overflowed = False

    def write(self, data: bytes) -> None:
        if self.overflowed or self._writer.is_closing():
            return
        if self._writer.transport.get_write_buffer_size() + len(data) > self.limit:
            self._overflow()
            return
        self._writer.write(data)

    def close(self) -> None:
        self._writer.close()

    def _overflow(self) -> None:
        self.overflowed = True
        log.warning("disconnected a client that does not read: over %d bytes waiting "
                    "(write_queue_mb)", self.limit)
        self._writer.transport.abort()  # close() would wait for ever to send the queue
        self._on_overflow()


class BoundedWebSocketWriter:
    """pygls' WebSocket writer, with the bytes not yet taken by the client bounded."""

    def __init__(self, websocket: Any, limit: int, on_overflow: Callable[[], None]) -> None:
        self._websocket = websocket
        self.limit = limit
        self._on_overflow = on_overflow
        self._pending = 0  # handed to send() and not yet in the transport's buffer
        self.overflowed = False

    def write(self, data: bytes) -> Awaitable[None] | None:
        if self.overflowed:
            return None
        transport = self._websocket.transport
        if transport.get_write_buffer_size() + self._pending + len(data) > self.limit:
            self.overflowed = True
            log.warning("disconnected a WebSocket client that does not read: over %d bytes "
                        "waiting (write_queue_mb)", self.limit)
            transport.abort()
            self._on_overflow()
            return None
        return self._send(data)

    def close(self) -> Awaitable[None]:
        return self._websocket.close()

    async def _send(self, data: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        self._pending += len(data)
        try:
            await self._websocket.send(data)
        except ConnectionClosed:
            pass
        finally:
            self._pending -= len(data)
