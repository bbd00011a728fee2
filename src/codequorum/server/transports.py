"""How clients reach the server: stdio (one client, the editor that started us), TCP or
WebSocket (any number of clients, each with its own session, sharing the loaded models).

Network connections are served within `[server]`'s transport limits (server/limits.py,
server/bounded_io.py): connection caps, a handshake timeout, message sizes, write queues."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import BinaryIO

from codequorum.server.app import create_server
from codequorum.server.bounded_io import (
    HEADER_LINE_BYTES,
    BoundedStreamWriter,
    BoundedWebSocketWriter,
    ProtocolViolation,
    read_stream,
    read_websocket,
)
from codequorum.server.connection import Connection
from codequorum.server.limits import ConnectionGate, TransportLimits
from codequorum.server.lsp_server import CodequorumServer
from codequorum.server.session import ServerContext, Session

log = logging.getLogger(__name__)

Announce = Callable[[str], None]


def serve_stdio(context: ServerContext) -> None:
    channel_in, channel_out = private_stdio()
    create_server(Session(context)).start_io(channel_in, channel_out)


def private_stdio() -> tuple[BinaryIO, BinaryIO]:
    """The LSP channel on private copies of file descriptors 0 and 1.

    Native code in the process writes to fd 1 (llama.cpp prints there), and llama-cpp-python
    silences model loading by pointing fds 1 and 2 at /dev/null for a moment, from whatever
    thread loads: on fd 1 itself, protocol messages would be corrupted or silently dropped.
    Afterwards fd 1 is the log (stderr) and fd 0 is empty, so that child processes never read
    or write the protocol stream either.
    """
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with open(os.devnull, "rb") as devnull:
        os.dup2(devnull.fileno(), 0)
    return channel_in, channel_out


def serve_tcp(context: ServerContext, host: str, port: int, announce: Announce) -> None:
    asyncio.run(_serve_tcp(context, host, port, announce))


def serve_ws(context: ServerContext, host: str, port: int, announce: Announce) -> None:
    asyncio.run(_serve_ws(context, host, port, announce))


async def _serve_tcp(context: ServerContext, host: str, port: int, announce: Announce) -> None:
    limits = TransportLimits.from_settings(context.source.settings().server)
    gate = ConnectionGate(limits)

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        connection = Connection(None)
        connection.writer = BoundedStreamWriter(writer, limits.write_queue_bytes, connection.stop)
        server = create_server(Session(context), connection)
        client = _GatedClient(server)
        if not gate.admit(client, peer):
            writer.transport.abort()
            return
        server.protocol.set_writer(connection.writer)
        loop = read_stream(reader, server.protocol, connection.stopped, client.message_limit(limits),
                           server.report_server_error)
        try:
            await _run_session(server, loop)
        finally:
            gate.leave(client)

    listener = await asyncio.start_server(on_connect, host, port, limit=HEADER_LINE_BYTES)
    _announce(announce, "tcp", listener.sockets[0].getsockname())
    try:
        async with listener:
            await listener.serve_forever()
    finally:
        await context.engines.aclose()


async def _serve_ws(context: ServerContext, host: str, port: int, announce: Announce) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    limits = TransportLimits.from_settings(context.source.settings().server)
    gate = ConnectionGate(limits)

    async def on_connect(websocket: ServerConnection) -> None:
        connection = Connection(None)
        connection.writer = BoundedWebSocketWriter(websocket, limits.write_queue_bytes, connection.stop)
        server = create_server(Session(context), connection)
        client = _GatedClient(server)
        if not gate.admit(client, websocket.remote_address):
            websocket.transport.abort()
            return
        server.protocol.set_writer(connection.writer, include_headers=False)
        loop = read_websocket(websocket, server.protocol, connection.stopped,
                              client.message_limit(limits), server.report_server_error)
        try:
            await _run_session(server, loop)
        finally:
            gate.leave(client)

    # max_size follows the client's state (read_websocket); this is the first message's limit.
    listener = await serve(on_connect, host, port, max_size=limits.initialize_max_bytes)
    _announce(announce, "ws", next(iter(listener.sockets)).getsockname())
    try:
        async with listener:
            await listener.serve_forever()
    finally:
        await context.engines.aclose()


class _GatedClient:
    """A connected client as the connection gate sees it."""

    def __init__(self, server: CodequorumServer) -> None:
        self.server = server

    @property
    def initialized(self) -> bool:
        return self.server.session.initialized

    def close(self) -> None:
        self.server.close_connection()

    def message_limit(self, limits: TransportLimits) -> Callable[[], int]:
        return lambda: limits.message_bytes(self.initialized)


async def _run_session(server: CodequorumServer, loop: Awaitable[None]) -> None:
    try:
        await loop
    except ProtocolViolation as violation:
        log.warning("closed a connection: %s", violation)
        server.show_error(f"codequorum: closing the connection: {violation} "
                          "(see max_message_mb and initialize_max_message_kb in docs/configuration.md)")
    except (ConnectionError, asyncio.IncompleteReadError) as error:
        log.info("client connection ended: %s", error)
    finally:
        await server.session.aclose()
        server.close_connection()


def _announce(announce: Announce, scheme: str, address: tuple[str, int]) -> None:
    host, port = address[0], address[1]
    announce(f"codequorum: serving LSP on {scheme}://{host}:{port}")
    sys.stderr.flush()
