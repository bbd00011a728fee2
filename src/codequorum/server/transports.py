"""How clients reach the server: stdio (one client, the editor that started us), TCP or
WebSocket (any number of clients, each with its own session, sharing the loaded models).

Network connections are served within `[server]`'s transport limits (server/limits.py,
server/bounded_io.py): connection caps, a handshake timeout (the TLS handshake included),
message sizes, write queues. With a certificate both speak TLS (server/tls.py); the operators'
endpoint (server/ops_http.py) listens beside them on an address of its own."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

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
from codequorum.server.ops_http import OpsEndpoint, start_ops_listener
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


@dataclass(frozen=True)
class NetworkOptions:
    """What a network server adds to the LSP port: TLS, and the operators' endpoint."""

    tls: ssl.SSLContext | None = None
    ops: OpsEndpoint | None = None


def serve_tcp(context: ServerContext, host: str, port: int, announce: Announce,
              options: NetworkOptions = NetworkOptions()) -> None:
    asyncio.run(_serve_tcp(context, host, port, announce, options))


def serve_ws(context: ServerContext, host: str, port: int, announce: Announce,
             options: NetworkOptions = NetworkOptions()) -> None:
    asyncio.run(_serve_ws(context, host, port, announce, options))


async def _serve_tcp(context: ServerContext, host: str, port: int, announce: Announce,
                     options: NetworkOptions = NetworkOptions()) -> None:
    limits = TransportLimits.from_settings(context.source.settings().server)
    gate = ConnectionGate(limits)
    transport = "tls" if options.tls else "tcp"

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(None)
        server = create_server(Session(context), connection)
        client = _GatedClient(server)
        connection.writer = writer
        if not gate.admit(client, writer.get_extra_info("peername")):
            context.metrics.connection_refused(transport, "max_connections")
            writer.transport.abort()
            return
        await _serve_stream(reader, writer, client, connection)

    async def on_tls_connect(raw: asyncio.Transport) -> None:
        connection = Connection(_Aborting(raw))  # closed by the gate during the handshake: aborted
        server = create_server(Session(context), connection)
        client = _GatedClient(server)
        peer = raw.get_extra_info("peername")
        if not gate.admit(client, peer):
            context.metrics.connection_refused(transport, "max_connections")
            raw.abort()
            return
        assert options.tls is not None
        streams = await _tls_handshake(raw, options.tls, limits, peer)
        if streams is None or connection.stopped.is_set():
            context.metrics.connection_refused(transport, "tls_handshake")
            gate.leave(client)
            return
        connection.writer = streams[1]
        await _serve_stream(*streams, client, connection)

    async def _serve_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            client: _GatedClient, connection: Connection) -> None:
        server = client.server
        connection.writer = BoundedStreamWriter(writer, limits.write_queue_bytes, connection.stop)
        server.protocol.set_writer(connection.writer)
        loop = read_stream(reader, server.protocol, connection.stopped, client.message_limit(limits),
                           server.report_server_error)
        context.metrics.connection_opened(transport)
        try:
            await _run_session(server, loop)
        finally:
            context.metrics.connection_closed(transport)
            gate.leave(client)

    if options.tls is None:
        listener = await asyncio.start_server(on_connect, host, port, limit=HEADER_LINE_BYTES)
    else:
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(lambda: _QuietUntilTls(on_tls_connect), host, port)
    await _serve(listener, listener.sockets[0].getsockname(), transport, context, gate, options, announce)


class _Aborting:
    """What a connection closes before its TLS handshake is over: the raw transport."""

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def close(self) -> None:
        self._transport.abort()  # type: ignore[attr-defined]


class _QuietUntilTls(asyncio.Protocol):
    """Accepts a TCP connection without reading it, so that the client's first bytes (its TLS
    hello) are left to the TLS handshake, which starts once the gate has admitted it."""

    def __init__(self, on_connect: Callable[[asyncio.Transport], Awaitable[None]]) -> None:
        self._on_connect = on_connect
        self._tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()
        task = asyncio.ensure_future(self._on_connect(transport))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _tls_handshake(raw: asyncio.Transport, tls: ssl.SSLContext, limits: TransportLimits,
                         peer: object) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    """The TLS handshake, within the handshake timeout the gate also counts (a silent client
    is one of the `max_unauthenticated`, and dropped at the same time); the streams over TLS."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=HEADER_LINE_BYTES)
    protocol = asyncio.StreamReaderProtocol(reader)
    try:
        secured = await asyncio.wait_for(loop.start_tls(
            raw, protocol, tls, server_side=True, ssl_handshake_timeout=limits.handshake_timeout_s),
            limits.handshake_timeout_s)
    except (TimeoutError, ssl.SSLError, ConnectionError, OSError, RuntimeError) as error:
        # RuntimeError: the transport closed under start_tls (the gate dropped it, or the peer left)
        log.warning("closed a connection from %s: TLS handshake failed: %s", peer,
                    type(error).__name__ if isinstance(error, TimeoutError) else error)
        raw.abort()
        return None
    if secured is None:
        raw.abort()
        return None
    protocol.connection_made(secured)
    return reader, asyncio.StreamWriter(secured, protocol, reader, loop)


async def _serve_ws(context: ServerContext, host: str, port: int, announce: Announce,
                    options: NetworkOptions = NetworkOptions()) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    limits = TransportLimits.from_settings(context.source.settings().server)
    gate = ConnectionGate(limits)
    transport = "wss" if options.tls else "ws"

    async def on_connect(websocket: ServerConnection) -> None:
        connection = Connection(None)
        connection.writer = BoundedWebSocketWriter(websocket, limits.write_queue_bytes, connection.stop)
        server = create_server(Session(context), connection)
        client = _GatedClient(server)
        if not gate.admit(client, websocket.remote_address):
            context.metrics.connection_refused(transport, "max_connections")
            websocket.transport.abort()
            return
        server.protocol.set_writer(connection.writer, include_headers=False)
        loop = read_websocket(websocket, server.protocol, connection.stopped,
                              client.message_limit(limits), server.report_server_error)
        context.metrics.connection_opened(transport)
        try:
            await _run_session(server, loop)
        finally:
            context.metrics.connection_closed(transport)
            gate.leave(client)

    # max_size follows the client's state (read_websocket); this is the first message's limit.
    # The TLS and WebSocket handshakes each get the handshake timeout.
    tls = {"ssl": options.tls, "ssl_handshake_timeout": limits.handshake_timeout_s} if options.tls else {}
    listener = await serve(on_connect, host, port, max_size=limits.initialize_max_bytes,
                           open_timeout=limits.handshake_timeout_s, **tls)
    await _serve(listener, next(iter(listener.sockets)).getsockname(), transport, context, gate, options,
                 announce)


async def _serve(listener: Any, address: tuple[str, int], scheme: str, context: ServerContext,
                 gate: ConnectionGate, options: NetworkOptions, announce: Announce) -> None:
    """Serve `listener` (and the operators' endpoint) until stopped; then close the engines.
    The endpoint is announced first: whoever waits for the LSP line has both addresses."""
    ops = None
    try:
        if options.ops is not None:
            ops = await start_ops_listener(options.ops, context, lambda: len(gate))
            _announce(announce, "http", ops.sockets[0].getsockname(), "health and metrics")
        _announce(announce, scheme, address)
        async with listener:
            await listener.serve_forever()
    finally:
        if ops is not None:
            ops.close()
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
        server.protocol.forget_requests()
        await server.session.aclose()
        server.close_connection()


def _announce(announce: Announce, scheme: str, address: tuple[str, int], what: str = "LSP") -> None:
    host, port = address[0], address[1]
    announce(f"codequorum: serving {what} on {scheme}://{host}:{port}")
    sys.stderr.flush()
