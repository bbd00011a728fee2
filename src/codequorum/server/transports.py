"""How clients reach the server: stdio (one client, the editor that started us), TCP or
WebSocket (any number of clients, each with its own session, sharing the loaded models)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import BinaryIO

from pygls.io_ import WebSocketWriter, run_async, run_websocket

from codequorum.server.app import create_server
from codequorum.server.connection import Connection
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
    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(writer)
        server = create_server(Session(context), connection)
        server.protocol.set_writer(writer)
        await _run_session(server, run_async(stop_event=connection.stopped, reader=reader,
                                             protocol=server.protocol, logger=log,
                                             error_handler=server.report_server_error))

    listener = await asyncio.start_server(on_connect, host, port)
    _announce(announce, "tcp", listener.sockets[0].getsockname())
    try:
        async with listener:
            await listener.serve_forever()
    finally:
        await context.engines.aclose()


async def _serve_ws(context: ServerContext, host: str, port: int, announce: Announce) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def on_connect(websocket: ServerConnection) -> None:
        connection = Connection(WebSocketWriter(websocket))
        server = create_server(Session(context), connection)
        await _run_session(server, run_websocket(websocket=websocket, stop_event=connection.stopped,
                                                 protocol=server.protocol, logger=log,
                                                 error_handler=server.report_server_error))

    listener = await serve(on_connect, host, port)
    _announce(announce, "ws", next(iter(listener.sockets)).getsockname())
    try:
        async with listener:
            await listener.serve_forever()
    finally:
        await context.engines.aclose()


async def _run_session(server: CodequorumServer, loop: Awaitable[None]) -> None:
    try:
        await loop
    except (ConnectionError, asyncio.IncompleteReadError) as error:
        log.info("client connection ended: %s", error)
    finally:
        await server.session.aclose()
        server.close_connection()


def _announce(announce: Announce, scheme: str, address: tuple[str, int]) -> None:
    host, port = address[0], address[1]
    announce(f"codequorum: serving LSP on {scheme}://{host}:{port}")
    sys.stderr.flush()
