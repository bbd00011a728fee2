"""`codequorum connect ADDRESS`: an editor's LSP stream on stdin/stdout, relayed to a running
`codequorum serve --tcp/--ws`, for editors that can start a server but not speak TLS or
WebSocket themselves (Neovim).

tcp:// and tls:// carry the same Content-Length framed messages as stdio; ws:// and wss://
carry one JSON-RPC message per WebSocket message, without headers (server/transports.py): the
bridge adds or removes the header. TLS is the standard library's, the server's certificate
checked against the system's CAs or the --ca-file, its host name included. Every message is
read within `max_message_bytes` (server/bounded_io.py's reader, the WebSocket library's
max_size), so a hostile server cannot make the bridge hold more than a message or two.

It ends when either side does: the editor closing stdin, or the server the connection. The
server closing after the editor's `exit` is the normal end (exit status 0); before, it is
a failure told in one line on stderr (exit status 1, or 3 for a refused token).
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import stat
import sys
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from codequorum.server.bounded_io import HEADER_LINE_BYTES, ProtocolViolation, read_message
from codequorum.server.bridge_handshake import Handshake
from codequorum.server.limits import TransportLimits
from codequorum.server.remote_address import RemoteAddress
from codequorum.vocabulary.errors import CodequorumError

CONNECT_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0
WEBSOCKET_QUEUE = 2  # messages received ahead of the editor taking them
MESSAGE_TOO_BIG = 1009  # the WebSocket close code for a message over max_size

CONNECTION_FAILED, USAGE, TOKEN_REFUSED = 1, 2, 3


class BridgeError(CodequorumError):
    """Why the bridge stopped, in one line for the user, with its exit status."""

    def __init__(self, message: str, exit_code: int = CONNECTION_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _EditorGone(Exception):
    """Writing to stdout failed: the editor is gone."""


class _ServerGone(Exception):
    """Writing to the server failed: the connection is gone."""


@dataclass(frozen=True)
class BridgeOptions:
    token: str | None = None  # added to `initialize` as initializationOptions.token
    ca_file: Path | None = None  # trusted instead of the system's CAs (tls://, wss://)
    max_message_bytes: int = TransportLimits().max_message_bytes


class Peer(Protocol):
    async def receive(self) -> bytes | None: ...  # a message's body; None at the end

    async def send(self, body: bytes) -> None: ...

    async def close(self) -> None: ...


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class StreamPeer:
    """Content-Length framed messages on a byte stream (stdio, TCP, TLS)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limit: int,
                 name: str, gone: type[Exception]) -> None:
        self._reader, self._writer = reader, writer
        self._limit, self._name, self._gone = limit, name, gone

    async def receive(self) -> bytes | None:
        try:
            return await read_message(self._reader, self._limit)
        except ProtocolViolation as violation:
            raise BridgeError(f"{self._name} sent {violation}: closing (see --max-message-mb)") from None
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def send(self, body: bytes) -> None:
        try:
            self._writer.write(frame(body))
            await self._writer.drain()
        except (ConnectionError, OSError, RuntimeError):  # RuntimeError: written after close
            raise self._gone from None

    async def close(self) -> None:
        self._writer.close()
        with suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), CLOSE_TIMEOUT_S)


class WebSocketPeer:
    """One JSON-RPC message per WebSocket message: sent as text, as the VS Code extension does;
    the server's binary messages (pygls sends UTF-8 JSON as binary) read as they come."""

    def __init__(self, websocket: Any, limit: int, name: str) -> None:
        self._websocket, self._limit, self._name = websocket, limit, name

    async def receive(self) -> bytes | None:
        from websockets.exceptions import ConnectionClosed

        try:
            data = await self._websocket.recv(decode=False)
        except ConnectionClosed as closed:
            if closed.sent is not None and closed.sent.code == MESSAGE_TOO_BIG:
                raise BridgeError(f"{self._name} sent a WebSocket message over the limit of "
                                  f"{self._limit} bytes: closing (see --max-message-mb)") from None
            return None
        return data

    async def send(self, body: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BridgeError("the editor sent a message that is not UTF-8 JSON") from None
        try:
            await self._websocket.send(text)
        except ConnectionClosed:
            raise _ServerGone from None

    async def close(self) -> None:
        with suppress(Exception):
            await asyncio.wait_for(self._websocket.close(), CLOSE_TIMEOUT_S)


def run(address: RemoteAddress, options: BridgeOptions) -> None:
    """Relay stdin/stdout to `address` until either side ends; BridgeError on a failure."""
    asyncio.run(_run(address, options))


async def _run(address: RemoteAddress, options: BridgeOptions) -> None:
    tls = tls_context(options.ca_file) if address.secure else None
    editor = await open_editor(options.max_message_bytes)
    server = await connect(address, tls, options.max_message_bytes)
    try:
        await relay(editor, server, Handshake(options.token), str(address))
    finally:
        await server.close()


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Verifies the server's certificate and host name, against `ca_file` or the system's CAs."""
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or getattr(error, "reason", None) or error
        raise BridgeError(f"cannot use the CA file {ca_file}: {reason} (--ca-file takes the PEM "
                          "certificate of the CA that signed the server's)", USAGE) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


async def open_editor(limit: int) -> StreamPeer:
    """stdin and stdout, the editor's end of the LSP stream."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=HEADER_LINE_BYTES)
    for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout)):
        if not _pollable(stream.fileno()):
            raise BridgeError(f"{name} must be a pipe, a socket or a terminal: `codequorum connect` is "
                              "an editor's LSP server command, started with pipes", USAGE)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), sys.stdout)
    except (ValueError, OSError) as error:
        raise BridgeError(f"stdin and stdout must be pipes or sockets, an editor's LSP command ({error})",
                          USAGE) from None
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    return StreamPeer(reader, writer, limit, "the editor", _EditorGone)


def _pollable(fd: int) -> bool:
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)


async def connect(address: RemoteAddress, tls: ssl.SSLContext | None, limit: int) -> Peer:
    try:
        if address.websocket:
            return await _open_websocket(address, tls, limit)
        return await _open_stream(address, tls, limit)
    except Exception as error:  # noqa: BLE001 - each one told to the user as what to fix
        raise BridgeError(why_not_connected(address, error, tls)) from None


async def _open_stream(address: RemoteAddress, tls: ssl.SSLContext | None, limit: int) -> StreamPeer:
    secure = {"ssl": tls, "server_hostname": address.host, "ssl_handshake_timeout": CONNECT_TIMEOUT_S} if tls else {}
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(address.host, address.port, limit=HEADER_LINE_BYTES, **secure),
        CONNECT_TIMEOUT_S)
    raw = writer.get_extra_info("socket")
    if raw is not None:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    return StreamPeer(reader, writer, limit, f"the server at {address}", _ServerGone)


async def _open_websocket(address: RemoteAddress, tls: ssl.SSLContext | None, limit: int) -> WebSocketPeer:
    try:
        from websockets.asyncio.client import connect as open_websocket
    except ImportError:
        raise BridgeError(f"{address} needs the websockets package: pip install 'codequorum[ws]'",
                          USAGE) from None
    # No compression: a small compressed message could inflate past any limit before it is read.
    websocket = await open_websocket(address.url, ssl=tls, open_timeout=CONNECT_TIMEOUT_S,
                                     close_timeout=CLOSE_TIMEOUT_S, max_size=limit,
                                     max_queue=WEBSOCKET_QUEUE, compression=None)
    return WebSocketPeer(websocket, limit, f"the server at {address}")


def why_not_connected(address: RemoteAddress, error: BaseException, tls: ssl.SSLContext | None) -> str:
    """One line: why `address` could not be reached, and what to check."""
    where = f"{address.host}:{address.port}"
    if isinstance(error, BridgeError):
        return str(error)
    if isinstance(error, ssl.SSLCertVerificationError):
        return (f"the certificate of {where} is not trusted: {error.verify_message}; pass --ca-file "
                "with the CA that signed it, or connect by the host name the certificate names")
    if isinstance(error, ssl.SSLError):
        return (f"the TLS handshake with {where} failed ({error.reason or error}): a server started "
                f"without --tls-cert is {'tcp' if address.scheme == 'tls' else 'ws'}://")
    if isinstance(error, ConnectionRefusedError):
        return f"nothing listens on {where} (connection refused): is `codequorum serve` running there?"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host {address.host!r}: {error.strerror or error}"
    if isinstance(error, TimeoutError):
        return f"no answer from {where} within {CONNECT_TIMEOUT_S:g} s"
    if isinstance(error, OSError):
        return f"cannot connect to {where}: {error.strerror or error}"
    return _websocket_failure(address, error, tls)


def _websocket_failure(address: RemoteAddress, error: BaseException, tls: ssl.SSLContext | None) -> str:
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status is not None:
        return f"{address} answered HTTP {status} instead of a WebSocket: check the path and the port"
    hint = "" if tls else " (a server started with --tls-cert is wss://)"
    return f"the WebSocket handshake with {address} failed: {error}{hint}"


async def relay(editor: Peer, server: Peer, handshake: Handshake, address: str) -> None:
    """Both directions until one ends; then the other is stopped. BridgeError when the server
    ended it before the editor's `exit`, or refused the token (whoever closed first)."""
    upstream = asyncio.create_task(_pump(editor, server, handshake.from_editor))
    downstream = asyncio.create_task(_pump(server, editor, handshake.from_server))
    done, pending = await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    first = upstream if upstream in done else downstream
    if _ended_by_server(first, first is upstream) or handshake.refusal is not None:
        closed_by_server(handshake, address)


async def _pump(source: Peer, sink: Peer, passing: Callable[[bytes], bytes]) -> None:
    while (body := await source.receive()) is not None:
        await sink.send(passing(body))


def _ended_by_server(task: asyncio.Task[None], is_upstream: bool) -> bool:
    error = task.exception()
    if isinstance(error, _EditorGone):
        return False
    if isinstance(error, _ServerGone):
        return True
    if error is not None:
        raise error
    return not is_upstream


def closed_by_server(handshake: Handshake, address: str) -> None:
    """Nothing when the editor had said `exit`; otherwise why the server closed, as BridgeError
    (a refused token first: the server closes at once after refusing it)."""
    if handshake.refusal is not None:
        raise BridgeError(f"the server at {address} refused the token ({handshake.refusal}); set the "
                          "variable --token-env names ($CODEQUORUM_TOKEN) or --token-file", TOKEN_REFUSED)
    if handshake.exit_sent:
        return
    if not handshake.answered:
        hint = ("its log says why" if address.startswith(("tls:", "wss:"))
                else "a server started with --tls-cert is tls:// or wss://; or its log says why")
        raise BridgeError(f"the server at {address} closed the connection before answering ({hint})")
    raise BridgeError(f"the server at {address} closed the connection")
