"""The operators' HTTP endpoint, on an address of its own (`--metrics HOST:PORT`): `GET /healthz`
(JSON: starting, loading, ready or error; 200 when starting or ready, else 503) and `GET /metrics` (Prometheus).

A bare HTTP/1.1 server on the server's event loop: a request is one line and a few headers,
read within `READ_TIMEOUT_S` and `MAX_REQUEST_BYTES`, answered, and the connection closed. With a
token (required on a non-loopback bind), requests must carry `Authorization: Bearer TOKEN`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from codequorum.server.metrics import CONTENT_TYPE
from codequorum.server.session import ServerContext

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 5.0
# /healthz answers 200 in these states: a server that has loaded nothing yet ("starting") must
# get the clients whose arrival loads its models; loading and error answer 503.
SERVING = ("starting", "ready")
MAX_REQUEST_BYTES = 8192
MAX_HEADER_LINES = 32


@dataclass(frozen=True)
class OpsEndpoint:
    host: str
    port: int
    token: str | None = None


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


_REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
            400: "Bad Request", 503: "Service Unavailable"}


async def start_ops_listener(endpoint: OpsEndpoint, context: ServerContext,
                             connections: Callable[[], int]) -> asyncio.Server:
    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            reply = await asyncio.wait_for(_answer(reader, endpoint, context, connections), READ_TIMEOUT_S)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            writer.transport.abort()
            return
        writer.write(_response(reply))
        try:
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    return await asyncio.start_server(on_connect, endpoint.host, endpoint.port, limit=MAX_REQUEST_BYTES)


async def _answer(reader: asyncio.StreamReader, endpoint: OpsEndpoint, context: ServerContext,
                  connections: Callable[[], int]) -> Reply:
    method, path, headers = await _read_request(reader)
    if method is None:
        return _text(400, "a request line: GET /healthz HTTP/1.1\n")
    if endpoint.token is not None and not _authorized(headers.get("authorization", ""), endpoint.token):
        return _text(401, "send Authorization: Bearer TOKEN (the server's --metrics-token-file)\n")
    if method != "GET":
        return _text(405, "only GET\n")
    path = path.split("?", 1)[0]
    if path == "/metrics":
        return Reply(200, CONTENT_TYPE, context.metrics.render().encode())
    if path in ("/healthz", "/health"):
        report = context.health.report(connections())
        status = 200 if report["state"] in SERVING else 503
        return Reply(status, "application/json", (json.dumps(report) + "\n").encode())
    return _text(404, "try /healthz or /metrics\n")


async def _read_request(reader: asyncio.StreamReader) -> tuple[str | None, str, dict[str, str]]:
    request_line = (await reader.readline()).decode("latin-1").strip()
    parts = request_line.split()
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        line = (await reader.readline()).decode("latin-1")
        if line in ("\r\n", "\n", ""):
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None, "", headers
    return parts[0], parts[1], headers


def _authorized(header: str, token: str) -> bool:
    scheme, _, presented = header.partition(" ")
    digest = hashlib.sha256(presented.strip().encode()).digest()
    return scheme.lower() == "bearer" and hmac.compare_digest(digest, hashlib.sha256(token.encode()).digest())


def _text(status: int, body: str) -> Reply:
    return Reply(status, "text/plain; charset=utf-8", body.encode())


def _response(reply: Reply) -> bytes:
    head = (f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, '')}\r\n"
            f"Content-Type: {reply.content_type}\r\nContent-Length: {len(reply.body)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n")
    return head.encode() + reply.body
